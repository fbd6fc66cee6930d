# The plan/count part of tests/integration/support/broker.sh, without a
# broker, for the fixture's shell tests.
KT_CHECKS=0
KT_PLAN=
kt_plan() { KT_PLAN=$1; }
kt_pass() { KT_CHECKS=$((KT_CHECKS + 1)); echo "ok - $1"; }
kt_done() {
    [ "$KT_CHECKS" = "$KT_PLAN" ] || { echo "FAIL - $KT_CHECKS checks, plan $KT_PLAN"; exit 1; }
    echo "all $KT_CHECKS checks passed"
    exit 0
}
