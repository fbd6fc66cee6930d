/*
 * Client creation and destruction: options, the client's own memory
 * context, and every block the client holds for its lifetime.
 *
 * Everything a connection needs (session storage, handler table, dispatch
 * arrays, the message scratch buffer, the in-flight id table) is allocated
 * here, once, so that connecting, publishing and receiving allocate nothing
 * (architecture rule 5). Only a new subscription's filter copy is allocated
 * later, when its SUBACK arrives (or nothing at all: with options.memory the
 * filter table is made here too, see kmqtt_client_memory_size).
 */
#include "client_internal.h"
#include "kmqtt/config.h"

#define KC_DEFAULT_HOST "localhost"
#define KC_ID_PREFIX    "kmqtt-"
#define KC_ID_HEX       12u

/* ------------------------------------------------- memory from the parent */

/* The client's context takes its bytes from the application's context, so
 * the application sees every byte of every client in one place. */
static void *parent_alloc(void *ctx, size_t size)
{
    return kmqtt_mem_alloc((kmqtt_mem_t *)ctx, "client", size);
}

static void parent_free(void *ctx, void *ptr)
{
    (void)kmqtt_mem_free((kmqtt_mem_t *)ctx, ptr);
}

/* -------------------------------------------------------------- options */

void kmqtt_client_options_init(kmqtt_client_options_t *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof *o);
    o->host = KC_DEFAULT_HOST;
    o->port = 1883;
    o->version = KMQTT_V311;
    o->keepalive_s = KMQTT_CFG_KEEPALIVE_S; /* the defaults both clients share */
    o->clean_session = true;
    o->pipeline_connect = true;
    o->rx_buffer_size = KMQTT_CFG_RX_BUFFER_SIZE;
    o->tx_buffer_size = KMQTT_CFG_TX_BUFFER_SIZE;
    o->store_size = KMQTT_CFG_STORE_SIZE;
    o->max_inflight = KMQTT_CFG_MAX_INFLIGHT;
    o->max_subscriptions = KMQTT_CFG_MAX_SUBSCRIPTIONS;
    o->max_filter_len = KMQTT_CFG_MAX_FILTER_LEN;
    o->connect_timeout_ms = KMQTT_CFG_CONNECT_TIMEOUT_MS;
    o->reconnect_min_ms = KMQTT_CFG_RECONNECT_MIN_MS;
    o->reconnect_max_ms = KMQTT_CFG_RECONNECT_MAX_MS;
    o->max_topic_len = KMQTT_CFG_MAX_TOPIC_LEN;
}

/* Zeros stand for the defaults, so a zeroed struct is usable too. */
static void options_resolve(const kmqtt_client_options_t *in, kmqtt_client_options_t *o)
{
    *o = *in;
    if (o->host == NULL || o->host[0] == '\0')
        o->host = KC_DEFAULT_HOST;
    if (o->port == 0)
        o->port = 1883;
    if ((int)o->version == 0)
        o->version = KMQTT_V311;
    if (o->rx_buffer_size == 0)
        o->rx_buffer_size = KMQTT_CFG_RX_BUFFER_SIZE;
    if (o->tx_buffer_size == 0)
        o->tx_buffer_size = KMQTT_CFG_TX_BUFFER_SIZE;
    if (o->store_size == 0)
        o->store_size = KMQTT_CFG_STORE_SIZE;
    if (o->max_inflight == 0)
        o->max_inflight = KMQTT_CFG_MAX_INFLIGHT;
    if (o->max_subscriptions == 0)
        o->max_subscriptions = KMQTT_CFG_MAX_SUBSCRIPTIONS;
    if (o->max_topic_len == 0)
        o->max_topic_len = KMQTT_CFG_MAX_TOPIC_LEN;
    if (o->connect_timeout_ms == 0)
        o->connect_timeout_ms = KMQTT_CFG_CONNECT_TIMEOUT_MS;
    if (o->reconnect_min_ms == 0)
        o->reconnect_min_ms = KMQTT_CFG_RECONNECT_MIN_MS;
    if (o->reconnect_max_ms == 0)
        o->reconnect_max_ms = KMQTT_CFG_RECONNECT_MAX_MS;
    /* A maximum below the minimum (say, only the minimum raised): the
     * backoff simply stays at the minimum. */
    if (o->reconnect_max_ms < o->reconnect_min_ms)
        o->reconnect_max_ms = o->reconnect_min_ms;
    if (o->max_filter_len == 0)
        o->max_filter_len = KMQTT_CFG_MAX_FILTER_LEN;
}

