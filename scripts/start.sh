#!/usr/bin/env bash
# Quick start: build minuted and run the daemon on its embedded defaults — Maildir in
# ./mail/inbox, .eml files out to ./mail/outbox, a private PostgreSQL cluster in ./var —
# with the example London Criminal Justice Board imported and the HTTP server (health,
# metrics, status page) on 127.0.0.1:8025. Stop it with Ctrl-C.
#
# Installs Debian's `postgresql` package first when its server programs are missing
# (as root; otherwise it says what to install). Extra arguments go to `minuted run`'s
# global options, e.g. `scripts/start.sh --log-format json`.
set -euo pipefail
cd "$(dirname "$0")/.."

have_server_programs() {
    command -v initdb >/dev/null 2>&1 && return 0
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        return 0
    fi
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

if ! have_server_programs; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "PostgreSQL's server programs are missing: run 'sudo apt-get install postgresql' and try again" >&2
        exit 1
    fi
    echo "==> installing Debian's postgresql package"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

mkdir -p mail/inbox/new mail/inbox/cur mail/inbox/tmp mail/outbox
echo "==> building minuted"
cargo build --release --locked
export MINUTED__BOARD__FILE="${MINUTED__BOARD__FILE:-deploy/examples/lcjb.toml}"
# Health, metrics and the status page on loopback; MINUTED__HTTP__LISTEN picks another
# address.
export MINUTED__HTTP__LISTEN="${MINUTED__HTTP__LISTEN:-127.0.0.1:8025}"
echo "==> starting minuted (Ctrl-C stops it)"
exec target/release/minuted "$@" run
