#!/usr/bin/env bash
# imgsync migrate --to: a state file with every state in it (pending, deferred with attempts and
# an error, uploaded, failed, a half-done multipart upload with its upload id and parts, part
# digests, finished passes, remembered refusals) copied to PostgreSQL and back to a new state file. Every row arrives
# as it was (a dump of both sides compared), a second run adds nothing, the source is untouched,
# and the copy works: a pass on it resumes the multipart upload and finishes the backlog.
# imgsync-test: backends pg
# imgsync-test: pg-asan
export T_BACKEND=pg # SQLite to PostgreSQL and back, whatever the caller's backend
. "$(dirname "$0")/../lib.sh"
with_rgw
with_pg
imgsync_env "$RGW_ENDPOINT"
export T_CMD_TIMEOUT=180

# dump DB: every migrated fact, one canonical line per row, on either backend (NULL as "")
dump() {
    local c="coalesce(CAST(%s AS TEXT), '')" cols="" x
    for x in path key size mtime_ns sha256 md5 content_type state attempts last_error next_attempt_at \
        added_at uploaded_at etag upload_id part_size host_id; do
        # shellcheck disable=SC2059
        cols+=${cols:+" || '|' || "}$(printf "$c" "$x")
    done
    echo "== images"
    t_sql "SELECT $cols FROM images ORDER BY path" "$1"
    echo "== parts"
    t_sql "SELECT i.path || '|' || p.part_number || '|' || p.etag || '|' || p.size FROM parts p
        JOIN images i ON i.id = p.image_id ORDER BY i.path, p.part_number" "$1"
    echo "== part_digests"
    t_sql "SELECT i.path || '|' || d.part_size || '|' || d.part_number || '|' || d.md5 || '|' || d.sha256
        FROM part_digests d JOIN images i ON i.id = d.image_id ORDER BY i.path, d.part_number" "$1"
    echo "== runs"
    t_sql "SELECT started_at || '|' || coalesce(CAST(finished_at AS TEXT), '') || '|' || pid || '|' ||
        host_id || '|' || uploaded || '|' || failed || '|' || retried || '|' || bytes || '|' || outcome || '|' || message
        FROM runs ORDER BY started_at, pid" "$1"
    echo "== refusals"
    t_sql "SELECT path || '|' || size || '|' || mtime_ns || '|' || reason || '|' || first_seen || '|' ||
        last_seen || '|' || host_id FROM refusals ORDER BY path" "$1"
}
states() { t_sql "SELECT state || ':' || count(*) FROM images GROUP BY state ORDER BY state" "$1" | tr '\n' ' '; }
MP=(--multipart-threshold 8M --part-size 5M)

if t_begin "SQLite to PostgreSQL and back: every state, multipart progress, digests and passes, idempotent, source untouched"; then
    t_fixture migrate
    src=$TD/source.db
    export IMGSYNC_DB=$src
    # uploaded: 7 images through passes; deferred: 1 (attempts, error, a due time); failed: 1 (its
    # file changed after add); a 30 MiB PNG half uploaded (upload id, parts), added under another
    # host id with the part digests add records; 2 pending never tried; the passes' history
    imgsync_run seed --count 4 >/dev/null 2>&1 && imgsync_run upload >/dev/null 2>&1 &&
        imgsync_run seed --count 5 >/dev/null 2>&1 || t_die "seed/upload"
    t_sql "UPDATE images SET attempts = 2, last_error = 'HTTP 503 SlowDown', next_attempt_at = 1900000000
        WHERE id = (SELECT max(id) FROM images WHERE state = 'pending')" >/dev/null
    touch -d '2001-01-01' "$(t_sql "SELECT path FROM images WHERE state = 'pending' ORDER BY id LIMIT 1")"
    imgsync_run upload --max-images 1 >/dev/null 2>&1
    # (seeded into a state file of its own, then added: add records the part digests)
    imgsync_run --db "$TD/big.db" --spool "$TD/big" seed --count 1 --format png --min-bytes 30M \
        --max-bytes 30M >/dev/null 2>&1 && imgsync_run --host-id other-host add "${MP[@]}" "$TD/big" >/dev/null 2>&1 ||
        t_die "seed and add the big one"
    imgsync_run upload "${MP[@]}" --concurrency 1 --bandwidth 8M --max-duration 2s --grace 0s >/dev/null 2>&1
    [ "$(t_sql 'SELECT count(*) FROM parts')" -ge 1 ] || t_die "no half-done multipart upload"
    imgsync_run seed --count 2 >/dev/null 2>&1 || t_die "seed" # pending, never tried
    mkdir -p "$TD/bad" && printf 'no image\n' >"$TD/bad/notes.jpg" && : >"$TD/bad/empty.png"
    imgsync_run add "$TD/bad" >/dev/null 2>&1 # two refusals, remembered
    [ "$(t_sql 'SELECT count(*) FROM refusals')" = 2 ] || t_die "no remembered refusals"
    before=$(dump "$src")
    echo "     source: $(states "$src"); $(t_sql 'SELECT count(*) FROM parts') parts, $(t_sql 'SELECT count(*) FROM part_digests') digests, $(t_sql 'SELECT count(*) FROM runs') passes"
    t_newdb migrate-pg
    pg=$T_NEWDB
    back=$TD/back.db
    assert_exit 0 imgsync_run migrate --to "$pg" && echo "     $(tail -n 1 "$T_OUT")" &&
        assert_eq "$before" "$(dump "$src")" "the source after migrate" &&
        assert_eq "$before" "$(dump "$pg")" "PostgreSQL's copy" &&
        assert_exit 0 imgsync_run migrate --to "$pg" && echo "     again: $(tail -n 1 "$T_OUT")" &&
        assert_eq "$before" "$(dump "$pg")" "PostgreSQL's copy after a second migrate" &&
        assert_exit 0 imgsync_run --db "$pg" migrate --to "$back" &&
        assert_eq "$before" "$(dump "$back")" "the state file copied back" &&
        assert_eq "$before" "$(dump "$src")" "the source at the end" || t_fail
    if [ "$T_STATE" = open ]; then
        # the copy works: the multipart upload resumes from its upload id, the rest uploads,
        # the failed image stays failed, the deferred one waits for its time
        t_sql "UPDATE images SET next_attempt_at = 0" "$pg" >/dev/null
        assert_exit 0 imgsync_run --db "$pg" upload --claim any "${MP[@]}" &&
            assert_contains "$(<"$T_ERR")" "event=multipart_resumed" &&
            assert_eq "failed:1 uploaded:11 " "$(states "$pg")" && IMGSYNC_DB=$pg verify_uploaded && t_ok
    fi
fi

t_finish
