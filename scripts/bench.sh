#!/bin/sh
# The benchmark: kmqtt against libmosquitto, paho.mqtt.c and a raw socket, on
# loopback, against one private mosquitto this script starts (own config in a
# temp dir, a free port, set_tcp_nodelay true) and stops on exit.
#
#   sh scripts/bench.sh            (make bench builds kmqtt first, then runs this)
#
# Builds the peers (bench/, into build/bench-peers/), runs every program in
# every mode BENCH_ROUNDS times (interleaved, so drift hits all alike), takes
# the median of each field per (impl, mode), and writes
#   build/bench/results.txt  every result line of every run
#   build/bench/report.md    the table, the targets met or missed, the machine
#   build/bench/chart.svg    cpu us/msg and msgs/s per mode, per client
# and prints the table. Only sh, awk and coreutils: no python.
#
# Environment (defaults in brackets):
#   BENCH_ROUNDS [3]        runs per (impl, mode); the median is reported
#   BENCH_PAYLOAD [64]      payload bytes, every mode
#   BENCH_WINDOW [20]       in-flight window for qos1/qos2
#   BENCH_QOS0_COUNT [200000]  BENCH_QOS1_COUNT [100000]  BENCH_QOS2_COUNT [50000]
#   BENCH_LATENCY_COUNT [5000] BENCH_CYCLES_COUNT [2000]
#   BENCH_PAHO_CYCLES [30]  paho's cycles count: each paho cycle sleeps ~200 ms
#                           inside the library (see bench/README.md); its CPU
#                           per cycle is still what is compared
#   BENCH_RUN_TIMEOUT [90]  seconds one run may take before it is killed
#   BENCH_BIN [build/bin]   where kmqtt-bench is
#   BENCH_MODES [qos0 qos1 qos2 latency cycles]  the modes to run (a subset on a busy machine)
set -eu
LC_ALL=C
export LC_ALL

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BENCH_BIN:-$ROOT/build/bin}
PEERS=$ROOT/build/bench-peers
OUT=$ROOT/build/bench
ROUNDS=${BENCH_ROUNDS:-3}
PAYLOAD=${BENCH_PAYLOAD:-64}
WINDOW=${BENCH_WINDOW:-20}
QOS0_COUNT=${BENCH_QOS0_COUNT:-200000}
QOS1_COUNT=${BENCH_QOS1_COUNT:-100000}
QOS2_COUNT=${BENCH_QOS2_COUNT:-50000}
LATENCY_COUNT=${BENCH_LATENCY_COUNT:-5000}
CYCLES_COUNT=${BENCH_CYCLES_COUNT:-2000}
PAHO_CYCLES=${BENCH_PAHO_CYCLES:-30}
RUN_TIMEOUT=${BENCH_RUN_TIMEOUT:-90}
MODES=${BENCH_MODES:-qos0 qos1 qos2 latency cycles}
IMPLS="kmqtt libmosquitto paho raw"

say() { echo "bench: $*" >&2; }
fail() {
    say "$*"
    exit 1
}

[ -x "$BIN/kmqtt-bench" ] || fail "$BIN/kmqtt-bench is not built (run: make bench)"
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
[ -x "$MOSQUITTO" ] || fail "mosquitto not found (apt-get install mosquitto)"
START_TIME=$(date +%s)

mkdir -p "$OUT"
# ---------------------------------------------------------------- the peers
if [ -f "$ROOT/bench/CMakeLists.txt" ]; then
    say "building the peers into build/bench-peers"
    cmake -S "$ROOT/bench" -B "$PEERS" -DCMAKE_BUILD_TYPE=Release >"$OUT/peers.log" 2>&1 ||
        { cat "$OUT/peers.log" >&2; fail "configuring bench/ failed"; }
    cmake --build "$PEERS" >>"$OUT/peers.log" 2>&1 ||
        { cat "$OUT/peers.log" >&2; fail "building bench/ failed"; }
    grep -i warning "$OUT/peers.log" >&2 || true
    rm -f "$OUT/peers.log"
else
    say "bench/CMakeLists.txt not found: kmqtt runs alone"
