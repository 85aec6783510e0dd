#!/usr/bin/env bash
# imgsync verify against radosgw: an intact bucket, objects deleted or overwritten behind
# imgsync's back (reported by key, exit 1, status and the check), --requeue and the pass that
# uploads them again, --sample and --since, and bad input refused before any request.
# imgsync-test: backends sqlite pg
. "$(dirname "$0")/../lib.sh"
with_rgw
imgsync_env "$RGW_ENDPOINT"

# uploaded NAME COUNT: t_fixture NAME with COUNT seeded images, uploaded.
uploaded() {
    t_fixture "$1"
    imgsync_run seed --count "$2" --seed 21 >"$TD/seed.log" 2>&1 || t_die "seed $2: $(tail -n2 "$TD/seed.log")"
    imgsync_run upload >"$TD/upload.log" 2>&1 || t_die "upload: $(tail -n2 "$TD/upload.log")"
}
# nth_uploaded N FIELD: the FIELD (id, key, path) of the Nth uploaded image, in id order.
nth_uploaded() {
    imgsync_run list --json --state uploaded |
        "$T_PY" -c 'import json,sys; print(json.load(sys.stdin)[int(sys.argv[1])][sys.argv[2]])' "$1" "$2"
}

if t_begin "an intact bucket: every object ok, exit 0, the verification in status and metrics"; then
    uploaded intact 5
    assert_exit 0 imgsync_run verify &&
        assert_eq "verified 5 objects: 5 ok, 0 missing, 0 changed, 0 unverified; 0 requeued" \
            "$(tail -n1 "$T_OUT")" "summary" &&
        assert_contains "$(<"$T_ERR")" "verify_done" "log" &&
        imgsync_run status --json >"$TD/status.json" &&
        assert_eq "ok 5 all" "$(json "$TD/status.json" '" ".join(str(d["last_verification"][k]) for k in ("outcome", "ok", "scope"))')" "status --json" &&
        assert_contains "$(imgsync_run status)" "verified:    " "status text" &&
        imgsync_run status --prometheus "$TD/metrics.prom" >/dev/null &&
        assert_contains "$(<"$TD/metrics.prom")" 'imgsync_verify_objects{result="ok"} 5' "metrics" &&
        assert_exit 0 imgsync_run status --check && t_ok
fi

if t_begin "a deleted and an overwritten object are reported by key, exit 1, check critical"; then
    uploaded broken 4
    gone_key=$(nth_uploaded 1 key) gone_id=$(nth_uploaded 1 id)
    other_key=$(nth_uploaded 2 key)
    s3_delete "$B/$gone_key" || t_die "delete"
    printf 'not the image' >"$TD/other"
    s3_put "$B/$other_key" "$TD/other" || t_die "overwrite"
    assert_exit 1 imgsync_run verify &&
        assert_contains "$(<"$T_OUT")" "$(printf 'missing\t%s\t%s\tno object under the key' "$gone_id" "$gone_key")" "missing line" &&
        assert_contains "$(grep "^changed" "$T_OUT")" "$other_key" "changed line" &&
        assert_contains "$(grep "^changed" "$T_OUT")" "13 bytes, not the image's" "changed reason" &&
        assert_eq "verified 4 objects: 2 ok, 1 missing, 1 changed, 0 unverified; 0 requeued" \
            "$(tail -n1 "$T_OUT")" "summary" &&
        assert_exit 2 imgsync_run status --check &&
        assert_contains "$(<"$T_OUT")" "last verify found 2 objects missing or changed" "check" &&
        assert_eq 4 "$(t_sql "SELECT count(*) FROM images WHERE state = 'uploaded'")" "still uploaded (no --requeue)" &&
        t_ok
fi

if t_begin "--requeue: the next pass uploads them again; a file changed since is not requeued"; then
    uploaded requeue 3
    k0=$(nth_uploaded 0 key) k1=$(nth_uploaded 1 key) p1=$(nth_uploaded 1 path)
    s3_delete "$B/$k0" && s3_delete "$B/$k1" || t_die "delete"
    printf 'x' >>"$p1" # no longer the image that was registered
    assert_exit 1 imgsync_run verify --requeue &&
        assert_eq 1 "$(grep -c '(requeued)$' "$T_OUT")" "requeued lines" &&
        assert_contains "$(grep "(requeued)" "$T_OUT")" "$k0" "the intact file's image is requeued" &&
        assert_contains "$(tail -n1 "$T_OUT")" "; 1 requeued" "summary" &&
        assert_eq 1 "$(t_sql "SELECT count(*) FROM images WHERE state = 'pending' AND last_error LIKE 'verify: object missing%'")" "pending with the reason" &&
        assert_exit 0 imgsync_run upload &&
        s3_exists "$B/$k0" &&
        assert_exit 1 imgsync_run verify &&
        assert_eq "verified 3 objects: 2 ok, 1 missing, 0 changed, 0 unverified; 0 requeued" \
            "$(tail -n1 "$T_OUT")" "after the pass" && t_ok
fi

if t_begin "--sample N checks N objects; --since checks those uploaded within the duration"; then
    uploaded scope 4
    assert_exit 0 imgsync_run verify --sample 2 &&
        assert_contains "$(tail -n1 "$T_OUT")" "verified 2 objects" "--sample 2" &&
        assert_exit 0 imgsync_run verify --since 1h &&
        assert_contains "$(tail -n1 "$T_OUT")" "verified 4 objects" "--since 1h" &&
        t_sql "UPDATE images SET uploaded_at = uploaded_at - 7200" >/dev/null &&
        assert_exit 0 imgsync_run verify --since 1h &&
        assert_contains "$(tail -n1 "$T_OUT")" "verified 0 objects" "--since 1h, uploaded 2h ago" &&
        imgsync_run status --json >"$TD/status.json" &&
        assert_eq "since 1h" "$(json "$TD/status.json" 'd["last_verification"]["scope"]')" "scope" &&
        t_ok
fi

if t_begin "bad input and a missing bucket: one line, exit 2 or 3, nothing requeued"; then
    uploaded badinput 2
    assert_exit 2 imgsync_run verify --sample 2 --since 1h &&
        assert_exit 2 imgsync_run verify --since soon &&
        assert_contains "$(<"$T_ERR")" "--since" "names the option" &&
        assert_exit 2 imgsync_run verify --sample 0 &&
        IMGSYNC_BUCKET=$B-absent assert_exit 3 imgsync_run verify --requeue &&
        assert_contains "$(<"$T_ERR")" "no such bucket" "missing bucket" &&
        assert_eq 1 "$(grep -c 'imgsync: ' "$T_ERR")" "one error line" &&
        assert_eq 2 "$(t_sql "SELECT count(*) FROM images WHERE state = 'uploaded'")" "still uploaded" && t_ok
fi

t_finish
