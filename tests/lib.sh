# tests/lib.sh - helpers for imgsync's integration suites (bash). Source it first thing:
#
#   #!/usr/bin/env bash
#   . "$(dirname "$0")/../lib.sh"
#   with_rgw                                  # radosgw's endpoint and keys (starts one if needed)
#   B=$(t_bucket); s3_mkbucket "$B"
#   t_begin "upload one file"
#   assert_exit 0 imgsync_run upload ... && s3_get "$B/a.jpg" "$T_TMP/a.jpg" &&
#       assert_files_eq "$T_TMP/src/a.jpg" "$T_TMP/a.jpg" && t_ok
#   t_finish                                  # prints "N passed, M failed", exits 0 / 1
#
# Results: t_begin NAME opens a test; t_ok or t_fail MSG closes it (a test that fails once stays
# failed: a later t_ok is ignored). A test left without a verdict counts as failed. assert_*
# return 0 when they hold; otherwise they call t_fail with a message and return 1, so chain them
# with && and end the chain with t_ok.
#
# One test alone: every test has a slug, its name in lower case with each run of other characters
# than a-z 0-9 turned into one "-" ("awkward keys arrive ..." -> awkward-keys-arrive-...), printed
# as "---- SUITE: NAME [SUITE:SLUG]" and in the failure summary with the command that reruns it.
# T_ONLY=WORD[,WORD...] selects the tests whose slug contains the slug of one of the WORDs
# ("awkward-keys", "awkward keys" and "Awkward Keys" all select the test above); t_begin then
# returns 1 for the others, which are not run and not printed, only counted in the last line
# ("N passed, M failed, K not selected"). A suite in which T_ONLY selects nothing fails. So each
# test is written
#
#   if t_begin "NAME"; then
#       t_fixture NAME-SHORT              # its own state file, spool, prefix and bucket
#       ...assertions... && t_ok
#   fi
#
# and needs nothing an earlier test left behind (set up once before the first test only what
# every test only reads). An unselected test written without the `if` still runs, but its
# verdicts are ignored. Rerun one test: T_ONLY=SLUG bash tests/integration/SUITE.sh, or through
# tests/run-tests.sh SUITE:SLUG.
#
# Functions (details above each one below):
#   results     t_begin t_ok t_fail t_skip t_summary t_finish t_die t_on_exit t_slug t_fixture
#   assertions  assert_eq assert_ne assert_contains assert_not_contains assert_match (TEXT REGEX)
#               assert_files_eq assert_file_exists assert_exit (sets T_RC, T_OUT, T_ERR)
#   imgsync     imgsync_run (foreground, bounded) imgsync_bg (background: IMGSYNC_PID)
#   misc        urlencode_path urlencode t_bucket free_port wait_port make_file sha256_of
#               t_rusage (peak RSS and CPU time of a command)
#   S3 (curl)   with_rgw s3_curl s3_mkbucket s3_rmbucket s3_put s3_get s3_head s3_header
#               s3_exists s3_delete s3_list s3_count   (paths are "BUCKET/KEY", KEY unencoded)
#   faultproxy  fp_start fp_stop fp_rules fp_reset fp_stat
#   state       t_state t_newdb t_sql (backend-neutral) t_backend_is t_after_kill with_pg pg_psql
#               pg_restart
#
# Environment:
#   IMGSYNC_BIN      the imgsync binary under test (default: build/imgsync of this repo)
#   T_CMD_TIMEOUT    seconds one imgsync_run may take (default 300)
#   T_KEEP_TMP=1     keep the suite's temp dir ($T_TMP) for inspection
#   T_VERBOSE=1      show the output of failing commands in full
#   T_ONLY           comma-separated words: run only the tests whose slug contains one (above)
#   RGW_ENV_FILE / RGW_BASE  where with_rgw finds the running radosgw's env file
#   S3_ENDPOINT      endpoint for the s3_* helpers (default $RGW_ENDPOINT; e.g. a faultproxy's)
#   T_BACKEND        sqlite (default) | pg: where t_state / t_fixture put each test's state
#   PG_ENV_FILE / PG_BASE    where with_pg finds the running test cluster's env file
#
# Only loopback traffic; every process a helper starts is stopped when the suite exits.

set -uo pipefail
export LC_ALL=C.UTF-8 LANG=C.UTF-8
# imgsync asks the instance metadata service (169.254.169.254) when it finds no credentials;
# the suites talk to 127.0.0.1 only, so it is off unless a test points it at its own server.
export AWS_EC2_METADATA_DISABLED=true
unset AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
    AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_EC2_METADATA_SERVICE_ENDPOINT

