#!/usr/bin/env bash
# Whose failure is it: a pass that cannot work must fail (exit 3, run "failed"), whatever the size
# of the backlog, without spending the images' attempts; a failure that hits some keys only is
# those images'; an answer that does not check out (a wrong ETag) never counts as an upload.
# Against radosgw, and tests/faults/faultproxy.py in front of it for answers radosgw never gives.
# imgsync-test: backends sqlite pg
# imgsync-test: pg-asan
. "$(dirname "$0")/../lib.sh"
with_rgw
fp_start || t_die "no fault proxy"
export T_CMD_TIMEOUT=180

sql() { t_sql "$@"; }
last_run() { sql "SELECT outcome FROM runs ORDER BY id DESC LIMIT 1"; }
attempts() { sql "SELECT coalesce(sum(attempts), 0) FROM images"; }

# fresh NAME [ENDPOINT]: a new bucket, state file and prefix; no fault rules.
fresh() {
    imgsync_env "${2:-$FP_ENDPOINT}"
    t_state "$1"
    export IMGSYNC_PREFIX=$1/
    fp_rules
    fp_reset
}
seed() { imgsync_run seed "$@" >/dev/null 2>&1 || t_die "seed $*"; }

# half_uploaded: one 30 MiB image whose multipart upload a pass left half done (the deadline
# stopped it with some parts recorded), so that the next pass resumes it with ListParts.
MP=(--multipart-threshold 8M --part-size 5M)
half_uploaded() {
    seed --count 1 --format png --min-bytes 30M --max-bytes 30M
    imgsync_run upload "${MP[@]}" --concurrency 1 --bandwidth 8M --max-duration 2s --grace 0s
    [ "$(sql 'SELECT count(*) FROM parts')" -ge 1 ] && [ -n "$(sql 'SELECT upload_id FROM images')" ] ||
        t_die "no half-done multipart upload"
}

if t_begin "one pending image and a wrong secret: exit 3, run failed, no attempt spent"; then
    fresh onebad "$RGW_ENDPOINT"
    seed --count 1
    AWS_SECRET_ACCESS_KEY=not-the-secret assert_exit 3 imgsync_run upload &&
        assert_contains "$(<"$T_ERR")" "SignatureDoesNotMatch" &&
        assert_eq failed "$(last_run)" && assert_eq 0 "$(attempts)" &&
        assert_eq 1 "$(counts 'd["counts"]["pending"]')" && t_ok
fi

if t_begin "two images, --max-images 2, bucket missing: exit 3, not 'limit'"; then
    fresh nobucket "$RGW_ENDPOINT"
    seed --count 2
    IMGSYNC_BUCKET=no-such-bucket-$RANDOM assert_exit 3 imgsync_run upload --max-images 2 &&
        assert_eq failed "$(last_run)" && assert_eq 0 "$(attempts)" && t_ok
fi

if t_begin "a bucket policy denies priv/*: those images are charged, exit 1, then dead letters"; then
    fresh policy "$RGW_ENDPOINT"
    IMGSYNC_PREFIX=priv/ seed --count 2
    IMGSYNC_PREFIX=pub/ seed --count 4
    printf '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::%s/priv/*"}]}' \
        "$B" >"$T_TMP/policy.json"
    s3_curl PUT "/$B?policy=" "$(sha256_of "$T_TMP/policy.json")" -H 'Content-Type: application/json' \
        --data-binary "@$T_TMP/policy.json" || t_fail "PutBucketPolicy: HTTP $S3_STATUS"
    assert_exit 1 imgsync_run upload --max-attempts 2 &&
        assert_eq 4 "$(counts 'd["counts"]["uploaded"]')" &&
        assert_eq "2" "$(sql "SELECT count(*) FROM images WHERE key LIKE 'priv/%' AND attempts = 1 AND state = 'pending'")" &&
        assert_eq partial "$(last_run)" &&
        sql "UPDATE images SET next_attempt_at = 0" >/dev/null &&
        assert_exit 1 imgsync_run upload --max-attempts 2 &&
        assert_eq 2 "$(counts 'd["counts"]["failed"]')" &&
        assert_exit 0 imgsync_run list --state failed && assert_contains "$(<"$T_OUT")" "AccessDenied" && t_ok
