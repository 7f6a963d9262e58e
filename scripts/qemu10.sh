#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# QEMU 10.0 from bookworm-backports beside Debian 12's QEMU 7.2, without
# installing it: the backports .debs (qemu-system-x86, -common, -data,
# and seabios, which QEMU 10 needs newer than bookworm's) are fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` under build/qemu10/,
# with any library QEMU 10 needs that the system lacks. The system's
# qemu-system-x86_64 stays 7.2.
#
#   build/qemu10/qemu-system-x86_64   the binary to run (a wrapper setting
#                                     LD_LIBRARY_PATH and the firmware dir)
#
# An e2e run selects it with VDPA_E2E_QEMU=build/qemu10/qemu-system-x86_64
# (default: the system's qemu-system-x86_64, i.e. 7.2).
# Debian 12 only (Debian 13's own qemu-system-x86 is 10.0). Idempotent:
# a second run only checks the version.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${VDPA_QEMU10_DIR:-$ROOT/build/qemu10}
SUITE=bookworm-backports
WRAP=$DEST/qemu-system-x86_64

die() { echo "qemu10: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (apt-get update needs it)"
[ "$(. /etc/os-release && echo "$VERSION_CODENAME")" = bookworm ] ||
	die "for Debian 12 only (Debian 13 ships QEMU 10.0 itself)"

if [ -x "$WRAP" ] && [[ "$("$WRAP" --version 2>/dev/null)" == *"version 10."* ]]; then
	exit 0
fi

src=/etc/apt/sources.list.d/vdpa-relay-backports.sources
if [[ "$(apt-cache policy qemu-system-x86 2>/dev/null)" != *" $SUITE/"* ]]; then
	echo "qemu10: adding $SUITE in $src (priority 100: nothing installs from it)"
	cat >"$src" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt-get update -qq || die "apt-get update failed"
fi

# The newest version of a package in $SUITE.
bpo_version() {
	apt-cache madison "$1" | awk -v s="$SUITE/" '$0 ~ s { print $3; exit }'
}

ver=$(bpo_version qemu-system-x86)
[ -n "$ver" ] || die "no qemu-system-x86 in $SUITE"
case "$ver" in *:10.*) ;; *) die "$SUITE has qemu-system-x86 $ver, not 10.x" ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkgs=("qemu-system-x86=$ver" "qemu-system-common=$ver" "qemu-system-data=$ver")
sb=$(bpo_version seabios)
[ -n "$sb" ] && pkgs+=("seabios=$sb")

# Libraries from the Depends line that the system does not have: from
# bookworm itself, unpacked beside QEMU.
deps=$(apt-cache show "qemu-system-x86=$ver" | sed -n 's/^Depends: //p' |
	tr ',' '\n' | sed 's/[ (].*//; s/^ *//' | grep '^lib' || true)
for d in $deps; do
	dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q 'ok installed' ||
		pkgs+=("$d")
done

echo "qemu10: fetching ${pkgs[*]}"
(cd "$work" && apt-get download -qq "${pkgs[@]}" >/dev/null 2>&1) ||
	die "apt-get download failed for: ${pkgs[*]}"

rm -rf "$DEST"
mkdir -p "$DEST/root"
for deb in "$work"/*.deb; do
	dpkg-deb -x "$deb" "$DEST/root"
done

# qemu-system-data links its firmware to /usr/share/seabios etc.: point
# the links that have a target in the tree at that target.
find "$DEST/root/usr/share/qemu" -type l | while read -r l; do
	t=$(readlink "$l")
	case "$t" in
	/*) [ -e "$DEST/root$t" ] && ln -sfn "$DEST/root$t" "$l" ;;
	esac
done

cat >"$WRAP" <<'SH'
#!/bin/sh
# QEMU 10.0 from bookworm-backports, unpacked here by scripts/qemu10.sh.
here=$(cd "$(dirname "$0")" && pwd)
r=$here/root
LD_LIBRARY_PATH=$r/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
exec "$r/usr/bin/qemu-system-x86_64" -L "$r/usr/share/qemu" "$@"
SH
chmod 0755 "$WRAP"
v=$("$WRAP" --version 2>&1 || true)
[[ "$v" == *"version 10."* ]] || die "$WRAP does not start: $v"
echo "qemu10: $("$WRAP" --version | head -n 1) in $WRAP"
