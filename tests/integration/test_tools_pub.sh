#!/bin/sh
# kmqtt-pub against a private mosquitto, checked with mosquitto_sub: every
# message source (-m -f -s -l -n), QoS 0/1/2, retain, --repeat, -L, -V 5.
# Run as: sh test_tools_pub.sh <build>/bin
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/support/broker.sh"
kt_init "$1"
kt_plan 46
broker_start

PUB=$KT_BIN/kmqtt-pub
H=127.0.0.1
P=$BROKER_PORT

# msub NAME ARGS...: mosquitto_sub -i NAME in the background (output in
# $KT_TMP/NAME.out), returns once the broker has acknowledged its SUBSCRIBE.
msub() {
    ms_name=$1
    shift
    timeout 10 mosquitto_sub -h $H -p "$P" -i "$ms_name" "$@" >"$KT_TMP/$ms_name.out" \
        2>"$KT_TMP/$ms_name.err" &
    MSUB_PID=$!
    kt_track $MSUB_PID
    broker_wait_subscribed "$ms_name" || kt_fail "mosquitto_sub $ms_name did not subscribe"
}

# Waits for the last msub to end (its -C count reached, or its timeout).
msub_wait() {
    wait "$MSUB_PID"
    MSUB_RC=$?
    if [ "$MSUB_RC" != 0 ]; then
        kt_fail "mosquitto_sub ended with exit $MSUB_RC (nothing or too little arrived)"
    fi
}

for q in 0 1 2; do
    msub "rx$q" -t "pub/q$q" -q 2 -C 1 -N
    kt_run 5 "$PUB" -h $H -p "$P" -i "kpub$q" -t "pub/q$q" -q $q -m "hello kmqtt q$q"
    kt_expect_rc "kmqtt-pub -q $q publishes" 0
    msub_wait
    printf 'hello kmqtt q%s' $q >"$KT_TMP/exp"
    kt_expect_same_file "mosquitto_sub receives the exact QoS $q payload" "$KT_TMP/exp" \
        "$KT_TMP/rx$q.out"
    if grep -q "Received PUBLISH from kpub$q (d0, q$q, r0" "$BROKER_LOG"; then
        kt_pass "the broker saw a QoS $q PUBLISH"
    else
        kt_fail "the broker did not log a QoS $q PUBLISH from kpub$q"
    fi
done
if grep -q "Received PUBREL from kpub2" "$BROKER_LOG"; then
    kt_pass "QoS 2 publish completes with PUBREL"
else
    kt_fail "no PUBREL from kpub2 in the broker log"
fi

# -l: one message per line; an empty line is an empty message, an
# unterminated last line is still sent.
printf 'one\ntwo\n\nfour' >"$KT_TMP/lines.in"
msub lines -t pub/lines -C 4 -v
kt_run_in "$KT_TMP/lines.in" 5 "$PUB" -h $H -p "$P" -t pub/lines -l
kt_expect_rc "kmqtt-pub -l" 0
msub_wait
printf 'pub/lines one\npub/lines two\npub/lines (null)\npub/lines four\n' >"$KT_TMP/exp"
kt_expect_same_file "-l sends each line as its own message" "$KT_TMP/exp" "$KT_TMP/lines.out"

# -l with QoS 1 and more lines than the in-flight window.
i=1
: >"$KT_TMP/many.in"
while [ $i -le 300 ]; do
    echo "line $i" >>"$KT_TMP/many.in"
    i=$((i + 1))
done
msub many -t pub/many -q 1 -C 300
kt_run_in "$KT_TMP/many.in" 20 "$PUB" -h $H -p "$P" -t pub/many -q 1 -l
kt_expect_rc "kmqtt-pub -l -q 1 with 300 lines" 0
msub_wait
kt_expect_same_file "all 300 lines arrive in order" "$KT_TMP/many.in" "$KT_TMP/many.out"

