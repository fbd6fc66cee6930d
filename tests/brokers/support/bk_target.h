/*
 * The broker a program of the broker suite runs against (issue 22), what
 * it is known to do where it departs from the MQTT specification, and the
 * helpers the cases share. One program per broker (test_<broker>.c) fills
 * bk in its group set-up, starts the broker's nodes once and runs the core
 * cases (bk_core.h) and its own against them.
 *
 * Clients use only the public API (kmqtt/client.h; the nano client only in
 * bk_nano.c), so these tests do not depend on how the library is built
 * inside.
 */
#ifndef KMQTT_BK_TARGET_H
#define KMQTT_BK_TARGET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_nodes.h"
#include "broker.h"
#include "it_client.h"
#include "kmqtt/client.h"

typedef struct bk_target {
    bk_cluster_t *cl;
    kmqtt_mem_t parent;   /* every client of the program allocates through it */
    const char *username; /* ejabberd: mod_mqtt wants one (anonymous login) */
    bool v5;              /* the broker speaks MQTT 5.0 */
    /* The highest QoS the broker grants a subscription and delivers
     * (RabbitMQ 3.10: 1, see test_rabbitmq.c). */
    uint8_t max_qos;
    /* A retained message published on one node is sent to a subscriber on
     * another (RabbitMQ 3.10 keeps retained messages per node). */
    bool retained_cluster_wide;
    /* A persistent session made on one node is found when the client comes
     * back through another (RabbitMQ: a durable queue). */
    bool session_cluster_wide;
    /* A session lives in the memory of the node the client is connected to
     * and dies with it (ejabberd's mod_mqtt). */
    bool sessions_node_local;
    char run_id[24]; /* "<pid>": client ids and topics of this run */
} bk_target_t;

extern bk_target_t bk;

/* Starts nodes of kind (bk_start), fills bk. 0 or -1 (group set-up fails). */
int bk_group_setup(bk_kind_t kind, int nodes);
/* Stops the nodes; fails nothing (cmocka group teardown). */
int bk_group_teardown(void);

/* The node a case's subscriber uses: the last one, so that in a cluster
 * every message a case publishes on node 0 crosses to another node. */
int bk_sub_node(void);

/* Client options for node i of bk (127.0.0.1, its port, bk.username),
 * 3.1.1 unless version says otherwise; id is "<prefix>-<run id>". ids
 * must outlive the options (a char[64]). */
void bk_options(kmqtt_client_options_t *o, int node, kmqtt_version_t version, const char *prefix,
                char ids[64]);
/* "kbk/<run id>/<leaf>" into out (out[128]). */
const char *bk_topic(char out[128], const char *leaf);

/* Creates and connects a client; fails the test on any error. */
kmqtt_client_t *bk_connect(const kmqtt_client_options_t *o, kmqtt_connack_info_t *info);
/* Subscribes one filter at qos with it_rec_handler into r; returns the
 * granted code. */
uint8_t bk_subscribe(kmqtt_client_t *c, const char *filter, uint8_t qos, it_rec_t *r);

/* Payload i of a message stream: "m<i>" (NUL-terminated in buf). */
const char *bk_payload(char buf[32], unsigned i);

/* A statement of the specification a broker departs from, printed where a
 * test meets it: "departure: <broker>: MQTT-x.y.z-n: what it does". */
void bk_departure(const char *statement, const char *what);

#endif
