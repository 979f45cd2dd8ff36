#!/usr/bin/env bash
# The test command: lint, then the whole test suite against real services on loopback.
#
#   scripts/test.sh                      # fmt --check, clippy -D warnings, cargo test
#   scripts/test.sh --test harness       # extra arguments go to `cargo test`
#   scripts/test.sh -- --nocapture
#   SKIP_LINT=1 scripts/test.sh ...      # skip fmt and clippy (local iteration only)
#   KEEP_TEST_TMP=1 scripts/test.sh ...  # keep the temporary directory afterwards
#
# As root on a fresh Debian machine it installs what is missing from Debian's packages
# (postgresql, dovecot-imapd, dovecot-lmtpd, postfix, openssl, systemd for systemd-analyze,
# chromium), checks deploy/minuted.service with `systemd-analyze verify`, then starts private
# instances in a fresh temporary directory, on free loopback high ports:
#
# - Dovecot: IMAP with STARTTLS and IMAPS (certificate from a throwaway CA), any user name
#   with the password `test`, LMTP that accepts any address and delivers it into a Maildir
#   under the temporary directory. XOAUTH2 and OAUTHBEARER bearer tokens go to its oauth2
#   passdb, which asks the identity provider on 127.0.0.1:$MINUTED_TEST_IDP_PORT about each
#   one; the sign-in tests start that provider's stand-in themselves (tests/signin/idp.rs).
# - Postfix: SMTP that relays every recipient, whatever the domain, over LMTP into that
#   Dovecot, so a test reads what each recipient received; submission (STARTTLS) and
#   submissions (implicit TLS) ports whose SMTP AUTH goes to Dovecot's SASL.
# - PostgreSQL: the server at DATABASE_URL when it is set and answers, otherwise a private
#   cluster. Each test creates its own database from the admin URL.
#
# The tests find them through MINUTED_TEST_* variables (also written to $TMP/env). Everything
# started here is stopped on exit, whether the tests pass, fail or are interrupted, and the
# exit code is the one of the step that failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

section() { printf '\n==> %s\n' "$*"; }
die() {
    echo "scripts/test.sh: $*" >&2
    exit 1
}

# --- 1. Debian packages -------------------------------------------------------------------

# The directory holding PostgreSQL's server programs (initdb, pg_ctl), or nothing.
pg_bindir() {
    local initdb dir
    if initdb=$(command -v initdb 2>/dev/null); then
        dirname "$(readlink -f "$initdb")"
        return
    fi
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
            echo "$dir"
            return
        fi
    fi
    for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        if [ -x "$dir/initdb" ]; then
            echo "$dir"
            return
        fi
    done
}

missing_packages() {
    local needed=()
    [ -n "$(pg_bindir)" ] && command -v psql >/dev/null 2>&1 || needed+=(postgresql)
    command -v dovecot >/dev/null 2>&1 && [ -x /usr/lib/dovecot/imap ] || needed+=(dovecot-imapd)
    [ -x /usr/lib/dovecot/lmtp ] || needed+=(dovecot-lmtpd)
    command -v postfix >/dev/null 2>&1 && command -v smtp-sink >/dev/null 2>&1 \
        && command -v smtp-source >/dev/null 2>&1 || needed+=(postfix)
    command -v openssl >/dev/null 2>&1 || needed+=(openssl)
    command -v systemd-analyze >/dev/null 2>&1 || needed+=(systemd)
    command -v chromium >/dev/null 2>&1 || needed+=(chromium)
    echo "${needed[*]}"
}

missing=$(missing_packages)
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        die "these Debian packages are missing: $missing; install them as root" \
            "('apt-get install $missing') or run this script as root"
    fi
    section "installing Debian packages: $missing"
    # A test machine needs no system-wide mail service: keep Postfix's package from
    # configuring and starting one on port 25. Our instance has its own configuration.
    if [[ " $missing " == *" postfix "* ]] && command -v debconf-set-selections >/dev/null 2>&1; then
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    fi
    apt-get update -qq
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    missing=$(missing_packages)
    [ -z "$missing" ] || die "still missing after apt-get install: $missing"
fi
if [ "$(id -u)" -ne 0 ]; then
    die "run this script as root: Postfix's master, Dovecot and the private PostgreSQL" \
        "cluster (as the postgres user) need it"
fi

# --- 2. lint (needs no service) -----------------------------------------------------------

if [ "${SKIP_LINT:-}" = 1 ]; then
    section "SKIP_LINT=1: skipping cargo fmt and cargo clippy"
