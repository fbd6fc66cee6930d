/*
 * Shared by the client's files only.
 *
 * Concurrency model (one mutex `mx`, one condition `cv`):
 *  - every field below is read and written with mx held;
 *  - "the turn" (turn_busy) is held by the one thread that reads from the
 *    transport and takes events from the session. It makes the receive
 *    buffer, and so the views of an event, that thread's alone;
 *  - the transport is called with mx held (send, recv, close: they never
 *    block), except open() and wait(), which are called unlocked by the
 *    turn holder with io_busy set. Whoever must close the transport first
 *    waits for io_busy to clear (waking the transport), so two threads are
 *    never inside the transport at once;
 *  - a message is copied into `scratch` and the turn released while its
 *    handlers run, so a handler may itself run the loop (a blocking
 *    subscribe). A message that arrives while scratch is taken is handed
 *    to its handlers straight from the receive buffer with the turn kept;
 *  - cv is broadcast on every change a blocked caller may wait for;
 *  - automatic reconnect (client_reconnect.c) has no thread of its own: the
 *    thread that runs the loop (the background thread, kmqtt_run with
 *    KMQTT_RECONNECT_ON, or a blocking call standing in for either) waits
 *    out the backoff on cv and makes the attempt. kmqtt_disconnect clears
 *    rc_armed and bumps cancel_seq under mx, so an attempt or a backoff
 *    that it interrupts ends without touching the connection again.
 */
#ifndef KMQTT_CLIENT_INTERNAL_H
#define KMQTT_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kmqtt/client.h"
#include "kmqtt/config.h"
#include "kmqtt/session.h"
#include "kmqtt/store.h"

#include "client_queue.h"

/* Completed QoS 1/2 publishes remembered for kmqtt_publish_wait. */
#define KC_DONE_RING ((unsigned)KMQTT_CFG_DONE_RING)
/* SUBSCRIBE / UNSUBSCRIBE awaiting their ack at once (= session max_pending). */
#define KC_MAX_REQUESTS ((unsigned)KMQTT_CFG_MAX_REQUESTS)
#if KMQTT_CFG_DONE_RING < 1 || KMQTT_CFG_MAX_REQUESTS < 1 || KMQTT_CFG_MAX_REQUESTS > 255
#error "KMQTT_CFG_DONE_RING must be at least 1, KMQTT_CFG_MAX_REQUESTS 1..255"
#endif
/* How long a background-thread turn waits at most, so a missed wake costs
 * no more than this. */
#define KC_BG_TURN_MS 1000u
/* DISCONNECT gets this long to leave (architecture rule 1: disconnect is
 * synchronous, but must not hang on a dead link). */
#define KC_DISCONNECT_FLUSH_MS 500u
/* Filters in one kmqtt_subscribe / kmqtt_unsubscribe call (the packet's
 * filter array lives on the caller's stack). */
#define KC_MAX_FILTERS KMQTT_SUB_FILTERS_MAX
/* Receive rounds per turn, so a flood cannot keep one turn going forever. */
#define KC_RX_ROUNDS 16u

/* What the engine reported, in the codec's packet form the client's
 * handlers read (client_session.c fills it from kmqtt_session_event_t; its
 * views point into the engine's receive buffer, valid until the next event). */
typedef enum kc_event_type {
    KC_EV_CONNACK = KMQTT_SESSION_EV_CONNACK,
    KC_EV_MESSAGE = KMQTT_SESSION_EV_MESSAGE,
    KC_EV_PUBLISH_DONE = KMQTT_SESSION_EV_PUBLISHED,
    KC_EV_SUBACK = KMQTT_SESSION_EV_SUBACK,
    KC_EV_UNSUBACK = KMQTT_SESSION_EV_UNSUBACK,
    KC_EV_AUTH = KMQTT_SESSION_EV_AUTH,
    KC_EV_DISCONNECT = KMQTT_SESSION_EV_DISCONNECT,
    KC_EV_PIECE_BEGIN = KMQTT_SESSION_EV_MESSAGE_BEGIN, /* a message larger than rx */
    KC_EV_PIECE_DATA = KMQTT_SESSION_EV_MESSAGE_CHUNK,
    KC_EV_PIECE_END = KMQTT_SESSION_EV_MESSAGE_END
} kc_event_type_t;

