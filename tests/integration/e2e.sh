#!/usr/bin/env bash
# End to end against radosgw: seed, add (awkward keys, refusals, idempotence), upload, byte-for-byte
# read-back with an independent client (curl --aws-sigv4), list/status JSON, check, wrong secret.
# Each test has its own state file, spool, prefix and bucket (t_fixture): any one runs alone.
# imgsync-test: backends sqlite pg
# imgsync-test: pg-asan
. "$(dirname "$0")/../lib.sh"
with_rgw
imgsync_env "$RGW_ENDPOINT"
unset IMGSYNC_PREFIX

# Awkward names: every one must arrive byte for byte under exactly its key.
NAMES=("with space.jpg" "plus+sign.jpg" "tilde~.jpg" "star*.jpg" "quote'.jpg" "paren(1).jpg"
    "bang!.jpg" "at@.jpg" "dollar\$.jpg" "percent%20.jpg" "equals=.jpg" "amp&.jpg" "semi;.jpg"
    "comma,.jpg" "hash#.jpg" "brackets[].jpg" "braces{}.jpg" "caret^.jpg" "café.jpg"
    "日本語の写真.jpg" "Фото.jpg" "UPPER.JPG" "nested/deeper/deep file.JPEG" "nested/ü-ß.PNG")

# fixture NAME: t_fixture NAME without a key prefix (the tests name their keys themselves).
fixture() {
    t_fixture "$1"
    unset IMGSYNC_PREFIX
}
# seeded_tree NAME: fixture NAME, 40 seeded images pending (--seed 7), and SRC=$TD/src: copies of
# them under the awkward NAMES, plus a text file, an empty PNG and a truncated JPEG.
seeded_tree() {
    fixture "$1"
    imgsync_run seed --count 40 --seed 7 >/dev/null 2>&1 || t_die "seed failed"
    SRC=$TD/src
    mkdir -p "$SRC/nested/deeper"
    local i=0 n seeded seeded_png
    mapfile -t seeded < <(find "$IMGSYNC_SPOOL" -type f -name '*.jpg' | sort)
    mapfile -t seeded_png < <(find "$IMGSYNC_SPOOL" -type f -name '*.png' | sort)
    for n in "${NAMES[@]}"; do
        case $n in *.PNG) cp "${seeded_png[0]}" "$SRC/$n" ;; *) cp "${seeded[$i]}" "$SRC/$n" ;; esac
        i=$((i + 1))
    done
    printf 'not an image at all\n' >"$SRC/notes.jpg"
    : >"$SRC/empty.png"
    head -c 100 "${seeded[0]}" >"$SRC/truncated.jpg"
}
# added_tree NAME: seeded_tree NAME, and SRC added under odd/ (it refuses three files: exit 1).
added_tree() {
    seeded_tree "$1"
    imgsync_run --prefix "odd/" add "$SRC" >/dev/null 2>&1
    [ $? = 1 ] || t_die "add of the awkward tree did not exit 1"
}
# uploaded_tree NAME: added_tree NAME, and all of it uploaded.
uploaded_tree() {
    added_tree "$1"
    imgsync_run upload --concurrency 8 >/dev/null 2>&1 || t_die "upload of the awkward tree failed"
}

if t_begin "help documents every option with its variable"; then
    fixture help
    assert_exit 0 imgsync_run upload --help &&
        assert_contains "$(<"$T_OUT")" "IMGSYNC_MAX_IMAGES" &&
        assert_contains "$(<"$T_OUT")" "IMGSYNC_CONCURRENCY" &&
        assert_exit 0 imgsync_run --help && assert_contains "$(<"$T_OUT")" "IMGSYNC_DB" && t_ok
fi

if t_begin "seed writes real images and registers them pending"; then
    fixture seed
    assert_exit 0 imgsync_run seed --count 40 --seed 7 &&
        assert_exit 0 imgsync_run status --json &&
        assert_eq 40 "$(json "$T_OUT" 'd["counts"]["pending"]')" &&
        assert_eq None "$(json "$T_OUT" 'd["last_run"]')" &&
        assert_eq 40 "$(find "$IMGSYNC_SPOOL" -type f | wc -l)" && t_ok
fi

