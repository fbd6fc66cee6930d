#!/bin/sh
# A tool's man page against the tool itself:
#   - the page renders without a warning (the command lintian runs) and has a
#     whatis entry (lexgrog);
#   - every option the page documents is accepted by the tool: run as
#     "TOOL [-V 5] OPTION SAMPLE... --help", it must reach --help and exit 0
#     (an unknown option, a wrong argument count or a refused value fails
#     before that); options under "Not supported" must be refused, exit 1;
#   - every option the tool's --help names is documented in the page.
# How many checks it makes follows from the page (one per documented
# option), so it is a check script, not a planned test_*.sh; it fails when
# the page documents no option at all or --help names none.
# Run as: sh check_man.sh <tool> <page>     (<tool> a path, <page> its .1 file)
set -u
TOOL=$1
PAGE=$2
NAME=$(basename "$TOOL")
fails=0
checks=0
pass() { checks=$((checks + 1)); echo "ok - $1"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL - $1"; }

[ -x "$TOOL" ] || { echo "FAIL - $TOOL is not built"; exit 1; }
[ -f "$PAGE" ] || { echo "FAIL - $PAGE is missing"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmqtt-man.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# --- the page itself: lintian's manpage-has-errors-from-man command ---
LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$PAGE" \
    >/dev/null 2>"$tmp/warn"
if [ -s "$tmp/warn" ]; then
    fail "$PAGE renders with warnings: $(cat "$tmp/warn")"
else
    pass "$PAGE renders without warnings"
fi
if lexgrog "$PAGE" 2>/dev/null | grep -q "\"$NAME - "; then
    pass "$PAGE has the whatis entry '$NAME - ...'"
else
    fail "$PAGE: no whatis entry for $NAME: $(lexgrog "$PAGE" 2>&1)"
fi

# --- the options the page documents: "state<TAB>option<TAB>placeholder" ---
# A tag line follows .TP or .TQ inside OPTIONS; its options are the \fB\-x\fR
# words, its placeholder the first \fI...\fR. "Not supported" lists refusals.
awk '
    /^\.SH / { inopt = ($2 == "OPTIONS"); next }
    !inopt { next }
    /^\.SS / { refused = ($0 ~ /Not supported/); next }
    /^\.T[PQ]/ { tag = 1; next }
    tag {
        tag = 0
        line = $0
        ph = ""
        if (match(line, /\\fI[^\\]*\\fR/)) ph = substr(line, RSTART + 3, RLENGTH - 6)
        while (match(line, /\\fB\\-[^\\]*(\\-[^\\]*)*\\fR/)) {
            opt = substr(line, RSTART + 3, RLENGTH - 6)
            gsub(/\\-/, "-", opt)
            printf "%s\t%s\t%s\n", refused ? "refused" : "accepted", opt, ph
            line = substr(line, RSTART + RLENGTH)
        }
    }
' "$PAGE" >"$tmp/documented"
[ -s "$tmp/documented" ] || fail "$PAGE documents no option"

# A value each option's placeholder accepts; anything not named takes "1",
# which every numeric, name or file argument of these tools accepts at parse
# time. sample OPTION PLACEHOLDER
sample() {
    case $1 in
    --tls-version) echo tlsv1.2; return ;;
    esac
    case $2 in
    version) echo 5 ;;
    url) echo mqtt://127.0.0.1/kmqtt/man ;;
    "command identifier value") echo "connect session-expiry-interval 1" ;;
    *) echo 1 ;;
    esac
}
# pub and sub check -D against -V anywhere on the line: give them 5.0.
case $NAME in
kmqtt-pub | kmqtt-sub) prefix="-V 5" ;;
*) prefix="" ;;
esac

tab=$(printf '\t')
while IFS="$tab" read -r state opt ph; do
    args=""
    [ -n "$ph" ] && args=$(sample "$opt" "$ph")
    if [ "$state" = accepted ]; then
        # shellcheck disable=SC2086
        timeout 10 "$TOOL" $prefix "$opt" $args --help >"$tmp/out" 2>"$tmp/err" </dev/null
        rc=$?
        if [ $rc = 0 ] && grep -qi "^usage:" "$tmp/out"; then
            pass "$NAME accepts $opt${args:+ $args}"
        else
            fail "$NAME $prefix $opt $args --help: exit $rc, stderr: $(cat "$tmp/err")"
        fi
    else
        # shellcheck disable=SC2086
        timeout 10 "$TOOL" "$opt" $args >"$tmp/out" 2>"$tmp/err" </dev/null
        rc=$?
        if [ $rc = 1 ] && grep -q "not supported" "$tmp/err"; then
            pass "$NAME refuses $opt as documented"
        else
            fail "$NAME $opt $args: expected a refusal (exit 1), got exit $rc: $(cat "$tmp/err")"
        fi
    fi
done <"$tmp/documented"

# --- every option --help names is in the page ---
timeout 10 "$TOOL" --help >"$tmp/help" 2>&1 </dev/null
grep -E '^(Usage|usage):|^ +[-[]|^--|^Not supported' "$tmp/help" |
    grep -oE '(^|[][ ,({|])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[^-]*//' | sort -u >"$tmp/help_opts"
[ -s "$tmp/help_opts" ] || fail "$NAME --help names no option"
cut -f2 "$tmp/documented" | sort -u >"$tmp/page_opts"
missing=$(comm -23 "$tmp/help_opts" "$tmp/page_opts" | tr '\n' ' ')
if [ -z "$missing" ]; then
    pass "every option of $NAME --help is in $PAGE ($(wc -l <"$tmp/help_opts" | tr -d ' '))"
else
    fail "$NAME --help names options $PAGE does not document: $missing"
fi

if [ $fails -gt 0 ]; then
    echo "$fails of $checks checks failed"
    exit 1
fi
echo "all $checks checks passed"
