/*
 * Client creation and destruction: options, the client's own memory
 * context, and every block the client holds for its lifetime.
 *
 * Everything a connection needs (session storage, handler table, dispatch
 * arrays, the message scratch buffer, the in-flight id table) is allocated
 * here, once, so that connecting, publishing and receiving allocate nothing
 * (architecture rule 5). Only a new subscription's filter copy is allocated
 * later, when its SUBACK arrives.
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
    o->keepalive_s = 60;
    o->clean_session = true;
    o->rx_buffer_size = 4096;
    o->tx_buffer_size = 4096;
    o->store_size = 8192;
    o->max_inflight = 20;
    o->max_subscriptions = 32;
    o->connect_timeout_ms = 10000;
    o->reconnect_min_ms = 500;
    o->reconnect_max_ms = 30000;
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
        o->rx_buffer_size = 4096;
    if (o->tx_buffer_size == 0)
        o->tx_buffer_size = 4096;
    if (o->store_size == 0)
        o->store_size = 8192;
    if (o->max_inflight == 0)
        o->max_inflight = 20;
    if (o->max_subscriptions == 0)
        o->max_subscriptions = 32;
    if (o->max_topic_len == 0)
        o->max_topic_len = KMQTT_CFG_MAX_TOPIC_LEN;
    if (o->connect_timeout_ms == 0)
        o->connect_timeout_ms = 10000;
    if (o->reconnect_min_ms == 0)
        o->reconnect_min_ms = 500;
    if (o->reconnect_max_ms == 0)
        o->reconnect_max_ms = 30000;
    /* A maximum below the minimum (say, only the minimum raised): the
     * backoff simply stays at the minimum. */
    if (o->reconnect_max_ms < o->reconnect_min_ms)
        o->reconnect_max_ms = o->reconnect_min_ms;
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
        if (kmqtt_topic_name_validate(o->will_topic, strlen(o->will_topic)) != KMQTT_OK)
            return KMQTT_EINVAL;
        if (o->will_payload_len > KMQTT_STRING_MAX ||
            (o->will_payload == NULL && o->will_payload_len != 0))
            return KMQTT_EINVAL;
    }
    /* Every buffer size must fit the session's uint32_t offsets. */
    if (o->store_size > UINT32_MAX || o->rx_buffer_size > KMQTT_PACKET_MAX)
        return KMQTT_EINVAL;
    return KMQTT_OK;
}

static void session_config(const kmqtt_client_options_t *o, kmqtt_session_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->version = o->version;
    cfg->keepalive_s = o->keepalive_s;
    cfg->max_inflight = o->max_inflight;
    /* Announced as Receive Maximum in 5.0, so the broker never has more
     * unreleased QoS 2 messages towards us than this table holds. */
    /* 5.0: the Receive Maximum we announce bounds what the server leaves
     * unreleased. 3.1.1 has no such bound: track every packet id. */
    cfg->max_inbound_qos2 = o->version == KMQTT_V5 ? o->max_inflight : 0;
    cfg->max_pending = KC_MAX_REQUESTS;
    cfg->rx_buffer_size = o->rx_buffer_size;
    cfg->tx_buffer_size = o->tx_buffer_size;
    cfg->store_size = o->store_size;
    cfg->retry_ms = o->retry_ms;
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

    c->strings = kmqtt_mem_alloc(&c->mem, "str", host + id + user + pass + wt + wp + 4);
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
 * live in the memory being freed. */
/* Clears n bytes through a volatile pointer: a memset just before free is a
 * dead store the compiler may drop, and this must not be dropped. */
static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}

static void client_free(kmqtt_client_t *c)
{
    kmqtt_mem_t last;
    kmqtt_mem_t *parent = c->parent;
    kmqtt_mem_backend_t *pb = c->parent_backend;

    if (c->tr_owned && c->tr.destroy != NULL)
        c->tr.destroy(c->tr.ctx);
    kc_handlers_free(c);
    (void)kmqtt_mem_free(&c->mem, c->handlers);
    (void)kmqtt_mem_free(&c->mem, c->match);
    (void)kmqtt_mem_free(&c->mem, c->scratch);
    (void)kmqtt_mem_free(&c->mem, c->inflight_ids);
    /* The credentials, and the session buffers the CONNECT packet that
     * carried them went through. */
    if (c->storage != NULL)
        wipe(c->storage, c->storage_size);
    if (c->strings != NULL) {
        if (c->opt.username != NULL)
            wipe(c->strings + (c->opt.username - c->strings), c->username_len);
        if (c->opt.password != NULL)
            wipe(c->strings + ((const char *)c->opt.password - c->strings), c->opt.password_len);
    }
    (void)kmqtt_mem_free(&c->mem, c->storage);
    (void)kmqtt_mem_free(&c->mem, c->strings);
    (void)kmqtt_mem_free(&c->mem, c->servers_block);
    kmqtt_port_cond_destroy(&c->mem, c->cv);
    kmqtt_port_mutex_destroy(&c->mem, c->mx);
    last = c->mem;
    (void)kmqtt_mem_free(&last, c);
    if (parent != NULL)
        (void)kmqtt_mem_free(parent, pb);
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
    if (o->mem != NULL) {
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
    c->parent = o->mem;
    c->parent_backend = pb;
    *out = c;
    return KMQTT_OK;
}

static kmqtt_err_t client_setup(kmqtt_client_t *c, const kmqtt_client_options_t *o,
                                const kmqtt_session_config_t *cfg, size_t storage_size)
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
    c->scratch_size = c->opt.rx_buffer_size;
    err = kmqtt_session_init(&c->s, cfg, c->storage, storage_size);
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
    kmqtt_session_config_t cfg;
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
    if (opt.transport != NULL && (opt.transport->open == NULL || opt.transport->send == NULL ||
                                  opt.transport->recv == NULL || opt.transport->wait == NULL ||
                                  opt.transport->wake == NULL || opt.transport->close == NULL ||
                                  opt.transport->destroy == NULL))
        return KMQTT_EINVAL;
    session_config(&opt, &cfg);
    storage_size = kmqtt_session_storage_size(&cfg);
    if (storage_size == 0)
        return KMQTT_EINVAL;

    err = client_alloc(&opt, &c);
    if (err != KMQTT_OK)
        return err;
    c->opt = opt;
    c->state = KMQTT_STATE_DISCONNECTED;
    c->connect_result = KMQTT_OK;
    c->last_err = KMQTT_OK;
    c->backoff_ms = opt.reconnect_min_ms;
    c->resub_next = opt.max_subscriptions;
    err = client_setup(c, &opt, &cfg, storage_size);
    if (err != KMQTT_OK) {
        client_free(c);
        return err;
    }
    c->tr_owned = true;
    c->opt.transport = NULL;
    c->opt.servers = NULL; /* the caller's string: parsed into c->servers */
    *out = c;
    return KMQTT_OK;
}

void kmqtt_client_destroy(kmqtt_client_t *c)
{
    if (c == NULL)
        return;
    (void)kmqtt_disconnect(c);
    /* A thread told to stop by a handler's disconnect is joined here. */
    kc_lock(c);
    kc_bg_reap(c);
    kc_unlock(c);
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
