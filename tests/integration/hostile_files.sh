#!/usr/bin/env bash
# Hostile files: what somebody who can write the metrics directory or the state file's directory
# may plant there. Links at every predictable temporary name of the metrics file, a link at the
# metrics file itself, a link, a dangling link, a FIFO or a hard link at <db>.lock, a state file
# that is a link or an empty 0644 file prepared in advance, a link at <db>-wal. imgsync must never
# write through any of them: refusals are one line with exit 4 and leave the targets as they
# were; a state file open to others is made private with a warning. And a metrics file that
# cannot be written is an error event, not the exit status of the pass (upload) or a state file
# problem (status). Only the last tests need radosgw.
. "$(dirname "$0")/../lib.sh"

# ---------- helpers ---------------------------------------------------------------------------
# fresh NAME: a new directory $D for one test, with its own state file ($DB) and spool; a fake
# target (nothing listens on port 9 and no test here reaches it) unless with_rgw set one.
N=0
fresh() {
    N=$((N + 1))
    D=$T_TMP/$N-$1
    mkdir -p "$D"
    DB=$D/state.db
    export IMGSYNC_DB=$DB IMGSYNC_SPOOL=$D/spool HOME=$T_TMP/home
    export IMGSYNC_BUCKET=${B:-hostile} IMGSYNC_ENDPOINT=${ENDPOINT:-http://127.0.0.1:9}
    export AWS_ACCESS_KEY_ID=${RGW_ACCESS_KEY:-AKIDEXAMPLE} AWS_SECRET_ACCESS_KEY=${RGW_SECRET_KEY:-secret}
    export AWS_REGION=${RGW_REGION:-us-east-1}
    unset AWS_PROFILE AWS_SESSION_TOKEN IMGSYNC_CONFIG
    mkdir -p "$HOME"
}
# seeded N: register N small images in $DB (no S3 needed).
seeded() { imgsync_run -q seed --count "$1" --min-bytes 2K --max-bytes 4K --seed 7 >/dev/null 2>&1; }
mode_of() { stat -c %a -- "$1"; }
sum_of() { sha256sum <"$1" | cut -d' ' -f1; }
# one_line: the last command wrote exactly one line on stderr, an imgsync error.
one_line() {
    assert_eq 1 "$(wc -l <"$T_ERR")" "stderr lines" && assert_match "$(<"$T_ERR")" '^imgsync: ' "stderr"
}
# refuses CODE NEEDLE ARGS...: exit CODE, one line on stderr containing NEEDLE.
refuses() {
    local code=$1 needle=$2
    shift 2
    assert_exit "$code" imgsync_run -q "$@" && one_line &&
        assert_contains "$(<"$T_ERR")" "$needle" "stderr of $*"
}
# as_pid_plants DIR_PREFIX VICTIM ARGS...: run imgsync with ARGS at a pid known in advance (bash
# execs it), after planting links to VICTIM at PREFIX.tmp, PREFIX.tmp.<that pid> and the next 63
# pids (what the old FILE.tmp.<pid> scheme would have opened). Sets T_RC, T_OUT, T_ERR.
as_pid_plants() {
    local prefix=$1 victim=$2
    shift 2
    # shellcheck disable=SC2016 # expanded by the inner bash, whose $$ becomes imgsync's pid
    timeout -k 5 60 bash -c '
        prefix=$1 victim=$2; shift 2
        ln -s "$victim" "$prefix.tmp"
        for ((d = 0; d < 64; d++)); do ln -s "$victim" "$prefix.tmp.$(($$ + d))"; done
        exec "$IMGSYNC_BIN" "$@"' _ "$prefix" "$victim" "$@" >"$T_OUT" 2>"$T_ERR" </dev/null
    T_RC=$?
}
# only_links_besides DIR KEEP...: every entry of DIR is a symbolic link, except the names KEEP
# (no temporary file was left behind, and no planted link was replaced).
only_links_besides() {
    local dir=$1 f name k keep
    shift
    for f in "$dir"/* "$dir"/.[!.]*; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        name=${f##*/} keep=0
        for k in "$@"; do [ "$name" = "$k" ] && keep=1; done
        [ $keep = 1 ] || [ -L "$f" ] || { t_fail "unexpected file $name in $dir"; return 1; }
    done
}

