#!/bin/sh
# Installs kmqtt into a temporary prefix and uses it the three ways a user
# does, each program built from the installed files (or, the firmware way,
# from the source tree) and run against a private mosquitto:
#   1. pkg-config:    cc consumer.c $(pkg-config --cflags --libs kmqtt), over mqtts://
#   2. find_package:  kmqtt::kmqtt (shared) over ws://, kmqtt::kmqtt_static over mqtts://
#   3. add_subdirectory(<source tree>): kmqtt::kmqtt, over mqtt://
# plus the installed files themselves (SONAME, symlinks, headers, man pages,
# tools) and the example of kmqtt(3), compiled against the installed headers.
# In a sanitizer build, KMQTT_TEST_CFLAGS holds its flags: the programs are
# built with them (the installed library is instrumented) and run under it.
# Run as: sh test_install.sh <build dir> <source dir>
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
CC=${CC:-cc}
JOBS=${JOBS:-2}
SAN=${KMQTT_TEST_CFLAGS:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmqtt-install.XXXXXX") || exit 1
P=$tmp/prefix
if ! cmake --install "$BUILD" --prefix "$P" >"$tmp/install.log" 2>&1; then
    echo "FAIL - cmake --install: $(tail -5 "$tmp/install.log")"
    rm -rf "$tmp"
    exit 1
fi

. "$SRC/tests/integration/support/broker.sh"
kt_init "$P/bin" # the installed tools must be there
kt_plan 33
rm -rf "$KT_TMP"
KT_TMP=$tmp # one temp dir, removed by kt_cleanup
KT_OUT_FILE=$tmp/out
KT_ERR_FILE=$tmp/err

# --- what was installed ---
pc=$(find "$P" -name kmqtt.pc | head -1)
lib=$(find "$P" -name 'libkmqtt.so*' | head -1)
if [ -n "$pc" ]; then
    kt_pass "installed ${pc#"$P"/}"
    LIBDIR=$(dirname "$(dirname "$pc")")
    abi=$(sed -n 's/^soversion=//p' "$pc")
else
    kt_fail "no kmqtt.pc installed"
    LIBDIR=$(dirname "${lib:-$P/lib/none}")
    abi=0
fi
soname=$(objdump -p "$LIBDIR/libkmqtt.so" 2>/dev/null | awk '$1 == "SONAME" {print $2}')
kt_expect_eq "SONAME of the installed libkmqtt.so" "libkmqtt.so.$abi" "$soname"
kt_expect_eq "libkmqtt.so is a link to the SONAME's file" \
    "$(readlink -f "$LIBDIR/libkmqtt.so.$abi")" "$(readlink -f "$LIBDIR/libkmqtt.so")"
for f in "$LIBDIR/libkmqtt.a" "$P/include/kmqtt/client.h" "$P/include/kmqtt/transport.h" \
    "$P/include/kmqtt/version.h" "$LIBDIR/cmake/kmqtt/kmqttConfig.cmake" \
    "$LIBDIR/cmake/kmqtt/kmqttConfigVersion.cmake" "$P/share/man/man3/kmqtt.3" \
    "$P/share/man/man1/kmqtt-pub.1" "$P/share/man/man1/kmqtt-sub.1" \
    "$P/share/man/man1/kmqtt-soak.1" "$P/share/man/man1/kmqtt-bench.1" "$P/bin/kmqtt-soak" \
    "$P/bin/kmqtt-bench"; do
    if [ -f "$f" ]; then kt_pass "installed ${f#"$P"/}"; else kt_fail "not installed: ${f#"$P"/}"; fi
done
for sym in kmqtt_tls_create kmqtt_ws_create kmqtt_version; do
    if nm -D --defined-only "$LIBDIR/libkmqtt.so" | grep -q " T $sym\$"; then
        kt_pass "libkmqtt.so exports $sym"
    else
        kt_fail "libkmqtt.so does not export $sym"
    fi
done
kt_expect_eq "kmqtt.pc names the install prefix" "$P" \
    "$(PKG_CONFIG_PATH=$LIBDIR/pkgconfig pkg-config --variable=prefix kmqtt)"

# --- the programs are copied out: nothing but the prefix is on their paths ---
for d in pc find_package subdirectory; do
    mkdir -p "$tmp/$d"
    cp "$HERE/consumer.c" "$tmp/$d/"
done
cp "$HERE/find_package/CMakeLists.txt" "$tmp/find_package/"
cp "$HERE/subdirectory/CMakeLists.txt" "$tmp/subdirectory/"

# --- the broker: mqtt:// and mqtts:// on one, mqtt:// and ws:// on another ---
sh "$SRC/tests/tls/make_certs.sh" "$tmp/certs" || kt_fail "make_certs.sh"
C=$tmp/certs
broker_start "allow_anonymous true" "listener @PORT2@ 127.0.0.1" "cafile $C/ca.crt" \
    "certfile $C/server.crt" "keyfile $C/server.key"
TCP=$BROKER_PORT
TLS=$BROKER_PORT2
kt_wait_grep "$BROKER_LOG" 50 "port $TLS" || kt_fail "the TLS listener did not open"
broker_start "allow_anonymous true" "listener @PORT2@ 127.0.0.1" "protocol websockets"
WS=$BROKER_PORT2
kt_wait_grep "$BROKER_LOG" 50 "port $WS" || kt_fail "the websockets listener did not open"

# run_consumer WHAT URL [CAFILE] PROGRAM: the program receives its own message.
run_consumer() {
    _what=$1
    _url=$2
    _ca=$3
    shift 3
    kt_run 30 "$@" "$_url" $_ca
    if [ "$KT_RC" = 0 ] && grep -q "received '$_url'" "$KT_OUT_FILE"; then
        kt_pass "$_what: $(cat "$KT_OUT_FILE")"
    else
        kt_fail "$_what: exit $KT_RC: $(cat "$KT_OUT_FILE" "$KT_ERR_FILE")"
    fi
}

# --- 1. pkg-config ---
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
flags=$(pkg-config --cflags --libs kmqtt)
# shellcheck disable=SC2086
kt_expect_eq "pkg-config --cflags --libs kmqtt" "-I$P/include -L$LIBDIR -lkmqtt" "$(echo $flags)"
static_libs=" $(pkg-config --static --libs kmqtt) "
case $static_libs in
*" -lkmqtt "*" -lssl "*" -lcrypto "*) kt_pass "pkg-config --static --libs kmqtt adds OpenSSL" ;;
*) kt_fail "pkg-config --static --libs kmqtt: no -lssl -lcrypto after -lkmqtt: $static_libs" ;;
esac
case $static_libs in
*" -pthread "*) kt_pass "pkg-config --static --libs kmqtt adds -pthread" ;;
*) kt_fail "pkg-config --static --libs kmqtt: no -pthread: $static_libs" ;;
esac
# shellcheck disable=SC2086
if $CC $SAN -std=c99 -Wall -Wextra -pedantic -Werror -o "$tmp/pc/consumer" "$tmp/pc/consumer.c" \
    $flags -Wl,-rpath,"$LIBDIR" 2>"$tmp/pc/cc.log"; then
    kt_pass "pkg-config: consumer.c compiles and links"
    run_consumer "pkg-config program over mqtts://" "mqtts://127.0.0.1:$TLS" "$C/ca.crt" \
        "$tmp/pc/consumer"
    if ldd "$tmp/pc/consumer" | grep -q "libkmqtt.so.$abi => $LIBDIR/"; then
        kt_pass "pkg-config program runs with the installed libkmqtt.so.$abi"
    else
        kt_fail "pkg-config program's libkmqtt: $(ldd "$tmp/pc/consumer" | grep kmqtt)"
    fi
