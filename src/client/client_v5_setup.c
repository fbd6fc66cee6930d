/*
 * MQTT 5.0 at create: the CONNECT and will property lists. Both are built
 * once, in one block (tag "v5") with copies of every string they name, so
 * nothing is allocated per connection and the caller's options are not
 * used after create. The same block ends with room for a server-assigned
 * client id kept for later connects.
 */
#include "client_internal.h"

#if KMQTT_CFG_V5

static kmqtt_err_t user_props_check(const kmqtt_user_prop_t *u, size_t n)
{
    size_t i;

    if (n != 0 && u == NULL)
        return KMQTT_EINVAL;
    for (i = 0; i < n; i++) {
        if (!kc_text_ok(u[i].name) || !kc_text_ok(u[i].value))
            return KMQTT_EINVAL;
    }
    return KMQTT_OK;
}

static kmqtt_err_t will_check(const kmqtt_publish_props_t *w, const kmqtt_client_options_t *o)
{
    if (w->payload_format > 1)
        return KMQTT_EINVAL;
    if (w->payload_format == 1 && o->will_payload_len != 0 &&
        kmqtt_utf8_validate(o->will_payload, o->will_payload_len) != KMQTT_OK)
        return KMQTT_EINVAL;
    if (w->content_type != NULL && !kc_text_ok(w->content_type))
        return KMQTT_EINVAL;
    if (w->response_topic != NULL &&
        kmqtt_topic_name_validate(w->response_topic, strlen(w->response_topic)) != KMQTT_OK)
        return KMQTT_EINVAL;
    if (w->correlation_len > KMQTT_STRING_MAX ||
        (w->correlation_data == NULL && w->correlation_len != 0))
        return KMQTT_EINVAL;
    return user_props_check(w->user_props, w->user_prop_count);
}

/* Bytes of the strings a property list copies. */
static size_t user_bytes(const kmqtt_user_prop_t *u, size_t n)
{
    size_t i, sum = 0;

    for (i = 0; i < n; i++)
        sum += strlen(u[i].name) + strlen(u[i].value) + 2;
    return sum;
}

static size_t will_bytes(const kmqtt_publish_props_t *w)
{
    size_t sum = user_bytes(w->user_props, w->user_prop_count) + w->correlation_len;

    if (w->content_type != NULL)
        sum += strlen(w->content_type) + 1;
    if (w->response_topic != NULL)
        sum += strlen(w->response_topic) + 1;
    return sum;
}

/* Property slots: every fixed property a list may hold, and the user ones
 * (w: the will's properties, NULL = none). */
static size_t connect_slots(const kmqtt_client_options_t *o)
{
    return 5 + o->user_prop_count;
}

static size_t will_slots(const kmqtt_publish_props_t *w)
{
    return w == NULL ? 0 : 6 + w->user_prop_count;
}

static kmqtt_str_t copy_str(char **at, const char *s)
{
    kmqtt_str_t v;

    v.len = strlen(s);
    v.ptr = *at;
    memcpy(*at, s, v.len + 1);
    *at += v.len + 1;
    return v;
}

static kmqtt_bin_t copy_bin(char **at, const void *data, size_t len)
{
    kmqtt_bin_t v;

    v.ptr = (const uint8_t *)*at;
    v.len = len;
    if (len != 0)
        memcpy(*at, data, len);
    *at += len;
    return v;
}

static void add_users(kmqtt_prop_t *list, size_t *n, const kmqtt_user_prop_t *u, size_t count,
                      char **at)
{
    size_t i;
    kmqtt_prop_t *p;

    for (i = 0; i < count; i++) {
        p = kc_prop_add(list, n, KMQTT_PROP_USER_PROPERTY, 0);
        p->str = copy_str(at, u[i].name);
        p->value = copy_str(at, u[i].value);
    }
}

