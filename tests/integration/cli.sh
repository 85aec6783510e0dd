#!/usr/bin/env bash
# The command line as an operator meets it: bash completion (generated from the parser's own
# option table by `imgsync completion bash`, sourced here and driven through COMP_WORDS), the
# "did you mean" of a mistyped command or option, what COMMAND --help says, and --version.
# No server needed.
. "$(dirname "$0")/../lib.sh"

export HOME=$T_TMP/home IMGSYNC_CONFIG=$T_TMP/empty.conf
mkdir -p "$HOME"
: >"$IMGSYNC_CONFIG"

# complete WORD...: COMPREPLY for the command line "imgsync WORD..." with the cursor on the last
# word (give "" to complete an empty word), one per line, sorted, from a fresh bash.
complete_words() {
    bash -c '. "$1" && shift && COMP_WORDS=(imgsync "$@") && COMP_CWORD=$# &&
        COMP_LINE="${COMP_WORDS[*]}" && COMP_POINT=${#COMP_LINE} && _imgsync &&
        printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$T_TMP/completion.bash" "$@"
}
"$IMGSYNC_BIN" completion bash >"$T_TMP/completion.bash" 2>"$T_TMP/completion.err"
COMPLETION_RC=$?

if t_begin "completion bash: a script bash accepts, registered for imgsync"; then
    assert_eq 0 "$COMPLETION_RC" "imgsync completion bash: $(<"$T_TMP/completion.err")" &&
        assert_exit 0 bash -n "$T_TMP/completion.bash" &&
        assert_contains "$(bash -c '. "$1"; complete -p imgsync' _ "$T_TMP/completion.bash")" \
            "complete -F _imgsync imgsync" && t_ok
fi

if t_begin "completion of commands"; then
    assert_eq "status" "$(complete_words sta)" &&
        assert_eq "$(printf '%s\n' seed status)" "$(complete_words s)" &&
        assert_eq "$(printf '%s\n' add check forget list migrate presign prune retry seed status upload verify)" \
            "$(complete_words "")" &&
        assert_eq "upload" "$(complete_words --db /x/state.db up)" "after a global option's value" &&
        assert_eq "" "$(complete_words comp)" "the hidden completion command is not offered" && t_ok
fi

if t_begin "completion of each command's options and the global ones"; then
    assert_eq "--state" "$(complete_words list --st)" &&
        assert_eq "$(printf '%s\n' --max-attempts --max-bytes --max-duration --max-images)" \
            "$(complete_words upload --max-)" &&
        assert_eq "--log-format" "$(complete_words upload --log)" "global option after the command" &&
        assert_eq "" "$(complete_words list --conc)" "upload's option is not list's" && t_ok
fi

if t_begin "completion of enumerated values, also after '='"; then
    assert_eq "$(printf '%s\n' uploaded uploading)" "$(complete_words list --state up)" &&
        assert_eq "failed" "$(complete_words list --state = f)" &&
        assert_eq "$(printf '%s\n' all failed pending uploaded uploading)" \
            "$(complete_words list --state =)" &&
        assert_eq "$(printf '%s\n' jpeg)" "$(complete_words seed --format j)" &&
        assert_eq "$(printf '%s\n' always auto never)" "$(complete_words upload --progress "")" &&
        assert_eq "json" "$(complete_words status --log-format j)" &&
        assert_eq "virtual" "$(complete_words --addressing v)" && t_ok
fi

if t_begin "completion: values of other options and add's paths complete as files"; then
    mkdir -p "$T_TMP/f" && : >"$T_TMP/f/state.db" && : >"$T_TMP/f/photo.jpg"
    assert_eq "$T_TMP/f/state.db" "$(complete_words --db "$T_TMP/f/st")" &&
        assert_eq "$T_TMP/f/photo.jpg" "$(complete_words add "$T_TMP/f/ph")" && t_ok
fi

if t_begin "completion offers every option each command's --help lists"; then
    missing=""
    for c in seed add list status upload retry check presign migrate forget verify prune; do
        got=$(complete_words "$c" -)
        for o in $(imgsync_run "$c" --help | grep -oE '^  +(-[a-z], )?--[a-z][a-z0-9-]*' |
            grep -oE -- '--[a-z][a-z0-9-]*'); do
            grep -qx -- "$o" <<<"$got" || missing+=" $c:$o"
        done
    done
    assert_eq "" "$missing" "options --help lists but completion does not offer" && t_ok
fi

if t_begin "a mistyped command is named, with the nearest one, exit 2"; then
    assert_exit 2 imgsync_run statu &&
        assert_eq 'imgsync: unknown command "statu"; did you mean "status"?' "$(<"$T_ERR")" &&
        assert_exit 2 imgsync_run --db "$T_TMP/x.db" uplaod &&
        assert_eq 'imgsync: unknown command "uplaod"; did you mean "upload"?' "$(<"$T_ERR")" &&
        assert_exit 2 imgsync_run frobnicate &&
        assert_contains "$(<"$T_ERR")" 'unknown command "frobnicate"; commands: add, check,' &&
        assert_exit 2 imgsync_run &&
        assert_contains "$(<"$T_ERR")" "no command given; commands: add," &&
        assert_exit 2 imgsync_run --bucket &&
        assert_eq "imgsync: --bucket: 1 required TEXT missing" "$(<"$T_ERR")" "an option's own problem" && t_ok
fi

if t_begin "an unknown option is named, with the nearest one, and never its value"; then
    assert_exit 2 imgsync_run status --chek &&
        assert_eq "imgsync: unknown option --chek; did you mean --check?" "$(<"$T_ERR")" &&
        assert_exit 2 imgsync_run upload --max-imagse=s3cr3tvalue &&
        assert_eq "imgsync: unknown option --max-imagse; did you mean --max-images?" "$(<"$T_ERR")" &&
        assert_exit 2 imgsync_run list --zzzzzzzz &&
        assert_eq "imgsync: unknown option --zzzzzzzz (imgsync list --help lists the options)" \
            "$(<"$T_ERR")" &&
        assert_exit 3 imgsync_run status --check --warn-pendin 5 &&
        assert_contains "$(<"$T_OUT")" "IMGSYNC UNKNOWN - unknown option --warn-pendin; did you mean --warn-pending?" &&
        t_ok
fi

if t_begin "COMMAND --help says where the global options are"; then
    bad=""
    for c in seed add list status upload retry check presign migrate forget verify prune; do
        h=$(imgsync_run "$c" --help)
        [[ $h == *"Global options (also after the command; imgsync --help describes them):"* &&
            $h == *"--db,"* && $h == *"--bucket,"* ]] || bad+=" $c"
    done
    assert_eq "" "$bad" "commands whose --help does not name the global options" && t_ok
fi

if t_begin "no option's help stops mid-sentence; --prefix names add and seed"; then
    # The description of each option: the indented lines after its name, joined.
    stops=""
    for c in "" seed add list status upload retry check presign migrate forget verify prune; do
        # shellcheck disable=SC2086
        stops+=$(imgsync_run $c --help | awk '
            /^  +-/ { if (d != "") print d; d = ""; split($0, a, "  +"); n = 0
                      for (i in a) n++; if (n > 2) { sub(/^ *[^ ].*[^ ]  +/, ""); d = $0 } next }
            /^   +[^ -]/ { sub(/^ +/, ""); d = d " " $0; next }
            { if (d != "") print d; d = "" }
            END { if (d != "") print d }' |
            grep -E ' (after|with|the|a|an|of|to|for|and|or|from|by|in)$' | sed 's/^/ | /')
    done
    h=$(imgsync_run --help)
    assert_eq "" "$stops" "descriptions ending in mid-sentence" &&
        assert_contains "$(imgsync_run upload --help)" "With --wait: give up after this long" &&
        assert_match "$(tr -s ' \n' '  ' <<<"$h")" '--prefix [^-]*applies to add and seed' && t_ok
fi

if t_begin "--version names the version and the commit"; then
    assert_exit 0 imgsync_run --version &&
        assert_match "$(<"$T_OUT")" '^imgsync [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{7,40}(-dirty)?|unknown: built from a source tree without git)\)$' &&
        t_ok
fi

if t_begin "the commit comes from git describe, or the tree says it had no git"; then
    mkdir -p "$T_TMP/nogit"
    assert_exit 0 cmake -DSRC="$T_TMP/nogit" -DOUT="$T_TMP/nogit.cpp" -P "$T_REPO_ROOT/cmake/build-commit.cmake" &&
        assert_contains "$(<"$T_TMP/nogit.cpp")" 'return "";' &&
        assert_exit 0 cmake -DSRC="$T_REPO_ROOT" -DOUT="$T_TMP/git.cpp" -P "$T_REPO_ROOT/cmake/build-commit.cmake" &&
        assert_match "$(<"$T_TMP/git.cpp")" 'return "[0-9a-f]{12}(-dirty)?";' &&
        assert_exit 0 cmake -DSRC="$T_REPO_ROOT" -DCOMMIT='v1.2 "x"' -DOUT="$T_TMP/set.cpp" -P "$T_REPO_ROOT/cmake/build-commit.cmake" &&
        assert_contains "$(<"$T_TMP/set.cpp")" 'return "v1.2__x_";' && t_ok
fi

# ---------- rough edges -------------------------------------------------------------------------
if t_begin "add of a path that does not exist: exit 2, the rest added all the same"; then
    mkdir -p "$T_TMP/add" && "$IMGSYNC_BIN" --db "$T_TMP/add/s.db" --spool "$T_TMP/add/spool" \
        seed --count 1 >/dev/null 2>&1
    assert_exit 2 imgsync_run --db "$T_TMP/add/s2.db" add "$T_TMP/no/such/dir" "$T_TMP/add/spool" &&
        assert_contains "$(<"$T_OUT")" "added 1," &&
        assert_eq "imgsync: add: $T_TMP/no/such/dir: no such file or directory" "$(tail -n 1 "$T_ERR")" && t_ok
fi

if t_begin "check 2>&1: the ok lines come before the error, in one pipe"; then
    out=$(cd "$T_TMP" && env -i PATH=/usr/bin:/bin HOME="$T_TMP/home" IMGSYNC_CONFIG="$IMGSYNC_CONFIG" \
        timeout 60 "$IMGSYNC_BIN" --db "$T_TMP/order.db" --bucket some-bucket check 2>&1 | cat)
    assert_match "$(head -n 1 <<<"$out")" '^ok: state file ' &&
        assert_match "$(tail -n 1 <<<"$out")" '^imgsync: no credentials' && t_ok
fi

if t_begin "check as a user who cannot create the state file's directory says so"; then
    if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
        t_skip "needs root and setpriv (to run check as nobody)"
    else
        # /var/lib: root's, and nothing beneath it is created (check writes nothing)
        db=/var/lib/imgsync-cli-test-$$/sub/state.db
        # A copy of the binary that nobody can run from where it is (a checkout under /root is
        # closed to other users).
        bindir=$(mktemp -d /tmp/imgsync-cli-bin.XXXXXX) && chmod 0755 "$bindir" &&
            cp "$IMGSYNC_BIN" "$bindir/imgsync" && chmod 0755 "$bindir/imgsync" ||
            t_die "cannot copy the binary for nobody"
        out=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin \
            HOME=/nonexistent IMGSYNC_CONFIG=/dev/null timeout 60 "$bindir/imgsync" \
            --db "$db" --bucket some-bucket check 2>&1)
        rm -rf "$bindir"
        assert_contains "$out" "warning: state file $db does not exist yet, and this user cannot create it: /var/lib is not writable" &&
            assert_not_contains "$out" "created on first use" && t_ok
    fi
