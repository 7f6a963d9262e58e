#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Install what vdpa-relay needs on Debian 12 (bookworm, DPDK 22.11) or
# Debian 13 (trixie, DPDK 24.11) and fetch DPDK's driver-SDK headers from
# the Debian source package of exactly the installed DPDK. With
# e2e or all on Debian 12 it also puts QEMU 10.0 from bookworm-backports
# under build/qemu10 (scripts/qemu10.sh), beside the system's QEMU 7.2.
# Idempotent: a second run only checks.
#
# The driver-SDK headers (vdpa_driver.h, bus_vdev_driver.h, dev_driver.h)
# are not shipped by libdpdk-dev. They are extracted, unmodified, from
# the source package into $SDK_DIR, together with the exact version they
# came from, and meson refuses to build if that version differs from the
# installed libdpdk.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SDK_DIR=${VDPA_RELAY_SDK_DIR:-$ROOT/.sdk}
WITH=${1:-base}	# base | e2e | bench | all

PKGS_BASE="dpdk dpdk-dev libdpdk-dev libnuma-dev meson ninja-build pkg-config
	gcc dpkg-dev python3-pyelftools xz-utils iproute2 procps"
PKGS_E2E="qemu-system-x86 busybox-static cpio kmod iputils-ping python3 libc6-dev"
PKGS_BENCH="valgrind gnuplot-nox"

die() { echo "setup: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (apt-get and DPDK tests need it)"
[ -r /etc/os-release ] || die "this script supports Debian 12 and 13 only"
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
case "$codename" in
bookworm|trixie) ;;
*) die "this script supports Debian 12 (bookworm) and 13 (trixie) only, not '$codename'" ;;
esac
case "$codename" in
bookworm)	PKGS_FUZZ="clang libclang-rt-14-dev" ;;
trixie)		PKGS_FUZZ="clang libclang-rt-19-dev" ;;
esac

want="$PKGS_BASE"
case "$WITH" in
base) ;;
e2e) want="$want $PKGS_E2E" ;;
bench) want="$want $PKGS_BENCH" ;;
all) want="$want $PKGS_E2E $PKGS_BENCH $PKGS_FUZZ" ;;
*) die "unknown set '$WITH' (base|e2e|bench|all)" ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done

apt_updated=0
apt_update() {
	[ $apt_updated = 1 ] && return 0
	apt-get update -qq || die "apt-get update failed"
	apt_updated=1
}

if [ -n "$missing" ]; then
	echo "setup: installing:$missing"
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null ||
		die "apt-get install failed for:$missing"
fi

# --- DPDK driver-SDK headers -------------------------------------------
fetch_sdk() {
dpdk_ver=$(dpkg-query -W -f='${Version}' libdpdk-dev)
upstream_ver=$(pkg-config --modversion libdpdk)

if [ -f "$SDK_DIR/DEBIAN_VERSION" ] &&
   [ "$(cat "$SDK_DIR/DEBIAN_VERSION")" = "$dpdk_ver" ]; then
	return 0
fi

# apt-get source needs a deb-src entry; add one matching the deb entries.
if ! apt-get source --print-uris -qq "dpdk=$dpdk_ver" >/dev/null 2>&1; then
	src=/etc/apt/sources.list.d/vdpa-relay-deb-src.sources
	echo "setup: adding deb-src entries in $src"
	cat >"$src" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt_updated=0
	apt_update
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Exit 3: the archive lacks it (scripts/deb13.sh reports that as blocked).
if ! (cd "$work" && apt-get source -qq --download-only "dpdk=$dpdk_ver" \
	>/dev/null 2>&1); then
	echo "setup: cannot download the source package dpdk=$dpdk_ver;" \
	     "the installed libdpdk-dev must match a source package in" \
	     "the archive" >&2
	exit 3
fi
(cd "$work" && dpkg-source -q -x dpdk_*.dsc src >/dev/null 2>&1) ||
	die "cannot unpack the dpdk $dpdk_ver source package"

src_ver=$(cat "$work/src/VERSION")
[ "$src_ver" = "$upstream_ver" ] ||
	die "source package is DPDK $src_ver but installed libdpdk is $upstream_ver"

rm -rf "$SDK_DIR"
mkdir -p "$SDK_DIR/include"
for h in lib/vhost/vdpa_driver.h drivers/bus/vdev/bus_vdev_driver.h \
	 lib/eal/include/dev_driver.h lib/eal/include/bus_driver.h; do
	install -m 0644 "$work/src/$h" "$SDK_DIR/include/" ||
		die "source package lacks $h"
done
echo "$src_ver" >"$SDK_DIR/VERSION"
echo "$dpdk_ver" >"$SDK_DIR/DEBIAN_VERSION"
echo "setup: DPDK $src_ver driver-SDK headers in $SDK_DIR"
}
fetch_sdk

# --- QEMU 10.0 beside 7.2 (Debian 12) -----------------------------------
case "$WITH:$codename" in
e2e:bookworm|all:bookworm) "$ROOT/scripts/qemu10.sh" ;;
esac
