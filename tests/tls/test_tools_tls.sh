#!/bin/sh
# The tools over TLS: kmqtt-sub/kmqtt-pub with mqtts:// URLs and --cafile,
# mutual TLS with --cert/--key, a self-signed broker refused with the
# reason, no password in any output, --insecure as in mosquitto_pub (only the
# host name is not checked: the chain still is, checked side by side with
# mosquitto_pub on the same listeners), --tls-no-verify-at-all (warns), and
# kmqtt-soak over TLS with zero growth.
# Run as: sh test_tools_tls.sh <build>/bin <tests/tls dir>
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/support/broker.sh"
kt_init "$1"
kt_plan 34
PUB=$KT_BIN/kmqtt-pub
SUB=$KT_BIN/kmqtt-sub
SOAK=$KT_BIN/kmqtt-soak
C=$KT_TMP/certs
sh "$HERE/make_certs.sh" "$C" || { echo "FAIL - make_certs.sh"; exit 1; }

# Five consecutive ports for the TLS listeners (broker_start retries only
# its own plain port). Taken below the kernel's ephemeral range, so no
# outgoing connection of a test running in parallel holds one, and checked
# against every socket on the machine first.
eph_lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
in_use() {
    command -v ss >/dev/null 2>&1 &&
        ss -tanH 2>/dev/null | awk '{print $4}' | grep -q -E ":($1|$2|$3|$4|$5)\$"
}
tries=0
while :; do
    n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' \n')
    TLS=$((10000 + n % (eph_lo - 10005)))
    MTLS=$((TLS + 1))
    SELF=$((TLS + 2))
    FOREIGN=$((TLS + 3)) # right names, another CA
    OTHER=$((TLS + 4))   # our CA, another host name
    in_use "$TLS" "$MTLS" "$SELF" "$FOREIGN" "$OTHER" || break
    tries=$((tries + 1))
    [ $tries -lt 50 ] || break
done
broker_start "allow_anonymous true" \
    "listener $TLS 127.0.0.1" "cafile $C/ca.crt" "certfile $C/server.crt" "keyfile $C/server.key" \
    "listener $MTLS 127.0.0.1" "cafile $C/ca.crt" "certfile $C/server.crt" \
    "keyfile $C/server.key" "require_certificate true" \
    "listener $SELF 127.0.0.1" "cafile $C/ca.crt" "certfile $C/self.crt" "keyfile $C/self.key" \
    "listener $FOREIGN 127.0.0.1" "cafile $C/ca.crt" "certfile $C/foreign.crt" \
    "keyfile $C/foreign.key" \
    "listener $OTHER 127.0.0.1" "cafile $C/ca.crt" "certfile $C/other.crt" "keyfile $C/other.key"
kt_wait_grep "$BROKER_LOG" 50 "port $OTHER" || kt_fail "the TLS listeners did not open"

# --- sub over mqtts:// with --cafile; pub with -L mqtts:// (password in the URL) ---
"$SUB" -L "mqtts://127.0.0.1:$TLS/tls/tools" --cafile "$C/ca.crt" -i tls-sub -q 1 -C 2 -W 20 \
    >"$KT_TMP/sub.out" 2>"$KT_TMP/sub.err" &
SUBPID=$!
kt_track $SUBPID
broker_wait_subscribed tls-sub || kt_fail "kmqtt-sub over TLS did not subscribe"
kt_run 20 "$PUB" -L "mqtts://dev:s3cr3t-pw@127.0.0.1:$TLS/tls/tools" --cafile "$C/ca.crt" \
    -q 1 -m "one over tls" -d
kt_expect_rc "kmqtt-pub -L mqtts:// --cafile" 0
if grep -q s3cr3t-pw "$KT_OUT_FILE" "$KT_ERR_FILE"; then
    kt_fail "the password appears in kmqtt-pub's output"
else
    kt_pass "kmqtt-pub -d never prints the password"
fi
# Mutual TLS on the listener that requires a certificate.
kt_run 20 "$PUB" -h 127.0.0.1 -p "$MTLS" --cafile "$C/ca.crt" --cert "$C/client.crt" \
    --key "$C/client.key" -t tls/tools -q 1 -m "two over mutual tls"
kt_expect_rc "kmqtt-pub --cert --key (mutual TLS)" 0
wait $SUBPID
kt_expect_eq "kmqtt-sub received both messages over TLS" "one over tls
two over mutual tls" "$(cat "$KT_TMP/sub.out")"

# --- refusals name the reason; -d with a password still hides it ---
kt_run 20 "$PUB" -L "mqtts://dev:s3cr3t-pw@127.0.0.1:$SELF/t" --cafile "$C/ca.crt" -m x -d
kt_expect_rc "self-signed broker refused" 2
if grep -q "cannot connect to 127.0.0.1:$SELF: server certificate not trusted" "$KT_ERR_FILE"; then
    kt_pass "self-signed broker: the error names the reason"
else
    kt_fail "self-signed broker: $(cat "$KT_ERR_FILE")"
fi
if grep -q s3cr3t-pw "$KT_ERR_FILE"; then
    kt_fail "the password appears in the refusal"
else
    kt_pass "the refusal does not print the password"