typedef struct kc_event {
    kc_event_type_t type;
    uint16_t packet_id;
    uint8_t reason_code;
    bool session_present;
    kmqtt_err_t err;
    kmqtt_packet_t packet; /* connack, publish, ack (PUBLISH_DONE), suback, disconnect (AUTH) */
    const uint8_t *data;   /* PIECE_DATA: the bytes (packet.u.publish: BEGIN's header) */
    size_t len, offset, total;
} kc_event_t;

typedef struct kc_handler {
    char *filter; /* own copy, NUL-terminated; NULL = free slot */
    size_t len;
    kmqtt_message_fn fn; /* NULL: subscribed, messages go to on_message */
    void *ctx;
    /* As requested, to subscribe again after a reconnect the broker kept no
     * session for. */
    uint8_t qos;
    bool no_local;
    bool retain_as_published;
    uint8_t retain_handling;
    uint32_t subscription_id; /* 5.0; 0 = none */
} kc_handler_t;

/* One broker of the server list (or the host/port options). */
typedef struct kc_server {
    const char *host; /* NUL-terminated, brackets of an IPv6 literal removed */
    uint16_t port;
} kc_server_t;

typedef struct kc_match {
    kmqtt_message_fn fn;
    void *ctx;
} kc_match_t;

typedef struct kc_done {
    uint16_t packet_id; /* 0 = empty */
    uint8_t reason_code;
    int8_t err; /* a kmqtt_err_t: every code fits (-128..127) */
} kc_done_t;

/* A SUBSCRIBE / UNSUBSCRIBE whose caller is blocked waiting for the ack.
 * The caller's arrays stay valid because the caller clears the slot (under
 * mx) before it returns. */
typedef struct kc_request {
    bool in_use;
    bool done;
    bool is_subscribe;
    uint16_t packet_id;
    kmqtt_err_t err;
    const kmqtt_sub_request_t *subs; /* subscribe */
    const kmqtt_sub_options_t *opts; /* subscribe, 5.0; may be NULL */
    uint32_t subid;                  /* subscribe, 5.0: its Subscription Identifier */
    const char *const *filters;      /* unsubscribe */
    size_t n;
    kmqtt_ack_result_t *res; /* the caller's result, may be NULL */
} kc_request_t;

#if KMQTT_CFG_V5
/* MQTT 5.0 state of a client (client_v5_*.c); all zero in 3.1.1. */
typedef struct kc_v5 {
    void *block;         /* CONNECT and will property lists and their strings */
    size_t block_size;   /* wiped at free: it holds the Authentication Data */
    kmqtt_prop_t *props; /* CONNECT properties */
    size_t nprops;
    kmqtt_prop_t *will_props; /* will properties */
    size_t nwill;
    char *connack_str; /* KMQTT_CONNACK_STR_MAX: the strings of c->connack */
    bool have_connack;
    /* the reason string of the ack being reported by on_publish_done */
    bool cb_reason_set;
    kmqtt_str_t cb_reason;
    /* kmqtt_request: one waiting request */
    bool rq_busy;
    bool rq_done;
    kmqtt_err_t rq_err;
    uint8_t rq_corr[8];
    uint32_t rq_seq;
    uint8_t *rq_reply;
    size_t rq_cap, rq_len;
    /* enhanced authentication (client_auth.c) */
    const kmqtt_prop_t *auth_method; /* in props; NULL = none */
    bool reauth_busy, reauth_done;
    kmqtt_err_t reauth_err;
    /* the server-assigned client id kept for reconnects (3.2.2.3.7);
     * KMQTT_ASSIGNED_ID_MAX + 1 bytes at the end of block, NULL = not kept */
    char *assigned_id;
    size_t assigned_len;    /* 0 = none yet */
    bool assigned_too_long; /* the last one assigned did not fit */
    /* Server Reference redirection (client_redirect.c): redir_host is
     * KMQTT_REDIRECT_HOST_MAX + 1 bytes in block (NULL = option off),
     * redir names it */
    char *redir_host;
    kc_server_t redir;
    bool redir_pending; /* the next attempt goes to redir */
    bool redir_current; /* the current (or last) attempt went to redir */
    uint8_t redir_hops; /* redirects followed since the last accepted CONNACK */
} kc_v5_t;
#endif

