#!/bin/sh
# The wake benchmark (issue #18): what one wake cycle of a device costs over a
# slow link. Each client does, per cycle: TCP connect, CONNECT/CONNACK, one
# QoS 1 PUBLISH and its PUBACK, DISCONNECT, close; through bench/delay_proxy,
# which delays each direction by BENCH_WAKE_DELAY_MS (default 50 ms each way,
# a 100 ms round trip; the TCP handshake is modelled, see delay_proxy.c),
# against one private mosquitto with a plain and a TLS listener (certificates
# made here with the openssl CLI). Loopback only.
#
#   sh scripts/bench_wake.sh     (make bench MODE=wake, or make bench-wake)
#
# Per (client, transport), medians:
#   wall     one cycle's wall time (median of the cycles), and in round trips
#   up/down  TCP payload bytes the client sent / received in one cycle, counted
#            by the proxy (for TLS: every record byte; median of the cycles)
#   cpu      client CPU (user+sys, every thread) of one cycle, median (the mean
#            over all cycles is in wake-results.txt as cpu_mean_us)
#   syscalls per cycle: strace -f -c over two runs of 1 and 1+K cycles,
#            (total(1+K) - total(1)) / K, so start-up and exit do not count;
#            getrusage and clock_gettime are left out (the benchmark's own
#            per-cycle CPU clock; the clients' clock reads go through the vDSO)
# Writes build/bench/wake-results.txt (every line), build/bench/wake.md (the
# table), build/bench/wake.svg (the chart), and the table as the "Wake cycle"
# section of build/bench/report.md. Only sh, awk, coreutils, openssl, strace.
#
# Environment (defaults in brackets):
#   BENCH_WAKE_DELAY_MS [50]   one-way delay of the proxy
#   BENCH_WAKE_CYCLES [15]     cycles per client in the timed run
#   BENCH_WAKE_SYSCALL_K [4]   extra cycles of the second strace run
#   BENCH_WAKE_PAYLOAD [64]    payload bytes of the PUBLISH
#   BENCH_BIN [build/bin]      where kmqtt-bench and kmqtt-nano-bench are
set -eu
LC_ALL=C
export LC_ALL

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BENCH_BIN:-$ROOT/build/bin}
PEERS=$ROOT/build/bench-peers
OUT=$ROOT/build/bench
DELAY=${BENCH_WAKE_DELAY_MS:-50}
CYCLES=${BENCH_WAKE_CYCLES:-15}
K=${BENCH_WAKE_SYSCALL_K:-4}
PAYLOAD=${BENCH_WAKE_PAYLOAD:-64}

say() { echo "bench-wake: $*" >&2; }
fail() {
    say "$*"
    exit 1
}

[ -x "$BIN/kmqtt-bench" ] || fail "$BIN/kmqtt-bench is not built (run: make bench-wake)"
[ -x "$BIN/kmqtt-nano-bench" ] || fail "$BIN/kmqtt-nano-bench is not built"
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
[ -x "$MOSQUITTO" ] || fail "mosquitto not found (apt-get install mosquitto)"
command -v openssl >/dev/null || fail "openssl not found (apt-get install openssl)"
STRACE=$(command -v strace || true)
[ -n "$STRACE" ] || say "strace not found: no syscall counts (apt-get install strace)"

mkdir -p "$OUT"
say "building the peers and the proxy into build/bench-peers"
cmake -S "$ROOT/bench" -B "$PEERS" -DCMAKE_BUILD_TYPE=Release >"$OUT/peers.log" 2>&1 ||
    { cat "$OUT/peers.log" >&2; fail "configuring bench/ failed"; }
cmake --build "$PEERS" >>"$OUT/peers.log" 2>&1 ||
    { cat "$OUT/peers.log" >&2; fail "building bench/ failed"; }
