#!/usr/bin/env bash
# imgsync-test: binary-independent
# What ships around the binary: the systemd units verify (and name man pages that exist), the man
# page renders without warnings, the example config is accepted key by key, and the SigV4
# canonicaliser agrees with botocore. The Debian package (scripts/build-deb.sh, packaging the
# binary under test): lintian-clean, its contents, and, as root, install, a pass as the imgsync
# user against the suite's radosgw, upgrade, remove and purge in a throwaway root: an overlay
# whose lower layer is this machine's root file system (never written) and whose upper layer is
# a temporary directory, entered with chroot.
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

# ---------- monitoring examples -------------------------------------------------------------------
if t_begin "examples/prometheus: promtool check rules and promtool test rules"; then
    if ! command -v promtool >/dev/null; then
        t_fail "promtool not installed (package prometheus: scripts/setup-deps.sh test)"
    else
        assert_exit 0 promtool check rules "$T_REPO_ROOT/examples/prometheus/imgsync-rules.yml" &&
            assert_contains "$(<"$T_OUT")" "SUCCESS: 7 rules found" &&
            assert_exit 0 sh -c 'cd "$1" && promtool test rules imgsync-rules_test.yml' _ \
                "$T_REPO_ROOT/examples/prometheus" && t_ok
    fi
fi

if t_begin "the dashboard and the rules use only metrics imgsync writes"; then
    with_rgw
    imgsync_env "$RGW_ENDPOINT"
    t_fixture metrics
    # every metric: after a pass and a verification, with an image pending (the backlog by host
    # id), status writes them all
    assert_exit 0 imgsync_run seed --count 2 --min-bytes 1K --max-bytes 2K &&
        assert_exit 0 imgsync_run upload --metrics-file "$TD/pass.prom" &&
        assert_exit 0 imgsync_run verify &&
        assert_exit 0 imgsync_run seed --count 1 --min-bytes 1K --max-bytes 2K &&
        assert_exit 0 imgsync_run status --prometheus "$TD/status.prom" && {
        sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$TD/pass.prom" "$TD/status.prom" | sort -u >"$TD/written"
        # node_exporter's own metric for the textfile's age (ImgsyncMetricsStale)
        echo node_textfile_mtime_seconds >>"$TD/written"
        "$T_PY" - "$T_REPO_ROOT/examples/grafana/imgsync-dashboard.json" \
            "$T_REPO_ROOT/examples/prometheus/imgsync-rules.yml" "$TD/written" >"$TD/unknown" <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
exprs += [v.get("query", "") for v in dash["templating"]["list"] if v["type"] == "query"]
rules = [l.split("expr:", 1)[1] for l in open(sys.argv[2]) if l.strip().startswith("expr:")]
written = set(open(sys.argv[3]).read().split())
functions = {"time", "label_values", "rate", "sum", "by", "and", "or", "humanizeDuration"}
used = set()
for e in exprs + rules:
    # label matchers, strings and the label lists of aggregations are not metric names
    e = re.sub(r'\{[^}]*\}|"[^"]*"|\b(by|without)\s*\([^)]*\)', "", e)
    used |= {w for w in re.findall(r"[a-z_][a-z0-9_]*", e) if "_" in w and w not in functions}
assert len(exprs) >= 8 and len(rules) == 7, (len(exprs), len(rules))
print("\n".join(sorted(used - written)))
PY
    } && assert_eq "" "$(<"$TD/unknown")" "metrics the examples use that imgsync does not write" &&
        commit=$("$IMGSYNC_BIN" --version | sed -n 's/.*(commit \([0-9a-f]*\(-dirty\)\{0,1\}\))$/\1/p') &&
        assert_contains "$(<"$TD/status.prom")" "imgsync_build_info{version=\"$("$IMGSYNC_BIN" --version | cut -d' ' -f2)\",commit=\"${commit:-unknown}\"} 1" &&
        assert_contains "$(<"$TD/pass.prom")" "imgsync_build_info{" && t_ok
fi

# ---------- the Debian package ------------------------------------------------------------------
DEB_OUT=$T_TMP/deb
DEB1=$(bash "$T_REPO_ROOT/scripts/build-deb.sh" "$DEB_OUT" --binary "$IMGSYNC_BIN" 2>"$T_TMP/build-deb.err")
DEB1_RC=$?
DEB2=$(bash "$T_REPO_ROOT/scripts/build-deb.sh" "$DEB_OUT" --binary "$IMGSYNC_BIN" --version 99.0.0-1 2>>"$T_TMP/build-deb.err")
DEB2_RC=$?

