#!/usr/bin/env bash
# stop-pg.sh - stop the throwaway PostgreSQL cluster that start-pg.sh started and remove all of
# it ($PG_BASE: data, socket directory, logs, env and password files). Only that cluster: pg_ctl
# on its own data directory, then, if its postmaster is still alive, SIGKILL to the PID in
# $PG_BASE/data/postmaster.pid, and only if that process's command line carries our data
# directory (no PID-reuse accidents). The system cluster is never touched.
# Idempotent: nothing to stop or remove is success.
#
# Usage: [PG_BASE=DIR] stop-pg.sh          (no arguments)
# Knobs: PG_BASE (default /tmp/imgsync-pg-$UID, as start-pg.sh), PG_STOP_TIMEOUT (30 s).
# Exit status: 0 when nothing of ours is left, 1 when the server would not stop, 2 bad arguments.
set -uo pipefail

[ $# = 0 ] || {
    echo "stop-pg: unknown argument '$1' (no arguments; PG_BASE selects the cluster)" >&2
    exit 2
}
BASE=${PG_BASE:-/tmp/imgsync-pg-$(id -u)}
case $BASE in /*) ;; *) BASE=$PWD/$BASE ;; esac
[ "$BASE" != / ] || { echo "stop-pg: PG_BASE must not be /" >&2; exit 2; }
D=$BASE/data
TMO=${PG_STOP_TIMEOUT:-30}
case $TMO in '' | *[!0-9]*) TMO=30 ;; esac

[ -d "$BASE" ] || { echo "stop-pg: nothing at $BASE" >&2; exit 0; }
# refuse to delete a directory that start-pg.sh did not make (it leaves this marker first thing)
if [ ! -e "$BASE/.imgsync-test-pg" ] && [ -n "$(ls -A "$BASE" 2>/dev/null)" ]; then
    echo "stop-pg: $BASE was not made by start-pg.sh (no .imgsync-test-pg in it); not touching it" >&2
    exit 1
fi

BIN=""
for v in 15 16 17; do
    [ -x /usr/lib/postgresql/$v/bin/pg_ctl ] && BIN=/usr/lib/postgresql/$v/bin && break
done
if [ "$(id -u)" = 0 ]; then
    as_os() { runuser -u postgres -- "$@"; }
else
    as_os() { "$@"; }
fi

# our_postmaster: the PID of the postmaster of $D, if it is alive and really ours.
our_postmaster() {
    local p
    [ -s "$D/postmaster.pid" ] || return 1
    p=$(head -n 1 "$D/postmaster.pid")
    case $p in '' | *[!0-9]*) return 1 ;; esac
    [ -r "/proc/$p/cmdline" ] || return 1
    [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] || return 1
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -qF -- "-D $D" || return 1
    echo "$p"
}

rc=0
if p=$(our_postmaster); then
    if [ -n "$BIN" ]; then
        as_os "$BIN/pg_ctl" -D "$D" -m fast -w -t "$TMO" stop >&2 ||
            as_os "$BIN/pg_ctl" -D "$D" -m immediate -w -t 10 stop >&2 || true
    fi
    if p2=$(our_postmaster); then
        echo "stop-pg: postmaster (pid $p2) still alive: SIGKILL" >&2
        kill -KILL "$p2" 2>/dev/null
        for _ in $(seq 1 50); do
            our_postmaster >/dev/null || break
            sleep 0.1
        done
        if our_postmaster >/dev/null; then
            echo "stop-pg: postmaster (pid $p2) still alive" >&2
            rc=1
        fi
    fi
    [ $rc = 1 ] || echo "stop-pg: stopped postgres (pid $p)" >&2
fi
if [ $rc = 0 ]; then
    rm -rf "$BASE"
    echo "stop-pg: removed $BASE" >&2
fi
exit $rc
