/*
 * Failover without loss across a broker cluster (issue 22): a device
 * publishing QoS 1 continuously with every node in its server list, a
 * subscriber elsewhere, nodes killed under it. See bk_failover.c.
 */
#ifndef KMQTT_BK_FAILOVER_H
#define KMQTT_BK_FAILOVER_H

void bk_failover_threaded(void **state);

#define BK_FAILOVER_CASES cmocka_unit_test(bk_failover_threaded)

#endif
