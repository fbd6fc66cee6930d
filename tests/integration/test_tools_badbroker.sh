#!/bin/sh
# kmqtt-sub/kmqtt-pub against a fake broker (kmqtt-test-badbroker) that
# breaks the protocol: they must exit non-zero with one line within a
# second, never crash or hang. Run as: sh test_tools_badbroker.sh <build>/bin
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/support/broker.sh"
kt_init "$1"
kt_plan 21

BAD=$KT_BIN/kmqtt-test-badbroker
if [ ! -x "$BAD" ]; then
    echo "FAIL - $BAD is not built"
    exit 1
fi
N=0

# fake HEX [mode]: starts a fake broker answering HEX; sets FAKE_PORT.
fake() {
    N=$((N + 1))
    "$BAD" "$KT_TMP/port.$N" "$@" 2>"$KT_TMP/fake.$N.err" &
    FAKE_PID=$!
    kt_track $FAKE_PID
    if ! kt_wait_grep "$KT_TMP/port.$N" 50 .; then
        kt_fail "fake broker did not start: $(cat "$KT_TMP/fake.$N.err")"
        kt_done
    fi
    FAKE_PORT=$(cat "$KT_TMP/port.$N")
}

# quick_failure WHAT CODE WORD: the last kt_run ended by itself (not by
# timeout, not by a signal) with exit CODE and one stderr line with WORD.
quick_failure() {
    case $KT_RC in
    124) kt_fail "$1: still running after 1 s" ;;
    0) kt_fail "$1: exit 0" ;;
    *)
        if [ "$KT_RC" -ge 128 ]; then
            kt_fail "$1: killed by signal $((KT_RC - 128))"
        else
            kt_pass "$1: exits non-zero by itself"
        fi
        ;;
    esac
    kt_expect_rc "$1" "$2"
    kt_expect_one_error_line "$1" "$3"
}

# CONNACK accepted, then a PUBLISH whose remaining length has 5 bytes.
fake 2002000030ffffffffff
kt_run 1 "$KT_BIN/kmqtt-sub" -h 127.0.0.1 -p "$FAKE_PORT" -t x
quick_failure "kmqtt-sub after CONNACK and garbage" 5 "protocol error"

fake 2002000030ffffffffff
kt_run 1 "$KT_BIN/kmqtt-pub" -h 127.0.0.1 -p "$FAKE_PORT" -t x -q 1 -m y
quick_failure "kmqtt-pub -q 1 after CONNACK and garbage" 5 "protocol error"

# A PUBLISH before any CONNACK.
fake 3003000161
kt_run 1 "$KT_BIN/kmqtt-sub" -h 127.0.0.1 -p "$FAKE_PORT" -t x
quick_failure "kmqtt-sub given PUBLISH instead of CONNACK" 5 "protocol error"

# CONNACK with reserved flag bits set (MQTT-3.2.2-1).
fake 20020e00
kt_run 1 "$KT_BIN/kmqtt-sub" -h 127.0.0.1 -p "$FAKE_PORT" -t x
quick_failure "kmqtt-sub given a malformed CONNACK" 5 "protocol error"

# CONNACK refusing with 3.1.1 code 2.
fake 20020002
kt_run 1 "$KT_BIN/kmqtt-sub" -h 127.0.0.1 -p "$FAKE_PORT" -t x
quick_failure "kmqtt-sub refused with code 2" 3 "identifier rejected"

# CONNACK accepted, then the connection closes.
fake 20020000 close
kt_run 1 "$KT_BIN/kmqtt-sub" -h 127.0.0.1 -p "$FAKE_PORT" -t x
quick_failure "kmqtt-sub when the broker hangs up" 5 "kmqtt-sub: "

# SUBACK refusing the subscription (0x80).
fake 20020000 subfail
kt_run 1 "$KT_BIN/kmqtt-sub" -h 127.0.0.1 -p "$FAKE_PORT" -t refused/topic
quick_failure "kmqtt-sub with a refused subscription" 4 "subscription to 'refused/topic' refused"

kt_done
