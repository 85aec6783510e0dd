#!/usr/bin/env bash
# imgsync-test: binary-independent
# What ships around the binary: the systemd units verify (and name man pages that exist), the man
# page renders without warnings, the example config is accepted key by key, and the SigV4
# canonicaliser agrees with botocore.
. "$(dirname "$0")/../lib.sh"

if t_begin "systemd units pass systemd-analyze verify"; then
    if ! command -v systemd-analyze >/dev/null; then
        t_fail "systemd-analyze not installed"
    else
        mkdir -p "$T_TMP/units"
        # ExecStart must name an existing binary: the one under test.
        sed "s|/usr/bin/imgsync|$IMGSYNC_BIN|" "$T_REPO_ROOT/cron/imgsync.service" >"$T_TMP/units/imgsync.service"
        cp "$T_REPO_ROOT/cron/imgsync.timer" "$T_TMP/units/"
        # --man=no: verify would run `man` for each Documentation=man:..., and a minimal system has
        # no man-db. The test below checks those references against man/ instead.
        (cd "$T_TMP/units" && systemd-analyze verify --man=no imgsync.service imgsync.timer) \
            >"$T_TMP/verify.out" 2>&1
        rc=$?
        assert_eq 0 "$rc" && assert_eq "" "$(grep -v '^$' "$T_TMP/verify.out")" && t_ok ||
            cat "$T_TMP/verify.out"
    fi
fi

if t_begin "every Documentation=man:PAGE(SECTION) of the units is a page in man/"; then
    refs=$(sed -n 's/^Documentation=//p' "$T_REPO_ROOT"/cron/imgsync.service "$T_REPO_ROOT"/cron/imgsync.timer |
        tr ' ' '\n' | sed -n 's/^man:\([^()]*\)(\([^()]*\))$/\1.\2/p' | sort -u)
    missing=""
    for r in $refs; do [ -f "$T_REPO_ROOT/man/$r" ] || missing+=" $r"; done
    assert_ne "" "$refs" "man: references" && assert_eq "" "$missing" "pages missing from man/" && t_ok
fi

if t_begin "man page renders without warnings"; then
    out=$(groff -man -Tutf8 -ww -z "$T_REPO_ROOT/man/imgsync.1" 2>&1)
    assert_eq "" "$out" && t_ok
fi

if t_begin "examples/imgsync.conf: every key is accepted"; then
    assert_exit 0 "$IMGSYNC_BIN" --config "$T_REPO_ROOT/examples/imgsync.conf" --db "$T_TMP/x.db" --help && t_ok
fi

if t_begin "SigV4 canonicaliser agrees with botocore on 2000 random keys and queries"; then
    canon=$(dirname "$IMGSYNC_BIN")/sigv4_canon
    if [ ! -x "$canon" ]; then
        t_fail "no $canon"
    else
        assert_exit 0 "$T_PY" "$T_REPO_ROOT/tests/property/check_sigv4_botocore.py" --count 2000 \
            --binary "$canon" && assert_contains "$(<"$T_OUT")" "2000 passed, 0 failed" && t_ok
    fi
fi

t_finish
