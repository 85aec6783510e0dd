#!/usr/bin/env bash
# Bad input: option values, endpoints and bucket names; state files that are corrupt, not SQLite,
# somebody else's, newer, on a read-only file system, locked by another program, or on a full
# disk; awkward files at add (non-images, truncated, empty, links, FIFOs, names that are not UTF-8
# or hold a newline, the same file twice); and add over a tree of a million files in bounded
# memory (20,000 with the ASan build; BADINPUT_FILES=N overrides). Every refusal must be one line with a documented exit
# status, and leave the state file and the backlog as they were.
# Mounting tmpfs (read-only and full-disk cases) needs root; without it those tests are skipped.
# Each test has its own state file; the images every test only reads are seeded once, first.
. "$(dirname "$0")/../lib.sh"
with_rgw
imgsync_env "$RGW_ENDPOINT"
SUITE_T0=$SECONDS
ASAN=0
[[ $IMGSYNC_BIN == *build-asan* || ${IMGSYNC_VARIANT:-} == asan ]] && ASAN=1
ROOT=0
[ "$(id -u)" = 0 ] && ROOT=1

# ---------- helpers ---------------------------------------------------------------------------
# db_sum DB: checksum of the state file and its -wal (what "nothing was written" means).
db_sum() { cat -- "$1" "$1-wal" 2>/dev/null | sha256sum | cut -d' ' -f1; }
# db_facts DB: "rows=N integrity=ok" (python's sqlite3, independent of imgsync).
db_facts() {
    "$T_PY" - "$1" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n = c.execute("select count(*) from images").fetchone()[0]
ic = c.execute("pragma integrity_check").fetchone()[0]
t = c.execute("select sum(images) from totals").fetchone()[0]
print(f"rows={n} totals={t} integrity={ic}")
EOF
}
# one_line: the last command wrote exactly one line on stderr, an imgsync error.
one_line() {
    assert_eq 1 "$(wc -l <"$T_ERR")" "stderr lines of: $*" &&
        assert_match "$(<"$T_ERR")" '^imgsync: ' "stderr"
}
# refuses CODE NEEDLE ARGS...: exit CODE, one line on stderr containing NEEDLE.
refuses() {
    local code=$1 needle=$2
    shift 2
    assert_exit "$code" imgsync_run -q "$@" && one_line "$@" &&
        assert_contains "$(<"$T_ERR")" "$needle" "stderr of $*"
}
# t_mount DIR OPTIONS: a tmpfs, unmounted when the suite exits.
t_mount() {
    mkdir -p "$1" && mount -t tmpfs -o "$2" tmpfs "$1" || return 1
    t_on_exit umount -l "$1"
}
ms_since() { echo $(((${EPOCHREALTIME/./} - $1) / 1000)); }
# base_db NAME: IMGSYNC_DB=$T_TMP/NAME.db, a state file with 30 pending images, and its checksum
# in before.
base_db() {
    export IMGSYNC_DB=$T_TMP/$1.db
    imgsync_run seed --spool "$T_TMP/$1-spool" --count 30 --min-bytes 2K --max-bytes 8K --seed 11 \
        >/dev/null 2>&1 || t_die "seed failed"
    before=$(db_sum "$IMGSYNC_DB")
}
# needs_root: true as root; otherwise closes the test as skipped (tmpfs mounts need root).
needs_root() {
    [ $ROOT = 1 ] && return 0
    t_skip "needs root (mount -t tmpfs)"
    return 1
}

