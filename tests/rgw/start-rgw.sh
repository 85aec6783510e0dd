#!/usr/bin/env bash
# start-rgw.sh - a real S3 endpoint for imgsync's tests: Ceph radosgw (Debian 12's Ceph Pacific
# packages) on 127.0.0.1, with a user whose keys are fixed.
#
# The smallest cluster radosgw needs: 1 monitor, 1 OSD on the "memstore" objectstore (object data
# lives in the OSD's RAM; RGW_OBJECTSTORE=bluestore uses a sparse file instead), pool size 1, no
# mgr, no cephx between the daemons (auth=none). S3 requests are still SigV4/SigV2-authenticated by
# radosgw against the user created here (wrong secret => 403 SignatureDoesNotMatch).
# All state (config, mon store, OSD, logs, pid files, env file) lives under $RGW_BASE/data, and
# every daemon binds to 127.0.0.1 only. Several instances can run at once (other base + ports).
#
# Idempotent: if the daemons of an earlier run with the same RGW_BASE are alive and the endpoint
# accepts a signed request, it only prints the connection info (RGW_REUSED=1). Otherwise it stops
# the leftovers of an earlier run (by their recorded PIDs only), wipes $RGW_BASE/data and builds a
# fresh cluster. Installs the Debian packages first when they are missing (needs root).
#
# stdout: KEY=VALUE lines: RGW_ENDPOINT RGW_ACCESS_KEY RGW_SECRET_KEY RGW_REGION RGW_PORT RGW_BASE
#         RGW_ENV_FILE RGW_REUSED (1 = was already running); progress and errors go to stderr.
#         The same values are written as shell exports (AWS_* too) to $RGW_BASE/data/env.
#
# Knobs (environment):
#   RGW_BASE            state directory             (default /tmp/imgsync-rgw-$UID)
#   RGW_PORT            S3 port on 127.0.0.1        (default 7480)
#   RGW_MON_PORT        monitor port on 127.0.0.1   (default 3300)
#   RGW_ACCESS_KEY, RGW_SECRET_KEY                  (defaults: fixed test keys below)
#   RGW_OBJECTSTORE     memstore | bluestore        (default memstore)
#   RGW_MEMSTORE_BYTES  memstore capacity           (default 4 GiB, held in RAM while used)
#   RGW_BLUESTORE_BYTES size of bluestore's sparse block file (default 10 GiB)
#   RGW_START_TIMEOUT   seconds, per wait           (default 120)
#
# Clients: path-style addressing against http://127.0.0.1:PORT. Pacific does not understand
# aws-chunked uploads with trailers (STREAMING-UNSIGNED-PAYLOAD-TRAILER => 411).
set -euo pipefail

BASE=${RGW_BASE:-/tmp/imgsync-rgw-$(id -u)}
D=$BASE/data
CONF=$D/ceph.conf
PORT=${RGW_PORT:-7480}
MON_PORT=${RGW_MON_PORT:-3300}
AK=${RGW_ACCESS_KEY:-IMGSYNCTESTKEY000001}
SK=${RGW_SECRET_KEY:-imgsynctestsecret0000000000000000000000001}
OBJECTSTORE=${RGW_OBJECTSTORE:-memstore}
MEMSTORE_BYTES=${RGW_MEMSTORE_BYTES:-4294967296}
BLUESTORE_BYTES=${RGW_BLUESTORE_BYTES:-10737418240}
WAIT=${RGW_START_TIMEOUT:-120}
REGION=us-east-1
EP=http://127.0.0.1:$PORT
# rgw.sts: a second gateway on the same cluster with STS enabled (RGW_STS_PORT, default a free
# port), for the credentials suite. It is separate because radosgw with rgw_s3_auth_use_sts
# answers a wrong secret with AccessDenied instead of SignatureDoesNotMatch.
STS_PORT=${RGW_STS_PORT:-}
[ -n "$STS_PORT" ] || [ ! -r "$D/env" ] || STS_PORT=$(sed -n 's/^export RGW_STS_PORT=//p' "$D/env")
DAEMONS=(rgw.sts rgw.a osd.0 mon.a) # stop order
PY=/usr/bin/python3
T0=${EPOCHREALTIME/./}