fi

if t_begin "ListParts answered 405 on a resumed multipart upload: started again, uploaded"; then
    fresh lp405
    half_uploaded
    fp_rules "error:method=GET:query=uploadId:status=405:code=MethodNotAllowed"
    assert_exit 0 imgsync_run upload "${MP[@]}" &&
        assert_contains "$(<"$T_ERR")" "event=multipart_restart" &&
        assert_eq 1 "$(counts 'd["counts"]["uploaded"]')" && assert_eq 1 "$(fp_stat faults.error)" &&
        verify_uploaded && t_ok
fi

if t_begin "every request stalls until the deadline: a failed pass, not 'deadline'"; then
    fresh stalled
    seed --count 4
    fp_rules "stall:method=PUT:seconds=60"
    assert_exit 3 imgsync_run upload --max-duration 2s --grace 1s &&
        assert_eq failed "$(last_run)" &&
        assert_contains "$(sql 'SELECT message FROM runs ORDER BY id DESC LIMIT 1')" "no request succeeded" &&
        assert_eq 4 "$(counts 'd["counts"]["pending"]')" && t_ok
fi

if t_begin "every connection reset (http:// at a TLS port, say): exit 3, no attempt spent, ever"; then
    fresh resets
    seed --count 10
    fp_rules "drop-request:bytes=0:rst=1"
    ok=1
    for i in 1 2 3; do
        sql "UPDATE images SET next_attempt_at = 0" >/dev/null
        assert_exit 3 imgsync_run upload --pass-attempts 2 --max-attempts 3 || ok=0
    done
    [ $ok = 1 ] && assert_eq 0 "$(attempts)" && assert_eq 0 "$(counts 'd["counts"]["failed"]')" &&
        assert_contains "$(<"$T_ERR")" "none succeeded" &&
        fp_rules && sql "UPDATE images SET next_attempt_at = 0" >/dev/null &&
        assert_exit 0 imgsync_run upload && assert_eq 10 "$(counts 'd["counts"]["uploaded"]')" && t_ok
fi

if t_begin "CompleteMultipartUpload answers 200 with a wrong ETag: not marked uploaded"; then
    fresh badcomplete
    seed --count 1 --format png --min-bytes 12M --max-bytes 12M
    fp_rules 'rewrite:method=POST:query=uploadId=:from=<ETag>[^<]*</ETag>:to=<ETag>"0123456789abcdef0123456789abcdef-3"</ETag>'
    assert_exit 1 imgsync_run upload "${MP[@]}" --pass-attempts 2 &&
        assert_contains "$(<"$T_ERR")" "CompleteMultipartUpload ETag" &&
        assert_eq 0 "$(counts 'd["counts"]["uploaded"]')" && assert_eq 1 "$(counts 'd["counts"]["pending"]')" && t_ok
fi

if t_begin "ListParts lists parts whose ETag is not their MD5: they are sent again"; then
    fresh badlist
    half_uploaded
    fp_rules 'rewrite:method=GET:query=uploadId=:from=<ETag>[^<]*</ETag>:to=<ETag>"00000000000000000000000000000000"</ETag>'
    assert_exit 0 imgsync_run upload "${MP[@]}" &&
        assert_contains "$(<"$T_ERR")" "event=part_mismatch" &&
        assert_eq 1 "$(counts 'd["counts"]["uploaded"]')" && verify_uploaded && t_ok
fi

if t_begin "a file whose mtime changed after add: the reason names mtime, with both values"; then
    fresh touched "$RGW_ENDPOINT"
    seed --count 1
    path=$(sql "SELECT path FROM images")
    touch -d '2001-02-03 04:05:06 UTC' "$path"
    assert_exit 1 imgsync_run upload &&
        assert_exit 0 imgsync_run list --json --state failed &&
        assert_contains "$(<"$T_OUT")" "mtime " && assert_contains "$(<"$T_OUT")" "-> 2001-02-03T04:05:06Z" &&
        assert_not_contains "$(<"$T_OUT")" "size " && t_ok
fi

t_finish
