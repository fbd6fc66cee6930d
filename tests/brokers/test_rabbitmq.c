/*
 * The broker suite against a RabbitMQ cluster (Debian 3.10, MQTT plugin):
 * three nodes booted in parallel once for the program; the core (publish on
 * the first node, subscribe on the last) and failover across the nodes.
 *
 * Where RabbitMQ 3.10 departs from the specification (each case prints the
 * statement it meets):
 *  - MQTT 3.1.1 only: a 5.0 CONNECT is refused (bk_core_v5);
 *  - no QoS 2: a subscription at QoS 2 is granted QoS 1 (allowed,
 *    MQTT-3.8.4-6), and a QoS 2 PUBLISH is not answered with PUBREC
 *    (MQTT-4.3.3) (bk_core_qos2);
 *  - retained messages are kept by the node they were published on
 *    (MQTT-3.3.1-6 across the cluster) (bk_core_retained).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bk_core.h"
#include "bk_failover.h"
#include "bk_target.h"

static int group_setup(void **state)
{
    (void)state;
    if (bk_group_setup(BK_RABBITMQ, 3) != 0)
        return -1;
    bk.max_qos = 1;
    bk.retained_cluster_wide = false;
    bk.session_cluster_wide = true;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return bk_group_teardown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {BK_CORE_CASES, BK_FAILOVER_CASES};
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
