# shellcheck shell=bash
# lib-rgw.sh - shared by start-rgw.sh and stop-rgw.sh (sourced, not run). Expects D (the state
# directory, $RGW_BASE/data) and CONF ($D/ceph.conf) to be set by the caller.

# PID of one of *our* daemons (rgw.a, osd.0, mon.a), if alive, from $D/pids/NAME.pid. Guards
# against PID reuse: that process's command line must carry our config path.
our_pid() {
    local f=$D/pids/$1.pid p
    [ -s "$f" ] || return 1
    p=$(<"$f")
    [ -r "/proc/$p/cmdline" ] || return 1
    [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] || return 1
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -qF -- "-c $CONF " || return 1
    echo "$p"
}
