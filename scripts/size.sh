#!/bin/sh
# make size: the footprint of the kmqtt core (codec + session + client, no
# port, no logging) cross-compiled with arm-none-eabi-gcc -Os -mthumb for
# Cortex-M4 and Cortex-M0+, as a full MQTT 5.0 client and as a 3.1.1-only
# client; then sizeof the client structures, a minimal application linked
# with --gc-sections (what a firmware image really pays) and, run under
# qemu-system-arm, the heap a default client takes. Usage: size.sh [outdir]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/size}
command -v arm-none-eabi-gcc >/dev/null || { echo "size: arm-none-eabi-gcc missing (make deps)" >&2; exit 1; }

CFLAGS="-std=c99 -mthumb -Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror -pedantic"
# A client never needs the server direction of the codec, nor logging here.
CFG_FULL="-DKMQTT_CFG_SERVER_CODEC=0 -DKMQTT_CFG_LOG=0"
CFG_V311="-DKMQTT_CFG_V5=0 -DKMQTT_CFG_SERVER_CODEC=0 -DKMQTT_CFG_STRERROR=0 -DKMQTT_CFG_LOG=0"
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

# linked <dir> <cpu>: links the size app; prints the core's text/data/bss in it
linked() {
    t=$root/tests/target
    # shellcheck disable=SC2086
    (cd "$root" && arm-none-eabi-gcc $CFLAGS -mcpu="$2" -Iinclude -c src/mem/mem.c -o "$1/mem1.o" &&
        arm-none-eabi-gcc $CFLAGS -mcpu="$2" -Iinclude -c src/mem/mem_arena.c -o "$1/mem2.o" &&
        arm-none-eabi-ld -r "$1/mem1.o" "$1/mem2.o" -o "$1/mem.o")
    # (no -pedantic: startup.c puts the stack address in the vector table)
    arm-none-eabi-gcc -std=c99 -mthumb -Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror -mcpu="$2" -I"$root/include" -I"$root/src" -I"$t" \
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
done
build "$out/cortex-m4-all" cortex-m4 "$CFG_ALL"

echo "kmqtt core, arm-none-eabi-gcc -Os -mthumb -ffunction-sections -fdata-sections"
echo "(text+rodata bytes per file; 5.0 = full client, SERVER_CODEC=0 LOG=0;"
echo " 3.1.1 = V5=0 SERVER_CODEC=0 STRERROR=0 LOG=0; reconnect, resumption and QoS 2 in both)"
echo
printf '%-20s %10s %10s %10s %10s\n' file "M4 5.0" "M4 3.1.1" "M0+ 5.0" "M0+ 3.1.1"
for s in $SOURCES; do
    f=$(basename "$s" .c)
    printf '%-20s %10d %10d %10d %10d\n' "$f" "$(text "$out/cortex-m4-full" "$f")" \
        "$(text "$out/cortex-m4-v311" "$f")" "$(text "$out/cortex-m0plus-full" "$f")" \
        "$(text "$out/cortex-m0plus-v311" "$f")"
done
echo
printf '%-20s %10s %10s %10s %10s\n' layer "M4 5.0" "M4 3.1.1" "M0+ 5.0" "M0+ 3.1.1"
set -- $(totals "$out/cortex-m4-full"); a="$*"
set -- $(totals "$out/cortex-m4-v311"); b="$*"
set -- $(totals "$out/cortex-m0plus-full"); c="$*"
set -- $(totals "$out/cortex-m0plus-v311"); d="$*"
i=1
for l in codec session client "core total" "core data" "core bss"; do
    printf '%-20s %10s %10s %10s %10s\n' "$l" "$(echo "$a" | cut -d' ' -f$i)" \
        "$(echo "$b" | cut -d' ' -f$i)" "$(echo "$c" | cut -d' ' -f$i)" "$(echo "$d" | cut -d' ' -f$i)"
    i=$((i + 1))
done
set -- $(totals "$out/cortex-m4-all")
echo "(every switch on, as the host build: M4 core total $4)"

echo
echo "Linked into a minimal app (create, connect, subscribe, publish, run, disconnect;"
echo "--gc-sections; the core's bytes only: no libc, port or app), text+rodata / data / bss:"
for cfg in cortex-m4-full cortex-m4-v311 cortex-m0plus-full cortex-m0plus-v311; do
    set -- $(linked "$out/$cfg" "${cfg%-*}")
    printf '  %-20s %6d / %d / %d   (+ mem.c %d)\n' "$cfg" "$1" "$2" "$3" "$4"
done

echo
echo "sizeof on Cortex-M4 (bytes):"
arm-none-eabi-gcc $CFLAGS -mcpu=cortex-m4 $CFG_FULL -I"$root/include" -I"$root/src" \
    -c "$root/tests/target/size/size_probe.c" -o "$out/probe.o"
arm-none-eabi-nm -S --defined-only "$out/probe.o" | awk '
    / kmqtt_sizeof_/ {
        n = $4; sub(/^kmqtt_sizeof_/, "", n); s = 0; h = tolower($2)
        for (i = 1; i <= length(h); i++) s = s * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
        printf "  %-20s %6d\n", n, s
    }'

if command -v qemu-system-arm >/dev/null; then
    echo
    echo "Heap of a default client (kmqtt_client_options_init, Cortex-M4 under qemu):"
    timeout 60 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native -kernel "$out/cortex-m4-full/app.elf" | sed 's/^/  /'
fi
