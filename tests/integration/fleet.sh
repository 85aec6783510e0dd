#!/usr/bin/env bash
# One backlog, many hosts, on PostgreSQL. --claim local takes only this host id's images, --claim
# any every one. Then four passes under four host ids drain one backlog at once (upload --claim
# any), while passes are SIGKILLed at random moments, PostgreSQL restarts in the middle and the
# dead passes' short leases expire. At the end every image is uploaded exactly once in the
# state, every object is byte-identical (read back with curl --aws-sigv4), no lease is left, no
# pass is left 'running' (the killed ones' runs are found out), and the backend's own record of
# claims shows no image ever held by two live leases at once.
# Knobs: FLEET_IMAGES (300), FLEET_SECONDS (150: the drain's bound), FLEET_KILLS (6), FLEET_SEED.
# imgsync-test: backends pg
export T_BACKEND=pg # a fleet shares one PostgreSQL backlog, whatever the caller's backend
. "$(dirname "$0")/../lib.sh"
with_rgw
with_pg
imgsync_env "$RGW_ENDPOINT"
export T_CMD_TIMEOUT=180

N=${FLEET_IMAGES:-300}
LIMIT=${FLEET_SECONDS:-150}
MAX_KILLS=${FLEET_KILLS:-6}
RANDOM=${FLEET_SEED:-$$}
SLOTS=(1 2 3 4)
LEASE=3s
# Per pass: 4 requests at a time, at most 8 images/s: four passes drain N=300 in about 10 s of
# work, so the kills, the restart and the lease expiries all fall inside the drain.
PASS_OPTS=(upload --claim any --lease "$LEASE" --concurrency 4 --rate 8)

declare -A PID=() KILLED=() STARTED_AT=()
EXITS=()  # "host rc" of every pass that ended
PASSES=0
start_pass() { # SLOT
    imgsync_bg --host-id "host-$1" "${PASS_OPTS[@]}"
    PID[$1]=$IMGSYNC_PID
    KILLED[$1]=0
    STARTED_AT[$1]=$SECONDS
    PASSES=$((PASSES + 1))
}
# reap SLOT: if SLOT's pass has ended, record its exit status and empty the slot.
reap() {
    local p=${PID[$1]:-} rc
    [ -n "$p" ] || return 0
    kill -0 "$p" 2>/dev/null && return 0
    wait "$p"
    rc=$?
    EXITS+=("host-$1 $rc ${KILLED[$1]}")
    PID[$1]=""
}
left() { t_sql "SELECT count(*) FROM images WHERE state <> 'uploaded'" 2>/dev/null || echo "?"; }