fi

# The program for an impl, or nothing if it is not built.
prog() {
    case $1 in
    kmqtt) echo "$BIN/kmqtt-bench" ;;
    libmosquitto) [ -x "$PEERS/bench_mosquitto" ] && echo "$PEERS/bench_mosquitto" ;;
    paho) [ -x "$PEERS/bench_paho" ] && echo "$PEERS/bench_paho" ;;
    raw) [ -x "$PEERS/bench_raw" ] && echo "$PEERS/bench_raw" ;;
    esac
    return 0
}

# Does impl $1 take part in mode $2? (the raw socket only does qos0 and cycles)
applies() {
    case $1/$2 in
    raw/qos0 | raw/cycles) return 0 ;;
    raw/*) return 1 ;;
    esac
    return 0
}

count_for() {
    case $2 in
    qos0) echo "$QOS0_COUNT" ;;
    qos1) echo "$QOS1_COUNT" ;;
    qos2) echo "$QOS2_COUNT" ;;
    latency) echo "$LATENCY_COUNT" ;;
    cycles) if [ "$1" = paho ]; then echo "$PAHO_CYCLES"; else echo "$CYCLES_COUNT"; fi ;;
    esac
}

# --------------------------------------------------------------- the broker
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kmqtt-bench.XXXXXX")
BROKER_PID=
cleanup() {
    if [ -n "$BROKER_PID" ]; then
        kill "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

random_port() {
    n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' \n')
    echo $((20000 + n % 40000))
}

PORT=
tries=0
while [ -z "$PORT" ] && [ $tries -lt 10 ]; do
    tries=$((tries + 1))
    p=$(random_port)
    sh "$ROOT/scripts/mosquitto_conf.sh" "$TMP" "$p" >"$TMP/mosquitto.conf"
    : >"$TMP/mosquitto.log"
    "$MOSQUITTO" -c "$TMP/mosquitto.conf" >/dev/null 2>&1 &
    BROKER_PID=$!
    w=0
    while [ $w -lt 50 ]; do
        if grep -q "running" "$TMP/mosquitto.log" 2>/dev/null; then
            PORT=$p
            break
        fi
        kill -0 "$BROKER_PID" 2>/dev/null || break
        sleep 0.1
        w=$((w + 1))
    done
    if [ -z "$PORT" ]; then
        kill "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
        BROKER_PID=
    fi
done
[ -n "$PORT" ] || fail "mosquitto did not start (see a config in scripts/mosquitto_conf.sh)"
say "mosquitto $BROKER_PID on 127.0.0.1:$PORT"

# ------------------------------------------------------------------ the runs
mkdir -p "$OUT"
RESULTS=$OUT/results.txt
: >"$RESULTS"
TO=
command -v timeout >/dev/null 2>&1 && TO="timeout $RUN_TIMEOUT"
FAILED=0
r=1
while [ $r -le "$ROUNDS" ]; do
    for mode in $MODES; do
        for impl in $IMPLS; do
            applies "$impl" "$mode" || continue
            exe=$(prog "$impl")
            [ -n "$exe" ] || continue
            n=$(count_for "$impl" "$mode")
            # shellcheck disable=SC2086
            if $TO "$exe" -h 127.0.0.1 -p "$PORT" --mode "$mode" --count "$n" \
                --payload "$PAYLOAD" --window "$WINDOW" >"$TMP/out" 2>"$TMP/err"; then
                line=$(grep '^impl=' "$TMP/out" | tail -n 1 || true)
            else
                line=
            fi
            if [ -n "$line" ]; then
                echo "$line" >>"$RESULTS"
                say "round $r/$ROUNDS $impl $mode: $(echo "$line" | tr ' ' '\n' |
                    grep -E '^(msgs_per_s|cpu_us_per_msg)=' | tr '\n' ' ')"
            else
                FAILED=$((FAILED + 1))
                say "round $r/$ROUNDS $impl $mode FAILED: $(tail -n 3 "$TMP/err" | tr '\n' ' ')"
            fi
        done
    done
    r=$((r + 1))
done
END_TIME=$(date +%s)

# ------------------------------------------------------------------ medians
# One line per (impl, mode): impl mode runs count msgs cpu allocs rss p50 p99
MEDIANS=$TMP/medians
awk '
function med(key,    n, i, j, v, a) {
    n = cnt[key]
    for (i = 1; i <= n; i++) a[i] = vals[key, i] + 0
    for (i = 2; i <= n; i++) {           # insertion sort: mawk has no asort
        v = a[i]
        for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]
        a[j + 1] = v
    }
    if (n % 2) return a[(n + 1) / 2]
    return (a[n / 2] + a[n / 2 + 1]) / 2
}
{
    delete f
    for (i = 1; i <= NF; i++) {
        k = $i; sub(/=.*/, "", k)
        v = $i; sub(/^[^=]*=/, "", v)
        f[k] = v
    }
    id = f["impl"] SUBSEP f["mode"]
    if (!(id in seen)) { seen[id] = 1; order[++nid] = id }
    runs[id]++
    split("count msgs_per_s cpu_us_per_msg allocs_per_msg peak_rss_kb p50_us p99_us", names, " ")
    for (i = 1; i <= 7; i++) {
        key = id SUBSEP names[i]
        vals[key, ++cnt[key]] = f[names[i]]
    }
}
END {
    split("count msgs_per_s cpu_us_per_msg allocs_per_msg peak_rss_kb p50_us p99_us", names, " ")
    for (o = 1; o <= nid; o++) {
        id = order[o]
        split(id, p, SUBSEP)
        printf "%s %s %d", p[1], p[2], runs[id]
        for (i = 1; i <= 7; i++) printf " %.6g", med(id SUBSEP names[i])
        printf "\n"
    }
}' "$RESULTS" >"$MEDIANS"

