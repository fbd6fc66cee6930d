#!/bin/sh
# Command-line parity with mosquitto_pub/mosquitto_sub 2.0, tested
# differentially (issue 19): every line of tools_parity.corpus runs once with
# mosquitto_pub/_sub and once with kmqtt-pub/-sub against the same private
# mosquitto. Compared per line: the exit code, stdout, what reaches the
# broker (a mosquitto_sub recorder on the line's topics: topic, QoS, retain,
# 5.0 properties, payload in hex) and what the broker logs of the client
# (CONNECT flags, keepalive, user, will, SUBSCRIBE filters and QoS, CONNACK,
# PUBACK codes, how it disconnected). A difference passes only where the
# corpus line allows it, and every allowance must be named in the kmqtt
# tool's --help. Run as: sh test_tools_parity.sh <build>/bin
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/support/broker.sh"
kt_init "$1"
kt_plan 199
broker_start

CORPUS=$HERE/tools_parity.corpus
# The number of corpus lines; the plan is this plus the 3 checks below.
CORPUS_LINES=196
FX=$KT_TMP/fx
mkdir -p "$FX"
printf 'one\ntwo\n\nfour' >"$FX/lines.txt"
printf 'bin\000\001\377\nend' >"$FX/msg.bin"
printf 'hello from a file\n' >"$FX/text.txt"
: >"$FX/empty"
head -c 300000 /dev/zero | tr '\000' 'z' >"$FX/big.txt"
# A 1 MiB payload plus 100 bytes: more than the old tools' receive buffer.
head -c 1048676 /dev/urandom >"$FX/mib.bin"
printf '%s\n' 'short' "$(head -c 70000 /dev/zero | tr '\000' 'L')" 'after' >"$FX/longline.txt"
# Issue 19: a line beyond kmqtt-pub's old 256 KiB limit, and a retained
# message beyond kmqtt-sub's old 16 MiB default.
printf '%s\n' 'short' "$(head -c 300000 /dev/zero | tr '\000' 'H')" 'after' >"$FX/hugeline.txt"
head -c 17000000 /dev/urandom >"$FX/17mb.bin"

H=127.0.0.1
P=$BROKER_PORT
REC=$KT_TMP/recorder.out

# Retained messages the sub lines read (ret/...): set once, before the run.
mosquitto_pub -h $H -p "$P" -r -t ret/a -m alpha
mosquitto_pub -h $H -p "$P" -r -q 1 -t ret/b -m beta
mosquitto_pub -h $H -p "$P" -r -t ret/bin -f "$FX/msg.bin"
mosquitto_pub -h $H -p "$P" -r -V 5 -t ret/v5 -m props -D publish user-property k1 v1 \
    -D publish user-property k2 v2 -D publish content-type text/plain \
    -D publish response-topic ret/reply -D publish correlation-data c0rr
mosquitto_pub -h $H -p "$P" -r -q 2 -t ret/deep/x/y -m deep
mosquitto_pub -h $H -p "$P" -r -t big/one -f "$FX/mib.bin"
mosquitto_pub -h $H -p "$P" -r -t big/seventeen -f "$FX/17mb.bin"

# The recorder: everything published under par/ and the sync markers, with
# what a subscriber can see of each message.
timeout 600 mosquitto_sub -h $H -p "$P" -i parrec -V 5 -q 2 -t 'par/#' -t 'sync/#' \
    -F '%t|q%q|r%r|C=%C|R=%R|D=%D|P=%P|%x' >"$REC" 2>"$KT_TMP/recorder.err" &
kt_track $!
broker_wait_subscribed parrec || { kt_fail "the recorder did not subscribe"; kt_done; }

SYNC_N=0
# sync: publishes a marker and waits until the recorder printed it, so what
# a tool sent (and the broker logged of it) is all in before the next line.
sync_broker() {
    SYNC_N=$((SYNC_N + 1))
    mosquitto_pub -h $H -p "$P" -i parsync -t "sync/$SYNC_N" -m x
    kt_wait_grep "$REC" 100 "^sync/$SYNC_N|" || echo "# warning: sync $SYNC_N not seen"
}

# norm ROOT ID: the normalised text on stdin (the line's topic root, client
# id and the random ids become placeholders).
norm() {
    sed -e "s#$1#@T@#g" -e "s#$2#@ID@#g"
}

