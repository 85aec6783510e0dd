#!/usr/bin/env bash
# Faults on the wire, through tests/faults/faultproxy.py in front of radosgw: 503 SlowDown, 500,
# connections dropped mid-request and mid-response, stalls, trickles, clock skew, dead letters,
# image-level and pass-level errors. Every pass must end (bounded by timeouts), and no image may be
# marked uploaded unless radosgw holds exactly its bytes.
# imgsync-test: backends sqlite pg
# imgsync-test: pg-asan
. "$(dirname "$0")/../lib.sh"
with_rgw
fp_start || t_die "no fault proxy"

imgsync_env "$FP_ENDPOINT"
export T_CMD_TIMEOUT=180

N=0
fresh() { # NAME COUNT [GOOD]: COUNT images under NAME/, after GOOD older ones under NAME-ok/
    t_state "$1"
    export IMGSYNC_PREFIX=$1/
    N=$2
    if [ "${3:-0}" -gt 0 ]; then
        IMGSYNC_PREFIX=$1-ok/ imgsync_run seed --count "$3" --min-bytes 8K --max-bytes 64K >/dev/null 2>&1 ||
            t_die "seed"
    fi
    imgsync_run seed --count "$2" --min-bytes 8K --max-bytes 64K >/dev/null 2>&1 || t_die "seed"
    fp_rules
    fp_reset
}

if t_begin "503 SlowDown on every 3rd PUT: retried, slowed down, all uploaded"; then
    fresh slowdown 30
    fp_rules "503slowdown:method=PUT:every=3:retry-after=1"
    assert_exit 0 imgsync_run upload --concurrency 8 &&
        assert_contains "$(<"$T_ERR")" "slowing_down" &&
        assert_eq "$N" "$(counts 'd["counts"]["uploaded"]')" &&
        [ "$(fp_stat faults.503slowdown)" -ge 5 ] && verify_uploaded && t_ok
fi

if t_begin "500 InternalError x5: retried within the pass"; then
    fresh e500 20
    fp_rules "500:method=PUT:count=5"
    assert_exit 0 imgsync_run upload --concurrency 4 &&
        assert_eq "$N" "$(counts 'd["counts"]["uploaded"]')" &&
        assert_eq 5 "$(fp_stat faults.500)" && verify_uploaded && t_ok
fi

if t_begin "connections dropped mid-request and mid-response: all uploaded once"; then
    fresh drops 20
    fp_rules "drop-request:method=PUT:count=3" "drop-response:method=PUT:count=3:id=2"
    assert_exit 0 imgsync_run upload --concurrency 4 &&
        assert_eq "$N" "$(counts 'd["counts"]["uploaded"]')" &&
        assert_eq 3 "$(fp_stat faults.drop-request)" && assert_eq 3 "$(fp_stat faults.drop-response)" &&
        verify_uploaded && t_ok
fi

if t_begin "a stalled response is abandoned after --stall-timeout and retried"; then
    fresh stall 5
    fp_rules "stall:method=PUT:seconds=60:count=1"
    assert_exit 0 imgsync_run upload --concurrency 2 --stall-timeout 2s &&
        assert_eq "$N" "$(counts 'd["counts"]["uploaded"]')" && assert_eq 1 "$(fp_stat faults.stall)" &&
        verify_uploaded && t_ok
fi

if t_begin "a trickling response still completes"; then
    fresh trickle 4
    fp_rules "trickle:method=PUT:bps=400:count=2"
    assert_exit 0 imgsync_run upload --concurrency 2 &&
        assert_eq "$N" "$(counts 'd["counts"]["uploaded"]')" && verify_uploaded && t_ok
fi

if t_begin "RequestTimeTooSkewed: offset taken from the server's Date, re-signed, logged"; then
    fresh skew 6
    fp_rules "skew:method=PUT:seconds=900:count=1"
    assert_exit 0 imgsync_run upload --concurrency 1 &&
        assert_contains "$(<"$T_ERR")" "event=clock_skew" &&
        assert_eq "$N" "$(counts 'd["counts"]["uploaded"]')" && verify_uploaded && t_ok
