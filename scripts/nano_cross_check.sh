#!/bin/sh
# ctest nano.cross: the nano client (src/nano, the driver, and src/session,
# the engine it drives) cross-compiles for Cortex-M0+
# and Cortex-M4 with arm-none-eabi-gcc -std=c99 -Wall -Wextra -Werror
# -pedantic in each configuration (3.1.1, 3.1.1 QoS 0/1, 5.0), and links into
# tests/target/size/nano_app.c (every public nano function) with src/codec
# and src/common alone: no port, no allocator, no threaded client.
# What the nano objects leave undefined must come from codec/common or be
# string.h functions (mem*, str*) or the compiler's runtime helpers
# (__aeabi_*, __gnu_thumb1_case_*): nano takes no heap and reads no clock
# (include/kmqtt/nano.h).
# Sizes are measured by make size, not asserted here.
# Usage: nano_cross_check.sh <source root>. Exit 77 (skip, not passed) without
# the compiler or without src/nano/*.c.
set -eu
root=$(cd "$1" && pwd)
cc=arm-none-eabi-gcc
if ! command -v $cc >/dev/null 2>&1; then
    echo "nano.cross: SKIPPED, $cc not found (scripts/deps.sh installs gcc-arm-none-eabi)" >&2
    exit 77
fi
nano=$(ls "$root"/src/nano/*.c "$root"/src/session/*.c 2>/dev/null || true)
if [ -z "$nano" ]; then
    echo "nano.cross: SKIPPED, no sources under $root/src/nano yet" >&2
    exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
t=$root/tests/target
base="-std=c99 -mthumb -Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror"
inc="-I$root/include -I$root/src"
client="-DKMQTT_CFG_SERVER_CODEC=0 -DKMQTT_CFG_STRERROR=0 -DKMQTT_CFG_LOG=0 -DKMQTT_CFG_INBOUND_BITS=0 -DKMQTT_CFG_RETRY=0 -DKMQTT_CFG_OFFLINE_QUEUE=0 -DKMQTT_CFG_TOPIC_ALIAS=0"
n=0
for cpu in cortex-m0plus cortex-m4; do
    for cfg in v311 q1 v5; do
        case $cfg in
        v311) defs="$client -DKMQTT_CFG_V5=0" ;;
        q1) defs="$client -DKMQTT_CFG_V5=0 -DKMQTT_CFG_QOS2=0" ;;
        v5) defs="$client" ;;
        esac
        d=$out/$cpu-$cfg
        mkdir -p "$d/nano" "$d/core"
        # One compiler run per group (the objects land in the current folder).
        # shellcheck disable=SC2086
        (cd "$d/nano" && $cc $base -pedantic -mcpu=$cpu $defs $inc -c $nano) || {
            echo "nano.cross: src/nano does not compile for $cpu ($cfg: $defs)" >&2
            exit 1
        }
        # shellcheck disable=SC2086
        (cd "$d/core" && $cc $base -pedantic -mcpu=$cpu $defs $inc -c "$root"/src/codec/*.c "$root"/src/common/*.c)
        # (startup.c is not -pedantic: it puts the stack address in the vector table)
        # shellcheck disable=SC2086
        $cc $base -mcpu=$cpu $defs $inc -I"$t" -nostartfiles --specs=rdimon.specs -T"$t/mps2.ld" \
            -Wl,--gc-sections "$t/size/nano_app.c" "$t/startup.c" "$d"/nano/*.o "$d"/core/*.o \
            -o "$d/app.elf" -Wl,--start-group -lc -lrdimon -Wl,--end-group || {
            echo "nano.cross: nano_app does not link with src/nano + codec + common for $cpu ($cfg)" >&2
            exit 1
        }
        arm-none-eabi-nm --defined-only "$d"/core/*.o | awk 'NF == 3 { print $3 }' | sort -u >"$d/core.syms"
        arm-none-eabi-nm --defined-only "$d"/nano/*.o | awk 'NF == 3 { print $3 }' | sort -u >"$d/nano.syms"
        bad=$(arm-none-eabi-nm -u "$d"/nano/*.o | awk 'NF == 2 { print $2 }' | sort -u |
            comm -23 - "$d/core.syms" | comm -23 - "$d/nano.syms" |
            grep -Ev '^(mem[a-z]+|str[a-z]+|__aeabi_[a-z0-9_]+|__gnu_thumb1_case_[a-z0-9]+)$' || true)
        if [ -n "$bad" ]; then
            echo "nano.cross: src/nano ($cpu, $cfg) needs what it must not: $(echo "$bad" | tr "\n" " ")" >&2
            exit 1
        fi
        n=$((n + 1))
    done
done
echo "nano.cross: src/nano + src/session ($(echo "$nano" | wc -w) files) compiles with -Werror -pedantic and links" \
    "with codec + common alone, in $n builds (M0+/M4 x 3.1.1, 3.1.1 QoS 0/1, 5.0)"
