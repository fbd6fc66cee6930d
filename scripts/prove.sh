#!/bin/sh
# make prove (docs/proof.md): three checks of the codec, Eva also on the engine.
#  1. WP proves the ACSL contracts of the pure helpers (src/codec/utf8.c,
#     src/codec/topic.c) and the absence of run-time errors in them (-wp-rte).
#     Goals it does not prove must be the ones tests/prove/wp_unproved.txt
#     lists with a reason; any other fails the run.
#  2. The variable byte integer round trip for all 2^28 values
#     (tests/prove/varint_roundtrip.c, enumeration instead of WP).
#  3. Eva on the decoder (tests/prove/eva_decode.c) for every input of 0 to
#     PROVE_N bytes (default 8), both versions, any maximum packet size.
#     And on the engine's input path (tests/prove/eva_session.c) for every
#     input of 0 to PROVE_SESSION_N bytes (default 4). Every alarm must be
#     explained in tests/prove/<harness>.alarms.md (a line
#     "- `file` `function` kind" each); a new one fails the run.
# Usage: prove.sh BUILD_DIR
set -eu
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
n=${PROVE_N:-8}
sn=${PROVE_SESSION_N:-4}
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
# eva NAME HARNESS N PRECISION EXTRA SOURCES...: one run per input length
# 0..N; the alarms (properties Eva left unknown or found invalid, from
# Frama-C's report) keyed "file function kind", so an edit that moves
# lines does not move them (a static inline copied per caller, rd_u8_4, is
# its function, rd_u8). Each must be explained in tests/prove/NAME.alarms.md
# as a line "- `file` `function` kind".
eva() {
    name=$1 harness=$2 max=$3 precision=$4 extra=$5
    shift 5
    start=$(date +%s)
    : >"$out/$name-alarms.txt"
    len=0
    while [ "$len" -le "$max" ]; do
        log="$out/$name-$len.log"
        # shellcheck disable=SC2086 # $extra is a list of options
        frama-c -cpp-extra-args="$cpp -DKMQTT_PROVE_LEN=$len" -machdep x86_64 \
            "$root/tests/prove/$harness" "$@" \
            -eva -eva-precision "$precision" $extra -main main -eva-no-show-progress \
            -then -report-csv "$out/$name-$len.csv" >"$log" 2>&1 ||
            { echo "prove: Eva ($name) failed at $len bytes, see $log" >&2; exit 1; }
        alarms=$(sed -n 's/^ *\([0-9]*\) alarms generated.*/\1/p' "$log")
        echo "prove: Eva ($name): inputs of $len bytes: ${alarms:-0} alarms"
        awk -F '\t' 'NR > 1 && $6 ~ /^(Unknown|Invalid)/ && $6 !~ /dead/ {
                f = $4; sub(/_[0-9]+$/, "", f); print $2 " " f " " $5 }' \
            "$out/$name-$len.csv" >>"$out/$name-alarms.txt"
        len=$((len + 1))
    done
    end=$(date +%s)
    sort -u "$out/$name-alarms.txt" -o "$out/$name-alarms.txt"
    echo "prove: Eva ($name): inputs of 0..$max bytes, both versions: $(wc -l <"$out/$name-alarms.txt") distinct alarms in $(cut -d' ' -f1,2 "$out/$name-alarms.txt" | sort -u | wc -l) functions ($((end - start)) s)"
    while read -r file fn kind; do
        if ! grep -qF -- "- \`$file\` \`$fn\` $kind" "$root/tests/prove/$name.alarms.md"; then
            echo "prove: Eva ($name): alarm in $file $fn ($kind) is not explained in tests/prove/$name.alarms.md" >&2
            status=1
        fi
    done <"$out/$name-alarms.txt"
}

# The decoder (tests/prove/eva_decode.c): every input of 0..PROVE_N bytes.
eva eva_decode eva_decode.c "$n" 6 "" "$root"/src/codec/*.c "$root/src/common/error.c"
# The engine's input path (tests/prove/eva_session.c): every input of
# 0..PROVE_SESSION_N bytes, in one piece or two, from CONNECTING and from
# CONNECTED. Precision 1 with the returns split by value: higher precisions
# take many times longer here for the same alarms (docs/proof.md).
eva eva_session eva_session.c "$sn" 1 "-eva-split-return full" \
    "$root"/src/session/*.c "$root"/src/codec/*.c "$root/src/common/error.c"

[ "$status" = 0 ] && echo "prove: done: every goal proved or explained, the round trip holds, every alarm explained"
exit "$status"
