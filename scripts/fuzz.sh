#!/bin/sh
# Runs every libFuzzer harness in <build>/bin/fuzz_*, N seconds in all split
# evenly between them (at least 1 s each), seeded
# from tests/fuzz/corpus/<name>/. New inputs go to <build>/corpus/<name> so the
# repository's seed corpus is never modified. Fails on any crash or sanitizer report.
set -eu
build=$1
seconds=$2
here=$(cd "$(dirname "$0")/.." && pwd)
status=0
count=$(ls "$build"/bin/fuzz_* 2>/dev/null | wc -l)
each=$((seconds / (count > 0 ? count : 1)))
[ "$each" -ge 1 ] || each=1
for harness in "$build"/bin/fuzz_*; do
    name=$(basename "$harness" | sed 's/^fuzz_//')
    work="$build/corpus/$name"
    mkdir -p "$work" "$build/artifacts"
    echo "fuzz: $name for ${each}s"
    if ! "$harness" -max_total_time="$each" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$build/artifacts/$name-" "$work" "$here/tests/fuzz/corpus/$name" \
        >"$build/$name.log" 2>&1; then
        tail -n 60 "$build/$name.log"
        echo "fuzz: $name FAILED (artifacts in $build/artifacts)" >&2
        status=1
    else
        grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$build/$name.log" || true
        echo "fuzz: $name passed"
    fi
done
exit $status
