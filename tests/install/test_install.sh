#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `meson install` must give another vDPA driver everything it needs:
# the relay library, its headers and a pkg-config file. Install into a
# scratch prefix and build a consumer with nothing but pkg-config.
#
# Then the library must export exactly the functions its installed
# headers declare (all of them, every header installed from lib/relay),
# and its version map must list exactly those, by name. And the installed
# ifcvf_sw driver must use the installed shared library, not a copy.
#
# Usage: test_install.sh BUILD_DIR CONSUMER_C RELAY_SRC_DIR VERSION_MAP
#                        PYTHON PUBLIC_API_PY
set -euo pipefail

BUILD=$1
SRC=$2
RELAY_SRC=$3
MAP=$4
PYTHON=$5
API=$6
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

meson install -C "$BUILD" --destdir "$TMP" --no-rebuild >/dev/null
pc=$(find "$TMP" -name vdpa_relay.pc | head -1)
[ -n "$pc" ] || fail "no vdpa_relay.pc installed"
# Every header installed from lib/relay, where it landed in $TMP.
mapfile -t hdrs < <("$PYTHON" "$API" headers "$BUILD" "$RELAY_SRC")
[ ${#hdrs[@]} -gt 0 ] || fail "no header installed from $RELAY_SRC"
for i in "${!hdrs[@]}"; do
	hdrs[i]=$TMP${hdrs[i]}
	[ -f "${hdrs[i]}" ] || fail "${hdrs[i]} not installed"
done

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

# ---- exported symbols = functions the installed headers declare -------
lib=$(find "$TMP" -name 'libvdpa_relay.so.*' -type f | head -1)
[ -n "$lib" ] || fail "no libvdpa_relay.so.* installed"
# Declarations written in each header itself (line markers of cc -E tell
# what comes from where), neither static nor inline: see public_api.py.
for h in "${hdrs[@]}"; do
	# shellcheck disable=SC2046
	cc -E -x c $(pkg-config --cflags vdpa_relay) "$h" |
		"$PYTHON" "$API" functions "$h" ||
		fail "cannot read the declarations of $h"
done | sort -u >"$TMP/declared"
[ -s "$TMP/declared" ] || fail "no function declared in ${hdrs[*]}"
# nm -D: "ADDR TYPE NAME@@VERSION"; A is a version node. Functions only.
nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $2, $3 }' \
	>"$TMP/nm"
data=$(awk '$1 !~ /^[TWi]$/ { print $2 }' "$TMP/nm")
[ -z "$data" ] || fail "$lib exports objects, not functions: $data"
awk '{ print $2 }' "$TMP/nm" | sort -u >"$TMP/exported"
"$PYTHON" "$API" version-map "$MAP" | sort -u >"$TMP/listed" ||
	fail "cannot read $MAP"

# same A B WHAT_A WHAT_B: the two name lists are equal.
same() {
	local only_a only_b

	only_a=$(comm -23 "$1" "$2")
	only_b=$(comm -13 "$1" "$2")
	[ -z "$only_a" ] || fail "$3 but not $4:" "${only_a//$'\n'/ }"
	[ -z "$only_b" ] || fail "$4 but not $3:" "${only_b//$'\n'/ }"
}
same "$TMP/declared" "$TMP/exported" \
	"declared in the installed headers" "exported by $(basename "$lib")"
same "$TMP/declared" "$TMP/listed" \
	"declared in the installed headers" "listed in $MAP"

# ---- the driver uses the installed shared library ---------------------
drv=$(find "$TMP" -name libvdpa_ifcvf_sw.so -type f | head -1)
[ -n "$drv" ] || fail "no libvdpa_ifcvf_sw.so installed"
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
readelf -d "$drv" | awk '/\(NEEDED\)/ { print $NF }' | grep -qxF "[$soname]" ||
	fail "$(basename "$drv") does not link $soname"
# A copy would be hidden by the driver's version map: read its full
# symbol table (none if stripped: then the NEEDED check above stands).
copied=$(nm --defined-only "$drv" 2>/dev/null |
	awk '$3 ~ /^vrelay_/ { printf " %s", $3 }' || true)
[ -z "$copied" ] || fail "$(basename "$drv") has its own copy of the relay:$copied"
# Found where it is installed, beside the driver ($ORIGIN), not elsewhere.
got=$(env -u LD_LIBRARY_PATH ldd "$drv" | awk -v so="$soname" \
	'$1 == so { print ($3 == "not" ? "(not found)" : $3) }')
[ "$(realpath -m "$got")" = "$(realpath "$(dirname "$lib")/$soname")" ] ||
	fail "installed $(basename "$drv") finds $soname at '$got'," \
	     "not beside it in $(dirname "$lib")"

echo "install: library, $(wc -l <"$TMP/declared") functions of" \
	"${#hdrs[@]} header(s) exported and listed by name, driver links it," \
	"pkg-config file usable"
