#!/usr/bin/env bash
# What add and upload --source find in a tree: --exclude (files skipped, directories pruned,
# from the command line, IMGSYNC_EXCLUDE or the config file); remembered refusals (a file refused
# once is skipped while its size and mtime stay the same: status, list --refused, forget
# --refused); upload --source (what is new under each source registered, then uploaded; a
# missing source refused before anything is sent).
# Each test has its own fixture (t_fixture); the images are seeded once, first, and copied.
# imgsync-test: backends sqlite pg
. "$(dirname "$0")/../lib.sh"
with_rgw
imgsync_env "$RGW_ENDPOINT"

IMGSYNC_DB=$T_TMP/setup.db imgsync_run seed --count 12 --min-bytes 2K --max-bytes 8K --seed 21 >"$T_TMP/seed.log" 2>&1 ||
    t_die "seed failed: $(tail -n 2 "$T_TMP/seed.log")"
mapfile -t IMGS < <(find "$T_TMP/spool" -type f \( -name '*.png' -o -name '*.jpg' \) | sort)
[ ${#IMGS[@]} -ge 12 ] || t_die "seed wrote too few images"

# tree DIR: DIR/a.jpg-like images: top.*, keep/one.*, keep/cache/two.*, cache/three.*,
# scratch.tmp (an image named .tmp), six images in all.
tree() {
    mkdir -p "$1/keep/cache" "$1/cache"
    cp "${IMGS[0]}" "$1/top.${IMGS[0]##*.}"
    cp "${IMGS[1]}" "$1/keep/one.${IMGS[1]##*.}"
    cp "${IMGS[2]}" "$1/keep/cache/two.${IMGS[2]##*.}"
    cp "${IMGS[3]}" "$1/cache/three.${IMGS[3]##*.}"
    cp "${IMGS[4]}" "$1/scratch.tmp"
    cp "${IMGS[5]}" "$1/keep/four.tmp"
}
# keys: the registered keys, sorted, on one line.
keys() {
    imgsync_run list --json | "$T_PY" -c '
import json, sys
print(" ".join(sorted(r["key"] for r in json.load(sys.stdin))))'
}
EXT0=${IMGS[0]##*.} EXT1=${IMGS[1]##*.} EXT2=${IMGS[2]##*.} EXT3=${IMGS[3]##*.}

if t_begin "add --exclude: matched files skipped, matched directories pruned, counted"; then
    t_fixture exclude
    tree "$TD/src"
    assert_exit 0 imgsync_run -v add --exclude '*.tmp' --exclude 'cache/' "$TD/src" &&
        assert_contains "$(<"$T_OUT")" "added 3, updated 0, unchanged 0, skipped 0, refused 0, excluded 3" &&
        assert_eq "exclude/keep/cache/two.$EXT2 exclude/keep/one.$EXT1 exclude/top.$EXT0" "$(keys)" &&
        assert_eq 3 "$(grep -c 'event=add_excluded' "$T_ERR")" "add_excluded debug lines" &&
        assert_contains "$(<"$T_ERR")" "path=$TD/src/cache pattern=cache/" && t_ok
fi

if t_begin "add --exclude: '*' crosses '/', commas separate patterns, a trailing / only directories"; then
    t_fixture exclude-glob
    tree "$TD/src"
    assert_exit 0 imgsync_run add --exclude '*/cache,*.tmp' "$TD/src" &&
        assert_contains "$(<"$T_OUT")" "added 3, updated 0, unchanged 0, skipped 0, refused 0, excluded 3" &&
        assert_eq "exclude-glob/cache/three.$EXT3 exclude-glob/keep/one.$EXT1 exclude-glob/top.$EXT0" "$(keys)" &&
        assert_exit 0 imgsync_run add --exclude 'top.*/' "$TD/src" &&
        assert_contains "$(<"$T_OUT")" "added 3, updated 0, unchanged 3, skipped 0, refused 0, excluded 0" && t_ok
fi

if t_begin "IMGSYNC_EXCLUDE and the config file's exclude key"; then
    t_fixture exclude-env
    tree "$TD/src"
    printf 'exclude = cache/\n' >"$TD/imgsync.conf"
    export IMGSYNC_EXCLUDE='*.tmp,keep'
    assert_exit 0 imgsync_run add "$TD/src" &&
        unset IMGSYNC_EXCLUDE &&
        assert_contains "$(<"$T_OUT")" "added 2, updated 0, unchanged 0, skipped 0, refused 0, excluded 2" &&
        assert_exit 0 imgsync_run --config "$TD/imgsync.conf" add "$TD/src" &&
        assert_contains "$(<"$T_OUT")" "added 4, updated 0, unchanged 1, skipped 0, refused 0, excluded 1" && t_ok
    unset IMGSYNC_EXCLUDE
fi

if t_begin "add --exclude '': refused before the state is touched (exit 2)"; then
    t_fixture exclude-bad
    tree "$TD/src"
    assert_exit 2 imgsync_run add --exclude '' "$TD/src" &&
        assert_eq "imgsync: --exclude: an empty pattern matches nothing" "$(<"$T_ERR")" &&
        assert_eq "" "$(keys 2>/dev/null)" && t_ok
fi

# bad_tree DIR: one image and two files add refuses (text named .jpg, a zero-byte .png).
bad_tree() {
    mkdir -p "$1"
    cp "${IMGS[6]}" "$1/good.${IMGS[6]##*.}"
    printf 'not an image\n' >"$1/notes.jpg"
    : >"$1/empty.png"
}

if t_begin "refusals are remembered: the next add skips them silently and exits 0"; then
    t_fixture refusals
    bad_tree "$TD/src"
    assert_exit 1 imgsync_run add "$TD/src" &&
        assert_contains "$(<"$T_OUT")" "added 1, updated 0, unchanged 0, skipped 0, refused 2, excluded 0, remembered refusals 0" &&
        assert_exit 0 imgsync_run add "$TD/src" &&
        assert_contains "$(<"$T_OUT")" "added 0, updated 0, unchanged 1, skipped 0, refused 0, excluded 0, remembered refusals 2" &&
        assert_eq 0 "$(grep -c 'event=add_refused' "$T_ERR")" "add_refused lines on the second add" &&
        assert_eq 2 "$(counts 'd["refused_files"]')" "status --json refused_files" &&
        assert_exit 0 imgsync_run status &&
        assert_contains "$(<"$T_OUT")" "refused:     2 files add skips while unchanged" &&
        assert_exit 0 imgsync_run list --refused --json &&
        assert_eq "[('$TD/src/empty.png', 'zero-byte file', 0), ('$TD/src/notes.jpg', 'not an image', 13)]" \
            "$(json "$T_OUT" '[(r["path"], r["reason"][:12] if r["reason"].startswith("not an image") else r["reason"], r["size"]) for r in d]')" &&
        assert_exit 0 imgsync_run list --refused &&
        assert_contains "$(<"$T_OUT")" "$TD/src/notes.jpg  (not an image" && t_ok
fi

if t_begin "a remembered refusal whose file changed is tried again: dropped once it ingests"; then
    t_fixture refusals-changed
    bad_tree "$TD/src"
    imgsync_run add "$TD/src" >/dev/null 2>&1
    cp "${IMGS[7]}" "$TD/src/notes.jpg"  # now an image
    printf 'still no image\n' >>"$TD/src/empty.png" # changed, still refused
    assert_exit 1 imgsync_run add "$TD/src" &&
        assert_contains "$(<"$T_OUT")" "added 1, updated 0, unchanged 1, skipped 0, refused 1, excluded 0, remembered refusals 0" &&
        assert_contains "$(<"$T_ERR")" "empty.png" &&
        assert_eq 1 "$(counts 'd["refused_files"]')" "refusals left" &&
        assert_exit 0 imgsync_run list --refused --json &&
        assert_eq "[15]" "$(json "$T_OUT" '[r["size"] for r in d]')" "the record has the new size" && t_ok
fi

if t_begin "forget --refused: the files are tried (and refused) again"; then
    t_fixture refusals-forget
    bad_tree "$TD/src"
    imgsync_run add "$TD/src" >/dev/null 2>&1
    assert_exit 0 imgsync_run forget --refused &&
        assert_eq "forgot 2 refusals" "$(<"$T_OUT")" &&
        assert_eq 0 "$(counts 'd["refused_files"]')" &&
        assert_exit 1 imgsync_run add "$TD/src" &&
        assert_contains "$(<"$T_OUT")" "refused 2, excluded 0, remembered refusals 0" && t_ok
fi

if t_begin "list --refused with --state, forget --refused with ids: usage errors (exit 2)"; then
    t_fixture refusals-usage
    bad_tree "$TD/src"
    imgsync_run add "$TD/src" >/dev/null 2>&1
    assert_exit 2 imgsync_run list --refused --state failed &&
        assert_eq "imgsync: list: --refused lists files, not images: no --state" "$(<"$T_ERR")" &&
        assert_exit 2 imgsync_run forget --refused 1 &&
        assert_eq "imgsync: forget: give image ids, --state or --refused, one of them" "$(<"$T_ERR")" &&
        assert_eq 2 "$(counts 'd["refused_files"]')" && t_ok
fi

if t_begin "upload --source registers what is new, then uploads it; unchanged files stay"; then
    t_fixture source
    mkdir -p "$TD/src/sub"
    cp "${IMGS[0]}" "$TD/src/a.${IMGS[0]##*.}"
    cp "${IMGS[1]}" "$TD/src/sub/b.${IMGS[1]##*.}"
    assert_exit 0 imgsync_run upload --source "$TD/src" &&
        assert_contains "$(<"$T_ERR")" "event=sources_scanned sources=1 added=2 updated=0 unchanged=0" &&
        assert_eq 2 "$(counts 'd["counts"]["uploaded"]')" "uploaded after the first pass" &&
        cp "${IMGS[2]}" "$TD/src/sub/c.${IMGS[2]##*.}" &&
        assert_exit 0 imgsync_run upload --source "$TD/src" &&
        assert_contains "$(<"$T_ERR")" "event=sources_scanned sources=1 added=1 updated=0 unchanged=2" &&
        assert_eq 3 "$(counts 'd["counts"]["uploaded"]')" "uploaded after the second pass" &&
        assert_eq "source/a.${IMGS[0]##*.} source/sub/b.${IMGS[1]##*.} source/sub/c.${IMGS[2]##*.}" "$(keys)" &&
        verify_uploaded && t_ok
fi

if t_begin "upload --source with --exclude and --key-layout; a refusal is remembered, the pass exits 0"; then
    t_fixture source-opts
    bad_tree "$TD/src"
    cp "${IMGS[8]}" "$TD/src/skip.tmp"
    assert_exit 0 imgsync_run upload --source "$TD/src" --exclude '*.tmp' --key-layout sha256 &&
        assert_contains "$(<"$T_ERR")" "event=add_refused" &&
        assert_contains "$(<"$T_ERR")" "added=1 updated=0 unchanged=0 skipped=0 refused=2 excluded=1" &&
        assert_eq 1 "$(counts 'd["counts"]["uploaded"]')" &&
        assert_eq 2 "$(counts 'd["refused_files"]')" &&
        assert_match "$(keys)" "^source-opts/[0-9a-f]{2}/[0-9a-f]{64}\.(png|jpg)$" &&
        assert_exit 0 imgsync_run upload --source "$TD/src" --exclude '*.tmp' --key-layout sha256 &&
        assert_not_contains "$(<"$T_ERR")" "event=add_refused" &&
        assert_contains "$(<"$T_ERR")" "refused=0 excluded=1 remembered_refusals=2" && t_ok
fi

if t_begin "IMGSYNC_SOURCE names several directories separated by ':'"; then
    t_fixture source-env
    mkdir -p "$TD/one" "$TD/two"
    cp "${IMGS[3]}" "$TD/one/x.${IMGS[3]##*.}"
    cp "${IMGS[4]}" "$TD/two/y.${IMGS[4]##*.}"
    export IMGSYNC_SOURCE=$TD/one:$TD/two
    assert_exit 0 imgsync_run upload &&
        unset IMGSYNC_SOURCE &&
        assert_contains "$(<"$T_ERR")" "event=sources_scanned sources=2 added=2" &&
        assert_eq "source-env/x.${IMGS[3]##*.} source-env/y.${IMGS[4]##*.}" "$(keys)" &&
        assert_eq 2 "$(counts 'd["counts"]["uploaded"]')" && t_ok
    unset IMGSYNC_SOURCE
fi

if t_begin "upload --source DIR that does not exist: exit 2 naming it, nothing registered or sent"; then
    t_fixture source-missing
    imgsync_run seed --count 1 --seed 22 >/dev/null 2>&1 || t_die "seed"
    mkdir -p "$TD/src"
    cp "${IMGS[5]}" "$TD/src/z.${IMGS[5]##*.}"
    assert_exit 2 imgsync_run upload --source "$TD/src" --source "$TD/nope" &&
        assert_eq "imgsync: --source $TD/nope: no such directory" "$(<"$T_ERR")" &&
        assert_exit 2 imgsync_run upload --source "$TD/src/z.${IMGS[5]##*.}" &&
        assert_eq "imgsync: --source $TD/src/z.${IMGS[5]##*.}: not a directory" "$(<"$T_ERR")" &&
        assert_eq 1 "$(counts 'd["counts"]["pending"]')" "the seeded image still pending" &&
        assert_eq 0 "$(counts 'd["counts"]["uploaded"]')" "nothing uploaded" && t_ok
fi

if t_begin "a file replaced by a copy with its size and mtime (another inode) is read again"; then
    t_fixture source-inode
    mkdir -p "$TD/src"
    cp "${IMGS[6]}" "$TD/src/p.${IMGS[6]##*.}"
    f=$TD/src/p.${IMGS[6]##*.}
    assert_exit 0 imgsync_run upload --source "$TD/src" &&
        assert_contains "$(<"$T_ERR")" "event=sources_scanned sources=1 added=1 updated=0 unchanged=0" &&
        cp -p "$f" "$TD/copy" && mv "$TD/copy" "$f" &&
        assert_exit 0 imgsync_run upload --source "$TD/src" &&
        assert_contains "$(<"$T_ERR")" "event=sources_scanned sources=1 added=0 updated=1 unchanged=0" &&
        assert_eq "$(stat -c %i "$f")" "$(t_sql "SELECT inode FROM images")" "the new inode recorded" &&
        assert_exit 0 imgsync_run upload --source "$TD/src" &&
        assert_contains "$(<"$T_ERR")" "event=sources_scanned sources=1 added=0 updated=0 unchanged=1" &&
        t_ok
fi

t_finish
