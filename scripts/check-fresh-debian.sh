#!/usr/bin/env bash
# check-fresh-debian.sh - do the README's two commands work on a fresh, minimal Debian 12?
#
#   sudo bash scripts/check-fresh-debian.sh [--keep] [--dir DIR] [--base TARBALL] [--mirror URL]
#
# 1. bootstraps a minimal Debian 12 into DIR/root (debootstrap --variant=minbase bookworm), from
#    the mirror of this machine's own apt sources (/etc/apt/sources.list.d/debian.sources or
#    /etc/apt/sources.list; --mirror overrides); installs debootstrap first if it is missing
# 2. clones this repository into it (/root/imgsync) and checks out the current commit (HEAD:
#    uncommitted changes are not part of the check)
# 3. runs the commands of the README's first code block one after the other, as written, as root
#    under chroot (with /proc, /sys, /dev, /dev/pts bound and tmpfs on /run and /dev/shm), from
#    the clone's top directory, each with a clean environment (as sudo's env_reset gives).
#    The README writes them as `sudo CMD`; a root chroot has no sudo, and sudo as root only runs
#    CMD as root, so a leading `sudo ` is dropped.
# 4. prints each command's exit status and wall time; exit status 0 only if every one exited 0
#
# Whatever happens (also on Ctrl-C), it then stops the radosgw the demo leaves running (with the
# command the demo prints at its end), kills every process whose root is the chroot, unmounts
# everything mounted under DIR/root in reverse order (lazily if a plain umount fails), and removes
# DIR unless --keep is given or something is still mounted there.
#
# Options:
#   --keep            keep DIR (the root file system and the logs) for a look or a rerun
#   --dir DIR         work directory (default: a new /var/tmp/imgsync-fresh-debian.XXXXXX); an
#                     existing DIR/root is reused as it is, without bootstrapping
#   --base TARBALL    a tar of a bootstrapped root: unpacked instead of bootstrapping if it
#                     exists, written after the bootstrap if it does not (saves minutes next time)
#   --mirror URL      Debian mirror for debootstrap (and the chroot's apt sources)
# Logs: one per command, in DIR/logs, also shown as they are written; the summary names them.
# Needs root, about 8 GB of disk and network access to the Debian mirror. Not part of the test
# command: it takes 20-40 minutes.
# (the cleanup functions run from a trap, which shellcheck does not see)
# shellcheck disable=SC2317
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEP=0
WORK=""
BASE_TAR=""
MIRROR=""
SUITE=bookworm

usage() { sed -n '2,33p' "$0"; }
while [ $# -gt 0 ]; do
    case $1 in
    --keep) KEEP=1 ;;
    --dir) WORK=${2:?--dir needs a directory}; shift ;;
    --base) BASE_TAR=${2:?--base needs a file}; shift ;;
    --mirror) MIRROR=${2:?--mirror needs a URL}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "check-fresh-debian: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

T_START=$SECONDS
say() { printf '[check-fresh-debian %4ds] %s\n' $((SECONDS - T_START)) "$*" >&2; }
die() {
    say "ERROR: $*"
    exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, mount, chroot): sudo bash $0"
command -v git >/dev/null || die "needs git (to clone this repository)"
# as root, in a checkout that may belong to someone else: no "dubious ownership" refusal
git() { command git -c safe.directory='*' "$@"; }
HEAD=$(git -C "$REPO" rev-parse HEAD) || die "$REPO is not a git checkout"
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]; then
    say "note: uncommitted changes in $REPO are not part of the check (it clones HEAD, ${HEAD:0:12})"
fi

# ---------- the mirror: the one this machine's apt uses --------------------------------------
# deb822 (debian.sources): the first URIs of a stanza whose Suites include exactly "bookworm";
# one-line format: the first "deb [options] URI bookworm ..." line.
mirror_from_apt() {
    local f=/etc/apt/sources.list.d/debian.sources
    if [ -r "$f" ]; then
        awk -v suite="$SUITE" '
            /^[ \t]*$/ { if (uri != "" && has) { print uri; done = 1; exit } uri = ""; has = 0; next }
            tolower($1) == "uris:" { uri = $2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
            END { if (!done && uri != "" && has) print uri }' "$f"
    fi
    if [ -r /etc/apt/sources.list ]; then
        sed -E 's/\[[^]]*\]//' /etc/apt/sources.list |
            awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }'
    fi
}
[ -n "$MIRROR" ] || MIRROR=$(mirror_from_apt | head -n 1)
[ -n "$MIRROR" ] || die "no $SUITE mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list (use --mirror URL)"

# ---------- work directory -------------------------------------------------------------------
if [ -z "$WORK" ]; then
    WORK=$(mktemp -d /var/tmp/imgsync-fresh-debian.XXXXXX)
