#!/usr/bin/env bash
# How objects are stored, read back with an independent client (curl --aws-sigv4): storage class,
# Cache-Control, Content-Disposition, user metadata, tags, a canned ACL, x-amz-meta-sha256 on
# every object, and SSE-KMS against radosgw's testing KMS (an ETag that is not the MD5), for
# single PUTs and multipart uploads. Bad values are refused before any request.
# imgsync-test: backends sqlite pg
. "$(dirname "$0")/../lib.sh"
with_rgw
imgsync_env "$RGW_ENDPOINT"

# seeded NAME COUNT [SEED ARGS...]: t_fixture NAME with COUNT seeded images pending.
seeded() {
    t_fixture "$1"
    local n=$2
    shift 2
    imgsync_run seed --count "$n" --seed 11 "$@" >/dev/null 2>&1 || t_die "seed $n"
}
# keys_and_sha: "KEY<TAB>SHA256<TAB>PATH" of every uploaded image.
keys_and_sha() {
    imgsync_run list --json --state uploaded | "$T_PY" -c '
import json, sys
for r in json.load(sys.stdin): print(r["key"] + "\t" + r["sha256"] + "\t" + r["path"])'
}

if t_begin "every object carries x-amz-meta-sha256, the image's SHA-256"; then
    seeded sha 4
    assert_exit 0 imgsync_run upload && {
        ok=1 n=0
        while IFS=$'\t' read -r key sha path; do
            n=$((n + 1))
            assert_eq "$sha" "$(s3_header "$B/$key" x-amz-meta-sha256)" "x-amz-meta-sha256 of $key" &&
                assert_eq "$sha" "$(sha256_of "$path")" "sha256 of $path" || { ok=0; break; }
        done < <(keys_and_sha)
        [ $ok = 1 ] && assert_eq 4 "$n" "objects checked" && t_ok
    }
fi

if t_begin "headers, metadata, tags and ACL are stored as given, on PUT and multipart"; then
    seeded settings 2
    # One image big enough for multipart (the threshold lowered to 5 MiB).
    imgsync_run seed --count 1 --seed 12 --min-bytes 7M --max-bytes 7M >/dev/null 2>&1 ||
        t_die "seed big"
    tags='project=scans&place=S%C3%A3o Paulo'
    assert_exit 0 imgsync_run upload --multipart-threshold 5M --part-size 5M \
        --cache-control 'public, max-age=86400' \
        --content-disposition "attachment; filename*=UTF-8''caf%C3%A9.jpg" \
        --metadata camera=X100 --metadata 'Shot-By=ana' --tagging "$tags" \
        --acl public-read --storage-class STANDARD && {
        ok=1 n=0
        while IFS=$'\t' read -r key sha path; do
            n=$((n + 1))
            h=$(s3_head "$B/$key")
            assert_contains "$h" "cache-control: public, max-age=86400" "$key" &&
                assert_contains "$h" "content-disposition: attachment; filename*=UTF-8''caf%C3%A9.jpg" "$key" &&
                assert_contains "$h" "x-amz-meta-camera: X100" "$key" &&
                assert_contains "$h" "x-amz-meta-shot-by: ana" "$key" &&
                assert_contains "$h" "x-amz-meta-sha256: $sha" "$key" || { ok=0; break; }
            { s3_curl GET "$(s3__path "$B/$key")?tagging=" UNSIGNED-PAYLOAD || t_fail "GET ?tagging of $key: HTTP $S3_STATUS $(head -c 300 "$S3_BODY")"; } &&
                assert_contains "$(<"$S3_BODY")" "<Key>project</Key><Value>scans</Value>" "tags of $key (HTTP $S3_STATUS)" &&
                assert_contains "$(<"$S3_BODY")" "<Value>São Paulo</Value>" "tags of $key" || { ok=0; break; }
            # public-read: an anonymous GET works.
            code=$(curl -sS -o /dev/null -w '%{http_code}' "$RGW_ENDPOINT$(s3__path "$B/$key")")
            assert_eq 200 "$code" "anonymous GET of $key (public-read)" || { ok=0; break; }
        done < <(keys_and_sha)
        [ $ok = 1 ] && assert_eq 3 "$n" "objects checked" && t_ok
    }
fi