static bool str_ok(const char *s, size_t *len)
{
    *len = s == NULL ? 0 : strlen(s);
    return *len <= KMQTT_STRING_MAX && (s == NULL || kmqtt_utf8_validate(s, *len) == KMQTT_OK);
}

static kmqtt_err_t options_check(const kmqtt_client_options_t *o)
{
    size_t len;

    if (o->version != KMQTT_V311 && o->version != KMQTT_V5)
        return KMQTT_EINVAL;
#if !KMQTT_CFG_V5
    if (o->version == KMQTT_V5)
        return KMQTT_EUNSUPPORTED;
#endif
#if !KMQTT_CFG_OFFLINE_QUEUE
    if (o->offline_queue_max_msgs != 0 || o->store != NULL)
        return KMQTT_EUNSUPPORTED;
#endif
    if (o->reconnect != KMQTT_RECONNECT_DEFAULT && o->reconnect != KMQTT_RECONNECT_ON &&
        o->reconnect != KMQTT_RECONNECT_OFF)
        return KMQTT_EINVAL;
    if (!str_ok(o->client_id, &len) || !str_ok(o->username, &len))
        return KMQTT_EINVAL;
    if (o->password_len > KMQTT_STRING_MAX || (o->password == NULL && o->password_len != 0))
        return KMQTT_EINVAL;
    if (o->has_will) {
        if (o->will_topic == NULL || o->will_qos > 2)
            return KMQTT_EINVAL;
        if (!KMQTT_CFG_QOS2 && o->will_qos == 2)
            return KMQTT_EUNSUPPORTED;
        if (kmqtt_topic_name_validate(o->will_topic, strlen(o->will_topic)) != KMQTT_OK)
            return KMQTT_EINVAL;
        if (o->will_payload_len > KMQTT_STRING_MAX ||
            (o->will_payload == NULL && o->will_payload_len != 0))
            return KMQTT_EINVAL;
    }
    /* store and forward: a queue needs its buffer size */
    if (o->offline_queue_max_msgs != 0 &&
        (o->offline_queue_max_bytes < KC_QUEUE_HDR + 1 || o->offline_queue_max_bytes > UINT32_MAX))
        return KMQTT_EINVAL;
    if (o->offline_queue_policy != KMQTT_QUEUE_REFUSE_NEW &&
        o->offline_queue_policy != KMQTT_QUEUE_DROP_OLDEST)
        return KMQTT_EINVAL;
    if (o->store != NULL && (o->clean_session || o->store->put == NULL || o->store->get == NULL ||
                             o->store->remove == NULL || o->store->list == NULL))
        return KMQTT_EINVAL;
    /* Every buffer size must fit the session's uint32_t offsets. */
    if (o->store_size > UINT32_MAX || o->rx_buffer_size > KMQTT_PACKET_MAX)
        return KMQTT_EINVAL;
    if (o->servers != NULL && kc_servers_size(o->servers) == 0)
        return KMQTT_EINVAL;
    /* A transport must have every call (port.h). */
    if (o->transport != NULL &&
        (o->transport->open == NULL || o->transport->send == NULL || o->transport->recv == NULL ||
         o->transport->wait == NULL || o->transport->wake == NULL || o->transport->close == NULL ||
         o->transport->destroy == NULL))
        return KMQTT_EINVAL;
    /* 5.0's own (client_v5_setup.c): checked here too so that
     * kmqtt_client_memory_size answers 0 for them, as documented, and never
     * walks a property list create would refuse. */
    if (o->version == KMQTT_V5 && kc_v5_options_check(o) != KMQTT_OK)
        return KMQTT_EINVAL;
#ifdef KMQTT_NO_MALLOC
    /* No allocator to fall back on. */
    if (o->memory == NULL)
        return KMQTT_EINVAL;
#endif
    return KMQTT_OK;
}