# broker_slice FROM ROOT ID: the broker log from byte FROM, reduced to what
# the client under test did, with random ids and message ids replaced.
broker_slice() {
    tail -c +"$(($1 + 1))" "$BROKER_LOG" | sed 's/^[0-9]*: //' |
        grep -v -e 'parsync' -e 'parrec' -e '^New connection from' -e '^Sending PUBLISH to' \
            -e '^Received PUBACK\|^Received PUBREC\|^Received PUBCOMP' -e '^No will message specified' |
        awk -v id="$3" '
            /^New client connected from/ {
                sub(/from [0-9.:]+ /, "")
                c = $5
                if (c != id && index(c, id "-") != 1) { rnd[c] = 1 }
            }
            { print }
            END { for (c in rnd) print "#random " c }' >"$KT_TMP/slice.raw"
    # Ids the tool chose itself (no -i, -I) read RANDOM; an -I prefix keeps
    # the prefix, the pid reads PID.
    _sl_sed=
    for _sl_r in $(sed -n 's/^#random //p' "$KT_TMP/slice.raw"); do
        _sl_sed="$_sl_sed -e s#$_sl_r#RANDOM#g"
    done
    # shellcheck disable=SC2086
    grep -v '^#random ' "$KT_TMP/slice.raw" | sed -e "s#$3-[0-9]*#$3-PID#g" $_sl_sed |
        sed -e 's/(m[0-9]*, /(m, /' -e 's/ m[0-9]*, / m, /' | norm "$2" "$3"
}

# run_one TOOLKIND(m|k) N KIND STDIN ARGS: runs one corpus line with one
# implementation; leaves $KT_TMP/N.K.{rc,out,rec,log}.
run_one() {
    r_impl=$1
    r_n=$2
    r_kind=$3
    r_stdin=$4
    r_args=$5
    r_root=par/$r_n/$r_impl
    r_id=par$r_n$r_impl
    r_base=$KT_TMP/$r_n.$r_impl
    if [ "$r_impl" = m ]; then r_pre=mosquitto_; else r_pre=$KT_BIN/kmqtt-; fi
    case $r_kind in
    pub) r_prog=${r_pre}pub ;;
    *) r_prog=${r_pre}sub ;;
    esac
    r_in=/dev/null
    [ "$r_stdin" != - ] && r_in=$FX/$r_stdin
    r_expanded=$(printf '%s' "$r_args" | sed -e "s#@H@#$H#g" -e "s#@P@#$P#g" \
        -e "s#@T@#$r_root#g" -e "s#@ID@#$r_id#g" -e "s#@D@#$FX#g")
    r_log0=$(wc -c <"$BROKER_LOG")
    r_rec0=$(wc -c <"$REC")
    eval "set -- $r_expanded"
    if [ "$r_kind" = live ]; then
        r_acks=$(grep -c '^[0-9]*: Sending SUBACK to' "$BROKER_LOG")
        timeout 10 "$r_prog" "$@" >"$r_base.out" 2>"$r_base.err" <"$r_in" &
        r_pid=$!
        r_tries=100
        while [ $r_tries -gt 0 ] && kill -0 $r_pid 2>/dev/null &&
            [ "$(grep -c '^[0-9]*: Sending SUBACK to' "$BROKER_LOG")" = "$r_acks" ]; do
            sleep 0.05
            r_tries=$((r_tries - 1))
        done
        # Live messages for the subscriber: plain, empty, QoS 1, retained.
        mosquitto_pub -h $H -p "$P" -i parsync -t "$r_root/live/1" -m one
        mosquitto_pub -h $H -p "$P" -i parsync -t "$r_root/live/2" -n
        mosquitto_pub -h $H -p "$P" -i parsync -t "$r_root/live/3" -q 1 -m three
        mosquitto_pub -h $H -p "$P" -i parsync -t "$r_root/skip/4" -m four
        wait $r_pid
        echo $? >"$r_base.rc"
    else
        timeout 10 "$r_prog" "$@" >"$r_base.out" 2>"$r_base.err" <"$r_in"
        echo $? >"$r_base.rc"
    fi
    sync_broker
    norm "$r_root" "$r_id" <"$r_base.out" >"$r_base.nout"
    tail -c +"$((r_rec0 + 1))" "$REC" | grep "^$r_root/" | norm "$r_root" "$r_id" >"$r_base.rec"
    broker_slice "$r_log0" "$r_root" "$r_id" >"$r_base.log"
}