rm -f "$OUT/peers.log"
[ -x "$PEERS/delay_proxy" ] || fail "delay_proxy was not built"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kmqtt-wake.XXXXXX")
PIDS=
cleanup() {
    for p in $PIDS; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ certificates
# A CA and a server certificate for 127.0.0.1 (RSA 2048, what most brokers
# still present), made with the openssl CLI for this run only.
(
    cd "$TMP"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
        -subj "/CN=kmqtt wake bench CA" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
        -subj "/CN=127.0.0.1" >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
        -out server.pem -days 2 -extfile san.ext >/dev/null 2>&1
) || fail "openssl could not make the certificates"

# --------------------------------------------------------------- the broker
random_port() {
    n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' \n')
    echo $((20000 + n % 40000))
}
PORT=
TLS_PORT=
tries=0
while [ -z "$PORT" ] && [ $tries -lt 10 ]; do
    tries=$((tries + 1))
    p=$(random_port)
    tp=$((p + 1))
    {
        sh "$ROOT/scripts/mosquitto_conf.sh" "$TMP" "$p"
        echo "listener $tp 127.0.0.1"
        echo "cafile $TMP/ca.pem"
        echo "certfile $TMP/server.pem"
        echo "keyfile $TMP/server.key"
    } >"$TMP/mosquitto.conf"
    : >"$TMP/mosquitto.log"
    "$MOSQUITTO" -c "$TMP/mosquitto.conf" >/dev/null 2>&1 &
    bp=$!
    w=0
    while [ $w -lt 50 ]; do
        if grep -q "running" "$TMP/mosquitto.log" 2>/dev/null; then
            PORT=$p
            TLS_PORT=$tp
            break
        fi
        kill -0 "$bp" 2>/dev/null || break
        sleep 0.1
        w=$((w + 1))
    done
    if [ -n "$PORT" ]; then
        PIDS="$PIDS $bp"
    else
        kill "$bp" 2>/dev/null || true
        wait "$bp" 2>/dev/null || true
    fi
done
[ -n "$PORT" ] || fail "mosquitto did not start"

# A proxy in front of each listener; its log has one line per connection.
# Called in $(...), a subshell: its pid goes through a file to PIDS (else
# cleanup never saw it and every run left both proxies running).
start_proxy() { # upstream-port name
    "$PEERS/delay_proxy" -p "$1" -d "$DELAY" --log "$TMP/$2.conns" >"$TMP/$2.port" 2>&1 &
    echo $! >"$TMP/$2.pid"
    w=0
    while ! grep -q '^port=' "$TMP/$2.port" 2>/dev/null; do
        [ $w -lt 50 ] || fail "delay_proxy did not start"
        sleep 0.1
        w=$((w + 1))
    done
    sed -n 's/^port=//p' "$TMP/$2.port"
}
PLAIN_PROXY=$(start_proxy "$PORT" plain)
PIDS="$PIDS $(cat "$TMP/plain.pid")"
TLS_PROXY=$(start_proxy "$TLS_PORT" tls)
PIDS="$PIDS $(cat "$TMP/tls.pid")"
say "mosquitto 127.0.0.1:$PORT (TLS :$TLS_PORT); proxies :$PLAIN_PROXY, :$TLS_PROXY, ${DELAY} ms each way"

# --------------------------------------------------------------- the cases
# name transport command... (the command gets -h, -p and the count appended
# by run_case; kmqtt-nano-bench takes -n, the others --count)
CA=$TMP/ca.pem
CASES=$TMP/cases
cat >"$CASES" <<EOF
kmqtt plain kmqtt-bench --mode cycles --payload $PAYLOAD
kmqtt-nano plain kmqtt-nano-bench --mode cycles -s $PAYLOAD
libmosquitto plain bench_mosquitto --mode cycles --payload $PAYLOAD
paho plain bench_paho --mode cycles --payload $PAYLOAD
raw-wait-connack plain bench_raw --mode cycles --wait-connack --payload $PAYLOAD
raw-pipelined plain bench_raw --mode cycles --payload $PAYLOAD
kmqtt tls-full kmqtt-bench --mode cycles --payload $PAYLOAD --cafile $CA
kmqtt-nano tls-full kmqtt-nano-bench --mode cycles -s $PAYLOAD --cafile $CA
libmosquitto tls-full bench_mosquitto --mode cycles --payload $PAYLOAD --cafile $CA
paho tls-full bench_paho_tls --mode cycles --payload $PAYLOAD --cafile $CA
raw-wait-connack tls-full bench_raw --mode cycles --wait-connack --payload $PAYLOAD --cafile $CA
kmqtt tls-resumed kmqtt-bench --mode cycles --payload $PAYLOAD --cafile $CA --tls-resume
kmqtt-nano tls-resumed kmqtt-nano-bench --mode cycles -s $PAYLOAD --cafile $CA --tls-resume
raw-wait-connack tls-resumed bench_raw --mode cycles --wait-connack --payload $PAYLOAD --cafile $CA --tls-resume
kmqtt tls12-full kmqtt-bench --mode cycles --payload $PAYLOAD --cafile $CA
kmqtt tls12-resumed kmqtt-bench --mode cycles --payload $PAYLOAD --cafile $CA --tls-resume
EOF