T_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T_REPO_ROOT=$(cd "$T_LIB_DIR/.." && pwd)
T_SUITE=$(basename "${0%.sh}")
T_SUITE_FILE=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
T_SUITE_FILE=${T_SUITE_FILE#"$T_REPO_ROOT"/}
: "${IMGSYNC_BIN:=$T_REPO_ROOT/build/imgsync}"
export IMGSYNC_BIN
T_PASSED=0
T_FAILED=0
T_UNSELECTED=0
T_NAME=""
T_SLUG=""
T_STATE=""   # "" (no test open) | open | failed | unselected (T_ONLY left it out)
T_FAILED_NAMES=()
T_FAILED_SLUGS=()
declare -A T_SLUGS_SEEN=()
T_CLEANUPS=()
T_PY=/usr/bin/python3
[ -x "$T_PY" ] || T_PY=python3

T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-$T_SUITE.XXXXXX") || {
    echo "lib.sh: mktemp failed" >&2
    exit 1
}
export T_TMP

# ---------- cleanup --------------------------------------------------------------------------
# t_on_exit CMD...: run CMD when the suite exits (last registered runs first).
t_on_exit() {
    local q
    printf -v q '%q ' "$@"
    T_CLEANUPS+=("$q")
}

t__exit() {
    local rc=$? i
    trap - EXIT INT TERM
    for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${T_CLEANUPS[i]}" >/dev/null 2>&1 </dev/null || true
    done
    if [ "${T_KEEP_TMP:-0}" = 1 ]; then
        echo "lib.sh: kept $T_TMP" >&2
    else
        rm -rf "$T_TMP"
    fi
    exit "$rc"
}
trap t__exit EXIT
trap 'echo "lib.sh: $T_SUITE interrupted" >&2; exit 130' INT TERM

# ---------- results --------------------------------------------------------------------------
# t_slug TEXT: TEXT in lower case, each run of characters other than a-z 0-9 one "-", no "-" at
# either end.
t_slug() {
    local LC_ALL=C
    printf '%s' "$1" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9' '-' | tr -s '-' | sed 's/^-//; s/-$//'
}

# t__selected SLUG: T_ONLY is empty, or the slug of one of its words is part of SLUG.
t__selected() {
    [ -n "${T_ONLY:-}" ] || return 0
    local w ws
    IFS=, read -r -a ws <<<"$T_ONLY"
    for w in "${ws[@]}"; do
        w=$(t_slug "$w")
        [ -n "$w" ] && [[ $1 == *"$w"* ]] && return 0
    done
    return 1
}

t__fail_record() {
    T_FAILED=$((T_FAILED + 1))
    T_FAILED_NAMES+=("$T_NAME")
    T_FAILED_SLUGS+=("$T_SLUG")
}

t__close() {
    case $T_STATE in
    open)
        t__fail_record
        echo "FAIL $T_NAME: no verdict (neither t_ok nor t_fail)"
        ;;
    esac
    T_STATE=""
}

# t_begin NAME: open a test. Status 1 (and no test open) if T_ONLY does not select it.
t_begin() {
    t__close
    T_NAME=$1
    T_SLUG=$(t_slug "$1")
    if [ -n "${T_SLUGS_SEEN[$T_SLUG]:-}" ]; then
        echo "lib.sh: two tests of $T_SUITE have the slug $T_SLUG: T_ONLY cannot tell them apart" >&2
    fi
    T_SLUGS_SEEN[$T_SLUG]=1
    if ! t__selected "$T_SLUG"; then
        T_UNSELECTED=$((T_UNSELECTED + 1))
        T_STATE=unselected
        return 1
    fi
    T_STATE=open
    echo "---- $T_SUITE: $T_NAME [$T_SUITE:$T_SLUG]"
}

t_ok() {
    case $T_STATE in
    open)
        T_PASSED=$((T_PASSED + 1))
        echo "ok   $T_NAME"
        ;;
    "") echo "lib.sh: t_ok outside a test" >&2 ;;
    esac
    T_STATE=""
    return 0
}

t_fail() {
    local msg=${1:-failed}
    case $T_STATE in
    open)
        t__fail_record
        T_STATE=failed
        echo "FAIL $T_NAME: $msg"
        ;;
    failed) echo "     $T_NAME: also: $msg" ;;
    unselected) ;; # a test T_ONLY left out, run anyway (written without `if t_begin`)
    "")
        # a failure outside any test (setup) counts as a failed test of its own
        T_FAILED=$((T_FAILED + 1))
        T_FAILED_NAMES+=("(setup) $msg")
        T_FAILED_SLUGS+=("")
        echo "FAIL (setup): $msg"
        ;;
    esac
    return 1
}

# t_skip REASON: close the current test as neither passed nor failed.
t_skip() {
    [ "$T_STATE" = unselected ] || echo "skip $T_NAME: ${1:-}"
    T_STATE=""
}