# The --help texts, where each allowed difference must be named.
"$KT_BIN/kmqtt-pub" --help >"$KT_TMP/help.pub" 2>&1
"$KT_BIN/kmqtt-sub" --help >"$KT_TMP/help.sub" 2>&1

n=0
differed=0
allowed_used=0
unnamed=0
while IFS= read -r line; do
    case $line in '' | '#'*) continue ;; esac
    n=$((n + 1))
    kind=$(printf '%s' "$line" | cut -d'|' -f1 | tr -d ' ')
    stdin=$(printf '%s' "$line" | cut -d'|' -f2 | tr -d ' ')
    allow=$(printf '%s' "$line" | cut -d'|' -f3 | sed 's/^ *//;s/ *$//')
    args=$(printf '%s' "$line" | cut -d'|' -f4- | sed 's/^ *//')
    run_one m $n "$kind" "$stdin" "$args"
    run_one k $n "$kind" "$stdin" "$args"
    diffs=
    cmp -s "$KT_TMP/$n.m.rc" "$KT_TMP/$n.k.rc" || diffs="$diffs rc"
    cmp -s "$KT_TMP/$n.m.nout" "$KT_TMP/$n.k.nout" || diffs="$diffs out"
    cmp -s "$KT_TMP/$n.m.rec" "$KT_TMP/$n.k.rec" || diffs="$diffs broker"
    cmp -s "$KT_TMP/$n.m.log" "$KT_TMP/$n.k.log" || diffs="$diffs log"
    [ -n "$diffs" ] && differed=$((differed + 1))
    # allow is "-" or "ASPECTS: help words": ASPECTS (rc,out,broker,log)
    # may differ, and the kmqtt tool's --help must contain the help words.
    if [ "$kind" = pub ]; then help=$KT_TMP/help.pub; else help=$KT_TMP/help.sub; fi
    bad=
    if [ "$allow" = - ]; then
        bad=$diffs
    else
        aspects=${allow%%:*}
        words=$(printf '%s' "${allow#*:}" | sed 's/^ *//')
        if ! grep -qF -- "$words" "$help"; then
            unnamed=$((unnamed + 1))
            echo "# line $n: allowance '$words' is not named in --help"
        fi
        allowed_used=$((allowed_used + 1))
        for d in $diffs; do
            case ",$aspects," in *",$d,"*) ;; *) bad="$bad $d" ;; esac
        done
    fi
    # kt_pass prints with echo, which in dash reads backslash escapes.
    what="line $n ($kind $(printf '%s' "$args" | sed 's/\\/\\\\/g'))"
    if [ -z "$bad" ]; then
        kt_pass "$what${diffs:+ [allowed:$diffs]}"
    else
        kt_fail "$what differs in:$bad"
        for d in $bad; do
            case $d in
            rc) echo "#   exit: mosquitto $(cat "$KT_TMP/$n.m.rc"), kmqtt $(cat "$KT_TMP/$n.k.rc")" ;;
            out) f=nout ;;
            broker) f=rec ;;
            log) f=log ;;
            esac
            [ "$d" = rc ] && continue
            diff "$KT_TMP/$n.m.$f" "$KT_TMP/$n.k.$f" | head -8 | sed 's/^/#   /'
        done
        echo "#   mosquitto stderr: $(head -c 300 "$KT_TMP/$n.m.err")"
        echo "#   kmqtt stderr: $(head -c 300 "$KT_TMP/$n.k.err")"
    fi
done <"$CORPUS"

kt_expect_eq "the corpus has the lines the plan counts" "$CORPUS_LINES" "$n"
if [ "$n" -ge 100 ]; then
    kt_pass "the corpus has at least 100 command lines ($n)"
else
    kt_fail "the corpus has $n command lines, fewer than 100"
fi
kt_expect_eq "every allowed difference is named in --help" 0 "$unnamed"
echo "# $n lines, $differed differed in some aspect, $allowed_used carry an allowance"
kt_done