log() {
    local t=$((${EPOCHREALTIME/./} - T0))
    printf '[start-rgw %3d.%01ds] %s\n' $((t / 1000000)) $(((t / 100000) % 10)) "$*" >&2
}

case $PORT$MON_PORT$WAIT in *[!0-9]*) echo "start-rgw: RGW_PORT, RGW_MON_PORT, RGW_START_TIMEOUT must be numbers" >&2; exit 2 ;; esac
case $OBJECTSTORE in memstore | bluestore) ;; *) echo "start-rgw: RGW_OBJECTSTORE must be memstore or bluestore" >&2; exit 2 ;; esac
case $BASE in /*) ;; *) BASE=$PWD/$BASE; D=$BASE/data; CONF=$D/ceph.conf ;; esac
[ "$BASE" != / ] || { echo "start-rgw: RGW_BASE must not be /" >&2; exit 2; }

# ---------- helpers --------------------------------------------------------------------------
# our_pid NAME: the PID of one of our daemons, if alive (PID-reuse guarded)
# shellcheck source=SCRIPTDIR/lib-rgw.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-rgw.sh"

stop_all() { # as stop-rgw.sh, but quicker to SIGKILL: the data is wiped anyway
    local n p
    for n in "${DAEMONS[@]}"; do
        if p=$(our_pid "$n"); then
            kill -TERM "$p" 2>/dev/null || true
            for _ in $(seq 1 30); do
                our_pid "$n" >/dev/null || break
                sleep 0.1
            done
            if p=$(our_pid "$n"); then
                kill -KILL "$p" 2>/dev/null || true
                sleep 0.2
            fi
        fi
        rm -f "$D/pids/$n.pid"
    done
}

bg_pids=()
cleanup_bg() {
    local p
    for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup_bg EXIT

fail() {
    log "ERROR: $*"
    local f
    for f in "$D"/log/*.log "$D"/log/*.out "$D"/log/*.err; do
        [ -s "$f" ] || continue
        echo "----- last lines of $f -----" >&2
        tail -n 15 "$f" >&2
    done
    cleanup_bg
    stop_all
    exit 1
}

# start one daemon in the foreground (-f), detached into its own session; record its PID.
spawn() {
    local n=$1
    shift
    setsid "$@" >>"$D/log/$n.out" 2>&1 </dev/null &
    local p=$!
    echo "$p" >"$D/pids/$n.pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

http_code() { curl -s -o /dev/null -m "${2:-5}" -w '%{http_code}' "$1" 2>/dev/null || true; }

s3_signed_ok() { # signed ListBuckets (curl >= 7.75 speaks SigV4)
    [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' --aws-sigv4 "aws:amz:$REGION:s3" \
        --user "$AK:$SK" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$EP/" 2>/dev/null)" = 200 ]
}

ROLE_ARN=arn:aws:iam:::role/imgsync-uploader
print_info() { # $1 = 1 if reused
    local tmp=$D/env.tmp.$$
    cat >"$tmp" <<EOF
export RGW_ENDPOINT=$EP
export RGW_ACCESS_KEY=$AK
export RGW_SECRET_KEY=$SK
export RGW_REGION=$REGION
export RGW_PORT=$PORT
export RGW_MON_PORT=$MON_PORT
export RGW_BASE=$BASE
export RGW_ROLE_ARN=$ROLE_ARN
export RGW_STS_PORT=$STS_PORT
export RGW_STS_ENDPOINT=http://127.0.0.1:$STS_PORT
export AWS_ENDPOINT_URL=$EP
export AWS_ACCESS_KEY_ID=$AK
export AWS_SECRET_ACCESS_KEY=$SK
export AWS_DEFAULT_REGION=$REGION
export AWS_REGION=$REGION
EOF
    mv -f "$tmp" "$D/env"
    printf 'RGW_ENDPOINT=%s\nRGW_ACCESS_KEY=%s\nRGW_SECRET_KEY=%s\nRGW_REGION=%s\nRGW_PORT=%s\nRGW_BASE=%s\nRGW_ENV_FILE=%s\nRGW_REUSED=%s\n' \
        "$EP" "$AK" "$SK" "$REGION" "$PORT" "$BASE" "$D/env" "$1"
}

# ---------- 0. already running? --------------------------------------------------------------
# Without RGW_PORT / RGW_MON_PORT, an earlier run's ports are those in its config: the check
# below must ask our radosgw, not whatever else answers on the default port.
if [ -r "$CONF" ]; then
    p=$(sed -n 's/^rgw_frontends = beast endpoint=127\.0\.0\.1:\([0-9]*\)$/\1/p' "$CONF")
    [ -n "${RGW_PORT:-}" ] || [ -z "$p" ] || { PORT=$p; EP=http://127.0.0.1:$PORT; }
    p=$(sed -n 's/^mon_host = v2:127\.0\.0\.1:\([0-9]*\)$/\1/p' "$CONF")
    [ -n "${RGW_MON_PORT:-}" ] || [ -z "$p" ] || MON_PORT=$p
fi
if [ -d "$D/pids" ]; then
    alive=0
    for n in "${DAEMONS[@]}"; do our_pid "$n" >/dev/null && alive=$((alive + 1)); done
    if [ $alive = ${#DAEMONS[@]} ] && command -v curl >/dev/null && s3_signed_ok; then
        log "already running (pids: $(cat "$D"/pids/*.pid | tr '\n' ' '))"
        print_info 1
        exit 0
    fi
    if [ $alive -gt 0 ]; then
        log "stopping $alive leftover daemon(s) of an earlier run"
        stop_all
    fi
fi

# ---------- 1. packages ----------------------------------------------------------------------
need=()
for pair in ceph-mon:ceph-mon ceph-osd:ceph-osd radosgw:radosgw radosgw-admin:radosgw \
    ceph:ceph-common monmaptool:ceph-common ceph-authtool:ceph-common curl:curl \
    setsid:util-linux timeout:coreutils; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
[ -x $PY ] && $PY -c 'import rados' 2>/dev/null || need+=(python3 python3-rados)
if [ ${#need[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || {
        echo "start-rgw: need root to apt-get install: ${need[*]}" >&2
        exit 1
    }
    mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
    mkdir -p "$BASE"
    log "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -qq >&2 || log "apt-get update failed (continuing)"
    timeout 1200 apt-get install -y -qq --no-install-recommends "${need[@]}" >"$BASE/apt-install.log" 2>&1 || {
        tail -n 30 "$BASE/apt-install.log" >&2
        echo "start-rgw: apt-get install failed" >&2
        exit 1
    }
    log "packages installed"
fi

# ---------- 2. fresh cluster directory + config ----------------------------------------------
if [ -z "${RGW_STS_PORT:-}" ]; then
    STS_PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
case $STS_PORT in '' | *[!0-9]*) echo "start-rgw: RGW_STS_PORT must be a number" >&2; exit 2 ;; esac
for p in "$PORT" "$MON_PORT" "$STS_PORT"; do
    if port_busy "$p"; then
        echo "start-rgw: 127.0.0.1:$p is already in use" >&2
        exit 1
    fi
done
rm -rf "$D"
mkdir -p "$D"/{run,log,mon,osd/ceph-0,rgw,rgw-sts,crash,pids}
FSID=$(cat /proc/sys/kernel/random/uuid)
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)

cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon_host = v2:127.0.0.1:$MON_PORT
public_addr = 127.0.0.1
public_network = 127.0.0.1/32
cluster_network = 127.0.0.1/32
ms_bind_ipv4 = true
ms_bind_ipv6 = false
# no cephx between the daemons (S3 requests are still authenticated by radosgw)
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
keyring = $D/keyring
run_dir = $D/run
admin_socket = $D/run/\$name.asok
pid_file = $D/run/\$name.pid
log_file = $D/log/\$name.log
crash_dir = $D/crash
mon_cluster_log_file = $D/log/\$cluster.\$channel.log
# single replica, tiny cluster
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_allow_pool_delete = true
mon_max_pg_per_osd = 1000
# a test box's disk may be >70 % full: do not warn, never shut the mon down
mon_data_avail_warn = 1
mon_data_avail_crit = 0
# commit map changes quickly (pool creation)
paxos_propose_interval = 0.05
# give up instead of waiting 300 s when something is wrong
client_mount_timeout = $WAIT

[mon]
mon_data = $D/mon/\$cluster-\$id

[osd]
osd_data = $D/osd/\$cluster-\$id
osd_objectstore = $OBJECTSTORE
# memstore: objects live in the OSD's RAM, capacity reported as memstore_device_bytes
memstore_device_bytes = $MEMSTORE_BYTES
# bluestore: sparse file \$osd_data/block, created by mkfs
bluestore_block_create = true
bluestore_block_size = $BLUESTORE_BYTES
osd_memory_target = 939524096

[client.rgw.a]
# radosgw defaults this to "secure" only, which auth=none cannot offer (it would hang 300 s)
ms_mon_client_mode = crc secure
rgw_frontends = beast endpoint=127.0.0.1:$PORT
rgw_data = $D/rgw
rgw_thread_pool_size = 64
# SSE-KMS with Ceph's built-in testing KMS (static keys, for tests only), over plain HTTP
rgw_crypt_s3_kms_backend = testing
rgw_crypt_s3_kms_encryption_keys = testkey-1=YmluCmJvb3N0CmJvb3N0LWJ1aWxkCmNlcGguY29uZgo= testkey-2=aW1nc3luYy10ZXN0LWttcy1rZXktbnVtYmVyLXR3byE=
rgw_crypt_require_ssl = false

[client.rgw.sts]
ms_mon_client_mode = crc secure
rgw_frontends = beast endpoint=127.0.0.1:$STS_PORT
rgw_data = $D/rgw-sts
rgw_thread_pool_size = 16
# STS (AssumeRole) for the credentials suite: the key that seals session tokens (16 characters)
rgw_sts_key = imgsyncstskey016
rgw_s3_auth_use_sts = true
EOF

# Talks to the monitor through librados (one process instead of one `ceph` CLI per command).
#   wait-mon | new-osd UUID | pools | wait-osd
ceph_py() {
    timeout $((WAIT + 10)) $PY - "$CONF" "$WAIT" "$@" 2>>"$D/log/ceph_py.err" <<'PYEOF'
import json, sys, threading, time
import rados

conf, wait, cmd, args = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:]
deadline = time.monotonic() + wait
r = rados.Rados(conffile=conf)
r.connect(timeout=int(wait))

def mon(prefix, **kw):
    kw.update(prefix=prefix, format="json")
    ret, out, err = r.mon_command(json.dumps(kw), b"", timeout=int(wait))
    return ret, out, err

if cmd == "new-osd":
    ret, out, err = mon("osd new", uuid=args[0], id=0)
    if ret != 0:
        sys.exit("osd new: %d %s" % (ret, err))
    try:
        print(json.loads(out)["osdid"])
    except (ValueError, KeyError, TypeError):
        print(out.decode().strip())
elif cmd == "pools":
    pools = [".rgw.root", "default.rgw.log", "default.rgw.control", "default.rgw.meta",
             "default.rgw.buckets.index", "default.rgw.buckets.data", "default.rgw.buckets.non-ec"]
    errs = []
    def run(prefix, **kw):
        ret, out, err = mon(prefix, **kw)
        if ret != 0:
            errs.append("%s %s: %d %s" % (prefix, kw, ret, err))
    for step in (lambda p: run("osd pool create", pool=p, pg_num=8, pgp_num=8, pool_type="replicated"),
                 lambda p: run("osd pool application enable", pool=p, app="rgw")):
        ts = [threading.Thread(target=step, args=(p,)) for p in pools]
        for t in ts: t.start()
        for t in ts: t.join()
        if errs:
            sys.exit("; ".join(errs))
elif cmd == "wait-osd":
    while True:
        ret, out, err = mon("osd dump")
        if ret == 0 and any(o.get("osd") == 0 and o.get("up") == 1 for o in json.loads(out).get("osds", [])):
            break
        if time.monotonic() > deadline:
            sys.exit("osd.0 not up after %ss" % wait)
        time.sleep(0.05)
elif cmd != "wait-mon":
    sys.exit("unknown command " + cmd)
r.shutdown()
PYEOF
}

# ---------- 3. monitor -----------------------------------------------------------------------
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$D/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring" >"$D/log/mon.a.mkfs" 2>&1 ||
    fail "ceph-mon --mkfs failed: $(cat "$D/log/mon.a.mkfs")"
spawn mon.a ceph-mon -c "$CONF" -f -i a
ceph_py wait-mon || fail "monitor did not come up"
our_pid mon.a >/dev/null || fail "ceph-mon exited"
log "mon.a up (pid $(<"$D/pids/mon.a.pid"))"

# ---------- 4. RGW pools (in the background: a mon-only change) + OSD -------------------------
# radosgw would otherwise create the pools one by one, ~2 s each, partly on the first requests.
ceph_py pools &
pools_pid=$!
bg_pids+=("$pools_pid")
ID=$(ceph_py new-osd "$OSD_UUID") || fail "ceph osd new failed"
[ "$ID" = 0 ] || fail "unexpected osd id '$ID'"
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >"$D/log/osd.0.mkfs" 2>&1 ||
    fail "ceph-osd --mkfs failed: $(cat "$D/log/osd.0.mkfs")"
spawn osd.0 ceph-osd -c "$CONF" -f -i 0
wait "$pools_pid" || fail "pool creation failed"
log "pools created"

ceph_py wait-osd || fail "osd.0 did not come up"
our_pid osd.0 >/dev/null || fail "ceph-osd exited"
log "osd.0 up (pid $(<"$D/pids/osd.0.pid"))"

# ---------- 5. radosgw ----------------------------------------------------------------------
# (started once the OSD is up: started earlier, it sometimes sits 5 s on an objecter tick)
spawn rgw.a radosgw -c "$CONF" -f -n client.rgw.a
ok=0
for _ in $(seq 1 $((WAIT * 20))); do
    [ "$(http_code "$EP/" 2)" = 200 ] && ok=1 && break
    our_pid rgw.a >/dev/null || fail "radosgw died"
    sleep 0.05
done
[ $ok = 1 ] || fail "radosgw does not answer on $EP"
log "radosgw answers on $EP (pid $(<"$D/pids/rgw.a.pid"))"

# ---------- 6. S3 user with fixed keys --------------------------------------------------------
timeout 60 radosgw-admin -c "$CONF" user create --uid=testuser --display-name="Test User" \
    --access-key="$AK" --secret-key="$SK" >"$D/user.json" 2>"$D/log/radosgw-admin.err" ||
    fail "radosgw-admin user create failed: $(tail -n 5 "$D/log/radosgw-admin.err")"
ok=0
for _ in $(seq 1 $((WAIT * 10))); do
    s3_signed_ok && ok=1 && break
    sleep 0.1
done
[ $ok = 1 ] || fail "a signed S3 request with the new user's key is not accepted"
log "ready: signed ListBuckets accepted"

# ---------- 7. a role the user may assume (STS AssumeRole) --------------------------------------
trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/testuser"]},"Action":["sts:AssumeRole"]}]}'
allow='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::*"]}]}'
if timeout 60 radosgw-admin -c "$CONF" role create --role-name=imgsync-uploader \
    --assume-role-policy-doc="$trust" >"$D/role.json" 2>>"$D/log/radosgw-admin.err" &&
    timeout 60 radosgw-admin -c "$CONF" role-policy put --role-name=imgsync-uploader \
        --policy-name=upload --policy-doc="$allow" >/dev/null 2>>"$D/log/radosgw-admin.err"; then
    log "role arn:aws:iam:::role/imgsync-uploader created (STS AssumeRole)"
else
    log "warning: radosgw-admin role create failed; STS tests will fail"
fi
spawn rgw.sts radosgw -c "$CONF" -f -n client.rgw.sts
ok=0
for _ in $(seq 1 $((WAIT * 20))); do
    [ "$(http_code "http://127.0.0.1:$STS_PORT/" 2)" = 200 ] && ok=1 && break
    our_pid rgw.sts >/dev/null || fail "radosgw (STS) died"
    sleep 0.05
done
[ $ok = 1 ] || fail "radosgw (STS) does not answer on 127.0.0.1:$STS_PORT"
log "radosgw with STS answers on http://127.0.0.1:$STS_PORT (pid $(<"$D/pids/rgw.sts.pid"))"

print_info 0
