#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Bounded libFuzzer run for the 'robustness' suite:
#   run_fuzz.sh TARGET CORPUS_DIR REGRESSION_DIR SECONDS
# Replays every regression input (each must pass), then fuzzes for
# SECONDS seconds from a scratch copy of the corpus, so the checked-in
# corpus is never modified by a test run. A crash leaves its input in
# the scratch dir, which is kept and printed.
set -euo pipefail

target=$1 corpus=$2 regress=$3 secs=$4
work=$(mktemp -d /tmp/vrelay-fuzz.XXXXXX)
keep=0
cleanup() {
	if [ "$keep" = 0 ]; then
		rm -rf "$work"
	else
		echo "run_fuzz: crash input(s) kept in $work" >&2
	fi
}
trap cleanup EXIT

inputs=()
if [ -d "$regress" ]; then
	while IFS= read -r -d '' f; do inputs+=("$f"); done \
		< <(find "$regress" -type f -not -name ".*" -print0 | sort -z)
fi
if [ "${#inputs[@]}" -gt 0 ]; then
	echo "run_fuzz: replaying ${#inputs[@]} regression input(s)"
	"$target" "${inputs[@]}"
fi

mkdir -p "$work/corpus"
[ -d "$corpus" ] && cp -r "$corpus/." "$work/corpus/"
keep=1
"$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
	-print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" 2>&1 |
	tail -n 25
keep=0