/* -------------------------------------------------------------- strings */

static char *put(char *at, const void *src, size_t len, bool nul)
{
    if (len != 0)
        memcpy(at, src, len);
    at += len;
    if (nul)
        *at++ = '\0';
    return at;
}

static kmqtt_err_t random_client_id(char *out)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t r[KC_ID_HEX / 2];
    size_t i;
    kmqtt_err_t err = kmqtt_port_random(r, sizeof r);

    if (err != KMQTT_OK)
        return err;
    memcpy(out, KC_ID_PREFIX, sizeof KC_ID_PREFIX - 1);
    out += sizeof KC_ID_PREFIX - 1;
    for (i = 0; i < sizeof r; i++) {
        *out++ = hex[r[i] >> 4];
        *out++ = hex[r[i] & 15u];
    }
    *out = '\0';
    return KMQTT_OK;
}

/* The bytes copy_strings takes (kmqtt_client_memory_size counts them too). */
static size_t strings_size(const kmqtt_client_options_t *o)
{
    bool gen_id = o->client_id == NULL || o->client_id[0] == '\0';
    size_t id = gen_id ? sizeof KC_ID_PREFIX - 1 + KC_ID_HEX : strlen(o->client_id);
    size_t user = o->username == NULL ? 0 : strlen(o->username);
    size_t pass = o->password == NULL ? 0 : o->password_len;
    size_t wt = o->has_will ? strlen(o->will_topic) : 0;
    size_t wp = o->has_will && o->will_payload != NULL ? o->will_payload_len : 0;

    return strlen(o->host) + id + user + pass + wt + wp + 4;
}

/* One block holds every string and buffer of the options, so the caller's
 * memory is never used after create returns. */
static kmqtt_err_t copy_strings(kmqtt_client_t *c, const kmqtt_client_options_t *o)
{
    size_t host = strlen(o->host);
    bool gen_id = o->client_id == NULL || o->client_id[0] == '\0';
    size_t id = gen_id ? sizeof KC_ID_PREFIX - 1 + KC_ID_HEX : strlen(o->client_id);
    size_t user = o->username == NULL ? 0 : strlen(o->username);
    size_t pass = o->password == NULL ? 0 : o->password_len;
    size_t wt = o->has_will ? strlen(o->will_topic) : 0;
    size_t wp = o->has_will && o->will_payload != NULL ? o->will_payload_len : 0;
    char *at;
    kmqtt_err_t err;

    c->strings = kmqtt_mem_alloc(&c->mem, "str", strings_size(o));
    if (c->strings == NULL)
        return KMQTT_ENOMEM;
    at = c->strings;
    c->opt.host = at;
    at = put(at, o->host, host, true);
    c->opt.client_id = at;
    if (gen_id) {
        err = random_client_id(at);
        if (err != KMQTT_OK)
            return err;
        at += id + 1;
    } else {
        at = put(at, o->client_id, id, true);
    }
    c->client_id_len = id;
    c->opt.username = NULL;
    if (o->username != NULL) {
        c->opt.username = at;
        c->username_len = user;
    }
    at = put(at, o->username, user, true);
    c->opt.password = o->password == NULL ? NULL : at;
    c->opt.password_len = pass;
    at = put(at, o->password, pass, false);
    c->opt.will_topic = NULL;
    c->opt.will_payload = NULL;
    c->opt.will_payload_len = 0;
    if (o->has_will) {
        c->opt.will_topic = at;
        c->will_topic_len = wt;
        at = put(at, o->will_topic, wt, true);
        c->opt.will_payload = at;
        c->opt.will_payload_len = wp;
        (void)put(at, o->will_payload, wp, false);
    }
    return KMQTT_OK;
}

/* ------------------------------------------------------ create / destroy */

/* Releases whatever create got so far (each pointer is NULL until set),
 * the client struct last, through a copy of its context that does not
 * live in the memory being freed. Secrets are wiped first with
 * kmqtt_mem_wipe (a memset just before free is a dead store the compiler
 * may drop). */
