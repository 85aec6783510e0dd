#!/usr/bin/env bash
# The local files of uploaded images: upload --after-upload delete|move, --keep-for, imgsync
# prune [--dry-run]; never a file changed since its upload, never over an existing file; a prune
# cut short leaves nothing lost and is finished by the next; status shows what is still on disk.
# imgsync-test: backends sqlite pg
. "$(dirname "$0")/../lib.sh"
with_rgw
imgsync_env "$RGW_ENDPOINT"

# seeded NAME COUNT: t_fixture NAME with COUNT seeded images pending.
seeded() {
    t_fixture "$1"
    imgsync_run seed --count "$2" --seed 31 >"$TD/seed.log" 2>&1 || t_die "seed $2: $(tail -n2 "$TD/seed.log")"
}
# field N FIELD: FIELD (id, key, path, sha256) of the Nth image in id order.
field() {
    imgsync_run list --json |
        "$T_PY" -c 'import json,sys; print(json.load(sys.stdin)[int(sys.argv[1])][sys.argv[2]])' "$1" "$2"
}
files_left() { find "$TD/spool" -type f | wc -l; }

if t_begin "upload --after-upload delete: the files go once uploaded; status shows what is left"; then
    seeded delete 3
    k0=$(field 0 key)
    assert_exit 0 imgsync_run upload --after-upload delete &&
        assert_eq 0 "$(files_left)" "files left in the spool" &&
        s3_exists "$B/$k0" &&
        assert_contains "$(<"$T_ERR")" "event=pruned" "each deletion logged" &&
        assert_contains "$(<"$T_ERR")" "event=prune_done" "summary" &&
        imgsync_run status --json >"$TD/s.json" &&
        assert_eq "3 0" "$(json "$TD/s.json" '"%d %d" % (d["counts"]["pruned"], d["bytes"]["uploaded_on_local_disk"])')" "pruned, bytes on disk" &&
        assert_contains "$(imgsync_run status)" "(3 pruned; 0 B still on the local disk)" "status text" &&
        assert_exit 0 imgsync_run verify && t_ok
fi

if t_begin "--keep-for keeps the files; prune --dry-run lists them; prune deletes them later"; then
    seeded keepfor 2
    p0=$(field 0 path)
    assert_exit 0 imgsync_run upload --after-upload delete --keep-for 1h &&
        assert_eq 2 "$(files_left)" "kept for an hour" &&
        assert_exit 0 imgsync_run prune --after-upload delete --keep-for 1h &&
        assert_eq "pruned 0 files, 0 B: 0 deleted, 0 moved, 0 already gone; 0 refused" "$(tail -n1 "$T_OUT")" &&
        t_sql "UPDATE images SET uploaded_at = uploaded_at - 7200" >/dev/null &&
        assert_exit 0 imgsync_run prune --after-upload delete --keep-for 1h --dry-run &&
        assert_eq 2 "$(grep -c '^would delete' "$T_OUT")" "dry-run lines" &&
        assert_contains "$(<"$T_OUT")" "$p0" "dry-run names the file" &&
        assert_eq 2 "$(files_left)" "dry run deleted nothing" &&
        IMGSYNC_AFTER_UPLOAD=delete IMGSYNC_KEEP_FOR=1h assert_exit 0 imgsync_run prune &&
        assert_contains "$(tail -n1 "$T_OUT")" "pruned 2 files" "summary" &&
        assert_eq 0 "$(files_left)" "deleted" && t_ok
fi

if t_begin "move: the file keeps its absolute path under --move-to, never over an existing file"; then
    seeded move 2
    p0=$(field 0 path) p1=$(field 1 path) sha0=$(field 0 sha256)
    assert_exit 0 imgsync_run upload &&
        mkdir -p "$(dirname "$TD/archive$p1")" && printf 'already here' >"$TD/archive$p1" &&
        assert_exit 1 imgsync_run prune --after-upload move --move-to "$TD/archive" &&
        assert_eq "$sha0" "$(sha256_of "$TD/archive$p0")" "moved intact" &&
        assert_eq "" "$(ls "$p0" 2>/dev/null)" "moved away" &&
        assert_contains "$(grep '^refused' "$T_OUT")" "File exists" "the taken one refused" &&
        assert_eq "already here" "$(<"$TD/archive$p1")" "the existing file untouched" &&
        assert_file_exists "$p1" &&
        assert_eq "$TD/archive$p0" "$(t_sql "SELECT pruned_to FROM images WHERE path = '$p0'")" "pruned_to" && t_ok
fi

if t_begin "a file changed since its upload is never deleted, and the prune says so"; then
    seeded changed 2
    p0=$(field 0 path) p1=$(field 1 path)
    assert_exit 0 imgsync_run upload &&
        printf 'x' >>"$p1" &&
        assert_exit 1 imgsync_run prune --after-upload delete &&
        assert_contains "$(grep '^refused' "$T_OUT")" "changed since it was uploaded (size" "reason" &&
        assert_contains "$(<"$T_ERR")" "event=prune_refused" "logged" &&
        assert_file_exists "$p1" &&
        assert_eq "" "$(ls "$p0" 2>/dev/null)" "the unchanged one deleted" && t_ok