fi

if t_begin "stop-rgw.sh refuses unknown arguments and --help stops nothing"; then
    mkdir -p "$T_TMP/rgwbase/data/pids"
    assert_exit 2 env RGW_BASE="$T_TMP/rgwbase" bash "$T_REPO_ROOT/tests/rgw/stop-rgw.sh" --bogus &&
        assert_contains "$(<"$T_ERR")" "unknown argument '--bogus'" &&
        assert_exit 0 env RGW_BASE="$T_TMP/rgwbase" bash "$T_REPO_ROOT/tests/rgw/stop-rgw.sh" --help &&
        assert_contains "$(<"$T_OUT")" "Usage:" && assert_eq "" "$(<"$T_ERR")" "--help stopped something" &&
        t_ok
fi

if t_begin "list keeps its columns aligned whatever the sizes"; then
    export IMGSYNC_DB=$T_TMP/list/state.db IMGSYNC_SPOOL=$T_TMP/list/spool
    mkdir -p "$T_TMP/list"
    # sizes of "1000.x KiB" and a few bytes: the widest and the narrowest size texts
    assert_exit 0 imgsync_run seed --count 3 --min-bytes 1001K --max-bytes 1020K &&
        assert_exit 0 imgsync_run seed --count 2 --min-bytes 1K --max-bytes 1K &&
        assert_exit 0 imgsync_run list &&
        assert_eq 1 "$("$T_PY" -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
