#!/usr/bin/env bash
# What operators and monitoring see: `status --check` answers every usage, configuration and
# state-file problem as a plugin (one "IMGSYNC UNKNOWN - ..." line on stdout, exit 3); text that
# came from a server or a file name is escaped in every human-readable output (list, status,
# --check, error lines, logfmt) while JSON stays exact; credential options are refused without
# their values appearing anywhere; a failed last pass makes `status --check` at least WARNING.
. "$(dirname "$0")/../lib.sh"
with_rgw
fp_start || t_die "no fault proxy"
imgsync_env "$FP_ENDPOINT"
export T_CMD_TIMEOUT=120
ESC=$'\e'

# fresh NAME [COUNT]: a new state file with COUNT (default 3) pending images, no faults.
fresh() {
    export IMGSYNC_DB=$T_TMP/$1.db IMGSYNC_PREFIX=$1/ IMGSYNC_SPOOL=$T_TMP/spool-$1
    imgsync_run seed --count "${2:-3}" --min-bytes 2K --max-bytes 4K >/dev/null 2>&1 ||
        t_die "seed $1"
    fp_rules
}
# add_run DB OUTCOME STARTED_AGO FINISHED_AGO [MESSAGE]: a finished pass in the runs table.
add_run() {
    "$T_PY" - "$@" <<'EOF'
import sqlite3, sys, time
db, outcome, started, finished = sys.argv[1:5]
message = sys.argv[5] if len(sys.argv) > 5 else ""
now = int(time.time())
c = sqlite3.connect(db)
c.execute("insert into runs (started_at, finished_at, pid, outcome, message) values (?,?,?,?,?)",
          (now - int(started), now - int(finished), 1, outcome, message))
c.commit()
EOF
}
# plugin_unknown ARGS...: `imgsync ARGS` answers as a plugin: exit 3, exactly one line on stdout,
# "IMGSYNC UNKNOWN - ..." (set by the caller: IMGSYNC_DB and the like).
plugin_unknown() {
    assert_exit 3 imgsync_run "$@" &&
        assert_eq 1 "$(wc -l <"$T_OUT")" "stdout lines of: $*" &&
        assert_match "$(<"$T_OUT")" '^IMGSYNC UNKNOWN - [^|]+$' "stdout of: $*"
}
# no_raw_controls FILE WHAT: FILE holds no ESC, no C1 control (UTF-8 C2 80-9F) and no DEL.
no_raw_controls() {
    "$T_PY" - "$1" <<'EOF' || t_fail "$2 holds raw control characters: $(od -c "$1" | head -5)"
import re, sys
data = open(sys.argv[1], "rb").read()
sys.exit(1 if re.search(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", data) else 0)
EOF
}

# ---------- item 1: --check answers every problem as a plugin ------------------------------------
if t_begin "status --check: usage, config and state-file errors are one UNKNOWN line, exit 3"; then
    fresh unknown
    printf 'bogus_key = 1\n' >"$T_TMP/bad.conf"
    printf 'not sqlite at all\n' >"$T_TMP/notsqlite.db"
    ok=1
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        eval "args=($line)"
        plugin_unknown "${args[@]}" || { ok=0; break; }
    done <<EOF
status --check --warn-pending abc
status --check --crit-age 5parsecs
status --check --warn-success-age soon
status --check --crit-failed-passes 0
status --check --window 0s
status --check --window abc
status --check --no-such-option
status --check --no-such-option=1 extra
status --check --warn-pending 10 --crit-pending 5
--log-format yaml status --check
--config "$T_TMP/bad.conf" status --check
--config "$T_TMP/missing.conf" status --check
--db "$T_TMP/missing.db" status --check
--db "$T_TMP/notsqlite.db" status --check
--check status
statsu --check
EOF
    [ $ok = 1 ] &&
        # The same errors without --check keep the command's own status and stderr line.
        assert_exit 2 imgsync_run status --warn-pending abc && assert_eq "" "$(<"$T_OUT")" &&
        assert_match "$(<"$T_ERR")" '^imgsync: ' &&
        assert_exit 4 imgsync_run --db "$T_TMP/missing.db" status &&
        # `imgsync check` is another command, and `upload --check` an upload's usage error.
        assert_exit 2 imgsync_run upload --check && assert_eq "" "$(<"$T_OUT")" && t_ok
fi

if t_begin "status --check: a state file locked by another program is UNKNOWN, exit 3"; then
    fresh locked
    "$T_PY" - "$IMGSYNC_DB" "$T_TMP/locked.ready" <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("pragma locking_mode = exclusive")
c.execute("begin exclusive")
open(sys.argv[2], "w").close()
time.sleep(20)
EOF
    LOCKER=$!
    for _ in $(seq 100); do [ -e "$T_TMP/locked.ready" ] && break; sleep 0.1; done
    plugin_unknown status --check && assert_contains "$(<"$T_OUT")" "lock" && t_ok
    kill "$LOCKER" 2>/dev/null
    wait "$LOCKER" 2>/dev/null
fi

if t_begin "status --check from the environment answers as a plugin too"; then
    fresh envcheck
    IMGSYNC_CHECK=true plugin_unknown status --window 0s && t_ok
fi

# ---------- item 2: escaped human output, exact JSON ----------------------------------------------
# A server whose error message holds a colour sequence, a CSI as a C1 control, a forged line and
# a DEL (faultproxy URL-decodes rule values).
HOSTILE='%1b%5b31mEVIL%1b%5b0m%c2%9b2J%0aimgsync%3a%20all%20good%7f'
if t_begin "list escapes a server's error text; list --json and the JSON log keep it exact"; then
    fresh hostile 2
    fp_rules "error:method=PUT:status=400:code=EntityTooLarge:message=$HOSTILE"
    assert_exit 1 imgsync_run upload --concurrency 1 &&
        cp "$T_ERR" "$T_TMP/hostile.log" &&
        assert_exit 0 imgsync_run list &&
        no_raw_controls "$T_OUT" "list" &&
        assert_eq 3 "$(wc -l <"$T_OUT")" "list lines (header + 2 images)" &&
        assert_contains "$(<"$T_OUT")" '\x1b[31mEVIL\x1b[0m\u009b2J\nimgsync: all good\x7f' &&
        no_raw_controls "$T_TMP/hostile.log" "the logfmt log" &&
        assert_exit 0 imgsync_run list --json &&
        assert_eq True "$(json "$T_OUT" 'all(r["last_error"].endswith("\x1b[31mEVIL\x1b[0m\x9b2J\nimgsync: all good\x7f") for r in d)')" &&
        fp_rules && imgsync_run retry --all >/dev/null 2>&1 &&
        fp_rules "error:method=PUT:status=400:code=EntityTooLarge:message=$HOSTILE" &&
        assert_exit 1 imgsync_run --log-format json upload --concurrency 1 &&
        assert_eq True "$("$T_PY" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
print(any("\x1b[31mEVIL\x1b[0m\x9b2J\nimgsync: all good\x7f" in str(v) for l in lines for v in l.values()))' "$T_ERR")" "the JSON log keeps the text exact" &&
        t_ok
    fp_rules
fi

if t_begin "status text, --check and error lines escape text from the state file"; then
    fresh hostilerun
    add_run "$IMGSYNC_DB" failed 100 90 $'denied\e[2J\nIMGSYNC OK - forged | x=1\xc2\x9b'
    assert_exit 1 imgsync_run status --check &&
        assert_eq 1 "$(wc -l <"$T_OUT")" "--check lines" && no_raw_controls "$T_OUT" "--check" &&
        assert_contains "$(<"$T_OUT")" 'last pass failed: denied\x1b[2J\nIMGSYNC OK - forged / x=1\u009b |' &&
        assert_exit 0 imgsync_run status && no_raw_controls "$T_OUT" "status" &&
        assert_contains "$(<"$T_OUT")" '(denied\x1b[2J\nIMGSYNC OK - forged | x=1\u009b)' &&
        assert_exit 0 imgsync_run status --json &&
        assert_eq True "$(json "$T_OUT" 'd["last_run"]["message"] == "denied\x1b[2J\nIMGSYNC OK - forged | x=1\x9b"')" &&
        assert_exit 4 imgsync_run --db "$T_TMP/x${ESC}[31m"$'\n'"y.db" status &&
        assert_eq 1 "$(wc -l <"$T_ERR")" "stderr lines" && no_raw_controls "$T_ERR" "the error line" &&
        assert_contains "$(<"$T_ERR")" 'x\x1b[31m\ny.db' && t_ok
fi

# ---------- item 3: credentials on the command line --------------------------------------------
SECRET=wJalrXUtnFEMIexampleSECRETvalue42
if t_begin "credential options are refused without echoing their values"; then
    fresh creds
    ok=1
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        eval "args=($line)"
        assert_exit 2 imgsync_run "${args[@]}" &&
            assert_not_contains "$(cat "$T_OUT" "$T_ERR")" "$SECRET" "output of: $line" &&
            assert_contains "$(<"$T_ERR")" "not accepted on the command line" "stderr of: $line" ||
            { ok=0; break; }
    done <<EOF
upload --secret-access-key $SECRET
upload --aws-secret-access-key=$SECRET
upload --aws_secret_access_key $SECRET
--password $SECRET upload
check --session-token $SECRET
add --aws-session-token=$SECRET $T_TMP/spool-creds
upload --secret $SECRET --concurrency 2
EOF
    [ $ok = 1 ] &&
        # Any unexpected word after an option stays unshown, whatever the option's name.
        assert_exit 2 imgsync_run upload --mystery-flag "$SECRET" &&
        assert_not_contains "$(cat "$T_OUT" "$T_ERR")" "$SECRET" &&
        assert_contains "$(<"$T_ERR")" "--mystery-flag" &&
        assert_exit 2 imgsync_run upload --mystery-flag="$SECRET" &&
        assert_not_contains "$(cat "$T_OUT" "$T_ERR")" "$SECRET" &&
        assert_exit 2 imgsync_run retry --mystery "$SECRET" &&
        assert_not_contains "$(cat "$T_OUT" "$T_ERR")" "$SECRET" "retry: CLI11 takes it for an id" &&
        assert_exit 2 imgsync_run retry --mystery value &&
        assert_exit 2 imgsync_run --log-format json upload --concurrency 2 --mystery "$SECRET" &&
        assert_not_contains "$(cat "$T_OUT" "$T_ERR")" "$SECRET" &&
        # As a plugin: UNKNOWN, and still nothing of the value.
        plugin_unknown status --check --secret-access-key "$SECRET" &&
        assert_not_contains "$(cat "$T_OUT" "$T_ERR")" "$SECRET" && t_ok
fi

if t_begin "a shared credentials file that cannot be read is an error naming it, not skipped"; then
    fresh unreadable
    # A directory where the file should be: open() works, read() fails (root reads any mode).
    mkdir -p "$T_TMP/creds-dir"
    AWS_SHARED_CREDENTIALS_FILE=$T_TMP/creds-dir assert_exit 2 imgsync_run upload &&
        assert_contains "$(<"$T_ERR")" "cannot read $T_TMP/creds-dir" &&
        AWS_CONFIG_FILE=$T_TMP/creds-dir assert_exit 2 imgsync_run check &&
        assert_contains "$(<"$T_ERR")" "cannot read $T_TMP/creds-dir" &&
        assert_exit 0 imgsync_run status && t_ok
fi

if t_begin "--help never shows a credential"; then
    printf 'aws_access_key_id = AKIAHELPTEST\naws_secret_access_key = %s\n' "$SECRET" >"$T_TMP/creds.conf"
    chmod 600 "$T_TMP/creds.conf"
    ok=1
    for cmd in "" upload status check add list; do
        # shellcheck disable=SC2086
        AWS_SECRET_ACCESS_KEY=$SECRET AWS_SESSION_TOKEN=$SECRET IMGSYNC_CONFIG=$T_TMP/creds.conf \
            assert_exit 0 imgsync_run $cmd --help &&
            assert_not_contains "$(cat "$T_OUT" "$T_ERR")" "$SECRET" "help of '$cmd'" &&
            assert_not_contains "$(cat "$T_OUT" "$T_ERR")" "AKIAHELPTEST" "help of '$cmd'" ||
            { ok=0; break; }
    done
    [ $ok = 1 ] && t_ok
fi

# ---------- item 4: a failed last pass ------------------------------------------------------------
if t_begin "status --check: a failed pass is WARNING, failed passes in a row CRITICAL, success clears"; then
    fresh passes 1
    add_run "$IMGSYNC_DB" ok 1000 990
    assert_exit 0 imgsync_run status --check && assert_match "$(<"$T_OUT")" '^IMGSYNC OK - ' &&
        add_run "$IMGSYNC_DB" failed 600 590 "AccessDenied" &&
        assert_exit 1 imgsync_run status --check &&
        assert_match "$(<"$T_OUT")" '^IMGSYNC WARNING - .*last pass failed: AccessDenied \|.* failed_passes=1;1;;0' &&
        add_run "$IMGSYNC_DB" failed 300 290 "AccessDenied" &&
        assert_exit 1 imgsync_run status --check --crit-failed-passes 3 &&
        add_run "$IMGSYNC_DB" failed 200 190 "AccessDenied" &&
        assert_exit 2 imgsync_run status --check --crit-failed-passes 3 &&
        assert_contains "$(<"$T_OUT")" "last 3 passes failed (>= 3)" &&
        assert_exit 2 imgsync_run status --check --crit-success-age 10m &&
        assert_exit 0 imgsync_run status --prometheus "$T_TMP/passes.prom" &&
        assert_contains "$(<"$T_TMP/passes.prom")" $'\nimgsync_last_run_success 0\n' &&
        assert_eq "$(json <(imgsync_run status --json) 'd["runs"][-1]["finished_at"]')" \
            "$(json <(imgsync_run status --json) 'd["last_success_at"]')" "last_success_at" &&
        add_run "$IMGSYNC_DB" ok 100 90 &&
        assert_exit 0 imgsync_run status --check --crit-failed-passes 3 --crit-success-age 10m &&
        t_ok
fi

if t_begin "a pass refused by the server: exit 3, then status --check is at least WARNING"; then
    fresh denied 4
    fp_rules "error:method=PUT:status=403:code=AccessDenied"
    assert_exit 3 imgsync_run upload --concurrency 1
    fp_rules
    imgsync_run status --check >"$T_TMP/denied.check" 2>&1
    assert_match "$?" '^[12]$' "status --check exit after a failed pass" &&
        assert_contains "$(<"$T_TMP/denied.check")" "last pass failed" &&
        assert_exit 0 imgsync_run status --json &&
        assert_eq failed "$(json "$T_OUT" 'd["last_run"]["outcome"]')" &&
        assert_eq None "$(json "$T_OUT" 'd["last_success_at"]')" && t_ok
fi

if t_begin "status while a pass runs: images claimed, requests in flight, the pass, its seconds"; then
    fresh inflight 3
    # Every PUT is held 8 s by the proxy: the pass has 2 requests in flight for that long.
    fp_rules "stall:method=PUT:seconds=8"
    imgsync_bg upload --concurrency 2
    seen=""
    for _ in $(seq 1 60); do # bounded: 12 s at most
        imgsync_run status --json >"$T_TMP/inflight.json" 2>/dev/null &&
            seen=$(json "$T_TMP/inflight.json" 'd["in_flight"]["requests"]') &&
            [ "$seen" = 2 ] && break
        sleep 0.2
    done
    assert_eq 2 "$seen" "requests in flight seen by status --json" &&
        assert_exit 0 imgsync_run status &&
        assert_match "$(<"$T_OUT")" $'\nuploading: +[23] images claimed, 2 requests in flight \\(1 pass running\\)\n' &&
        assert_match "$(<"$T_OUT")" $'\nrunning: +#[0-9]+ on [^ ]+ \\(pid '"$IMGSYNC_PID"'\) for [0-9]+s: [23] images held, 2 requests in flight' &&
        assert_exit 0 imgsync_run status --prometheus "$T_TMP/inflight.prom" &&
        assert_match "$(<"$T_TMP/inflight.prom")" $'\nimgsync_requests_in_flight\\{host_id="[^"]+"\\} 2\n'
    ok=$?
    fp_rules
    wait "$IMGSYNC_PID"
    rc=$?
    [ $ok = 0 ] && assert_eq 0 "$rc" "the pass's exit status" &&
        assert_exit 0 imgsync_run status &&
        assert_match "$(<"$T_OUT")" $'\nuploading: +0 images\n' &&
        assert_match "$(<"$T_OUT")" 'took [0-9]+\.[0-9]{3}s: 3 uploaded' &&
        # measured, not the whole seconds between started_at and finished_at
        assert_eq 1 "$("$T_PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT seconds IS NOT NULL FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0])' "$IMGSYNC_DB")" "the pass's measured seconds recorded" &&
        assert_exit 0 imgsync_run status --json &&
        assert_eq 0 "$(json "$T_OUT" 'd["in_flight"]["requests"]')" &&
        assert_match "$(json "$T_OUT" 'd["last_run"]["duration_seconds"]')" '^[0-9]+(\.[0-9]{1,3})?$' && t_ok
fi

t_finish
