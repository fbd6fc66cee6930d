#!/bin/sh
# make test-target: cross-compiles the core's unit tests (codec, session, mem)
# with arm-none-eabi-gcc and newlib and runs each under qemu-system-arm on
# MPS2 Cortex-M board models, output and exit code through semihosting:
#   cortex-m0plus code (ARMv6-M, newlib's v6-m multilib) on mps2-an385 with
#                 unaligned accesses trapping, as on a Cortex-M0+;
#   cortex-m4 code (ARMv7E-M) on mps2-an386.
# Fails if any test program fails, faults or hangs, or if a program did not run
# and pass exactly the cases its source registers (scripts/test_guard.py,
# issue 23). Usage: test-target.sh [builddir]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/target}
jobs=${JOBS:-2}
for tool in arm-none-eabi-gcc qemu-system-arm python3; do
    command -v $tool >/dev/null || { echo "test-target: $tool missing (make deps)" >&2; exit 1; }
done

start=$(date +%s)
status=0
total=0
programs=0
for cfg in cortex-m0plus:mps2-an385 cortex-m4:mps2-an386; do
    cpu=${cfg%%:*}
    board=${cfg#*:}
    dir=$out/$cpu
    cmake -S "$root/tests/target" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/arm-none-eabi.cmake" \
        -DKMQTT_ARM_CPU="$cpu" -DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null
    cmake --build "$dir" -j"$jobs" >/dev/null
    # The shim must report a failed assertion as a failed run.
    rc=0
    timeout 60 qemu-system-arm -M "$board" -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native -kernel "$dir/shim_selftest.elf" \
        >"$dir/shim_selftest.log" 2>&1 || rc=$?
    if [ "$rc" -ne 1 ] || ! grep -q 'FAILED  \] must_fail' "$dir/shim_selftest.log"; then
        echo "FAIL $cpu/$board shim_selftest: a failing assertion gave exit $rc, not 1"
        status=1
    fi
    for elf in "$dir"/test_*.elf; do
        name=$(basename "$elf" .elf)
        log=$dir/$name.log
        rc=0
        timeout 300 qemu-system-arm -M "$board" -nographic -monitor none -serial none \
            -semihosting-config enable=on,target=native -kernel "$elf" >"$log" 2>&1 || rc=$?
        ok=$(grep -c '^\[       OK \]' "$log" || true)
        ran=$(grep -c '^\[ RUN      \]' "$log" || true)
        total=$((total + ok))
        programs=$((programs + 1))
        if [ "$rc" -ne 0 ] || [ "$ok" -ne "$ran" ] || [ "$ran" -eq 0 ]; then
            echo "FAIL $cpu/$board $name (exit $rc, $ok of $ran passed):"
            grep -E 'error:|FAILED|ERROR|fault' "$log" | head -20
            status=1
        else
            printf 'ok   %-14s %-11s %-22s %4d tests\n' "$cpu" "$board" "$name" "$ok"
        fi
    done
    # Every program of the build ran, each case its source registers
    # (shim_selftest fails one case on purpose; checked above).
    python3 "$root/scripts/test_guard.py" target "$dir" --not-run shim_selftest.elf || status=1
done
echo "test-target: $total tests passed in $programs programs on emulated Cortex-M, $(($(date +%s) - start)) s"

# No hidden OS calls: the core objects may reference nothing outside the
# C library's string functions and the compiler's runtime helpers.
lib=$out/cortex-m4/libkmqtt_core_target.a
arm-none-eabi-nm -g --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u >"$out/defined.txt"
bad=$(arm-none-eabi-nm -u "$lib" | awk 'NF == 2 {print $2}' | sort -u | comm -23 - "$out/defined.txt" |
    grep -v -E '^(mem(cpy|move|set|cmp|chr)|str(len|cmp|ncmp|chr|pbrk)|__aeabi_[a-z0-9_]+)$' || true)
# mem.c's default backend uses malloc/free (not with KMQTT_NO_MALLOC);
# mem_report.c formats reports with snprintf for the application's print hook.
bad=$(echo "$bad" | grep -v -E '^(malloc|free|snprintf)$' || true)
if [ -n "$bad" ]; then
    echo "test-target: core objects reference symbols beyond string.h: $bad"
    status=1
else
    echo "test-target: core objects reference only string.h functions, malloc/free (default backend), snprintf (mem_report) and __aeabi helpers"
fi
exit $status