# -l with lines beyond 256 KiB (issue 19: refused before; mosquitto_pub
# takes any): a short line, a 300 KiB one and a 3 MiB one, at QoS 0 and 1;
# the long ones leave from the line buffer in pieces.
for q in 0 1; do
    {
        echo "short"
        head -c 307200 /dev/zero | tr '\0' 'a'
        echo
        head -c 3145728 /dev/zero | tr '\0' 'b'
        echo
        echo "end"
    } >"$KT_TMP/long$q.in"
    msub "long$q" -t "pub/long$q" -q 1 -C 4
    kt_run_in "$KT_TMP/long$q.in" 30 "$PUB" -h $H -p "$P" -t "pub/long$q" -q $q -l
    kt_expect_rc "kmqtt-pub -l -q $q with lines of 300 KiB and 3 MiB" 0
    msub_wait
    kt_expect_same_file "the long lines arrive intact (-q $q)" "$KT_TMP/long$q.in" \
        "$KT_TMP/long$q.out"
done

# -f: a file's bytes, including NUL and a newline, unchanged.
printf 'bin\000\001\377\nend' >"$KT_TMP/msg.bin"
msub file -t pub/file -C 1 -N
kt_run 5 "$PUB" -h $H -p "$P" -t pub/file -q 1 -f "$KT_TMP/msg.bin"
kt_expect_rc "kmqtt-pub -f" 0
msub_wait
kt_expect_same_file "-f sends the file's exact bytes" "$KT_TMP/msg.bin" "$KT_TMP/file.out"

# -f with a message larger than the client's default buffers.
head -c 200000 /dev/urandom >"$KT_TMP/big.bin"
msub big -t pub/big -C 1 -N
kt_run 10 "$PUB" -h $H -p "$P" -t pub/big -q 1 -f "$KT_TMP/big.bin"
kt_expect_rc "kmqtt-pub -f with 200000 bytes" 0
msub_wait
kt_expect_same_file "a 200000-byte file arrives intact" "$KT_TMP/big.bin" "$KT_TMP/big.out"

# QoS 0 faster than the socket drains: kmqtt-pub waits for room, drops nothing.
msub bigrep -t pub/bigrep -C 20 -N
kt_run 20 "$PUB" -h $H -p "$P" -t pub/bigrep -f "$KT_TMP/big.bin" --repeat 20
kt_expect_rc "kmqtt-pub --repeat 20 of 200000 bytes at QoS 0" 0
msub_wait
kt_expect_eq "all 20 large QoS 0 messages arrive" 4000000 "$(wc -c <"$KT_TMP/bigrep.out" | tr -d ' ')"

# -s: all of stdin as one message.
printf 'first\nsecond\n' >"$KT_TMP/stdin.in"
msub stdin -t pub/stdin -C 1 -N
kt_run_in "$KT_TMP/stdin.in" 5 "$PUB" -h $H -p "$P" -t pub/stdin -s
kt_expect_rc "kmqtt-pub -s" 0
msub_wait
kt_expect_same_file "-s sends stdin as one message" "$KT_TMP/stdin.in" "$KT_TMP/stdin.out"

# -n: a zero-length message (mosquitto_sub -v shows it as "(null)").
msub null -t pub/null -C 1 -v
kt_run 5 "$PUB" -h $H -p "$P" -t pub/null -n
kt_expect_rc "kmqtt-pub -n" 0
msub_wait
kt_expect_eq "-n sends an empty message" "pub/null (null)" "$(cat "$KT_TMP/null.out")"

# --repeat with --repeat-delay.
msub rep -t pub/rep -C 3
t0=$(kt_now_ms)
kt_run 5 "$PUB" -h $H -p "$P" -t pub/rep -m again --repeat 3 --repeat-delay 0.2
t1=$(kt_now_ms)
kt_expect_rc "kmqtt-pub --repeat 3" 0
msub_wait
kt_expect_eq "--repeat 3 sends three messages" "again again again" \
    "$(tr '\n' ' ' <"$KT_TMP/rep.out" | sed 's/ $//')"
if [ $((t1 - t0)) -ge 400 ]; then
    kt_pass "--repeat-delay 0.2 spaces the messages ($((t1 - t0)) ms)"
else
    kt_fail "--repeat-delay 0.2 took only $((t1 - t0)) ms for 3 messages"
fi

# -r: the broker keeps the message for later subscribers.
kt_run 5 "$PUB" -h $H -p "$P" -t pub/retained -q 1 -r -m kept
kt_expect_rc "kmqtt-pub -r" 0
kt_run 5 mosquitto_sub -h $H -p "$P" -t pub/retained -C 1 -v
kt_expect_eq "a later subscriber gets the retained message" "pub/retained kept" \
    "$(cat "$KT_OUT_FILE")"