# where the last column (KEY, then the keys) starts on each line
print(len({len(l) - len(l.split()[-1]) for l in lines}))' "$T_OUT")" "distinct starts of the KEY column in: $(cat "$T_OUT")" && t_ok
    unset IMGSYNC_DB IMGSYNC_SPOOL
fi

# at_endpoint ENDPOINT COMMAND...: imgsync COMMAND against a server that is not S3, with made-up
# keys (from the environment, never the command line); check_at ENDPOINT: its check.
at_endpoint() {
    local endpoint=$1
    shift
    (cd "$T_TMP" && env -i PATH=/usr/bin:/bin HOME="$T_TMP/home" IMGSYNC_CONFIG="$IMGSYNC_CONFIG" \
        AWS_ACCESS_KEY_ID=AKIAIMGSYNCTEST AWS_SECRET_ACCESS_KEY=not-a-real-secret-key-for-tests \
        timeout 60 "$IMGSYNC_BIN" --db "$T_TMP/nots3.db" --bucket some-bucket --endpoint "$endpoint" "$@")
}
check_at() { at_endpoint "$1" check; }

if t_begin "check and verify against a web server that is not S3 (an HTML 404) say so"; then
    port=$(free_port)
    mkdir -p "$T_TMP/www"
    (cd "$T_TMP/www" && exec "$T_PY" -m http.server --bind 127.0.0.1 "$port") >"$T_TMP/www.log" 2>&1 &
    t_on_exit kill "$!"
    wait_port "$port" || t_fail "http.server did not start"
    assert_exit 3 check_at "http://127.0.0.1:$port" &&
        assert_contains "$(<"$T_ERR")" "signed request to bucket some-bucket: HTTP 404 (text/html" &&
        assert_contains "$(<"$T_ERR")" "the endpoint is probably not an S3 API" &&
        assert_not_contains "$(<"$T_ERR")" "not-a-real-secret" &&
        # verify asks the bucket first, and a web page is no bucket's answer either (exit 3, as
        # a pass that fails; not "every object missing")
        mkdir -p "$T_TMP/none" && assert_exit 0 at_endpoint "http://127.0.0.1:$port" add "$T_TMP/none" &&
        assert_exit 3 at_endpoint "http://127.0.0.1:$port" verify &&
        assert_contains "$(<"$T_ERR")" "bucket some-bucket: HTTP 404 (text/html" &&
        assert_contains "$(<"$T_ERR")" "the endpoint is probably not an S3 API" && t_ok
