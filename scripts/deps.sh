#!/bin/sh
# Checks for the Debian packages kmqtt needs to build and test (and, with the
# argument bench, coverage, prove or model, or "docs", "install", "deb", for
# that target). Installs the
# missing ones when run as root with apt; otherwise prints the one command
# that does and fails.
set -eu

PACKAGES="cmake make gcc clang libclang-rt-14-dev libcmocka-dev mosquitto mosquitto-clients \
gcc-arm-none-eabi libnewlib-arm-none-eabi liblwip-dev iproute2 qemu-system-arm \
libssl-dev libmbedtls-dev openssl libxml2-utils python3 pkg-config doxygen man-db python3-kconfiglib"
# pkg-config, doxygen and man-db are for make test's package.install,
# docs.api and man.* tests (doxygen is also all make docs needs); python3-kconfiglib
# for make test's port.rtthread.kconfig and make check-rtthread.
case "${1:-}" in
# make bench also builds the peers it compares against.
bench) PACKAGES="$PACKAGES libmosquitto-dev libpaho-mqtt-dev strace" ;;
# make coverage, make prove and make model need their tools (docs/proof.md),
# make test none of them.
coverage) PACKAGES="$PACKAGES gcovr" ;;
prove) PACKAGES="$PACKAGES frama-c-base why3 cvc4" ;;
model) PACKAGES="$PACKAGES spin" ;;
docs) PACKAGES="cmake make gcc doxygen" ;;
# make install: the library with TLS over OpenSSL, and the tools.
install) PACKAGES="cmake make gcc libssl-dev" ;;
# make deb: the package build (debhelper), lintian, and what its test of the
# packages in an empty root runs (a TLS broker, a compiler, pkg-config).
# make test-brokers: the brokers of the broker suite (started privately by
# the tests, never as services; aedes comes from npm, which nodejs brings).
brokers) PACKAGES="cmake make gcc libcmocka-dev mosquitto mosquitto-clients rabbitmq-server ejabberd nodejs" ;;
deb) PACKAGES="cmake make gcc dpkg-dev debhelper lintian libssl-dev openssl mosquitto pkg-config" ;;
esac

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
