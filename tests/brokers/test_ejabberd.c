/*
 * The broker suite against an ejabberd cluster (Debian 23.01, mod_mqtt):
 * two nodes, the second joined to the first's cluster, once for the
 * program; the core (3.1.1 and 5.0, publish on the first node, subscribe on
 * the second) and failover across the nodes.
 *
 * ejabberd wants a user name on CONNECT (anonymous login here: any name,
 * any password), which every client of this program sends.
 *
 * Where ejabberd 23.01 departs (each case prints the statement it meets):
 *  - retained messages are kept by the node they were published on
 *    (MQTT-3.3.1-6 across the cluster) (bk_core_retained);
 *  - a session lives in the memory of the node its client is connected to:
 *    found from every node while that node runs, lost with it
 *    (bk_failover.c).
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
    if (bk_group_setup(BK_EJABBERD, 2) != 0)
        return -1;
    bk.sessions_node_local = true;
    bk.session_cluster_wide = true;
    bk.retained_cluster_wide = false;
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
