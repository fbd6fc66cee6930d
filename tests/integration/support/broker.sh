# Sourced by tests/integration/test_tools_*.sh (POSIX sh).
#
# Starts a private mosquitto on a free loopback port with its own config and
# log in a temp dir, kills it (and every background helper) on exit, and
# offers a few assertion helpers. Never relies on a system broker.
#
#   . "$HERE/support/broker.sh"
#   kt_init "$1"                      # $1 = <build>/bin
#   kt_plan 12                        # the checks this script makes when all pass
#   broker_start                      # sets BROKER_PORT, BROKER_LOG
#   broker_start "allow_anonymous false" "password_file $f"
#   kt_run 5 "$KT_BIN/kmqtt-pub" ...  # sets KT_RC, files $KT_OUT_FILE $KT_ERR_FILE
#   kt_expect_eq "what" "expected" "actual"
#   kt_done

KT_BIN=
KT_TMP=
KT_PIDS=
KT_FAILS=0
KT_CHECKS=0
KT_PLAN=
BROKER_PORT=
BROKER_LOG=
BROKER_PID=

kt_init() {
    KT_BIN=${1:?usage: sh test_x.sh <build>/bin}
    for _kt_t in kmqtt-pub kmqtt-sub; do
        if [ ! -x "$KT_BIN/$_kt_t" ]; then
            echo "FAIL - $KT_BIN/$_kt_t is not built"
            exit 1
        fi
    done
    MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
    if [ ! -x "$MOSQUITTO" ]; then
        echo "FAIL - mosquitto not found (apt-get install mosquitto mosquitto-clients)"
        exit 1
    fi
    KT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kmqtt-tools.XXXXXX") || exit 1
    KT_OUT_FILE=$KT_TMP/out
    KT_ERR_FILE=$KT_TMP/err
    trap kt_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# kt_plan N: the script makes N checks (kt_pass/kt_fail) when all pass.
# kt_done fails a run that made another number, and scripts/test_guard.py
# compares the "all N checks passed" line with this declaration after each
# CTest pass, so a check that silently stops running is seen.
kt_plan() {
    KT_PLAN=$1
}

kt_cleanup() {
    for _kt_p in $KT_PIDS; do
        kill "$_kt_p" 2>/dev/null
    done
    for _kt_p in $KT_PIDS; do
        wait "$_kt_p" 2>/dev/null
    done
    KT_PIDS=
    if [ -n "$KT_TMP" ]; then
        rm -rf "$KT_TMP"
    fi
}

# Remembers a background process so kt_cleanup ends it.
kt_track() {
    KT_PIDS="$KT_PIDS $1"
}

kt_random_port() {
    _kt_n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' \n')
    echo $((20000 + _kt_n % 40000))
}

# Waits up to $2 tenths of a second (default 50) for file $1 to contain $3.
kt_wait_grep() {
    _kt_f=$1
    _kt_tries=${2:-50}
    _kt_pattern=$3
    while [ "$_kt_tries" -gt 0 ]; do
        if [ -f "$_kt_f" ] && grep -q -- "$_kt_pattern" "$_kt_f"; then
            return 0
        fi
        sleep 0.1
        _kt_tries=$((_kt_tries - 1))
    done
    return 1
}