# ---------------------------------------------------------------- the table
TABLE=$TMP/table
awk -v modes="$MODES" -v impls="$IMPLS" '
function show(v, fmt) { return (v < 0) ? "-" : sprintf(fmt, v) }
{ row[$1, $2] = $0 }
END {
    printf "%-13s %-8s %4s %8s %12s %12s %11s %8s %9s %9s\n", "impl", "mode", "runs", "count",
        "msgs/s", "cpu_us/msg", "allocs/msg", "rss_kb", "p50_us", "p99_us"
    nm = split(modes, M, " "); ni = split(impls, I, " ")
    for (m = 1; m <= nm; m++) for (i = 1; i <= ni; i++) {
        if (!((I[i], M[m]) in row)) continue
        split(row[I[i], M[m]], x, " ")
        printf "%-13s %-8s %4d %8d %12s %12s %11s %8s %9s %9s\n", x[1], x[2], x[3], x[4],
            show(x[5], "%.0f"), show(x[6], "%.3f"), show(x[7], "%.3f"), show(x[8], "%d"),
            show(x[9], "%.1f"), show(x[10], "%.1f")
    }
}' "$MEDIANS" >"$TABLE"

# ------------------------------------------------------------- the targets
# Max allocs/msg over every kmqtt run (not the median: one allocation counts).
MAXALLOC=$(awk '/^impl=kmqtt /{ for (i = 1; i <= NF; i++) if ($i ~ /^allocs_per_msg=/) {
    v = $i; sub(/.*=/, "", v); if (v + 0 > m) m = v + 0 } } END { printf "%.6g", m + 0 }' "$RESULTS")
