#!/bin/sh
# kmqtt-soak: 1000 device cycles against its own mosquitto end with zero
# growth of heap, descriptors and threads, a CSV row per cycle and a chart
# that is well-formed XML; it also runs against a given broker, cleans up
# its broker on SIGINT/SIGTERM, and fails with one line on a refused port or
# a bad flag. Run as: sh test_tools_soak.sh <build>/bin
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/support/broker.sh"
kt_init "$1"
kt_plan 58
SOAK=$KT_BIN/kmqtt-soak
if [ ! -x "$SOAK" ]; then
    echo "FAIL - $SOAK is not built"
    exit 1
fi
# The soak's own broker is the same binary the harness uses.
export MOSQUITTO
SUMMARY_RE='^soak: cycles=[0-9][0-9]* heap_growth=-\{0,1\}[0-9][0-9]* fd_growth=-\{0,1\}[0-9][0-9]* thread_growth=-\{0,1\}[0-9][0-9]*$'

# The soak's private broker directories go here, so leftovers can be seen.
SOAK_TMP=$KT_TMP/soaktmp
mkdir -p "$SOAK_TMP"

last_line() {
    tail -n 1 "$KT_OUT_FILE"
}

expect_no_leftovers() {
    if [ -z "$(ls -A "$SOAK_TMP")" ]; then
        kt_pass "$1: the private broker's directory is removed"
    else
        kt_fail "$1: left behind: $(ls -A "$SOAK_TMP")"
    fi
}

# --- 1000 cycles against its own broker, timed ---
t0=$(kt_now_ms)
TMPDIR=$SOAK_TMP kt_run 120 "$SOAK" --cycles 1000 --csv "$KT_TMP/run.csv" --svg "$KT_TMP/run.svg"
t1=$(kt_now_ms)
kt_expect_rc "1000 cycles against its own broker" 0
echo "# 1000 cycles took $((t1 - t0)) ms"
if [ $((t1 - t0)) -lt 30000 ]; then
    kt_pass "1000 cycles take well under 60 s ($((t1 - t0)) ms)"
else
    kt_fail "1000 cycles took $((t1 - t0)) ms"
fi
kt_expect_eq "the last line reports zero growth" \
    "soak: cycles=1000 heap_growth=0 fd_growth=0 thread_growth=0" "$(last_line)"
kt_expect_eq "the CSV has a header and one row per cycle" 1001 \
    "$(wc -l <"$KT_TMP/run.csv" | tr -d ' ')"
kt_expect_eq "the CSV header names the columns" \
    "cycle,heap_used,heap_peak,blocks,fds,sockets,threads,cycle_us" "$(head -n 1 "$KT_TMP/run.csv")"
kt_expect_eq "the CSV's last row is cycle 1000 with no heap left" "1000,0" \
    "$(tail -n 1 "$KT_TMP/run.csv" | cut -d, -f1-2)"
if awk -F, 'NR > 1 && ($3 <= 0 || $5 <= 0 || $7 < 1 || NF != 8) { bad = 1 } END { exit bad }' \
    "$KT_TMP/run.csv"; then
    kt_pass "every CSV row has a peak, descriptors and a thread"
else
    kt_fail "a CSV row is malformed: $(awk -F, 'NR > 1 && ($3 <= 0 || NF != 8)' "$KT_TMP/run.csv" | head -1)"
fi
if ! command -v xmllint >/dev/null 2>&1; then
    kt_fail "xmllint not installed (apt-get install libxml2-utils): the SVG is not checked"
elif xmllint --noout "$KT_TMP/run.svg" 2>"$KT_TMP/xmllint.err"; then
    kt_pass "the SVG is well-formed XML"
else
    kt_fail "xmllint: $(head -3 "$KT_TMP/xmllint.err")"
fi
if head -c 4 "$KT_TMP/run.svg" | grep -q '^<svg' && [ "$(tail -n 1 "$KT_TMP/run.svg")" = "</svg>" ] &&
    grep -q '<polyline' "$KT_TMP/run.svg" && grep -q 'heap (bytes)' "$KT_TMP/run.svg" &&
    grep -q '>cycle<' "$KT_TMP/run.svg"; then
    kt_pass "the SVG is one <svg> chart with lines and axis labels"
else
    kt_fail "the SVG does not look like a chart: $(head -c 200 "$KT_TMP/run.svg")"
fi
if [ "$(grep -c "^kmqtt-soak: cycle [0-9]*00/1000: " "$KT_ERR_FILE")" = 10 ]; then
    kt_pass "a progress line every 100 cycles on stderr"
else
    kt_fail "progress lines: $(cat "$KT_ERR_FILE")"
fi
expect_no_leftovers "after a complete run"

# --- against a broker given by -h/-p ---
broker_start
kt_run 60 "$SOAK" -h 127.0.0.1 -p "$BROKER_PORT" -i soak-ext --cycles 30 --batch 5 --warmup 5
kt_expect_rc "30 cycles against a given broker" 0
kt_expect_eq "the last line counts 30 cycles without growth" \
    "soak: cycles=30 heap_growth=0 fd_growth=0 thread_growth=0" "$(last_line)"