exe_of() {
    case $1 in
    kmqtt-bench | kmqtt-nano-bench) echo "$BIN/$1" ;;
    *) echo "$PEERS/$1" ;;
    esac
}

# The proxy logs a connection once both directions ended (a delay later).
settle() { sleep "$(awk -v d="$DELAY" 'BEGIN { printf "%.3f", 3 * d / 1000 + 0.2 }')"; }

# Runs one case; prints its result line (fields name=value).
RESULTS=$OUT/wake-results.txt
: >"$RESULTS"
FAILED=0
run_case() { # name transport prog args...
    name=$1
    tr=$2
    prog=$3
    shift 3
    exe=$(exe_of "$prog")
    if [ ! -x "$exe" ]; then
        say "$name $tr: $prog not built, skipped"
        return 0
    fi
    case $tr in plain) pp=$PLAIN_PROXY log=$TMP/plain.conns ;; *) pp=$TLS_PROXY log=$TMP/tls.conns ;; esac
    # tls12-*: the client's OpenSSL capped at TLS 1.2 (what TLS 1.3 saves)
    case $tr in
    tls12-*) OPENSSL_CONF=$ROOT/tests/tls/openssl_tls12.cnf && export OPENSSL_CONF ;;
    *) unset OPENSSL_CONF ;;
    esac
    case $prog in kmqtt-nano-bench) cflag=-n ;; *) cflag=--count ;; esac
    settle # the last connection of the case before is logged by now
    before=$(wc -l <"$log")
    if ! timeout 120 "$exe" -h 127.0.0.1 -p "$pp" "$@" "$cflag" "$CYCLES" >"$TMP/out" 2>"$TMP/err"; then
        say "$name $tr FAILED: $(tail -n 3 "$TMP/err" | tr '\n' ' ')"
        FAILED=$((FAILED + 1))
        return 0
    fi
    settle
    # The last CYCLES connections: the timed cycles (a --tls-resume run makes
    # its session in one cycle before them).
    bytes=$(tail -n +"$((before + 1))" "$log" | tail -n "$CYCLES" | awk '
        function med(a, n,    i, j, v) {
            for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
            return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        { split($2, u, "="); split($3, d, "="); up[++n] = u[2]; dn[n] = d[2] }
        END { if (n) printf "conns=%d up=%d down=%d", n, med(up, n), med(dn, n); else printf "conns=0 up=-1 down=-1" }')
    line=$(grep '^impl=' "$TMP/out" | tail -n 1)
    wall=$(echo "$line" | tr ' ' '\n' | sed -n 's/^p50_us=//p')
    cpu=$(echo "$line" | tr ' ' '\n' | sed -n 's/^cycle_cpu_p50_us=//p')
    cpumean=$(echo "$line" | tr ' ' '\n' | sed -n 's/^cpu_us_per_\(msg\|op\)=//p')
    sc=-1
    if [ -n "$STRACE" ]; then
        s1=$(syscalls "$exe" "$pp" "$cflag" 1 "$@")
        s2=$(syscalls "$exe" "$pp" "$cflag" $((1 + K)) "$@")
        if [ "$s1" -ge 0 ] && [ "$s2" -ge 0 ]; then
            sc=$(awk -v a="$s1" -v b="$s2" -v k="$K" 'BEGIN { printf "%.1f", (b - a) / k }')
        fi
    fi
    # kmqtt's programs say what TLS did (version, cycles resumed); the peers do not.
    tlsv=$(echo "$line" | tr ' ' '\n' | sed -n 's/^tls=//p')
    resumed=$(echo "$line" | tr ' ' '\n' | sed -n 's/^tls_resumed=//p')
    sbytes=$(echo "$line" | tr ' ' '\n' | sed -n 's/^tls_session_bytes=//p')
    out="client=$name transport=$tr cycles=$CYCLES wall_us=$wall rtt_us=$((2 * DELAY * 1000)) cpu_us=$cpu cpu_mean_us=$cpumean $bytes syscalls=$sc tls=${tlsv:--} tls_resumed=${resumed:--} tls_session_bytes=${sbytes:--}"
    echo "$out" >>"$RESULTS"
    say "$out"
}

# Total syscalls of one run of $4 cycles under strace -f -c (-1 on failure).
syscalls() { # exe port count-flag count args...
    e=$1
    p=$2
    f=$3
    n=$4
    shift 4
    if timeout 120 "$STRACE" -f -c -o "$TMP/strace" "$e" -h 127.0.0.1 -p "$p" "$@" "$f" "$n" \
        >/dev/null 2>"$TMP/strace.err"; then
        # Not counted: the benchmark's own per-cycle CPU clock (getrusage, and
        # clock_gettime of CLOCK_PROCESS_CPUTIME_ID, which has no vDSO path;
        # the clients' monotonic clock reads never reach the kernel).
        awk '$4 ~ /^[0-9]+$/ && $NF == "total" { tot = $4; f = 1 }
             $4 ~ /^[0-9]+$/ && ($NF == "getrusage" || $NF == "clock_gettime") { ex += $4 }
             END { print f ? tot - ex : -1 }' "$TMP/strace"
    else
        echo -1
    fi
}

START_TIME=$(date +%s)
while read -r name tr prog args; do
    # shellcheck disable=SC2086
    run_case "$name" "$tr" "$prog" $args
done <"$CASES"
END_TIME=$(date +%s)

# ------------------------------------------------------------- the table
TABLE=$TMP/table
awk '
{
    delete f
    for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v }
    rt = f["wall_us"] / f["rtt_us"]
    tl = (f["tls"] == "-" || f["tls"] == "") ? "-" : f["tls"] " (" f["tls_resumed"] "/" f["cycles"] " resumed)"
    if (tl != "-" && f["tls_session_bytes"] + 0 > 0) tl = tl ", session " f["tls_session_bytes"] " B"
    rows[++n] = sprintf("| %s | %s | %.1f | %.2f | %s | %s | %.0f | %s | %s |", f["client"], f["transport"],
        f["wall_us"] / 1000, rt, f["up"], f["down"], f["cpu_us"], f["syscalls"], tl)
}
END {
    print "| client | transport | wall ms (median) | round trips | bytes up | bytes down | CPU us/cycle (median) | syscalls/cycle | TLS (kmqtt stats) |"
    print "|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= n; i++) print rows[i]
}' "$RESULTS" >"$TABLE"

