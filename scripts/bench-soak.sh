#!/usr/bin/env bash
# Soak benchmark: ten minutes of mail into `minuted run` with faults injected at random
# (its PostgreSQL stopped, its mail server away, the daemon killed), then a wait for it to
# catch up; prints messages in, filed, sent, duplicates, lost, peak RSS and log lines per
# minute. Not part of the test command.
#
#   scripts/bench-soak.sh
#   MINUTED_SOAK_SECONDS=120 scripts/bench-soak.sh
#
# It uses the services of scripts/test.sh (by running that script with the benchmark as
# its cargo target, release build) and a PostgreSQL server of its own that it stops.
set -euo pipefail
cd "$(dirname "$0")/.."
SKIP_LINT=1 exec scripts/test.sh --release --bench soak
