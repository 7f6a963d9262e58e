#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `meson install` must give another vDPA driver everything it needs:
# the relay library, its header and a pkg-config file. Install into a
# scratch prefix and build a consumer with nothing but pkg-config.
#
# Usage: test_install.sh BUILD_DIR CONSUMER_C
set -euo pipefail

BUILD=$1
SRC=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

meson install -C "$BUILD" --destdir "$TMP" --no-rebuild >/dev/null
pc=$(find "$TMP" -name vdpa_relay.pc | head -1)
[ -n "$pc" ] || { echo "no vdpa_relay.pc installed"; exit 1; }
hdr=$(find "$TMP" -name vdpa_relay.h | head -1)
[ -n "$hdr" ] || { echo "no vdpa_relay.h installed"; exit 1; }

# The .pc file names the real prefix; point a copy at the scratch tree
# (libdpdk itself still comes from the system).
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir -p "$TMP/pc"
sed "s|^prefix=.*|prefix=$TMP$prefix|" "$pc" >"$TMP/pc/vdpa_relay.pc"
export PKG_CONFIG_PATH=$TMP/pc
libdir=$(pkg-config --variable=libdir vdpa_relay)
# A library built with -Dsanitize=true needs an instrumented consumer:
# the ASan runtime must come first in the process.
san=()
if nm -D "$(find "$TMP" -name 'libvdpa_relay.so.*' -type f | head -1)" |
	grep __asan_init >/dev/null; then
	san=(-fsanitize=address,undefined)
fi
# shellcheck disable=SC2046
cc "${san[@]}" -o "$TMP/consumer" "$SRC" \
	$(pkg-config --cflags --libs vdpa_relay) -Wl,-rpath,"$libdir"
if [ ${#san[@]} -gt 0 ]; then
	# Only the ASan runtime first in the process makes ASan happy, and
	# libdpdk's link flags may reorder it: preload it.
	LD_PRELOAD=$(gcc -print-file-name=libasan.so) "$TMP/consumer"
else
	"$TMP/consumer"
fi
# Only the documented API is exported.
lib=$(find "$TMP" -name 'libvdpa_relay.so.*' -type f | head -1)
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^vrelay_' |
	grep -v '^VRELAY_[0-9.]*$' | grep -v '^$' || true)
if [ -n "$bad" ]; then
	echo "unexpected exported symbols: $bad"
	exit 1
fi
echo "install: library, header and pkg-config file usable"
