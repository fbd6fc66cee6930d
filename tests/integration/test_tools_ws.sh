#!/bin/sh
# kmqtt-pub and kmqtt-sub over ws:// URLs against mosquitto's websockets
# listener, checked across transports with mosquitto_sub on plain TCP.
# Run as: sh test_tools_ws.sh <build>/bin
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/support/broker.sh"
kt_init "$1"
kt_plan 10
# mosquitto 2.0.11 needs a plain listener beside the websockets one (broker_start writes it).
# The websockets port is picked by broker_start, anew on each attempt: one
# picked here once failed all 20 attempts when something held it.
broker_start "allow_anonymous true" "listener @PORT2@ 127.0.0.1" "protocol websockets"
WS=$BROKER_PORT2
H=127.0.0.1

# A publish over ws:// reaches a subscriber over ws://, at each QoS.
for q in 0 1 2; do
    timeout 10 "$KT_BIN/kmqtt-sub" -L "ws://$H:$WS/ws/q$q" -q $q -C 1 -v -i "wsub$q" \
        >"$KT_TMP/wsub$q.out" 2>"$KT_TMP/wsub$q.err" &
    sp=$!
    kt_track $sp
    broker_wait_subscribed "wsub$q" || kt_fail "kmqtt-sub over ws did not subscribe"
    kt_run 10 "$KT_BIN/kmqtt-pub" -L "ws://$H:$WS/ws/q$q" -q $q -m "hello-$q"
    kt_expect_rc "kmqtt-pub -L ws:// at QoS $q" 0
    wait $sp
    kt_expect_eq "kmqtt-sub -L ws:// got the QoS $q message" "ws/q$q hello-$q" "$(cat "$KT_TMP/wsub$q.out")"
done

# Across transports: ws publisher, plain TCP mosquitto_sub.
timeout 10 mosquitto_sub -h $H -p "$BROKER_PORT" -i msub -t ws/x -q 1 -C 1 >"$KT_TMP/msub.out" &
sp=$!
kt_track $sp
broker_wait_subscribed msub || kt_fail "mosquitto_sub did not subscribe"
kt_run 10 "$KT_BIN/kmqtt-pub" -L "ws://$H:$WS/ws/x" -q 1 -m across
kt_expect_rc "kmqtt-pub over ws to a TCP subscriber" 0
wait $sp
kt_expect_eq "mosquitto_sub on TCP got the ws message" "across" "$(cat "$KT_TMP/msub.out")"

# ws:// to the plain MQTT listener: the upgrade is refused, exit 2 with one line.
kt_run 10 "$KT_BIN/kmqtt-pub" -L "ws://$H:$BROKER_PORT/ws/x" -m nope
kt_expect_rc "ws:// to a non-WebSocket port" 2
kt_expect_one_error_line "ws:// to a non-WebSocket port" "WebSocket"
kt_done