# Valid images to add (and a state file of their own, which no test uses).
export IMGSYNC_DB=$T_TMP/images.db
imgsync_run seed --count 30 --min-bytes 2K --max-bytes 8K --seed 11 >/dev/null 2>&1 || t_die "seed failed"
mapfile -t PNGS < <(find "$T_TMP/spool" -name '*.png' | sort)
mapfile -t JPGS < <(find "$T_TMP/spool" -name '*.jpg' | sort)
[ ${#PNGS[@]} -ge 2 ] && [ ${#JPGS[@]} -ge 2 ] || t_die "seed wrote too few PNG/JPEG files"

# ---------- option values ---------------------------------------------------------------------
# Not repeated here (throttle.sh, e2e.sh): --rate 0/-3/10/0s, --bandwidth 10Q, --max-duration 5x,
# --max-bytes lots, --concurrency 0, an unknown config key.
if t_begin "bad option values: exit 2, one line, the state file untouched"; then
    base_db options
    ok=1
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        eval "args=($line)"
        refuses 2 "" "${args[@]}" || { ok=0; break; }
    done <<'EOF'
upload --rate abc
upload --rate -0.5
upload --rate 5/3fortnights
upload --burst -1
upload --bandwidth -1M
upload --bandwidth "25:00,1M"
upload --bandwidth "08:00,1M 08:00,2M"
upload --grace 10y
upload --stall-timeout 5parsecs
upload --connect-timeout abc
upload --wait-timeout forever
upload --max-images 0
upload --max-images -5
upload --max-bytes 0
upload --max-bytes 1.5Q
upload --max-duration 0s
upload --max-duration -5s
upload --part-size 5Q
upload --part-size 1M
upload --part-size 6G
upload --multipart-threshold 1M
upload --max-attempts 0
upload --pass-attempts 101
upload --concurrency 257
upload --progress sometimes
status --window 0
status --window 3w
seed --count 0
seed --count 5 --min-bytes 2Z
seed --count 5 --min-bytes 512
seed --count 5 --min-bytes 1M --max-bytes 8K
seed --count 5 --max-bytes 300M
seed --count 5 --format gif
list --state bogus
list --limit many
add --key-layout bogus /nonexistent
--log-format xml status
--addressing sideways status
retry
upload --no-such-option
frobnicate
EOF
    [ $ok = 1 ] && assert_eq "$before" "$(db_sum "$IMGSYNC_DB")" "state file checksum" && t_ok
fi

if t_begin "malformed endpoint URLs: exit 2, one line naming the URL problem"; then
    base_db endpoints
    ok=1
    for ep in "ftp://127.0.0.1:7480" "127.0.0.1:7480" "http://" "http://:7480" "http://127.0.0.1:99999" \
        "http://127.0.0.1:0" "http://127.0.0.1:port" "http://127.0.0.1/bucket" "http://user:pw@127.0.0.1" \
        "http://127.0.0.1?x=1" "http://127.0.0.1#frag" "http://[::1" "http://ho st" "http://-host" \
        "http://a..b"; do
        refuses 2 "invalid endpoint URL" --endpoint "$ep" upload || { ok=0; break; }
        refuses 2 "invalid endpoint URL" --endpoint "$ep" check || { ok=0; break; }
    done
    [ $ok = 1 ] && assert_eq "$before" "$(db_sum "$IMGSYNC_DB")" "state file checksum" && t_ok
fi

if t_begin "bucket names invalid under S3's rules: exit 2, one line"; then
    base_db buckets
    ok=1
    for b in AB ab "$(printf 'a%.0s' {1..64})" My-Bucket my_bucket -bucket bucket- bucket. my..bucket \
        192.168.5.4 xn--bucket sthree-bucket bucket-s3alias bucket--ol-s3 "buck et" "bücket"; do
        refuses 2 "invalid bucket name" --bucket "$b" upload || { ok=0; break; }
    done
    [ $ok = 1 ] && refuses 2 "no bucket" --bucket "" upload &&
        assert_eq "$before" "$(db_sum "$IMGSYNC_DB")" "state file checksum" && t_ok
fi

if t_begin "contradictory options: exit 2 (status --check: 3 UNKNOWN), one line"; then
    base_db contradictory
    refuses 2 "virtual-hosted addressing needs a host name" --addressing virtual upload &&
        refuses 2 "contains dots" --addressing virtual --endpoint https://s3.example.com --bucket a.b.c check &&
        refuses 2 "--min-bytes" seed --count 3 --min-bytes 64K --max-bytes 16K &&
        refuses 2 "retry" retry --all 7 &&
        assert_exit 3 imgsync_run status --check --warn-pending 10 --crit-pending 5 &&
        assert_match "$(<"$T_OUT")" '^IMGSYNC UNKNOWN' && assert_eq 1 "$(wc -l <"$T_OUT")" &&
        assert_exit 3 imgsync_run status --check --warn-age 2h --crit-age 1h &&
        assert_match "$(<"$T_OUT")" '^IMGSYNC UNKNOWN' &&
        assert_exit 3 imgsync_run status --check --warn-age 2fortnights &&
        assert_match "$(<"$T_OUT")" '^IMGSYNC UNKNOWN - --warn-age: invalid duration' &&
        assert_eq "$before" "$(db_sum "$IMGSYNC_DB")" "state file checksum" && t_ok
fi

if t_begin "config file and environment: bad keys and values are exit 2 with file:line"; then
    base_db config
    printf 'bucket = b-ok\nmax-image = 3\n' >"$T_TMP/typo.conf"
    printf 'bucket = b-ok\nrate 5\n' >"$T_TMP/noeq.conf"
    printf '[upload]\nrate = 0\n' >"$T_TMP/zero.conf"
    refuses 2 "typo.conf:2: unknown key 'max_image'" --config "$T_TMP/typo.conf" status &&
        refuses 2 "noeq.conf:2: expected 'key = value'" --config "$T_TMP/noeq.conf" status &&
        refuses 2 "--rate" --config "$T_TMP/zero.conf" upload &&
        refuses 2 "does not exist" --config "$T_TMP/missing.conf" status &&
        assert_exit 2 env IMGSYNC_RATE=0 "$IMGSYNC_BIN" -q upload && one_line &&
        assert_exit 2 env IMGSYNC_CONCURRENCY=lots "$IMGSYNC_BIN" -q upload && one_line &&
        assert_exit 2 env IMGSYNC_ENDPOINT=ftp://x "$IMGSYNC_BIN" -q upload && one_line &&
        assert_eq "$before" "$(db_sum "$IMGSYNC_DB")" "state file checksum" && t_ok
fi

# ---------- state files that are not usable ---------------------------------------------------
# every_command DB NEEDLE: each command exits 4 with one line containing NEEDLE; DB unchanged.
every_command() {
    local db=$1 needle=$2 sum c
    sum=$(db_sum "$db")
    for c in status list "retry --all" "add ${PNGS[0]}" "seed --count 1" upload check; do
        # shellcheck disable=SC2086
        refuses 4 "$needle" --db "$db" $c || return 1
    done
    assert_exit 3 imgsync_run --db "$db" status --check &&
        assert_match "$(<"$T_OUT")" '^IMGSYNC UNKNOWN' &&
        assert_eq "$sum" "$(db_sum "$db")" "checksum of $db"
}

if t_begin "not SQLite at all (random bytes, a text file): exit 4, file untouched"; then
    head -c 65536 /dev/urandom >"$T_TMP/random.db"
    printf 'db = /var/lib/imgsync/state.db\nthis is a text file\n' >"$T_TMP/text.db"
    every_command "$T_TMP/random.db" "not an SQLite database" &&
        every_command "$T_TMP/text.db" "not an SQLite database" && t_ok
fi

if t_begin "somebody else's SQLite database, and a newer schema: exit 4, file untouched"; then
    "$T_PY" -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("create table notes (x)"); c.commit()
c = sqlite3.connect(sys.argv[2]); c.execute("create table images (x)"); c.execute("pragma user_version = 99"); c.commit()' \
        "$T_TMP/other.db" "$T_TMP/newer.db"
    every_command "$T_TMP/other.db" "not an imgsync state file" &&
        every_command "$T_TMP/newer.db" "newer than this imgsync" && t_ok
fi

if t_begin "a corrupt state file (garbage over some pages): exit 4 naming the corruption"; then
    CDB=$T_TMP/corrupt.db
    imgsync_run --db "$CDB" seed --count 2000 --min-bytes 1K --max-bytes 1K --seed 12 >/dev/null 2>&1
    pages=$(($(stat -c %s "$CDB") / 4096))
    # Garbage over the middle half of the file: images rows and index pages; the schema (page 1),
    # the table roots and the counters (pages 2-10) stay readable.
    "$T_PY" - "$CDB" <<'EOF'
import os, random, sys
n = os.path.getsize(sys.argv[1]) // 4096
r = random.Random(7)
with open(sys.argv[1], "r+b") as f:
    for p in range(n // 4, 3 * n // 4):
        f.seek(p * 4096)
        f.write(r.randbytes(4096))
EOF
    sum=$(db_sum "$CDB")
    ok=1
    # status reads only the counters (four rows and one index entry), so it does not notice damage
    # elsewhere; check runs the full integrity check.
    for c in list "add $T_TMP/spool" check; do
        # shellcheck disable=SC2086
        refuses 4 "corrupt" --db "$CDB" $c || { ok=0; break; }
    done
    [ $ok = 1 ] && assert_eq "$sum" "$(db_sum "$CDB")" "checksum of the corrupt file" &&
        refuses 4 "fails its integrity check" --db "$CDB" check &&
        # upload claims from the pages it can read, may finish some of them, and stops at the first
        # damaged page; no row is lost (the claimed ones are recovered by the next pass).
        refuses 4 "corrupt" --db "$CDB" upload &&
        assert_exit 0 imgsync_run --db "$CDB" status --json &&
        assert_eq 2000 "$(json "$T_OUT" 'sum(d["counts"][k] for k in ("pending", "uploading", "uploaded", "failed"))')" &&
        echo "     $pages pages, garbage over the middle half; $(json "$T_OUT" 'd["counts"]')" && t_ok
fi

if t_begin "a state file on a read-only file system: exit 4 naming it, nothing changes" && needs_root; then
    RO=$T_TMP/ro
    t_mount "$RO" size=16m
    imgsync_run --db "$RO/state.db" seed --count 20 --min-bytes 1K --max-bytes 2K >/dev/null 2>&1
    facts=$(db_facts "$RO/state.db")
    mount -o remount,ro "$RO"
    sum=$(db_sum "$RO/state.db")
    ok=1
    for c in status list "retry --all" "add ${PNGS[0]}" "seed --count 1" upload check; do
        # shellcheck disable=SC2086
        refuses 4 "ead-only file system" --db "$RO/state.db" $c || { ok=0; break; }
    done
    [ $ok = 1 ] && refuses 4 "ead-only file system" --db "$RO/new/state.db" add "${PNGS[0]}" &&
        assert_eq "$sum" "$(db_sum "$RO/state.db")" "checksum" &&
        mount -o remount,rw "$RO" && assert_eq "$facts" "$(db_facts "$RO/state.db")" &&
        assert_contains "$facts" "rows=20 totals=20 integrity=ok" && t_ok
fi

# hold_lock DB SQL...: a python3 process that runs SQL on DB and then holds on to it for 30 s
# (killed at the end of the suite at the latest); returns once the lock is held; sets holder.
hold_lock() {
    rm -f "$T_TMP/locked.flag"
    "$T_PY" - "$1" "$T_TMP/locked.flag" "${@:2}" <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
for sql in sys.argv[3:]:
    c.execute(sql)
open(sys.argv[2], "w").write("locked\n")
time.sleep(30)
EOF
    holder=$!
    t_on_exit kill "$holder"
    for ((i = 0; i < 100; i++)); do [ -s "$T_TMP/locked.flag" ] && break; sleep 0.1; done
}

if t_begin "locked by another program: writers exit 4 after the busy timeout, readers go on"; then
    LDB=$T_TMP/locked.db
    imgsync_run --db "$LDB" seed --count 10 --min-bytes 1K --max-bytes 2K >/dev/null 2>&1
    facts=$(db_facts "$LDB")
    hold_lock "$LDB" "BEGIN EXCLUSIVE"
    t0=$SECONDS
    refuses 4 "locked by another program" --db "$LDB" add "${JPGS[0]}" &&
        refuses 4 "locked by another program" --db "$LDB" upload &&
        echo "     two writers refused in $((SECONDS - t0)) s" &&
        assert_exit 0 imgsync_run --db "$LDB" status --json &&
        assert_eq 10 "$(json "$T_OUT" 'd["counts"]["pending"]')" &&
        kill "$holder" && wait "$holder" 2>/dev/null
    hold_lock "$LDB" "PRAGMA locking_mode = EXCLUSIVE" "BEGIN EXCLUSIVE" "UPDATE runs SET pid = pid"
    [ "$T_STATE" = open ] && refuses 4 "locked by another program" --db "$LDB" status &&
        kill "$holder" && wait "$holder" 2>/dev/null
    [ "$T_STATE" = open ] && assert_eq "$facts" "$(db_facts "$LDB")" && t_ok
fi

if t_begin "disk full in the spool while seeding: exit 4, every written image registered" && needs_root; then
    SP=$T_TMP/spool-full
    t_mount "$SP" size=2m
    refuses 4 "No space left on device" --db "$T_TMP/full-spool.db" --spool "$SP" \
        seed --count 400 --min-bytes 8K --max-bytes 16K &&
        facts=$(db_facts "$T_TMP/full-spool.db") && files=$(find "$SP" -type f | wc -l) &&
        assert_contains "$facts" "rows=$files totals=$files integrity=ok" &&
        assert_eq 0 "$("$T_PY" -c '
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(sum(1 for p, s in c.execute("select path, size from images") if os.path.getsize(p) != s))' \
            "$T_TMP/full-spool.db")" "registered images whose file has another size" &&
        echo "     $files images written and registered before the disk was full" && t_ok
fi

if t_begin "disk full under the state file while seeding: exit 4, committed rows kept, no damage" && needs_root; then
    DF=$T_TMP/db-full
    t_mount "$DF" size=1m
    refuses 4 "disk full" --db "$DF/state.db" --spool "$T_TMP/spool-many" \
        seed --count 20000 --min-bytes 1K --max-bytes 1K --seed 13 &&
        facts=$(db_facts "$DF/state.db") && rows=${facts#rows=} && rows=${rows%% *} &&
        assert_contains "$facts" "totals=$rows integrity=ok" &&
        assert_ne 0 "$rows" "rows committed before the disk was full" &&
        mount -o remount,size=64m "$DF" && assert_eq "$facts" "$(db_facts "$DF/state.db")" &&
        files=$(find "$T_TMP/spool-many" -type f | wc -l) &&
        assert_exit 0 imgsync_run -q --db "$DF/state.db" add "$T_TMP/spool-many" &&
        assert_contains "$(<"$T_OUT")" "added $((files - rows)), updated 0, unchanged $rows" &&
        assert_contains "$(db_facts "$DF/state.db")" "rows=$files totals=$files integrity=ok" &&
        echo "     $rows rows committed, $files images written before the disk was full;" \
            "add registered the rest" && t_ok
fi

if t_begin "disk full under the state file at a pass: exit 4, nothing lost, the next pass drains" && needs_root; then
    PF=$T_TMP/pass-full
    t_mount "$PF" size=4m
    imgsync_run --db "$PF/state.db" --spool "$T_TMP/spool-pass" seed --count 50 --min-bytes 2K \
        --max-bytes 4K >/dev/null 2>&1
    dd if=/dev/zero of="$PF/filler" bs=64k 2>/dev/null # until the disk is full (4m at most)
    sum=$(db_sum "$PF/state.db")
    refuses 4 "disk full" --db "$PF/state.db" upload &&
        rm -f "$PF/filler" &&
        assert_contains "$(db_facts "$PF/state.db")" "rows=50 totals=50 integrity=ok" &&
        assert_exit 0 imgsync_run --db "$PF/state.db" status --json &&
        assert_eq 50 "$(json "$T_OUT" 'd["counts"]["pending"] + d["counts"]["uploading"]')" &&
        assert_exit 0 imgsync_run -q --db "$PF/state.db" upload &&
        assert_exit 0 imgsync_run --db "$PF/state.db" status --json &&
        assert_eq 50 "$(json "$T_OUT" 'd["counts"]["uploaded"]')" &&
        IMGSYNC_DB=$PF/state.db verify_uploaded && t_ok
fi

# ---------- awkward files at add ---------------------------------------------------------------
# The tree A, which the tests below only read (each adds it to a state file of its own).
A=$T_TMP/awkward
mkdir -p "$A/sub" "$A/bad"$'\xff'"dir" "$A/realdir"
cp "${PNGS[0]}" "$A/good.png"
cp "${JPGS[0]}" "$A/sub/ok.jpg"
head -c $(($(stat -c %s "${PNGS[1]}") / 2)) "${PNGS[1]}" >"$A/half.png"
head -c $(($(stat -c %s "${JPGS[1]}") - 2)) "${JPGS[1]}" >"$A/no-eoi.jpg"
: >"$A/empty.png"
printf 'just some text\n' >"$A/notes.jpg"
head -c 4096 /dev/urandom >"$A/random.png"
cp "${PNGS[1]}" "$A/bad"$'\xfe'".png"
cp "${PNGS[1]}" "$A/new"$'\n'"line.png"
cp "${PNGS[1]}" "$A/tab"$'\t'".png"
cp "${PNGS[1]}" "$A/bad"$'\xff'"dir/inner.png"
mkfifo "$A/fifo.png"
ln -s good.png "$A/sub/link.png"
ln -s /nonexistent "$A/broken.png"
ln -s . "$A/loop"
ln -s realdir "$A/dirlink"
refusals=(half.png no-eoi.jpg empty.png notes.jpg random.png "bad"$'\xfe'".png" "new"$'\n'"line.png"
    "tab"$'\t'".png" "bad"$'\xff'"dir/inner.png")

# add_tree: add A to IMGSYNC_DB (what the first test below checks: good.png and sub/ok.jpg added).
add_tree() {
    imgsync_run add "$A" >/dev/null 2>&1
    [ $? = 1 ] || t_die "add of $A did not exit 1"
}
# links_made: the links and files of "links and special files named on the command line".
links_made() {
    [ -d "$T_TMP/linked" ] && return 0
    mkdir -p "$T_TMP/linked"
    cp "${JPGS[1]}" "$T_TMP/linked/one.jpg"
    cp "${PNGS[1]}" "$T_TMP/linked/two.png"
    ln -s "$T_TMP/linked" "$T_TMP/dir-link"
    ln -s "${JPGS[0]}" "$T_TMP/file-link.jpg"
    ln -s /nonexistent "$T_TMP/broken-link.png"
    ln -s "$T_TMP/self-loop" "$T_TMP/self-loop"
}
add_links() { # what that test adds
    imgsync_run --prefix cl/ add "$T_TMP/dir-link" "$T_TMP/file-link.jpg" \
        "$T_TMP/broken-link.png" "$T_TMP/self-loop" "$A/fifo.png" "$T_TMP/nonexistent.png"
}

if t_begin "a tree of awkward files: each refused or skipped with one log line, the rest added"; then
    export IMGSYNC_DB=$T_TMP/awkward-tree.db
    assert_exit 1 imgsync_run add "$A" &&
        assert_contains "$(<"$T_OUT")" "added 2, updated 0, unchanged 0, skipped 5, refused ${#refusals[@]}" &&
        assert_eq "${#refusals[@]}" "$(grep -c 'event=add_refused' "$T_ERR")" "add_refused lines" &&
        assert_eq 5 "$(grep -c 'event=add_skipped' "$T_ERR")" "add_skipped lines" &&
        assert_eq 0 "$(grep -vc '^ts=' "$T_ERR")" "stderr lines that are not log lines" &&
        assert_contains "$(<"$T_ERR")" 'half.png reason="truncated' &&
        assert_contains "$(<"$T_ERR")" 'no-eoi.jpg reason="truncated' &&
        assert_contains "$(<"$T_ERR")" 'empty.png reason="zero-byte file"' &&
        assert_contains "$(<"$T_ERR")" 'notes.jpg reason="not an image' &&
        assert_contains "$(<"$T_ERR")" 'random.png reason="not an image' &&
        assert_contains "$(<"$T_ERR")" 'new\nline.png" reason="name contains a control character' &&
        assert_contains "$(<"$T_ERR")" 'reason="name is not valid UTF-8' &&
        assert_contains "$(<"$T_ERR")" 'fifo.png reason="not a regular file"' &&
        assert_contains "$(<"$T_ERR")" 'link.png reason="symbolic link (not followed)"' &&
        assert_exit 0 imgsync_run list --json &&
        assert_eq "['good.png', 'sub/ok.jpg']" "$(json "$T_OUT" 'sorted(r["key"] for r in d)')" && t_ok
fi

if t_begin "--log-format json: every event is one valid JSON line, odd names included"; then
    # The second add remembers every refusal of the first (add_refusal_remembered, at debug).
    export IMGSYNC_DB=$T_TMP/awkward-json.db
    add_tree
    assert_exit 0 imgsync_run -v --log-format json add "$A" &&
        assert_contains "$(<"$T_OUT")" "added 0, updated 0, unchanged 2, skipped 5, refused 0, excluded 0, remembered refusals ${#refusals[@]}" &&
        assert_eq "${#refusals[@]}" "$(grep -c '"add_refusal_remembered"' "$T_ERR")" "remembered refusals logged" &&
        assert_eq "ok" "$("$T_PY" -c '
import json, sys
lines = open(sys.argv[1], "rb").read().splitlines()
bad = [l for l in lines if not isinstance(json.loads(l), dict)]
print("ok" if lines and not bad else bad)' "$T_ERR")" && t_ok
fi

if t_begin "links and special files named on the command line"; then
    export IMGSYNC_DB=$T_TMP/awkward-links.db
    add_tree
    links_made
    assert_exit 2 add_links && # nonexistent.png: a path that does not exist is a usage error
        assert_eq "imgsync: add: $T_TMP/nonexistent.png: no such file or directory" "$(grep -v "^ts=" "$T_ERR")" &&
        assert_contains "$(<"$T_OUT")" "added 3, updated 0, unchanged 0, skipped 0, refused 4" &&
        assert_contains "$(<"$T_ERR")" 'broken-link.png reason="broken symbolic link' &&
        assert_contains "$(<"$T_ERR")" 'fifo.png reason="not a regular file"' &&
        assert_contains "$(<"$T_ERR")" 'nonexistent.png reason="no such file or directory"' &&
        assert_exit 0 imgsync_run list --json &&
        assert_eq "['cl/file-link.jpg', 'cl/one.jpg', 'cl/two.png']" \
            "$(json "$T_OUT" 'sorted(r["key"] for r in d if r["key"].startswith("cl/"))')" &&
        assert_eq "$(readlink -f "${JPGS[0]}")" \
            "$(json "$T_OUT" '[r["path"] for r in d if r["key"] == "cl/file-link.jpg"][0]')" && t_ok
fi

if t_begin "the same file named twice in one add: registered once, not an error"; then
    # rows=8 below: the 2 rows of add_tree and the 3 of add_links, and the 3 of this test.
    export IMGSYNC_DB=$T_TMP/awkward-twice.db
    add_tree
    links_made
    add_links >/dev/null 2>&1
    mkdir -p "$T_TMP/twice"
    cp "${PNGS[1]}" "$T_TMP/twice/a.png"
    cp "${JPGS[1]}" "$T_TMP/twice/b.jpg"
    assert_exit 0 imgsync_run --prefix tw/ add "$T_TMP/twice/a.png" "$T_TMP/twice/a.png" "$T_TMP/twice" &&
        assert_contains "$(<"$T_OUT")" "added 2, updated 0, unchanged 2, skipped 0, refused 0" &&
        mkdir -p "$T_TMP/twice2" && cp "${JPGS[1]}" "$T_TMP/twice2/c.jpg" &&
        ln -s "$T_TMP/twice2/c.jpg" "$T_TMP/twice2-link.jpg" &&
        assert_exit 1 imgsync_run --prefix tw2/ add "$T_TMP/twice2/c.jpg" "$T_TMP/twice2-link.jpg" &&
        assert_contains "$(<"$T_OUT")" "added 1, updated 0, unchanged 0, skipped 0, refused 1" &&
        assert_contains "$(<"$T_ERR")" "named twice, and already being added under key tw2/c.jpg" &&
        assert_contains "$(db_facts "$IMGSYNC_DB")" "rows=8 totals=8 integrity=ok" && t_ok
fi

# ---------- a million files -------------------------------------------------------------------
N=${BADINPUT_FILES:-1000000} # BADINPUT_FILES: a smaller tree while working on this suite
MAX_RSS_KB=65536
if [ $ASAN = 1 ]; then
    N=${BADINPUT_FILES:-20000}
    MAX_RSS_KB=262144 # ASan's shadow memory
    # ASan keeps up to 256 MiB of freed memory in quarantine by default, which would measure
    # ASan instead of imgsync; a small quarantine still catches use-after-free of recent frees.
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
fi
TREE=$T_TMP/tree
MDB=$T_TMP/million.db
# million_tree: the tree of N files (built once: both tests below read it).
million_tree() {
    [ -e "$TREE.built" ] && return 0
    local t0=${EPOCHREALTIME/./}
    rm -rf "$TREE" "$TREE.src"
    "$T_PY" - "${PNGS[0]}" "$TREE" "$N" <<'EOF' || { t_fail "building the tree failed"; return 1; }
# N hard links in N/1000 directories of 1000, to N/1000 copies of one small PNG (ext4 allows
# 65,000 links per inode); the copies live outside the tree.
import os, shutil, sys
src, tree, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(tree + ".src")
for d in range(n // 1000):
    copy = f"{tree}.src/{d:04}.png"
    shutil.copyfile(src, copy)
    leaf = f"{tree}/{d // 10:03}/{d % 10}"
    os.makedirs(leaf)
    for i in range(1000):
        os.link(copy, f"{leaf}/{i:03}.png")
EOF
    echo "     tree of $N hard links built in $(ms_since "$t0") ms"
    touch "$TREE.built"
}
# million_db: MDB, the state file with the N files of the tree added: the one the test below
# made if it passed, else made now.
million_db() {
    [ -e "$MDB.added" ] && return 0
    million_tree || return 1
    rm -f "$MDB" "$MDB-wal" "$MDB-shm"
    T_CMD_TIMEOUT=900 imgsync_run -q --db "$MDB" add "$TREE" >/dev/null 2>&1 || t_die "add of the tree failed"
    touch "$MDB.added"
}

if t_begin "add over a tree of $N files: memory bounded, every file registered"; then
    million_tree
    rm -f "$MDB" "$MDB-wal" "$MDB-shm"
    t0=${EPOCHREALTIME/./}
    T_CMD_TIMEOUT=900 assert_exit 0 t_rusage "$T_TMP/rusage.txt" "$IMGSYNC_BIN" -q --db "$MDB" add "$TREE"
    wall=$(ms_since "$t0")
    rss=$(sed -n 's/^max_rss_kb=//p' "$T_TMP/rusage.txt" 2>/dev/null)
    echo "     imgsync -q --db DB add TREE: $N files in $wall ms, peak RSS $rss KB" \
        "(user $(sed -n 's/^user_s=//p' "$T_TMP/rusage.txt" 2>/dev/null) s," \
        "system $(sed -n 's/^sys_s=//p' "$T_TMP/rusage.txt" 2>/dev/null) s)"
    [ "$T_STATE" = open ] && assert_contains "$(<"$T_OUT")" "added $N, updated 0, unchanged 0" &&
        assert_eq True "$([ "${rss:-999999999}" -lt $MAX_RSS_KB ] && echo True || echo False)" \
            "peak RSS $rss KB below $MAX_RSS_KB KB" &&
        assert_exit 0 imgsync_run --db "$MDB" status --json &&
        assert_eq "$N" "$(json "$T_OUT" 'd["counts"]["pending"]')" && touch "$MDB.added" && t_ok
fi

if t_begin "status on $N rows (timings for the log, no bound)"; then
    million_db
    t0=${EPOCHREALTIME/./}
    assert_exit 0 imgsync_run --db "$MDB" status && s1=$(ms_since "$t0") &&
        t0=${EPOCHREALTIME/./} && assert_exit 0 imgsync_run --db "$MDB" status --json &&
        s2=$(ms_since "$t0") && echo "     status: $s1 ms, status --json: $s2 ms, state file $(($(stat -c %s "$MDB") / 1048576)) MiB" &&
        t_ok
fi

echo "     suite ran $((SECONDS - SUITE_T0)) s"
t_finish
