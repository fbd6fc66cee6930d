#!/bin/sh
# The Debian packages in an empty root: installed with dpkg --root, run with
# chroot, so nothing of the build tree or the host's /usr/local is in reach.
#
# The root starts empty (merged /usr, as Debian 12) and gets exactly what the
# packages declare: the files and dpkg records of their Depends and
# Pre-Depends, recursively, copied from this machine's installed packages
# (no download, a few seconds). A dependency the packages forget to declare
# is then missing in the root, and the programs fail to load. Then:
#   - dpkg --root -i of libkmqtt0, libkmqtt-dev, kmqtt-clients (dependency
#     checks against the root's own database);
#   - every tool's --help in the root, and the loader's view of what
#     kmqtt-pub links (libkmqtt.so.0 from the package);
#   - kmqtt-sub and kmqtt-pub in the root over TLS to a private mosquitto;
#   - a program built on the host against the root's libkmqtt-dev, with
#     pkg-config and with find_package, run in the root over TLS.
# Run as root: sh deb_root_test.sh <dir with the .deb files> <source dir>
DEBS=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
CC=${CC:-cc}
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

[ "$(id -u)" = 0 ] || { echo "FAIL - deb_root_test.sh needs root (dpkg --root, chroot)"; exit 1; }

. "$SRC/tests/integration/support/broker.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmqtt-debroot.XXXXXX") || exit 1
R=$tmp/root
mkdir -p "$R/usr/bin" "$R/usr/sbin" "$R/usr/lib" "$R/usr/lib64" "$R/tmp" "$R/etc" \
    "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers" "$R/var/log"
for d in bin sbin lib lib64; do ln -s "usr/$d" "$R/$d"; done
: >"$R/var/lib/dpkg/status"
: >"$R/var/lib/dpkg/available"

# --- the declared dependencies, from the host's installed packages ---
ours=" libkmqtt0 libkmqtt-dev kmqtt-clients "
deps_of() { # the package names in a Depends-style field, first of each alternative
    echo "$1" | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/^ *//; s/ *$//' | grep -v '^$'
}
queue=""
for deb in "$DEBS"/*.deb; do
    queue="$queue $(deps_of "$(dpkg-deb -f "$deb" Depends), $(dpkg-deb -f "$deb" Pre-Depends)")"
done
closure=" "
while [ -n "$(echo "$queue" | tr -d ' ')" ]; do
    set -- $queue
    p=$1
    shift
    queue="$*"
    case "$closure$ours" in *" $p "*) continue ;; esac
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        echo "FAIL - dependency $p is not installed on this machine; cannot build the root"
        rm -rf "$tmp"
        exit 1
    fi
    closure="$closure$p "
    queue="$queue $(deps_of "$(dpkg-query -W -f='${Depends}, ${Pre-Depends}' "$p")")"
done
echo "# root gets the declared dependencies:$closure"
for p in $closure; do
    dpkg -L "$p" | while read -r f; do
        if [ -f "$f" ] || [ -L "$f" ]; then echo "${f#/}"; fi
    done >"$tmp/files.$p"
    tar -C / --no-recursion -cf - -T "$tmp/files.$p" |
        tar -C "$R" --keep-directory-symlink -xf -
    dpkg-query -s "$p" >>"$R/var/lib/dpkg/status"
    echo >>"$R/var/lib/dpkg/status"
    for ext in list md5sums shlibs symbols triggers; do
        for f in /var/lib/dpkg/info/"$p".$ext /var/lib/dpkg/info/"$p":"$(dpkg --print-architecture)".$ext; do
            [ -f "$f" ] && cp "$f" "$R/var/lib/dpkg/info/"
        done
    done
done

# --- install ---
if ! dpkg --root="$R" --log="$tmp/dpkg.log" -i "$DEBS"/libkmqtt0_*.deb \
    "$DEBS"/libkmqtt-dev_*.deb "$DEBS"/kmqtt-clients_*.deb >"$tmp/dpkg.out" 2>&1; then
    echo "FAIL - dpkg --root -i: $(cat "$tmp/dpkg.out")"
    rm -rf "$tmp"
    exit 1
fi
kt_init "$R/usr/bin" # the tools must be where kmqtt-clients put them
kt_plan 15
rm -rf "$KT_TMP"
KT_TMP=$tmp # removed by kt_cleanup
KT_OUT_FILE=$tmp/out
KT_ERR_FILE=$tmp/err
kt_pass "dpkg --root -i libkmqtt0 libkmqtt-dev kmqtt-clients"
if [ -s "$tmp/dpkg.out" ] && grep -qi "warning" "$tmp/dpkg.out"; then
    kt_fail "dpkg warned: $(grep -i warning "$tmp/dpkg.out")"
fi
state=$(dpkg --root="$R" -l libkmqtt0 libkmqtt-dev kmqtt-clients 2>/dev/null | awk '/^ii/ {print $2}' |
    sed 's/:.*//' | sort | tr '\n' ' ')
kt_expect_eq "the root's dpkg database has the three installed" \
    "kmqtt-clients libkmqtt-dev libkmqtt0 " "$state"
ldconfig -r "$R" 2>/dev/null # what libc-bin's trigger does in a full system

# --- the tools run in the root ---
for t in kmqtt-pub kmqtt-sub kmqtt-soak kmqtt-bench kmqtt-nano-bench; do
    kt_run 10 chroot "$R" "/usr/bin/$t" --help
    if [ "$KT_RC" = 0 ] && grep -qi "^usage:" "$KT_OUT_FILE"; then
        kt_pass "$t --help in the empty root"
    else
        kt_fail "$t --help in the empty root: exit $KT_RC: $(cat "$KT_ERR_FILE")"
    fi
