#!/bin/sh
# The ABI of libkmqtt.so, checked against the public headers:
#   - its SONAME is libkmqtt.so.<abi> (KMQTT_ABI in CMakeLists.txt);
#   - it exports exactly the functions include/kmqtt/*.h declare (as gcc sees
#     them, -aux-info), except port_lwip.h's, which an lwIP application
#     defines; nothing internal leaks, nothing declared is missing, and it
#     exports no data;
#   - debian/libkmqtt<abi>.symbols (the Debian package's record of the ABI)
#     lists exactly the exported functions, under libkmqtt.so.<abi>.
# A failure here means a change to src/libkmqtt.map, to the headers, or a
# function declared and never built. docs/versioning.md says when <abi> must
# change. Run as: sh check_abi.sh <gcc> <libkmqtt.so> <include dir> <abi> [symbols file]
set -u
CC=$1
LIB=$2
INC=$(cd "$3" && pwd)
ABI=$4
SYMBOLS=${5:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmqtt-abi.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0

soname=$(objdump -p "$LIB" | awk '$1 == "SONAME" {print $2}')
if [ "$soname" = "libkmqtt.so.$ABI" ]; then
    echo "ok - SONAME $soname"
else
    echo "FAIL - SONAME is '$soname', KMQTT_ABI says libkmqtt.so.$ABI"
    fails=$((fails + 1))
fi

for h in "$INC"/kmqtt/*.h; do
    [ "$(basename "$h")" = port_lwip.h ] && continue
    echo "#include \"kmqtt/$(basename "$h")\""
done >"$tmp/all.c"
if ! "$CC" -std=c99 -I"$INC" -aux-info "$tmp/aux" -c "$tmp/all.c" -o "$tmp/all.o" 2>"$tmp/cc"; then
    echo "FAIL - the public headers do not compile together: $(cat "$tmp/cc")"
    exit 1
fi
sed -n "s|^/\\* $INC/kmqtt/[a-z_]*\\.h:[0-9]*:[A-Z]* \\*/ extern [^(]*[ *]\\(kmqtt_[a-z0-9_]*\\) (.*|\\1|p" \
    "$tmp/aux" | sort -u >"$tmp/declared"
nm -D --defined-only "$LIB" | awk '$2 ~ /^[TtWi]$/ {print $3}' | sort -u >"$tmp/exported"
nm -D --defined-only "$LIB" | awk '$2 !~ /^[TtWiA]$/ {print $3}' >"$tmp/data"

n=$(wc -l <"$tmp/declared" | tr -d ' ')
if [ "$n" -lt 50 ]; then
    echo "FAIL - only $n functions found in the headers: the -aux-info parse is broken"
    exit 1
fi
extra=$(comm -13 "$tmp/declared" "$tmp/exported" | tr '\n' ' ')
missing=$(comm -23 "$tmp/declared" "$tmp/exported" | tr '\n' ' ')
if [ -z "$extra" ]; then
    echo "ok - every exported function is declared in include/kmqtt/ ($n functions)"
else
    echo "FAIL - exported but not in any public header (internals leak into the ABI): $extra"
    fails=$((fails + 1))
fi
if [ -z "$missing" ]; then
    echo "ok - every function of include/kmqtt/ is exported"
else
    echo "FAIL - declared in include/kmqtt/ but not exported: $missing"
    fails=$((fails + 1))
fi
if [ -s "$tmp/data" ]; then
    echo "FAIL - exported data symbols (their size is ABI): $(tr '\n' ' ' <"$tmp/data")"
    fails=$((fails + 1))
else
    echo "ok - no data symbols exported"
fi
if [ -n "$SYMBOLS" ]; then
    if [ ! -f "$SYMBOLS" ]; then
        echo "FAIL - $SYMBOLS is missing: KMQTT_ABI $ABI needs debian/libkmqtt$ABI.symbols"
        fails=$((fails + 1))
    else
        head=$(grep -v '^#' "$SYMBOLS" | head -1)
        if [ "$head" = "libkmqtt.so.$ABI libkmqtt$ABI #MINVER#" ]; then
            echo "ok - $(basename "$SYMBOLS") is for libkmqtt.so.$ABI, package libkmqtt$ABI"
        else
            echo "FAIL - $(basename "$SYMBOLS") starts '$head'"
            fails=$((fails + 1))
        fi
        sed -n 's/^ \(kmqtt_[a-z0-9_]*\)@Base .*/\1/p' "$SYMBOLS" | sort -u >"$tmp/symbols"
        gone=$(comm -13 "$tmp/exported" "$tmp/symbols" | tr '\n' ' ')
        new=$(comm -23 "$tmp/exported" "$tmp/symbols" | tr '\n' ' ')
        if [ -z "$gone$new" ]; then
            echo "ok - $(basename "$SYMBOLS") lists exactly the exported functions"
        else
            [ -n "$gone" ] && echo "FAIL - in $(basename "$SYMBOLS") but no longer exported: $gone(an ABI break: docs/versioning.md)"
            [ -n "$new" ] && echo "FAIL - exported but not in $(basename "$SYMBOLS"): $new(add ' NAME@Base VERSION' lines)"
            fails=$((fails + 1))
        fi
    fi
fi
exit $fails
