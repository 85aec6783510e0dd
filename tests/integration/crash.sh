#!/usr/bin/env bash
# Nothing lost: passes killed with SIGKILL at random moments, multipart uploads resumed after a
# kill (confirmed with ListParts), aborted when the image fails, and a state file that stays intact.
# imgsync-test: backends sqlite pg
# imgsync-test: pg-asan
. "$(dirname "$0")/../lib.sh"
with_rgw

imgsync_env "$RGW_ENDPOINT"

sql() { t_sql "$@"; }

if t_begin "SIGKILL at random moments, 6 times: every image uploaded exactly once, none stuck"; then
    t_state kill
    export IMGSYNC_PREFIX=kill/
    imgsync_run seed --count 150 --min-bytes 8K --max-bytes 96K >/dev/null 2>&1 || t_die seed
    kills=0
    for round in 1 2 3 4 5 6; do
        imgsync_bg upload --concurrency 8 --rate 40 "${T_KILLED_PASS_OPTS[@]}"
        pid=$IMGSYNC_PID
        sleep "0.$((RANDOM % 9 + 1))"
        kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
        wait "$pid" 2>/dev/null
    done
    left=$(counts 'd["counts"]["uploading"]')
    echo "     $kills kills; $left images left uploading by the dead passes"
    t_after_kill
    assert_exit 0 imgsync_run upload --concurrency 8 &&
        assert_eq 150 "$(counts 'd["counts"]["uploaded"]')" &&
        assert_eq 0 "$(counts 'd["counts"]["uploading"] + d["counts"]["pending"] + d["counts"]["failed"]')" &&
        assert_eq 150 "$(s3_count "$B" kill/)" &&
        { [ "$T_BACKEND" != sqlite ] || assert_eq ok "$(sql 'PRAGMA integrity_check')"; } &&
        assert_eq 0 "$(sql "SELECT count(*) FROM runs WHERE outcome = 'running'")" &&
        verify_uploaded && t_ok
fi

if t_begin "multipart above --multipart-threshold: parts in parallel, object identical"; then
    t_state mp
    export IMGSYNC_PREFIX=mp/
    imgsync_run seed --count 1 --format png --min-bytes 23M --max-bytes 23M >/dev/null 2>&1 || t_die seed
    path=$(sql "SELECT path FROM images")
    key=$(sql "SELECT key FROM images")
    assert_exit 0 imgsync_run upload --multipart-threshold 8M --part-size 5M --concurrency 4 &&
        s3_get "$B/$key" "$T_TMP/mp.got" && assert_files_eq "$path" "$T_TMP/mp.got" &&
        assert_match "$(s3_header "$B/$key" etag)" '-5"?$' && t_ok
fi

# digests_seeded NAME: a fresh state (t_state NAME) and prefix NAME/, and two 23 MiB PNGs in
# src_dir (seeded into a SQLite state file of their own, only to make them), not added yet.
digests_seeded() {
    t_state "$1"
    export IMGSYNC_PREFIX=$1/
    imgsync_run --db "$T_TMP/$1-seed.db" --spool "$T_TMP/$1-spool" seed --count 2 --format png \
        --min-bytes 23M --max-bytes 23M >/dev/null 2>&1 || t_die seed
    src_dir=$(dirname "$(sql "SELECT path FROM images LIMIT 1" "$T_TMP/$1-seed.db")")
}
# digests_corrupt: a wrong MD5 recorded for part 3 of the first image (its id: bad).
digests_corrupt() {
    bad=$(sql "SELECT id FROM images ORDER BY id LIMIT 1")
    sql "UPDATE part_digests SET md5 = '00000000000000000000000000000000' WHERE image_id = $bad AND part_number = 3" >/dev/null
}

if t_begin "add records each part's digests; the pass sends them, and the server's check stands"; then
    digests_seeded digests
    # 23 MiB in 5 MiB parts: 5 parts per file, hashed by add in the same read as the whole file.
    assert_exit 0 imgsync_run add --multipart-threshold 8M --part-size 5M "$src_dir" &&
        assert_eq 10 "$(sql 'SELECT count(*) FROM part_digests WHERE part_size = 5242880')" || t_fail
    # A wrong recorded digest is never uploaded under that record: the server refuses the part
    # (BadDigest), the image fails, and nothing is marked uploaded.
    digests_corrupt
    assert_exit 1 imgsync_run upload --multipart-threshold 8M --part-size 5M --concurrency 4 &&
        assert_eq 1 "$(counts 'd["counts"]["uploaded"]')" &&
        assert_eq 1 "$(counts 'd["counts"]["failed"]')" &&
        assert_contains "$(sql "SELECT last_error FROM images WHERE id = $bad")" "BadDigest" &&
        assert_eq 0 "$(sql 'SELECT count(*) FROM part_digests WHERE image_id <> '"$bad")" &&
        verify_uploaded && t_ok
fi

