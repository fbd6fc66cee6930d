#!/bin/sh
# Prints text/data/bss of each object of the cross-compiled core and the totals.
set -eu
lib=$1
command -v arm-none-eabi-size >/dev/null || { echo "size: arm-none-eabi-size missing (apt-get install gcc-arm-none-eabi)" >&2; exit 1; }
echo "kmqtt core for Cortex-M4 (arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os), bytes:"
arm-none-eabi-size "$lib" | awk '
NR == 1 { printf "%-28s %8s %8s %8s\n", "file", "text", "data", "bss"; next }
{
    name = $6; sub(/\.c\.obj.*$/, "", name); sub(/^.*\//, "", name); sub(/ \(ex.*$/, "", name)
    printf "%-28s %8d %8d %8d\n", name, $1, $2, $3
    layer = "codec"
    if (name ~ /^client/) layer = "client"
    else if (name ~ /^session/) layer = "session"
    else if (name ~ /^mem/) layer = "mem"
    lt[layer] += $1; ld[layer] += $2; lb[layer] += $3
    t += $1; d += $2; b += $3
}
END {
    printf "\n"
    n = split("codec session client mem", order, " ")
    for (i = 1; i <= n; i++)
        printf "%-28s %8d %8d %8d\n", order[i] " (layer)", lt[order[i]], ld[order[i]], lb[order[i]]
    ct = lt["codec"] + lt["session"] + lt["client"]
    cd = ld["codec"] + ld["session"] + ld["client"]
    cb = lb["codec"] + lb["session"] + lb["client"]
    printf "%-28s %8d %8d %8d\n", "core (codec+session+client)", ct, cd, cb
    printf "%-28s %8d %8d %8d   (%d bytes of flash, %d of RAM)\n", "total with mem", t, d, b, t + d, d + b
}'
