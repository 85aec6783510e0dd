#!/usr/bin/env bash
# What --db accepts and refuses (README, "Several hosts"), against the throwaway PostgreSQL of
# tests/pg/start-pg.sh and radosgw: a password inside a URI on the command line is refused and
# printed nowhere, the same URI from IMGSYNC_DB or the config file is accepted (and never
# printed), other URI schemes are refused instead of becoming a relative path, postgres:// is the
# same as postgresql://, an unreachable server is exit 4 with one line naming host and port, and a
# PostgreSQL restart in the middle of a pass loses nothing.
# imgsync-test: backends pg
# imgsync-test: pg-asan
export T_BACKEND=pg # its tests are about PostgreSQL URIs, whatever the caller's backend
. "$(dirname "$0")/../lib.sh"
with_rgw
with_pg
imgsync_env "$RGW_ENDPOINT"

# The test role's real password (from the cluster's PGPASSFILE): for the URIs that must be accepted.
PW=$(awk -F: -v p="$PGPORT" -v u="$PGUSER" '$1 == "127.0.0.1" && $2 == p && $4 == u {print $5; exit}' "$PGPASSFILE")
[ -n "$PW" ] || t_die "no password for $PGUSER in $PGPASSFILE"
HOSTPORT=127.0.0.1:$PGPORT

# nowhere SECRET: SECRET is in neither the last command's stdout nor its stderr, nor in any file
# under the test's directory (spool, cwd) or HOME but the config file c.conf the test wrote.
nowhere() {
    local files
    assert_not_contains "$(<"$T_OUT")" "$1" "stdout" &&
        assert_not_contains "$(<"$T_ERR")" "$1" "stderr" &&
        files=$(grep -rlsF --exclude=c.conf -- "$1" "$TD" "$HOME") &&
        t_fail "the secret is in a file: $(head -n 3 <<<"$files")"
    [ "$T_STATE" != failed ]
}
# one_line: the last command's stderr is exactly one line
one_line() { assert_eq 1 "$(wc -l <"$T_ERR")" "lines on stderr ($(head -c 300 "$T_ERR"))"; }
# db_of VALUE: the database name at the end of a postgresql:// URI
db_of() { printf '%s' "${1##*/}"; }

if t_begin "a password in a --db URI on the command line: exit 2, the message says why, the secret appears nowhere"; then
    t_fixture cli-secret
    cd "$TD" || t_die "cd"
    secret=Zq9notherealpw4Kx7
    uri=postgresql://$PGUSER:$secret@$HOSTPORT/$(db_of "$IMGSYNC_DB")
    ok=1
    for cmd in status "seed --count 1" upload; do
        # shellcheck disable=SC2086
        assert_exit 2 imgsync_run --db "$uri" $cmd && one_line &&
            assert_match "$(<"$T_ERR")" "[Pp]assword" && nowhere "$secret" || { ok=0; break; }
    done
    # the same refusal with the password as a query parameter
    [ $ok = 1 ] && assert_exit 2 imgsync_run --db "postgresql://$PGUSER@$HOSTPORT/x?password=$secret" status &&
        one_line && nowhere "$secret" &&
        assert_eq "" "$(find "$TD" -mindepth 1 -maxdepth 1 -name 'postgres*')" "what the refusal created in the working directory" && t_ok
    cd "$T_TMP" || t_die "cd"
fi

if t_begin "the same URI with its password from IMGSYNC_DB or the config file is accepted and never printed"; then
    # (nor written: debug logs, JSON logs, the metrics file and status --prometheus are checked)
    t_fixture env-secret
    uri=postgresql://$PGUSER:$PW@$HOSTPORT/$(db_of "$IMGSYNC_DB")
    printf 'db = %s\n' "$uri" >"$TD/c.conf"
    chmod 600 "$TD/c.conf"
    # PGPASSFILE=/dev/null: the password can only come from the URI
    assert_exit 0 env PGPASSFILE=/dev/null IMGSYNC_DB="$uri" "$IMGSYNC_BIN" seed --count 3 && nowhere "$PW" &&
        assert_exit 0 env PGPASSFILE=/dev/null IMGSYNC_DB="$uri" "$IMGSYNC_BIN" status --json && nowhere "$PW" &&
        assert_eq 3 "$(json "$T_OUT" 'd["counts"]["pending"]')" &&
        assert_exit 0 env -u IMGSYNC_DB PGPASSFILE=/dev/null "$IMGSYNC_BIN" --config "$TD/c.conf" status --json &&
        nowhere "$PW" && assert_eq 3 "$(json "$T_OUT" 'd["counts"]["pending"]')" &&
        assert_exit 0 env -u IMGSYNC_DB PGPASSFILE=/dev/null "$IMGSYNC_BIN" --config "$TD/c.conf" list &&
        nowhere "$PW" &&
        assert_exit 0 env -u IMGSYNC_DB PGPASSFILE=/dev/null "$IMGSYNC_BIN" --config "$TD/c.conf" -v \
            --log-format json upload --metrics-file "$TD/upload.prom" && nowhere "$PW" &&
        assert_exit 0 env -u IMGSYNC_DB PGPASSFILE=/dev/null "$IMGSYNC_BIN" --config "$TD/c.conf" -v \
            status --prometheus "$TD/status.prom" && nowhere "$PW" &&
        assert_file_exists "$TD/upload.prom" && assert_file_exists "$TD/status.prom" &&
        assert_eq 3 "$(counts 'd["counts"]["uploaded"]')" && t_ok
fi