# ------------------------------------------------------------- the chart
# Three panels: round trips, bytes (up + down) and CPU per cycle, one bar per
# (client, transport).
awk '
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
function panel(y0, title, arr, mx, fmt,    i, h, x, base) {
    printf "<text x=\"20\" y=\"%d\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", y0 + 18, esc(title)
    base = y0 + 30 + PH
    printf "<line x1=\"40\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", base, W - 20, base
    for (i = 1; i <= n; i++) {
        x = 50 + (i - 1) * (BW + 14)
        if (arr[i] <= 0 || mx <= 0) continue
        h = arr[i] / mx * (PH - 20)
        printf "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>%s %s</title></rect>\n", x, base - h, BW, h, col[tr[i]], esc(cl[i]), tr[i]
        printf "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%s</text>\n", x + BW / 2, base - h - 3, sprintf(fmt, arr[i])
        printf "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\" transform=\"rotate(-40 %d %d)\">%s</text>\n", x + BW / 2, base + 12, x + BW / 2, base + 12, esc(cl[i])
    }
}
{
    delete f
    for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v }
    n++; cl[n] = f["client"]; tr[n] = f["transport"]
    rt[n] = f["wall_us"] / f["rtt_us"]; by[n] = f["up"] + f["down"]; cp[n] = f["cpu_us"]
    if (rt[n] > mrt) mrt = rt[n]; if (by[n] > mby) mby = by[n]; if (cp[n] > mcp) mcp = cp[n]
}
END {
    col["plain"] = "#1f77b4"; col["tls-full"] = "#ff7f0e"; col["tls-resumed"] = "#2ca02c"
    col["tls12-full"] = "#d62728"; col["tls12-resumed"] = "#9467bd"
    BW = 30; PH = 200
    W = 80 + n * (BW + 14); H = 3 * (PH + 130) + 40
    printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n", W, H, W, H
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    panel(10, "wake cycle: round trips (median wall time / RTT; lower is better)", rt, mrt, "%.2f")
    panel(10 + PH + 130, "wake cycle: bytes on the wire, up + down (lower is better)", by, mby, "%d")
    panel(10 + 2 * (PH + 130), "wake cycle: client CPU us, median cycle (lower is better)", cp, mcp, "%.0f")
    ly = H - 25
    split("plain tls-full tls-resumed tls12-full tls12-resumed", T, " ")
    for (i = 1; i <= 5; i++) {
        printf "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\"/>\n", 40 + (i - 1) * 125, ly, col[T[i]]
        printf "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n", 60 + (i - 1) * 125, ly + 12, T[i]
    }
    printf "</svg>\n"
}' "$RESULTS" >"$OUT/wake.svg"