if t_begin "spool and state file are private"; then
    fixture private
    imgsync_run seed --count 2 --seed 7 >/dev/null 2>&1 || t_die "seed failed"
    # (on PostgreSQL there is no state file: the database's own access control applies)
    [ "$T_BACKEND" = sqlite ] || echo "     T_BACKEND=$T_BACKEND: no state file, only the spool's mode is checked"
    assert_eq 700 "$(stat -c %a "$IMGSYNC_SPOOL")" &&
        { [ "$T_BACKEND" != sqlite ] || assert_eq 600 "$(stat -c %a "$IMGSYNC_DB")"; } && t_ok
fi

if t_begin "add refuses non-images, keeps the rest, exits 1"; then
    seeded_tree refuses
    assert_exit 1 imgsync_run --prefix "odd/" add "$SRC" &&
        assert_contains "$(<"$T_ERR")" "notes.jpg" && assert_contains "$(<"$T_ERR")" "not an image" &&
        assert_contains "$(<"$T_ERR")" "zero-byte" && assert_contains "$(<"$T_ERR")" "truncated" &&
        assert_contains "$(<"$T_OUT")" "added ${#NAMES[@]}," && t_ok
fi

if t_begin "adding the same files again changes nothing, and the refusals are remembered"; then
    added_tree again
    assert_exit 0 imgsync_run --prefix "odd/" add "$SRC" &&
        assert_contains "$(<"$T_OUT")" "added 0, updated 0, unchanged ${#NAMES[@]}" &&
        assert_contains "$(<"$T_OUT")" "refused 0, excluded 0, remembered refusals 3" &&
        assert_exit 0 imgsync_run status --json &&
        assert_eq $((40 + ${#NAMES[@]})) "$(json "$T_OUT" 'd["counts"]["pending"]')" && t_ok
fi

if t_begin "list --json has the documented fields"; then
    fixture list
    imgsync_run seed --count 6 --seed 7 >/dev/null 2>&1 || t_die "seed failed"
    assert_exit 0 imgsync_run list --json --state pending --limit 5 &&
        assert_eq 5 "$(json "$T_OUT" 'len(d)')" &&
        assert_eq "True" "$(json "$T_OUT" 'all(k in d[0] for k in ["id","path","key","size","sha256","content_type","state","attempts","last_error","added_at","uploaded_at"])')" &&
        assert_eq pending "$(json "$T_OUT" 'd[0]["state"]')" && t_ok
fi

if t_begin "check accepts the configuration and credentials"; then
    fixture check
    assert_exit 0 imgsync_run check && assert_contains "$(<"$T_OUT")" "accepted" &&
        assert_not_contains "$(<"$T_OUT")$(<"$T_ERR")" "$RGW_SECRET_KEY" && t_ok
fi

if t_begin "a wrong secret: SignatureDoesNotMatch, exit 3, nothing failed, secret never printed"; then
    # A state file of its own: the images a failed pass held wait a minute (doc/how-it-works.md,
    # "Whose failure is it").
    fixture wrong-secret
    imgsync_run seed --count 12 --seed 8 >/dev/null 2>&1
    assert_exit 3 env AWS_SECRET_ACCESS_KEY=wrongsecretwrongsecretwrongsecret0000000 "$IMGSYNC_BIN" upload &&
        assert_contains "$(<"$T_ERR")" "SignatureDoesNotMatch" &&
        assert_not_contains "$(<"$T_ERR")" "wrongsecretwrongsecret" &&
        assert_exit 3 env AWS_SECRET_ACCESS_KEY=wrongsecretwrongsecretwrongsecret0000000 "$IMGSYNC_BIN" check &&
        assert_contains "$(<"$T_ERR")" "SignatureDoesNotMatch" &&
        assert_exit 0 "$IMGSYNC_BIN" status --json &&
        assert_eq 0 "$(json "$T_OUT" 'd["counts"]["failed"]')" &&
        assert_eq 12 "$(json "$T_OUT" 'd["counts"]["pending"]')" &&
        assert_eq failed "$(json "$T_OUT" 'd["last_run"]["outcome"]')" && t_ok
fi

if t_begin "upload pass drains the backlog"; then
    added_tree drain
    assert_exit 0 imgsync_run upload --concurrency 8 &&
        assert_contains "$(<"$T_ERR")" "event=pass_done" &&
        assert_exit 0 imgsync_run status --json &&
        assert_eq 0 "$(json "$T_OUT" 'd["counts"]["pending"]')" &&
        assert_eq $((40 + ${#NAMES[@]})) "$(json "$T_OUT" 'd["counts"]["uploaded"]')" &&
        assert_eq ok "$(json "$T_OUT" 'd["last_run"]["outcome"]')" &&
        assert_eq $((40 + ${#NAMES[@]})) "$(s3_count "$B")" && t_ok
fi

if t_begin "awkward keys arrive byte for byte under exactly their names"; then
    uploaded_tree awkward
    ok=1
    for n in "${NAMES[@]}"; do
        if ! s3_get "$B/odd/$n" "$TD/got"; then
            t_fail "GET odd/$n: HTTP $S3_STATUS"; ok=0; break
        fi
        cmp -s "$SRC/$n" "$TD/got" || { t_fail "odd/$n differs"; ok=0; break; }
    done
    [ $ok = 1 ] && t_ok
fi

if t_begin "seeded objects match their files and carry a Content-Type"; then
    uploaded_tree content
    ok=1
    while IFS=$'\t' read -r key path; do
        s3_get "$B/$key" "$TD/got" || { t_fail "GET $key: $S3_STATUS"; ok=0; break; }
        cmp -s "$path" "$TD/got" || { t_fail "$key differs from $path"; ok=0; break; }
    done < <(imgsync_run list --json --state uploaded | "$T_PY" -c '
import json, sys
for r in json.load(sys.stdin):
    if not r["key"].startswith("odd/"): print(r["key"] + "\t" + r["path"])')
    ct=$(s3_header "$B/odd/nested/ü-ß.PNG" content-type)
    [ $ok = 1 ] && assert_eq image/png "$ct" && t_ok
fi

if t_begin "a second pass has nothing to do and exits 0"; then
    fixture second
    { imgsync_run seed --count 4 --seed 7 && imgsync_run upload; } >/dev/null 2>&1 ||
        t_die "seed and first pass failed"
    assert_exit 0 imgsync_run upload && assert_exit 0 imgsync_run status &&
        assert_contains "$(<"$T_OUT")" "pending" && t_ok
fi

if t_begin "config file: unknown key is refused; precedence command line > env > file" &&
    t_backend_is sqlite "tells the three --db sources apart by the state files they create (db_target.sh checks the same precedence with URIs)"; then
    fixture config
    printf 'db = %s\nbucket = from-file\n' "$TD/file.db" >"$TD/c.conf"
    printf 'no_such_key = 1\n' >"$TD/bad.conf"
    assert_exit 2 imgsync_run --config "$TD/bad.conf" status &&
        assert_contains "$(<"$T_ERR")" "unknown key 'no_such_key'" &&
        assert_eq 1 "$(wc -l <"$T_ERR")" &&
        (unset IMGSYNC_DB; imgsync_run --config "$TD/c.conf" seed --count 1 >/dev/null 2>&1) &&
        assert_file_exists "$TD/file.db" &&
        assert_exit 0 env IMGSYNC_DB="$TD/env.db" "$IMGSYNC_BIN" --config "$TD/c.conf" seed --count 1 &&
        assert_file_exists "$TD/env.db" &&
        assert_exit 0 env IMGSYNC_DB="$TD/env.db" "$IMGSYNC_BIN" --config "$TD/c.conf" --db "$TD/cli.db" seed --count 1 &&
        assert_file_exists "$TD/cli.db" && t_ok
fi

if t_begin "forget removes images from the backlog, by id or by state"; then
    fixture forget
    imgsync_run seed --count 5 --seed 21 >/dev/null 2>&1 || t_die "seed failed"
    mapfile -t ids < <(imgsync_run list --json | json /dev/stdin '"\n".join(str(r["id"]) for r in d)')
    gone=$(imgsync_run list --json | json /dev/stdin 'd[4]["path"]')
    rm -f "$gone" # a file that vanished: its image fails for good
    assert_exit 1 imgsync_run upload --max-images 5 &&
        assert_exit 2 imgsync_run status --check --crit-failed 1 &&
        assert_exit 0 imgsync_run forget --state failed && assert_eq "forgot 1 image" "$(<"$T_OUT")" &&
        assert_exit 0 imgsync_run status --check --crit-failed 1 &&
        assert_exit 0 imgsync_run forget "${ids[0]}" "${ids[1]}" &&
        assert_eq "forgot 2 images" "$(<"$T_OUT")" &&
        assert_exit 2 imgsync_run forget "${ids[0]}" &&
        assert_contains "$(<"$T_ERR")" "1 of the 1 ids given are not in the backlog" &&
        assert_exit 2 imgsync_run forget && assert_contains "$(<"$T_ERR")" "give image ids, --state or --refused" &&
        assert_exit 2 imgsync_run forget --state uploading &&
        assert_eq 2 "$(counts 'd["counts"]["uploaded"]')" "uploaded left" &&
        assert_exit 0 imgsync_run forget --state uploaded && assert_eq "forgot 2 images" "$(<"$T_OUT")" &&
        assert_eq 0 "$(counts 'd["counts"]["uploaded"]+d["counts"]["pending"]+d["counts"]["failed"]')" "left" &&
        t_ok
fi

if t_begin "upload --dry-run lists what a pass would upload, in order, within its limits, and changes nothing"; then
    fixture dry-run
    imgsync_run seed --count 6 --seed 22 --min-bytes 10K --max-bytes 10K >/dev/null 2>&1 || t_die "seed failed"
    first=$(imgsync_run list --json | json /dev/stdin 'd[0]["key"]')
    before=$(imgsync_run list --json | json /dev/stdin '[(r["id"], r["state"], r["attempts"]) for r in d]')
    assert_exit 0 imgsync_run upload --dry-run --max-images 4 &&
        assert_eq 5 "$(wc -l <"$T_OUT")" "lines" &&
        assert_contains "$(head -1 "$T_OUT")" "$first" &&
        assert_eq "would upload 4 images, 40 KiB (then --max-images stops the pass)" "$(tail -1 "$T_OUT")" &&
        assert_exit 0 imgsync_run upload --dry-run --max-bytes 25K &&
        assert_eq "would upload 2 images, 20 KiB (then --max-bytes stops the pass)" "$(tail -1 "$T_OUT")" &&
        assert_exit 0 imgsync_run upload --dry-run --endpoint http://127.0.0.1:9 &&
        assert_eq "would upload 6 images, 60 KiB" "$(tail -1 "$T_OUT")" &&
        assert_eq "$before" "$(imgsync_run list --json | json /dev/stdin '[(r["id"], r["state"], r["attempts"]) for r in d]')" "the backlog" &&
        assert_eq "" "$(s3_list "$B")" "objects" &&
        assert_exit 0 imgsync_run upload --max-images 4 &&
        assert_exit 0 imgsync_run upload --dry-run && assert_eq "would upload 2 images, 20 KiB" "$(tail -1 "$T_OUT")" &&
        t_ok
fi

if t_begin "a file added as multipart goes up with one PUT under a higher threshold, checked"; then
    fixture bigput
    # add hashes a multipart file's parts and no whole-file MD5; a pass that sends it with one
    # PUT hashes it then, and refuses content that is no longer what add hashed.
    imgsync_run --db "$TD/seed.db" seed --count 2 --min-bytes 6M --max-bytes 6M --seed 3 \
        >/dev/null 2>&1 || t_die "seed failed"
    mapfile -t F < <(find "$TD/spool" -type f | sort)
    cp -p "${F[1]}" "$TD/ref"
    assert_exit 0 imgsync_run add --multipart-threshold 5M --part-size 5M "${F[@]}" &&
        assert_exit 0 imgsync_run list --json &&
        assert_eq "''" "$(json "$T_OUT" 'repr(d[0]["md5"])')" &&
        printf 'X' | dd of="${F[1]}" bs=1 seek=5000 conv=notrunc status=none &&
        touch -r "$TD/ref" "${F[1]}" &&
        assert_exit 1 imgsync_run upload --multipart-threshold 64M &&
        assert_exit 0 imgsync_run list --json --state uploaded &&
        assert_eq 1 "$(json "$T_OUT" 'len(d)')" &&
        assert_contains "$(json "$T_OUT" 'd[0]["etag"]')" "$(md5sum <"${F[0]}" | cut -d' ' -f1)" &&
        assert_exit 0 imgsync_run list --json --state failed &&
        assert_contains "$(json "$T_OUT" 'd[0]["last_error"]')" "its SHA-256 differs" &&
        verify_uploaded && t_ok
fi

t_finish