kt_expect_eq "the given broker received every message" 150 \
    "$(grep -c "Received PUBLISH from soak-ext (d0, q1" "$BROKER_LOG")"
# The next cycle's CONNECT (same client id) may reach mosquitto before it
# has read the previous DISCONNECT; it then ends the old connection itself.
kt_expect_eq "every cycle ends with DISCONNECT (or the next cycle's takeover)" 30 \
    "$(grep -c "Received DISCONNECT from soak-ext\$\|Client soak-ext already connected" \
        "$BROKER_LOG")"
kt_expect_eq "both topics are subscribed every cycle" 30 \
    "$(grep -c "soak-ext 1 soak-ext/cfg/#" "$BROKER_LOG")"

# Other QoS, a batch wider than the in-flight window, the background thread.
kt_run 60 "$SOAK" -h 127.0.0.1 -p "$BROKER_PORT" -i soak-q2 --cycles 20 --qos 2 --batch 50
kt_expect_rc "QoS 2 with 50 messages per cycle" 0
kt_expect_eq "QoS 2: every message completes with PUBREL" 1000 \
    "$(grep -c "Received PUBREL from soak-q2" "$BROKER_LOG")"
kt_run 60 "$SOAK" -h 127.0.0.1 -p "$BROKER_PORT" -i soak-q0 --cycles 20 --qos 0
kt_expect_rc "QoS 0" 0
# At QoS 0 nothing confirms arrival: when the next cycle's CONNECT takes the
# client id over before mosquitto has read the previous connection to its
# end, mosquitto drops what it had not read yet. So only "some" is certain.
if grep -q "Received PUBLISH from soak-q0 (d0, q0" "$BROKER_LOG"; then
    kt_pass "QoS 0 messages reach the broker"
else
    kt_fail "no QoS 0 PUBLISH from soak-q0 in the broker log"
fi
kt_expect_eq "QoS 0 leaves nothing behind" \
    "soak: cycles=20 heap_growth=0 fd_growth=0 thread_growth=0" "$(last_line)"
kt_run 60 "$SOAK" -h 127.0.0.1 -p "$BROKER_PORT" -i soak-thr --cycles 50 --thread
kt_expect_rc "--thread" 0
kt_expect_eq "--thread leaves no thread behind" \
    "soak: cycles=50 heap_growth=0 fd_growth=0 thread_growth=0" "$(last_line)"

# --- failures: one line on stderr, nothing on stdout ---
kt_run 10 "$SOAK" -h 127.0.0.1 -p 1 --cycles 5
kt_expect_rc "a refused port" 2
kt_expect_one_error_line "a refused port" "cannot connect to 127.0.0.1:1"
kt_expect_eq "a failed run prints no summary" "" "$(cat "$KT_OUT_FILE")"

usage_error() {
    ue_what=$1
    ue_word=$2
    shift 2
    kt_run 5 "$SOAK" "$@"
    kt_expect_rc "$ue_what" 1
    kt_expect_one_error_line "$ue_what" "$ue_word"
}
usage_error "an unknown flag" "unknown option '--bogus'" --bogus
usage_error "--cycles 0" "--cycles wants a whole number" --cycles 0
usage_error "--cycles abc" "--cycles wants a whole number" --cycles abc
usage_error "--cycles without a value" "--cycles wants a whole number" --cycles
usage_error "--qos 3" "--qos wants a whole number from 0 to 2" --qos 3
usage_error "--batch -1" "--batch wants" --batch -1
usage_error "-p 70000" "-p wants" -p 70000
usage_error "--csv without a file" "--csv needs" --csv
usage_error "--warmup not below --cycles" "leaves no cycle" --cycles 5 --warmup 5
usage_error "an unwritable --csv" "--csv $KT_TMP/no/such/dir" --csv "$KT_TMP/no/such/dir/x.csv"
usage_error "a topic prefix with a wildcard" "not usable as a topic prefix" -i "a/+"
kt_run 5 "$SOAK" --help
kt_expect_rc "--help" 0
if grep -q "^Usage: kmqtt-soak" "$KT_OUT_FILE" && [ ! -s "$KT_ERR_FILE" ]; then
    kt_pass "--help prints usage on stdout"
else
    kt_fail "--help: [$(head -1 "$KT_OUT_FILE")]"
fi

# --- SIGINT / SIGTERM: the run stops after its cycle, the broker goes ---
for sig in INT TERM; do
    # Files of their own: a reused file may still hold the last run's lines
    # when the wait below first looks.
    KT_OUT_FILE=$KT_TMP/sig$sig.out
    KT_ERR_FILE=$KT_TMP/sig$sig.err
    TMPDIR=$SOAK_TMP "$SOAK" -d --cycles 1000000 --batch 1 >"$KT_OUT_FILE" 2>"$KT_ERR_FILE" &
    SOAKPID=$!
    kt_track $SOAKPID
    if ! kt_wait_grep "$KT_ERR_FILE" 100 "cycle 200/"; then
        kt_fail "SIG$sig: the long run made no progress: $(tail -3 "$KT_ERR_FILE")"
        continue
    fi
    BPID=$(sed -n 's/.*mosquitto (pid \([0-9]*\)).*/\1/p' "$KT_ERR_FILE" | head -n 1)
    kill -$sig $SOAKPID
    wait $SOAKPID
    KT_RC=$?
    kt_expect_rc "SIG$sig ends the run" 130
    if grep -q "$SUMMARY_RE" "$KT_OUT_FILE" && grep -q "interrupted after" "$KT_ERR_FILE"; then
        kt_pass "SIG$sig: the summary of the cycles done, and why it stopped"
    else
        kt_fail "SIG$sig: stdout [$(cat "$KT_OUT_FILE")] stderr [$(tail -2 "$KT_ERR_FILE")]"
    fi
    if [ -n "$BPID" ] && ! kill -0 "$BPID" 2>/dev/null; then
        kt_pass "SIG$sig: the private mosquitto (pid $BPID) is gone"
    else
        kt_fail "SIG$sig: mosquitto pid [$BPID] still runs"
        [ -n "$BPID" ] && kill "$BPID" 2>/dev/null
    fi
    expect_no_leftovers "SIG$sig"
done

kt_done