# ---------- 1. the metrics file ----------------------------------------------------------------
if t_begin "status --prometheus: links planted at every predictable temporary name are not followed"; then
    fresh metrics-plant
    seeded 3 || t_fail "seed failed"
    M=$D/metrics/imgsync.prom
    mkdir -p "$D/metrics"
    db_before=$(sum_of "$DB")
    as_pid_plants "$M" "$DB" status --prometheus "$M"
    assert_eq 0 "$T_RC" "exit status (stderr: $(head -c 300 "$T_ERR"))" &&
        assert_eq "$db_before" "$(sum_of "$DB")" "the state file, target of every planted link" &&
        assert_eq "" "$(find "$D/metrics" -name 'imgsync.prom.tmp*' ! -type l)" "regular temporary files" &&
        [ -f "$M" ] && [ ! -L "$M" ] && assert_contains "$(<"$M")" 'imgsync_images{state="pending"} 3' &&
        assert_eq 644 "$(mode_of "$M")" "mode of the metrics file" &&
        only_links_besides "$D/metrics" imgsync.prom &&
        assert_exit 0 imgsync_run status --json && assert_contains "$(<"$T_OUT")" '"pending": 3' && t_ok
fi

if t_begin "status --prometheus: a link at the metrics file is replaced, its target left alone"; then
    fresh metrics-link
    seeded 1 || t_fail "seed failed"
    echo precious >"$D/victim"
    ln -s "$D/victim" "$D/imgsync.prom"
    assert_exit 0 imgsync_run status --prometheus "$D/imgsync.prom" &&
        [ -f "$D/imgsync.prom" ] && [ ! -L "$D/imgsync.prom" ] &&
        assert_eq precious "$(<"$D/victim")" "the link's target" &&
        assert_contains "$(<"$D/imgsync.prom")" imgsync_images && t_ok
fi

if t_begin "status --prometheus: the metrics file is 0644 whatever the umask"; then
    fresh metrics-mode
    seeded 1 || t_fail "seed failed"
    (umask 077 && imgsync_run status --prometheus "$D/imgsync.prom" >/dev/null 2>&1)
    assert_eq 644 "$(mode_of "$D/imgsync.prom")" "mode" && assert_eq 600 "$(mode_of "$DB")" "state file mode" && t_ok
fi

if t_begin "status --prometheus into a missing directory: report printed, metrics_failed, exit 2"; then
    fresh metrics-missing
    seeded 2 || t_fail "seed failed"
    assert_exit 2 imgsync_run status --prometheus "$D/no-such-dir/imgsync.prom" &&
        assert_contains "$(<"$T_OUT")" "pending" "the report on stdout" &&
        assert_contains "$(<"$T_ERR")" "level=error event=metrics_failed" &&
        assert_contains "$(<"$T_ERR")" "$D/no-such-dir/imgsync.prom" &&
        assert_exit 0 imgsync_run status --check --prometheus "$D/no-such-dir/imgsync.prom" &&
        assert_match "$(<"$T_OUT")" '^IMGSYNC OK' && assert_contains "$(<"$T_ERR")" "event=metrics_failed" && t_ok
fi

# ---------- 2. the lock file -------------------------------------------------------------------
if t_begin "a symbolic link at <db>.lock: exit 4, one line, the link's target untouched"; then
    fresh lock-link
    echo precious >"$D/victim"
    ln -s "$D/victim" "$DB.lock"
    refuses 4 "lock file $DB.lock is a symbolic link" upload &&
        assert_eq precious "$(<"$D/victim")" "the link's target" && [ -L "$DB.lock" ] && t_ok
fi

if t_begin "a dangling link at <db>.lock: exit 4, nothing created"; then
    fresh lock-dangling
    ln -s "$D/created-by-imgsync" "$DB.lock"
    refuses 4 "lock file $DB.lock is a symbolic link" upload &&
        [ ! -e "$D/created-by-imgsync" ] && t_ok
fi

if t_begin "a FIFO or a hard link at <db>.lock: exit 4, one line"; then
    fresh lock-fifo
    mkfifo "$DB.lock"
    refuses 4 "lock file $DB.lock is a FIFO, not a regular file" upload &&
        fresh lock-hardlink && echo precious >"$D/victim" && ln "$D/victim" "$DB.lock" &&
        refuses 4 "lock file $DB.lock has 2 hard links" upload &&
        assert_eq precious "$(<"$D/victim")" "the other name's content" && t_ok
fi