fi

if t_begin "check over http:// against a TLS port hints at https://"; then
    tls=$T_TMP/tls
    mkdir -p "$tls"
    if ! openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/key.pem" -out "$tls/cert.pem" \
        -days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1; then
        t_fail "cannot make a certificate"
    else
        port=$(free_port)
        openssl s_server -accept "127.0.0.1:$port" -cert "$tls/cert.pem" -key "$tls/key.pem" \
            -www -quiet </dev/null >"$tls/server.log" 2>&1 &
        t_on_exit kill "$!"
        wait_port "$port" || t_fail "s_server did not start"
        assert_exit 3 check_at "http://127.0.0.1:$port" &&
            assert_contains "$(<"$T_ERR")" "use https://" && t_ok
    fi
fi

# ---------- status --check thresholds -----------------------------------------------------------
if t_begin "status --check: plain numbers alert at >= N, ranges as the Monitoring Plugins"; then
    export IMGSYNC_DB=$T_TMP/thr/state.db IMGSYNC_SPOOL=$T_TMP/thr/spool
    mkdir -p "$T_TMP/thr"
    assert_exit 0 imgsync_run seed --count 3 --min-bytes 1K --max-bytes 2K &&
        assert_exit 1 imgsync_run status --check --warn-pending 3 &&
        assert_contains "$(<"$T_OUT")" "IMGSYNC WARNING - 3 pending (>= 3)" &&
        assert_contains "$(<"$T_OUT")" "| pending=3;3;;0" &&
        assert_exit 0 imgsync_run status --check --warn-pending 4 &&
        assert_exit 1 imgsync_run status --check --warn-pending 5: &&
        assert_contains "$(<"$T_OUT")" "3 pending (< 5)" && assert_contains "$(<"$T_OUT")" "pending=3;5:;;0" &&
        assert_exit 0 imgsync_run status --check --warn-pending '~:3' &&
        assert_exit 1 imgsync_run status --check --warn-pending '~:2' &&
        assert_contains "$(<"$T_OUT")" "3 pending (> 2)" &&
        assert_exit 2 imgsync_run status --check --warn-pending 1 --crit-pending @2:4 &&
        assert_contains "$(<"$T_OUT")" "IMGSYNC CRITICAL - 3 pending (inside 2:4)" &&
        assert_contains "$(<"$T_OUT")" "pending=3;1;@2:4;0" &&
        assert_exit 0 imgsync_run status --check --crit-pending 2:10 &&
        assert_exit 1 imgsync_run status --check --warn-age 1h: &&
        assert_contains "$(<"$T_OUT")" "(< 1h 00m)" && t_ok
    unset IMGSYNC_DB IMGSYNC_SPOOL