struct kmqtt_client {
    /* Its own accounting; the struct itself is its first block. */
    kmqtt_mem_t mem;
    kmqtt_mem_t *parent;
    kmqtt_mem_backend_t *parent_backend; /* from parent: must outlive mem's last free */

    kmqtt_port_mutex_t *mx;
    kmqtt_port_cond_t *cv;

    kmqtt_transport_t tr;
    bool tr_owned;

    /* options, strings pointing into `strings` */
    kmqtt_client_options_t opt;
    char *strings;
    size_t client_id_len, username_len, will_topic_len;

    /* brokers: the parsed server list (one block) or `one` */
    kc_server_t *servers;
    kc_server_t one;
    void *servers_block;
    size_t nservers;
    size_t server_idx; /* the next attempt's broker; moves on after a failure */

    /* The engine (include/kmqtt/session.h) and what it references: every
     * protocol rule, the server's capabilities and the in-flight store are
     * its; the client drives it under mx (client_session.c). */
    kmqtt_session_t s;
    kmqtt_session_config_t scfg;
    void *storage;
    size_t storage_size; /* wiped at destroy: it held the CONNECT packet */
    uint8_t *pbuf;       /* 5.0: raw property blocks of what is being sent (tx_buffer_size) */
    size_t pbuf_size;

    /* connection */
    kmqtt_conn_state_t state;
    bool open; /* transport open, session started */
    kmqtt_err_t last_err;
    kmqtt_err_t connect_result; /* KMQTT_NEED_MORE while a connect waits */
    kmqtt_connack_info_t connack;
    uint32_t conn_gen;   /* + 1 each time a connection is closed */
    uint32_t cancel_seq; /* + 1 each kmqtt_disconnect: blocked calls end */
    unsigned disconnecting;

    /* automatic reconnect (client_reconnect.c) */
    bool rc_armed;        /* the connection was lost and the client reconnects itself */
    bool rc_attempt;      /* the connect attempt under way is an automatic one */
    uint32_t attempt_seq; /* cancel_seq when the attempt under way began */
    uint32_t backoff_ms;  /* d: the next backoff is random in [d/2, d] */
    uint64_t retry_at;    /* when the next attempt may begin */

    /* subscribing again after a reconnect without session (client_subscribe.c) */
    bool resub_owed;                     /* not every filter is known to be subscribed again */
    uint32_t resub_next;                 /* next handler slot to send; max_subscriptions = none */
    uint16_t resub_ids[KC_MAX_REQUESTS]; /* their SUBSCRIBEs awaiting SUBACK */
    unsigned resub_count;
    bool resub_early; /* this connection's began in its first flight (issue #18) */

    /* the turn */
    bool turn_busy;
    bool turn_bg; /* held by the background thread */
    bool io_busy;
    bool wake_pending;     /* wake() called since the io_busy holder entered wait() */
    bool wake_issued;      /* wake() called since connect_open last consumed one */
    bool early_owed;       /* queued messages left in a first flight no CONNACK accepted yet */
    bool window_refill;    /* publish_batch: the window filled; wait until half drained */
    uint64_t connected_ms; /* when the last CONNACK accepted us */
    unsigned quiescing;    /* threads in kc_quiesce: no new turn may enter wait() */

    /* background thread */
    kmqtt_port_thread_t *thread;
    bool bg_stop;
    bool bg_done;

    /* dispatch */
    kc_handler_t *handlers; /* opt.max_subscriptions */
    kc_match_t *match;      /* 2 x opt.max_subscriptions: scratch and pinned dispatch */
    uint8_t *scratch;
    size_t scratch_size;
    bool scratch_busy;
    /* kmqtt_publish_reader: whose payload the engine asks for, by packet
     * id (0: the QoS 0 one); pending: the slot of the publish under way,
     * whose id the engine gives with its first read */
    struct {
        bool used;
        uint16_t id;
        kmqtt_payload_reader_fn fn;
        void *ctx;
    } readers[KMQTT_READERS_MAX];
    int reader_pending;
    /* a message in pieces: its BEGIN reached the application (and not
     * its END yet); cut by the close: told before the state is */
    bool piece_begun;
    bool piece_cut;
    kmqtt_message_piece_t cut;