if t_begin "URIs keep the precedence of --db: command line over IMGSYNC_DB over the config file"; then
    t_fixture precedence
    t_newdb precedence-file
    from_file=$T_NEWDB
    t_newdb precedence-env
    from_env=$T_NEWDB
    t_newdb precedence-cli
    from_cli=$T_NEWDB
    printf 'db = %s\n' "$from_file" >"$TD/c.conf"
    rows() { t_sql "SELECT count(*) FROM images" "$1" 2>/dev/null || echo none; }
    assert_exit 0 env -u IMGSYNC_DB "$IMGSYNC_BIN" --config "$TD/c.conf" seed --count 1 &&
        assert_exit 0 env IMGSYNC_DB="$from_env" "$IMGSYNC_BIN" --config "$TD/c.conf" seed --count 2 &&
        assert_exit 0 env IMGSYNC_DB="$from_env" "$IMGSYNC_BIN" --config "$TD/c.conf" --db "$from_cli" seed --count 3 &&
        assert_eq "1 2 3" "$(rows "$from_file") $(rows "$from_env") $(rows "$from_cli")" "images in file/env/cli databases" && t_ok
fi

if t_begin "a wrong password from the environment: exit 4, one line, the password printed nowhere"; then
    t_fixture wrong-pw
    bad=Wr0ngpw${RANDOM}xyz
    assert_exit 4 env PGPASSFILE=/dev/null IMGSYNC_DB="postgresql://$PGUSER:$bad@$HOSTPORT/$(db_of "$IMGSYNC_DB")" \
        "$IMGSYNC_BIN" status && one_line && nowhere "$bad" && assert_contains "$(<"$T_ERR")" "127.0.0.1" && t_ok
fi

if t_begin "--db ftp://x is refused with exit 2, and no directory ftp: appears"; then
    t_fixture other-scheme
    cd "$TD" || t_die "cd"
    assert_exit 2 imgsync_run --db ftp://x status && one_line && assert_contains "$(<"$T_ERR")" "ftp" &&
        assert_exit 2 imgsync_run --db ftp://host/dir/state.db seed --count 1 && one_line &&
        assert_exit 2 env IMGSYNC_DB=mysql://u@127.0.0.1/db "$IMGSYNC_BIN" status && one_line &&
        assert_eq "" "$(find "$TD" -mindepth 1 -maxdepth 1 \( -name 'ftp*' -o -name 'mysql*' \))" "what the refusals created" && t_ok
    cd "$T_TMP" || t_die "cd"
fi

if t_begin "postgres:// names the same database as postgresql://"; then
    t_fixture scheme
    cd "$TD" || t_die "cd"
    short=postgres://${IMGSYNC_DB#postgresql://}
    assert_exit 0 imgsync_run --db "$short" seed --count 2 &&
        assert_exit 0 imgsync_run --db "$IMGSYNC_DB" status --json &&
        assert_eq 2 "$(json "$T_OUT" 'd["counts"]["pending"]')" &&
        assert_eq "" "$(find "$TD" -mindepth 1 -maxdepth 1 -name 'postgres*')" "what --db postgres:// created in the working directory" && t_ok
    cd "$T_TMP" || t_die "cd"
fi

if t_begin "an unreachable server: exit 4 and one line naming host and port"; then
    t_fixture unreachable
    port=$(free_port)
    ok=1
    for cmd in status upload; do
        t0=$SECONDS
        assert_exit 4 env PGCONNECT_TIMEOUT=5 "$IMGSYNC_BIN" --db "postgresql://$PGUSER@127.0.0.1:$port/x" $cmd &&
            one_line && assert_contains "$(<"$T_ERR")" "127.0.0.1" && assert_contains "$(<"$T_ERR")" "$port" ||
            { ok=0; break; }
        echo "     $cmd: $(<"$T_ERR") ($((SECONDS - t0)) s)"
    done
    [ $ok = 1 ] && t_ok
fi

if t_begin "PostgreSQL restarts in the middle of a pass: the pass stops cleanly or completes, nothing lost, the next pass finishes"; then
    t_fixture restart
    n=120
    imgsync_run seed --count $n --min-bytes 4K --max-bytes 16K >/dev/null 2>&1 || t_die "seed"
    imgsync_bg upload --concurrency 4 --rate 40 --lease 4s
    pid=$IMGSYNC_PID
    for i in $(seq 1 100); do # until some images are uploaded (bounded: 20 s)
        [ "$(t_sql "SELECT count(*) FROM images WHERE state = 'uploaded'" 2>/dev/null || echo 0)" -ge 10 ] && break
        sleep 0.2
    done
    pg_restart || t_die "restart"
    rc=0
    for i in $(seq 1 600); do # the pass ends (bounded: 60 s)
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    wait "$pid"
    rc=$?
    echo "     the pass across the restart: exit $rc; $(grep -v '^event=' "$IMGSYNC_BG_ERR" | tail -n 2 | tr '\n' ' ')"
    if [ $rc != 0 ] && [ $rc != 4 ]; then
        t_fail "exit $rc across a restart (0 or 4 expected): $(tail -n 5 "$IMGSYNC_BG_ERR")"
    elif [ $rc = 4 ] && ! grep -q "$HOSTPORT" "$IMGSYNC_BG_ERR"; then
        t_fail "exit 4 without a line naming $HOSTPORT: $(tail -n 5 "$IMGSYNC_BG_ERR")"
    fi
    sleep 5 # what the stopped pass held is free once its leases (4 s) expire
    assert_exit 0 imgsync_run upload --concurrency 4 &&
        assert_eq $n "$(counts 'd["counts"]["uploaded"]')" &&
        assert_eq $n "$(s3_count "$B" restart/)" && verify_uploaded && t_ok
fi

t_finish
