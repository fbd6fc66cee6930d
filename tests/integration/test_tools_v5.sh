#!/bin/sh
# kmqtt-pub / kmqtt-sub in MQTT 5.0 mode (-V 5) against a private mosquitto:
# mosquitto's -D flag (properties round trip between the kmqtt tools and
# with mosquitto_pub / mosquitto_sub), -F output codes, subscription
# identifiers, -V spellings, and -D mistakes refused with one line.
# Run as: sh test_tools_v5.sh <build>/bin
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/support/broker.sh"
kt_init "$1"
kt_plan 25
broker_start

SUB=$KT_BIN/kmqtt-sub
PUB=$KT_BIN/kmqtt-pub
H=127.0.0.1
P=$BROKER_PORT

# ksub NAME ARGS...: kmqtt-sub -i NAME in the background, subscribed when
# this returns; ksub_wait waits (bounded) for it to exit.
ksub() {
    ks_name=$1
    shift
    "$SUB" -h $H -p "$P" -i "$ks_name" "$@" >"$KT_TMP/$ks_name.out" 2>"$KT_TMP/$ks_name.err" &
    KSUB_PID=$!
    kt_track $KSUB_PID
    broker_wait_subscribed "$ks_name" || kt_fail "kmqtt-sub $ks_name did not subscribe"
}

ksub_wait() {
    kw_tries=50
    while kill -0 "$KSUB_PID" 2>/dev/null && [ $kw_tries -gt 0 ]; do
        sleep 0.1
        kw_tries=$((kw_tries - 1))
    done
    if kill -0 "$KSUB_PID" 2>/dev/null; then
        kill -KILL "$KSUB_PID" 2>/dev/null
    fi
    wait "$KSUB_PID" 2>/dev/null
    KSUB_RC=$?
}

# 1. kmqtt-pub -> kmqtt-sub: user properties (in order, a repeated name),
#    content type, correlation data, response topic, payload format, and
#    the subscription identifier set with -D subscribe.
ksub kv5 -V 5 -t v5/tools/a -C 1 -q 1 -D subscribe subscription-identifier 9 \
    -F '%t|%p|%q|%P|%C|%D|%R|%S\n'
kt_run 5 "$PUB" -h $H -p "$P" -V 5 -t v5/tools/a -m hello -q 1 \
    -D publish user-property color blue -D publish user-property size 10 \
    -D publish user-property color red -D publish content-type text/plain \
    -D publish correlation-data req-1 -D publish response-topic v5/tools/reply \
    -D publish payload-format-indicator 1 -D publish message-expiry-interval 60
kt_expect_rc "kmqtt-pub -V 5 with -D publish properties" 0
ksub_wait
kt_expect_eq "kmqtt-sub -F shows every property as sent" \
    "v5/tools/a|hello|1|color:blue size:10 color:red|text/plain|req-1|v5/tools/reply|9" \
    "$(cat "$KT_TMP/kv5.out")"

# 2. kmqtt-pub -> mosquitto_sub -V 5 -F %P (mosquitto's own reading).
timeout 5 mosquitto_sub -h $H -p "$P" -V 5 -i msub -t v5/tools/b -C 1 -F '%P|%C' \
    >"$KT_TMP/msub.out" 2>&1 &
MSUB_PID=$!
kt_track $MSUB_PID
broker_wait_subscribed msub || kt_fail "mosquitto_sub did not subscribe"
kt_run 5 "$PUB" -h $H -p "$P" -V mqttv5 -t v5/tools/b -m x \
    -D publish user-property k1 v1 -D publish user-property k2 v2 -D publish content-type a/b
kt_expect_rc "kmqtt-pub -V mqttv5" 0
wait $MSUB_PID
kt_expect_eq "mosquitto_sub reads kmqtt-pub's user properties in order" "k1:v1 k2:v2|a/b" \
    "$(cat "$KT_TMP/msub.out")"

# 3. mosquitto_pub -V 5 -D -> kmqtt-sub -F %P.
ksub kv5b -V 5 -t v5/tools/c -C 1 -F '%P %C %D\n'
timeout 5 mosquitto_pub -h $H -p "$P" -V 5 -t v5/tools/c -m y \
    -D publish user-property a 1 -D publish user-property b 2 \
    -D publish content-type c/d -D publish correlation-data cd ||
    kt_fail "mosquitto_pub -V 5 failed"