# ---------- 3. the state file ------------------------------------------------------------------
if t_begin "an empty 0644 state file prepared in advance is made 0600, with a warning"; then
    fresh state-empty
    : >"$DB"
    chmod 644 "$DB"
    assert_exit 0 imgsync_run seed --count 1 --min-bytes 2K --max-bytes 4K --seed 3 &&
        assert_eq 600 "$(mode_of "$DB")" "mode of the state file" &&
        assert_contains "$(<"$T_ERR")" "level=warn event=state_file_mode path=$DB was=0644 now=0600" &&
        assert_exit 0 imgsync_run status && assert_not_contains "$(<"$T_ERR")" state_file_mode && t_ok
fi

if t_begin "an existing state file readable by others loses those permissions, with a warning"; then
    fresh state-others
    seeded 1 || t_fail "seed failed"
    chmod 664 "$DB"
    assert_exit 0 imgsync_run status --json &&
        assert_eq 660 "$(mode_of "$DB")" "mode of the state file (the group's access is kept)" &&
        assert_contains "$(<"$T_ERR")" "event=state_file_mode path=$DB was=0664 now=0660" &&
        assert_exit 0 imgsync_run status && assert_not_contains "$(<"$T_ERR")" state_file_mode && t_ok
fi

if t_begin "somebody else's database open to others is refused and its mode left alone"; then
    fresh state-foreign
    "$T_PY" -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("create table t (x)")' "$DB"
    chmod 644 "$DB"
    refuses 4 "not an imgsync state file" status && assert_eq 644 "$(mode_of "$DB")" "mode" && t_ok
fi

if t_begin "a state file path that is a symbolic link: exit 4, one line, its target untouched"; then
    fresh state-link
    : >"$D/elsewhere.db"
    chmod 644 "$D/elsewhere.db"
    ln -s "$D/elsewhere.db" "$DB"
    refuses 4 "state file $DB is a symbolic link" seed --count 1 --min-bytes 2K --max-bytes 4K &&
        refuses 4 "state file $DB is a symbolic link" status &&
        refuses 4 "state file $DB is a symbolic link" upload &&
        assert_eq 0 "$(stat -c %s "$D/elsewhere.db")" "size of the link's target" &&
        assert_eq 644 "$(mode_of "$D/elsewhere.db")" "mode of the link's target" &&
        [ ! -e "$D/elsewhere.db-wal" ] && t_ok
fi

if t_begin "a symbolic link at <db>-wal: exit 4, one line, its target untouched"; then
    fresh state-wal
    seeded 1 || t_fail "seed failed"
    echo precious >"$D/victim"
    ln -s "$D/victim" "$DB-wal"
    refuses 4 "$DB-wal beside the state file is a symbolic link" status &&
        assert_eq precious "$(<"$D/victim")" "the link's target" && t_ok
fi

# ---------- 4. a pass whose metrics file cannot be written (radosgw) ---------------------------
with_rgw
ENDPOINT=$RGW_ENDPOINT
B=$(t_bucket)
s3_mkbucket "$B" || t_die "cannot create bucket $B"

if t_begin "upload --metrics-file into a missing directory: the pass's status (0), metrics_failed"; then
    fresh pass-missing
    seeded 2 || t_fail "seed failed"
    assert_exit 0 imgsync_run upload --metrics-file "$D/no-such-dir/imgsync.prom" &&
        assert_contains "$(<"$T_ERR")" "level=error event=metrics_failed path=$D/no-such-dir/imgsync.prom" &&
        assert_contains "$(<"$T_ERR")" "event=pass_done" &&
        assert_exit 0 imgsync_run status --json && assert_contains "$(<"$T_OUT")" '"uploaded": 2' && t_ok
fi

if t_begin "upload --metrics-file with links planted at every predictable temporary name"; then
    fresh pass-plant
    seeded 2 || t_fail "seed failed"
    mkdir -p "$D/metrics"
    echo precious >"$D/victim"
    as_pid_plants "$D/metrics/imgsync.prom" "$D/victim" upload --metrics-file "$D/metrics/imgsync.prom"
    assert_eq 0 "$T_RC" "exit status (stderr: $(tail -c 300 "$T_ERR"))" &&
        assert_eq precious "$(<"$D/victim")" "the planted links' target" &&
        assert_contains "$(<"$D/metrics/imgsync.prom")" 'imgsync_images{state="uploaded"} 2' &&
        only_links_besides "$D/metrics" imgsync.prom && t_ok
fi

t_finish
