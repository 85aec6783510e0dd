#!/usr/bin/env bash
# demo.sh - imgsync end to end on one machine, from a fresh clone of the repository:
#
#   sudo bash scripts/demo.sh
#
#   1. installs the Debian 12 packages that are missing (scripts/setup-deps.sh build test; root
#      needed then)
#   2. builds imgsync (Release) into build/
#   3. starts a local S3 server, Ceph radosgw on 127.0.0.1 (tests/rgw/start-rgw.sh)
#   4. creates the bucket imgsync-demo
#   5. imgsync seed:   writes 5000 real PNG/JPEG images into a spool and registers them as pending
#   6. imgsync check:  one signed request proves endpoint, bucket and credentials
#   7. imgsync upload: one unthrottled pass, 16 uploads in flight
#   8. imgsync status: is the backlog draining?
#   9. reads one image back through a presigned URL and compares it with the original
#
# radosgw is left running so you can look around; the script ends by printing how to use the
# demo environment and how to stop the server.
#
# Idempotent: a second run reuses the packages, the build and a radosgw that is still running,
# and starts the demo state over (the state file and the spool under the demo directory are
# recreated; the same seed gives the same images and keys, so the bucket does not grow).
#
# Knobs (environment):
#   DEMO_DIR     state file, spool and env file           (default: _demo/ in the checkout)
#   DEMO_COUNT   images to seed                            (default 5000)
#   DEMO_SEED    seed for the images                       (default 20240501)
#   BUILD_JOBS   parallel compile jobs                     (default 2)
#   RGW_BASE, RGW_PORT, RGW_MON_PORT, RGW_OBJECTSTORE ...  passed on to tests/rgw/start-rgw.sh
#                (defaults: state in /tmp/imgsync-rgw-$UID, S3 on 127.0.0.1:7480; a radosgw
#                that start-rgw.sh started earlier with the same RGW_BASE is reused)
#                (RGW_OBJECTSTORE=bluestore keeps the objects on disk instead of in RAM)
# Credentials go to imgsync through the environment only, never on a command line.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DEMO_DIR=${DEMO_DIR:-$ROOT/_demo}
case $DEMO_DIR in /*) ;; *) DEMO_DIR=$ROOT/$DEMO_DIR ;; esac
[ "$DEMO_DIR" != / ] || { echo "demo: DEMO_DIR must not be /" >&2; exit 2; }
DEMO_COUNT=${DEMO_COUNT:-5000}
DEMO_SEED=${DEMO_SEED:-20240501}
JOBS=${BUILD_JOBS:-2}
BUCKET=imgsync-demo
BIN=$ROOT/build/imgsync

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B='' N=''; fi
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
die() {
    echo "demo: $*" >&2
    exit 1
}

# ---------- 1. packages -------------------------------------------------------------------------
step "Dependencies (scripts/setup-deps.sh build test)"
# not "all": the demo needs no clang and compiler-rt (the fuzz group, for the test suite)
bash "$ROOT/scripts/setup-deps.sh" build test

# ---------- 2. build ----------------------------------------------------------------------------
step "Build (Release, build/)"
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$ROOT/build" -j "$JOBS" --target imgsync
"$BIN" --version

# ---------- 3. radosgw --------------------------------------------------------------------------
step "Local S3 server (tests/rgw/start-rgw.sh)"
RGW_INFO=$(bash "$ROOT/tests/rgw/start-rgw.sh") || die "radosgw did not start (see the messages above)"
# KEY=VALUE lines; read them without evaluating anything.
rgw_value() { sed -n "s/^$1=//p" <<<"$RGW_INFO" | tail -n 1; }
RGW_ENDPOINT=$(rgw_value RGW_ENDPOINT)
RGW_ACCESS_KEY=$(rgw_value RGW_ACCESS_KEY)
RGW_SECRET_KEY=$(rgw_value RGW_SECRET_KEY)
RGW_REGION=$(rgw_value RGW_REGION)
if [ -z "$RGW_ENDPOINT" ] || [ -z "$RGW_ACCESS_KEY" ] || [ -z "$RGW_SECRET_KEY" ]; then
    die "tests/rgw/start-rgw.sh did not print RGW_ENDPOINT, RGW_ACCESS_KEY and RGW_SECRET_KEY"
fi
RGW_BASE_USED=$(rgw_value RGW_BASE)
RGW_REGION=${RGW_REGION:-us-east-1}
echo "endpoint $RGW_ENDPOINT, region $RGW_REGION$([ "$(rgw_value RGW_REUSED)" = 1 ] && echo ', already running')"

# ---------- 4. bucket ---------------------------------------------------------------------------
step "Bucket $BUCKET"
# curl reads the key pair from its config on stdin (printf is a shell builtin): no secret in ps.
body=$(mktemp)
trap 'rm -f "$body"' EXIT
code=$(printf 'user = "%s:%s"\n' "$RGW_ACCESS_KEY" "$RGW_SECRET_KEY" |
    curl -sS -K - -o "$body" -w '%{http_code}' -m 30 -X PUT \
        --aws-sigv4 "aws:amz:$RGW_REGION:s3" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
        "$RGW_ENDPOINT/$BUCKET") || die "cannot reach $RGW_ENDPOINT"
if [ "$code" = 200 ]; then
    echo "created (or already there)"
elif [ "$code" = 409 ] && grep -q BucketAlreadyOwnedByYou "$body"; then
    echo "already there"
else
    cat "$body" >&2
    die "creating bucket $BUCKET failed: HTTP $code"
fi

# ---------- 5-8. imgsync ------------------------------------------------------------------------
# Only what is set here reaches imgsync: no IMGSYNC_* or AWS_* settings of the caller, and no
# system config file (/etc/imgsync/imgsync.conf).
while read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(IMGSYNC|AWS)_' || true)
export IMGSYNC_CONFIG=/dev/null
export IMGSYNC_DB=$DEMO_DIR/state.db
export IMGSYNC_SPOOL=$DEMO_DIR/spool
export IMGSYNC_BUCKET=$BUCKET
export IMGSYNC_ENDPOINT=$RGW_ENDPOINT
export AWS_REGION=$RGW_REGION
export AWS_ACCESS_KEY_ID=$RGW_ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$RGW_SECRET_KEY

# A fresh demo state on every run (the images are the same: fixed seed).
mkdir -p "$DEMO_DIR"
rm -rf "$DEMO_DIR/spool" "$DEMO_DIR/state.db" "$DEMO_DIR/state.db-wal" "$DEMO_DIR/state.db-shm" \
    "$DEMO_DIR/state.db.lock"
# For your own shell afterwards: `. _demo/env` (it holds the demo server's test keys).
(
    umask 077
    cat >"$DEMO_DIR/env" <<EOF
# imgsync demo environment: . $DEMO_DIR/env
export IMGSYNC_CONFIG=/dev/null
export IMGSYNC_DB=$IMGSYNC_DB
export IMGSYNC_SPOOL=$IMGSYNC_SPOOL
export IMGSYNC_BUCKET=$IMGSYNC_BUCKET
export IMGSYNC_ENDPOINT=$IMGSYNC_ENDPOINT
export AWS_REGION=$AWS_REGION
export AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
export AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
EOF
)

step "imgsync seed --count $DEMO_COUNT"
"$BIN" seed --count "$DEMO_COUNT" --seed "$DEMO_SEED"

step "imgsync status (before the pass)"
"$BIN" status

step "imgsync check"
"$BIN" check

step "imgsync upload --concurrency 16 (no throttle)"
t0=$SECONDS
upload_rc=0
"$BIN" upload --concurrency 16 || upload_rc=$?
echo "upload exit status $upload_rc after $((SECONDS - t0)) s"

step "imgsync status"
"$BIN" status

# ---------- 9. read one image back --------------------------------------------------------------
step "Read one image back through a presigned URL"
IFS=$'\t' read -r key path < <("$BIN" list --state uploaded --limit 1 --json | python3 -c '
import json, sys
rows = json.load(sys.stdin)
if rows:
    print(rows[0]["key"] + "\t" + rows[0]["path"])
') || true
if [ -n "${key:-}" ]; then
    url=$("$BIN" presign --expires 600 "$key")
    curl -sS -f -m 30 -o "$body" "$url"
    if cmp -s "$body" "$path"; then
        echo "$key: the bucket holds exactly the bytes of $path ($(stat -c %s "$path") bytes)"
    else
        die "$key: the object differs from $path"
    fi
else
    echo "no uploaded image to read back"
fi

# ---------- done --------------------------------------------------------------------------------
REL_DEMO=${DEMO_DIR#"$ROOT"/}
# Under sudo the demo's files (state file 0600, spool 0700) belong to root: the hints say sudo
# then, with the demo's environment sourced inside it (sudo resets the environment).
if [ "$(id -u)" = 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
    hint() { printf "  sudo bash -c '. %s/env && %s'\n" "$REL_DEMO" "$1"; }
    intro="The demo ran as root, so its state file and spool belong to root; as $SUDO_USER:"
    stop_prefix="sudo "
else
    hint() { printf '  %s\n' "$1"; }
    intro="To look around:"
    stop_prefix=""
    printf -v first '  . %s/env' "$REL_DEMO"
fi
echo
echo "Done. radosgw is still running at $RGW_ENDPOINT (bucket $BUCKET). $intro"
echo
[ -z "${first:-}" ] || echo "$first"
hint "build/imgsync status --json"
hint "build/imgsync list --state uploaded --limit 5"
hint "build/imgsync seed --count 1000 && build/imgsync upload --rate 50 --max-duration 10s"
hint "build/imgsync status --check --warn-pending 100 --crit-pending 1000"
echo
echo "Stop the server (and --purge its data) with:"
echo
echo "  ${stop_prefix}RGW_BASE=$RGW_BASE_USED bash tests/rgw/stop-rgw.sh --purge"
exit "$upload_rc"