ksub_wait
kt_expect_eq "kmqtt-sub reads mosquitto_pub's properties" "a:1 b:2 c/d cd" \
    "$(cat "$KT_TMP/kv5b.out")"

# 4. -D connect properties reach the broker: a session that outlives the
#    connection (session-expiry-interval) keeps a QoS 1 message.
kt_run 5 "$SUB" -h $H -p "$P" -V 5 -i kpersist -c -t v5/tools/p -q 1 -E \
    -D connect session-expiry-interval 60 -D connect user-property who tool
kt_expect_rc "kmqtt-sub -c -D connect session-expiry-interval 60 -E" 0
kt_run 5 "$PUB" -h $H -p "$P" -V 5 -t v5/tools/p -m kept -q 1
kt_run 5 "$SUB" -h $H -p "$P" -V 5 -i kpersist -c -t v5/tools/p -q 1 -C 1 \
    -D connect session-expiry-interval 60
kt_expect_rc "the persistent session delivers the queued message" 0
kt_expect_eq "queued message" "kept" "$(cat "$KT_OUT_FILE")"

# 4b. User properties on SUBSCRIBE and DISCONNECT are well-formed for the
#     broker: granted, and a normal DISCONNECT (the will is not published).
ksub kwill -V 5 -t v5/tools/will -C 1 -W 3
kt_run 5 "$SUB" -h $H -p "$P" -V 5 -i kpp -t v5/tools/pp -E \
    --will-topic v5/tools/will --will-payload gone \
    -D subscribe user-property a b -D disconnect user-property c d
kt_expect_rc "kmqtt-sub -D subscribe/disconnect user-property" 0
ksub_wait
kt_expect_eq "a DISCONNECT with user properties is a normal one (no will)" "" \
    "$(cat "$KT_TMP/kwill.out")"

# 5. -V 311 (and mqttv311) stays 3.1.1: the broker logs protocol level 4.
kt_run 5 "$PUB" -h $H -p "$P" -V mqttv311 -i kp311 -t v5/tools/d -m z
kt_expect_rc "kmqtt-pub -V mqttv311" 0
if grep -q "as kp311 (p2," "$BROKER_LOG"; then
    kt_pass "-V mqttv311 connects with MQTT 3.1.1"
else
    kt_fail "kp311 did not connect as 3.1.1: $(grep kp311 "$BROKER_LOG" | head -2)"
fi
kt_run 5 "$PUB" -h $H -p "$P" -V 5 -i kp5 -t v5/tools/d -m z
if grep -q "as kp5 (p5," "$BROKER_LOG"; then
    kt_pass "-V 5 connects with MQTT 5.0"
else
    kt_fail "kp5 did not connect as 5.0: $(grep kp5 "$BROKER_LOG" | head -2)"
fi

# 6. topic-alias is accepted with a note (kmqtt picks aliases itself).
kt_run 5 "$PUB" -h $H -p "$P" -V 5 -t v5/tools/e -m z -D publish topic-alias 3
kt_expect_rc "-D publish topic-alias is accepted" 0
kt_expect_one_error_line "-D publish topic-alias" "chooses topic aliases"

# 7. Mistakes: one line, exit 1.
kt_run 5 "$PUB" -h $H -p "$P" -t x -m y -D publish content-type a
kt_expect_rc "-D without -V 5" 1
kt_expect_one_error_line "-D without -V 5" "add -V 5"
kt_run 5 "$PUB" -h $H -p "$P" -V 5 -t x -m y -D publish receive-maximum 5
kt_expect_rc "-D publish receive-maximum" 1
kt_expect_one_error_line "a connect property on publish" "not a property of publish"
kt_run 5 "$PUB" -h $H -p "$P" -V 5 -t x -m y -D bogus content-type a
kt_expect_rc "-D unknown command" 1
kt_expect_one_error_line "-D unknown command" "unknown command"
kt_run 5 "$PUB" -h $H -p "$P" -V 5 -t x -m y -D publish user-property onlyname
kt_expect_rc "-D user-property with one value" 1
kt_expect_one_error_line "-D user-property with one value" "a name and a value"
kt_run 5 "$PUB" -h $H -p "$P" -V 5 -t x -m y -D publish payload-format-indicator 2
kt_expect_rc "-D payload-format-indicator 2" 1
kt_run 5 "$PUB" -h $H -p "$P" -V 5 -t x -m "$(printf '\377')" \
    -D publish payload-format-indicator 1
kt_expect_rc "a payload that is not UTF-8 with payload-format-indicator 1" 5

kt_done