# -L: host, port and topic from a URL.
msub url -t pub/url/topic -C 1
kt_run 5 "$PUB" -L "mqtt://$H:$P/pub/url/topic" -m via-url
kt_expect_rc "kmqtt-pub -L" 0
msub_wait
kt_expect_eq "-L publishes to the URL's topic" "via-url" "$(cat "$KT_TMP/url.out")"

# -V 5: an MQTT 5.0 connection.
msub v5 -t pub/v5 -C 1
kt_run 5 "$PUB" -h $H -p "$P" -i kpubv5 -V 5 -q 1 -t pub/v5 -m five
kt_expect_rc "kmqtt-pub -V 5" 0
msub_wait
kt_expect_eq "an MQTT 5.0 publish arrives" "five" "$(cat "$KT_TMP/v5.out")"
if grep -q "as kpubv5 (p5," "$BROKER_LOG"; then
    kt_pass "the broker saw protocol level 5"
else
    kt_fail "the broker did not log kpubv5 as an MQTT 5.0 client"
fi

# -d: debug lines on stderr, nothing on stdout.
kt_run 5 "$PUB" -h $H -p "$P" -t pub/debug -m x -d
kt_expect_rc "kmqtt-pub -d" 0
if grep -q "^kmqtt-pub: debug: " "$KT_ERR_FILE" && [ ! -s "$KT_OUT_FILE" ]; then
    kt_pass "-d writes debug lines to stderr only"
else
    kt_fail "-d output: stdout [$(cat "$KT_OUT_FILE")] stderr [$(cat "$KT_ERR_FILE")]"
fi

# A clean exit sends DISCONNECT (no will, no dangling session).
kt_run 5 "$PUB" -h $H -p "$P" -i kpubbye -t pub/bye -m x
if kt_wait_grep "$BROKER_LOG" 50 "Received DISCONNECT from kpubbye"; then
    kt_pass "kmqtt-pub disconnects cleanly"
else
    kt_fail "no DISCONNECT from kpubbye in the broker log"
fi

# -l keeps the connection alive while stdin is quiet (keepalive 1 s, first
# line after 3 s: the broker drops a silent client after 1.5 s).
msub slow -t pub/slow -C 1
{ sleep 3; echo late; } | timeout 10 "$PUB" -h $H -p "$P" -i kslow -k 1 -t pub/slow -l \
    >"$KT_OUT_FILE" 2>"$KT_ERR_FILE"
KT_RC=$?
kt_expect_rc "kmqtt-pub -l with a quiet producer" 0
msub_wait
kt_expect_eq "the late line arrives" "late" "$(cat "$KT_TMP/slow.out")"
if grep -q "Received PINGREQ from kslow" "$BROKER_LOG"; then
    kt_pass "kmqtt-pub -l pings while waiting for stdin"
else
    kt_fail "no PINGREQ from kslow in the broker log"
fi

# SIGINT while -l waits for stdin: clean DISCONNECT, exit 0.
# stdin is a FIFO held open by a tracked writer, so nothing outlives the test.
mkfifo "$KT_TMP/in.fifo"
sleep 10 >"$KT_TMP/in.fifo" 2>/dev/null &
WRITER=$!
kt_track $WRITER
"$PUB" -h $H -p "$P" -i kint -t pub/int -l <"$KT_TMP/in.fifo" >"$KT_OUT_FILE" 2>"$KT_ERR_FILE" &
PUBPID=$!
kt_track $PUBPID
kt_wait_grep "$BROKER_LOG" 50 "as kint " || kt_fail "kmqtt-pub kint did not connect"
kill -INT $PUBPID
wait $PUBPID
KT_RC=$?
kt_expect_rc "kmqtt-pub -l ends on SIGINT" 0
kill $WRITER 2>/dev/null
if kt_wait_grep "$BROKER_LOG" 20 "Received DISCONNECT from kint"; then
    kt_pass "SIGINT leads to a clean DISCONNECT"
else
    kt_fail "no DISCONNECT from kint in the broker log"
fi

kt_done
