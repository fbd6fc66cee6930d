#!/bin/sh
# port.lwip: the kmqtt client over lwIP, for real. Makes a network namespace
# with a tap device whose kernel side has 10.77.0.1, writes a mosquitto config
# that listens only there, and runs the test program (argument 1) inside the
# namespace: it brings lwIP up on the tap as 10.77.0.2 (lwIP's Unix tapif
# driver) and starts, restarts and stops the broker itself. So the broker is
# reachable only through the tap, and every client byte crosses lwIP.
#
# Needs root, ip(8) (iproute2) and /dev/net/tun. If any is missing the test
# FAILS with the reason: it never passes without having run. The namespace,
# the tap and the broker are removed on every exit, failed or not.
set -u

prog=${1:?usage: run_lwip_test.sh <test program>}
ns=kmqtt-lwip-$$
tap=kmtap0
host_ip=10.77.0.1
lwip_ip=10.77.0.2
dir=""

fail() {
    echo "port.lwip: FAIL: $*" >&2
    exit 1
}

cleanup() {
    if [ -n "$dir" ] && [ -f "$dir/broker.pid" ]; then
        kill -TERM "$(cat "$dir/broker.pid")" 2>/dev/null
    fi
    if ip netns list 2>/dev/null | grep -q "^$ns\\b"; then
        # Whatever still runs in the namespace was started by this test.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
        ip -n "$ns" link del "$tap" 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    fi
    [ -n "$dir" ] && rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ "$(id -u)" = 0 ] || fail "needs root to create a network namespace and a tap device"
command -v ip >/dev/null 2>&1 || fail "ip(8) not found (apt-get install iproute2)"
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing (modprobe tun; in a container: --device /dev/net/tun)"
[ -x /usr/sbin/mosquitto ] || fail "/usr/sbin/mosquitto not found (apt-get install mosquitto)"
[ -x "$prog" ] || fail "test program $prog not found"

dir=$(mktemp -d /tmp/kmqtt-lwip.XXXXXX) || fail "mktemp failed"
ip netns add "$ns" || fail "ip netns add $ns failed (network namespaces unavailable here?)"
ip -n "$ns" link set lo up || fail "lo up in $ns failed"
ip -n "$ns" tuntap add dev "$tap" mode tap || fail "ip tuntap add $tap in $ns failed"
ip -n "$ns" addr add "$host_ip/24" dev "$tap" || fail "address on $tap failed"
ip -n "$ns" link set "$tap" up || fail "$tap up failed"

cat >"$dir/mosquitto.conf" <<CONF
listener 1883 $host_ip
allow_anonymous true
persistence false
set_tcp_nodelay true
log_dest file $dir/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
user root
CONF

ip netns exec "$ns" env PRECONFIGURED_TAPIF="$tap" KMQTT_LWIP_IP="$lwip_ip" \
    KMQTT_LWIP_BROKER="$host_ip" KMQTT_LWIP_CONF="$dir/mosquitto.conf" \
    KMQTT_LWIP_LOG="$dir/mosquitto.log" KMQTT_LWIP_PIDFILE="$dir/broker.pid" "$prog" &
# In the background so that a signal to this script is handled at once (the
# trap ends everything in the namespace, the test program included).
wait $!
rc=$?
if [ $rc != 0 ]; then
    echo "port.lwip: FAIL: $prog exited with $rc; last broker log lines:" >&2
    tail -n 20 "$dir/mosquitto.log" >&2 2>/dev/null
fi
exit $rc
