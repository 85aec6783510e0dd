#!/usr/bin/env bash
# start-pg.sh - a throwaway PostgreSQL 15 cluster for imgsync's tests and benchmarks (Debian 12's
# postgresql package; installs nothing: scripts/setup-deps.sh test does that).
#
# Runs as an unprivileged user: the `postgres` system user the package creates when this script
# runs as root, the calling user otherwise (the server refuses to run as root). Listens on
# 127.0.0.1 only, at a free port, with a unix socket directory of its own; scram-sha-256 password
# authentication for every connection (TCP and socket), fsync off (throwaway data), enough
# max_connections for several concurrent passes. Never touches the system cluster (port 5432,
# /var/lib/postgresql, /var/run/postgresql): that one is left as the package left it.
#
# Creates the role PG_TEST_USER (LOGIN CREATEDB, no superuser) and its database, and writes:
#   $PG_BASE/env      shell exports that suites source: PGHOST PGPORT PGUSER PGPASSFILE
#                     PGDATABASE (libpq's own variables), and PG_BASE PG_BIN PG_DATA PG_SOCKDIR
#                     PG_OS_USER PG_SUPERUSER PG_ENV_FILE for the helpers (pg_ctl restart, ...)
#   $PG_BASE/pgpass   the 0600 password file (PGPASSFILE): the test role's and the superuser's
#                     password, for 127.0.0.1:PORT only. No password is in the env file, on a
#                     command line or in the log.
# Idempotent: if the cluster of an earlier run with the same PG_BASE is alive and accepts the
# test role's password, it only prints the connection info (PG_REUSED=1). Otherwise it stops the
# leftovers of an earlier run (pg_ctl, on its own data directory only), wipes $PG_BASE and
# builds a fresh cluster.
#
# stdout: KEY=VALUE lines: PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PG_BASE PG_ENV_FILE
#         PG_REUSED; progress and errors go to stderr.
# Knobs (environment):
#   PG_BASE            state directory       (default /tmp/imgsync-pg-$UID)
#   PG_PORT            port on 127.0.0.1     (default: a free one)
#   PG_TEST_USER       role and database     (default imgsync)
#   PG_MAX_CONNECTIONS                       (default 300)
#   PG_START_TIMEOUT   seconds               (default 60)
# Exit status: 0 ready, 1 failed (what failed on stderr), 2 bad arguments or knobs.
set -euo pipefail

