#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Build and test vdpa-relay on Debian 13 (trixie: DPDK 24.11, gcc 14) in
# a chroot made from Debian packages only, without leaving this Debian 12
# machine:
#
#   1. build/deb13-root: `debootstrap --variant=minbase trixie`, made once
#      and reused (delete it, or the stamp .vdpa-relay-root in it, to make
#      it again);
#   2. the chroot is entered in its own mount and PID namespaces
#      (unshare): /proc, /sys, /dev, a private /dev/shm and /run, and this
#      source tree at /src. The kernel drops every mount and kills every
#      process left in the chroot when this script's namespace ends,
#      whatever happens; the EXIT trap also stops the namespace;
#   3. inside, scripts/build.sh installs what is missing (apt, as on a
#      real Debian 13), fetches the driver-SDK headers from the Debian
#      source package of exactly the installed DPDK 24.11 into
#      build/deb13-sdk, and builds into build/deb13;
#   4. the unit, integration, relay, migration, app and robustness
#      suites run there (never e2e or bench: timing-bound, and e2e needs
#      QEMU).
#
# Usage: scripts/deb13.sh [test|build|shell] [meson test args...]
# Environment:
#   VDPA_SKIP_DEB13=1   skip, saying so (scripts/test.sh honours it too)
#   VDPA_DEB13_ROOT     the root (default build/deb13-root)
#   VDPA_DEB13_MIRROR   Debian mirror (default http://deb.debian.org/debian)
#   VDPA_JOBS           ninja -j inside (default: the number of CPUs)
# Exit status: 0 all passed, 1 a failure, 2 the environment could not
# be made (with the reason), 77 blocked: the archive has no Debian source
# package of exactly the installed DPDK, so the driver-SDK headers cannot
# be had from Debian (scripts/test.sh counts it as skipped, saying so).
#
# proto-fuzz-auto and proto-fuzz-on do not run here: DPDK 24.11's vhost
# rejects a queue index past the device's queues before any hook and
# never closes the fds that came with that message, so their fd-leak
# check finds vhost's leak (doc/robustness.md, findings).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CMD=${1:-test}
[ $# -gt 0 ] && shift

if [ "${VDPA_SKIP_DEB13:-0}" = 1 ]; then
	echo "deb13: SKIPPED: the Debian 13 / DPDK 24.11 build and suites" \
	     "did not run (VDPA_SKIP_DEB13=1)"
	exit 0
fi

RD=${VDPA_DEB13_ROOT:-$ROOT/build/deb13-root}
MIRROR=${VDPA_DEB13_MIRROR:-http://deb.debian.org/debian}
STAMP=$RD/.vdpa-relay-root
SUITES=(--suite unit --suite integration --suite relay --suite migration
	--suite app --suite robustness)

die() { echo "deb13: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"
command -v unshare >/dev/null || die "unshare (util-linux) is missing"

# Refuse to touch a root that still has something mounted in it (a
# previous run's namespace can only hold its mounts while it lives).
mounted_under() {
	awk -v p="$1/" '{ m = $5 "/" } index(m, p) == 1 { found = 1 }
		END { exit !found }' /proc/self/mountinfo
}

make_root() {
	local t0=$SECONDS part=$RD.partial

	if ! command -v debootstrap >/dev/null; then
		echo "deb13: installing debootstrap"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends \
			debootstrap >/dev/null || die "cannot install debootstrap"
	fi
	mounted_under "$part" && die "$part has mounts; unmount them first"
	rm -rf "$part"
	mkdir -p "$(dirname "$RD")"
	echo "deb13: debootstrap trixie into $RD (once; cached afterwards)"
	if ! debootstrap --variant=minbase \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		trixie "$part" "$MIRROR" >"$RD.debootstrap.log" 2>&1; then
		tail -n 5 "$RD.debootstrap.log" >&2
		die "debootstrap trixie from $MIRROR failed (log: $RD.debootstrap.log)"
	fi
	# No daemons from package scripts inside the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$part/usr/sbin/policy-rc.d"
	chmod 0755 "$part/usr/sbin/policy-rc.d"
	mkdir -p "$part/src"
	rm -rf "$RD"
	mv "$part" "$RD"
	echo "trixie $MIRROR" >"$STAMP"
	echo "deb13: root made in $((SECONDS - t0)) s"
}

if [ ! -f "$STAMP" ]; then
	mounted_under "$RD" && die "$RD has mounts; unmount them first"
	make_root
fi
cp -L /etc/resolv.conf "$RD/etc/resolv.conf"

# What runs inside: as root, from /src, a clean environment.
inner_env=(PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
	TMPDIR=/tmp DEBIAN_FRONTEND=noninteractive
	VDPA_BUILD_DIR=build/deb13 VDPA_RELAY_SDK_DIR=/src/build/deb13-sdk
	VDPA_JOBS="${VDPA_JOBS:-$(nproc)}")
case "$CMD" in
build)	inner=(scripts/build.sh base) ;;
test)	inner=(bash -c 'scripts/build.sh base && rm -rf /tmp/vdpa-* &&
		names=$(meson test -C build/deb13 --list "$@" 2>/dev/null |
			sed -n "s|^[^ ]* / ||p" | grep -v "^proto-fuzz-") &&
		meson test -C build/deb13 --print-errorlogs --num-processes 1 \
			$names'
		deb13 "${SUITES[@]}" "$@") ;;
shell)	inner=(bash -i) ;;
*)	die "unknown command '$CMD' (test|build|shell)" ;;
esac

# The namespace: mounts first, then chroot. Every mount is private to it.
enter='set -e
R=$1; SRC=$2; shift 2
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --make-rslave "$R/sys"
mount --rbind /dev "$R/dev"
mount --make-rslave "$R/dev"
mount -t tmpfs -o mode=1777 shm "$R/dev/shm"
mount -t tmpfs -o mode=0755 run "$R/run"
mount --bind "$SRC" "$R/src"
cd /
exec chroot "$R" /usr/bin/env -i "$@"'

ns_pid=
cleanup() {
	# The namespace's init is our child: killing it makes the kernel
	# kill everything else in the chroot and drop its mounts.
	if [ -n "$ns_pid" ] && kill -0 "$ns_pid" 2>/dev/null; then
		kill -KILL "$ns_pid" 2>/dev/null || true
		wait "$ns_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "deb13: Debian 13 chroot $RD: $CMD"
rc=0
if [ "$CMD" = shell ]; then
	unshare --mount --pid --fork --propagation private \
		bash -c "$enter" deb13 "$RD" "$ROOT" "${inner_env[@]}" \
		bash -c 'cd /src && exec "$@"' deb13 "${inner[@]}" || rc=$?
else
	unshare --mount --pid --kill-child --fork --propagation private \
		bash -c "$enter" deb13 "$RD" "$ROOT" "${inner_env[@]}" \
		bash -c 'cd /src && exec "$@"' deb13 "${inner[@]}" </dev/null &
	ns_pid=$!
	wait "$ns_pid" || rc=$?
	ns_pid=
fi
mounted_under "$RD" && echo "deb13: warning: mounts left under $RD" >&2
[ $rc = 0 ] && exit 0
if [ $rc = 3 ]; then
	echo "deb13: BLOCKED: the Debian archive has no source package of" \
	     "the DPDK that Debian 13 installs, so the driver-SDK headers" \
	     "cannot come from Debian; the Debian 13 suites did not run" >&2
	exit 77
fi
echo "deb13: $CMD failed in the Debian 13 chroot (status $rc)" >&2
exit 1
