#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Install what is missing, then configure and build into build/.
#   VDPA_BUILD_DIR     build directory (default build), relative to the
#                      source tree
#   VDPA_RELAY_SDK_DIR driver-SDK header directory (default .sdk), inside
#                      the source tree; passed to setup.sh and to meson
#   VDPA_JOBS          ninja's -j (default: the number of CPUs)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh" "${1:-base}"
cd "$ROOT"
B=${VDPA_BUILD_DIR:-build}
sdk_opt=()
if [ -n "${VDPA_RELAY_SDK_DIR:-}" ]; then
	sdk_opt=(-Ddpdk_sdk_dir="$(realpath -m --relative-to="$ROOT" "$VDPA_RELAY_SDK_DIR")")
fi
if [ ! -f "$B/build.ninja" ]; then
	meson setup "$B" -Dbuildtype=debugoptimized "${sdk_opt[@]}" >/dev/null
else
	meson setup --reconfigure "$B" "${sdk_opt[@]}" >/dev/null
fi
jobs=${VDPA_JOBS:-$(nproc)}
ninja -C "$B" -j"$jobs" >/dev/null || ninja -C "$B" -j1
