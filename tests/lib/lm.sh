# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# The one place that says how the shell tests start vdpa-lm (sourced; no
# side effects). vdpa-lm runs with no hugepages, no PCI and a file prefix
# of its own, so tests never share EAL state:
#
#   -l LCORES --no-huge -m MB --no-pci [--no-telemetry] --file-prefix PREFIX
#
# Defaults: -l 0 (the tests keep vdpa-lm on CPU 0, guests on CPU 1),
# -m 256, telemetry on (the robustness and app tests read it).
#
# lm_eal_args PREFIX [EAL-OPTION...]
#	Set the array LM_EAL to vdpa-lm's EAL arguments (not the "--").
#	An option the list has a default for replaces it: -l L or
#	--lcores L (lcores), -m MB (memory), --no-telemetry (telemetry
#	off). Every other option (e.g. --log-level error) is appended
#	as it is.
#
# lm_spawn PIDS LOG VDPA_LM PREFIX [EAL-OPTION...] [-- VDPA-LM-OPTION...]
#	Start VDPA_LM in the background with lm_eal_args' arguments, "--"
#	and the vdpa-lm options; stdin from LM_STDIN (default /dev/null),
#	stdout and stderr to LOG. Appends its pid to the array named PIDS
#	(the caller's list of processes to stop) and sets LM_PID and
#	LM_PREFIX.
#
# Example (integration/lib.sh's helpers for the prefix and the pid list):
#	it_file_prefix lm
#	lm_spawn IT_PIDS "$IT_TMP/lm.log" "$LM" "$IT_FILE_PREFIX" -- \
#		--socket "$IT_TMP/lm.sock" --stats-period 0
#	wait_for_socket "$IT_TMP/lm.sock" 20 "$LM_PID"
# or, to run it in the foreground:
#	lm_eal_args "$IT_FILE_PREFIX" --no-telemetry
#	timeout 30 "$LM" "${LM_EAL[@]}" -- --help

# shellcheck source=tests/lib/proc.sh
. "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

lm_eal_args() {
	local prefix=${1:?lm_eal_args: no file prefix}
	local lcores=(-l 0) mem=256 telemetry=() extra=()

	shift
	while [ $# -gt 0 ]; do
		case $1 in
		-l|--lcores) lcores=("$1" "${2:?lm_eal_args: $1 needs a value}"); shift 2 ;;
		-m) mem=${2:?lm_eal_args: -m needs a value}; shift 2 ;;
		--no-telemetry) telemetry=(--no-telemetry); shift ;;
		*) extra+=("$1"); shift ;;
		esac
	done
	LM_EAL=("${lcores[@]}" --no-huge -m "$mem" --no-pci "${telemetry[@]}"
		--file-prefix "$prefix" "${extra[@]}")
}

lm_spawn() {
	local pids=$1 log=$2 bin=$3 prefix=$4 eal=()

	shift 4
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		eal+=("$1")
		shift
	done
	[ $# -eq 0 ] || shift
	lm_eal_args "$prefix" "${eal[@]}"
	# shellcheck disable=SC2034 # LM_PREFIX and LM_PID are for the caller
	LM_PREFIX=$prefix
	PROC_STDIN=${LM_STDIN:-/dev/null} \
		proc_spawn "$pids" "$log" "$bin" "${LM_EAL[@]}" -- "$@"
	# shellcheck disable=SC2034
	LM_PID=$PROC_LAST_PID
}