fi
kt_run 20 "$PUB" -h 127.0.0.1 -p "$MTLS" --cafile "$C/ca.crt" -t t -m x
kt_expect_rc "no client certificate for require_certificate" 2
kt_expect_one_error_line "no client certificate" "client certificate"
# --- --insecure means what it means in mosquitto_pub: the host name is not
# checked, the chain still is. Each case runs kmqtt-pub, and mosquitto_pub
# with the same options where it is installed: both must accept or refuse.
MOSQ_PUB=$(command -v mosquitto_pub || true)
# trust_case WHAT WANT(accept|refuse) PORT OPTIONS...
trust_case() {
    _what=$1
    _want=$2
    _port=$3
    shift 3
    kt_run 20 "$PUB" -h 127.0.0.1 -p "$_port" "$@" -t t -m x
    if [ "$_want" = accept ]; then
        kt_expect_rc "kmqtt-pub $_what: accepted" 0
    else
        kt_expect_rc "kmqtt-pub $_what: refused" 2
    fi
    if [ -n "$MOSQ_PUB" ]; then
        timeout 20 "$MOSQ_PUB" -h 127.0.0.1 -p "$_port" "$@" -t t -m x >/dev/null 2>&1
        _mrc=$?
        _got=refuse
        [ $_mrc -eq 0 ] && _got=accept
        if [ "$_got" = "$_want" ]; then
            kt_pass "mosquitto_pub $_what: ${_want}ed too"
        else
            kt_fail "mosquitto_pub $_what: exit $_mrc, kmqtt-pub expected to $_want"
        fi
    fi
}
trust_case "--cafile, the right server" accept "$TLS" --cafile "$C/ca.crt"
trust_case "--cafile --insecure, the right server" accept "$TLS" --cafile "$C/ca.crt" --insecure
trust_case "--cafile, a certificate of another CA" refuse "$FOREIGN" --cafile "$C/ca.crt"
trust_case "--cafile --insecure, a certificate of another CA" refuse "$FOREIGN" \
    --cafile "$C/ca.crt" --insecure
if grep -q "cannot connect to 127.0.0.1:$FOREIGN: server certificate not trusted" "$KT_ERR_FILE"; then
    kt_pass "--insecure, another CA: the error names the reason"
else
    kt_fail "--insecure, another CA: $(cat "$KT_ERR_FILE")"
fi
trust_case "--cafile --insecure, a self-signed server" refuse "$SELF" --cafile "$C/ca.crt" --insecure
trust_case "--cafile, a certificate for another host" refuse "$OTHER" --cafile "$C/ca.crt"
trust_case "--cafile --insecure, a certificate for another host" accept "$OTHER" \
    --cafile "$C/ca.crt" --insecure
if grep -q "warning: --insecure: the server's host name is NOT checked" "$KT_ERR_FILE"; then
    kt_pass "--insecure prints a warning"
else
    kt_fail "--insecure printed no warning: $(cat "$KT_ERR_FILE")"
fi
# The same through a URL (mqtts:// and --insecure).
kt_run 20 "$PUB" -L "mqtts://127.0.0.1:$OTHER/t" --cafile "$C/ca.crt" --insecure -m x
kt_expect_rc "-L mqtts:// --cafile --insecure, another host name: accepted" 0
kt_run 20 "$PUB" -L "mqtts://127.0.0.1:$FOREIGN/t" --cafile "$C/ca.crt" --insecure -m x
kt_expect_rc "-L mqtts:// --cafile --insecure, another CA: refused" 2

# "No verification at all" has its own name, which nobody types by accident,
# and warns.
for p in "$SELF" "$FOREIGN" "$OTHER"; do
    kt_run 20 "$PUB" -h 127.0.0.1 -p "$p" --tls-no-verify-at-all -t t -m x
    kt_expect_rc "--tls-no-verify-at-all accepts any certificate (port $p)" 0
done
if grep -q "warning: --tls-no-verify-at-all: the server certificate is NOT verified" \
    "$KT_ERR_FILE"; then
    kt_pass "--tls-no-verify-at-all prints a warning"
else
    kt_fail "--tls-no-verify-at-all printed no warning: $(cat "$KT_ERR_FILE")"
fi
kt_run 20 "$SUB" --help
if grep -q -- "--tls-no-verify-at-all" "$KT_OUT_FILE" && grep -q -- "--insecure" "$KT_OUT_FILE"; then
    kt_pass "--help names --insecure and --tls-no-verify-at-all"
else
    kt_fail "--help: $(cat "$KT_OUT_FILE")"
fi

# --- kmqtt-soak over TLS: zero growth ---
if [ -x "$SOAK" ]; then
    kt_run 300 "$SOAK" -h 127.0.0.1 -p "$TLS" --cafile "$C/ca.crt" --cycles 100 --warmup 10
    kt_expect_rc "kmqtt-soak over TLS, 100 cycles" 0
    kt_expect_eq "kmqtt-soak over TLS: zero growth" \
        "soak: cycles=100 heap_growth=0 fd_growth=0 thread_growth=0" "$(tail -n 1 "$KT_OUT_FILE")"
else
    kt_fail "$SOAK is not built: kmqtt-soak over TLS did not run"
fi
kt_done