else
    kt_fail "pkg-config: consumer.c does not build: $(cat "$tmp/pc/cc.log")"
fi
# The example of kmqtt(3), as printed, builds against the installed files.
sed -n '/^\.SH EXAMPLE/,/^\.SH/p' "$P/share/man/man3/kmqtt.3" |
    sed -n '/^\.EX/,/^\.EE/p' | sed '/^\.E[XE]/d; s/\\e/\\/g' >"$tmp/pc/example.c"
# shellcheck disable=SC2086
if [ -s "$tmp/pc/example.c" ] && $CC $SAN -std=c99 -Wall -Wextra -pedantic -Werror \
    -o "$tmp/pc/example" "$tmp/pc/example.c" $flags 2>"$tmp/pc/example.log"; then
    kt_pass "the example of kmqtt(3) builds with pkg-config"
else
    kt_fail "the example of kmqtt(3) does not build: $(cat "$tmp/pc/example.log")"
fi
unset PKG_CONFIG_PATH

# --- 2. find_package ---
major=$(sed -n 's/^#define KMQTT_VERSION_MAJOR //p' "$P/include/kmqtt/version.h")
minor=$(sed -n 's/^#define KMQTT_VERSION_MINOR //p' "$P/include/kmqtt/version.h")
if cmake -S "$tmp/find_package" -B "$tmp/find_package/build" -DCMAKE_PREFIX_PATH="$P" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$SAN" \
    -DCMAKE_EXE_LINKER_FLAGS="$SAN" -DKMQTT_EXPECT_MAJOR="$major" -DKMQTT_EXPECT_MINOR="$minor" \
    -DKMQTT_EXPECT_NEXT_MINOR=$((minor + 1)) >"$tmp/find_package/cmake.log" 2>&1 &&
    cmake --build "$tmp/find_package/build" -j"$JOBS" >>"$tmp/find_package/cmake.log" 2>&1; then
    if grep -q "from $LIBDIR/cmake/kmqtt, TLS openssl" "$tmp/find_package/cmake.log"; then
        kt_pass "find_package(kmqtt CONFIG COMPONENTS tls ws) finds the prefix's package"
    else
        kt_fail "find_package found: $(grep 'kmqtt ' "$tmp/find_package/cmake.log")"
    fi
    run_consumer "find_package, kmqtt::kmqtt over ws://" "ws://127.0.0.1:$WS" "" \
        "$tmp/find_package/build/consumer_shared"
    run_consumer "find_package, kmqtt::kmqtt_static over mqtts://" "mqtts://127.0.0.1:$TLS" \
        "$C/ca.crt" "$tmp/find_package/build/consumer_static"
    if objdump -p "$tmp/find_package/build/consumer_static" | grep -q "NEEDED.*libkmqtt"; then
        kt_fail "kmqtt::kmqtt_static program needs libkmqtt.so"
    else
        kt_pass "kmqtt::kmqtt_static program carries the library"
    fi
else
    kt_fail "find_package project does not build: $(tail -20 "$tmp/find_package/cmake.log")"
fi

# --- 3. add_subdirectory ---
if cmake -S "$tmp/subdirectory" -B "$tmp/subdirectory/build" -DKMQTT_SOURCE_DIR="$SRC" \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$SAN" -DCMAKE_EXE_LINKER_FLAGS="$SAN" \
    >"$tmp/subdirectory/cmake.log" 2>&1 &&
    cmake --build "$tmp/subdirectory/build" -j"$JOBS" >>"$tmp/subdirectory/cmake.log" 2>&1; then
    kt_pass "add_subdirectory(kmqtt) project builds"
    run_consumer "add_subdirectory, kmqtt::kmqtt over mqtt://" "mqtt://127.0.0.1:$TCP" "" \
        "$tmp/subdirectory/build/consumer_subdir"
else
    kt_fail "add_subdirectory project does not build: $(tail -20 "$tmp/subdirectory/cmake.log")"
fi

kt_done
