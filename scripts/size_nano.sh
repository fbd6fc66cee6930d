#!/bin/sh
# The nano client's part of make size (scripts/size.sh calls it; it also runs
# alone): src/nano cross-compiled with arm-none-eabi-gcc -Os -mthumb for
# Cortex-M4 and Cortex-M0+ in three configurations, per file; then
# tests/target/size/nano_app.c, which calls every public nano function,
# linked with --gc-sections, summing the bytes kept from src/nano AND from
# src/codec + src/common (the helpers nano calls): what a firmware image
# pays. Then sizeof(kmqtt_nano_t), the RAM of a typical configuration, and a
# verdict against the targets of issue #8 (1 KB = 1024 B).
# Usage: size_nano.sh [outdir]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/size/nano}
command -v arm-none-eabi-gcc >/dev/null || { echo "size: arm-none-eabi-gcc missing (make deps)" >&2; exit 1; }

NANO=$(cd "$root" && { ls src/nano/*.c src/session/*.c 2>/dev/null || true; })
if [ -z "$NANO" ]; then
    echo "nano: src/nano/ has no sources yet"
    exit 0
fi
CORE=$(cd "$root" && ls src/codec/*.c src/common/*.c)

CFLAGS="-std=c99 -mthumb -Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror -pedantic"
# As the core's 3.1.1 column: a client needs neither the server half of the
# codec nor logging nor the strerror texts.
BASE="-DKMQTT_CFG_SERVER_CODEC=0 -DKMQTT_CFG_STRERROR=0 -DKMQTT_CFG_LOG=0 -DKMQTT_CFG_INBOUND_BITS=0 -DKMQTT_CFG_RETRY=0 -DKMQTT_CFG_OFFLINE_QUEUE=0 -DKMQTT_CFG_TOPIC_ALIAS=0"
# The 3.1.1 builds leave out messages in pieces (issue #19: about 0.9 KB
# of flash), which the 6.5 KB target was set without; the 5.0 build keeps it.
NOSTREAM="-DKMQTT_CFG_STREAM=0"
CPUS="cortex-m4 cortex-m0plus"
CFGS="v311 q1 v5"
# Targets of issue #8, in bytes (1 KB = 1024 B).
T311=$((6656))  # 6.5 KB: 3.1.1 core with reconnect and resumption
T5=$((14336))   # 14 KB: the full 5.0 core
TSTRUCT=256     # the client structure on Cortex-M4
# The RAM of a typical configuration: the caller's buffers.
RX=512
TX=512
STORE=2048

defs() {
    case $1 in
    v311) echo "$BASE -DKMQTT_CFG_V5=0 $NOSTREAM" ;;
    q1) echo "$BASE -DKMQTT_CFG_V5=0 -DKMQTT_CFG_QOS2=0 $NOSTREAM" ;;
    v5) echo "$BASE" ;;
    esac
}
label() {
    case $1 in
    v311) echo "3.1.1" ;;
    q1) echo "3.1.1 QoS 0/1" ;;
    v5) echo "5.0" ;;
    esac
}
cpulabel() {
    case $1 in cortex-m4) echo "M4" ;; *) echo "M0+" ;; esac
}
# 12345 -> 12,345
commas() {
    echo "$1" | awk '{ s = $1 ""; r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } print s r }'
}

# build <dir> <cpu> <defines>: <dir>/nano/*.o and <dir>/core/*.o (codec, common).
# Relative source paths, as a firmware build has them (__FILE__).
build() {
    mkdir -p "$1/nano" "$1/core"
    for s in $NANO; do
        # shellcheck disable=SC2086
        (cd "$root" && arm-none-eabi-gcc $CFLAGS -fcallgraph-info=su -mcpu="$2" $3 -Iinclude -Isrc \
            -c "$s" -o "$1/nano/$(basename "$s" .c).o")
    done
    for s in $CORE; do
        # shellcheck disable=SC2086
        (cd "$root" && arm-none-eabi-gcc $CFLAGS -fcallgraph-info=su -mcpu="$2" $3 -Iinclude -Isrc \
            -c "$s" -o "$1/core/$(basename "$s" .c).o")
    done
}

# link <dir> <cpu> <defines>: links nano_app; prints "nano codec data bss"
# (text+rodata kept from src/nano, from src/codec + src/common, and the data
# and bss of both), and lists the kept codec/common sections in <dir>/kept.txt.
link() {
    t=$root/tests/target
    # (no -pedantic for startup.c: it puts the stack address in the vector table)
    # shellcheck disable=SC2086
    arm-none-eabi-gcc -std=c99 -mthumb -Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror \
        -mcpu="$2" $3 -I"$root/include" -I"$root/src" -I"$t" \
        -nostartfiles --specs=rdimon.specs -T"$t/mps2.ld" -Wl,--gc-sections -Wl,-Map="$1/app.map" \
        "$t/size/nano_app.c" "$t/startup.c" "$1"/nano/*.o "$1"/core/*.o \
        -o "$1/app.elf" -Wl,--start-group -lc -lrdimon -Wl,--end-group
    awk -v nano="$1/nano/" -v core="$1/core/" -v kept="$1/kept.txt" '
    function hex(s,   i, v) {
        v = 0; s = tolower(substr(s, 3))
        for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
        return v
    }
    function add(sz, f,   n) {
        n = hex(sz)
        if (n == 0) return
        if (index(f, nano) == 1) l = "nano"
        else if (index(f, core) == 1) l = "core"
        else return
        if (sect ~ /^\.(text|rodata)/) {
            t[l] += n
            if (l == "core") { g = f; sub(/^.*\//, "", g); printf "%6d %s %s\n", n, g, sect > kept }
        } else if (sect ~ /^\.data/) d += n
        else if (sect ~ /^\.bss/) b += n
    }
    /^Linker script and memory map/ { on = 1 }
    !on { next }
    pending { pending = 0; if (NF == 3 && $1 ~ /^0x/) add($2, $3); next }
    /^ \.(text|rodata|data|bss)/ {
        sect = $1
        if (NF == 1) pending = 1
        else if (NF >= 4 && $2 ~ /^0x/) add($3, $4)
    }
    END { printf "%d %d %d %d\n", t["nano"], t["core"], d, b }' "$1/app.map"
}

# stack <dir>: from gcc's -fcallgraph-info=su graphs of src/nano + codec +
# common, the deepest chain of stack frames below any public kmqtt_nano_*
# function ("deep"), and the deepest at a call through a function pointer,
# where the application's event callback and the transport's functions run
# on top ("cb"): "deep cb flags" (flags: recursive / dynamic frames seen).
# libc calls (memcpy, strlen, ...) are not counted.
stack() {
    awk '
    FNR == 1 { file = FILENAME }
    /^node:/ && / bytes \(/ {
        t = $0; sub(/^node: \{ title: "/, "", t); sub(/".*/, "", t)
        b = $0; sub(/ bytes \(.*/, "", b); sub(/.*\\n/, "", b)
        if ($0 ~ /bytes \(dynamic/) dyn = 1
        frame[file, t] = b + 0; owner[t] = file; fns[file, t] = 1
    }
    /^edge:/ {
        a = $0; sub(/.*sourcename: "/, "", a); sub(/".*/, "", a)
        z = $0; sub(/.*targetname: "/, "", z); sub(/".*/, "", z)
        ne[file, a]++; edge[file, a, ne[file, a]] = z
    }
    function resolve(f, t) { return ((f, t) in fns) ? f : ((t in owner) ? owner[t] : "") }
    # depth(f, t): the deepest chain from t; sets cbd[f,t] = deepest at an indirect call
    function depth(f, t,   i, z, g, d, best, cb) {
        if ((f, t) in memo) return memo[f, t]
        if ((f, t) in onpath) { rec = 1; return 0 }
        onpath[f, t] = 1; best = 0; cb = -1
        for (i = 1; i <= ne[f, t]; i++) {
            z = edge[f, t, i]
            if (z == "__indirect_call") { if (cb < 0) cb = 0; continue }
            g = resolve(f, z)
            if (g == "") continue
            d = depth(g, z)
            if (d > best) best = d
            if (cbd[g, z] >= 0 && cbd[g, z] > cb) cb = cbd[g, z]
        }
        delete onpath[f, t]
        memo[f, t] = frame[f, t] + best
        cbd[f, t] = cb < 0 ? -1 : frame[f, t] + cb
        return memo[f, t]
    }
    END {
        for (k in fns) {
            split(k, p, SUBSEP)
            if (p[2] !~ /^kmqtt_nano_/ || p[1] !~ /\/nano\//) continue
            d = depth(p[1], p[2])
            if (d > deep) { deep = d; dn = p[2] }
            if (cbd[p[1], p[2]] > cb) { cb = cbd[p[1], p[2]]; cn = p[2] }
        }
        printf "%d %s %d %s %s\n", deep, dn, cb, (cn == "" ? "-" : cn), \
            (rec ? "recursion" : "") (dyn ? " dynamic-frames" : "")
    }' "$1"/nano/*.ci "$1"/core/*.ci
}

# sizeof <cpu> <defines>: "name bytes" lines of tests/target/size/nano_probe.c
probe() {
    # shellcheck disable=SC2086
    arm-none-eabi-gcc $CFLAGS -mcpu="$1" $2 -I"$root/include" -I"$root/src" \
        -c "$root/tests/target/size/nano_probe.c" -o "$out/probe.o"
    arm-none-eabi-nm -S --defined-only "$out/probe.o" | awk '
        / kmqtt_sizeof_/ {
            n = $4; sub(/^kmqtt_sizeof_/, "", n); s = 0; h = tolower($2)
            for (i = 1; i <= length(h); i++) s = s * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
            print n, s
        }'
}

rm -rf "$out"
for cpu in $CPUS; do
    for cfg in $CFGS; do
        build "$out/$cpu-$cfg" "$cpu" "$(defs "$cfg")"
    done
done

echo "nano client (include/kmqtt/nano.h), arm-none-eabi-gcc -Os -mthumb -ffunction-sections -fdata-sections,"
echo "SERVER_CODEC=0 STRERROR=0 LOG=0; 3.1.1 = V5=0 (QoS 2 in); QoS 0/1 = also QOS2=0; 5.0 = V5=1."
echo "Reconnect with backoff and session resumption are in every configuration."
echo
echo "src/nano (the driver) + src/session (the engine), text+rodata bytes per file:"
HDR='%-20s %9s %9s %9s %9s %9s %9s\n'
# shellcheck disable=SC2059
printf "$HDR" file "M4 3.1.1" "M4 QoS01" "M4 5.0" "M0+ 3.1.1" "M0+ QoS01" "M0+ 5.0"
for s in $NANO; do
    f=$(basename "$s" .c)
    printf '%-20s' "$f"
    for cpu in $CPUS; do
        for cfg in $CFGS; do
            printf ' %9d' "$(arm-none-eabi-size -B "$out/$cpu-$cfg/nano/$f.o" | awk 'NR == 2 {print $1}')"
        done
    done
    echo
done
for row in "nano total" "data+bss"; do
    printf '%-20s' "$row"
    for cpu in $CPUS; do
        for cfg in $CFGS; do
            # shellcheck disable=SC2046
            set -- $(arm-none-eabi-size -B "$out/$cpu-$cfg"/nano/*.o | awk 'NR > 1 { t += $1; db += $2 + $3 } END { print t, db }')
            if [ "$row" = "nano total" ]; then printf ' %9d' "$1"; else printf ' %9d' "$2"; fi
        done
    done
    echo
done

echo
echo "Linked: tests/target/size/nano_app.c (every public nano function) with --gc-sections;"
echo "bytes kept from src/nano and from src/codec + src/common (no libc, startup or app):"
printf '  %-22s %7s %13s %7s %11s\n' "" "nano" "codec+common" "total" "data / bss"
: >"$out/linked.txt"
for cpu in $CPUS; do
    for cfg in $CFGS; do
        # shellcheck disable=SC2046
        set -- $(link "$out/$cpu-$cfg" "$cpu" "$(defs "$cfg")")
        printf '  %-22s %7d %13d %7d %6d / %d\n' "$(cpulabel "$cpu") $(label "$cfg")" "$1" "$2" $(($1 + $2)) "$3" "$4"
        echo "$cpu $cfg $(($1 + $2))" >>"$out/linked.txt"
    done
done
echo "  codec/common functions kept (M4 5.0):" \
    "$(awk '$3 ~ /^\.text\./ && !seen[$3]++ { s = $3; sub(/^\.text\./, "", s); printf "%s%s", sep, s; sep = ", " }' \
        "$out/cortex-m4-v5/kept.txt")"

echo
echo "sizeof (bytes):"
# shellcheck disable=SC2059
printf "$HDR" "" "M4 3.1.1" "M4 QoS01" "M4 5.0" "M0+ 3.1.1" "M0+ QoS01" "M0+ 5.0"
for cpu in $CPUS; do
    for cfg in $CFGS; do
        probe "$cpu" "$(defs "$cfg")" | sed "s/^/$cpu-$cfg /" >>"$out/sizeof.txt"
    done
done
for name in nano nano_config nano_buffers; do
    case $name in nano) n=kmqtt_nano_t ;; *) n=kmqtt_${name}_t ;; esac
    printf '%-20s' "$n"
    for cpu in $CPUS; do
        for cfg in $CFGS; do
            printf ' %9d' "$(awk -v k="$cpu-$cfg" -v n=$name '$1 == k && $2 == n { print $3 }' "$out/sizeof.txt")"
        done
    done
    echo
done
# the largest over the configurations, per CPU
maxsz() { awk -v c="$1-" -v n="$2" 'index($1, c) == 1 && $2 == n && $3 > m { m = $3 } END { print m + 0 }' "$out/sizeof.txt"; }
sz4=$(maxsz cortex-m4 nano)
sz0=$(maxsz cortex-m0plus nano)
cf4=$(maxsz cortex-m4 nano_config)
echo "RAM of a typical configuration: client + rx $RX + tx $TX + store $STORE (the caller's buffers)" \
    "= $((sz4 + RX + TX + STORE)) B on M4, $((sz0 + RX + TX + STORE)) B on M0+;"
echo "  plus the config ($cf4 B, may be const in flash) and the stack of the calling task"

echo
echo "Stack (gcc -fcallgraph-info=su: the deepest chain of frames in src/nano + codec + common"
echo "below a public function; the event callback and the transport run on top of the second number;"
echo "libc not counted):"
printf '  %-22s %7s %-24s %9s %s\n' "" "deepest" "(from)" "at a call" "(from)"
for cpu in $CPUS; do
    for cfg in $CFGS; do
        # shellcheck disable=SC2046
        set -- $(stack "$out/$cpu-$cfg")
        printf '  %-22s %7s %-24s %9s %s %s\n' "$(cpulabel "$cpu") $(label "$cfg")" "$1 B" "($2)" "$3 B" "($4)" "${5:-}"
    done
done

echo
echo "Against issue #8's targets (1 KB = 1024 B; linked totals above):"
verdict() { # <what> <bytes> <target>
    if [ "$2" -le "$3" ]; then v="met" op="<="; else v="NOT met" op=" >"; fi
    printf '  %-26s %7s B %s %7s B target: %s\n' "$1:" "$(commas "$2")" "$op" "$(commas "$3")" "$v"
}
while read -r cpu cfg total; do
    case $cfg in v5) tgt=$T5 ;; *) tgt=$T311 ;; esac
    verdict "nano $(label "$cfg") $(cpulabel "$cpu")" "$total" "$tgt"
done <"$out/linked.txt"
verdict "sizeof(kmqtt_nano_t) M4" "$sz4" "$TSTRUCT"
verdict "sizeof(kmqtt_nano_t) M0+" "$sz0" "$TSTRUCT"