TARGETS=$TMP/targets
awk -v maxalloc="$MAXALLOC" '
{ msgs[$1, $2] = $5; cpu[$1, $2] = $6; rss[$1, $2] = $8; p50[$1, $2] = $9; p99[$1, $2] = $10 }
function have(a, i, m) { return ((i, m) in a) && a[i, m] > 0 }
function num(v) { return (v >= 1000) ? sprintf("%.0f", v) : sprintf("%.4g", v) }
# ratio row: what, kmqtt value, peer value, ratio, comparison, target
function ratio(what, arr, peer, mode, op, target,    k, p, r, ok) {
    if (!have(arr, "kmqtt", mode) || !have(arr, peer, mode)) {
        printf "| %s | n/a | n/a | n/a | %s %s | not measured |\n", what, op, target
        return
    }
    k = arr["kmqtt", mode]; p = arr[peer, mode]; r = k / p
    ok = (op == "<=") ? (r <= target) : (r >= target)
    printf "| %s | %s | %s | %.3f | %s %s | %s |\n", what, num(k), num(p), r, op, target, ok ? "met" : "MISSED"
}
function info(what, arr, peer, mode,    k, p) {
    if (!have(arr, "kmqtt", mode) || !have(arr, peer, mode)) {
        printf "| %s | n/a | n/a | n/a | (reported) | - |\n", what
        return
    }
    k = arr["kmqtt", mode]; p = arr[peer, mode]
    printf "| %s | %s | %s | %.3f | (reported) | - |\n", what, num(k), num(p), k / p
}
END {
    print "| target | kmqtt | peer | ratio | wanted | result |"
    print "|---|---|---|---|---|---|"
    ratio("QoS 0 cpu us/msg vs libmosquitto", cpu, "libmosquitto", "qos0", "<=", 0.3)
    ratio("QoS 1 msgs/s vs libmosquitto", msgs, "libmosquitto", "qos1", ">=", 1.0)
    ratio("QoS 1 cpu us/msg vs libmosquitto", cpu, "libmosquitto", "qos1", "<=", 0.6)
    ratio("QoS 2 msgs/s vs libmosquitto", msgs, "libmosquitto", "qos2", ">=", 1.0)
    ratio("cycles cpu us/cycle vs raw socket", cpu, "raw", "cycles", "<=", 1.1)
    printf "| allocs/msg, every kmqtt run (max) | %s | - | - | = 0 | %s |\n", maxalloc,
        (maxalloc + 0 == 0) ? "met" : "MISSED"
    if (have(rss, "kmqtt", "qos0"))
        printf "| peak RSS kB, QoS 0 burst (whole process) | %d | - | - | <= 2048 | %s |\n",
            rss["kmqtt", "qos0"], (rss["kmqtt", "qos0"] <= 2048) ? "met" : "MISSED"
    else
        print "| peak RSS kB, QoS 0 burst (whole process) | n/a | - | - | <= 2048 | not measured |"
    info("latency p50 us vs libmosquitto", p50, "libmosquitto", "latency")
    info("latency p99 us vs libmosquitto", p99, "libmosquitto", "latency")
    info("latency p50 us vs paho", p50, "paho", "latency")
    info("latency p99 us vs paho", p99, "paho", "latency")
}' "$MEDIANS" >"$TARGETS"

# ---------------------------------------------------------------- the chart
awk -v modes="$MODES" -v impls="$IMPLS" '
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
function fmt(v) {
    if (v >= 100000) return sprintf("%.0fk", v / 1000)
    if (v >= 1000) return sprintf("%.1fk", v / 1000)
    if (v >= 100) return sprintf("%.0f", v)
    if (v >= 10) return sprintf("%.1f", v)
    if (v >= 1) return sprintf("%.2f", v)
    return sprintf("%.3f", v)
}
# One panel: field column col of the medians, bars scaled per mode.
function panel(y0, title, col,    m, i, gx, mx, v, h, x) {
    printf "<text x=\"20\" y=\"%d\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", y0 + 18, esc(title)
    base = y0 + 30 + PH
    printf "<line x1=\"40\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", base, W - 20, base
    for (m = 1; m <= nm; m++) {
        gx = 50 + (m - 1) * GW
        mx = 0
        for (i = 1; i <= ni; i++) if (((I[i], M[m]) in val) && val[I[i], M[m], col] > mx) mx = val[I[i], M[m], col]
        for (i = 1; i <= ni; i++) {
            x = gx + (i - 1) * (BW + 6)
            if (!((I[i], M[m]) in val) || val[I[i], M[m], col] <= 0 || mx <= 0) {
                printf "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\" fill=\"#999\">-</text>\n", x + BW / 2, base - 4
                continue
            }
            v = val[I[i], M[m], col]
            h = v / mx * (PH - 20)
            if (h < 1) h = 1
            printf "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>%s %s: %s</title></rect>\n", x, base - h, BW, h, C[i], I[i], M[m], v
            printf "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%s</text>\n", x + BW / 2, base - h - 3, fmt(v)
        }
        printf "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%s</text>\n", gx + (ni * (BW + 6)) / 2, base + 16, M[m]
    }
}
{ val[$1, $2] = 1; val[$1, $2, "cpu"] = $6; val[$1, $2, "msgs"] = $5 }
END {
    nm = split(modes, M, " "); ni = split(impls, I, " ")
    split("#1f77b4 #ff7f0e #2ca02c #7f7f7f", C, " ")
    BW = 34; GW = ni * (BW + 6) + 40; PH = 200
    W = 60 + nm * GW; H = 2 * (PH + 80) + 60
    printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n", W, H, W, H
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    panel(10, "CPU us per message (lower is better; bars scaled within each mode)", "cpu")
    panel(10 + PH + 80, "messages per second (higher is better; latency: round trips, cycles: cycles)", "msgs")
    ly = H - 25
    for (i = 1; i <= ni; i++) {
        printf "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\"/>\n", 40 + (i - 1) * 140, ly, C[i]
        printf "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n", 60 + (i - 1) * 140, ly + 12, esc(I[i])
    }
    printf "</svg>\n"
}' "$MEDIANS" >"$OUT/chart.svg"

