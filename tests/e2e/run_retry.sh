#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Runs the e2e suite; after a failure, once more. An intermittent guest
# crash after migration is an open issue (doc/performance.md, "Open
# issue"): the first attempt's results and logs are kept next to the
# second's, and the retry is announced, so that it is seen in every run.
# E2E_NO_RETRY=1 runs a single attempt.
#
# Usage: run_retry.sh RUN_SH BUILD_DIR ARGS... (ARGS as for run.sh)
set -uo pipefail

RUN=$1
shift
BUILD=$2

bash "$RUN" "$@"
rc=$?
if [ "$rc" -ne 1 ] || [ -n "${E2E_NO_RETRY:-}" ]; then
	exit "$rc"
fi
for f in e2e-results.txt e2e-results.json e2e-logs; do
	[ -e "$BUILD/$f" ] && rm -rf "$BUILD/attempt1-$f" &&
		mv "$BUILD/$f" "$BUILD/attempt1-$f"
done
echo "e2e: ATTEMPT 1 FAILED (kept in $BUILD/attempt1-*); retrying once" >&2
bash "$RUN" "$@"
