#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The vdpa-relay authors
#
# build-guest.sh OUTDIR UDP_CHECK
#
# Builds the e2e guest into OUTDIR: OUTDIR/vmlinuz (Debian's kernel, taken
# from the linux-image .deb without installing it on the host) and
# OUTDIR/initrd.gz (busybox-static, the virtio-net modules, udp_check and
# an /init that brings up eth0 as 10.99.0.10/24). The kernel is cached;
# the initramfs is rebuilt when its inputs are newer than it.
set -euo pipefail

OUT=${1:?usage: build-guest.sh OUTDIR UDP_CHECK}
UDP_CHECK=${2:?usage: build-guest.sh OUTDIR UDP_CHECK}
GUEST_IP=${E2E_GUEST_IP:-10.99.0.10/24}
# virtio_net pulls in virtio, virtio_ring, failover...; virtio_pci the
# transport. Dependencies come from modules.dep, not from this list.
WANT_MODULES=(virtio_pci virtio_net)

log() { echo "build-guest: $*" >&2; }
die() { log "$*"; exit 1; }

# Name of the versioned kernel package linux-image-amd64 depends on.
kernel_package() {
	apt-cache depends linux-image-amd64 |
		awk '/Depends: linux-image-[0-9].*-amd64$/ { print $2; exit }'
}

# Download and unpack the kernel package into $OUT/kernel (once).
fetch_kernel() {
	local pkg deb

	[ -f "$OUT/kernel/.done" ] && return
	pkg=$(kernel_package)
	[ -n "$pkg" ] || die "cannot resolve linux-image-amd64's kernel package"
	log "downloading $pkg"
	rm -rf "$OUT/kernel" "$OUT/deb"
	mkdir -p "$OUT/deb"
	# apt's _apt user must be able to write the download directory.
	chmod 777 "$OUT/deb"
	(cd "$OUT/deb" && apt-get download -q "$pkg" >&2)
	deb=$(ls "$OUT"/deb/*.deb)
	dpkg-deb -x "$deb" "$OUT/kernel"
	rm -rf "$OUT/deb"
	touch "$OUT/kernel/.done"
}

kernel_version() {
	ls "$OUT/kernel/lib/modules" | head -1
}

# The package ships no modules.dep (depmod runs at install time), so
# generate one inside the unpacked tree; the host is not touched.
ensure_modules_dep() {
	local kver=$1

	[ -f "$OUT/kernel/lib/modules/$kver/modules.dep" ] ||
		depmod -b "$OUT/kernel" "$kver"
}

# Print the modules.dep paths needed for module $1, dependencies first.
MOD_SEEN=" "
module_order() {
	local dep_file=$1 name=$2 line path deps d

	line=$(grep -E "/${name}\.ko(\.xz|\.zst|\.gz)?:" "$dep_file" | head -1)
	[ -n "$line" ] || die "module $name not in modules.dep"
	path=${line%%:*}
	deps=${line#*:}
	for d in $deps; do
		d=${d##*/}
		module_order "$dep_file" "${d%%.ko*}"
	done
	case "$MOD_SEEN" in
	*" $path "*) ;;
	*) MOD_SEEN="$MOD_SEEN$path "; echo "$path" ;;
	esac
}

# Copy a module into the initramfs uncompressed: busybox insmod cannot
# read .ko.xz.
install_module() {
	local src=$1 dst=$2

	case "$src" in
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -dc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) cp "$src" "$dst" ;;
	esac
}

write_init() {
	local root=$1 mods=$2

	cat >"$root/init" <<EOF
#!/bin/sh
# e2e guest init: network up, checker running, then idle forever.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in $mods; do
	insmod /lib/modules/\$m || echo "E2E-ERROR insmod \$m"
done
ip link set lo up
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ \$i -lt 50 ]; do
	sleep 0.1; i=\$((i + 1))
done
ip addr add $GUEST_IP dev eth0
ip link set eth0 up
/bin/udp_check &
# The features the driver negotiated, bit 0 first (run.sh reads the
# ring format from them: bit 34 is VIRTIO_F_RING_PACKED).
echo "E2E-READY \$(cat /sys/class/net/eth0/address)" \
	"features=\$(cat /sys/class/net/eth0/device/features)"
while :; do sleep 3600; done
EOF
	chmod 755 "$root/init"
}

build_initrd() {
	local kver=$1 root=$OUT/initrd.root mdir dep_file p mods="" b

	mdir=$OUT/kernel/lib/modules/$kver
	dep_file=$mdir/modules.dep
	rm -rf "$root"
	mkdir -p "$root"/{bin,proc,sys,dev,tmp,lib/modules}
	cp /bin/busybox "$root/bin/busybox"
	for b in sh mount insmod ip sleep cat echo; do
		ln -s busybox "$root/bin/$b"
	done
	cp "$UDP_CHECK" "$root/bin/udp_check"
	for p in $(for m in "${WANT_MODULES[@]}"; do
			module_order "$dep_file" "$m"; done); do
		b=${p##*/}
		b=${b%%.ko*}.ko
		install_module "$mdir/$p" "$root/lib/modules/$b"
		mods="$mods $b"
	done
	log "modules:$mods"
	write_init "$root" "$mods"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) \
		>"$OUT/initrd.gz.tmp"
	mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
}

main() {
	local kver

	command -v busybox >/dev/null || [ -x /bin/busybox ] ||
		die "busybox-static is not installed"
	[ -x "$UDP_CHECK" ] || die "no udp_check at $UDP_CHECK"
	mkdir -p "$OUT"
	fetch_kernel
	kver=$(kernel_version)
	ensure_modules_dep "$kver"
	cp "$OUT/kernel/boot/vmlinuz-$kver" "$OUT/vmlinuz"
	if [ ! -f "$OUT/initrd.gz" ] || [ "$UDP_CHECK" -nt "$OUT/initrd.gz" ] ||
	   [ "$0" -nt "$OUT/initrd.gz" ]; then
		build_initrd "$kver"
	fi
	log "guest ready in $OUT (kernel $kver)"
}

main
