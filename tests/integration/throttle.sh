#!/usr/bin/env bash
# The throttled pass: rate and bandwidth lower bounds, exact --max-images, the pass lock, SIGTERM,
# the deadline, status --check exit statuses, Prometheus output, presigned URLs.
# Timing assertions are lower bounds only: a slow machine can only make a pass longer.
. "$(dirname "$0")/../lib.sh"
with_rgw

imgsync_env "$RGW_ENDPOINT"

now() { date +%s.%N; }
# since_at_least T0 MIN: at least MIN seconds passed since T0 (from now())
since_at_least() {
    local took
    took=$("$T_PY" -c 'import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 3))' "$1" "$(now)")
    "$T_PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$took" "$2" ||
        { t_fail "took $took s, expected at least $2 s"; return 1; }
    echo "     took $took s (lower bound $2 s)"
}
fresh_db() { # NAME COUNT: a new state file with COUNT small pending images
    export IMGSYNC_DB=$T_TMP/$1.db
    imgsync_run seed --count "$2" --min-bytes 8K --max-bytes 16K >/dev/null 2>&1 ||
        t_die "seed failed"
}

if t_begin "--rate 10 --burst 1: 30 images take at least (30-1)/10 s"; then
    fresh_db rate 30
    t0=$(now)
    assert_exit 0 imgsync_run upload --rate 10 --burst 1 --concurrency 4 &&
        since_at_least "$t0" 2.9 &&
        assert_exit 0 imgsync_run status --json && assert_eq 30 "$(json "$T_OUT" 'd["counts"]["uploaded"]')" && t_ok
fi

if t_begin "--rate written per period (300/1m = 5/s): 12 images take at least (12-2)/5 s"; then
    fresh_db period 12
    t0=$(now)
    assert_exit 0 imgsync_run upload --rate 300/1m --burst 2 &&
        since_at_least "$t0" 2.0 && t_ok
fi

if t_begin "--bandwidth 256K: 1 MiB of images takes at least (1 MiB - burst)/256K s"; then
    export IMGSYNC_DB=$T_TMP/bw.db
    imgsync_run seed --count 8 --min-bytes 128K --max-bytes 128K >/dev/null 2>&1
    t0=$(now)
    assert_exit 0 imgsync_run upload --bandwidth 256K --concurrency 4 &&
        since_at_least "$t0" 3.0 && t_ok
fi

if t_begin "--max-images is exact and reaching it is success"; then
    fresh_db max 20
    assert_exit 0 imgsync_run upload --max-images 7 --concurrency 8 &&
        assert_exit 0 imgsync_run status --json &&
        assert_eq 7 "$(json "$T_OUT" 'd["counts"]["uploaded"]')" &&
        assert_eq 13 "$(json "$T_OUT" 'd["counts"]["pending"]')" &&
        assert_eq limit "$(json "$T_OUT" 'd["last_run"]["outcome"]')" && t_ok
fi

if t_begin "--max-bytes stops the pass at the byte budget"; then
    export IMGSYNC_DB=$T_TMP/maxbytes.db
    imgsync_run seed --count 10 --min-bytes 100K --max-bytes 100K >/dev/null 2>&1
    assert_exit 0 imgsync_run upload --max-bytes 350K &&
        assert_exit 0 imgsync_run status --json &&
        assert_eq 3 "$(json "$T_OUT" 'd["counts"]["uploaded"]')" && t_ok
fi

if t_begin "a second pass refuses while one runs (exit 5, names the holder); --wait waits"; then
    fresh_db lock 40
    imgsync_bg upload --rate 4 --burst 1 --concurrency 1
    first=$IMGSYNC_PID
    sleep 1
    assert_exit 5 imgsync_run upload && assert_contains "$(<"$T_ERR")" "pid $first" &&
        assert_exit 5 imgsync_run upload --wait --wait-timeout 1s &&
        kill -TERM $first && wait $first
    rc=$?
    [ "$T_STATE" = open ] && assert_eq 6 "$rc" && assert_exit 0 imgsync_run upload --wait --max-images 1 && t_ok
fi