# t_summary: print the failed tests and the final line "N passed, M failed"; status 1 on failure.
# Each failed test is named with its SUITE:SLUG, and the commands that rerun the first one alone.
t_summary() {
    t__close
    local i first=""
    if [ ${#T_FAILED_NAMES[@]} -gt 0 ]; then
        echo "failed in $T_SUITE:"
        for i in "${!T_FAILED_NAMES[@]}"; do
            if [ -n "${T_FAILED_SLUGS[i]}" ]; then
                echo "  - $T_SUITE:${T_FAILED_SLUGS[i]}  (${T_FAILED_NAMES[i]})"
                [ -n "$first" ] || first=${T_FAILED_SLUGS[i]}
            else
                echo "  - ${T_FAILED_NAMES[i]}"
            fi
        done
        [ -z "$first" ] || echo "rerun one alone: T_ONLY=$first bash $T_SUITE_FILE" \
            "(or: bash tests/run-tests.sh $T_SUITE:$first)"
    fi
    if [ "$T_UNSELECTED" -gt 0 ]; then
        [ "$T_PASSED" -gt 0 ] || [ "$T_FAILED" -gt 0 ] ||
            echo "T_ONLY=$T_ONLY selects no test of $T_SUITE"
        echo "$T_PASSED passed, $T_FAILED failed, $T_UNSELECTED not selected (T_ONLY=$T_ONLY)"
    else
        echo "$T_PASSED passed, $T_FAILED failed"
    fi
    [ "$T_FAILED" = 0 ] && [ "$T_PASSED" -gt 0 ]
}

# t_finish: t_summary, then exit with its status (a suite that ran no test fails).
t_finish() {
    if t_summary; then exit 0; else exit 1; fi
}

# t_die MSG: setup failed beyond repair: count it, print the summary, exit 1.
t_die() {
    t_fail "$1" || true
    t_summary
    exit 1
}

# ---------- assertions -----------------------------------------------------------------------
# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
    [ "$1" == "$2" ] && return 0
    t_fail "${3:-value}: expected '$1', got '$2'"
}

assert_ne() {
    [ "$1" != "$2" ] && return 0
    t_fail "${3:-value}: expected something else than '$1'"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
    [[ $1 == *"$2"* ]] && return 0
    t_fail "${3:-text} does not contain '$2': $(printf '%s' "$1" | head -c 400)"
}

assert_not_contains() {
    [[ $1 != *"$2"* ]] && return 0
    t_fail "${3:-text} contains '$2'"
}

# assert_match TEXT REGEX [WHAT]  (bash =~, ERE; same order as assert_contains)
assert_match() {
    [[ $1 =~ $2 ]] && return 0
    t_fail "${3:-text} does not match /$2/: $(printf '%s' "$1" | head -c 400)"
}

# assert_files_eq EXPECTED_FILE ACTUAL_FILE
assert_files_eq() {
    cmp -s -- "$1" "$2" && return 0
    t_fail "files differ: $1 ($(stat -c %s -- "$1" 2>/dev/null || echo missing) bytes) vs $2 ($(stat -c %s -- "$2" 2>/dev/null || echo missing) bytes)"
}

assert_file_exists() {
    [ -e "$1" ] && return 0
    t_fail "missing file $1"
}

# assert_exit CODE CMD [ARGS...]: run CMD, expect exit status CODE. Afterwards T_RC holds the
# status, T_OUT / T_ERR the paths of its stdout / stderr ($(<"$T_OUT") for the text).
T_RC=0
T_OUT=$T_TMP/last.out
T_ERR=$T_TMP/last.err
assert_exit() {
    local want=$1
    shift
    "$@" >"$T_OUT" 2>"$T_ERR" </dev/null
    T_RC=$?
    [ "$T_RC" = "$want" ] && return 0
    local lines=15
    [ "${T_VERBOSE:-0}" = 1 ] && lines=100000
    t_fail "exit status $T_RC, expected $want: $*
----- stdout (last $lines lines) -----
$(tail -n $lines "$T_OUT")
----- stderr (last $lines lines) -----
$(tail -n $lines "$T_ERR")
-----"
}

# imgsync_run ARGS...: the binary under test, bounded by T_CMD_TIMEOUT (exit 124 on timeout).
# Foreground use only: `imgsync_run ... &` gives $! = a bash subshell, and killing that leaves
# imgsync running. To kill a pass (SIGKILL, SIGTERM), start it with imgsync_bg.
imgsync_run() {
    timeout -k 5 "${T_CMD_TIMEOUT:-300}" "$IMGSYNC_BIN" "$@"
}

# imgsync_bg ARGS...: start the binary in the background. IMGSYNC_PID is imgsync's own PID, so
# `kill -KILL $IMGSYNC_PID` / `kill -TERM ...` reach imgsync itself and `wait $IMGSYNC_PID` gives
# its exit status. Its stdout / stderr go to the files $IMGSYNC_BG_OUT / $IMGSYNC_BG_ERR (fresh
# for each call). Call it directly, not in $(...). Killed (SIGKILL) when the suite exits if still
# running; the suite's timeout bounds it.
T_BG_SEQ=0
imgsync_bg() {
    T_BG_SEQ=$((T_BG_SEQ + 1))
    IMGSYNC_BG_OUT=$T_TMP/bg.$T_BG_SEQ.out
    IMGSYNC_BG_ERR=$T_TMP/bg.$T_BG_SEQ.err
    "$IMGSYNC_BIN" "$@" >"$IMGSYNC_BG_OUT" 2>"$IMGSYNC_BG_ERR" </dev/null &
    IMGSYNC_PID=$!
    t_on_exit t__kill_if "$IMGSYNC_PID" "$IMGSYNC_BIN"
}

# t__kill_if PID PROGRAM: SIGKILL PID only if it still runs PROGRAM (no PID-reuse accidents).
t__kill_if() {
    [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$(readlink -f "$2")" ] && kill -KILL "$1" 2>/dev/null
    return 0
}

# ---------- misc -----------------------------------------------------------------------------
# urlencode_path STRING: percent-encode all but A-Z a-z 0-9 - . _ ~ and / (bytewise, UTF-8), as S3
# canonical URIs want (python: urllib.parse.quote(s, safe="/~")).
urlencode_path() {
    local LC_ALL=C
    local s=$1 out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [a-zA-Z0-9.~_/-]) out+=$c ;;
        *)
            printf -v c '%%%02X' "'$c"
            out+=$c
            ;;
        esac
    done
    printf '%s' "$out"
}

