#!/usr/bin/env bash
# stop-rgw.sh - stop exactly the daemons that start-rgw.sh started, by the PIDs it recorded in
# $RGW_BASE/data/pids (the two radosgw, then the OSD, then the monitor). A PID is only signalled if that
# process's command line still carries our "-c $RGW_BASE/data/ceph.conf" (no PID-reuse accidents).
# SIGTERM, then SIGKILL after RGW_STOP_TIMEOUT seconds (default 10).
#
# Usage: [RGW_BASE=DIR] stop-rgw.sh [--purge]
#   --purge  also delete $RGW_BASE/data (config, mon store, logs, env file)
# Knobs: RGW_BASE (default /tmp/imgsync-rgw-$UID, as start-rgw.sh), RGW_STOP_TIMEOUT.
# Exit status: 0 when none of our daemons is left running; 2 for an unknown argument (nothing is
# stopped then).
set -uo pipefail

PURGE=0
for a in "$@"; do
    case $a in
    --purge) PURGE=1 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "stop-rgw: unknown argument '$a' (usage: stop-rgw.sh [--purge])" >&2; exit 2 ;;
    esac
done

BASE=${RGW_BASE:-/tmp/imgsync-rgw-$(id -u)}
case $BASE in /*) ;; *) BASE=$PWD/$BASE ;; esac
D=$BASE/data
CONF=$D/ceph.conf
TMO=${RGW_STOP_TIMEOUT:-10}
case $TMO in '' | *[!0-9]*) TMO=10 ;; esac

# our_pid NAME: the PID of one of our daemons, if alive (PID-reuse guarded)
# shellcheck source=SCRIPTDIR/lib-rgw.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-rgw.sh"

rc=0
for n in rgw.sts rgw.a osd.0 mon.a; do
    [ -e "$D/pids/$n.pid" ] || continue
    if p=$(our_pid "$n"); then
        if ! kill -0 "$p" 2>/dev/null; then
            echo "stop-rgw: $n (pid $p): permission denied (started by another user? try sudo)" >&2
            rc=1
            continue
        fi
        kill -TERM "$p" 2>/dev/null
        for _ in $(seq 1 $((TMO * 10))); do
            our_pid "$n" >/dev/null || break
            sleep 0.1
        done
        if p2=$(our_pid "$n"); then
            echo "stop-rgw: $n (pid $p2) ignored SIGTERM for ${TMO}s, sending SIGKILL" >&2
            kill -KILL "$p2" 2>/dev/null
            sleep 0.3
            if our_pid "$n" >/dev/null; then
                echo "stop-rgw: $n (pid $p2) still alive" >&2
                rc=1
                continue
            fi
        fi
        echo "stop-rgw: stopped $n (pid $p)" >&2
    else
        echo "stop-rgw: $n was not running (stale pid file)" >&2
    fi
    rm -f "$D/pids/$n.pid"
done

if [ "$PURGE" = 1 ] && [ $rc = 0 ] && [ -d "$D" ]; then
    rm -rf "$D"
    rm -f "$BASE/apt-install.log"
    rmdir "$BASE" 2>/dev/null || true # only if nothing else is in there
    echo "stop-rgw: removed $D" >&2
fi
exit $rc