if t_begin "build-deb.sh writes imgsync_VERSION_ARCH.deb"; then
    arch=$(dpkg-architecture -qDEB_HOST_ARCH)
    assert_eq 0 "$DEB1_RC" "build-deb.sh: $(tail -n 5 "$T_TMP/build-deb.err")" &&
        assert_match "$DEB1" "/imgsync_[0-9][0-9.]*-1_${arch}\.deb$" &&
        assert_file_exists "$DEB1" && assert_eq 0 "$DEB2_RC" &&
        assert_eq "$DEB_OUT/imgsync_99.0.0-1_$arch.deb" "$DEB2" &&
        assert_exit 2 bash "$T_REPO_ROOT/scripts/build-deb.sh" "$DEB_OUT" --bogus &&
        assert_contains "$(<"$T_ERR")" "unknown option '--bogus'" && t_ok
fi

if t_begin "lintian: no error and no warning"; then
    if ! command -v lintian >/dev/null; then
        t_fail "lintian not installed (scripts/setup-deps.sh test)"
    else
        for d in "$DEB1" "$DEB2"; do
            lintian "$d" >"$T_TMP/lintian.out" 2>&1
            bad=$(grep -E '^[EW]: ' "$T_TMP/lintian.out")
            assert_eq "" "$bad" "lintian $(basename "$d")" || break
        done && t_ok
    fi
fi

if t_begin "the package's files, conffile, control fields and changelog"; then
    dpkg-deb -c "$DEB1" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T_TMP/files"
    missing=""
    for f in /usr/bin/imgsync /usr/share/man/man1/imgsync.1.gz /lib/systemd/system/imgsync.service \
        /lib/systemd/system/imgsync.timer /etc/imgsync/imgsync.conf \
        /usr/share/bash-completion/completions/imgsync /usr/share/doc/imgsync/copyright \
        /usr/share/doc/imgsync/changelog.Debian.gz /usr/share/doc/imgsync/examples/imgsync.env.example \
        /usr/share/doc/imgsync/examples/prometheus/imgsync-rules.yml \
        /usr/share/doc/imgsync/examples/grafana/imgsync-dashboard.json; do
        grep -qx -- "$f" "$T_TMP/files" || missing+=" $f"
    done
    rm -rf "$T_TMP/x" && dpkg-deb -R "$DEB1" "$T_TMP/x"
    assert_eq "" "$missing" "missing from the package" &&
        assert_eq "/etc/imgsync/imgsync.conf" "$(cat "$T_TMP/x/DEBIAN/conffiles")" &&
        assert_eq "" "$(grep -vE '^(#|\[imgsync\]$|$)' "$T_TMP/x/etc/imgsync/imgsync.conf")" "conffile: only comments" &&
        assert_match "$(dpkg-deb -f "$DEB1" Section)" '^(admin|utils)$' &&
        assert_match "$(dpkg-deb -f "$DEB1" Maintainer)" '^[^<>]+ <[^<>@ ]+@[^<>@ ]+>$' &&
        assert_contains "$(dpkg-deb -f "$DEB1" Depends)" "libcurl" &&
        assert_ne "" "$(dpkg-deb -f "$DEB1" Description | sed 1d)" "extended description" &&
        assert_contains "$(head -n 1 "$T_TMP/x/usr/share/doc/imgsync/copyright")" "copyright-format/1.0" &&
        assert_contains "$(zcat "$T_TMP/x/usr/share/doc/imgsync/changelog.Debian.gz" | head -n 1)" \
            "imgsync ($(dpkg-deb -f "$DEB1" Version))" &&
        assert_eq "" "$(readelf -S "$T_TMP/x/usr/bin/imgsync" | grep -E '\.symtab|\.debug_')" "stripped" &&
        : >"$T_TMP/empty.conf" &&
        IMGSYNC_CONFIG=$T_TMP/empty.conf "$IMGSYNC_BIN" completion bash >"$T_TMP/completion" &&
        assert_files_eq "$T_TMP/completion" "$T_TMP/x/usr/share/bash-completion/completions/imgsync" &&
        t_ok
fi

# in_root CMD...: CMD in the throwaway root, as root.
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"; }

