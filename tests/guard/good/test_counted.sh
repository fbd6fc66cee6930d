#!/bin/sh
# Fixture of tests/guard/selftest.sh: plans 2 checks and makes them.
. "$(dirname "$0")/../kt_min.sh"
kt_plan 2
kt_pass "one"
kt_pass "two"
kt_done
