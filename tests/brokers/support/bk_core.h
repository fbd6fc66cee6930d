/*
 * The integration core every broker of the suite runs (issue 22): QoS 0, 1
 * and 2, retained messages, the will, a persistent session, 5.0 properties
 * (or, on a broker without 5.0, a clean refusal), the tools and the nano
 * client. Each case publishes on node 0 and subscribes on the last node,
 * so in a cluster every message crosses between nodes. What a broker does
 * differently from the specification is in bk (bk_target.h); a case that
 * meets it prints the statement (bk_departure) and checks that the client
 * copes without breaking its own rules.
 */
#ifndef KMQTT_BK_CORE_H
#define KMQTT_BK_CORE_H

void bk_core_qos0(void **state);
void bk_core_qos1(void **state);
void bk_core_qos2(void **state);
void bk_core_retained(void **state);
void bk_core_will(void **state);
void bk_core_session(void **state);
void bk_core_v5(void **state);
void bk_core_tools(void **state);
void bk_core_nano(void **state); /* bk_nano.c */

/* The core cases, for a program's case list. */
#define BK_CORE_CASES                                                                              \
    cmocka_unit_test(bk_core_qos0), cmocka_unit_test(bk_core_qos1),                                \
        cmocka_unit_test(bk_core_qos2), cmocka_unit_test(bk_core_retained),                        \
        cmocka_unit_test(bk_core_will), cmocka_unit_test(bk_core_session),                         \
        cmocka_unit_test(bk_core_v5), cmocka_unit_test(bk_core_tools),                             \
        cmocka_unit_test(bk_core_nano)

#endif
