#!/usr/bin/env bash
# Ingest benchmark: mbsync and `minuted ingest --once` read the same Dovecot folder of
# 10,000 mixed messages in one run; prints messages/s, MB/s and peak RSS side by side, and
# the IDLE latency of `minuted run`. Not part of the test command.
#
#   scripts/bench-ingest.sh                          # 10,000 messages
#   MINUTED_BENCH_MESSAGES=2000 scripts/bench-ingest.sh
#
# It starts the same private PostgreSQL, Dovecot and Postfix as scripts/test.sh (by running
# that script with the benchmark as its cargo target, release build) and installs isync
# (mbsync) and GNU time from Debian's packages when they are missing (as root).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v mbsync >/dev/null 2>&1 || missing+=(isync)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages: ${missing[*]}; install them as root" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

SKIP_LINT=1 exec scripts/test.sh --release --bench ingest
