/*
 * The set-up every integration program's test group begins with: the
 * parent accounting context its clients allocate through, the threads the
 * runtime starts lazily already running (so a thread-count baseline taken
 * in a test counts them), and, for most groups, one private mosquitto.
 */
#ifndef KMQTT_IT_GROUP_H
#define KMQTT_IT_GROUP_H

#include "broker.h"
#include "kmqtt/mem.h"

/* parent made the clients' accounting context (it_parent_init) and
 * warm_up_threads run. Returns 0, or -1: the group's set-up fails. */
int it_group_init(kmqtt_mem_t *parent);

/* it_group_init, then a mosquitto of the group's own on a free loopback
 * port (opts NULL = the defaults). Returns it, or NULL on any failure. */
broker_t *it_group_broker(kmqtt_mem_t *parent, const broker_opts_t *opts);

/* cmocka fixtures for a test of its own mosquitto (*state is the broker):
 * started with the defaults, or logging every packet (log_all, for the
 * failure report); stopped by it_broker_teardown. The setups return 0, or
 * -1 when it could not start (the test then fails). */
int it_broker_setup(void **state);
int it_broker_setup_logged(void **state);
int it_broker_teardown(void **state);

#endif