    /* outbound QoS 1/2 */
    uint16_t *inflight_ids; /* opt.max_inflight */
    uint16_t inflight_count;
    kc_done_t done[KC_DONE_RING];
    unsigned done_next;

    kc_request_t req[KC_MAX_REQUESTS];

#if KMQTT_CFG_OFFLINE_QUEUE
    /* store and forward (client_queue_io.c, client_flush.c) */
    kc_queue_t queue;
    uint8_t *queue_buf; /* "queue": kc_queue_memory_size(&opt) bytes, NULL = off */
    /* persistence (client_persist.c); active when persist is true */
    bool persist;
    kmqtt_store_t store;
    uint8_t *persist_buf; /* "persist": one record being written or read */
    size_t persist_buf_size;
    uint32_t persist_order; /* the next outbound record's place in send order */
    uint8_t caps_rec[12];   /* the server caps record last written or read (pipelined connect) */
    uint32_t draining_seq;  /* queue seq of the message being handed to the session */
    kmqtt_persist_stats_t pstats;
#endif

    /* no-malloc (options.memory): the filter table made at create, one slot
     * of filter_slot bytes per handler; NULL = filters allocated one by one */
    char *filter_pool;
    size_t filter_slot;

    /* MQTT 5.0 (client_v5_*.c, client_auth.c, client_request.c) */
#if KMQTT_CFG_V5
    kc_v5_t v5;
#else
    struct {
        bool have_connack; /* kmqtt_client_connack has an answer */
    } v5;
#endif
};

/* lock and condition (client_loop.c) */
void kc_lock(kmqtt_client_t *c);
void kc_unlock(kmqtt_client_t *c);
void kc_broadcast(kmqtt_client_t *c);
void kc_cond_wait(kmqtt_client_t *c, uint32_t ms);
uint64_t kc_now(void);
uint32_t kc_remaining(uint64_t deadline);
uint64_t kc_deadline(uint32_t ms);

/* transport and connection (client_loop.c) */
kmqtt_err_t kc_flush(kmqtt_client_t *c);
void kc_try_flush(kmqtt_client_t *c);
void kc_wake(kmqtt_client_t *c);
void kc_wake_once(kmqtt_client_t *c);
void kc_publish_kick(kmqtt_client_t *c, bool was_empty);
void kc_quiesce(kmqtt_client_t *c);
void kc_close(kmqtt_client_t *c, kmqtt_err_t why, kmqtt_conn_state_t state);
void kc_notify_state(kmqtt_client_t *c, kmqtt_conn_state_t state, kmqtt_err_t err);
kmqtt_err_t kc_lost(kmqtt_client_t *c, kmqtt_err_t err);
kmqtt_err_t kc_turn(kmqtt_client_t *c, uint32_t wait_ms);
void kc_turn_acquire(kmqtt_client_t *c);
void kc_turn_release(kmqtt_client_t *c);
kmqtt_err_t kc_wait_step(kmqtt_client_t *c, uint32_t ms);
kmqtt_err_t kc_conn_err(const kmqtt_client_t *c, uint32_t cancel_seq);
bool kc_bg_drives(const kmqtt_client_t *c);
void kc_bg_reap(kmqtt_client_t *c);

/* connect attempts and automatic reconnect (client_connect.c,
 * client_reconnect.c) */
kmqtt_err_t kc_connect_run(kmqtt_client_t *c, uint64_t deadline, bool automatic);
void kc_attempt_failed(kmqtt_client_t *c, kmqtt_err_t err);
bool kc_reconnect_policy(const kmqtt_client_t *c);
void kc_reconnect_arm(kmqtt_client_t *c, kmqtt_err_t err);
bool kc_reconnect_due(const kmqtt_client_t *c);
void kc_reconnect_step(kmqtt_client_t *c, uint64_t until);
kmqtt_err_t kc_servers_parse(kmqtt_client_t *c, const char *list);
size_t kc_servers_size(const char *list); /* kc_servers_parse's block; 0 = malformed */
/* Which server an attempt goes to (client_redirect.c): kc_server_take
 * for the next attempt (a pending 5.0 redirect, once; else the list's),
 * kc_server_now for the current or last one; kc_server_failed moves the
 * list on after a failed attempt (not after a redirected one: the list's
 * server already moved on when it sent the client away). mx held. */
