#!/bin/sh
# make size: the footprint of the kmqtt core (codec + session + client, no
# port, no logging) cross-compiled with arm-none-eabi-gcc -Os -mthumb for
# Cortex-M4 and Cortex-M0+, as a full MQTT 5.0 client and as a 3.1.1-only
# client; then sizeof the client structures, a minimal application linked
# with --gc-sections (what a firmware image really pays) and, run under
# qemu-system-arm, the heap a default client takes. Last, the nano client
# (include/kmqtt/nano.h) through scripts/size_nano.sh. Usage: size.sh [outdir]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/size}
command -v arm-none-eabi-gcc >/dev/null || { echo "size: arm-none-eabi-gcc missing (make deps)" >&2; exit 1; }

CFLAGS="-std=c99 -mthumb -Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror -pedantic"
# A client never needs the server direction of the codec, nor logging here.
CFG_FULL="-DKMQTT_CFG_SERVER_CODEC=0 -DKMQTT_CFG_LOG=0"
CFG_V311="-DKMQTT_CFG_V5=0 -DKMQTT_CFG_OFFLINE_QUEUE=0 -DKMQTT_CFG_SERVER_CODEC=0 -DKMQTT_CFG_STRERROR=0 -DKMQTT_CFG_LOG=0"
# The smallest useful client: 3.1.1, QoS 0/1 only (reconnect and resumption kept).
# Its RAM tables cut too: 8 remembered publish results, 2 concurrent
# (un)subscribe requests, 12 memory tags (the 11 a client uses + "other").
CFG_MIN="$CFG_V311 -DKMQTT_CFG_QOS2=0 -DKMQTT_CFG_DONE_RING=8 -DKMQTT_CFG_MAX_REQUESTS=2 -DKMQTT_MEM_MAX_TAGS=12"
# Every switch at its default (the host build), for reference.
CFG_ALL=""
SOURCES=$(cd "$root" && ls src/codec/*.c src/common/*.c src/session/*.c src/client/*.c)

# build <dir> <cpu> <defines>: the core objects into <dir>/core/
build() {
    mkdir -p "$1/core"
    # Relative paths, so __FILE__ (kept by kmqtt_mem_alloc for leak reports)
    # is "src/client/client.c" as in a typical firmware build, not /work/....
    for s in $SOURCES; do
        # shellcheck disable=SC2086
        (cd "$root" && arm-none-eabi-gcc $CFLAGS -mcpu="$2" $3 -Iinclude -Isrc \
            -c "$s" -o "$1/core/$(basename "$s" .c).o")
    done
}

# text <dir> <file>: text+rodata bytes of one object
text() {
    arm-none-eabi-size -B "$1/core/$2.o" | awk 'NR == 2 {print $1}'
}

# totals <dir>: "codec session client total data bss"
totals() {
    arm-none-eabi-size -B "$1"/core/*.o | awk '
    NR > 1 {
        n = $6; sub(/^.*\//, "", n)
        l = "codec"
        if (n ~ /^client/) l = "client"; else if (n ~ /^session/) l = "session"
        t[l] += $1; d += $2; b += $3
    }
    END { printf "%d %d %d %d %d %d\n", t["codec"], t["session"], t["client"],
          t["codec"] + t["session"] + t["client"], d, b }'
}

# linked <dir> <cpu> <defines>: links the size app; prints the core's
# text/data/bss in it
linked() {
    t=$root/tests/target
    # shellcheck disable=SC2086
    (cd "$root" && arm-none-eabi-gcc $CFLAGS -mcpu="$2" $3 -Iinclude -c src/mem/mem.c -o "$1/mem1.o" &&
        arm-none-eabi-gcc $CFLAGS -mcpu="$2" $3 -Iinclude -c src/mem/mem_arena.c -o "$1/mem2.o" &&
        arm-none-eabi-ld -r "$1/mem1.o" "$1/mem2.o" -o "$1/mem.o")
    # (no -pedantic: startup.c puts the stack address in the vector table)
    # shellcheck disable=SC2086
    arm-none-eabi-gcc -std=c99 -mthumb -Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror -mcpu="$2" $3 -I"$root/include" -I"$root/src" -I"$t" \
        -nostartfiles --specs=rdimon.specs -T"$t/mps2.ld" -Wl,--gc-sections -Wl,-Map="$1/app.map" \
        "$t/size/size_app.c" "$t/size/port_stub.c" "$t/startup.c" "$1"/core/*.o \
        "$1/mem.o" -o "$1/app.elf" -Wl,--start-group -lc -lrdimon -Wl,--end-group
    # Sum the input sections the linker kept from the core's objects.
    awk -v dir="$1/core/" -v mem="$1/mem.o" '
    function hex(s,   i, c, v) {
        v = 0; s = tolower(substr(s, 3))
        for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
        return v
    }
    function add(sz, f) {
        if (index(f, dir) != 1) {
            if (f == mem) m += hex(sz)
            return
        }
        if (sect ~ /^\.(text|rodata)/) t += hex(sz)
        else if (sect ~ /^\.data/) d += hex(sz)
        else if (sect ~ /^\.bss/) b += hex(sz)
    }
    /^Linker script and memory map/ { on = 1 }
    !on { next }
    pending { pending = 0; if (NF == 3 && $1 ~ /^0x/) add($2, $3); next }
    /^ \.(text|rodata|data|bss)/ {
        sect = $1
        if (NF == 1) pending = 1
        else if (NF >= 4 && $2 ~ /^0x/) add($3, $4)
    }
    END { printf "%d %d %d %d\n", t, d, b, m }' "$1/app.map"
}

rm -rf "$out"
for cpu in cortex-m4 cortex-m0plus; do
    build "$out/$cpu-full" $cpu "$CFG_FULL"
    build "$out/$cpu-v311" $cpu "$CFG_V311"
    build "$out/$cpu-min" $cpu "$CFG_MIN"
done
build "$out/cortex-m4-all" cortex-m4 "$CFG_ALL"

echo "kmqtt core, arm-none-eabi-gcc -Os -mthumb -ffunction-sections -fdata-sections"
echo "(text+rodata bytes per file; 5.0 = full client, SERVER_CODEC=0 LOG=0;"
echo " 3.1.1 = V5=0 OFFLINE_QUEUE=0 SERVER_CODEC=0 STRERROR=0 LOG=0, QoS 2 kept;"
echo " min = 3.1.1 and QOS2=0; reconnect and session resumption in all three)"
echo
COLS="cortex-m4-full cortex-m4-v311 cortex-m4-min cortex-m0plus-full cortex-m0plus-v311 cortex-m0plus-min"
HDR='%-20s %9s %9s %9s %9s %9s %9s\n'
# shellcheck disable=SC2059
printf "$HDR" file "M4 5.0" "M4 3.1.1" "M4 min" "M0+ 5.0" "M0+ 3.1.1" "M0+ min"
for s in $SOURCES; do
    f=$(basename "$s" .c)
    printf '%-20s' "$f"
    for col in $COLS; do printf ' %9d' "$(text "$out/$col" "$f")"; done
    echo
done
echo
# shellcheck disable=SC2059
printf "$HDR" layer "M4 5.0" "M4 3.1.1" "M4 min" "M0+ 5.0" "M0+ 3.1.1" "M0+ min"
all=""
for col in $COLS; do all="$all|$(totals "$out/$col")"; done
i=1
for l in codec session client "core total" "core data" "core bss"; do
    printf '%-20s' "$l"
    for k in 2 3 4 5 6 7; do
        printf ' %9s' "$(echo "$all" | cut -d'|' -f$k | cut -d' ' -f$i)"
    done
    echo
    i=$((i + 1))
done
# shellcheck disable=SC2046
set -- $(totals "$out/cortex-m4-all")
echo "(every switch on, as the host build: M4 core total $4)"

echo
echo "Linked into a minimal app (create, connect, subscribe, publish, run, disconnect;"
echo "--gc-sections; the core's bytes only: no libc, port or app), text+rodata / data / bss:"
for cfg in $COLS; do
    case $cfg in *-full) d=$CFG_FULL ;; *-v311) d=$CFG_V311 ;; *) d=$CFG_MIN ;; esac
    # shellcheck disable=SC2046,SC2086
    set -- $(linked "$out/$cfg" "${cfg%-*}" "$d")
    printf '  %-20s %6d / %d / %d   (+ mem.c %d)\n' "$cfg" "$1" "$2" "$3" "$4"
done

echo
# probe <name> <defines>: sizeof the client's structures on Cortex-M4, one
# "field bytes" line each
probe() {
    # shellcheck disable=SC2086
    arm-none-eabi-gcc $CFLAGS -mcpu=cortex-m4 $2 -I"$root/include" -I"$root/src" \
        -c "$root/tests/target/size/size_probe.c" -o "$out/probe-$1.o"
    arm-none-eabi-nm -S --defined-only "$out/probe-$1.o" | awk '
        / kmqtt_sizeof_/ {
            n = $4; sub(/^kmqtt_sizeof_/, "", n); s = 0; h = tolower($2)
            for (i = 1; i <= length(h); i++) s = s * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
            print n, s
        }' | sort
}
echo "sizeof on Cortex-M4 (bytes):"
probe full "$CFG_FULL" >"$out/sizeof-full.txt"
probe min "$CFG_MIN" >"$out/sizeof-min.txt"
printf '  %-20s %9s %9s\n' "" "5.0" "min"
join "$out/sizeof-full.txt" "$out/sizeof-min.txt" | awk '{ printf "  %-20s %9d %9d\n", $1, $2, $3 }'

if command -v qemu-system-arm >/dev/null; then
    echo
    echo "Heap of a default client (kmqtt_client_options_init, Cortex-M4 under qemu):"
    for cfg in cortex-m4-full cortex-m4-v311 cortex-m4-min; do
        echo "  $cfg:"
        timeout 60 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
            -semihosting-config enable=on,target=native -kernel "$out/$cfg/app.elf" | sed 's/^/    /'
    done
fi

echo
sh "$root/scripts/size_nano.sh" "$out/nano"
