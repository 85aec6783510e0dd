#!/usr/bin/env bash
# setup-deps.sh - install what imgsync needs from Debian 12 packages, and only what is missing.
#
# Usage: scripts/setup-deps.sh [build|test|fuzz|bench|all]...     (default: all)
#   build  compiler, CMake and the libraries imgsync links, libpq-dev included (+ clang-format,
#          clang-tidy, doctest), git (the commit --version names), dpkg-dev for
#          scripts/build-deb.sh
#   test   radosgw + a 1-OSD Ceph cluster for the integration tests, PostgreSQL 15 (server and
#          psql: tests/pg/start-pg.sh runs a throwaway cluster of its own; the system cluster the
#          package creates on port 5432 is left as the package left it), curl, python3 (+botocore),
#          systemd (for systemd-analyze verify of the shipped units), groff-base (man page check),
#          exiftool (EXIF dates written by an independent tool, for --key-layout exif-date),
#          lintian (the .deb) and prometheus (promtool, for the example alerting rules)
#   fuzz   clang and compiler-rt (libFuzzer, ASan, UBSan runtimes), for the short fuzz runs
#          of the test suite
#   bench  the peer tools bench/peers compares imgsync with (rclone, aws-cli v2, s3cmd) and
#          GNU time for peak RSS; not part of "all"
# Checks every package with dpkg first; runs `apt-get update` and `apt-get install
# --no-install-recommends` only when something is missing (needs root then). Idempotent: a
# second run does nothing and takes well under a second.
# Everything else the test suite, the demo and .ci/run call comes from packages that every
# Debian system has, a `debootstrap --variant=minbase` one included (Essential or priority
# required: bash, coreutils, util-linux, mount, findutils, grep, sed, mawk, diffutils, dpkg, apt);
# scripts/check-fresh-debian.sh runs both README commands on such a system.
# Env: SETUP_DEPS_DRY_RUN=1 only prints what it would install.
set -euo pipefail

BUILD_PKGS=(cmake g++ make pkg-config git libcli11-dev libcurl4-openssl-dev libssl-dev
    libsqlite3-dev libpq-dev libfmt-dev zlib1g-dev doctest-dev clang-format clang-tidy dpkg-dev)
TEST_PKGS=(radosgw ceph-mon ceph-osd ceph-common python3-rados postgresql curl python3 python3-botocore
    systemd groff-base coreutils util-linux diffutils libimage-exiftool-perl lintian prometheus)
# clang-14 only recommends libclang-rt-14-dev, and we install without recommends: without it,
# -fsanitize=fuzzer,address,undefined cannot find libclang_rt.{fuzzer,asan,ubsan...}-x86_64.a.
FUZZ_PKGS=(clang-14 libclang-rt-14-dev)
BENCH_PKGS=(rclone awscli s3cmd time)

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(all)
want=()
for g in "${groups[@]}"; do
    case $g in
    build) want+=("${BUILD_PKGS[@]}") ;;
    test) want+=("${TEST_PKGS[@]}") ;;
    fuzz) want+=("${FUZZ_PKGS[@]}") ;;
    bench) want+=("${BENCH_PKGS[@]}") ;;
    all) want+=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${FUZZ_PKGS[@]}") ;;
    -h | --help)
        sed -n '2,25p' "$0"
        exit 0
        ;;
    *)
        echo "setup-deps: unknown group '$g' (build, test, fuzz, bench, all)" >&2
        exit 2
        ;;
    esac
done

mapfile -t want < <(printf '%s\n' "${want[@]}" | sort -u)
# one dpkg-query for all (unknown packages only print an error, which we drop)
installed=" $(dpkg-query -W -f='${Package}:${db:Status-Status} ' "${want[@]}" 2>/dev/null || true)"
missing=()
for p in "${want[@]}"; do
    [[ $installed == *" $p:installed "* ]] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup-deps: all ${#want[@]} packages present" >&2
    exit 0
fi
echo "setup-deps: missing: ${missing[*]}" >&2
if [ "${SETUP_DEPS_DRY_RUN:-0}" = 1 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
    echo "setup-deps: run as root (sudo $0 ${groups[*]}) to install them" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -q -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
t0=$SECONDS
timeout 900 "${APT[@]}" update >&2 || echo "setup-deps: apt-get update failed; trying the install anyway" >&2
# The daemons some of these packages ship are not started by the install (a policy-rc.d that
# refuses, unless the machine has one of its own): the tests start servers of their own on
# 127.0.0.1, and prometheus (installed for promtool) would listen on every interface. PostgreSQL's
# system cluster is created by the package but left stopped.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# setup-deps.sh: no daemon starts during the install\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi
timeout 1800 "${APT[@]}" install -y --no-install-recommends "${missing[@]}" >&2
# ...nor at the next boot: prometheus is here only for promtool.
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v deb-systemd-helper >/dev/null; then
    deb-systemd-helper disable prometheus.service >/dev/null 2>&1 || true
fi
echo "setup-deps: installed ${#missing[@]} package(s) in $((SECONDS - t0)) s" >&2
