#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Install what is missing, then configure and build into build/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh" "${1:-base}"
cd "$ROOT"
if [ ! -f build/build.ninja ]; then
	meson setup build -Dbuildtype=debugoptimized >/dev/null
else
	meson setup --reconfigure build >/dev/null
fi
ninja -C build -j"$(nproc)" >/dev/null || ninja -C build -j1