else
    mkdir -p "$WORK"
    WORK=$(cd "$WORK" && pwd -P) # no symlinks: compared with /proc/PID/root and mountinfo
fi
[ "$WORK" != / ] || die "--dir must not be /"
R=$WORK/root
LOGS=$WORK/logs
mkdir -p "$LOGS"
[ -z "$BASE_TAR" ] || case $BASE_TAR in /*) ;; *) BASE_TAR=$PWD/$BASE_TAR ;; esac

# ---------- cleanup, whatever happens --------------------------------------------------------
MOUNTED=()    # what we mounted, in order
STOP_CMDS=()  # commands (run in the chroot) that stop what the README's commands left running

mounts_under() { # DIR: mount points at or below DIR, deepest first (from mountinfo)
    awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
        sed 's/\\040/ /g' | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-
}

chroot_pids() { # PIDs of the processes whose root directory is $R
    local p root
    for p in /proc/[0-9]*; do
        root=$(readlink "$p/root" 2>/dev/null) || continue
        [ "$root" = "$R" ] && echo "${p#/proc/}"
    done
    return 0
}

kill_chroot_procs() {
    local sig pids i
    for sig in TERM KILL; do
        pids=$(chroot_pids)
        [ -n "$pids" ] || return 0
        say "sending SIG$sig to the processes still running in the chroot: ${pids//$'\n'/ }"
        # shellcheck disable=SC2086
        kill -s "$sig" $pids 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            [ -n "$(chroot_pids)" ] || return 0
            sleep 0.1
        done
    done
    pids=$(chroot_pids)
    [ -z "$pids" ] || say "WARNING: still running in the chroot: ${pids//$'\n'/ }"
}

umount_one() {
    umount "$1" 2>/dev/null && return 0
    say "umount $1 failed; lazy umount"
    umount -l "$1"
}

cleanup() {
    local rc=$? m i c left
    trap - EXIT
    trap '' INT TERM
    set +e # every step below must run, whatever failed before it
    if [ -d "$R/proc/self" ]; then # the chroot still has /proc: its programs can still run
        for c in "${STOP_CMDS[@]}"; do
            say "stopping: $c"
            timeout 120 chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
                /bin/bash -c "cd /root/imgsync && $c" >>"$LOGS/cleanup.log" 2>&1 ||
                say "'$c' failed (see $LOGS/cleanup.log)"
        done
    fi
    kill_chroot_procs
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
        m=${MOUNTED[i]}
        mountpoint -q "$m" 2>/dev/null || continue
        # first whatever got mounted below ours (e.g. by a test), then ours
        while IFS= read -r c; do
            [ "$c" = "$m" ] || umount_one "$c" || true
        done < <(mounts_under "$m")
        umount_one "$m" || say "WARNING: could not unmount $m"
    done
    # anything else under the root (the test suite mounts tmpfs under /tmp, for one)
    while IFS= read -r c; do umount_one "$c" || true; done < <(mounts_under "$R")
    left=$(mounts_under "$R")
    if [ -n "$left" ]; then
        say "WARNING: still mounted, $WORK not removed: ${left//$'\n'/ }"
    elif [ "$KEEP" = 1 ]; then
        say "kept $WORK (root file system in $R, logs in $LOGS)"
    else
        # the logs are small: keep them beside the work directory's name, for the report
        mv "$LOGS" "$WORK.logs" 2>/dev/null && say "logs in $WORK.logs"
        rm -rf --one-file-system "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# ---------- 1. a minimal Debian 12 -----------------------------------------------------------
t0=$SECONDS
if [ -x "$R/bin/bash" ]; then
    say "reusing the root file system in $R"
elif [ -n "$BASE_TAR" ] && [ -s "$BASE_TAR" ]; then
    say "unpacking $BASE_TAR into $R"
    mkdir -p "$R"
    tar -C "$R" --numeric-owner -xpf "$BASE_TAR"
else
    if ! command -v debootstrap >/dev/null; then
        say "installing debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get -q -o Dpkg::Use-Pty=0 install -y debootstrap \
            >"$LOGS/debootstrap-install.log" 2>&1 || {
            tail -n 20 "$LOGS/debootstrap-install.log" >&2
            die "apt-get install debootstrap failed"
        }
    fi
    say "debootstrap --variant=minbase $SUITE $R $MIRROR"
    rm -rf --one-file-system "$R"
    debootstrap --variant=minbase "$SUITE" "$R" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 || {
        tail -n 20 "$LOGS/debootstrap.log" >&2
        die "debootstrap failed (log $LOGS/debootstrap.log)"
    }
    if [ -n "$BASE_TAR" ]; then
        say "saving the bootstrapped root as $BASE_TAR"
        tar -C "$R" --numeric-owner -cpf "$BASE_TAR.tmp" . && mv -f "$BASE_TAR.tmp" "$BASE_TAR"
    fi
fi
BOOTSTRAP_SECS=$((SECONDS - t0))
say "root file system ready after $BOOTSTRAP_SECS s ($(chroot "$R" dpkg-query -W -f='.' | wc -c) packages)"
# name resolution for apt inside, as on the machine itself
cp -f /etc/resolv.conf "$R/etc/resolv.conf"

# ---------- 2. the clone ---------------------------------------------------------------------
if [ ! -d "$R/root/imgsync/.git" ]; then
    git clone -q --no-hardlinks "$REPO" "$R/root/imgsync"
fi
git -C "$R/root/imgsync" fetch -q "$REPO" "$HEAD" 2>/dev/null || true # HEAD may be on no branch
git -C "$R/root/imgsync" checkout -q --detach "$HEAD"
say "cloned: $(git -C "$R/root/imgsync" log -1 --format='%h %s')"

# ---------- the README's commands (of the commit under test) -------------------------------
# The first fenced code block; a trailing "# comment" is dropped, and so is a leading "sudo ".
CMDS=()
while IFS= read -r line; do
    line=$(sed -E 's/[[:space:]]+#.*$//; s/^[[:space:]]+//; s/[[:space:]]+$//' <<<"$line")
    [ -n "$line" ] || continue
    CMDS+=("${line#sudo }")
done < <(awk '/^```/ { if (inblock) exit; inblock = 1; next } inblock' "$R/root/imgsync/README.md")
[ ${#CMDS[@]} -gt 0 ] || die "no commands in the first code block of README.md"

# ---------- 3. mounts ------------------------------------------------------------------------
# Each one private, so that nothing mounted below it reaches the machine's own /dev etc.
mount_at() { # TARGET MOUNT-ARGS...
    local t=$R$1
    shift
    mkdir -p "$t"
    mount "$@" "$t"
    MOUNTED+=("$t")
    mount --make-private "$t"
}
mount_at /proc --bind /proc
mount_at /sys --bind /sys
mount_at /dev --bind /dev
mount_at /dev/pts --bind /dev/pts
mount_at /dev/shm -t tmpfs -o mode=1777,nosuid,nodev tmpfs
mount_at /run -t tmpfs -o mode=755,nosuid,nodev tmpfs

# ---------- 4. the README's commands ---------------------------------------------------------
STATUS=()
for i in "${!CMDS[@]}"; do
    c=${CMDS[i]}
    log=$LOGS/cmd$((i + 1)).log
    say "[$((i + 1))/${#CMDS[@]}] $c   (log $log)"
    t0=$SECONDS
    rm -f "$log.rc"
    # In the background while we wait: bash runs the INT/TERM trap (and so the cleanup) only
    # between commands, and a foreground command here lasts up to half an hour.
    {
        set +e # (errexit is inherited: the status must be recorded, not end the subshell)
        chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb \
            /bin/bash -c "cd /root/imgsync && $c" </dev/null 2>&1
        echo $? >"$log.rc"
    } | tee "$log" &
    wait $! || true
    rc=$(cat "$log.rc" 2>/dev/null || echo "?")
    rm -f "$log.rc"
    secs=$((SECONDS - t0))
    STATUS+=("$(printf '%s\t%s\t%s' "$rc" "$secs" "$c")")
    say "[$((i + 1))/${#CMDS[@]}] $c: exit $rc after $secs s"
    # The demo's last lines say how to stop the radosgw it leaves running.
    while IFS= read -r s; do
        STOP_CMDS+=("$s")
    done < <(grep -E '^[[:space:]]*RGW_BASE=[^ ]+ bash tests/rgw/stop-rgw\.sh' "$log" | sed -E 's/^[[:space:]]+//' | sort -u)
done

# ---------- 5. summary -----------------------------------------------------------------------
all=0
echo
echo "check-fresh-debian: $SUITE minbase from $MIRROR, commit ${HEAD:0:12}, root file system in $BOOTSTRAP_SECS s"
for s in "${STATUS[@]}"; do
    IFS=$'\t' read -r rc secs c <<<"$s"
    printf 'check-fresh-debian: %-32s exit %3s  %5d s (%dm%02ds)\n' "$c" "$rc" "$secs" $((secs / 60)) $((secs % 60))
    [ "$rc" = 0 ] || all=1
done
[ "$all" = 0 ] && echo "check-fresh-debian: all ${#STATUS[@]} commands passed" ||
    echo "check-fresh-debian: FAILED (logs in $LOGS)"
exit "$all"