fi

if t_begin "status --check: a bad threshold is UNKNOWN, naming the option and the text"; then
    export IMGSYNC_DB=$T_TMP/thr2/state.db IMGSYNC_SPOOL=$T_TMP/thr2/spool
    mkdir -p "$T_TMP/thr2"
    assert_exit 0 imgsync_run seed --count 1 --min-bytes 1K --max-bytes 2K &&
        assert_exit 3 imgsync_run status --check --warn-pending 20:10 &&
        assert_eq "IMGSYNC UNKNOWN - --warn-pending: threshold '20:10': the start is above the end" "$(<"$T_OUT")" &&
        assert_exit 3 imgsync_run status --check --crit-age @1h &&
        assert_contains "$(<"$T_OUT")" "IMGSYNC UNKNOWN - --crit-age: threshold '@1h': expected N, N:, ~:N, N:M or @N:M" &&
        t_ok
    unset IMGSYNC_DB IMGSYNC_SPOOL
fi

if t_begin "status on a UTF-8 terminal draws the backlog by hour; in a pipe or another locale, not"; then
    export IMGSYNC_DB=$T_TMP/chart.db IMGSYNC_SPOOL=$T_TMP/chart-spool
    imgsync_run seed --count 5 >/dev/null 2>&1 || t_die "seed"
    # script(1) gives the command a terminal of its own.
    LANG=C.UTF-8 LC_ALL= LC_CTYPE= script -qec "$IMGSYNC_BIN status" /dev/null >"$T_TMP/tty.out" 2>&1
    assert_match "$(grep '^backlog:' "$T_TMP/tty.out")" \
        '^backlog: +[▁▂▃▄▅▆▇█]{24} pending each hour of the last 24h, 0 to 5' "on a terminal" &&
        assert_contains "$(grep '^backlog:' "$T_TMP/tty.out")" "█" "now, the largest" &&
        assert_eq "" "$(imgsync_run status | grep '^backlog:')" "not in a pipe" &&
        assert_eq "" "$(LANG=C LC_ALL= LC_CTYPE= script -qec "$IMGSYNC_BIN status" /dev/null | grep '^backlog:')" \
            "not without UTF-8" && t_ok
    unset IMGSYNC_DB IMGSYNC_SPOOL
fi

t_finish
