#!/bin/sh
# port.lwip_cortex_m: compiles src/port/lwip/*.c for a Cortex-M4 with
# arm-none-eabi-gcc against lwIP's own socket definitions (a device's
# lwipopts.h in tests/lwip/device/, the lwIP headers of liblwip-dev), in two
# configurations, with the project's warnings as errors. Compile only: the
# port runs for real in port.lwip. Fails if the compiler is missing.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
lwip_inc=${1:?usage: device_compile.sh <lwIP include dir>}
cc=arm-none-eabi-gcc
command -v $cc >/dev/null 2>&1 || { echo "port.lwip_cortex_m: FAIL: $cc not found" >&2; exit 1; }
[ -f "$lwip_inc/lwip/sockets.h" ] || { echo "port.lwip_cortex_m: FAIL: no lwIP headers in $lwip_inc" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Only lwIP's core headers: not the host's lwipopts.h, arch/ or posix/.
mkdir "$tmp/inc"
ln -s "$lwip_inc/lwip" "$tmp/inc/lwip"
for variant in 0 1; do
    for f in "$root"/src/port/lwip/*.c; do
        $cc -std=c99 -mcpu=cortex-m4 -mthumb -Os -Wall -Wextra -Werror -pedantic -Wshadow \
            -Wstrict-prototypes -Wmissing-prototypes -Wcast-qual -Wpointer-arith -Wundef \
            -DKMQTT_DEV_VARIANT=$variant -I"$root/tests/lwip/device" -I"$root/include" \
            -isystem "$tmp/inc" -c "$f" -o "$tmp/$(basename "$f" .c).$variant.o"
    done
done
echo "port.lwip_cortex_m: src/port/lwip compiles for Cortex-M4 (DNS+IPv6+core locking, and none of them)"