if t_begin "SIGTERM mid-pass: exit 6, interrupted, nothing left uploading"; then
    fresh_db term 60
    imgsync_bg upload --rate 10 --burst 1 --concurrency 2
    pid=$IMGSYNC_PID
    sleep 2
    kill -TERM $pid
    wait $pid
    rc=$?
    assert_eq 6 "$rc" && assert_exit 0 imgsync_run status --json &&
        assert_eq 0 "$(json "$T_OUT" 'd["counts"]["uploading"]')" &&
        assert_eq 60 "$(json "$T_OUT" 'd["counts"]["pending"] + d["counts"]["uploaded"]')" &&
        assert_eq interrupted "$(json "$T_OUT" 'd["last_run"]["outcome"]')" &&
        assert_contains "$(<"$IMGSYNC_BG_ERR")" "pass_stopping" && t_ok
fi

if t_begin "--max-duration stops starting uploads at the deadline; exit 0"; then
    fresh_db deadline 100
    t0=$(now)
    assert_exit 0 imgsync_run upload --rate 10 --burst 1 --max-duration 2s --grace 5s &&
        assert_exit 0 imgsync_run status --json &&
        assert_eq deadline "$(json "$T_OUT" 'd["last_run"]["outcome"]')" &&
        assert_eq True "$(json "$T_OUT" '0 < d["counts"]["uploaded"] < 100')" &&
        assert_eq 0 "$(json "$T_OUT" 'd["counts"]["uploading"]')" && t_ok
fi

if t_begin "status --check: OK, WARNING, CRITICAL, UNKNOWN"; then
    fresh_db check 10 # a pass that reached its --max-images, 7 images left pending
    imgsync_run upload --max-images 3 >/dev/null 2>&1 || t_die "first pass failed"
    assert_exit 0 imgsync_run status --check --warn-pending 1000 &&
        assert_match "$(<"$T_OUT")" '^IMGSYNC OK' && assert_contains "$(<"$T_OUT")" "|" &&
        assert_exit 1 imgsync_run status --check --warn-pending 1 &&
        assert_match "$(<"$T_OUT")" '^IMGSYNC WARNING' &&
        assert_exit 2 imgsync_run status --check --warn-pending 1 --crit-pending 2 &&
        assert_match "$(<"$T_OUT")" '^IMGSYNC CRITICAL' &&
        assert_exit 3 imgsync_run --db "$T_TMP/missing.db" status --check &&
        assert_match "$(<"$T_OUT")" '^IMGSYNC UNKNOWN' && t_ok
fi

if t_begin "status --prometheus writes the textfile-collector format"; then
    fresh_db prometheus 3
    assert_exit 0 imgsync_run status --prometheus "$T_TMP/imgsync.prom" &&
        assert_contains "$(<"$T_TMP/imgsync.prom")" 'imgsync_images{state="pending"}' &&
        assert_contains "$(<"$T_TMP/imgsync.prom")" '# TYPE' &&
        assert_exit 0 imgsync_run upload --max-images 1 --metrics-file "$T_TMP/after.prom" &&
        assert_contains "$(<"$T_TMP/after.prom")" 'imgsync_last_run' && t_ok
fi

if t_begin "presign: the URL fetches the object with no credentials"; then
    fresh_db presign 1
    imgsync_run upload >/dev/null 2>&1 || t_die "upload failed"
    key=$(imgsync_run list --json --state uploaded --limit 1 | "$T_PY" -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["key"])')
    path=$(imgsync_run list --json --state uploaded --limit 1 | "$T_PY" -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["path"])')
    assert_exit 0 imgsync_run presign "$key" --expires 300 &&
        url=$(<"$T_OUT") && assert_contains "$url" "X-Amz-Signature=" &&
        curl -sf -o "$T_TMP/presigned" "$url" && assert_files_eq "$path" "$T_TMP/presigned" && t_ok
fi

if t_begin "bad throttle values are usage errors (exit 2, one line)"; then
    fresh_db badvalues 1
    for bad in "--rate 0" "--rate -3" "--rate 10/0s" "--bandwidth 10Q" "--max-duration 5x" "--max-bytes lots" "--concurrency 0"; do
        # shellcheck disable=SC2086
        assert_exit 2 imgsync_run upload $bad || break
        assert_eq 1 "$(wc -l <"$T_ERR")" || break
    done
    [ "$T_STATE" = open ] && t_ok
fi

t_finish
