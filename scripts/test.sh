#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Install, build and run every test, then print one summary line
# "N passed, N failed". Three builds:
#   build/        every suite (unit, integration, relay, migration, app,
#                 bench, robustness, e2e);
#   build-asan/   the same code with ASan + UBSan (-Dsanitize=true), all
#                 suites but the timing-bound ones (bench, e2e);
#   build-fuzz/   clang + libFuzzer (-Dfuzz=true): bounded fuzz runs.
# Extra arguments go to the first `meson test` only (e.g. --suite unit),
# and then the other two builds are skipped.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/build.sh" all
cd "$ROOT"

LOGS=()
status=0

# run_suites BUILD [meson test args...]
run_suites() {
	local dir=$1

	shift
	meson test -C "$dir" --print-errorlogs --num-processes 1 "$@" ||
		status=1
	LOGS+=("$dir/meson-logs/testlog.json")
}

# setup_extra DIR CC [meson setup args...]
setup_extra() {
	local dir=$1 cc=$2

	shift 2
	if [ ! -f "$dir/build.ninja" ]; then
		CC=$cc meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
}

run_suites build "$@"
if [ $# -eq 0 ]; then
	setup_extra build-asan gcc -Dsanitize=true
	run_suites build-asan --suite unit --suite integration --suite relay \
		--suite migration --suite app --suite robustness
	setup_extra build-fuzz clang -Dfuzz=true
	run_suites build-fuzz fuzz_avail-smoke fuzz_used-smoke \
		fuzz_packed_avail-smoke fuzz_packed_used-smoke
fi

python3 - "${LOGS[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    tag = path.split("/")[0]
    for line in open(path):
        r = json.loads(line)
        res = r.get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
        else:
            failed += 1
            print("FAILED:", tag, r.get("name"), res)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