const kc_server_t *kc_server_take(kmqtt_client_t *c);
const kc_server_t *kc_server_now(const kmqtt_client_t *c);
void kc_server_failed(kmqtt_client_t *c);
/* kmqtt_connect's attempts: one, then each redirect a refusal names while
 * the deadline allows. mx held. */
kmqtt_err_t kc_redirect_connect(kmqtt_client_t *c, uint64_t deadline);

/* events (client_events.c) */
kmqtt_err_t kc_events(kmqtt_client_t *c, uint32_t gen);

/* publish bookkeeping (client_publish.c) */
void kc_publish_done(kmqtt_client_t *c, uint16_t id, kmqtt_err_t err, uint8_t reason);
void kc_inflight_add(kmqtt_client_t *c, uint16_t id);
/* client_publish_reader.c */
long kc_reader_read(void *ctx, uint16_t id, size_t offset, uint8_t *buf, size_t len);
void kc_reader_done(kmqtt_client_t *c, uint16_t id);

/* store and forward: the offline queue (client_queue_io.c). kc_queue_publish
 * takes mx itself and returns KMQTT_NEED_MORE when the message should go
 * the direct way; kc_queue_add and kc_queue_drain need mx held. */
#if KMQTT_CFG_OFFLINE_QUEUE
kmqtt_err_t kc_queue_setup(kmqtt_client_t *c);
void kc_queue_free(kmqtt_client_t *c);
kmqtt_err_t kc_queue_publish(kmqtt_client_t *c, const kmqtt_publish_t *msg, uint32_t *seq);
kmqtt_err_t kc_queue_add(kmqtt_client_t *c, const kmqtt_publish_t *msg, uint16_t *id,
                         uint32_t *seq);
void kc_queue_drain(kmqtt_client_t *c);
#define KC_QUEUE_ON(c) ((c)->queue_buf != NULL)
#define KC_QUEUED(c)   ((c)->queue.count)
#else
/* Compiled out (KMQTT_CFG_OFFLINE_QUEUE=0): options asking for a queue or
 * a store are refused at create with KMQTT_EUNSUPPORTED. */
#define kc_queue_setup(c)             KMQTT_OK
#define kc_queue_free(c)              ((void)0)
#define kc_queue_publish(c, msg, seq) ((void)(msg), (void)(seq), KMQTT_NEED_MORE)
#define kc_queue_add(c, msg, id, seq) KMQTT_EUNSUPPORTED
#define kc_queue_drain(c)             ((void)0)
#define kc_queue_memory_size(o)       ((size_t)0)
#define KC_QUEUE_ON(c)                false
#define KC_QUEUED(c)                  0u
#endif

/* store and forward: persistence (client_persist.c); mx held except setup */
#if KMQTT_CFG_OFFLINE_QUEUE
kmqtt_err_t kc_persist_setup(kmqtt_client_t *c);
/* The "persist" record buffer for options o (0 without a store), for
 * kmqtt_client_memory_size next to kc_queue_memory_size. */
size_t kc_persist_memory_size(const kmqtt_client_options_t *o);
void kc_persist_free(kmqtt_client_t *c);
kmqtt_err_t kc_persist_queued(kmqtt_client_t *c, uint32_t seq, const kmqtt_publish_t *msg);
void kc_persist_unqueue(kmqtt_client_t *c, uint32_t seq, uint8_t qos);
void kc_persist_done(kmqtt_client_t *c, uint16_t id);
/* After an accepted CONNACK: its caps, if they changed, for the next
 * process's pipelined first flight. */
void kc_persist_caps(kmqtt_client_t *c);
#else
#define kc_persist_caps(c)        ((void)0)
#define kc_persist_setup(c)       KMQTT_OK
#define kc_persist_memory_size(o) ((size_t)0)
#define kc_persist_free(c)        ((void)0)
#define kc_persist_done(c, id)    ((void)0)
#endif

