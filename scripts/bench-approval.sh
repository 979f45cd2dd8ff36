#!/usr/bin/env bash
# Approval-to-circulation benchmark: the time from an APPROVE reply handed to Postfix to
# the first circulation email accepted by SMTP, through real Postfix, Dovecot and
# PostgreSQL with `approval.undo_minutes = 0`, beside the time a plain message takes from
# Postfix to stored. Not part of the test command.
#
#   scripts/bench-approval.sh                          # 5 samples
#   MINUTED_BENCH_SAMPLES=10 scripts/bench-approval.sh
#
# It starts the same private PostgreSQL, Dovecot and Postfix as scripts/test.sh (by running
# that script with the benchmark as its cargo target, release build).
set -euo pipefail
cd "$(dirname "$0")/.."
SKIP_LINT=1 exec scripts/test.sh --release --bench approval
