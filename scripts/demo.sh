#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Install, build and run the self-contained demo: an ifcvf_sw device, a
# built-in guest frontend with traffic, and a simulated live migration
# (direct -> relay -> final sync -> destination -> direct) checked byte
# for byte.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/build.sh" base
exec "$ROOT/build/apps/vdpa-lm/vdpa-lm" -l 0-1 --no-huge -m 256 --no-pci \
	--file-prefix vdpa-lm-demo-$$ --log-level="*:warning" \
	--log-level=lib.vhost.config:error -- --demo "$@"
