#!/bin/sh
# make demo: the low-power device of the field report, 50 wake cycles against
# a private mosquitto on a free loopback port (never the system one).
# Exits with the demo's status.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KMQTT_BUILD:-$root/build}
demo=$build/bin/lowpower_device
mosq=$(command -v mosquitto 2>/dev/null || echo /usr/sbin/mosquitto)

[ -x "$demo" ] || { echo "demo: $demo missing; run 'make' first" >&2; exit 1; }
[ -x "$mosq" ] || { echo "demo: mosquitto missing; run 'make deps'" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/kmqtt-demo-XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A random high port; if something holds it mosquitto exits at once and we
# try another. "running" is logged only once the listener is open.
port=""
tries=0
while [ -z "$port" ] && [ $tries -lt 10 ]; do
    tries=$((tries + 1))
    try=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
    sh "$root/scripts/mosquitto_conf.sh" "$dir" "$try" >"$dir/mosquitto.conf"
    rm -f "$dir/mosquitto.log"
    "$mosq" -c "$dir/mosquitto.conf" >"$dir/stdout.log" 2>&1 &
    pid=$!
    i=0
    while [ $i -lt 100 ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || true
            pid=""
            break
        fi
        if grep -q " running" "$dir/mosquitto.log" 2>/dev/null; then
            port=$try
            break
        fi
        sleep 0.05
        i=$((i + 1))
    done
    if [ -z "$port" ] && [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=""
    fi
done
if [ -z "$port" ]; then
    echo "demo: could not start mosquitto:" >&2
    cat "$dir/stdout.log" "$dir/mosquitto.log" >&2 2>/dev/null || true
    exit 1
fi

echo "demo: mosquitto $("$mosq" -h 2>/dev/null | sed -n 's/^mosquitto version //p') on 127.0.0.1:$port (pid $pid, config in $dir)"
status=0
"$demo" -h 127.0.0.1 -p "$port" || status=$?

# The same device on the microcontroller client (include/kmqtt/nano.h): static
# state and buffers, no allocation, no thread; one reading per wake.
nano=$build/bin/nano_wake
if [ -x "$nano" ]; then
    echo
    echo "demo: the same wake cycle on the nano client (20 wakes, no sleep between them; its state is 112 B on Cortex-M)"
    "$nano" 127.0.0.1 "$port" 20 0 >"$dir/nano.log" 2>&1 || status=$?
    head -n 1 "$dir/nano.log"
    tail -n 2 "$dir/nano.log"
fi
exit $status