# --------------------------------------------------------------- the report
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
KMQTT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -n 1)" ]; then
    KMQTT_REV="$KMQTT_REV (with uncommitted changes)"
fi
{
    echo "# kmqtt benchmark"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $ROUNDS round(s), medians; $((END_TIME - START_TIME)) s of runs."
    echo "Loopback, one private mosquitto (set_tcp_nodelay true) sharing the machine with the client."
    echo "Payload $PAYLOAD B; window $WINDOW; counts: qos0 $QOS0_COUNT, qos1 $QOS1_COUNT, qos2 $QOS2_COUNT,"
    echo "latency $LATENCY_COUNT, cycles $CYCLES_COUNT (paho $PAHO_CYCLES: its library sleeps ~200 ms a cycle)."
    echo "CPU is user+sys of the client process over the timed section; allocs/msg is kmqtt's own"
    echo "accounting (the peers' allocations are not counted); RSS is the whole process's ru_maxrss."
    [ "$FAILED" -eq 0 ] || echo "**$FAILED run(s) failed** (see the stderr of scripts/bench.sh)."
    echo
    echo '```'
    cat "$TABLE"
    echo '```'
    echo
    echo "## Targets"
    echo
    cat "$TARGETS"
    echo
    echo "## Machine"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| CPUs (nproc) | $(nproc 2>/dev/null || echo unknown) |"
    echo "| CPU model | ${CPU_MODEL:-unknown} |"
    echo "| kernel | $(uname -srm) |"
    echo "| compiler | $(cc --version 2>/dev/null | head -n 1) |"
    echo "| mosquitto (broker) | $("$MOSQUITTO" -h 2>&1 | head -n 1 | sed 's/^mosquitto version //') |"
    echo "| libmosquitto | $(pkgver libmosquitto1) |"
    echo "| paho.mqtt.c | $(pkgver libpaho-mqtt1.3) |"
    echo "| kmqtt | $KMQTT_REV |"
    echo
    echo "Chart: chart.svg. Every run's line: results.txt."
} >"$OUT/report.md"

cat "$TABLE"
echo
grep -E '^\| [A-Za-z]' "$TARGETS" | grep -v '^| target' |
    awk -F'|' '{ for (i = 2; i <= 7; i++) gsub(/^ +| +$/, "", $i)
                 printf "%-42s kmqtt %-8s peer %-8s ratio %-6s wanted %-10s %s\n", $2, $3, $4, $5, $6, $7 }'
echo
say "report: build/bench/report.md, chart: build/bench/chart.svg ($((END_TIME - START_TIME)) s of runs)"
[ "$FAILED" -eq 0 ] || fail "$FAILED run(s) failed"
