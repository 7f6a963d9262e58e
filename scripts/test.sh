#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Install, build and run every test suite, then print one summary line
# "N passed, N failed". Suites run in order, cheapest first. Extra
# arguments are passed to `meson test` (e.g. --suite unit).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/build.sh" all
cd "$ROOT"

# Tests start DPDK processes and vhost-user sockets; never leave any.
cleanup() {
	pkill -f "file-prefix vrt" 2>/dev/null || true
}
trap cleanup EXIT

status=0
meson test -C build --print-errorlogs --num-processes 1 "$@" || status=$?

python3 - "$ROOT/build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    res = r.get("result")
    if res in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif res == "SKIP":
        skipped += 1
    else:
        failed += 1
        print("FAILED:", r.get("name"), res)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
