#!/bin/sh
# kmqtt-pub/kmqtt-sub with user name and password against a private
# mosquitto that refuses anonymous clients (password file made with
# mosquitto_passwd) and an ACL. Run as: sh test_tools_auth.sh <build>/bin
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/support/broker.sh"
kt_init "$1"
kt_plan 16

if ! command -v mosquitto_passwd >/dev/null 2>&1; then
    echo "FAIL - mosquitto_passwd not found"
    exit 1
fi
mosquitto_passwd -b -c "$KT_TMP/passwd" alice s3cret || exit 1
printf 'user alice\ntopic readwrite auth/#\n' >"$KT_TMP/acl"
broker_start "allow_anonymous false" "password_file $KT_TMP/passwd" "acl_file $KT_TMP/acl"

PUB=$KT_BIN/kmqtt-pub
SUB=$KT_BIN/kmqtt-sub
H=127.0.0.1
P=$BROKER_PORT
REFUSED="not authorized\|bad user name or password"

# The right password: published and received.
timeout 10 mosquitto_sub -h $H -p "$P" -u alice -P s3cret -i watcher -t auth/ok -C 2 \
    >"$KT_TMP/watch.out" &
WATCH=$!
kt_track $WATCH
broker_wait_subscribed watcher || kt_fail "watcher did not subscribe"
kt_run 5 "$PUB" -h $H -p "$P" -u alice -P s3cret -q 1 -t auth/ok -m with-password
kt_expect_rc "kmqtt-pub with the right password" 0
kt_run 5 "$PUB" -L "mqtt://alice:s3cret@$H:$P/auth/ok" -m with-url
kt_expect_rc "kmqtt-pub -L with user:pass@" 0
wait "$WATCH"
kt_expect_eq "both authenticated publishes arrive" "with-password with-url" \
    "$(tr '\n' ' ' <"$KT_TMP/watch.out" | sed 's/ $//')"

kt_run 5 "$SUB" -h $H -p "$P" -u alice -P s3cret -t auth/sub -E
kt_expect_rc "kmqtt-sub with the right password" 0

# Wrong or missing credentials: exit 3 and the CONNACK reason in words.
kt_run 5 "$PUB" -h $H -p "$P" -u alice -P wrong -t auth/ok -m x
kt_expect_rc "kmqtt-pub with a wrong password" 3
kt_expect_one_error_line "kmqtt-pub with a wrong password" "$REFUSED"

kt_run 5 "$SUB" -h $H -p "$P" -u alice -P wrong -t auth/ok
kt_expect_rc "kmqtt-sub with a wrong password" 3
kt_expect_one_error_line "kmqtt-sub with a wrong password" "$REFUSED"

kt_run 5 "$PUB" -L "mqtt://alice:wrong@$H:$P/auth/ok" -m x
kt_expect_rc "kmqtt-pub -L with a wrong password" 3
kt_expect_one_error_line "kmqtt-pub -L with a wrong password" "$REFUSED"

kt_run 5 "$SUB" -h $H -p "$P" -t auth/ok
kt_expect_rc "kmqtt-sub without credentials" 3
kt_expect_one_error_line "kmqtt-sub without credentials" "$REFUSED"

kt_run 5 "$PUB" -h $H -p "$P" -V 5 -u alice -P wrong -t auth/ok -m x
kt_expect_rc "kmqtt-pub -V 5 with a wrong password" 3
kt_expect_one_error_line "kmqtt-pub -V 5 with a wrong password" "$REFUSED"

# MQTT 5.0: a QoS 1 publish the ACL denies comes back with PUBACK 0x87.
kt_run 5 "$PUB" -h $H -p "$P" -V 5 -u alice -P s3cret -q 1 -t secret/x -m x
kt_expect_rc "kmqtt-pub -V 5 -q 1 to a denied topic" 5
kt_expect_one_error_line "kmqtt-pub -V 5 -q 1 to a denied topic" "not authorized (reason code 0x87)"

kt_done