# broker_start [config line...]: with no arguments the broker allows
# anonymous clients. A port another process holds makes mosquitto exit at
# once; then other random ports are tried. "@PORT2@" in a config line is a
# second port (say, a websockets listener), chosen anew with each attempt
# like the first and left in BROKER_PORT2.
broker_start() {
    _kt_attempt=0
    while [ $_kt_attempt -lt 20 ]; do
        _kt_attempt=$((_kt_attempt + 1))
        _kt_port=$(kt_random_port)
        _kt_port2=$(kt_random_port)
        _kt_dir=$KT_TMP/broker.$_kt_port
        mkdir -p "$_kt_dir"
        {
            echo "listener $_kt_port 127.0.0.1"
            echo "persistence false"
            echo "set_tcp_nodelay true"
            echo "log_dest file $_kt_dir/mosquitto.log"
            echo "log_type all"
            # As root, mosquitto would drop to user "mosquitto", which can
            # read neither our temp dir nor the password file in it.
            echo "user $(id -un)"
            if [ $# -eq 0 ]; then
                echo "allow_anonymous true"
            else
                for _kt_line in "$@"; do
                    echo "$_kt_line" | sed "s/@PORT2@/$_kt_port2/g"
                done
            fi
        } >"$_kt_dir/mosquitto.conf"
        "$MOSQUITTO" -c "$_kt_dir/mosquitto.conf" >"$_kt_dir/stderr" 2>&1 &
        _kt_pid=$!
        _kt_tries=50
        while [ $_kt_tries -gt 0 ]; do
            if ! kill -0 "$_kt_pid" 2>/dev/null; then
                break
            fi
            if grep -q "mosquitto version .* running" "$_kt_dir/mosquitto.log" 2>/dev/null; then
                kt_track "$_kt_pid"
                BROKER_PID=$_kt_pid
                BROKER_PORT=$_kt_port
                BROKER_PORT2=$_kt_port2
                BROKER_LOG=$_kt_dir/mosquitto.log
                return 0
            fi
            sleep 0.1
            _kt_tries=$((_kt_tries - 1))
        done
        kill "$_kt_pid" 2>/dev/null
        wait "$_kt_pid" 2>/dev/null
    done
    echo "FAIL - could not start mosquitto; last attempt said:"
    cat "$_kt_dir/stderr" "$_kt_dir/mosquitto.log" 2>/dev/null
    exit 1
}

# Waits until the broker has answered client $1's SUBSCRIBE, so a message
# published from now on reaches it.
broker_wait_subscribed() {
    kt_wait_grep "$BROKER_LOG" 50 "Sending SUBACK to $1\$"
}

# kt_run SECONDS cmd...: runs cmd bounded by timeout; stdout and stderr go to
# $KT_OUT_FILE and $KT_ERR_FILE, the exit code to KT_RC.
kt_run() {
    _kt_t=$1
    shift
    timeout "$_kt_t" "$@" >"$KT_OUT_FILE" 2>"$KT_ERR_FILE" </dev/null
    KT_RC=$?
}

# kt_run_in INPUT SECONDS cmd...: kt_run with stdin from file INPUT.
kt_run_in() {
    _kt_in=$1
    _kt_t=$2
    shift 2
    timeout "$_kt_t" "$@" >"$KT_OUT_FILE" 2>"$KT_ERR_FILE" <"$_kt_in"
    KT_RC=$?
}

kt_pass() {
    KT_CHECKS=$((KT_CHECKS + 1))
    echo "ok - $1"
}

kt_fail() {
    KT_CHECKS=$((KT_CHECKS + 1))
    KT_FAILS=$((KT_FAILS + 1))
    echo "FAIL - $1"
}

kt_expect_eq() {
    if [ "$2" = "$3" ]; then
        kt_pass "$1"
    else
        kt_fail "$1: expected [$2], got [$3]"
    fi
}

# kt_expect_rc what expected: compares with KT_RC and shows stderr on failure.
kt_expect_rc() {
    if [ "$KT_RC" = "$2" ]; then
        kt_pass "$1 (exit $2)"
    else
        kt_fail "$1: expected exit $2, got $KT_RC; stderr: $(cat "$KT_ERR_FILE")"
    fi
}

# The last command's stderr is exactly one line and contains $2.
kt_expect_one_error_line() {
    _kt_lines=$(wc -l <"$KT_ERR_FILE" | tr -d ' ')
    if [ "$_kt_lines" = 1 ] && grep -q -- "$2" "$KT_ERR_FILE"; then
        kt_pass "$1: one stderr line mentions '$2'"
    else
        kt_fail "$1: wanted one stderr line with '$2', got $_kt_lines: $(cat "$KT_ERR_FILE")"
    fi
}

# The file $2 holds exactly the bytes of file $3.
kt_expect_same_file() {
    if cmp -s "$2" "$3"; then
        kt_pass "$1"
    else
        kt_fail "$1: $(od -c "$3" | head -5 | tr '\n' ' ') != $(od -c "$2" | head -5 | tr '\n' ' ')"
    fi
}

kt_now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

kt_done() {
    if [ "$KT_FAILS" -gt 0 ]; then
        echo "$KT_FAILS of $KT_CHECKS checks failed"
        exit 1
    fi
    if [ -z "$KT_PLAN" ]; then
        echo "FAIL - the script declares no plan (kt_plan N after kt_init)"
        exit 1
    fi
    if [ "$KT_CHECKS" != "$KT_PLAN" ]; then
        echo "FAIL - $KT_CHECKS checks passed, but the script plans $KT_PLAN (kt_plan)"
        exit 1
    fi
    echo "all $KT_CHECKS checks passed"
    exit 0
}
