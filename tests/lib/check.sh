# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Pass/fail bookkeeping for the shell tests that run several checks and
# report them all before failing (sourced; sets CHECK_PASSED and
# CHECK_FAILED, nothing else). A check that must end the test at once is
# it_die's job, not this.
#
# check_log MSG...		a timestamped line on stderr
# check_pass NAME [DETAIL...]	log "PASS NAME[: DETAIL]", count it
# check_fail NAME [DETAIL...]	log "FAIL NAME[: DETAIL]", remember NAME
# check_record NAME OK		check_pass if OK is 1, else check_fail
# check_finish			log the tally; status 0 if nothing failed

CHECK_PASSED=0
CHECK_FAILED=()

check_log() {
	printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

check_pass() {
	local name=$1

	shift
	CHECK_PASSED=$((CHECK_PASSED + 1))
	check_log "PASS $name${*:+: $*}"
}

check_fail() {
	local name=$1

	shift
	CHECK_FAILED+=("$name")
	check_log "FAIL $name${*:+: $*}"
}

check_record() {
	if [ "$2" = 1 ]; then
		check_pass "$1"
	else
		check_fail "$1"
	fi
}

check_finish() {
	local passed=

	# Some tests record only failures: no "0 passed" for them.
	[ "$CHECK_PASSED" -eq 0 ] || passed="$CHECK_PASSED passed, "
	check_log "$passed${#CHECK_FAILED[@]} failed${CHECK_FAILED[*]:+: ${CHECK_FAILED[*]}}"
	[ ${#CHECK_FAILED[@]} -eq 0 ]
}