if t_begin "install, a pass as the imgsync user, upgrade, remove and purge in a throwaway root"; then
    if [ "$(id -u)" != 0 ]; then
        t_skip "needs root (overlay mount, chroot)"
    elif [ "$DEB1_RC" != 0 ] || [ "$DEB2_RC" != 0 ]; then
        t_fail "no package to install"
    else
        with_rgw
        imgsync_env "$RGW_ENDPOINT"
        t_fixture deb
        OV=$T_TMP/overlay R=$T_TMP/overlay/root
        mkdir -p "$OV/upper" "$OV/work" "$R"
        ok=1
        mount -t overlay overlay -o "lowerdir=/,upperdir=$OV/upper,workdir=$OV/work" "$R" &&
            mount --make-private "$R" || ok=0
        t_on_exit umount -l "$R"
        if [ $ok = 1 ]; then
            for m in dev proc; do
                mount --bind "/$m" "$R/$m" && mount --make-private "$R/$m" && t_on_exit umount -l "$R/$m"
            done
            mount -t tmpfs tmpfs "$R/run" && t_on_exit umount -l "$R/run"
            mount -t tmpfs -o mode=1777 tmpfs "$R/tmp" && t_on_exit umount -l "$R/tmp"
        fi
        cp "$DEB1" "$DEB2" "$R/tmp/" 2>/dev/null
        d1=/tmp/$(basename "$DEB1") d2=/tmp/$(basename "$DEB2")
        # this machine's own state must not leak into the root
        in_root sh -c 'dpkg -P imgsync >/dev/null 2>&1; userdel imgsync 2>/dev/null; groupdel imgsync 2>/dev/null; rm -rf /var/lib/imgsync /etc/imgsync; true'
        # the pass: the environment of this shell (the keys are in it, never in an argument)
        as_imgsync() {
            HOME=/var/lib/imgsync IMGSYNC_SPOOL=/var/lib/imgsync/spool IMGSYNC_DB=/var/lib/imgsync/state.db \
                IMGSYNC_CONFIG= timeout 120 chroot --userspec=imgsync:imgsync "$R" /usr/bin/imgsync "$@"
        }
        assert_eq 1 "$ok" "overlay mount" &&
            assert_exit 0 in_root dpkg -i "$d1" &&
            assert_eq "imgsync 700 imgsync imgsync" "$(in_root stat -c '%n %a %U %G' /var/lib/imgsync | sed 's|/var/lib/||')" &&
            assert_eq "/usr/sbin/nologin" "$(in_root getent passwd imgsync | cut -d: -f7)" &&
            assert_eq "" "$(in_root find /etc/systemd -name 'imgsync*')" "the timer is never enabled" &&
            assert_contains "$(in_root bash -c '. /usr/share/bash-completion/completions/imgsync; complete -p imgsync')" "_imgsync" &&
            assert_exit 0 as_imgsync seed --count 5 --min-bytes 2K --max-bytes 8K &&
            assert_exit 0 as_imgsync upload &&
            assert_exit 0 as_imgsync status --json &&
            assert_eq 5 "$(json "$T_OUT" 'd["counts"]["uploaded"]')" &&
            assert_eq "imgsync" "$(in_root stat -c %U /var/lib/imgsync/state.db)" &&
            assert_eq 5 "$(s3_count "$B" deb/)" &&
            echo "# changed by the operator" >>"$R/etc/imgsync/imgsync.conf" &&
            assert_exit 0 in_root dpkg -i "$d2" &&
            assert_contains "$(<"$T_OUT")" "Unpacking imgsync (99.0.0-1) over" &&
            assert_contains "$(tail -n 1 "$R/etc/imgsync/imgsync.conf")" "changed by the operator" &&
            assert_exit 0 as_imgsync status --json &&
            assert_eq 5 "$(json "$T_OUT" 'd["counts"]["uploaded"]')" &&
            assert_exit 0 in_root dpkg -r imgsync &&
            assert_eq "" "$(in_root sh -c 'ls /usr/bin/imgsync 2>/dev/null')" &&
            assert_file_exists "$R/var/lib/imgsync/state.db" &&
            assert_file_exists "$R/etc/imgsync/imgsync.conf" &&
            assert_exit 0 in_root dpkg -P imgsync &&
            assert_eq "" "$(in_root sh -c 'ls -d /var/lib/imgsync /etc/imgsync 2>/dev/null')" "purge leaves" &&
            t_ok
    fi
fi

t_finish