[ $# = 0 ] || {
    echo "start-pg: no arguments expected (knobs are environment variables; see the header)" >&2
    exit 2
}
BASE=${PG_BASE:-/tmp/imgsync-pg-$(id -u)}
case $BASE in /*) ;; *) BASE=$PWD/$BASE ;; esac
[ "$BASE" != / ] || { echo "start-pg: PG_BASE must not be /" >&2; exit 2; }
ROLE=${PG_TEST_USER:-imgsync}
MAXCONN=${PG_MAX_CONNECTIONS:-300}
WAIT=${PG_START_TIMEOUT:-60}
PORT=${PG_PORT:-}
case $MAXCONN$WAIT$PORT in *[!0-9]*) echo "start-pg: PG_PORT, PG_MAX_CONNECTIONS, PG_START_TIMEOUT must be numbers" >&2; exit 2 ;; esac
case $ROLE in [a-z]*) ;; *) echo "start-pg: PG_TEST_USER must start with a-z" >&2; exit 2 ;; esac
case $ROLE in *[!a-z0-9_]*) echo "start-pg: PG_TEST_USER: only a-z 0-9 _" >&2; exit 2 ;; esac
SUPER=postgres
D=$BASE/data
SOCK=$BASE/sock
LOG=$BASE/log/postgres.log
T0=${EPOCHREALTIME/./}

log() {
    local t=$((${EPOCHREALTIME/./} - T0))
    printf '[start-pg %3d.%01ds] %s\n' $((t / 1000000)) $(((t / 100000) % 10)) "$*" >&2
}
fail() {
    log "ERROR: $*"
    if [ -s "$LOG" ]; then
        echo "----- last lines of $LOG -----" >&2
        tail -n 15 "$LOG" >&2
    fi
    exit 1
}

# ---------- binaries and the OS user ---------------------------------------------------------
BIN=""
for v in 15 16 17; do
    [ -x /usr/lib/postgresql/$v/bin/pg_ctl ] && BIN=/usr/lib/postgresql/$v/bin && break
done
[ -n "$BIN" ] || fail "no PostgreSQL server binaries (/usr/lib/postgresql/15/bin): run scripts/setup-deps.sh test"
command -v psql >/dev/null || fail "no psql: run scripts/setup-deps.sh test"
if [ "$(id -u)" = 0 ]; then
    OSUSER=postgres
    getent passwd "$OSUSER" >/dev/null || fail "no '$OSUSER' system user (the postgresql package creates it)"
    as_os() { runuser -u "$OSUSER" -- "$@"; }
else
    OSUSER=$(id -un)
    as_os() { "$@"; }
fi

# our_running: the postmaster of $D runs (pg_ctl reads $D/postmaster.pid and checks the PID).
our_running() { [ -f "$D/postmaster.pid" ] && as_os "$BIN/pg_ctl" -D "$D" status >/dev/null 2>&1; }

print_info() { # $1 = 1 if reused
    printf 'PGHOST=127.0.0.1\nPGPORT=%s\nPGUSER=%s\nPGDATABASE=%s\nPGPASSFILE=%s\nPG_BASE=%s\nPG_ENV_FILE=%s\nPG_REUSED=%s\n' \
        "$PORT" "$ROLE" "$ROLE" "$BASE/pgpass" "$BASE" "$BASE/env" "$1"
}

# ---------- 0. already running? --------------------------------------------------------------
if our_running; then
    if [ -r "$BASE/env" ]; then
        PORT=$(sed -n 's/^export PGPORT=//p' "$BASE/env")
        if PGPASSFILE=$BASE/pgpass PGCONNECT_TIMEOUT=5 psql -X -q -w -h 127.0.0.1 -p "$PORT" \
            -U "$ROLE" -d "$ROLE" -tAc 'select 1' 2>/dev/null | grep -qx 1; then
            log "already running on 127.0.0.1:$PORT ($D)"
            print_info 1
            exit 0
        fi
    fi
    log "stopping the leftover cluster of an earlier run ($D)"
    as_os "$BIN/pg_ctl" -D "$D" -m immediate -w -t 30 stop >&2 || fail "cannot stop the leftover cluster in $D"
fi

# ---------- 1. fresh directories ---------------------------------------------------------------
if [ -z "$PORT" ]; then
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])') ||
        fail "cannot pick a free port"
fi
[ "$PORT" != 5432 ] || fail "port 5432 is the system cluster's: pick another PG_PORT"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "start-pg: 127.0.0.1:$PORT is already in use" >&2
    exit 1
fi
if [ -d "$BASE" ] && [ ! -e "$BASE/.imgsync-test-pg" ] && [ -n "$(ls -A "$BASE")" ]; then
    echo "start-pg: $BASE exists and was not made by start-pg.sh; not wiping it" >&2
    exit 1
fi
rm -rf "$BASE"
mkdir -p "$BASE/log"
: >"$BASE/.imgsync-test-pg"
chmod 0755 "$BASE"
mkdir -m 0700 "$D" "$SOCK"
as_os test -x "$BASE" ||
    fail "the user $OSUSER cannot reach $BASE (a directory above it is not searchable by $OSUSER): choose another PG_BASE"
[ "$OSUSER" = "$(id -un)" ] || chown "$OSUSER:" "$D" "$SOCK" "$BASE/log"
SUPERPW=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
ROLEPW=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
# initdb reads the superuser's password from a file (as $OSUSER: a 0600 file of its own)
PWFILE=$D.pw
(umask 077 && printf '%s\n' "$SUPERPW" >"$PWFILE")
[ "$OSUSER" = "$(id -un)" ] || chown "$OSUSER:" "$PWFILE"
(umask 077 && printf '127.0.0.1:%s:*:%s:%s\n127.0.0.1:%s:*:%s:%s\nlocalhost:%s:*:%s:%s\n' \
    "$PORT" "$ROLE" "$ROLEPW" "$PORT" "$SUPER" "$SUPERPW" "$PORT" "$ROLE" "$ROLEPW" >"$BASE/pgpass")

# ---------- 2. initdb + configuration --------------------------------------------------------
as_os "$BIN/initdb" -D "$D" -U "$SUPER" --pwfile="$PWFILE" -A scram-sha-256 -E UTF8 \
    --locale=C.UTF-8 --no-instructions >"$BASE/log/initdb.log" 2>&1 ||
    { rm -f "$PWFILE"; tail -n 20 "$BASE/log/initdb.log" >&2; fail "initdb failed"; }
rm -f "$PWFILE"
# In postgresql.conf (not -o): `pg_ctl restart` keeps them.
cat >>"$D/postgresql.conf" <<EOF

# ---- imgsync test cluster (tests/pg/start-pg.sh) ----
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCK'
max_connections = $MAXCONN
password_encryption = scram-sha-256
# throwaway data: durability off
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %u@%d '
EOF
# pg_hba.conf: initdb -A scram-sha-256 already asks a password for local, host 127.0.0.1 and ::1
grep -Eq '^host +all +all +127\.0\.0\.1/32 +scram-sha-256' "$D/pg_hba.conf" ||
    fail "pg_hba.conf does not ask a scram-sha-256 password on 127.0.0.1"

# ---------- 3. start ---------------------------------------------------------------------------
as_os "$BIN/pg_ctl" -D "$D" -l "$LOG" -w -t "$WAIT" start >"$BASE/log/pg_ctl.log" 2>&1 ||
    fail "pg_ctl start failed: $(tail -n 3 "$BASE/log/pg_ctl.log" | tr '\n' ' ')"
log "postgres up on 127.0.0.1:$PORT (data $D, socket dir $SOCK)"

# ---------- 4. role and database ---------------------------------------------------------------
# The password goes in on stdin (psql's \set + :'var'), never on a command line.
PGPASSFILE=$BASE/pgpass psql -X -q -w -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U "$SUPER" \
    -d postgres >"$BASE/log/setup.log" 2>&1 <<EOF || fail "creating role $ROLE failed: $(tail -n 3 "$BASE/log/setup.log")"
\set pw '$ROLEPW'
CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD :'pw';
CREATE DATABASE $ROLE OWNER $ROLE;
EOF
PGPASSFILE=$BASE/pgpass psql -X -q -w -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$ROLE" \
    -tAc 'select 1' 2>>"$BASE/log/setup.log" | grep -qx 1 ||
    fail "the role $ROLE cannot log in with its password: $(tail -n 3 "$BASE/log/setup.log")"

tmp=$BASE/env.tmp.$$
cat >"$tmp" <<EOF
export PGHOST=127.0.0.1
export PGPORT=$PORT
export PGUSER=$ROLE
export PGDATABASE=$ROLE
export PGPASSFILE=$BASE/pgpass
export PG_BASE=$BASE
export PG_BIN=$BIN
export PG_DATA=$D
export PG_SOCKDIR=$SOCK
export PG_OS_USER=$OSUSER
export PG_SUPERUSER=$SUPER
export PG_ENV_FILE=$BASE/env
EOF
mv -f "$tmp" "$BASE/env"
log "ready: role $ROLE (CREATEDB), database $ROLE, env file $BASE/env"
print_info 0