static void connect_list(kmqtt_client_t *c, const kmqtt_client_options_t *o, char **at)
{
    kmqtt_prop_t *l = c->v5.props;
    size_t *n = &c->v5.nprops;
    kmqtt_prop_t *p;

    if (o->session_expiry_s != 0)
        (void)kc_prop_add(l, n, KMQTT_PROP_SESSION_EXPIRY_INTERVAL, o->session_expiry_s);
    /* Receive Maximum, Maximum Packet Size and Topic Alias Maximum are the
     * engine's to advertise: its inbound table, receive buffer and alias
     * slots (client_session.c sizes them from the options). */
    if (o->request_response_info)
        (void)kc_prop_add(l, n, KMQTT_PROP_REQUEST_RESPONSE_INFORMATION, 1);
    if (o->no_problem_info)
        (void)kc_prop_add(l, n, KMQTT_PROP_REQUEST_PROBLEM_INFORMATION, 0);
    if (o->auth_method != NULL) {
        p = kc_prop_add(l, n, KMQTT_PROP_AUTHENTICATION_METHOD, 0);
        p->str = copy_str(at, o->auth_method);
        c->v5.auth_method = p;
        if (o->auth_data != NULL)
            kc_prop_add(l, n, KMQTT_PROP_AUTHENTICATION_DATA, 0)->bin =
                copy_bin(at, o->auth_data, o->auth_data_len);
    }
    add_users(l, n, o->user_props, o->user_prop_count, at);
}

static void will_list(kmqtt_client_t *c, const kmqtt_publish_props_t *w, char **at)
{
    kmqtt_prop_t *l = c->v5.will_props;
    size_t *n = &c->v5.nwill;

    if (w->will_delay_s != 0)
        (void)kc_prop_add(l, n, KMQTT_PROP_WILL_DELAY_INTERVAL, w->will_delay_s);
    if (w->payload_format != 0)
        (void)kc_prop_add(l, n, KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, w->payload_format);
    if (w->message_expiry_s != 0)
        (void)kc_prop_add(l, n, KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL, w->message_expiry_s);
    if (w->content_type != NULL)
        kc_prop_add(l, n, KMQTT_PROP_CONTENT_TYPE, 0)->str = copy_str(at, w->content_type);
    if (w->response_topic != NULL)
        kc_prop_add(l, n, KMQTT_PROP_RESPONSE_TOPIC, 0)->str = copy_str(at, w->response_topic);
    if (w->correlation_data != NULL)
        kc_prop_add(l, n, KMQTT_PROP_CORRELATION_DATA, 0)->bin =
            copy_bin(at, w->correlation_data, w->correlation_len);
    add_users(l, n, w->user_props, w->user_prop_count, at);
}

/* A server-assigned id is worth keeping only if the session it names
 * outlives the connection (3.2.2.3.7). */
static bool keeps_assigned_id(const kmqtt_client_options_t *o)
{
    return o->server_assigned_id && o->session_expiry_s != 0;
}

/* The one block kc_v5_setup allocates for o's property lists and strings
 * (0 for a 3.1.1 client; it also takes KMQTT_CONNACK_STR_MAX for CONNACK
 * strings). kmqtt_client_memory_size counts both. */
size_t kc_v5_block_size(const kmqtt_client_options_t *o)
{
    const kmqtt_publish_props_t *w = o->has_will ? o->will_props : NULL;

    if (o->version != KMQTT_V5)
        return 0;
    return (connect_slots(o) + will_slots(w)) * sizeof(kmqtt_prop_t) +
           user_bytes(o->user_props, o->user_prop_count) + (w == NULL ? 0 : will_bytes(w)) +
           (o->auth_method == NULL ? 0 : strlen(o->auth_method) + 1 + o->auth_data_len) +
           (o->redirect_max_hops != 0 ? KMQTT_REDIRECT_HOST_MAX + 1 : 0) +
           (keeps_assigned_id(o) ? KMQTT_ASSIGNED_ID_MAX + 1 : 0);
}

