#!/bin/sh
# The nano client's flash footprint (include/kmqtt/nano.h): an application
# calling every public nano function, cross-compiled with arm-none-eabi-gcc
# -Os -mthumb and linked with --gc-sections, summing the text+rodata of
# everything the image keeps but the application's main and the C library's
# mem*/strlen: nano itself plus the codec helpers it links. Prints 3.1.1,
# 3.1.1 QoS 0/1 and 5.0 for Cortex-M4 and Cortex-M0+, and sizeof the client.
# Usage: size_nano.sh [outdir]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/size_nano}
command -v arm-none-eabi-gcc >/dev/null || { echo "size_nano: arm-none-eabi-gcc missing (make deps)" >&2; exit 1; }
mkdir -p "$out"

cat >"$out/app.c" <<'APP'
#include "kmqtt/nano.h"
static kmqtt_nano_t c;
static kmqtt_nano_config_t cfg;
static uint8_t rx[256], tx[256], st[512];
volatile uint32_t sink;
static void on_event(void *u, const kmqtt_nano_event_t *e)
{
    (void)u;
    sink += (uint32_t)e->type;
}
int main(void)
{
    kmqtt_nano_buffers_t b = {rx, sizeof rx, tx, sizeof tx, st, sizeof st};
    kmqtt_nano_msg_t m = {0};
    kmqtt_nano_sub_t s = {"a/+", 1};
    const char *f = "a/+";
    uint32_t next;
    kmqtt_nano_config_init(&cfg);
    cfg.transport = (const kmqtt_transport_t *)(uintptr_t)sink;
    cfg.host = "broker";
    cfg.on_event = on_event;
    kmqtt_nano_init(&c, &cfg, &b);
    kmqtt_nano_connect(&c, sink);
    kmqtt_nano_poll(&c, sink, &next);
    kmqtt_nano_step(&c, sink, 5);
    sink += kmqtt_nano_want_write(&c);
    kmqtt_nano_publish(&c, &m, sink, 0);
    kmqtt_nano_subscribe(&c, &s, 1, 0, 0, sink, 0);
    kmqtt_nano_unsubscribe(&c, &f, 1, sink, 0);
    kmqtt_nano_auth(&c, 0x18, 0, 0, sink);
    kmqtt_nano_disconnect(&c, 0, 100);
    sink += kmqtt_nano_state(&c) + kmqtt_nano_inflight(&c) + kmqtt_nano_store_used(&c);
    return (int)sizeof(kmqtt_nano_t);
}
APP
printf '#include "kmqtt/nano.h"\nchar kmqtt_nano_sizeof[sizeof(kmqtt_nano_t)];\n' >"$out/sizeof.c"

# size <cpu> <defines>: text+rodata kept from nano and the codec
size() {
    # shellcheck disable=SC2086
    (cd "$root" && arm-none-eabi-gcc -std=c99 -mthumb -mcpu="$1" -Os -ffunction-sections \
        -fdata-sections -Wall -Wextra -Werror -pedantic -DKMQTT_CFG_SERVER_CODEC=0 \
        -DKMQTT_CFG_STRERROR=0 -DKMQTT_CFG_LOG=0 $2 -Iinclude -Isrc "$out/app.c" src/nano/*.c \
        src/codec/*.c src/common/error.c -nostartfiles -Wl,--gc-sections -Wl,-e,main \
        --specs=nosys.specs -o "$out/app.elf")
    arm-none-eabi-nm -S "$out/app.elf" | awk '
    function hex(s,   i, v) {
        v = 0; s = tolower(s)
        for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
        return v
    }
    NF == 4 && $3 ~ /^[tTrR]$/ && $4 !~ /^(main|on_event|memcpy|memset|memmove|memcmp|strlen)$/ { t += hex($2) }
    END { print t }'
}

printf '%-12s %10s %10s %10s\n' cpu "3.1.1" "3.1.1-qos1" "5.0"
for cpu in cortex-m4 cortex-m0plus; do
    a=$(size $cpu "-DKMQTT_CFG_V5=0")
    b=$(size $cpu "-DKMQTT_CFG_V5=0 -DKMQTT_CFG_QOS2=0")
    c=$(size $cpu "-DKMQTT_CFG_V5=1")
    printf '%-12s %10s %10s %10s\n' "$cpu" "$a" "$b" "$c"
done
arm-none-eabi-gcc -mthumb -mcpu=cortex-m4 -Os -I"$root/include" -c "$out/sizeof.c" -o "$out/sizeof.o"
arm-none-eabi-nm -S "$out/sizeof.o" | awk '
function hex(s,   i, v) {
    v = 0; s = tolower(s)
    for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
    return v
}
{ printf "sizeof(kmqtt_nano_t) on Cortex-M4: %d bytes\n", hex($2) }'