/* subscriptions and dispatch (client_subscribe.c, client_dispatch.c) */
void kc_request_answer(kmqtt_client_t *c, const kc_event_t *ev);
void kc_requests_fail(kmqtt_client_t *c, kmqtt_err_t err);
void kc_dispatch(kmqtt_client_t *c, const kmqtt_publish_t *msg);
void kc_piece(kmqtt_client_t *c, const kc_event_t *ev);
void kc_piece_cut(kmqtt_client_t *c);
void kc_piece_abort(kmqtt_client_t *c);
void kc_handlers_free(kmqtt_client_t *c);
void kc_resubscribe_start(kmqtt_client_t *c);
void kc_resubscribe_early(kmqtt_client_t *c);
void kc_resubscribe_connack(kmqtt_client_t *c, bool session_present);
void kc_resubscribe(kmqtt_client_t *c);
void kc_resubscribe_stop(kmqtt_client_t *c, bool forget);

/* The engine seam (client_session.c), mx held. kc_session_size: the one
 * "session" block for options o (0 = invalid); kc_session_setup carves it
 * and initialises the engine. The others take the codec's forms the client
 * builds and hand them to the engine (5.0 property lists go as raw blocks
 * through pbuf). */
size_t kc_session_size(const kmqtt_client_options_t *o);
kmqtt_err_t kc_session_setup(kmqtt_client_t *c);
kmqtt_err_t kc_session_start(kmqtt_client_t *c);
kmqtt_err_t kc_session_publish(kmqtt_client_t *c, const kmqtt_publish_t *msg, uint16_t *id);
kmqtt_err_t kc_session_subscribe(kmqtt_client_t *c, const kmqtt_subscribe_t *pkt, bool subscribe,
                                 uint16_t *id);
kmqtt_err_t kc_session_auth(kmqtt_client_t *c, uint8_t reason, const kmqtt_props_t *props);
kmqtt_err_t kc_session_disconnect(kmqtt_client_t *c, uint8_t reason, const kmqtt_props_t *props);
kmqtt_err_t kc_session_event(kmqtt_client_t *c, kc_event_t *ev);
kmqtt_err_t kc_session_tick(kmqtt_client_t *c, uint64_t now, uint64_t *next);
#define KC_NOW32() ((uint32_t)kc_now())

/* The one way into the session for a publish (client_publish.c): props is
 * the encoded 5.0 property list (NULL = none). */
kmqtt_err_t kc_publish_props(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                             uint8_t qos, bool retain, const kmqtt_props_t *props,
                             kmqtt_publish_result_t *res);
/* Sends DISCONNECT with reason and props (5.0; 0 and NULL otherwise) and
 * closes the connection (client_connect.c). */
kmqtt_err_t kc_disconnect(kmqtt_client_t *c, uint8_t reason, const kmqtt_props_t *props);

/* Room for the property list of one SUBSCRIBE / UNSUBSCRIBE / AUTH the
 * application sends: what the call adds itself and the user properties. */
#define KC_SUB_PROPS_MAX   (1u + KMQTT_USER_PROPS_MAX)
#define KC_UNSUB_PROPS_MAX KMQTT_USER_PROPS_MAX
#define KC_AUTH_PROPS_MAX  (3u + KMQTT_USER_PROPS_MAX)

/* MQTT 5.0. Compiled out (KMQTT_CFG_V5=0) most of these are the 3.1.1
 * answers, as macros, so no call is left behind: every client is then a
 * 3.1.1 client, and a 5.0 part (not NULL) gets KMQTT_ENEEDV5. */
#if KMQTT_CFG_V5
/* at create (client_v5_setup.c) */
kmqtt_err_t kc_v5_setup(kmqtt_client_t *c, const kmqtt_client_options_t *o);
void kc_v5_free(kmqtt_client_t *c);
size_t kc_v5_block_size(const kmqtt_client_options_t *o);
/* The 5.0 options (user and will properties, auth, packet size): KMQTT_EINVAL
 * when create must refuse them; kmqtt_client_memory_size uses it too. */