done
kt_run 10 chroot "$R" /usr/bin/kmqtt-pub --help
if grep -q "mqtts://" "$KT_OUT_FILE" && grep -q -- "--cafile" "$KT_OUT_FILE"; then
    kt_pass "kmqtt-pub --help offers mqtts:// and --cafile"
else
    kt_fail "kmqtt-pub --help has no TLS: $(cat "$KT_OUT_FILE")"
fi
interp=$(readelf -l "$R/usr/bin/kmqtt-pub" | sed -n 's/.*program interpreter: \(.*\)]$/\1/p')
kt_run 10 chroot "$R" "$interp" --list /usr/bin/kmqtt-pub
# /lib is /usr/lib in the merged root; nothing but the package put a libkmqtt there.
if grep -Eq "libkmqtt.so.0 => (/usr)?/lib/$ma/libkmqtt.so.0 " "$KT_OUT_FILE"; then
    kt_pass "kmqtt-pub loads libkmqtt.so.0 from libkmqtt0"
else
    kt_fail "kmqtt-pub's libraries in the root: $(cat "$KT_OUT_FILE" "$KT_ERR_FILE")"
fi

# --- over TLS, from inside the root ---
sh "$SRC/tests/tls/make_certs.sh" "$tmp/certs" || kt_fail "make_certs.sh"
cp "$tmp/certs/ca.crt" "$R/tmp/ca.crt"
broker_start "allow_anonymous true" "listener @PORT2@ 127.0.0.1" "cafile $tmp/certs/ca.crt" \
    "certfile $tmp/certs/server.crt" "keyfile $tmp/certs/server.key"
TLS=$BROKER_PORT2
kt_wait_grep "$BROKER_LOG" 50 "port $TLS" || kt_fail "the TLS listener did not open"
url="mqtts://127.0.0.1:$TLS/kmqtt/deb"
chroot "$R" /usr/bin/kmqtt-sub -L "$url" --cafile /tmp/ca.crt -i deb-sub -q 1 -C 1 -W 20 \
    >"$tmp/sub.out" 2>"$tmp/sub.err" &
subpid=$!
kt_track $subpid
broker_wait_subscribed deb-sub || kt_fail "kmqtt-sub in the root did not subscribe"
kt_run 20 chroot "$R" /usr/bin/kmqtt-pub -L "$url" --cafile /tmp/ca.crt -q 1 -m "from the packages"
kt_expect_rc "kmqtt-pub in the root publishes over TLS" 0
wait $subpid
kt_expect_eq "kmqtt-sub in the root received it over TLS" "from the packages" "$(cat "$tmp/sub.out")"

# --- libkmqtt-dev: a program built against the root's files, run in it ---
export PKG_CONFIG_SYSROOT_DIR="$R"
export PKG_CONFIG_LIBDIR="$R/usr/lib/$ma/pkgconfig:$R/usr/share/pkgconfig"
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
flags=$(pkg-config --cflags --libs kmqtt)
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR PKG_CONFIG_ALLOW_SYSTEM_CFLAGS PKG_CONFIG_ALLOW_SYSTEM_LIBS
# shellcheck disable=SC2086
if $CC -std=c99 -Wall -Wextra -pedantic -Werror -o "$R/tmp/consumer_pc" \
    "$SRC/tests/install/consumer.c" $flags 2>"$tmp/cc.log"; then
    kt_pass "consumer.c builds against libkmqtt-dev (pkg-config: $flags)"
    kt_run 30 chroot "$R" /tmp/consumer_pc "mqtts://127.0.0.1:$TLS" /tmp/ca.crt
    kt_expect_rc "the pkg-config program runs in the root over TLS" 0
else
    kt_fail "consumer.c against libkmqtt-dev: $(cat "$tmp/cc.log")"
fi
mkdir -p "$tmp/fp"
cp "$SRC/tests/install/consumer.c" "$SRC/tests/install/find_package/CMakeLists.txt" "$tmp/fp/"
major=$(sed -n 's/^#define KMQTT_VERSION_MAJOR //p' "$R/usr/include/kmqtt/version.h")
minor=$(sed -n 's/^#define KMQTT_VERSION_MINOR //p' "$R/usr/include/kmqtt/version.h")
if cmake -S "$tmp/fp" -B "$tmp/fp/build" -DCMAKE_PREFIX_PATH="$R/usr" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_C_COMPILER="$CC" -DKMQTT_EXPECT_MAJOR="$major" \
    -DKMQTT_EXPECT_MINOR="$minor" -DKMQTT_EXPECT_NEXT_MINOR=$((minor + 1)) \
    >"$tmp/fp.log" 2>&1 && cmake --build "$tmp/fp/build" >>"$tmp/fp.log" 2>&1 &&
    grep -q "from $R/usr/lib/$ma/cmake/kmqtt" "$tmp/fp.log"; then
    kt_pass "find_package(kmqtt) builds against libkmqtt-dev"
    cp "$tmp/fp/build/consumer_shared" "$R/tmp/"
    kt_run 30 chroot "$R" /tmp/consumer_shared "mqtts://127.0.0.1:$TLS" /tmp/ca.crt
    kt_expect_rc "the find_package program runs in the root over TLS" 0
else
    kt_fail "find_package against libkmqtt-dev: $(tail -20 "$tmp/fp.log")"
fi

kt_done