if t_begin "another part size than add recorded: the pass hashes the parts itself"; then
    # Where the test above ends: one image uploaded, the one with the wrong digest failed.
    digests_seeded partsize
    imgsync_run add --multipart-threshold 8M --part-size 5M "$src_dir" >/dev/null 2>&1 || t_die add
    digests_corrupt
    imgsync_run upload --multipart-threshold 8M --part-size 5M --concurrency 4 >/dev/null 2>&1
    [ "$(counts 'd["counts"]["failed"]')" = 1 ] || t_die "the image with a wrong digest did not fail"
    # add again (new mtime = new content) keeps 5M digests; the pass cuts 6M parts and hashes them.
    touch "$(sql "SELECT path FROM images WHERE id = $bad")"
    assert_exit 0 imgsync_run add --multipart-threshold 8M --part-size 5M "$src_dir" &&
        assert_exit 0 imgsync_run upload --multipart-threshold 8M --part-size 6M &&
        assert_eq 2 "$(counts 'd["counts"]["uploaded"]')" &&
        assert_match "$(s3_header "$B/$(sql "SELECT key FROM images WHERE id = $bad")" etag)" '-4"?$' &&
        verify_uploaded && t_ok
fi

if t_begin "a multipart upload killed midway resumes in the next pass (ListParts)"; then
    t_state resume
    export IMGSYNC_PREFIX=resume/
    imgsync_run seed --count 1 --format png --min-bytes 40M --max-bytes 40M >/dev/null 2>&1 || t_die seed
    path=$(sql "SELECT path FROM images")
    key=$(sql "SELECT key FROM images")
    imgsync_bg upload --multipart-threshold 8M --part-size 5M --concurrency 2 --bandwidth 6M "${T_KILLED_PASS_OPTS[@]}"
    pid=$IMGSYNC_PID
    for i in $(seq 1 100); do # until at least 2 parts are recorded (bounded: 20 s)
        [ "$(sql 'SELECT count(*) FROM parts' 2>/dev/null || echo 0)" -ge 2 ] && break
        sleep 0.2
    done
    kill -KILL $pid; wait $pid 2>/dev/null
    t_after_kill
    done_parts=$(sql 'SELECT count(*) FROM parts')
    upload_id=$(sql 'SELECT upload_id FROM images')
    echo "     killed with $done_parts of 8 parts recorded, upload id ${upload_id:0:12}..."
    assert_ne "" "$upload_id" && assert_ne 0 "$done_parts" &&
        assert_exit 0 imgsync_run upload --multipart-threshold 8M --part-size 5M --concurrency 2 &&
        assert_contains "$(<"$T_ERR")" "event=multipart_resumed" &&
        assert_match "$(grep multipart_resumed "$T_ERR")" "parts_done=[1-9]" &&
        s3_get "$B/$key" "$T_TMP/resume.got" && assert_files_eq "$path" "$T_TMP/resume.got" &&
        assert_eq "" "$(sql "SELECT coalesce(upload_id, '') FROM images")" &&
        assert_eq 0 "$(sql 'SELECT count(*) FROM parts')" && t_ok
fi

# killed_then_changed NAME: a fresh state (t_state NAME), prefix NAME/: a 30 MiB PNG (path) whose
# multipart upload was killed after its first part, and whose file then changed (mtime).
killed_then_changed() {
    t_state "$1"
    export IMGSYNC_PREFIX=$1/
    imgsync_run seed --count 1 --format png --min-bytes 30M --max-bytes 30M >/dev/null 2>&1 || t_die seed
    path=$(sql "SELECT path FROM images")
    imgsync_bg upload --multipart-threshold 8M --part-size 5M --concurrency 1 --bandwidth 5M "${T_KILLED_PASS_OPTS[@]}"
    pid=$IMGSYNC_PID
    for i in $(seq 1 100); do
        [ "$(sql 'SELECT count(*) FROM parts' 2>/dev/null || echo 0)" -ge 1 ] && break
        sleep 0.2
    done
    kill -KILL $pid; wait $pid 2>/dev/null
    t_after_kill
    touch -d '2001-01-01' "$path"
}

if t_begin "a multipart upload whose file changed is failed and aborted (no orphaned parts)"; then
    killed_then_changed abort
    s3_curl GET "/$B?prefix=abort%2F&uploads=" UNSIGNED-PAYLOAD
    before=$(grep -o '<UploadId>' "$S3_BODY" | wc -l)
    assert_exit 1 imgsync_run upload --multipart-threshold 8M &&
        assert_contains "$(<"$T_ERR")" "changed since it was added" &&
        assert_eq 1 "$(counts 'd["counts"]["failed"]')" && sleep 1 &&
        s3_curl GET "/$B?prefix=abort%2F&uploads=" UNSIGNED-PAYLOAD &&
        assert_eq 1 "$before" && assert_eq 0 "$(grep -o '<UploadId>' "$S3_BODY" | wc -l)" && t_ok
fi

if t_begin "add after the change registers the new content, which then uploads"; then
    # Where the test above ends: the changed image failed, its upload aborted.
    killed_then_changed changed
    imgsync_run upload --multipart-threshold 8M >/dev/null 2>&1
    [ "$(counts 'd["counts"]["failed"]')" = 1 ] || t_die "the changed image did not fail"
    assert_exit 0 imgsync_run add "$path" && assert_contains "$(<"$T_OUT")" "updated 1" &&
        assert_exit 0 imgsync_run upload --multipart-threshold 8M &&
        assert_eq 1 "$(counts 'd["counts"]["uploaded"]')" && t_ok
fi

t_finish