if t_begin "an object without --acl is private: an anonymous GET is refused"; then
    seeded private 1
    assert_exit 0 imgsync_run upload && {
        key=$(keys_and_sha | cut -f1)
        code=$(curl -sS -o /dev/null -w '%{http_code}' "$RGW_ENDPOINT$(s3__path "$B/$key")")
        assert_eq 403 "$code" "anonymous GET" && t_ok
    }
fi

if t_begin "SSE-KMS: objects are encrypted with the key named, and still verified"; then
    seeded kms 2
    imgsync_run seed --count 1 --seed 13 --min-bytes 7M --max-bytes 7M >/dev/null 2>&1 ||
        t_die "seed big"
    assert_exit 0 imgsync_run upload --multipart-threshold 5M --part-size 5M \
        --sse aws:kms --sse-kms-key-id testkey-1 && {
        ok=1 n=0
        while IFS=$'\t' read -r key sha path; do
            n=$((n + 1))
            h=$(s3_head "$B/$key")
            assert_contains "$h" "x-amz-server-side-encryption: aws:kms" "$key" &&
                assert_contains "$h" "x-amz-server-side-encryption-aws-kms-key-id: testkey-1" "$key" &&
                s3_get "$B/$key" "$T_TMP/got" && cmp -s "$path" "$T_TMP/got" ||
                { t_fail "object $key: not encrypted as asked or not byte-identical"; ok=0; break; }
        done < <(keys_and_sha)
        [ $ok = 1 ] && assert_eq 3 "$n" "objects checked" && t_ok
    }
fi

if t_begin "--checksum-algorithm crc32c and sha256: PUT and multipart go up whole (radosgw 16 neither checks nor echoes them)"; then
    ok=1
    for alg in crc32c sha256; do
        seeded "sum-$alg" 2
        imgsync_run seed --count 1 --seed 15 --min-bytes 11M --max-bytes 11M >/dev/null 2>&1 ||
            t_die "seed big"
        assert_exit 0 imgsync_run upload --checksum-algorithm "$alg" --multipart-threshold 5M \
            --part-size 5M || { ok=0; break; }
        n=0
        while IFS=$'\t' read -r key sha path; do
            n=$((n + 1))
            s3_get "$B/$key" "$T_TMP/got" && assert_files_eq "$path" "$T_TMP/got" || { ok=0; break; }
        done < <(keys_and_sha)
        [ $ok = 1 ] && assert_eq 3 "$n" "objects read back ($alg)" || { ok=0; break; }
    done
    [ $ok = 1 ] && t_ok
fi

if t_begin "a storage class the store does not know fails the pass, exit 3, no image charged"; then
    seeded unknown-class 3
    # radosgw knows only the classes of its placement targets (STANDARD here): InvalidArgument.
    assert_exit 3 imgsync_run upload --storage-class STANDARD_IA &&
        assert_contains "$(<"$T_ERR")" "InvalidArgument" &&
        assert_eq 3 "$(counts 'd["counts"]["pending"]')" "pending" &&
        assert_eq 0 "$(imgsync_run list --json | json /dev/stdin 'sum(r["attempts"] for r in d)')" "attempts charged" &&
        assert_eq 0 "$(counts 'd["counts"]["failed"]')" "failed" && t_ok
fi