# ------------------------------------------------------------- the report
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
KMQTT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -n 1)" ] ||
    KMQTT_REV="$KMQTT_REV (with uncommitted changes)"
{
    echo "## Wake cycle"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), scripts/bench_wake.sh, $((END_TIME - START_TIME)) s of runs."
    echo "Through bench/delay_proxy: ${DELAY} ms each way (RTT $((2 * DELAY)) ms; TCP handshake modelled)."
    echo "Cycle: TCP connect, CONNECT/CONNACK, one QoS 1 PUBLISH ($PAYLOAD B) + PUBACK, DISCONNECT, close;"
    echo "$CYCLES cycles per client. Wall: median cycle; bytes: TCP payload per connection (TLS: records),"
    echo "median; CPU: user+sys of the client process (every thread) in one cycle, median; syscalls:"
    echo "strace -f -c, (runs of 1+$K minus 1 cycle) / $K. mosquitto $("$MOSQUITTO" -h 2>&1 | head -n 1 |
        sed 's/^mosquitto version //'), libmosquitto $(pkgver libmosquitto1), paho $(pkgver libpaho-mqtt1.3),"
    echo "$(openssl version), kmqtt $KMQTT_REV. RSA 2048 server certificate, one-level chain."
    echo "tls-*: each side's highest version (TLS 1.3 here); tls12-*: the client's OpenSSL capped at"
    echo "TLS 1.2 (OPENSSL_CONF=tests/tls/openssl_tls12.cnf). *-resumed: the session of the cycle"
    echo "before (kmqtt: kept in a kmqtt_tls_session_t buffer), made by one untimed cycle first."
    echo "raw-wait-connack sends PUBLISH after CONNACK; raw-pipelined sends CONNECT+PUBLISH at once (the floor)."
    [ "$FAILED" -eq 0 ] || echo "**$FAILED case(s) failed** (see the stderr of scripts/bench_wake.sh)."
    echo
    cat "$TABLE"
    echo
    echo "Chart: wake.svg. Every line: wake-results.txt."
} >"$OUT/wake.md"
# The same section at the end of report.md (replacing an earlier one).
if [ -f "$OUT/report.md" ]; then
    awk '/^## Wake cycle/ { exit } { print }' "$OUT/report.md" >"$TMP/report"
else
    printf '# kmqtt benchmark\n\n' >"$TMP/report"
fi
cat "$TMP/report" "$OUT/wake.md" >"$OUT/report.md"

cat "$TABLE"
say "report: build/bench/wake.md (and report.md), chart: build/bench/wake.svg"
[ "$FAILED" -eq 0 ] || fail "$FAILED case(s) failed"