fi

# In the next three tests only the keys under NAME/ fail, and three older images go through: the
# failures are the images' (when every request fails, the pass fails: tests/faults/pass_verdict.sh).
if t_begin "persistent 503: images wait for a later pass (pending, next_attempt_at), exit 1"; then
    fresh deferred 5 3
    fp_rules "503:method=PUT:path=/deferred/"
    assert_exit 1 imgsync_run upload --pass-attempts 2 --concurrency 2 &&
        assert_contains "$(<"$T_ERR")" "upload_deferred" &&
        assert_eq 5 "$(counts 'd["counts"]["pending"]')" && assert_eq 0 "$(counts 'd["counts"]["failed"]')" &&
        assert_exit 0 imgsync_run upload && assert_eq 3 "$(counts 'd["counts"]["uploaded"]')" &&
        assert_exit 0 imgsync_run list --json --state pending &&
        assert_eq True "$(json "$T_OUT" 'all(r["next_attempt_at"] is not None and r["attempts"] == 2 for r in d)')" && t_ok
fi

if t_begin "after --max-attempts an image is a dead letter; retry --all requeues it"; then
    fresh dead 3 3
    fp_rules "500:method=PUT:path=/dead/"
    assert_exit 1 imgsync_run upload --pass-attempts 2 --max-attempts 2 &&
        assert_eq 3 "$(counts 'd["counts"]["failed"]')" &&
        assert_exit 0 imgsync_run list --state failed && assert_contains "$(<"$T_OUT")" "HTTP 500" &&
        fp_rules && assert_exit 0 imgsync_run retry --all && assert_contains "$(<"$T_OUT")" "requeued 3" &&
        assert_exit 0 imgsync_run upload && assert_eq 6 "$(counts 'd["counts"]["uploaded"]')" &&
        verify_uploaded && t_ok
fi

if t_begin "--max-attempts bounds the total even when the pass has tries left"; then
    fresh bound 2 3
    fp_rules "500:method=PUT:path=/bound/"
    assert_exit 1 imgsync_run upload --pass-attempts 4 --max-attempts 2 &&
        assert_eq 2 "$(counts 'd["counts"]["failed"]')" &&
        assert_exit 0 imgsync_run list --json --state failed &&
        assert_eq True "$(json "$T_OUT" 'all(r["attempts"] == 2 for r in d)')" && fp_rules && t_ok
fi

if t_begin "an image-level error fails that image at once; the pass goes on"; then
    fresh entity 6
    fp_rules "error:method=PUT:status=400:code=EntityTooLarge:count=1"
    assert_exit 1 imgsync_run upload --concurrency 1 &&
        assert_eq 1 "$(counts 'd["counts"]["failed"]')" && assert_eq 5 "$(counts 'd["counts"]["uploaded"]')" &&
        assert_contains "$(<"$T_ERR")" "EntityTooLarge" && t_ok
fi

if t_begin "a pass-level error stops the pass; the backlog stays pending"; then
    fresh denied 20
    fp_rules "error:method=PUT:status=403:code=AccessDenied"
    assert_exit 3 imgsync_run upload --concurrency 2 &&
        assert_eq 0 "$(counts 'd["counts"]["failed"]')" && assert_eq 20 "$(counts 'd["counts"]["pending"]')" &&
        [ "$(fp_stat faults.error)" -le 6 ] && assert_contains "$(<"$T_ERR")" "AccessDenied" && t_ok
fi

if t_begin "connection refused everywhere: pass fails fast with exit 3"; then
    fresh refused 3
    assert_exit 3 imgsync_run --endpoint "http://127.0.0.1:$(free_port)" upload --connect-timeout 2s &&
        assert_eq 3 "$(counts 'd["counts"]["pending"]')" && t_ok
fi

t_finish