kmqtt_err_t kc_v5_options_check(const kmqtt_client_options_t *o);
void kc_v5_connect_props(const kmqtt_client_t *c, kmqtt_connect_t *p);
/* the CONNACK and the checks its capabilities imply (client_v5_connack.c) */
void kc_v5_connack(kmqtt_client_t *c, const kc_event_t *ev);
kmqtt_err_t kc_v5_connect_check(const kmqtt_client_t *c);
/* Server Reference redirection (client_redirect.c) */
void kc_redirect_note(kmqtt_client_t *c, uint8_t reason, const kmqtt_str_t *ref);
void kc_redirect_accepted(kmqtt_client_t *c);
/* what else the server says (client_v5_server.c, client_auth.c) */
void kc_v5_server_disconnect(kmqtt_client_t *c, const kc_event_t *ev);
void kc_v5_publish_done(kmqtt_client_t *c, const kc_event_t *ev);
void kc_v5_ack_info(kmqtt_ack_result_t *res, const kmqtt_props_t *props);
kmqtt_err_t kc_v5_auth(kmqtt_client_t *c, const kc_event_t *ev);
bool kc_handler_is(kmqtt_client_t *c, const char *filter, kmqtt_message_fn fn);
/* the property lists of what the application sends (client_props.c):
 * each appends to list (cap items, *n used) the properties p asks for;
 * p NULL = none; p given to a 3.1.1 client = KMQTT_ENEEDV5. */
bool kc_text_ok(const char *s);
kmqtt_prop_t *kc_prop_add(kmqtt_prop_t *list, size_t *n, kmqtt_prop_id_t id, uint32_t num);
kmqtt_err_t kc_subscribe_prop_list(const kmqtt_client_t *c, const kmqtt_subscribe_props_t *p,
                                   kmqtt_prop_t *list, size_t cap, size_t *n);
kmqtt_err_t kc_unsubscribe_prop_list(const kmqtt_client_t *c, const kmqtt_unsubscribe_props_t *p,
                                     kmqtt_prop_t *list, size_t cap, size_t *n);
kmqtt_err_t kc_auth_prop_list(const kmqtt_client_t *c, const kmqtt_auth_props_t *p,
                              kmqtt_prop_t *list, size_t cap, size_t *n);
/* kmqtt_publish and kmqtt_disconnect with a 5.0 part (p not NULL): the
 * list is built on these functions' stacks, not on the common path's. */
kmqtt_err_t kc_v5_publish(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                          uint8_t qos, bool retain, const kmqtt_publish_props_t *p,
                          kmqtt_publish_result_t *res);
kmqtt_err_t kc_v5_disconnect(kmqtt_client_t *c, const kmqtt_disconnect_props_t *p);
#else
#define kc_v5_setup(c, o)                            ((o)->version == KMQTT_V5 ? KMQTT_EUNSUPPORTED : KMQTT_OK)
#define kc_v5_free(c)                                ((void)0)
#define kc_v5_block_size(o)                          ((size_t)0)
#define kc_v5_options_check(o)                       KMQTT_OK
#define kc_v5_connect_props(c, p)                    ((void)0)
#define kc_v5_connack(c, ev)                         ((void)((c)->v5.have_connack = true))
#define kc_v5_connect_check(c)                       KMQTT_OK
#define kc_v5_server_disconnect(c, ev)               ((void)0)
#define kc_redirect_note(c, reason, ref)             ((void)0)
#define kc_redirect_accepted(c)                      ((void)0)
#define kc_v5_publish_done(c, ev)                    kc_publish_done(c, (ev)->packet_id, (ev)->err, (ev)->reason_code)
#define kc_v5_ack_info(res, props)                   ((void)0)
#define kc_v5_auth(c, ev)                            KMQTT_EPROTOCOL
#define kc_subscribe_prop_list(c, p, list, cap, n)   ((p) != NULL ? KMQTT_ENEEDV5 : KMQTT_OK)
#define kc_unsubscribe_prop_list(c, p, list, cap, n) ((p) != NULL ? KMQTT_ENEEDV5 : KMQTT_OK)
#define kc_v5_publish(c, topic, payload, len, qos, retain, p, res)                                 \
    ((c) == NULL ? KMQTT_EINVAL : KMQTT_ENEEDV5)
#define kc_v5_disconnect(c, p) ((c) == NULL ? KMQTT_EINVAL : KMQTT_ENEEDV5)
#endif

#endif