# fleet_checks: from the backend's own tables (ARCHITECTURE.md, "Leases"): no lease left on any
# image and no claim still live; and, from claims (every claim ever made: its token, claimed_at,
# its expiry as last renewed, released_at), no two claims of one image whose live intervals
# [claimed_at, min(expires_at, released_at)) overlap. Intervals are the database's own clock.
fleet_checks() {
    local leased live overlaps claims takeovers
    leased=$(t_sql "SELECT count(*) FROM images WHERE lease_token IS NOT NULL OR lease_expires_at IS NOT NULL")
    live=$(t_sql "SELECT count(*) FROM claims WHERE released_at IS NULL AND expires_at > now()")
    claims=$(t_sql "SELECT count(*) || ' claims of ' || count(DISTINCT image_id) || ' images, ' ||
        count(*) FILTER (WHERE released_at IS NULL) || ' expired unreleased' FROM claims")
    overlaps=$(t_sql "SELECT count(*) FROM claims a JOIN claims b
        ON a.image_id = b.image_id AND a.token < b.token
        WHERE b.claimed_at < least(a.expires_at, coalesce(a.released_at, 'infinity'))
          AND a.claimed_at < least(b.expires_at, coalesce(b.released_at, 'infinity'))")
    takeovers=$(t_sql "SELECT count(*) FROM claims a JOIN claims b ON a.image_id = b.image_id
        AND b.token > a.token AND b.host_id <> a.host_id WHERE a.released_at IS NULL AND b.claimed_at >= a.expires_at")
    echo "     claims: $claims; taken over by another host id after the lease expired: $takeovers; overlapping live leases: $overlaps"
    if [ "$overlaps" != 0 ]; then
        t_sql "SELECT a.image_id, a.token, a.host_id, a.claimed_at, a.expires_at, a.released_at,
            b.token, b.host_id, b.claimed_at FROM claims a JOIN claims b
            ON a.image_id = b.image_id AND a.token < b.token
            WHERE b.claimed_at < least(a.expires_at, coalesce(a.released_at, 'infinity'))
              AND a.claimed_at < least(b.expires_at, coalesce(b.released_at, 'infinity')) LIMIT 5"
    fi
    assert_eq 0 "$leased" "images still holding a lease" &&
        assert_eq 0 "$live" "claims still live" &&
        assert_ne 0 "$(t_sql "SELECT count(*) FROM claims")" "claims recorded" &&
        assert_eq "$N" "$(t_sql "SELECT count(DISTINCT image_id) FROM claims")" "images ever claimed" &&
        assert_eq 0 "$overlaps" "pairs of claims of one image with overlapping live leases" &&
        assert_eq 4 "$(t_sql "SELECT count(DISTINCT host_id) FROM claims")" "host ids that claimed" &&
        assert_eq 4 "$(t_sql "SELECT count(DISTINCT host_id) FROM runs")" "host ids of the passes" &&
        assert_eq 0 "$(t_sql "SELECT count(*) FROM runs WHERE outcome = 'running'")" "passes still 'running'" &&
        { [ "$kills" = 0 ] || [ "$takeovers" -gt 0 ] ||
            t_fail "$kills passes killed, yet no image was taken over by another host id after its lease expired"; }
}

if t_begin "--claim local takes only this host id's images, --claim any the rest"; then
    t_fixture claim-scope
    imgsync_run --host-id host-a seed --count 6 >/dev/null 2>&1 &&
        imgsync_run --host-id host-b seed --count 4 >/dev/null 2>&1 || t_die "seed"
    a() { t_sql "SELECT count(*) FROM images WHERE state = 'uploaded' AND host_id = '$1'"; }
    assert_eq "host-a|6 host-b|4" "$(t_sql "SELECT host_id, count(*) FROM images GROUP BY 1 ORDER BY 1" | tr '\n' ' ' | sed 's/ $//')" "images per host id" &&
        assert_exit 0 imgsync_run --host-id host-a upload --claim local &&
        assert_eq "6 0" "$(a host-a) $(a host-b)" "uploaded after host-a's local pass" &&
        assert_exit 0 imgsync_run --host-id host-c upload --claim local &&
        assert_eq "6 0" "$(a host-a) $(a host-b)" "uploaded after host-c's local pass" &&
        assert_exit 0 imgsync_run --host-id host-c upload --claim any &&
        assert_eq "6 4" "$(a host-a) $(a host-b)" "uploaded after host-c's pass with --claim any" &&
        assert_eq "host-a host-c host-c" "$(t_sql "SELECT host_id FROM runs ORDER BY id" | tr '\n' ' ' | sed 's/ $//')" "host ids of the passes" &&
        verify_uploaded && t_ok
fi

if t_begin "four host ids drain one backlog through SIGKILLs, a PostgreSQL restart and expired leases"; then
    t_fixture fleet
    imgsync_run --host-id seeder seed --count "$N" --min-bytes 2K --max-bytes 12K >/dev/null 2>&1 ||
        t_die "seed"
    for k in "${SLOTS[@]}"; do start_pass "$k"; done
    t0=$SECONDS
    kills=0 restarted=0 remaining=$N
    next_kill=$((t0 + 1 + RANDOM % 3))
    restart_at=$((t0 + 4 + RANDOM % 3))
    last_poll=-1 seen_running=0 seen_hosts=""
    for ((tick = 0; tick < LIMIT * 10; tick++)); do
        now=$SECONDS
        for k in "${SLOTS[@]}"; do reap "$k"; done
        if [ "$now" != "$last_poll" ]; then
            last_poll=$now
            remaining=$(left)
            # what status shows of the fleet meanwhile: passes running, each with its host id
            if [ $restarted = 0 ] && imgsync_run status --json >"$T_TMP/fleet-status.json" 2>/dev/null; then
                read -r n hosts < <(json "$T_TMP/fleet-status.json" \
                    '"%d %s" % (d["in_flight"]["passes"], ",".join(sorted(p["host_id"] for p in d["passes"] if p["running"])))')
                if [ "${n:-0}" -gt $seen_running ]; then seen_running=$n seen_hosts=$hosts; fi
            fi
        fi
        # done when nothing is left and no pass runs
        running=0
        for k in "${SLOTS[@]}"; do [ -n "${PID[$k]:-}" ] && running=$((running + 1)); done
        [ "$remaining" = 0 ] && [ $running = 0 ] && break
        # restart ended passes while work is left (at most one start per slot and second)
        if [ "$remaining" != 0 ]; then
            for k in "${SLOTS[@]}"; do
                [ -z "${PID[$k]:-}" ] && [ "$now" -gt "${STARTED_AT[$k]}" ] && start_pass "$k"
            done
        fi
        # a SIGKILL at a random moment, to a random running pass
        if [ $kills -lt "$MAX_KILLS" ] && [ "$now" -ge $next_kill ]; then
            k=${SLOTS[RANDOM % ${#SLOTS[@]}]}
            if [ -n "${PID[$k]:-}" ] && kill -KILL "${PID[$k]}" 2>/dev/null; then
                KILLED[$k]=1
                kills=$((kills + 1))
                # this slot (host id) waits until the dead pass's leases expired, so that other
                # host ids take its images over (a new pass of the same host id would recover
                # them at once: their process is gone)
                STARTED_AT[$k]=$((now + 4))
                echo "     [$((now - t0))s] SIGKILL host-$k (pid ${PID[$k]}), $remaining left"
            fi
            next_kill=$((now + 1 + RANDOM % 3))
        fi
        if [ $restarted = 0 ] && [ "$now" -ge $restart_at ]; then
            echo "     [$((now - t0))s] PostgreSQL restart, $remaining left"
            pg_restart || break
            restarted=1
        fi
        sleep 0.1
    done
    for k in "${SLOTS[@]}"; do # the bound above ran out: stop what still runs
        [ -n "${PID[$k]:-}" ] && kill -KILL "${PID[$k]}" 2>/dev/null && KILLED[$k]=1
        reap "$k"
    done
    echo "     $PASSES passes in $((SECONDS - t0)) s, $kills SIGKILLs, restart: $restarted, left: $(left)"
    echo "     status showed at most $seen_running passes running at once ($seen_hosts)"
    echo "     exits (host, status, killed by the test): $(printf '%s; ' "${EXITS[@]}")"
    bad=""
    for e in "${EXITS[@]}"; do
        read -r h rc killed <<<"$e"
        if [ "$killed" = 1 ]; then
            [ "$rc" = 137 ] || [ "$rc" = 0 ] || [ "$rc" = 4 ] || bad+="$h: exit $rc after SIGKILL; "
        else
            # 0 done, 1 some images deferred, 4 the database went away (the restart)
            case $rc in 0 | 1 | 4) ;; *) bad+="$h: exit $rc; " ;; esac
        fi
    done
    [ -z "$bad" ] || t_fail "unexpected exit statuses: $bad"
    assert_eq 1 "$restarted" "PostgreSQL restarted" &&
        { [ "$seen_running" -ge 2 ] || t_fail "status never showed two passes running at once"; } &&
        assert_match "$seen_hosts" '^host-[1-4](,host-[1-4])+$' "host ids of the passes status showed running" &&
        assert_eq 0 "$(left)" "images not uploaded after ${LIMIT}s" &&
        assert_eq "$N" "$(counts 'd["counts"]["uploaded"]')" "uploaded (status)" &&
        assert_eq "$N" "$(t_sql "SELECT count(DISTINCT key) FROM images WHERE state = 'uploaded'")" "distinct keys uploaded" &&
        assert_eq "$N" "$(s3_count "$B" fleet/)" "objects in the bucket" &&
        verify_uploaded &&
        fleet_checks && t_ok
fi

t_finish