static void client_free(kmqtt_client_t *c)
{
    kmqtt_mem_t last;
    kmqtt_mem_t *parent = c->parent;
    kmqtt_mem_backend_t *pb = c->parent_backend;

    if (c->tr_owned && c->tr.destroy != NULL)
        c->tr.destroy(c->tr.ctx);
    kc_handlers_free(c);
    kc_queue_free(c);
    kc_persist_free(c);
    (void)kmqtt_mem_free(&c->mem, c->handlers);
    (void)kmqtt_mem_free(&c->mem, c->match);
    (void)kmqtt_mem_free(&c->mem, c->scratch);
    (void)kmqtt_mem_free(&c->mem, c->inflight_ids);
    /* The credentials, and the session buffers the CONNECT packet that
     * carried them went through. */
    if (c->storage != NULL)
        kmqtt_mem_wipe(c->storage, c->storage_size);
    if (c->strings != NULL) {
        if (c->opt.username != NULL)
            kmqtt_mem_wipe(c->strings + (c->opt.username - c->strings), c->username_len);
        if (c->opt.password != NULL)
            kmqtt_mem_wipe(c->strings + ((const char *)c->opt.password - c->strings),
                           c->opt.password_len);
    }
    (void)kmqtt_mem_free(&c->mem, c->storage);
    (void)kmqtt_mem_free(&c->mem, c->strings);
    (void)kmqtt_mem_free(&c->mem, c->servers_block);
    (void)kmqtt_mem_free(&c->mem, c->filter_pool);

    kc_v5_free(c);
    kmqtt_port_cond_destroy(&c->mem, c->cv);
    kmqtt_port_mutex_destroy(&c->mem, c->mx);
    last = c->mem;
    (void)kmqtt_mem_free(&last, c);
    if (parent != NULL)
        (void)kmqtt_mem_free(parent, pb);
}

/* Application memory: the arena's record at the (aligned) start of the
 * buffer, its blocks after it. NULL if the buffer cannot hold the record. */
#define KC_ARENA_RECORD                                                                            \
    ((sizeof(kmqtt_mem_arena_t) + KMQTT_MEM_ARENA_ALIGN - 1) / KMQTT_MEM_ARENA_ALIGN *             \
     KMQTT_MEM_ARENA_ALIGN)

static kmqtt_mem_arena_t *arena_place(void *memory, size_t size)
{
    size_t skip = (KMQTT_MEM_ARENA_ALIGN - (size_t)((uintptr_t)memory % KMQTT_MEM_ARENA_ALIGN)) %
                  KMQTT_MEM_ARENA_ALIGN;
    kmqtt_mem_arena_t *a;

    if (size < skip + KC_ARENA_RECORD)
        return NULL;
    a = (kmqtt_mem_arena_t *)(void *)((unsigned char *)memory + skip);
    (void)kmqtt_mem_arena_init(a, (unsigned char *)a + KC_ARENA_RECORD,
                               size - skip - KC_ARENA_RECORD);
    return a;
}

static kmqtt_err_t client_alloc(const kmqtt_client_options_t *o, kmqtt_client_t **out)
{
    kmqtt_mem_config_t mc;
    kmqtt_mem_backend_t *pb = NULL;
    kmqtt_mem_t boot;
    kmqtt_client_t *c;
    kmqtt_err_t err;

    memset(&mc, 0, sizeof mc);
    mc.debug = o->mem_debug;
    if (o->memory != NULL) {
        kmqtt_mem_arena_t *a = arena_place(o->memory, o->memory_size);
        if (a == NULL)
            return KMQTT_ENOMEM;
        mc.backend = &a->backend;
    } else if (o->mem != NULL) {
        pb = kmqtt_mem_alloc(o->mem, "client", sizeof *pb);
        if (pb == NULL)
            return KMQTT_ENOMEM;
        pb->alloc = parent_alloc;
        pb->free = parent_free;
        pb->ctx = o->mem;
        mc.backend = pb;
    }
    /* The struct comes from a context on the stack, which is then moved
     * into the struct: a context holds no pointer to itself (the debug
     * list links blocks, not the context), so the copy is the context. */
    err = kmqtt_mem_init(&boot, &mc);
    if (err != KMQTT_OK) {
        if (pb != NULL)
            (void)kmqtt_mem_free(o->mem, pb);
        return err;
    }
    c = kmqtt_mem_calloc(&boot, "client", sizeof *c);
    if (c == NULL) {
        if (pb != NULL)
            (void)kmqtt_mem_free(o->mem, pb);
        return KMQTT_ENOMEM;
    }
    c->mem = boot;
    c->parent = o->memory != NULL ? NULL : o->mem;
    c->parent_backend = pb;
    *out = c;
    return KMQTT_OK;
}