else
    section "cargo fmt --all -- --check"
    cargo fmt --all -- --check
    section "cargo clippy --locked --all-targets -- -D warnings"
    cargo clippy --locked --all-targets -- -D warnings
fi

# --- 2b. the systemd unit (fast: runs also with SKIP_LINT=1) ------------------------------

# `systemd-analyze verify` checks deploy/minuted.service: its sections, directives and their
# values. It only warns (and exits 0) on an unknown directive or a value it cannot parse, so
# any output at all fails this step. It refuses a unit whose Exec*= programs do not exist,
# and minuted is not installed here: in the copy verified, every Exec*= line that runs a
# program named minuted runs an executable stub instead (same arguments, same line);
# every other line is the unit's own. User=minuted is resolved only when the service
# starts, so the minuted account need not exist here.
section "systemd-analyze verify deploy/minuted.service"
unit_dir=$(mktemp -d "${TMPDIR:-/tmp}/minuted-unit.XXXXXX")
printf '#!/bin/sh\nexit 0\n' >"$unit_dir/minuted"
chmod 755 "$unit_dir/minuted"
sed -E "s#^(Exec[A-Za-z]*=[-@:+!|]*)[^[:space:]]*/minuted([[:space:]]|$)#\1$unit_dir/minuted\2#" \
    deploy/minuted.service >"$unit_dir/minuted.service"
unit_rc=0
unit_out=$(systemd-analyze verify "$unit_dir/minuted.service" 2>&1) || unit_rc=$?
rm -rf "$unit_dir"
if [ "$unit_rc" -ne 0 ] || [ -n "$unit_out" ]; then
    # Line numbers are the unit's own: only those Exec*= lines differ, in place.
    printf '%s\n' "${unit_out//"$unit_dir/minuted.service"/deploy/minuted.service}" >&2
    die "systemd-analyze verify found problems in deploy/minuted.service (exit $unit_rc; a warning fails too)"
fi
echo "deploy/minuted.service: no problems"

# --- 3. services --------------------------------------------------------------------------

TMP=""
CARGO_PID=""
DOVECOT_CONF=""
POSTFIX_CONF=""
PG_DATA=""
PG_PRIVATE=""
ADMIN_URL=""
RUN_ID=""

# Prints the last lines of every service log; used when something failed.
show_logs() {
    local log
    for log in "$TMP/dovecot/dovecot.log" "$TMP/postfix/postfix.log" "$TMP/pg/postgres.log"; do
        if [ -s "$log" ]; then
            printf '\n--- last lines of %s\n' "$log" >&2
            tail -n 40 "$log" >&2
        fi
    done
}

