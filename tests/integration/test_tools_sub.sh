#!/bin/sh
# kmqtt-sub against a private mosquitto, fed with mosquitto_pub: output
# formats, -C, -W, -R, -E, retained messages, QoS 2, persistent sessions,
# wills, clean disconnect on SIGINT/SIGTERM.
# Run as: sh test_tools_sub.sh <build>/bin
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/support/broker.sh"
kt_init "$1"
kt_plan 50
broker_start

SUB=$KT_BIN/kmqtt-sub
PUB=$KT_BIN/kmqtt-pub
H=127.0.0.1
P=$BROKER_PORT

# ksub NAME ARGS...: kmqtt-sub -i NAME in the background (output in
# $KT_TMP/NAME.out/.err), returns once the broker acknowledged its SUBSCRIBE.
# Not wrapped in timeout, so signals reach kmqtt-sub itself; ksub_wait
# bounds it instead.
ksub() {
    ks_name=$1
    shift
    "$SUB" -h $H -p "$P" -i "$ks_name" "$@" >"$KT_TMP/$ks_name.out" 2>"$KT_TMP/$ks_name.err" &
    KSUB_PID=$!
    KSUB_NAME=$ks_name
    kt_track $KSUB_PID
    broker_wait_subscribed "$ks_name" || kt_fail "kmqtt-sub $ks_name did not subscribe"
}

# ksub_wait [SECONDS]: waits for the last ksub to exit; KSUB_RC is its exit
# code, or 124 if it had to be killed.
ksub_wait() {
    kw_tries=$((${1:-5} * 10))
    while kill -0 "$KSUB_PID" 2>/dev/null && [ $kw_tries -gt 0 ]; do
        sleep 0.1
        kw_tries=$((kw_tries - 1))
    done
    if kill -0 "$KSUB_PID" 2>/dev/null; then
        kill -KILL "$KSUB_PID" 2>/dev/null
        wait "$KSUB_PID" 2>/dev/null
        KSUB_RC=124
    else
        wait "$KSUB_PID"
        KSUB_RC=$?
    fi
}

mpub() {
    timeout 5 mosquitto_pub -h $H -p "$P" "$@" || kt_fail "mosquitto_pub $* failed"
}

expect_ksub_rc() {
    if [ "$KSUB_RC" = "$2" ]; then
        kt_pass "$1 (exit $2)"
    else
        kt_fail "$1: expected exit $2, got $KSUB_RC; stderr: $(cat "$KT_TMP/$KSUB_NAME.err")"
    fi
}

# Message sizes (issue 19): the default takes a 1 MiB payload plus its
# header, which the old 1 MiB receive buffer refused mid-packet, and a
# 17 MB one (over the old 16 MiB default) in pieces through the 256 KiB
# receive buffer; one over a --max-size given ends with one line naming it.
head -c 1048676 /dev/urandom >"$KT_TMP/1mib.bin"
for v in 311 5; do
    ksub "big$v" -t sub/big -C 1 -N -V $v
    mpub -t sub/big -f "$KT_TMP/1mib.bin" -V $v
    ksub_wait 20
    expect_ksub_rc "kmqtt-sub -V $v receives 1 MiB + 100 bytes by default" 0
    kt_expect_same_file "the 1 MiB payload arrives intact (-V $v)" "$KT_TMP/1mib.bin" \
        "$KT_TMP/big$v.out"
done
head -c 17000000 /dev/urandom >"$KT_TMP/17mb.bin"
for v in 311 5; do
    ksub "big17_$v" -t sub/big -C 1 -N -V $v
    mpub -t sub/big -f "$KT_TMP/17mb.bin" -V $v
    ksub_wait 30
    expect_ksub_rc "kmqtt-sub -V $v receives 17,000,000 bytes without --max-size" 0
    kt_expect_same_file "the 17 MB payload arrives intact (-V $v)" "$KT_TMP/17mb.bin" \
        "$KT_TMP/big17_$v.out"
