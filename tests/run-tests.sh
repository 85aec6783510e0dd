#!/usr/bin/env bash
# run-tests.sh - THE test command of imgsync (CI runs exactly this, through .ci/run).
#
#   sudo bash tests/run-tests.sh [SUITE_FILTER...]
#
# Steps (each one is a check; the last line printed is "N passed, M failed" over all checks):
#   1. deps     scripts/setup-deps.sh installs missing Debian packages (root needed only then)
#   2. format   clang-format --dry-run --Werror over src/ and tests/ C++ files
#   3. build    build/       -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMGSYNC_WERROR=ON
#               build-asan/  -DCMAKE_BUILD_TYPE=Debug (-O1) -DIMGSYNC_SANITIZE=ON -DIMGSYNC_WERROR=ON
#   3b. tidy    clang-tidy (run-clang-tidy, .clang-tidy: braces, bugprone-*, performance-*, every
#               finding an error) over src/, with build/'s compile_commands.json
#   4. unit     ctest in both build directories
#   4b. fuzz    build-fuzz/ (clang++-14, -DIMGSYNC_FUZZ=ON), then every tests/fuzz/fuzz_* target
#               for 20 s on a temporary copy of its seed corpus tests/fuzz/corpus/<target>/ (and
#               with tests/fuzz/<target>.dict); fails on any crash, leak, timeout or sanitizer
#               report, and keeps the offending input in the log directory
#   5. radosgw  tests/rgw/start-rgw.sh once (stopped and purged on exit, whatever happens), and
#               tests/pg/start-pg.sh (a throwaway PostgreSQL; stopped and removed on exit) when a
#               selected suite runs on PostgreSQL
#   6. suites   every tests/integration/*.sh and tests/faults/*.sh (not starting with "_"), first
#               with IMGSYNC_BIN=build/imgsync, then with build-asan/imgsync; each under a timeout.
#               A suite with the line "# imgsync-test: binary-independent" runs once only.
#               State backends (T_BACKEND, tests/lib.sh): every suite runs on sqlite; a suite with
#               "# imgsync-test: backends sqlite pg" also runs on pg with the release build, and
#               with the ASan build too if it has "# imgsync-test: pg-asan" ("backends pg": pg
#               only). The reasons for that matrix: doc/testing.md.
# A suite is a bash script that exits 0 on success (tests/lib.sh gives it t_begin/t_ok/...).
# SUITE_FILTER: run only suites whose file name contains one of these words; SUITE:TEST runs
# only the tests of those suites whose slug (tests/lib.sh: the test's name in lower case, other
# characters than a-z 0-9 as "-") contains TEST's, through T_ONLY. Examples:
#   bash tests/run-tests.sh e2e                     every test of e2e.sh
#   bash tests/run-tests.sh e2e:awkward-keys        only e2e.sh's tests with "awkward-keys" in the slug
#   bash tests/run-tests.sh e2e:awkward-keys,wrong-secret faults:stall throttle
#                                                   two of e2e.sh, faults.sh's stall test, all throttle.sh
# (A SUITE word given alone as well runs all of that suite. Each suite prints its tests as
# "---- SUITE: NAME [SUITE:SLUG]"; a failed one is named SUITE:SLUG in the summary.) For a quick
# rerun of one test: SKIP_DEPS=1 SKIP_FORMAT=1 SKIP_TIDY=1 SKIP_BUILD=1 SKIP_UNIT=1 SKIP_FUZZ=1 SKIP_ASAN=1
# RGW_KEEP=1 bash tests/run-tests.sh SUITE:TEST  (or T_ONLY=TEST bash tests/integration/SUITE.sh)
#
# Environment knobs:
#   SKIP_DEPS=1 SKIP_FORMAT=1 SKIP_TIDY=1 SKIP_ASAN=1 SKIP_SUITES=1 SKIP_UNIT=1 SKIP_FUZZ=1
#   SKIP_BUILD=1 (use build/ and build-asan/ as they are: a development shortcut)
#   BUILD_JOBS (2)   SUITE_TIMEOUT seconds per suite (900)   UNIT_TIMEOUT seconds (900)
#   RGW_BASE (/tmp/imgsync-test-rgw-$UID-<hash of this checkout>), RGW_PORT / RGW_MON_PORT (free
#   ports picked), RGW_KEEP=1 (leave radosgw running for the next run, which then reuses it)
#   PG_BASE (/tmp/imgsync-test-pg-$UID-<hash of this checkout>), PG_KEEP=1 (leave PostgreSQL
#   running for the next run), SKIP_PG=1 (no PostgreSQL runs), BACKENDS="sqlite pg" (the default;
#   "pg" or "sqlite" runs the suites on that backend only)
#   TEST_LOG_DIR (build/test-logs): one log per step and suite
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
T_START=$SECONDS
JOBS=${BUILD_JOBS:-2}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-900}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-900}
LOG_DIR=${TEST_LOG_DIR:-$ROOT/build/test-logs}
FILTERS=("$@")
mkdir -p "$LOG_DIR"
rm -f "$LOG_DIR"/*.log

PASSED=0
FAILED=0
RESULTS=()   # "status<TAB>name<TAB>seconds<TAB>detail"

say() { printf '\n==== [%4ds] %s\n' $((SECONDS - T_START)) "$*"; }
record() { # STATUS(pass|FAIL|skip) NAME SECONDS [DETAIL]
    case $1 in
    pass) PASSED=$((PASSED + 1)) ;;
    FAIL) FAILED=$((FAILED + 1)) ;;
    esac
    RESULTS+=("$(printf '%s\t%s\t%s\t%s' "$1" "$2" "$3" "${4:-}")")
    printf '==== %s: %s (%ss)%s\n' "$1" "$2" "$3" "${4:+ - $4}"
}
# Every long step runs in the background while we `wait` for it, so that SIGINT/SIGTERM are
# handled at once (bash runs traps only between commands): the handler stops CHILD, then exits.
CHILD=""
kill_tree() { # PID: SIGTERM to PID and its descendants (by parent PID)
    local c
    # The kernel's list of each thread's children, not `ps --ppid`: procps is not on a minimal
    # Debian system, and nothing else here needs it. (One line of space-separated PIDs.)
    # shellcheck disable=SC2013
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do kill_tree "$c"; done
    kill -TERM "$1" 2>/dev/null
}
stop_child() {
    [ -n "$CHILD" ] || return 0
    local first=${1:-$CHILD} i
    kill -TERM "$first" 2>/dev/null
    for ((i = 0; i < 200; i++)); do
        kill -0 "$CHILD" 2>/dev/null || return 0
        sleep 0.1
    done
    kill_tree "$CHILD"
}

# run_step NAME LOGFILE CMD...: output goes to the log; its tail is shown on failure.
run_step() {
    local name=$1 log=$2 t0=$SECONDS rc
    shift 2
    say "$name"
    "$@" >"$log" 2>&1 </dev/null &
    CHILD=$!
    wait "$CHILD"
    rc=$?
    CHILD=""
    if [ $rc = 0 ]; then
        record pass "$name" $((SECONDS - t0))
    else
        echo "---- last 60 lines of $log ----"
        tail -n 60 "$log"
        record FAIL "$name" $((SECONDS - t0)) "exit $rc, log $log"
    fi
    return $rc
}

# ---------- cleanup: whatever happens, stop what we started -----------------------------------
RGW_STARTED=0
PG_STARTED=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$PG_STARTED" = 1 ] && [ "${PG_KEEP:-0}" != 1 ]; then
        echo "==== stopping PostgreSQL ($PG_BASE)"
        bash "$ROOT/tests/pg/stop-pg.sh" >>"$LOG_DIR/pg.log" 2>&1 ||
            echo "stop-pg.sh failed, see $LOG_DIR/pg.log"
    fi
    if [ "$RGW_STARTED" = 1 ] && [ "${RGW_KEEP:-0}" != 1 ]; then
        echo "==== stopping radosgw ($RGW_BASE)"
        bash "$ROOT/tests/rgw/stop-rgw.sh" --purge >>"$LOG_DIR/rgw.log" 2>&1 ||
            echo "stop-rgw.sh failed, see $LOG_DIR/rgw.log"
    fi
    exit $rc
}
SUITE_TIMEOUT_PID_FILE=""
on_signal() {
    trap '' INT TERM
    echo "run-tests: interrupted; stopping the running step"
    if [ -n "$SUITE_TIMEOUT_PID_FILE" ] && [ -s "$SUITE_TIMEOUT_PID_FILE" ]; then
        stop_child "$(cat "$SUITE_TIMEOUT_PID_FILE")" # timeout passes SIGTERM on to the suite
    else
        stop_child
    fi
    exit 130
}
trap cleanup EXIT
trap on_signal INT TERM

# ---------- 1. dependencies -------------------------------------------------------------------
if [ "${SKIP_DEPS:-0}" != 1 ]; then
    run_step "deps (scripts/setup-deps.sh)" "$LOG_DIR/deps.log" bash "$ROOT/scripts/setup-deps.sh" all
    grep -h '^setup-deps:' "$LOG_DIR/deps.log" || true
fi

# ---------- 2. format -------------------------------------------------------------------------
if [ "${SKIP_FORMAT:-0}" != 1 ]; then
    format_check() {
        local files=()
        mapfile -d '' files < <(find src tests -type f \( -name '*.cpp' -o -name '*.hpp' \
            -o -name '*.h' -o -name '*.cc' -o -name '*.hh' -o -name '*.cxx' \) -print0 | sort -z)
        echo "clang-format $(clang-format --version | head -1): ${#files[@]} files"
        [ ${#files[@]} -gt 0 ] || return 0
        clang-format --dry-run --Werror "${files[@]}" 2>&1 && return 0
        echo "files that need clang-format -i (clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1)):"
        clang-format --dry-run --Werror "${files[@]}" 2>&1 | grep -oE '^[^:]+:[0-9]+:[0-9]+: error' | cut -d: -f1 | sort -u | sed 's/^/  /'
        return 1
    }
    run_step "format (clang-format --dry-run --Werror)" "$LOG_DIR/format.log" format_check
fi

# ---------- 3. builds -------------------------------------------------------------------------
# build_variant DIR CMAKE_ARGS...
build_variant() {
    local dir=$1
    shift
    cmake -S "$ROOT" -B "$ROOT/$dir" "$@" &&
        cmake --build "$ROOT/$dir" -j "$JOBS"
}
VARIANTS=()
if [ "${SKIP_BUILD:-0}" = 1 ]; then # use what is there (development shortcut)
    [ -x build/imgsync ] && VARIANTS+=(release)
    [ -x build-asan/imgsync ] && [ "${SKIP_ASAN:-0}" != 1 ] && VARIANTS+=(asan)
    echo "==== SKIP_BUILD=1: using existing builds: ${VARIANTS[*]:-none}"
elif run_step "build (build/, Werror)" "$LOG_DIR/build.log" build_variant build \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMGSYNC_WERROR=ON -DIMGSYNC_SANITIZE=OFF; then
    VARIANTS+=(release)
fi
if [ "${SKIP_ASAN:-0}" != 1 ] && [ "${SKIP_BUILD:-0}" != 1 ]; then
    if run_step "build (build-asan/, ASan+UBSan, Werror)" "$LOG_DIR/build-asan.log" build_variant build-asan \
        -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g -O1" -DIMGSYNC_WERROR=ON -DIMGSYNC_SANITIZE=ON; then
        VARIANTS+=(asan)
    fi
fi
variant_dir() { if [ "$1" = asan ]; then echo "$ROOT/build-asan"; else echo "$ROOT/build"; fi; }

# ---------- 3b. clang-tidy ---------------------------------------------------------------------
if [ "${SKIP_TIDY:-0}" != 1 ] && [ -f "$ROOT/build/compile_commands.json" ]; then
    tidy_check() {
        echo "$(clang-tidy --version | grep -i version | head -1), checks from .clang-tidy"
        run-clang-tidy -p "$ROOT/build" -j "$JOBS" -quiet "$ROOT/src/"
    }
    run_step "tidy (clang-tidy over src/)" "$LOG_DIR/tidy.log" tidy_check
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# ---------- 4. unit tests ---------------------------------------------------------------------
if [ "${SKIP_UNIT:-0}" != 1 ]; then
    for v in "${VARIANTS[@]}"; do
        run_step "unit tests ($v)" "$LOG_DIR/unit-$v.log" \
            ctest --test-dir "$(variant_dir "$v")" -V --timeout "$UNIT_TIMEOUT"
        grep -E '\[doctest\] (test cases|assertions)|tests passed|tests failed' "$LOG_DIR/unit-$v.log" || true
    done
fi

# ---------- 4b. fuzz targets, briefly ----------------------------------------------------------
if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    fuzz_check() {
        local secs=20 work t dir status=0
        cmake -S "$ROOT" -B "$ROOT/build-fuzz" -DCMAKE_CXX_COMPILER=clang++-14 -DIMGSYNC_FUZZ=ON \
            -DIMGSYNC_TESTS=OFF -DIMGSYNC_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
            "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -gline-tables-only" &&
            cmake --build "$ROOT/build-fuzz" -j "$JOBS" --target imgsync_fuzz || return 1
        work=$(mktemp -d "${TMPDIR:-/tmp}/imgsync-fuzz.XXXXXX") || return 1
        trap 'rm -rf "$work"' EXIT
        for t in "$ROOT"/build-fuzz/fuzz_*; do
            [ -x "$t" ] || continue
            t=$(basename "$t")
            dir=$ROOT/tests/fuzz/corpus/${t#fuzz_}
            mkdir -p "$work/$t"
            [ -d "$dir" ] && cp -R "$dir/." "$work/$t/"
            local args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1
                -artifact_prefix="$LOG_DIR/$t-")
            [ -f "$ROOT/tests/fuzz/${t#fuzz_}.dict" ] && args+=(-dict="$ROOT/tests/fuzz/${t#fuzz_}.dict")
            echo "---- $t ${args[*]} ($(find "$work/$t" -type f | wc -l) seeds)"
            "$ROOT/build-fuzz/$t" "${args[@]}" "$work/$t" >"$work/$t.log" 2>&1
            local rc=$?
            cat "$work/$t.log"
            if [ $rc != 0 ] || grep -qE 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:|^==[0-9]+== ?ERROR' "$work/$t.log" ||
                ! grep -q '^Done [0-9]* runs' "$work/$t.log"; then
                echo "fuzz-result: $t FAILED (exit $rc), input kept as $LOG_DIR/$t-*"
                status=1
            else
                echo "fuzz-result: $t ok, $(sed -n 's/^stat::number_of_executed_units: //p' "$work/$t.log") runs" \
                    "in ${secs}s, corpus $(find "$dir" -type f | wc -l) -> $(find "$work/$t" -type f | wc -l)"
            fi
        done
        return $status
    }
    run_step "fuzz (build-fuzz/, libFuzzer)" "$LOG_DIR/fuzz.log" fuzz_check
    grep -h '^fuzz-result:' "$LOG_DIR/fuzz.log" || true
fi

# ---------- 5/6. radosgw + integration suites ---------------------------------------------------
# SUITES: the suite files to run; SUITE_ONLY[file]: its T_ONLY ("" = every test).
SUITES=()
declare -A SUITE_ONLY=()
for f in tests/integration/*.sh tests/faults/*.sh; do
    [ -f "$f" ] || continue
    case $(basename "$f") in _*) continue ;; esac
    only=""
    if [ ${#FILTERS[@]} -gt 0 ]; then
        keep=0 all=0
        for w in "${FILTERS[@]}"; do
            [[ $(basename "$f") == *"${w%%:*}"* ]] || continue
            keep=1
            if [[ $w == *:* ]] && [ -n "${w#*:}" ]; then
                only+=${only:+,}${w#*:}
            else
                all=1
            fi
        done
        [ $keep = 1 ] || continue
        [ $all = 0 ] || only=""
    fi
    SUITES+=("$f")
    SUITE_ONLY[$f]=$only
done

start_rgw() {
    local tag envf
    tag=$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)
    export RGW_BASE=${RGW_BASE:-/tmp/imgsync-test-rgw-$(id -u)-$tag}
    envf=$RGW_BASE/data/env
    if [ -z "${RGW_PORT:-}" ] && [ -r "$envf" ]; then # a kept instance: same ports
        RGW_PORT=$(sed -n 's/^export RGW_PORT=//p' "$envf")
        RGW_MON_PORT=$(sed -n 's/^export RGW_MON_PORT=//p' "$envf")
    fi
    local attempt
    for attempt in 1 2 3; do
        if [ -z "${RGW_PORT:-}" ] || [ "$attempt" -gt 1 ]; then
            read -r RGW_PORT RGW_MON_PORT < <(/usr/bin/python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
        fi
        export RGW_PORT RGW_MON_PORT
        RGW_STARTED=1 # from here on, the EXIT trap stops whatever got started
        if bash "$ROOT/tests/rgw/start-rgw.sh" >"$LOG_DIR/rgw.out"; then
            cat "$LOG_DIR/rgw.out"
            # shellcheck disable=SC1090
            . "$envf"
            export RGW_ENV_FILE=$envf
            return 0
        fi
        grep -q 'already in use' "$LOG_DIR/rgw.log" 2>/dev/null || return 1
    done
    return 1
}

# suite_backends FILE: the backends FILE runs on ("sqlite", "sqlite pg" or "pg"), as its
# "# imgsync-test: backends ..." line says (default sqlite), filtered by BACKENDS and SKIP_PG.
suite_backends() {
    local line b out=""
    line=$(sed -n 's/^# imgsync-test: backends //p' "$1" | head -n 1)
    [ -n "$line" ] || line=sqlite
    for b in $line; do
        [[ " ${BACKENDS:-sqlite pg} " == *" $b "* ]] || continue
        [ "$b" = pg ] && [ "${SKIP_PG:-0}" = 1 ] && continue
        out+=${out:+ }$b
    done
    printf '%s' "$out"
}
start_pg() {
    local tag out
    tag=$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)
    export PG_BASE=${PG_BASE:-/tmp/imgsync-test-pg-$(id -u)-$tag}
    PG_STARTED=1 # from here on, the EXIT trap stops whatever got started
    out=$(bash "$ROOT/tests/pg/start-pg.sh") || return 1
    printf '%s\n' "$out"
    export PG_ENV_FILE=$PG_BASE/env
}

if [ "${SKIP_SUITES:-0}" != 1 ] && [ ${#SUITES[@]} -gt 0 ]; then
    NEED_PG=0
    for s in "${SUITES[@]}"; do [[ " $(suite_backends "$s") " == *" pg "* ]] && NEED_PG=1; done
    PG_OK=0
    if [ $NEED_PG = 1 ]; then
        t0=$SECONDS
        say "PostgreSQL"
        if start_pg 2>"$LOG_DIR/pg.log"; then
            cat "$LOG_DIR/pg.log"
            record pass "PostgreSQL start" $((SECONDS - t0))
            PG_OK=1
        else
            tail -n 60 "$LOG_DIR/pg.log"
            record FAIL "PostgreSQL start" $((SECONDS - t0)) "log $LOG_DIR/pg.log"
        fi
    fi
    t0=$SECONDS
    say "radosgw"
    if start_rgw 2>"$LOG_DIR/rgw.log"; then
        cat "$LOG_DIR/rgw.log"
        record pass "radosgw start" $((SECONDS - t0))
        RGW_OK=1
    else
        tail -n 60 "$LOG_DIR/rgw.log"
        record FAIL "radosgw start" $((SECONDS - t0)) "log $LOG_DIR/rgw.log"
        RGW_OK=0
    fi

    independent_done=()
    for run in release:sqlite release:pg asan:sqlite asan:pg; do
        v=${run%%:*} be=${run#*:}
        [ "$v" = asan ] && [ "${SKIP_ASAN:-0}" = 1 ] && continue
        built=0
        for b in "${VARIANTS[@]}"; do [ "$b" = "$v" ] && built=1; done
        for s in "${SUITES[@]}"; do
            [[ " $(suite_backends "$s") " == *" $be "* ]] || continue
            if [ "$be" = pg ] && [ "$v" = asan ] && ! grep -q '^# imgsync-test: pg-asan' "$s"; then
                continue
            fi
            tag=$v
            [ "$be" = sqlite ] || tag="$v, $be"
            name="$(basename "$s" .sh) [$tag]"
            indep=0
            grep -q '^# imgsync-test: binary-independent' "$s" && indep=1
            if [ $indep = 1 ]; then
                [[ " ${independent_done[*]} " == *" $s "* ]] && continue
                name="$(basename "$s" .sh)"
            elif [ $built = 0 ]; then
                record skip "$name" 0 "no $v build"
                continue
            fi
            if [ "$RGW_OK" = 0 ]; then
                record skip "$name" 0 "no radosgw"
                continue
            fi
            if [ "$be" = pg ] && [ "$PG_OK" = 0 ]; then
                record skip "$name" 0 "no PostgreSQL"
                continue
            fi
            # (a build from before the PostgreSQL backend: its --help names no postgresql:// URI)
            if [ "$be" = pg ] && ! "$(variant_dir "$v")/imgsync" --help 2>/dev/null | grep -q 'postgresql://'; then
                record skip "$name" 0 "this imgsync build has no PostgreSQL backend"
                continue
            fi
            [ $indep = 1 ] && independent_done+=("$s")
            log="$LOG_DIR/suite-$(basename "$s" .sh)-$v.log"
            [ "$be" = sqlite ] || log="$LOG_DIR/suite-$(basename "$s" .sh)-$v-$be.log"
            only=${SUITE_ONLY[$s]}
            say "suite $name${only:+ (T_ONLY=$only)}"
            st=$SECONDS
            SUITE_TIMEOUT_PID_FILE=$log.pid
            rm -f "$log.pid" "$log.rc"
            {
                IMGSYNC_BIN="$(variant_dir "$v")/imgsync" IMGSYNC_VARIANT=$v T_ONLY=$only T_BACKEND=$be \
                    timeout -k 15 "$SUITE_TIMEOUT" bash "$s" </dev/null 2>&1 &
                echo $! >"$log.pid"
                wait $!
                echo $? >"$log.rc"
            } | tee "$log" &
            CHILD=$!
            wait "$CHILD"
            CHILD=""
            SUITE_TIMEOUT_PID_FILE=""
            rc=$(cat "$log.rc" 2>/dev/null || echo 1)
            rm -f "$log.pid" "$log.rc"
            counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
            if [ "$rc" = 0 ]; then
                record pass "$name" $((SECONDS - st)) "$counts"
            elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
                record FAIL "$name" $((SECONDS - st)) "timed out after ${SUITE_TIMEOUT}s; $counts"
            else
                record FAIL "$name" $((SECONDS - st)) "exit $rc; $counts"
            fi
        done
    done
elif [ ${#SUITES[@]} -eq 0 ]; then
    echo "==== no integration suites found"
fi

# ---------- summary ---------------------------------------------------------------------------
echo
echo "==== summary ($((SECONDS - T_START)) s, logs in $LOG_DIR)"
for r in "${RESULTS[@]}"; do
    IFS=$'\t' read -r st nm secs det <<<"$r"
    printf '  %-4s %-50s %5ss  %s\n' "$st" "$nm" "$secs" "$det"
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]