kmqtt_err_t kc_v5_options_check(const kmqtt_client_options_t *o)
{
    kmqtt_err_t err;

    if (o->maximum_packet_size > o->rx_buffer_size && o->on_message_piece == NULL)
        return KMQTT_EINVAL;
    if (o->auth_method != NULL &&
        (!kc_text_ok(o->auth_method) || o->auth_data_len > KMQTT_STRING_MAX ||
         (o->auth_data == NULL && o->auth_data_len != 0)))
        return KMQTT_EINVAL;
    err = user_props_check(o->user_props, o->user_prop_count);
    if (err == KMQTT_OK && o->has_will && o->will_props != NULL)
        err = will_check(o->will_props, o);
    return err;
}

kmqtt_err_t kc_v5_setup(kmqtt_client_t *c, const kmqtt_client_options_t *o)
{
    const kmqtt_publish_props_t *w = o->has_will ? o->will_props : NULL;
    size_t bytes;
    char *at;
    kmqtt_err_t err;

    if (o->version != KMQTT_V5)
        return KMQTT_OK;
    err = kc_v5_options_check(o);
    if (err != KMQTT_OK)
        return err;
    bytes = kc_v5_block_size(o);
    c->v5.block = kmqtt_mem_alloc(&c->mem, "v5", bytes);
    c->v5.block_size = c->v5.block != NULL ? bytes : 0;
    c->v5.connack_str = kmqtt_mem_alloc(&c->mem, "v5", KMQTT_CONNACK_STR_MAX);
    if (c->v5.block == NULL || c->v5.connack_str == NULL)
        return KMQTT_ENOMEM;
    c->v5.props = c->v5.block;
    c->v5.will_props = c->v5.props + connect_slots(o);
    at = (char *)(c->v5.will_props + will_slots(w));
    connect_list(c, o, &at);
    if (w != NULL)
        will_list(c, w, &at);
    if (o->redirect_max_hops != 0) {
        c->v5.redir_host = at; /* client_redirect.c */
        at += KMQTT_REDIRECT_HOST_MAX + 1;
    }
    if (keeps_assigned_id(o))
        c->v5.assigned_id = at; /* the block's last KMQTT_ASSIGNED_ID_MAX + 1 bytes */
    /* The caller's arrays are not used after create. */
    c->opt.user_props = NULL;
    c->opt.user_prop_count = 0;
    c->opt.will_props = NULL;
    c->opt.auth_method = NULL;
    c->opt.auth_data = NULL;
    return KMQTT_OK;
}

void kc_v5_free(kmqtt_client_t *c)
{
    /* The copy of the Authentication Data (and user properties, which may
     * carry tokens) lives in block; the CONNACK's strings may carry the
     * server's answer. Neither outlives the client. */
    if (c->v5.block != NULL)
        kmqtt_mem_wipe(c->v5.block, c->v5.block_size);
    if (c->v5.connack_str != NULL)
        kmqtt_mem_wipe(c->v5.connack_str, KMQTT_CONNACK_STR_MAX);
    (void)kmqtt_mem_free(&c->mem, c->v5.block);
    (void)kmqtt_mem_free(&c->mem, c->v5.connack_str);
    c->v5.block = NULL;
    c->v5.block_size = 0;
    c->v5.connack_str = NULL;
    c->v5.assigned_id = NULL;
    c->v5.redir_host = NULL;
}

void kc_v5_connect_props(const kmqtt_client_t *c, kmqtt_connect_t *p)
{
    if (c->opt.version != KMQTT_V5)
        return;
    if (c->opt.server_assigned_id) {
        p->client_id.len = 0; /* the server assigns one (3.1.3.1) */
        /* ... once: later connections resume the session it named
         * (3.2.2.3.7); kc_v5_connect_check refused an id that did not fit. */
        if (c->v5.assigned_id != NULL && c->v5.assigned_len != 0) {
            p->client_id.ptr = c->v5.assigned_id;
            p->client_id.len = c->v5.assigned_len;
        }
    }
    p->props.items = c->v5.props;
    p->props.count = c->v5.nprops;
    if (p->has_will) {
        p->will.props.items = c->v5.will_props;
        p->will.props.count = c->v5.nwill;
    }
}

#endif /* KMQTT_CFG_V5 */