done
ksub big17 -t sub/big -C 1 -N --max-size 17000000
mpub -t sub/big -f "$KT_TMP/17mb.bin"
ksub_wait 30
expect_ksub_rc "kmqtt-sub --max-size 17000000 receives 17,000,000 bytes" 0
kt_expect_same_file "the 17 MB payload arrives intact" "$KT_TMP/17mb.bin" "$KT_TMP/big17.out"
ksub small -t sub/big -C 1 -N --max-size 1000
mpub -t sub/big -f "$KT_TMP/1mib.bin"
ksub_wait 20
expect_ksub_rc "a message over --max-size ends kmqtt-sub" 5
kt_run 1 cat "$KT_TMP/small.err"
cp "$KT_TMP/small.err" "$KT_ERR_FILE"
kt_expect_one_error_line "over --max-size" "raise --max-size"

# -C 1 -v: "topic payload".
ksub basic -t sub/basic -C 1 -v
mpub -t sub/basic -m "hello world"
ksub_wait
expect_ksub_rc "kmqtt-sub -C 1 exits after one message" 0
kt_expect_eq "-v prints topic and payload" "sub/basic hello world" "$(cat "$KT_TMP/basic.out")"

# Without -v only the payload; -N drops the newline.
ksub plain -t sub/plain -C 2 -N
mpub -t sub/plain -m "ab"
mpub -t sub/plain -m "cd"
ksub_wait
expect_ksub_rc "kmqtt-sub -C 2 -N" 0
printf 'abcd' >"$KT_TMP/exp"
kt_expect_same_file "-N prints payloads without newlines" "$KT_TMP/exp" "$KT_TMP/plain.out"

# Several -t, wildcards, and QoS 2 delivery.
ksub multi -t sub/a -t 'sub/wild/+' -q 2 -C 2 -v
mpub -t sub/a -q 2 -m first
mpub -t sub/wild/x -q 1 -m second
ksub_wait
expect_ksub_rc "kmqtt-sub with two filters" 0
printf 'sub/a first\nsub/wild/x second\n' >"$KT_TMP/exp"
kt_expect_same_file "messages from both filters arrive in order" "$KT_TMP/exp" \
    "$KT_TMP/multi.out"
# QoS 2 delivery runs to the end: PUBREC, then PUBCOMP for the PUBREL.
ksub kq2 -t sub/q2 -q 2 -v
mpub -t sub/q2 -q 2 -m exactly-once
if kt_wait_grep "$BROKER_LOG" 30 "Received PUBCOMP from kq2"; then
    kt_pass "a QoS 2 delivery completes with PUBCOMP"
else
    kt_fail "no PUBCOMP from kmqtt-sub 'kq2' in the broker log"
fi
kill -TERM "$KSUB_PID"
ksub_wait
expect_ksub_rc "kmqtt-sub -q 2 ends on SIGTERM" 0
kt_expect_eq "the QoS 2 message is printed once" "sub/q2 exactly-once" "$(cat "$KT_TMP/kq2.out")"

# A binary payload of 100000 bytes arrives intact.
head -c 100000 /dev/urandom >"$KT_TMP/big.bin"
ksub big -t sub/big -C 1 -N
mpub -t sub/big -f "$KT_TMP/big.bin"
ksub_wait
expect_ksub_rc "kmqtt-sub receives a 100000-byte message" 0
kt_expect_same_file "the large payload is unchanged" "$KT_TMP/big.bin" "$KT_TMP/big.out"

# Retained: a later kmqtt-sub sees it; -R skips it but prints live ones.
kt_run 5 "$PUB" -h $H -p "$P" -t sub/ret -r -m old
kt_expect_rc "kmqtt-pub -r" 0
kt_run 5 "$SUB" -h $H -p "$P" -t sub/ret -C 1 -v
kt_expect_rc "kmqtt-sub gets the retained message" 0
kt_expect_eq "the retained message is printed" "sub/ret old" "$(cat "$KT_OUT_FILE")"
ksub fresh -t sub/ret -C 1 -v -R
mpub -t sub/ret -m new
ksub_wait
expect_ksub_rc "kmqtt-sub -R -C 1" 0
kt_expect_eq "-R skips the retained message and prints the live one" "sub/ret new" \
    "$(cat "$KT_TMP/fresh.out")"
kt_run 5 "$SUB" -h $H -p "$P" -t sub/ret -R -W 1
kt_expect_rc "-R with only a retained message times out" 27
kt_expect_eq "-R prints nothing for a retained message" "" "$(cat "$KT_OUT_FILE")"

