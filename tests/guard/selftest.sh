#!/bin/sh
# The checks of issue 23 must fail when they should, and only then. Runs the
# real cmake/check_outputs.cmake and scripts/test_guard.py on the small
# projects tests/guard/good/ and tests/guard/bad/ (cmocka programs and shell
# tests made for it):
#   guard.outputs  (selftest.sh outputs WORKDIR [CC]): the fixture configures when
#                  every target writes its own file, and the configure step
#                  fails, naming both targets, when two write one file.
#   guard.counts   (selftest.sh counts WORKDIR [CC]): with every case run the guard
#                  passes; with a case written and not run, a cmocka program
#                  no CTest entry runs and a shell test that exits 0 before
#                  its planned checks, CTest is green and the guard fails,
#                  naming each one and both numbers.
# The nested builds' output goes to logs in WORKDIR, so their "[ RUN ]"
# lines are not read as this test's own.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mode=${1:?usage: selftest.sh outputs|counts WORKDIR [C compiler]}
work=${2:?usage: selftest.sh outputs|counts WORKDIR [C compiler]}
cc=${3:-cc}
checks=0

fail() {
    echo "guard.$mode: FAIL: $1"
    if [ -n "${2:-}" ] && [ -f "$2" ]; then
        echo "--- $2:"
        tail -n 40 "$2"
    fi
    exit 1
}

ok() {
    checks=$((checks + 1))
    echo "guard.$mode: ok - $1"
}

# expect_line LOG TEXT WHAT: LOG has a line containing TEXT (fixed string).
expect_line() {
    grep -qF -- "$2" "$1" || fail "$3: no line with [$2]" "$1"
    ok "$3"
}

# configure NAME PROJECT [ARG...]: a fresh build of tests/guard/PROJECT in
# $work/NAME; the exit code of the configure step in rc, its output in
# $work/NAME.configure.log.
configure() {
    _name=$1
    _project=$2
    shift 2
    rm -rf "${work:?}/$_name"
    mkdir -p "$work"
    rc=0
    cmake -S "$here/$_project" -B "$work/$_name" -DCMAKE_C_COMPILER="$cc" "$@" \
        >"$work/$_name.configure.log" 2>&1 || rc=$?
}

# build_and_guard FIXTURE: builds and runs the fixture's CTest entries (they
# must pass), then the guard; its exit code in grc, its output in
# $work/FIXTURE.guard.log.
build_and_guard() {
    cmake --build "$work/$1" >"$work/$1.build.log" 2>&1 || fail "the $1 fixture does not build" \
        "$work/$1.build.log"
    ctest --test-dir "$work/$1" --output-junit junit.xml --test-output-size-passed 1048576 \
        >"$work/$1.ctest.log" 2>&1 ||
        fail "the $1 fixture's CTest entries must all pass (only the guard may see the gap)" \
            "$work/$1.ctest.log"
    ok "$1: every CTest entry passes"
    grc=0
    python3 "$root/scripts/test_guard.py" ctest "$work/$1" "$work/$1/junit.xml" \
        >"$work/$1.guard.log" 2>&1 || grc=$?
}

case $mode in
outputs)
    configure good good
    [ "$rc" -eq 0 ] || fail "the good fixture does not configure" "$work/good.configure.log"
    expect_line "$work/good.configure.log" "output files, each with one writer" \
        "every target writes its own file: the configure step passes"
    configure collide good -DCOLLIDE=ON
    [ "$rc" -ne 0 ] || fail "two targets write tests/all_run and the configure step passed" \
        "$work/collide.configure.log"
    ok "two targets write one file: the configure step fails"
    expect_line "$work/collide.configure.log" "two writers for one output file" "it says why"
    expect_line "$work/collide.configure.log" "target all_run (" "it names the first target"
    expect_line "$work/collide.configure.log" "target shadow (" "it names the second target"
    ;;
counts)
    configure good good
    [ "$rc" -eq 0 ] || fail "the good fixture does not configure" "$work/good.configure.log"
    build_and_guard good
    [ "$grc" -eq 0 ] || fail "the guard fails a build where every case ran" "$work/good.guard.log"
    ok "good: the guard passes"
    expect_line "$work/good.guard.log" "2 cmocka runs of 2 programs, 7 cases; 1 shell tests, 2 checks" \
        "good: 3 + 4 cases (a wrapping macro and an #if counted as compiled) and 2 shell checks"

    configure bad bad
    [ "$rc" -eq 0 ] || fail "the bad fixture does not configure" "$work/bad.configure.log"
    build_and_guard bad
    [ "$grc" -eq 1 ] || fail "the guard exits $grc, not 1, on a build with cases that never ran" \
        "$work/bad.guard.log"
    ok "bad: the guard fails"
    expect_line "$work/bad.guard.log" "second_group_forgotten.c) registers 3 case(s); the run started 2 and passed 2" \
        "bad: a written case that does not run, with both numbers"
    expect_line "$work/bad.guard.log" "never_run.c) registers 1 case(s) but no CTest entry runs it" \
        "bad: a cmocka program no CTest entry runs"
    expect_line "$work/bad.guard.log" "test_early_exit.sh plans 2 checks; the run reported no 'all N checks passed' line" \
        "bad: a shell test that stops before its planned checks"
    ;;
*)
    fail "unknown mode $mode"
    ;;
esac
echo "guard.$mode: all $checks checks passed"