static kmqtt_err_t client_setup(kmqtt_client_t *c, const kmqtt_client_options_t *o,
                                size_t storage_size)
{
    kmqtt_err_t err;
    size_t subs = c->opt.max_subscriptions;

    err = kmqtt_port_mutex_create(&c->mem, &c->mx);
    if (err != KMQTT_OK)
        return err;
    err = kmqtt_port_cond_create(&c->mem, &c->cv);
    if (err != KMQTT_OK)
        return err;
    err = copy_strings(c, o);
    if (err != KMQTT_OK)
        return err;
    if (o->servers != NULL) {
        err = kc_servers_parse(c, o->servers);
        if (err != KMQTT_OK)
            return err;
    } else {
        c->one.host = c->opt.host;
        c->one.port = c->opt.port;
        c->servers = &c->one;
        c->nservers = 1;
    }
    c->storage = kmqtt_mem_alloc(&c->mem, "session", storage_size);
    c->storage_size = c->storage != NULL ? storage_size : 0;
    c->handlers = kmqtt_mem_calloc(&c->mem, "sub", subs * sizeof *c->handlers);
    c->match = kmqtt_mem_alloc(&c->mem, "sub", 2 * subs * sizeof *c->match);
    c->scratch = kmqtt_mem_alloc(&c->mem, "msg", c->opt.rx_buffer_size);
    c->inflight_ids =
        kmqtt_mem_alloc(&c->mem, "ids", (size_t)c->opt.max_inflight * sizeof *c->inflight_ids);
    if (c->storage == NULL || c->handlers == NULL || c->match == NULL || c->scratch == NULL ||
        c->inflight_ids == NULL)
        return KMQTT_ENOMEM;
    if (o->memory != NULL) {
        /* Subscribing must not allocate from a fixed arena, where blocks of
         * changing sizes would fragment it: one slot per handler, now. */
        c->filter_slot = (size_t)c->opt.max_filter_len + 1;
        c->filter_pool = kmqtt_mem_alloc(&c->mem, "sub", subs * c->filter_slot);
        if (c->filter_pool == NULL)
            return KMQTT_ENOMEM;
    }
    c->scratch_size = c->opt.rx_buffer_size;
    err = kc_queue_setup(c);
    if (err != KMQTT_OK)
        return err;
    if (o->transport != NULL) {
        /* Owned only once create succeeds: on failure the caller keeps it. */
        c->tr = *o->transport;
    } else {
        err = kmqtt_port_tcp_create(&c->mem, &c->tr);
        if (err != KMQTT_OK)
            return err;
        c->tr_owned = true;
    }
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_client_create(const kmqtt_client_options_t *o, kmqtt_client_t **out)
{
    kmqtt_client_options_t opt;
    size_t storage_size;
    kmqtt_client_t *c = NULL;
    kmqtt_err_t err;

    if (out != NULL)
        *out = NULL;
    if (o == NULL || out == NULL)
        return KMQTT_EINVAL;
    options_resolve(o, &opt);
    err = options_check(&opt);
    if (err != KMQTT_OK)
        return err;
    storage_size = kc_session_size(&opt);

    err = client_alloc(&opt, &c);
    if (err != KMQTT_OK)
        return err;
    c->opt = opt;
    c->state = KMQTT_STATE_DISCONNECTED;
    c->connect_result = KMQTT_OK;
    c->last_err = KMQTT_OK;
    c->backoff_ms = opt.reconnect_min_ms;
    c->resub_next = opt.max_subscriptions;
    err = client_setup(c, &opt, storage_size);
    if (err == KMQTT_OK)
        err = kc_v5_setup(c, &opt); /* 5.0 property lists (client_v5_setup.c) */
    /* The engine over its block, then what a store kept (client_persist.c). */
    if (err == KMQTT_OK)
        err = kc_session_setup(c);
    if (err == KMQTT_OK)
        err = kc_persist_setup(c);
    if (err != KMQTT_OK) {
        client_free(c);
        return err;
    }
    c->tr_owned = true;
    c->opt.transport = NULL;
    c->opt.servers = NULL; /* the caller's string: parsed into c->servers */
    kmqtt_port_mem_register(&c->mem, c->mx);
    *out = c;
    return KMQTT_OK;
}

/* ------------------------------------------------ application memory */

/* Adds the arena bytes of one kmqtt_mem_alloc of n bytes; a zero cost
 * (overflow) or a wrapping sum poisons the total to 0. */
static void need_add(size_t *total, bool debug, size_t n)
{
    size_t cost = kmqtt_mem_arena_cost(kmqtt_mem_backend_request(debug, n));

    if (*total == 0 || cost == 0 || cost > SIZE_MAX - *total)
        *total = 0;
    else
        *total += cost;
}

/* Must list every block client_alloc and client_setup take, in any order,
 * plus the later ones (the thread handle); tests/integration/test_client_memory.c
 * checks that the sum is exact. */
size_t kmqtt_client_memory_size(const kmqtt_client_options_t *in)
{
    kmqtt_client_options_t o;
    size_t total = KC_ARENA_RECORD;
    size_t subs, storage;
    bool dbg;

    if (in == NULL)
        return 0;
    options_resolve(in, &o);
    o.memory = &total; /* checked as if given: its value is not ours to judge */
    if (options_check(&o) != KMQTT_OK)
        return 0;
    storage = kc_session_size(&o);
    dbg = o.mem_debug;
    subs = o.max_subscriptions;
    need_add(&total, dbg, sizeof(kmqtt_client_t));
    need_add(&total, dbg, kmqtt_port_mutex_size());
    need_add(&total, dbg, kmqtt_port_cond_size());
    need_add(&total, dbg, strings_size(&o));
    if (o.servers != NULL)
        need_add(&total, dbg, kc_servers_size(o.servers));
    need_add(&total, dbg, storage);
    need_add(&total, dbg, subs * sizeof(kc_handler_t));
    need_add(&total, dbg, 2 * subs * sizeof(kc_match_t));
    need_add(&total, dbg, o.rx_buffer_size);
    need_add(&total, dbg, (size_t)o.max_inflight * sizeof(uint16_t));
    need_add(&total, dbg, subs * ((size_t)o.max_filter_len + 1));
    if (o.transport == NULL)
        need_add(&total, dbg, kmqtt_port_tcp_size());
    need_add(&total, dbg, kmqtt_port_thread_size());
    /* 5.0: property lists and strings copied at create, CONNACK strings */
    if (kc_v5_block_size(&o) != 0) {
        need_add(&total, dbg, kc_v5_block_size(&o));
        need_add(&total, dbg, KMQTT_CONNACK_STR_MAX);
    }
    /* store and forward: the offline queue's ring and the one-record
     * persistence buffer. Restoring from a store at create also takes a
     * transient table of one entry per stored record (docs/no-malloc.md). */
    if (kc_queue_memory_size(&o) != 0)
        need_add(&total, dbg, kc_queue_memory_size(&o));
    if (kc_persist_memory_size(&o) != 0)
        need_add(&total, dbg, kc_persist_memory_size(&o));
    return total;
}

void kmqtt_client_destroy(kmqtt_client_t *c)
{
    if (c == NULL)
        return;
    (void)kmqtt_disconnect(c, NULL);
    /* A thread told to stop by a handler's disconnect is joined here. */
    kc_lock(c);
    kc_bg_reap(c);
    kc_unlock(c);
    kmqtt_port_mem_unregister(&c->mem);
    client_free(c);
}

kmqtt_mem_t *kmqtt_client_mem(kmqtt_client_t *c)
{
    return c == NULL ? NULL : &c->mem;
}

kmqtt_conn_state_t kmqtt_client_state(kmqtt_client_t *c)
{
    kmqtt_conn_state_t st;

    if (c == NULL)
        return KMQTT_STATE_DISCONNECTED;
    kc_lock(c);
    st = c->state;
    kc_unlock(c);
    return st;
}
