/*
 * The brokers users run, started privately by a test (issue 22): a RabbitMQ
 * cluster (Debian 3.10, MQTT plugin), an ejabberd cluster (Debian 23.01,
 * mod_mqtt), aedes (npm, tests/brokers/support/aedes_broker.mjs) and
 * mosquitto (tests/integration/support/broker.c).
 *
 * Every node runs as the current user from a fresh temporary directory (its
 * own config, database, logs and Erlang cookie), on free 127.0.0.1 ports,
 * with its own epmd bound to 127.0.0.1 on a free port (ERL_EPMD_ADDRESS,
 * ERL_EPMD_PORT), so nothing of a system RabbitMQ or ejabberd (services,
 * cookies, /var/lib) is used or touched. The Erlang nodes are started
 * directly (beam replaces the start script), so the PID kept is the node
 * itself: bk_kill is a crash, and bk_stop ends exactly the PIDs started
 * here, never by name.
 *
 * The nodes of a cluster boot in parallel; bk_start returns when every MQTT
 * port accepts and the nodes see each other (RabbitMQ: rabbit_nodes:
 * all_running on the first node lists them all; ejabberd: the second node
 * joined the first's Mnesia cluster).
 */
#ifndef KMQTT_BK_NODES_H
#define KMQTT_BK_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BK_MAX_NODES 3

typedef enum bk_kind { BK_MOSQUITTO = 0, BK_RABBITMQ, BK_EJABBERD, BK_AEDES } bk_kind_t;

typedef struct bk_cluster bk_cluster_t;

/* Starts nodes (1..BK_MAX_NODES; mosquitto and aedes: 1) of kind and waits
 * until they are ready (bounded: 120 s for RabbitMQ, 60 s for the others).
 * NULL, with the reason and the nodes' logs on stderr, if they are not.
 * *boot_ms (may be NULL) gets how long it took. */
bk_cluster_t *bk_start(bk_kind_t kind, int nodes, uint64_t *boot_ms);
/* Stops every node (SIGTERM, then SIGKILL after 20 s), their epmd, and
 * removes the directory. NULL is a no-op. */
void bk_stop(bk_cluster_t *cl);

const char *bk_kind_name(bk_kind_t kind);
bk_kind_t bk_kind(const bk_cluster_t *cl);
int bk_count(const bk_cluster_t *cl);
uint16_t bk_port(const bk_cluster_t *cl, int i);
/* "127.0.0.1:p1,127.0.0.1:p2,..." for kmqtt_client_options_t.servers. */
const char *bk_servers(const bk_cluster_t *cl);
/* The node whose MQTT port is port, or -1. */
int bk_node_of_port(const bk_cluster_t *cl, uint16_t port);
bool bk_alive(const bk_cluster_t *cl, int i);

/* SIGKILL node i: it dies as a crashed or powered-off machine does. */
void bk_kill(bk_cluster_t *cl, int i);
/* Starts a killed node again (same ports, same data directory) and waits
 * until its MQTT port accepts and it runs in the cluster again. 0, or -1
 * (with its log on stderr). *boot_ms as for bk_start. */
int bk_restart(bk_cluster_t *cl, int i, uint64_t *boot_ms);

/* Prints the last lines of each node's log that contain needle (NULL: the
 * last 40 lines) to stderr: what the broker said on a failure. */
void bk_print_logs(const bk_cluster_t *cl, const char *needle);

#endif
