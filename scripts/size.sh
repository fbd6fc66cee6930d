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
    t += $1; d += $2; b += $3
    if (name ~ /^mem/) { mt += $1; md += $2; mb += $3 } else { ct += $1; cd += $2; cb += $3 }
}
END {
    printf "%-28s %8d %8d %8d\n", "codec + common", ct, cd, cb
    printf "%-28s %8d %8d %8d\n", "mem", mt, md, mb
    printf "%-28s %8d %8d %8d   (%d bytes of flash, %d of RAM)\n", "total", t, d, b, t + d, d + b
}'
