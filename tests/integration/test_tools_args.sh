#!/bin/sh
# kmqtt-pub/kmqtt-sub argument handling: bad arguments and unsupported
# options give exit 1 and one line; an unreachable broker gives exit 2.
# No broker needed. Run as: sh test_tools_args.sh <build>/bin
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/support/broker.sh"
kt_init "$1"
kt_plan 129

PUB=$KT_BIN/kmqtt-pub
SUB=$KT_BIN/kmqtt-sub

# usage_error NAME WORD cmd...: exit 1 and one stderr line containing WORD.
usage_error() {
    ue_what=$1
    ue_word=$2
    shift 2
    kt_run 5 "$@"
    kt_expect_rc "$ue_what" 1
    kt_expect_one_error_line "$ue_what" "$ue_word"
}

for tool in kmqtt-pub kmqtt-sub; do
    T=$KT_BIN/$tool
    kt_run 5 "$T" --help
    kt_expect_rc "$tool --help" 0
    if grep -q "^Usage: $tool" "$KT_OUT_FILE" && [ ! -s "$KT_ERR_FILE" ]; then
        kt_pass "$tool --help prints usage on stdout"
    else
        kt_fail "$tool --help: [$(head -1 "$KT_OUT_FILE")]"
    fi

    usage_error "$tool -V 7" "-V '7'" "$T" -t a -V 7
    usage_error "$tool -V 31" "3.1 is not supported" "$T" -t a -V 31
    usage_error "$tool -q 3" "QoS" "$T" -t a -q 3
    usage_error "$tool -p 0" "port" "$T" -t a -p 0
    usage_error "$tool -p 70000" "port" "$T" -t a -p 70000
    usage_error "$tool -p abc" "port" "$T" -t a -p abc
    usage_error "$tool -k -1" "keepalive" "$T" -t a -k -1
    usage_error "$tool unknown option" "unknown option '--bogus'" "$T" -t a --bogus
    usage_error "$tool stray argument" "unexpected argument 'stray'" "$T" -t a stray
    usage_error "$tool -t without value" "-t needs an argument" "$T" -t
    usage_error "$tool -i and -I" "-i and -I" "$T" -t a -i x -I y
    usage_error "$tool -c without id" "-c needs a client id" "$T" -t a -c
    usage_error "$tool will payload without topic" "need --will-topic" "$T" -t a \
        --will-payload x
    usage_error "$tool -L without mqtt://" "mqtt://" "$T" -L http://h/t
    usage_error "$tool -L bad port" "port" "$T" -L mqtt://h:99999/t

    # TLS options the tools do not have are refused, never ignored; the
    # ones they have fail before any connection when their files are bad.
    if [ "$tool" = kmqtt-pub ]; then M="-m x"; else M=""; fi
    for flag in --psk --ciphers --keyform; do
        # shellcheck disable=SC2086
        usage_error "$tool $flag" "$flag: this TLS option is not supported" "$T" -t a $M "$flag" x
    done
    # shellcheck disable=SC2086
    usage_error "$tool --tls-version tlsv1" "tlsv1.2 or tlsv1.3" "$T" -t a $M --tls-version tlsv1
    # shellcheck disable=SC2086
    usage_error "$tool --cafile missing" "cannot load" "$T" -h 127.0.0.1 -t a $M \
        --cafile "$KT_TMP/none.crt"
    # shellcheck disable=SC2086
    usage_error "$tool --cert without --key" "--cert needs --key" "$T" -h 127.0.0.1 -t a $M \
        --cafile /dev/null --cert "$KT_TMP/none.crt"
    # shellcheck disable=SC2086
    usage_error "$tool -L ws:// without WebSocket or bad port" "port" "$T" $M -L wss://h:0/t
    usage_error "$tool -D" "properties are not supported" "$T" -t a -D publish user-property a b
done

usage_error "kmqtt-pub without topic" "no topic" "$PUB" -m x
usage_error "kmqtt-pub without message" "no message" "$PUB" -t x
usage_error "kmqtt-pub with two message sources" "only one of" "$PUB" -t x -m a -n
usage_error "kmqtt-pub with two topics" "only one topic" "$PUB" -t x -t y -m a
usage_error "kmqtt-pub wildcard topic" "invalid topic name" "$PUB" -t 'a/#' -m x
usage_error "kmqtt-pub -v is a kmqtt-sub option" "kmqtt-sub option" "$PUB" -t x -m a -v
usage_error "kmqtt-pub -f missing file" "$KT_TMP/none" "$PUB" -t x -f "$KT_TMP/none"
usage_error "kmqtt-pub --repeat 0" "repeat" "$PUB" -t x -m a --repeat 0
usage_error "kmqtt-pub --repeat-delay -1" "delay" "$PUB" -t x -m a --repeat-delay -1
usage_error "kmqtt-sub without topic" "no topic" "$SUB"
usage_error "kmqtt-sub bad filter" "invalid topic filter" "$SUB" -t 'a/#/b'
usage_error "kmqtt-sub -C 0" "count" "$SUB" -t x -C 0
usage_error "kmqtt-sub -W x" "timeout" "$SUB" -t x -W x
usage_error "kmqtt-sub -m is a kmqtt-pub option" "kmqtt-pub option" "$SUB" -t x -m a

# Nothing listens on 127.0.0.1:1: exit 2 and one line naming the address.
kt_run 10 "$PUB" -h 127.0.0.1 -p 1 -t x -m y
kt_expect_rc "kmqtt-pub to a refused port" 2
kt_expect_one_error_line "kmqtt-pub to a refused port" "cannot connect to 127.0.0.1:1"
kt_run 10 "$SUB" -h 127.0.0.1 -p 1 -t x
kt_expect_rc "kmqtt-sub to a refused port" 2
kt_expect_one_error_line "kmqtt-sub to a refused port" "cannot connect to 127.0.0.1:1"
kt_run 10 "$PUB" -L mqtt://127.0.0.1:1/x -m y
kt_expect_rc "kmqtt-pub -L to a refused port" 2

kt_done