fi

if t_begin "a prune cut short (file gone, or left under its hidden name) is finished, nothing lost"; then
    seeded cutshort 2
    p0=$(field 0 path) p1=$(field 1 path)
    assert_exit 0 imgsync_run upload && {
        # As a SIGKILL between the rename and the unlink leaves it, and as an operator's rm.
        mv "$p0" "$(dirname "$p0")/.imgsync-removing-$(stat -c %i "$p0")"
        rm -f "$p1"
        assert_exit 0 imgsync_run prune --after-upload delete &&
            assert_eq 2 "$(grep -c '^gone' "$T_OUT")" "both recorded as gone" &&
            assert_eq 0 "$(files_left)" "the hidden leftover removed" &&
            assert_eq 2 "$(t_sql "SELECT count(*) FROM images WHERE pruned_at IS NOT NULL")" "recorded" &&
            assert_exit 0 imgsync_run verify && t_ok
    }
fi

if t_begin "bad settings are refused before any request: exit 2, one line naming the option"; then
    seeded badinput 1
    assert_exit 2 imgsync_run upload --after-upload move &&
        assert_contains "$(<"$T_ERR")" "--move-to" "names --move-to" &&
        assert_eq 1 "$(t_sql "SELECT count(*) FROM images WHERE state = 'pending'")" "nothing uploaded" &&
        assert_exit 2 imgsync_run upload --after-upload move --move-to relative/dir &&
        assert_exit 2 imgsync_run upload --after-upload delete --keep-for soon &&
        assert_contains "$(<"$T_ERR")" "--keep-for" "names --keep-for" &&
        assert_exit 2 imgsync_run prune &&
        assert_contains "$(<"$T_ERR")" "--after-upload is keep" "prune without an action" &&
        assert_exit 2 imgsync_run upload --after-upload shred && t_ok
fi

if t_begin "--delete-empty-dirs: directories emptied below a source go, the source and others stay"; then
    seeded emptydirs 2
    mkdir -p "$TD/src/a/b" "$TD/src/keep"
    i=0
    while IFS= read -r f; do
        i=$((i + 1))
        case $i in 1) cp "$f" "$TD/src/a/b/" ;; 2) cp "$f" "$TD/src/keep/" ;; esac
    done < <(find "$TD/spool" -type f | sort)
    printf 'not an image\n' >"$TD/src/keep/notes.txt"
    assert_exit 0 imgsync_run upload --source "$TD/src" --exclude '*.txt' --after-upload delete \
        --delete-empty-dirs &&
        assert_contains "$(<"$T_ERR")" "event=pruned_dir path=$TD/src/a/b" "the deepest first" &&
        assert_contains "$(<"$T_ERR")" "event=pruned_dir path=$TD/src/a" &&
        assert_eq "" "$(ls -d "$TD/src/a" 2>/dev/null)" "a/ and a/b/ removed" &&
        assert_eq "notes.txt" "$(ls "$TD/src/keep")" "keep/ holds another file: kept" &&
        assert_eq 1 "$(find "$TD/src" -maxdepth 0 -type d | wc -l)" "the source itself stays" &&
        assert_eq 0 "$(files_left)" "the spool's files deleted too" &&
        assert_eq 1 "$(find "$TD/spool" -mindepth 1 -maxdepth 1 -type d | wc -l)" \
            "the spool is no source: its directory stays" &&
        assert_exit 2 imgsync_run prune --after-upload delete --delete-empty-dirs &&
        assert_eq "imgsync: --delete-empty-dirs needs --source DIR: directories are removed only below a source" \
            "$(<"$T_ERR")" && t_ok
fi

if t_begin "SIGKILL during a prune that moves 300 files: the next prune finishes, every file intact"; then
    seeded sigkill 300
    assert_exit 0 imgsync_run upload --concurrency 16 || t_die "upload"
    imgsync_bg prune --after-upload move --move-to "$TD/archive"
    for _ in $(seq 500); do # bounded: 5 s at most; kill once the first file has moved
        [ -d "$TD/archive" ] && break
        sleep 0.01
    done
    sleep "0.0$((RANDOM % 5))" # and then 0 to 40 ms later
    kill -KILL "$IMGSYNC_PID" 2>/dev/null
    wait "$IMGSYNC_PID" 2>/dev/null
    echo "     killed with $(find "$TD/archive" -type f 2>/dev/null | wc -l) files moved"
    assert_exit 0 imgsync_run prune --after-upload move --move-to "$TD/archive" &&
        assert_eq 0 "$(files_left)" "nothing left in the spool" &&
        assert_eq "" "$(find "$TD" -name '.imgsync-*')" "no hidden leftover" &&
        assert_eq 300 "$(t_sql "SELECT count(*) FROM images WHERE pruned_to IS NOT NULL")" "all recorded as moved" && {
        bad=0
        while IFS='|' read -r path sha; do
            [ "$(sha256_of "$TD/archive$path")" = "$sha" ] || { bad=1; echo "     not intact: $path"; break; }
        done < <(t_sql "SELECT path, sha256 FROM images")
        assert_eq 0 "$bad" "every file byte for byte at its destination"
    } && t_ok
fi

t_finish
