# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# The options of the single-process benchmark scripts
# (bench_relay_cycle.sh, bench_relay_used.sh). Source it, then
#
#   bench_opts "USAGE LINE" "$@"; set -- "${BENCH_ARGS[@]}"
#
# --quick: QUICK=(--quick), passed on to the benchmark; --no-callgrind,
# or no valgrind installed: CG=0 (no instruction counts), else CG=1.
# The benchmark binary, the first argument left, is required: without
# it the usage line goes to stderr and the script exits 2.

# shellcheck disable=SC2034 # QUICK, CG, BENCH_ARGS: for the caller
bench_opts() {
	local usage=$1

	shift
	QUICK=()
	CG=1
	while [ $# -gt 0 ]; do
		case $1 in
		--quick) QUICK=(--quick); shift ;;
		--no-callgrind) CG=0; shift ;;
		*) break ;;
		esac
	done
	[ $# -ge 1 ] || { echo "usage: $usage" >&2; exit 2; }
	command -v valgrind >/dev/null || CG=0
	BENCH_ARGS=("$@")
}