# urlencode STRING: the same, '/' encoded too (query values).
urlencode() {
    local e
    e=$(urlencode_path "$1")
    printf '%s' "${e//\//%2F}"
}

# t_bucket [PREFIX]: a fresh, valid, unique bucket name (not created).
t_bucket() {
    local p=${1:-$T_SUITE} r
    p=$(printf '%s' "$p" | tr 'A-Z_' 'a-z-' | tr -cd 'a-z0-9-' | cut -c1-30)
    r=$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')
    printf 't-%s-%s-%s' "$p" "$$" "$r"
}

# free_port: an unused TCP port on 127.0.0.1.
free_port() {
    "$T_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT [SECONDS]: wait until 127.0.0.1:PORT accepts connections.
wait_port() {
    local i n=$((${2:-10} * 20))
    for ((i = 0; i < n; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# make_file PATH SIZE_BYTES: a file of random bytes.
make_file() {
    mkdir -p "$(dirname "$1")"
    head -c "$2" /dev/urandom >"$1"
}

sha256_of() { sha256sum -- "$1" | cut -d' ' -f1; }

# t_rusage FILE CMD [ARGS...]: run CMD and write what it used to FILE as KEY=VALUE lines:
# max_rss_kb (peak RSS of CMD or of the largest child it waited for, as GNU time's %M), user_s,
# sys_s. Through python3's getrusage(RUSAGE_CHILDREN): the suites need python3 anyway, so GNU
# time is no test dependency. Exit status: CMD's (128+N if signal N killed it).
t_rusage() {
    "$T_PY" -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write("max_rss_kb=%d\nuser_s=%.2f\nsys_s=%.2f\n" % (r.ru_maxrss, r.ru_utime, r.ru_stime))
sys.exit(128 - rc if rc < 0 else rc)' "$@"
}

# ---------- state backend --------------------------------------------------------------------
# T_BACKEND chooses where each test's state lives: sqlite (a fresh file, as imgsync's default) or
# pg (a fresh database on the throwaway cluster of tests/pg/start-pg.sh). Suites never build a
# --db value themselves: t_state NAME gives one (IMGSYNC_DB), t_sql runs SQL on it, whichever
# backend it is on. The pg values are URIs without a password (postgresql://USER@127.0.0.1:PORT/DB);
# libpq takes the password from PGPASSFILE, as for psql.
T_BACKEND=${T_BACKEND:-sqlite}
case $T_BACKEND in
sqlite | pg) ;;
*)
    echo "lib.sh: T_BACKEND must be sqlite or pg, not '$T_BACKEND'" >&2
    exit 2
    ;;
esac
export T_BACKEND
T_PG_READY=0

# with_pg: export PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE (and PG_*) from the env file of a
# running test cluster (PG_ENV_FILE, else $PG_BASE/env, else the one tests/run-tests.sh keeps
# with PG_KEEP=1 for this checkout: /tmp/imgsync-test-pg-$UID-<hash of the checkout>/env). If
# none answers, start one there with tests/pg/start-pg.sh and stop it when the suite exits.
# t_state calls it.
with_pg() {
    [ "$T_PG_READY" = 1 ] && return 0
    local tag
    tag=$(printf '%s' "$T_REPO_ROOT" | cksum | cut -d' ' -f1)
    export PG_BASE=${PG_BASE:-/tmp/imgsync-test-pg-$(id -u)-$tag}
    local envf=${PG_ENV_FILE:-$PG_BASE/env}
    if [ -r "$envf" ]; then
        # shellcheck disable=SC1090
        . "$envf"
        if pg__ping; then
            T_PG_READY=1
            return 0
        fi
    fi
    echo "lib.sh: no PostgreSQL test cluster answering (env file $envf): starting one" >&2
    local out base
    out=$(bash "$T_LIB_DIR/pg/start-pg.sh") || t_die "start-pg.sh failed"
    base=$(sed -n 's/^PG_BASE=//p' <<<"$out")
    grep -q '^PG_REUSED=0' <<<"$out" && t_on_exit env PG_BASE="$base" bash "$T_LIB_DIR/pg/stop-pg.sh"
    envf=$(sed -n 's/^PG_ENV_FILE=//p' <<<"$out")
    export PG_ENV_FILE=$envf
    # shellcheck disable=SC1090
    . "$envf"
    pg__ping || t_die "the PostgreSQL test cluster started but does not accept the test role"
    T_PG_READY=1
}

pg__ping() { [ "$(PGCONNECT_TIMEOUT=5 psql -X -q -w -tAc 'select 1' 2>/dev/null)" = 1 ]; }

# pg_psql [PSQL ARGS...]: psql as the test role on the test cluster's own database (no .psqlrc,
# never a password prompt, stop at the first error).
pg_psql() { PGCONNECT_TIMEOUT=10 psql -X -q -w -v ON_ERROR_STOP=1 "$@"; }

# pg_restart: restart the test cluster (pg_ctl restart -m fast: every session is cut, as when a
# database server restarts), and wait until it accepts connections again.
pg_restart() {
    with_pg
    local u=()
    [ "$(id -u)" = 0 ] && u=(runuser -u "$PG_OS_USER" --)
    "${u[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_BASE/log/postgres.log" -m fast -w -t 60 restart \
        >>"$T_TMP/pg_ctl.log" 2>&1 </dev/null || {
        t_fail "pg_ctl restart failed: $(tail -n 3 "$T_TMP/pg_ctl.log" | tr '\n' ' ')"
        return 1
    }
}

# t_newdb NAME [SQLITE_PATH]: a fresh, empty state on T_BACKEND for NAME (a-z 0-9 - _), as the
# value of --db in T_NEWDB (not exported): SQLITE_PATH or $T_TMP/NAME.db (removed first), or a new database named after the suite,
# its PID and NAME (dropped first if it exists; dropped again when the suite exits, unless
# T_KEEP_TMP=1) as postgresql://USER@127.0.0.1:PORT/DB.
t_newdb() {
    if [ "$T_BACKEND" = sqlite ]; then
        T_NEWDB=${2:-$T_TMP/$1.db}
        rm -f "$T_NEWDB" "$T_NEWDB-wal" "$T_NEWDB-shm" "$T_NEWDB-journal"
        return 0
    fi
    with_pg
    local db
    db=$(printf 't_%s_%s_%s' "$T_SUITE" "$$" "$1" | tr 'A-Z-' 'a-z_' | tr -cd 'a-z0-9_' | cut -c1-63)
    pg_psql -d "$PGDATABASE" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
        -c "CREATE DATABASE $db STRATEGY FILE_COPY" >"$T_TMP/createdb.log" 2>&1 ||
        t_die "cannot create the database $db: $(tail -n 2 "$T_TMP/createdb.log" | tr '\n' ' ')"
    [ "${T_KEEP_TMP:-0}" = 1 ] || t_on_exit pg_psql -d "$PGDATABASE" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    T_NEWDB=postgresql://$PGUSER@127.0.0.1:$PGPORT/$db
}

# t_state NAME [SQLITE_PATH]: t_newdb NAME, exported as IMGSYNC_DB (what every imgsync command of the test uses).
t_state() {
    t_newdb "$@"
    export IMGSYNC_DB=$T_NEWDB
}

# t_sql SQL [DB]: run SQL on the state DB (default $IMGSYNC_DB), on its backend (a postgresql://
# or postgres:// URI: psql; anything else: python3's sqlite3, committed); one line per row,
# columns separated by "|". NULL prints as "None" on SQLite and "" on PostgreSQL: use coalesce.
t_sql() {
    local db=${2:-${IMGSYNC_DB:?t_state first}}
    case $db in
    postgresql://* | postgres://*) pg_psql -tA -F'|' -d "$db" -c "$1" ;;
    *) "$T_PY" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print("\n".join("|".join(map(str,r)) for r in c.execute(sys.argv[2]))); c.commit()' "$db" "$1" ;;
    esac
}

# A pass killed with SIGKILL holds its images until its leases expire on PostgreSQL (other hosts
# cannot tell a dead pass from a slow one); on SQLite the next pass takes them over at once (the
# flock tells it the last pass died). So passes a test kills run with "${T_KILLED_PASS_OPTS[@]}"
# (pg: a short --lease), and t_after_kill waits, on pg only, until such a lease has run out.
T_KILLED_PASS_OPTS=()
[ "$T_BACKEND" = pg ] && T_KILLED_PASS_OPTS=(--lease 2s)
t_after_kill() { [ "$T_BACKEND" != pg ] || sleep 2.5; }

# t_backend_is BACKEND REASON: status 0 if T_BACKEND is BACKEND; otherwise the current test is
# skipped with REASON printed ("skip NAME: REASON (T_BACKEND=...)") and the status is 1:
#   if t_begin "the state file is private" && t_backend_is sqlite "a file mode"; then ...
t_backend_is() {
    [ "$T_BACKEND" = "$1" ] && return 0
    t_skip "$2 (T_BACKEND=$T_BACKEND)"
    return 1
}

# ---------- radosgw --------------------------------------------------------------------------
# with_rgw: export RGW_ENDPOINT RGW_ACCESS_KEY RGW_SECRET_KEY RGW_REGION (and AWS_*) from the
# env file of a running radosgw (the one tests/run-tests.sh started: RGW_ENV_FILE, else
# $RGW_BASE/data/env). If none answers, start one with tests/rgw/start-rgw.sh and stop it when
# the suite exits (so a suite also runs on its own).
with_rgw() {
    local envf=${RGW_ENV_FILE:-${RGW_BASE:-/tmp/imgsync-rgw-$(id -u)}/data/env}
    if [ -r "$envf" ]; then
        # shellcheck disable=SC1090
        . "$envf"
        if s3__ping; then return 0; fi
    fi
    echo "lib.sh: no radosgw answering (env file $envf): starting one" >&2
    local out
    out=$(bash "$T_LIB_DIR/rgw/start-rgw.sh") || t_die "start-rgw.sh failed"
    if grep -q '^RGW_REUSED=0' <<<"$out"; then
        t_on_exit env RGW_BASE="$(sed -n 's/^RGW_BASE=//p' <<<"$out")" \
            bash "$T_LIB_DIR/rgw/stop-rgw.sh" --purge
    fi
    envf=$(sed -n 's/^RGW_ENV_FILE=//p' <<<"$out")
    export RGW_ENV_FILE=$envf
    # shellcheck disable=SC1090
    . "$envf"
    s3__ping || t_die "radosgw started but does not answer signed requests"
}

# ---------- S3 through curl --aws-sigv4 (independent of imgsync) -----------------------------
# Paths are "BUCKET/KEY" (KEY unencoded: any bytes but NUL). Each helper returns 0 on a complete
# 2xx answer, 1 otherwise; S3_STATUS holds the HTTP status (000: no answer), S3_CURL_RC curl's
# exit status (e.g. 52 empty reply, 28 timeout, 18 partial body), S3_BODY the file with the last
# response body (error XML for failures), S3_HEADERS its response headers.
# Endpoint: $S3_ENDPOINT, else $RGW_ENDPOINT. Keys: $S3_ACCESS_KEY/$S3_SECRET_KEY, else RGW_*.
S3_STATUS=""
S3_CURL_RC=0
S3_BODY=$T_TMP/s3.body
S3_HEADERS=$T_TMP/s3.headers

s3__ep() { printf '%s' "${S3_ENDPOINT:-${RGW_ENDPOINT:?with_rgw first}}"; }

# s3_curl METHOD PATH_AND_QUERY(encoded) PAYLOAD_SHA256 [CURL ARGS...]: signed request; body to
# $S3_BODY unless the caller passes -o. Query parameters must be sorted by name (curl 7.88 does
# not sort them before signing).
s3_curl() {
    local method=$1 pq=$2 sha=$3
    shift 3
    S3_STATUS=$(curl -sS -g --path-as-is -m "${S3_TIMEOUT:-120}" -o "$S3_BODY" -D "$S3_HEADERS" \
        -w '%{http_code}' --aws-sigv4 "aws:amz:${RGW_REGION:-us-east-1}:s3" \
        --user "${S3_ACCESS_KEY:-$RGW_ACCESS_KEY}:${S3_SECRET_KEY:-$RGW_SECRET_KEY}" \
        -H "x-amz-content-sha256: $sha" -X "$method" "$@" "$(s3__ep)$pq" 2>"$T_TMP/s3.curlerr")
    S3_CURL_RC=$?
    [ -n "$S3_STATUS" ] || S3_STATUS=000
    [ "$S3_CURL_RC" = 0 ] && [[ $S3_STATUS == 2* ]]
}

s3__ping() {
    [ -n "${RGW_ENDPOINT:-}" ] || return 1
    S3_TIMEOUT=5 s3_curl GET / UNSIGNED-PAYLOAD
}

s3__path() { # BUCKET/KEY -> /BUCKET/ENCODED_KEY
    printf '/%s' "$(urlencode_path "$1")"
}

# s3_mkbucket NAME
s3_mkbucket() {
    s3_curl PUT "/$1" UNSIGNED-PAYLOAD
}

# s3_rmbucket NAME [--force]: delete a bucket (--force: its objects first).
s3_rmbucket() {
    if [ "${2:-}" = --force ]; then
        local k
        while IFS= read -r k; do
            s3_delete "$1/$k" || true
        done < <(s3_list "$1")
    fi
    s3_curl DELETE "/$1" UNSIGNED-PAYLOAD
}

# s3_put BUCKET/KEY FILE [CURL ARGS...]: upload FILE (payload hash signed); e.g. extra args
# -H 'x-amz-meta-foo: bar' -H 'Content-Type: image/jpeg'.
s3_put() {
    local path=$1 file=$2
    shift 2
    s3_curl PUT "$(s3__path "$path")" "$(sha256_of "$file")" -T "$file" "$@"
}

# s3_get BUCKET/KEY OUTFILE [CURL ARGS...]
s3_get() {
    local path=$1 out=$2
    shift 2
    S3_STATUS=$(curl -sS -g --path-as-is -m "${S3_TIMEOUT:-120}" -o "$out" -D "$S3_HEADERS" \
        -w '%{http_code}' --aws-sigv4 "aws:amz:${RGW_REGION:-us-east-1}:s3" \
        --user "${S3_ACCESS_KEY:-$RGW_ACCESS_KEY}:${S3_SECRET_KEY:-$RGW_SECRET_KEY}" \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@" "$(s3__ep)$(s3__path "$path")" \
        2>"$T_TMP/s3.curlerr")
    S3_CURL_RC=$?
    [ -n "$S3_STATUS" ] || S3_STATUS=000
    if [ "$S3_CURL_RC" != 0 ] || [[ $S3_STATUS != 2* ]]; then
        cp -f "$out" "$S3_BODY" 2>/dev/null
        rm -f "$out"
        return 1
    fi
}

# s3_head BUCKET/KEY: response headers (lower-cased names, CR stripped) on stdout; 1 if absent.
s3_head() {
    s3_curl HEAD "$(s3__path "$1")" UNSIGNED-PAYLOAD -I >/dev/null
    local rc=$?
    tr -d '\r' <"$S3_HEADERS" | awk -F': ' 'NF>1 {printf "%s: %s\n", tolower($1), substr($0, length($1)+3); next} {print}'
    return $rc
}

# s3_header BUCKET/KEY NAME: the value of one response header of a HEAD (e.g. content-length,
# etag, x-amz-meta-sha256); status 1 if the object is absent.
s3_header() {
    local h
    h=$(s3_head "$1") || return 1
    awk -v n="$(tr 'A-Z' 'a-z' <<<"$2")" -F': ' '$1 == n {print substr($0, length($1)+3); exit}' <<<"$h"
}

# s3_exists BUCKET/KEY
s3_exists() { s3_curl HEAD "$(s3__path "$1")" UNSIGNED-PAYLOAD -I >/dev/null; }

# s3_delete BUCKET/KEY
s3_delete() { s3_curl DELETE "$(s3__path "$1")" UNSIGNED-PAYLOAD; }

# s3_list BUCKET [PREFIX]: every key (decoded), one per line, in S3 order (ListObjectsV2, all
# pages). Keys with a newline in them would print over two lines.
s3_list() {
    local bucket=$1 prefix=${2:-} token="" q page=0
    local keys=$T_TMP/s3.keys
    : >"$keys"
    while :; do
        page=$((page + 1))
        [ $page -le 10000 ] || return 1
        # parameters in sorted order: continuation-token, list-type, prefix
        q="?"
        [ -n "$token" ] && q+="continuation-token=$(urlencode "$token")&"
        q+="list-type=2"
        [ -n "$prefix" ] && q+="&prefix=$(urlencode "$prefix")"
        s3_curl GET "/$bucket$q" UNSIGNED-PAYLOAD || return 1
        token=$("$T_PY" - "$S3_BODY" "$keys" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
with open(sys.argv[2], "a", encoding="utf-8") as f:
    for c in root.iter(ns + "Contents"):
        f.write(c.find(ns + "Key").text + "\n")
trunc = (root.findtext(ns + "IsTruncated") or "false") == "true"
print(root.findtext(ns + "NextContinuationToken") or "" if trunc else "")
PY
        ) || return 1
        [ -n "$token" ] || break
    done
    cat "$keys"
}

# s3_count BUCKET [PREFIX]: number of objects.
s3_count() {
    local out
    out=$(s3_list "$@") || return 1
    if [ -z "$out" ]; then echo 0; else printf '%s\n' "$out" | wc -l; fi
}

# ---------- fault proxy ----------------------------------------------------------------------
# fp_start [RULE...]: start tests/faults/faultproxy.py in front of radosgw (after with_rgw).
# Sets FP_PORT FP_ENDPOINT FP_PID FP_CONTROL FP_STATS FP_LOG; stopped when the suite exits.
# Extra proxy options: FP_OPTS (word-split); FP_UPSTREAM_PORT (default $RGW_PORT).
fp_start() {
    local dir=$T_TMP/faultproxy.$RANDOM
    mkdir -p "$dir"
    FP_CONTROL=$dir/rules
    FP_STATS=$dir/stats.json
    FP_LOG=$dir/proxy.log
    : >"$FP_CONTROL"
    local args=() r
    for r in "$@"; do args+=(--rule "$r"); done
    # shellcheck disable=SC2086
    "$T_PY" "$T_LIB_DIR/faults/faultproxy.py" --port 0 --upstream-port "${FP_UPSTREAM_PORT:-${RGW_PORT:?with_rgw first}}" \
        --control "$FP_CONTROL" --stats "$FP_STATS" --log "$FP_LOG" --port-file "$dir/port" \
        --max-seconds "${FP_MAX_SECONDS:-1800}" ${FP_OPTS:-} "${args[@]}" \
        >"$dir/stdout" 2>"$dir/stderr" </dev/null &
    FP_PID=$!
    t_on_exit fp__kill "$FP_PID"
    local i
    for ((i = 0; i < 200; i++)); do
        [ -s "$dir/port" ] && break
        kill -0 "$FP_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ ! -s "$dir/port" ]; then
        cat "$dir/stderr" >&2
        t_fail "faultproxy did not start"
        return 1
    fi
    FP_PORT=$(<"$dir/port")
    FP_ENDPOINT=http://127.0.0.1:$FP_PORT
    export FP_PORT FP_ENDPOINT FP_PID FP_CONTROL FP_STATS FP_LOG
}

fp__kill() { # PID: SIGTERM, wait (bounded), SIGKILL; only if PID still is a faultproxy
    local i
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q faultproxy.py || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
}

# fp_stop: stop the proxy now.
fp_stop() { fp__kill "$FP_PID"; wait "$FP_PID" 2>/dev/null || true; }

# fp_rules [RULE...]: replace the control-file rules (no argument: no faults). Takes effect on
# the next request.
fp_rules() {
    local r
    printf '%s\n' "$@" >"$FP_CONTROL.tmp"
    mv -f "$FP_CONTROL.tmp" "$FP_CONTROL"
}

# fp_reset: zero the proxy's counters (and rule counters).
fp_reset() { curl -s -m 5 -X POST "$FP_ENDPOINT/__faultproxy/reset" >/dev/null; }

# fp_stat PATH: one value from the stats, e.g. fp_stat requests, fp_stat faults.503slowdown,
# fp_stat responses.200 (0 when absent).
fp_stat() {
    curl -s -m 5 "$FP_ENDPOINT/__faultproxy/stats" | "$T_PY" -c '
import json, sys
v = json.load(sys.stdin)
for p in sys.argv[1].split("."):
    v = v.get(p, 0) if isinstance(v, dict) else 0
print(v)' "$1"
}

# ---------- imgsync suites -------------------------------------------------------------------
# imgsync_env ENDPOINT: a fresh bucket ($B) and the environment imgsync reads (after with_rgw);
# a private HOME so no ~/.aws of the machine leaks in.
imgsync_env() {
    B=$(t_bucket)
    s3_mkbucket "$B" || t_die "cannot create bucket $B"
    export IMGSYNC_SPOOL=$T_TMP/spool IMGSYNC_BUCKET=$B IMGSYNC_ENDPOINT=$1
    export AWS_ACCESS_KEY_ID=$RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$RGW_SECRET_KEY
    export AWS_REGION=${RGW_REGION:-us-east-1} HOME=$T_TMP/home
    unset AWS_PROFILE AWS_SESSION_TOKEN IMGSYNC_CONFIG
    mkdir -p "$HOME"
}

# t_fixture NAME: a fixture of one test's own (after imgsync_env): an empty directory
# TD=$T_TMP/t/NAME, a fresh state on T_BACKEND (t_state: IMGSYNC_DB=$TD/state.db or a new
# PostgreSQL database), the spool IMGSYNC_SPOOL=$TD/spool, the key prefix IMGSYNC_PREFIX=NAME/
# and a new bucket B (IMGSYNC_BUCKET). NAME: a-z 0-9 -.
t_fixture() {
    TD=$T_TMP/t/$1
    rm -rf "$TD"
    mkdir -p "$TD" || t_die "cannot create $TD"
    B=$(t_bucket "$1")
    s3_mkbucket "$B" || t_die "cannot create bucket $B"
    t_state "$1" "$TD/state.db"
    export IMGSYNC_SPOOL=$TD/spool IMGSYNC_PREFIX=$1/ IMGSYNC_BUCKET=$B
}

# json FILE EXPR: evaluate a Python expression over the JSON document d in FILE.
json() { "$T_PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# counts EXPR: json over `imgsync status --json`, e.g. counts 'd["counts"]["pending"]'.
counts() { imgsync_run status --json >"$T_TMP/st.json" && json "$T_TMP/st.json" "$1"; }

# verify_uploaded: every image the state file calls uploaded is in $B, byte for byte.
verify_uploaded() {
    local key path bad=0 n=0
    while IFS=$'\t' read -r key path; do
        n=$((n + 1))
        s3_get "$B/$key" "$T_TMP/got" && cmp -s "$path" "$T_TMP/got" || { bad=1; break; }
    done < <(imgsync_run list --json --state uploaded | "$T_PY" -c '
import json, sys
for r in json.load(sys.stdin): print(r["key"] + "\t" + r["path"])')
    [ $bad = 0 ] || { t_fail "object $key does not match $path"; return 1; }
    echo "     verified $n objects byte for byte"
}
