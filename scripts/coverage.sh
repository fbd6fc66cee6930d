#!/bin/sh
# make coverage: reads the .gcda files a KMQTT_COVERAGE=ON build left after
# its CTest run and reports line and branch coverage per folder of src/.
# Usage: coverage.sh BUILD_DIR
# Writes BUILD_DIR/html/index.html (every file, line by line),
# BUILD_DIR/summary.json (gcovr's per-file figures) and BUILD_DIR/summary.md
# (the per-folder table it prints).
set -eu
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/html"
# Only the library's sources (not the tests, tools or examples), in the
# default configuration: the config.* tests' builds with features compiled
# out (CMakeFiles/kmqtt_core_*, kmqtt_codec_*, config_*) are left out, their
# stubs would be mixed with the real functions. The no-malloc and lwIP
# builds of the same sources count.
# --exclude-unreachable-branches drops the branches gcc adds on lines with
# no code of their own (a closing brace); every other branch counts.
gcovr --root "$root" --object-directory "$build" --filter "$root/src/" \
    --exclude-directories '.*/CMakeFiles/(kmqtt_core_|kmqtt_codec_|config_).*' \
    --exclude-unreachable-branches \
    --html-details "$build/html/index.html" --html-title "kmqtt coverage" \
    --json-summary "$build/summary.json" --json-summary-pretty \
    --print-summary "$build" >"$build/gcovr.txt"
python3 "$root/scripts/coverage_summary.py" "$build/summary.json" "$build/summary.md"
echo "coverage: report $build/html/index.html"
