#!/bin/sh
# Compiles an RTOS port (and the core with it) for Cortex-M4 with
# arm-none-eabi-gcc against the declaration-subset headers under
# tests/rtos-api/<rtos>/, failing on any warning. Nothing is linked or run:
# the RTOS itself is not here, only its API's declarations.
# Usage: rtos_compile_check.sh <source root> rtthread|freertos [cc]
set -eu
root=$1
rtos=$2
cc=${3:-arm-none-eabi-gcc}
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "port.$rtos.compile: $cc not found (scripts/deps.sh installs gcc-arm-none-eabi)" >&2
    exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags="-mcpu=cortex-m4 -mthumb -Os -Wall -Wextra -Werror -std=c99 -pedantic"
api="$root/tests/rtos-api/$rtos"
case "$rtos" in
rtthread)
    # kmqtt_user_config.h maps rtconfig.h's PKG_KMQTT_* onto KMQTT_CFG_*.
    inc="-I$api -I$root/include -I$root/src -I$root/src/port/rtthread -I$root/src/port/bsd"
    inc="$inc -I$root/src/port/common -DKMQTT_USER_CONFIG"
    ;;
freertos)
    if [ ! -f /usr/include/lwip/lwip/sockets.h ]; then
        echo "port.freertos.compile: lwIP headers missing (apt-get install liblwip-dev)" >&2
        exit 1
    fi
    # The test's lwipopts.h and arch/ come first, then Debian's lwIP 2.1 headers.
    inc="-I$api -I/usr/include/lwip -I$root/include -I$root/src -I$root/src/port/freertos"
    inc="$inc -I$root/src/port/bsd"
    ;;
*)
    echo "usage: $0 <root> rtthread|freertos" >&2
    exit 2
    ;;
esac
n=0
extra="$root/src/port/bsd/bsd_tcp.c"
[ "$rtos" = rtthread ] && extra="$extra $root/src/port/common/diag_print.c"
# shellcheck disable=SC2086
for f in "$root"/src/port/"$rtos"/*.c $extra "$root"/src/common/*.c "$root"/src/codec/*.c \
    "$root"/src/session/*.c "$root"/src/client/*.c "$root"/src/nano/*.c "$root"/src/mem/*.c; do
    [ -f "$f" ] || continue # a glob that matched nothing
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$cc" $flags $inc -c "$f" -o "$out/$n.o"
done
if [ "$rtos" = rtthread ]; then
    # The package's nano choice (Kconfig PKG_KMQTT_NANO_CLIENT) and its option.
    for f in "$root"/src/nano/*.c; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        # shellcheck disable=SC2086
        "$cc" $flags $inc -DPKG_KMQTT_NANO_CLIENT -DPKG_KMQTT_NANO_INBOUND_QOS2=2 -c "$f" -o "$out/$n.o"
    done
    # Without the pipe (PKG_KMQTT_WAKE_PIPE off): the transport's other wake path.
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$cc" $flags $inc -DKMQTT_RTT_NO_WAKE_PIPE -c "$root/src/port/rtthread/bsd_os.c" -o "$out/$n.o"
    # A thread priority the kernel does not have must stop the build
    # (RT_ASSERT in rt_thread_create otherwise, on RT_THREAD_PRIORITY_8 boards).
    if "$cc" $flags $inc -DKMQTT_RTT_THREAD_PRIO=32 -c "$root/src/port/rtthread/thread.c" \
        -o "$out/prio.o" 2>"$out/prio.err"; then
        echo "port.rtthread.compile: thread.c built with priority 32 of RT_THREAD_PRIORITY_MAX 32" >&2
        exit 1
    fi
    grep -q "PKG_KMQTT_THREAD_PRIORITY must be below" "$out/prio.err" || {
        cat "$out/prio.err" >&2
        exit 1
    }
fi
ports=$(ls "$root"/src/port/"$rtos"/*.c | wc -l)
echo "port.$rtos.compile: $n files ($ports of the port) compile for cortex-m4 with -Werror -pedantic"
