#!/bin/sh
# Checks for the Debian packages kmqtt needs to build and test (and, with the
# argument "bench", to benchmark). Installs the
# missing ones when run as root with apt; otherwise prints the one command
# that does and fails.
set -eu

PACKAGES="cmake make gcc clang libclang-rt-14-dev libcmocka-dev mosquitto mosquitto-clients \
gcc-arm-none-eabi libnewlib-arm-none-eabi liblwip-dev iproute2 qemu-system-arm \
libssl-dev libmbedtls-dev openssl libxml2-utils python3"
# make bench also builds the peers it compares against.
if [ "${1:-}" = bench ]; then
    PACKAGES="$PACKAGES libmosquitto-dev libpaho-mqtt-dev"
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: not a Debian system; install these equivalents yourself: $PACKAGES" >&2
    exit 0
fi

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
    # The Debian package starts a system mosquitto on port 1883; tests start their own.
    exit 0
fi

echo "deps: missing packages:$missing" >&2
echo "deps: run: sudo apt-get install -y$missing" >&2
exit 1