# -W with nothing arriving: exit 27 within about a second.
t0=$(kt_now_ms)
kt_run 5 "$SUB" -h $H -p "$P" -t sub/silent -W 1
t1=$(kt_now_ms)
kt_expect_rc "kmqtt-sub -W 1 with no messages" 27
kt_expect_one_error_line "-W timeout" "timed out"
if [ $((t1 - t0)) -ge 900 ] && [ $((t1 - t0)) -le 2500 ]; then
    kt_pass "-W 1 ends after about one second ($((t1 - t0)) ms)"
else
    kt_fail "-W 1 took $((t1 - t0)) ms"
fi

# -E: exit once subscribed, with a clean DISCONNECT.
kt_run 5 "$SUB" -h $H -p "$P" -i ksubE -t sub/e -E
kt_expect_rc "kmqtt-sub -E" 0
# The broker logs the DISCONNECT after the tool exits: wait for the line.
if kt_wait_grep "$BROKER_LOG" 20 "Received DISCONNECT from ksubE"; then
    kt_pass "-E disconnects cleanly"
else
    kt_fail "no DISCONNECT from ksubE in the broker log"
fi

# SIGTERM and SIGINT: clean DISCONNECT, exit 0.
for sig in TERM INT; do
    ksub "ksig$sig" -t sub/sig
    kill -$sig "$KSUB_PID"
    ksub_wait 3
    expect_ksub_rc "kmqtt-sub ends on SIG$sig" 0
    if kt_wait_grep "$BROKER_LOG" 20 "Received DISCONNECT from ksig$sig"; then
        kt_pass "SIG$sig leads to a clean DISCONNECT"
    else
        kt_fail "no DISCONNECT from ksig$sig in the broker log"
    fi
done

# Will: killing kmqtt-sub outright makes the broker publish its will.
timeout 10 mosquitto_sub -h $H -p "$P" -i willwatch -t sub/will -C 1 >"$KT_TMP/will.out" &
WATCH=$!
kt_track $WATCH
broker_wait_subscribed willwatch || kt_fail "will watcher did not subscribe"
ksub kwill -t sub/x --will-topic sub/will --will-payload gone --will-qos 1
kill -KILL "$KSUB_PID"
wait "$WATCH"
kt_expect_eq "the will is published when kmqtt-sub dies" "gone" "$(cat "$KT_TMP/will.out")"

# -c: a persistent session keeps QoS 1 messages while the client is away.
kt_run 5 "$SUB" -h $H -p "$P" -i kpersist -c -q 1 -t sub/persist -E
kt_expect_rc "kmqtt-sub -c -E" 0
mpub -t sub/persist -q 1 -m queued
kt_run 5 "$SUB" -h $H -p "$P" -i kpersist -c -q 1 -t sub/persist -C 1
kt_expect_rc "kmqtt-sub -c comes back" 0
kt_expect_eq "the message queued in the session is delivered" "queued" "$(cat "$KT_OUT_FILE")"

# -L and -V 5.
ksub url -L "mqtt://$H:$P/sub/url" -C 1 -v
mpub -t sub/url -m u
ksub_wait
expect_ksub_rc "kmqtt-sub -L" 0
kt_expect_eq "-L subscribes to the URL's topic" "sub/url u" "$(cat "$KT_TMP/url.out")"

ksub ksubv5 -V 5 -t sub/v5 -q 1 -C 1 -v
mpub -V 5 -q 1 -t sub/v5 -m five
ksub_wait
expect_ksub_rc "kmqtt-sub -V 5" 0
kt_expect_eq "an MQTT 5.0 subscriber receives" "sub/v5 five" "$(cat "$KT_TMP/ksubv5.out")"
if grep -q "as ksubv5 (p5," "$BROKER_LOG"; then
    kt_pass "the broker saw protocol level 5"
else
    kt_fail "the broker did not log ksubv5 as an MQTT 5.0 client"
fi

# The broker goes away: one line, exit 5.
ksub lost -t sub/lost
kill "$BROKER_PID"
ksub_wait 5
expect_ksub_rc "kmqtt-sub when the broker stops" 5
lines=$(wc -l <"$KT_TMP/lost.err" | tr -d ' ')
kt_expect_eq "a lost connection is reported in one line" "1" "$lines"

kt_done
