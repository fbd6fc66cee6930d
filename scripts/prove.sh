#!/bin/sh
# make prove (docs/proof.md): three checks of the codec.
#  1. WP proves the ACSL contracts of the pure helpers (src/codec/utf8.c,
#     src/codec/topic.c) and the absence of run-time errors in them (-wp-rte).
#     Goals it does not prove must be the ones tests/prove/wp_unproved.txt
#     lists with a reason; any other fails the run.
#  2. The variable byte integer round trip for all 2^28 values
#     (tests/prove/varint_roundtrip.c, enumeration instead of WP).
#  3. Eva on the decoder (tests/prove/eva_decode.c) for every input of 0 to
#     PROVE_N bytes (default 8), both versions, any maximum packet size.
#     Every alarm must be explained in tests/prove/eva_decode.alarms.md
#     (a line "- `file:line` kind" per alarm site); a new one fails the run.
# Usage: prove.sh BUILD_DIR
set -eu
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
n=${PROVE_N:-8}
mkdir -p "$out"
status=0
cpp="-I$root/include -I$root/src/codec"

# Frama-C's WP finds its provers through Why3's configuration.
[ -f "${HOME:-/root}/.why3.conf" ] || why3 config detect >/dev/null 2>&1 || true

# ------------------------------------------------------------------ 1. WP
start=$(date +%s)
frama-c -cpp-extra-args="$cpp" -machdep x86_64 \
    "$root/src/codec/utf8.c" "$root/src/codec/topic.c" \
    -wp -wp-rte -wp-model Typed+cast -wp-prover cvc4 -wp-timeout 30 -wp-par 2 \
    -wp-fct kmqtt_utf8_validate,kmqtt_varint_size,word_is_ascii_without_nul,wildcards_well_placed,has_share_prefix,kmqtt_topic_name_validate,kmqtt_topic_filter_validate,kmqtt_topic_match \
    >"$out/wp.log" 2>&1 || { echo "prove: frama-c -wp failed, see $out/wp.log" >&2; exit 1; }
end=$(date +%s)
proved=$(sed -n 's/.*Proved goals: *\([0-9]*\) \/ \([0-9]*\).*/\1/p' "$out/wp.log" | tail -n 1)
goals=$(sed -n 's/.*Proved goals: *\([0-9]*\) \/ \([0-9]*\).*/\2/p' "$out/wp.log" | tail -n 1)
echo "prove: WP: $proved of $goals goals proved ($((end - start)) s, CVC4 and Qed; $out/wp.log)"
grep -E "Goal .*: (Unknown|Timeout|Failed)" "$out/wp.log" | sed 's/.*Goal \([a-z0-9_]*\) .*/\1/' |
    sort -u >"$out/wp-unproved.txt" || true
while read -r goal; do
    if ! grep -q "^- \`$goal\`" "$root/tests/prove/wp_unproved.txt"; then
        echo "prove: WP: goal $goal not proved and not explained in tests/prove/wp_unproved.txt" >&2
        status=1
    else
        echo "prove: WP: $goal not proved (explained in tests/prove/wp_unproved.txt)"
    fi
done <"$out/wp-unproved.txt"

# ---------------------------------------------------- 2. varint round trip
cc -O2 -std=c99 -Wall -Wextra -Werror $cpp -o "$out/varint_roundtrip" \
    "$root/tests/prove/varint_roundtrip.c" "$root"/src/codec/*.c "$root"/src/common/*.c
"$out/varint_roundtrip" || status=1

# ----------------------------------------------------------------- 3. Eva
start=$(date +%s)
: >"$out/eva-alarms.txt"
len=0
while [ "$len" -le "$n" ]; do
    log="$out/eva-$len.log"
    frama-c -cpp-extra-args="$cpp -DKMQTT_PROVE_LEN=$len" -machdep x86_64 \
        "$root/tests/prove/eva_decode.c" "$root"/src/codec/*.c "$root/src/common/error.c" \
        -eva -eva-precision 6 -main main -eva-no-show-progress >"$log" 2>&1 ||
        { echo "prove: Eva failed at $len bytes, see $log" >&2; exit 1; }
    alarms=$(sed -n 's/^ *\([0-9]*\) alarms generated.*/\1/p' "$log")
    echo "prove: Eva: inputs of $len bytes: ${alarms:-0} alarms"
    # Each alarm as "file:line kind", the file relative to the tree; a
    # message Frama-C wraps over several lines is joined into one.
    awk -v root="$root/" '
        function flush() {
            if (site != "") {
                gsub(/ +/, " ", kind); sub(/^ /, "", kind); sub(/\.( assert.*)?$/, "", kind)
                print site " " kind
            }
            site = ""
        }
        /\[eva:alarm\]/ { flush(); site = $2; sub(":$", "", site); sub(root, "", site);
                          kind = $0; sub(/.*Warning: */, "", kind); next }
        site != "" && /^ / { kind = kind " " $0; next }
        { flush() }
        END { flush() }' "$log" >>"$out/eva-alarms.txt"
    len=$((len + 1))
done
end=$(date +%s)
sort -u "$out/eva-alarms.txt" -o "$out/eva-alarms.txt"
echo "prove: Eva: inputs of 0..$n bytes, both versions: $(wc -l <"$out/eva-alarms.txt") distinct alarms at $(cut -d' ' -f1 "$out/eva-alarms.txt" | sort -u | wc -l) sites ($((end - start)) s)"
while read -r site kind; do
    if ! grep -qF -- "- \`$site\` $kind" "$root/tests/prove/eva_decode.alarms.md"; then
        echo "prove: Eva: alarm at $site ($kind) is not explained in tests/prove/eva_decode.alarms.md" >&2
        status=1
    fi
done <"$out/eva-alarms.txt"

[ "$status" = 0 ] && echo "prove: done: every goal proved or explained, the round trip holds, every alarm explained"
exit "$status"