if t_begin "--if-none-match: an existing key is never overwritten; it counts only if it is this image"; then
    seeded inm 2
    imgsync_run seed --count 1 --seed 14 --min-bytes 7M --max-bytes 7M >/dev/null 2>&1 ||
        t_die "seed big"
    mapfile -t rows < <(imgsync_run list --json | "$T_PY" -c '
import json, sys
for r in json.load(sys.stdin): print(r["key"] + "\t" + r["sha256"] + "\t" + r["path"] + "\t" + str(r["size"]))')
    IFS=$'\t' read -r same_key same_sha same_path _ <<<"${rows[0]}"
    IFS=$'\t' read -r other_key _ _ _ <<<"${rows[1]}"
    IFS=$'\t' read -r big_key _ _ big_size <<<"${rows[2]}"
    [ "$big_size" -gt 6000000 ] || t_die "the third image is not the big one"
    printf 'someone else\n' >"$TD/other"
    # Put there beforehand by someone else: the same bytes with their SHA-256, and other bytes.
    s3_put "$B/$same_key" "$same_path" -H "x-amz-meta-sha256: $same_sha" -H 'x-amz-meta-by: curl' &&
        s3_put "$B/$other_key" "$TD/other" && s3_put "$B/$big_key" "$TD/other" ||
        t_die "cannot put the existing objects"
    assert_exit 1 imgsync_run upload --if-none-match --multipart-threshold 5M --part-size 5M &&
        assert_contains "$(<"$T_ERR")" "exists with other content" &&
        assert_eq "curl" "$(s3_header "$B/$same_key" x-amz-meta-by)" "the same image's object was not rewritten" &&
        s3_get "$B/$other_key" "$TD/got" && assert_files_eq "$TD/other" "$TD/got" &&
        s3_get "$B/$big_key" "$TD/got" && assert_files_eq "$TD/other" "$TD/got" &&
        assert_eq 1 "$(counts 'd["counts"]["uploaded"]')" "uploaded" &&
        assert_eq 2 "$(counts 'd["counts"]["failed"]')" "failed" && t_ok
fi

if t_begin "--key-layout exif-date: keys from EXIF DateTimeOriginal (written by exiftool), else the mtime"; then
    seeded exif 2
    mapfile -t jpgs < <(find "$IMGSYNC_SPOOL" -name '*.jpg' | sort)
    [ ${#jpgs[@]} -ge 1 ] || t_die "no seeded JPEG"
    mkdir -p "$TD/src/trip"
    cp "${jpgs[0]}" "$TD/src/trip/shot.jpg"
    cp "${jpgs[0]}" "$TD/src/trip/plain.jpg"
    exiftool -q -overwrite_original -DateTimeOriginal='2019:07:14 10:20:30' "$TD/src/trip/shot.jpg" ||
        t_die "exiftool failed"
    touch -d '2021-03-04 05:06:07 UTC' "$TD/src/trip/shot.jpg" "$TD/src/trip/plain.jpg"
    assert_exit 0 imgsync_run --prefix x/ add --key-layout exif-date "$TD/src/trip" &&
        keys=$(imgsync_run list --json | json /dev/stdin '" ".join(sorted(r["key"] for r in d))') &&
        assert_contains "$keys" "x/2019/07/14/shot.jpg" &&
        assert_contains "$keys" "x/2021/03/04/plain.jpg" &&
        assert_exit 0 imgsync_run upload && s3_exists "$B/x/2019/07/14/shot.jpg" && t_ok
fi

if t_begin "--key-template: named fields make the key; a bad template is refused, exit 2"; then
    t_fixture template
    mkdir -p "$TD/src/a"
    imgsync_run seed --count 1 --seed 15 --format png >/dev/null 2>&1 || t_die seed
    cp "$(find "$IMGSYNC_SPOOL" -name '*.png' | head -1)" "$TD/src/a/Pic One.png"
    touch -d '2020-01-02 03:04:05 UTC' "$TD/src/a/Pic One.png"
    sha=$(sha256_of "$TD/src/a/Pic One.png")
    assert_exit 2 imgsync_run add --key-template '{prefix}{nope}' "$TD/src" &&
        assert_contains "$(<"$T_ERR")" "unknown field {nope}" &&
        assert_exit 0 imgsync_run --prefix t/ add --key-template '{prefix}{year}{month}/{dir}/{sha256:8}-{stem}.{ext}' "$TD/src" &&
        key=$(imgsync_run list --json | json /dev/stdin 'd[-1]["key"]') &&
        assert_eq "t/202001/a/${sha:0:8}-Pic One.png" "$key" "the key" && t_ok
fi

if t_begin "bad object settings are refused before any request, exit 2, nothing changes"; then
    seeded refused 2
    ok=1
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        eval "args=($line)"
        assert_exit 2 imgsync_run upload "${args[@]}" &&
            assert_eq 1 "$(wc -l <"$T_ERR")" "stderr lines of: $line" || { ok=0; break; }
    done <<'EOF2'
--storage-class 'GLACIER IR'
--metadata sha256=x
--metadata 'no value'
--tagging 'aws:x=1'
--cache-control $'a\nb'
--sse-kms-key-id testkey-1
--acl world-writable
--sse rot13
EOF2
    [ $ok = 1 ] && assert_eq 2 "$(counts 'd["counts"]["pending"]')" "pending after refusals" &&
        assert_eq "" "$(s3_list "$B")" "objects in the bucket" && t_ok
fi

t_finish
