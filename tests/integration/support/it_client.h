/*
 * Helpers the client integration tests share: option defaults against a test
 * broker, a thread-safe recorder for messages and state changes, and a loop
 * pump that works whether or not the client's background thread runs.
 */
#ifndef KMQTT_IT_CLIENT_H
#define KMQTT_IT_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "kmqtt/client.h"

#define IT_MAX_MSGS 64

typedef struct it_msg {
    char topic[128];
    uint8_t payload[512];
    size_t len;
    uint8_t qos;
    bool retain;
} it_msg_t;

/* Messages a handler saw, in order (the first IT_MAX_MSGS; the rest counted). */
typedef struct it_rec {
    pthread_mutex_t mu;
    it_msg_t msgs[IT_MAX_MSGS];
    int n;
} it_rec_t;

void it_rec_init(it_rec_t *r);
void it_rec_destroy(it_rec_t *r);
int it_rec_count(it_rec_t *r);
/* A kmqtt_message_fn; ctx is an it_rec_t. */
void it_rec_handler(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx);

/* State changes seen by on_state (ctx of the client options). */
typedef struct it_states {
    pthread_mutex_t mu;
    kmqtt_conn_state_t state[32];
    kmqtt_err_t err[32];
    int n;
} it_states_t;

void it_states_init(it_states_t *s);
void it_states_destroy(it_states_t *s);
/* A kmqtt_state_fn; ctx is an it_states_t. */
void it_states_handler(kmqtt_client_t *c, kmqtt_conn_state_t state, kmqtt_err_t err, void *ctx);
/* True once state was reported (its err in *err); polls up to timeout_ms. */
bool it_states_wait(it_states_t *s, kmqtt_conn_state_t state, unsigned timeout_ms,
                    kmqtt_err_t *err);

/* Defaults for a client of broker b: 127.0.0.1, its port, client id id. */
void it_options(kmqtt_client_options_t *o, const broker_t *b, const char *id);

/* Runs the client's loop (or, when its background thread runs it, just waits)
 * for up to timeout_ms or until done(ctx) is true (done may be NULL). Returns
 * the first error kmqtt_run reported, else KMQTT_OK; stops at that error. */
kmqtt_err_t it_pump(kmqtt_client_t *c, unsigned timeout_ms, bool (*done)(void *), void *ctx);

/* Pumps until r has at least n messages; true if it does in time. */
bool it_wait_msgs(kmqtt_client_t *c, it_rec_t *r, int n, unsigned timeout_ms);

/* Pumps until the child process p exits; returns its status (-1 on timeout,
 * after which it is killed). */
int it_wait_proc(kmqtt_client_t *c, proc_t *p, unsigned timeout_ms);

/* What a cycle must return to: a mem context's bytes and blocks, open
 * descriptors and threads. */
typedef struct it_baseline {
    size_t bytes;
    size_t blocks;
    int fds;
    int threads;
} it_baseline_t;

/* A parent accounting context for the clients of a test: debug mode (sites,
 * guards, live list) and a mutex, since client threads share it. 0 or -1. */
int it_parent_init(kmqtt_mem_t *m);

void it_take_baseline(kmqtt_mem_t *m, it_baseline_t *b);
/* Fails the test (listing m's live blocks with their tags and sites) unless
 * everything is back at b; waits briefly for exiting threads. */
void it_expect_baseline(kmqtt_mem_t *m, const it_baseline_t *b, const char *what, int cycle);

#endif
