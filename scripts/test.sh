#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Install, build and run every test, then print one summary line
# "N passed, N failed". Three builds:
#   build/        every suite (unit, integration, relay, migration, app,
#                 bench, robustness, e2e);
#   build-asan/   the same code with ASan + UBSan (-Dsanitize=true), all
#                 suites but the timing-bound ones (bench, e2e);
#   build-fuzz/   clang + libFuzzer (-Dfuzz=true): bounded fuzz runs;
#   build/deb13/  Debian 13 (DPDK 24.11) in a chroot, scripts/deb13.sh:
#                 unit, integration, relay, migration, app, robustness.
#                 VDPA_SKIP_DEB13=1 skips it, saying so in the summary.
# Extra arguments go to the first `meson test` only (e.g. --suite unit),
# and then the other builds are skipped.
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
	if [ "${VDPA_SKIP_DEB13:-0}" = 1 ]; then
		echo "test: SKIPPED the Debian 13 / DPDK 24.11 suites" \
		     "(VDPA_SKIP_DEB13=1)"
		DEB13_SKIPPED=1
	else
		rm -f build/deb13/meson-logs/testlog.json
		deb13_rc=0
		"$ROOT/scripts/deb13.sh" test || deb13_rc=$?
		[ $deb13_rc = 0 ] || [ $deb13_rc = 77 ] || status=1
		if [ $deb13_rc = 77 ]; then
			echo "test: SKIPPED the Debian 13 / DPDK 24.11 suites:" \
			     "blocked (see deb13: above)"
			DEB13_SKIPPED=1
		elif [ -f build/deb13/meson-logs/testlog.json ]; then
			LOGS+=(build/deb13/meson-logs/testlog.json)
		else
			echo "FAILED: the Debian 13 environment ran no test"
			DEB13_FAILED=1
		fi
	fi
fi

DEB13_SKIPPED=${DEB13_SKIPPED:-0} DEB13_FAILED=${DEB13_FAILED:-0} \
python3 - "${LOGS[@]}" <<'PY'
import json, os, sys
passed = failed = skipped = 0
# The Debian 13 run as a whole: one skip, or one failure if no test ran.
skipped += int(os.environ["DEB13_SKIPPED"])
failed += int(os.environ["DEB13_FAILED"])
for path in sys.argv[1:]:
    tag = os.path.dirname(os.path.dirname(path))
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