# Waits until process $1 is gone, up to $2 tenths of a second; then kills it.
wait_gone() {
    local pid=$1 tenths=$2
    while [ "$tenths" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
        sleep 0.1
        tenths=$((tenths - 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

pid_from() { [ -s "$1" ] && tr -d ' \n' <"$1"; }

# Prints the process ids whose parent is $1 (from /proc: no procps needed).
children_of() {
    local parent=$1 stat line fields
    for stat in /proc/[0-9]*/stat; do
        { read -r line <"$stat"; } 2>/dev/null || continue
        read -r -a fields <<<"${line##*) }"
        if [ "${fields[1]:-}" = "$parent" ]; then
            basename "$(dirname "$stat")"
        fi
    done
}

# Stops a daemon whose master's pid is in file $1 with the command in the other arguments,
# and waits until the master and its children are gone.
stop_daemon() {
    local pid_file=$1 pid kid kids
    shift
    pid=$(pid_from "$pid_file" || true)
    kids=""
    [ -z "$pid" ] || kids=$(children_of "$pid")
    "$@" >/dev/null 2>&1 || true
    [ -z "$pid" ] || wait_gone "$pid" 50
    for kid in $kids; do
        wait_gone "$kid" 30
    done
}

stop_services() {
    local pid
    if [ -n "$POSTFIX_CONF" ]; then
        stop_daemon "$TMP/postfix/queue/pid/master.pid" postfix -c "$POSTFIX_CONF" stop
    fi
    if [ -n "$DOVECOT_CONF" ]; then
        stop_daemon "$TMP/dovecot/run/master.pid" doveadm -c "$DOVECOT_CONF" stop
    fi
    if [ -n "$PG_PRIVATE" ]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" stop -m fast -w -t 20 >/dev/null 2>&1 \
            || { pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)
                 [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true; }
    elif [ -n "$ADMIN_URL" ] && [ -n "$RUN_ID" ]; then
        # A shared server outlives us: drop the databases this run's tests created.
        local db
        for db in $(psql "$ADMIN_URL" -Atqc \
            "select datname from pg_database where datname like 'minuted_test_${RUN_ID}_%'" \
            2>/dev/null); do
            psql "$ADMIN_URL" -qc "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 || true
        done
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if [ -n "$CARGO_PID" ]; then
        kill -TERM -- "-$CARGO_PID" 2>/dev/null || kill -TERM "$CARGO_PID" 2>/dev/null
        wait "$CARGO_PID" 2>/dev/null
    fi
    if [ -n "$TMP" ]; then
        [ "$rc" -eq 0 ] || show_logs
        stop_services
        if [ "${KEEP_TEST_TMP:-}" = 1 ]; then
            echo "kept $TMP" >&2
        else
            rm -rf "$TMP"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints $1 free TCP ports on 127.0.0.1, one a line. All are held open together while
# choosing, so they differ from each other; the kernel hands them out at random from its
# ephemeral range, so two runs at once are very unlikely to meet on one.
free_ports() {
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
    else
        local n=$1 port picked=" "
        while [ "$n" -gt 0 ]; do
            port=$((20000 + RANDOM % 12000))
            case "$picked" in *" $port "*) continue ;; esac
            if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                picked+="$port "
                echo "$port"
                n=$((n - 1))
            fi
        done
    fi
}

# Waits until something accepts connections on 127.0.0.1:$2, for at most 10 s; $1 names it.
wait_for_port() {
    local name=$1 port=$2 tenths=100
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        tenths=$((tenths - 1))
        [ "$tenths" -gt 0 ] || die "$name did not start listening on 127.0.0.1:$port"
        sleep 0.1
    done
}

section "starting PostgreSQL, Dovecot and Postfix on loopback"
started=$SECONDS
TMP=$(mktemp -d "${TMPDIR:-/tmp}/minuted-test.XXXXXX")
# The services' unprivileged users (mail, dovecot, postfix, postgres) must reach their files.
chmod 755 "$TMP"
RUN_ID=$(basename "$TMP" | sed 's/.*\.//' | tr '[:upper:]' '[:lower:]')
mapfile -t ports < <(free_ports 9)
IMAP_PORT=${ports[0]}
IMAPS_PORT=${ports[1]}
LMTP_PORT=${ports[2]}
SMTP_PORT=${ports[3]}
PG_PORT=${ports[4]}
# OAuth 2.0: the identity provider's stand-in (started by the sign-in tests themselves),
# Dovecot's SASL service for Postfix, and Postfix's submission ports with SMTP AUTH.
IDP_PORT=${ports[5]}
AUTH_PORT=${ports[6]}
SUBMISSION_PORT=${ports[7]}
SMTPS_PORT=${ports[8]}

# TLS for Dovecot and Postfix: a throwaway CA (MINUTED_TEST_TLS_CA) and a server certificate
# for localhost and 127.0.0.1 signed by it. A single self-signed certificate would be its own
# CA, which strict clients (rustls) refuse as a server certificate.
mkdir -p "$TMP/tls"
cat >"$TMP/tls/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
(
    cd "$TMP/tls"
    {
        openssl req -x509 -config openssl.cnf -extensions ca -newkey ec \
            -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 30 \
            -subj "/CN=minuted test CA $RUN_ID" &&
        openssl req -new -config openssl.cnf -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -nodes -keyout server.key -out server.csr -subj "/CN=localhost" &&
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -days 30 \
            -set_serial "0x$(openssl rand -hex 8)" -extfile openssl.cnf -extensions server \
            -out server.pem
    } >openssl.log 2>&1 || { cat openssl.log >&2; die "openssl could not make the test certificates"; }
    chmod 644 ca.pem server.pem
    chmod 600 ca.key server.key
)

# PostgreSQL: DATABASE_URL alone decides whether a server is given to us.
if [ -n "${DATABASE_URL:-}" ] && PGCONNECT_TIMEOUT=5 psql "$DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; then
    ADMIN_URL=$DATABASE_URL
    echo "PostgreSQL: the server at DATABASE_URL"
else
    if [ -n "${DATABASE_URL:-}" ]; then
        echo "PostgreSQL: DATABASE_URL does not answer; starting a private cluster"
    fi
    PG_BIN=$(pg_bindir)
    PG_DATA=$TMP/pg/data
    mkdir -p "$TMP/pg"
    chown postgres: "$TMP/pg"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 \
        --locale=C --no-sync >"$TMP/pg/initdb.log" 2>&1 \
        || { cat "$TMP/pg/initdb.log" >&2; die "initdb failed"; }
    # Throwaway data: durability off for speed; enough connections for parallel tests.
    PG_PRIVATE=1
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$TMP/pg/postgres.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$TMP/pg" \
        -o "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null || die "the private PostgreSQL cluster did not start"
    ADMIN_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    echo "PostgreSQL: private cluster on 127.0.0.1:$PG_PORT"
fi
# Tests get their databases from MINUTED_TEST_DATABASE_URL; a DATABASE_URL inherited by a
# spawned `minuted` would override its config and point it at the admin database.
unset DATABASE_URL

# Dovecot (2.3 syntax: Debian 12 ships 2.3.x).
DOVECOT_BIN=$(command -v dovecot)
DOVECOT_VERSION=$("$DOVECOT_BIN" --version | cut -d' ' -f1)
case "$DOVECOT_VERSION" in
    2.3.*) ;;
    *) echo "warning: Dovecot $DOVECOT_VERSION; this configuration is written for 2.3" >&2 ;;
esac
MAIL_ROOT=$TMP/mail
mkdir -p "$TMP/dovecot/run" "$TMP/dovecot/state" "$MAIL_ROOT"
chown mail:mail "$MAIL_ROOT"
DOVECOT_CONF=$TMP/dovecot/dovecot.conf
cat >"$DOVECOT_CONF" <<EOF
# Private test instance; nothing of /etc/dovecot is read.
instance_name = minuted-test-$RUN_ID
base_dir = $TMP/dovecot/run
state_dir = $TMP/dovecot/state
log_path = $TMP/dovecot/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
hostname = mail.test.example
postmaster_address = postmaster@test.example

ssl = yes
ssl_cert = <$TMP/tls/server.pem
ssl_key = <$TMP/tls/server.key

# Any user name logs in with the password "test"; every address exists and owns a Maildir.
# XOAUTH2 and OAUTHBEARER bearer tokens are checked by the oauth2 passdb, which asks the
# identity provider's introspection endpoint about every token (no auth cache, so a
# revoked token is refused at the next sign-in).
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
auth_cache_size = 0
passdb {
  driver = static
  args = password=test
  mechanisms = plain login
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $TMP/dovecot/oauth2.conf.ext
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$MAIL_ROOT/%d/%n allow_all_users=yes
}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:$MAIL_ROOT/%d/%n
mail_fsync = never
# Dovecot is the only writer of these Maildirs (LMTP in, IMAP out), as on a production
# server: it re-reads cur/ only when that changed behind its back, rather than on every
# look at a folder that changed, which costs about a second per look in a 10,000-message
# folder (see README, "Large folders").
maildir_very_dirty_syncs = yes
# Tests open several connections per user (IDLE beside a poller).
mail_max_userip_connections = 1000
mailbox_idle_check_interval = 1 secs
namespace inbox {
  inbox = yes
  mailbox Sent {
    special_use = \Sent
  }
  mailbox Drafts {
    special_use = \Drafts
  }
  mailbox Trash {
    special_use = \Trash
  }
  mailbox Junk {
    special_use = \Junk
  }
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
# SASL for Postfix's SMTP AUTH (smtpd_sasl_type = dovecot).
service auth {
  inet_listener postfix-sasl {
    address = 127.0.0.1
    port = $AUTH_PORT
  }
}
EOF
cat >"$TMP/dovecot/oauth2.conf.ext" <<EOF
# RFC 7662 introspection of every bearer token: POST token=...; {"active": true,
# "username": "..."} signs in as that user.
introspection_url = http://127.0.0.1:$IDP_PORT/introspect
introspection_mode = post
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 3000
EOF
"$DOVECOT_BIN" -c "$DOVECOT_CONF" || die "Dovecot did not start (see $TMP/dovecot/dovecot.log)"

# Postfix: its own configuration directory; every recipient relayed over LMTP into Dovecot.
POSTFIX_CONF=$TMP/postfix/conf
mkdir -p "$POSTFIX_CONF" "$TMP/postfix/queue" "$TMP/postfix/data"
chown postfix: "$TMP/postfix/data"
cat >"$POSTFIX_CONF/main.cf" <<EOF
# Private test instance; nothing of /etc/postfix/main.cf is read.
compatibility_level = 3.6
queue_directory = $TMP/postfix/queue
data_directory = $TMP/postfix/data
maillog_file = $TMP/postfix/postfix.log
maillog_file_prefixes = $TMP
myhostname = mx.test.example
mydomain = test.example
myorigin = \$myhostname
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 no local delivery in the test instance
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
default_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
relay_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
relayhost =
smtpd_banner = \$myhostname ESMTP
smtpd_tls_security_level = may
smtpd_tls_cert_file = $TMP/tls/server.pem
smtpd_tls_key_file = $TMP/tls/server.key
# Fast and offline: no DNS, retries within a second or two.
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtpd_error_sleep_time = 0
message_size_limit = 209715200
biff = no
append_dot_mydomain = no
# SMTP AUTH through Dovecot's SASL, on the submission ports only (master.cf). Dovecot
# counts XOAUTH2 as a plaintext mechanism, so noplaintext would hide it.
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
EOF
cat >"$POSTFIX_CONF/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
127.0.0.1:$SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
lmtp       unix  -       -       n       -       -       lmtp
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
EOF
# `check` creates the queue's subdirectories with the owners Postfix wants. As root no
# alternate_config_directories entry in /etc/postfix/main.cf is needed for `-c`, so the
# system's configuration is left alone.
postfix -c "$POSTFIX_CONF" check || die "postfix check failed for $POSTFIX_CONF"
postfix -c "$POSTFIX_CONF" start >/dev/null 2>&1 || die "Postfix did not start"

wait_for_port "Dovecot IMAP" "$IMAP_PORT"
wait_for_port "Dovecot IMAPS" "$IMAPS_PORT"
wait_for_port "Dovecot LMTP" "$LMTP_PORT"
wait_for_port "Postfix SMTP" "$SMTP_PORT"
wait_for_port "Postfix submission" "$SUBMISSION_PORT"
wait_for_port "Postfix SMTPS" "$SMTPS_PORT"

export MINUTED_TEST_TMP=$TMP
export MINUTED_TEST_RUN_ID=$RUN_ID
export MINUTED_TEST_DATABASE_URL=$ADMIN_URL
export MINUTED_TEST_IMAP_HOST=127.0.0.1
export MINUTED_TEST_IMAP_PORT=$IMAP_PORT
export MINUTED_TEST_IMAPS_PORT=$IMAPS_PORT
export MINUTED_TEST_IMAP_PASSWORD=test
export MINUTED_TEST_TLS_CA=$TMP/tls/ca.pem
export MINUTED_TEST_LMTP_PORT=$LMTP_PORT
export MINUTED_TEST_SMTP_PORT=$SMTP_PORT
export MINUTED_TEST_SUBMISSION_PORT=$SUBMISSION_PORT
export MINUTED_TEST_SMTPS_PORT=$SMTPS_PORT
export MINUTED_TEST_IDP_PORT=$IDP_PORT
export MINUTED_TEST_SMTP_SINK
MINUTED_TEST_SMTP_SINK=$(command -v smtp-sink)
export MINUTED_TEST_SMTP_SOURCE
MINUTED_TEST_SMTP_SOURCE=$(command -v smtp-source)
# Debian's chromium, for browser tests of the status page. This script runs as root, and
# Chromium as root starts only with --no-sandbox: `chromium --headless --no-sandbox ...`.
export MINUTED_TEST_CHROMIUM
MINUTED_TEST_CHROMIUM=$(command -v chromium)
export MINUTED_TEST_DOVECOT_BIN=$DOVECOT_BIN
export MINUTED_TEST_DOVECOT_CONF=$DOVECOT_CONF
export MINUTED_TEST_DOVECOT_LOG=$TMP/dovecot/dovecot.log
export MINUTED_TEST_POSTFIX_CONF=$POSTFIX_CONF
export MINUTED_TEST_POSTFIX_LOG=$TMP/postfix/postfix.log
export MINUTED_TEST_MAIL_ROOT=$MAIL_ROOT
env | grep '^MINUTED_TEST_' | sort | sed "s/^\([^=]*\)=\(.*\)/export \1='\2'/" >"$TMP/env"
sed 's/^export /  /' "$TMP/env"
echo "services up in $((SECONDS - started)) s (source $TMP/env to reuse them while this runs)"

# --- 4. tests -----------------------------------------------------------------------------

section "cargo test --locked $*"
# In the background, in a process group of its own, so that an interrupt reaches the traps
# at once (not when the tests end) and `cleanup` can stop the tests before the services.
setsid cargo test --locked "$@" &
CARGO_PID=$!
wait "$CARGO_PID"
CARGO_PID=""
