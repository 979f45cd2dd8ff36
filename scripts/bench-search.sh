#!/usr/bin/env bash
# Search benchmark: `messages search` over 100,000 messages beside an ILIKE scan of the
# same archive, in one run; prints the median, 95th percentile and slowest query of each.
# Not part of the test command.
#
#   scripts/bench-search.sh                          # 100,000 messages
#   MINUTED_BENCH_MESSAGES=20000 scripts/bench-search.sh
#
# It starts the same private PostgreSQL as scripts/test.sh (by running that script with the
# benchmark as its cargo target). The time is PostgreSQL's, so a debug build measures the
# same as a release one.
set -euo pipefail
cd "$(dirname "$0")/.."
SKIP_LINT=1 exec scripts/test.sh --bench search
