#!/bin/sh
# make model: checks the threaded client's lifecycle model
# (src/client/lifecycle.pml) with Spin, in three runs:
#   default       the client as it is, KMQTT_RECONNECT_DEFAULT: no error
#   reconnect_on  the same with KMQTT_RECONNECT_ON (a blocking call or
#                 kmqtt_run stands in for the loop): no error
#   field         the field report's design (-DFIELD_DESIGN): Spin must find
#                 the leaked socket; its trail is printed
# Fails if a verdict is not the expected one. Usage: model.sh BUILD_DIR
set -eu
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
model="$root/src/client/lifecycle.pml"
mkdir -p "$out"
status=0

# verify NAME SPIN_FLAGS: builds and runs the verifier in $out/NAME.
verify() {
    name=$1
    flags=$2
    dir="$out/$name"
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$model" "$dir/lifecycle.pml"
    # shellcheck disable=SC2086
    (cd "$dir" && spin -a $flags lifecycle.pml >spin.log 2>&1)
    # SAFETY: assertions and invalid end states (deadlocks); COLLAPSE keeps
    # the search exact (no hash compaction: a verdict of no error covers
    # every reachable state).
    (cd "$dir" && cc -O2 -DSAFETY -DCOLLAPSE -DVECTORSZ=2048 -o pan pan.c)
    start=$(date +%s)
    (cd "$dir" && ./pan -m2000000 -w25 >pan.log 2>&1) || true
    end=$(date +%s)
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$dir/pan.log")
    states=$(sed -n 's/^ *\([0-9e+.]*\) states, stored.*/\1/p' "$dir/pan.log")
    depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$dir/pan.log")
    mem=$(sed -n 's/^ *\([0-9.]*\).total actual memory usage.*/\1/p' "$dir/pan.log")
    echo "model: $name: errors $errors, states $states, depth $depth, memory ${mem} MB, $((end - start)) s"
    if grep -q "Search not completed\|max search depth too small" "$dir/pan.log" && [ "$errors" = 0 ]; then
        echo "model: $name: the search did not complete" >&2
        status=1
    fi
}

verify default ""
if [ "$errors" != 0 ]; then
    echo "model: default: UNEXPECTED ERROR (the client breaks a property):" >&2
    grep -E "assertion violated|invalid end state" "$out/default/pan.log" >&2 || true
    status=1
fi

verify reconnect_on "-DRECONNECT_ON"
if [ "$errors" != 0 ]; then
    echo "model: reconnect_on: UNEXPECTED ERROR (the client breaks a property):" >&2
    grep -E "assertion violated|invalid end state" "$out/reconnect_on/pan.log" >&2 || true
    status=1
fi

verify field "-DFIELD_DESIGN"
if grep -q "assertion violated (leaked==0)" "$out/field/pan.log"; then
    # The trail, without the lock handling and bookkeeping steps.
    (cd "$out/field" && spin -t -p -DFIELD_DESIGN lifecycle.pml >trail.txt 2>&1) || true
    echo "model: field: the leak is found, as it must be; its trail, events only" \
        "(every step: $out/field/trail.txt):"
    (cd "$out/field" && spin -t -DFIELD_DESIGN lifecycle.pml 2>&1) |
        sed -n '/trail ends/q; s/^ *MSG: /  /p; s/^spin: /  /p'
else
    echo "model: field: the leak was NOT found: the model can no longer fail" >&2
    grep -E "assertion violated|errors" "$out/field/pan.log" >&2 || true
    status=1
fi

[ "$status" = 0 ] && echo "model: verdicts as expected (current design: no error; field report's design: leak found)"
exit "$status"
