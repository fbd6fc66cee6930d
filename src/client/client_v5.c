/*
 * MQTT 5.0 on the client side: the CONNECT and will properties (copied at
 * create), what CONNACK and a server DISCONNECT said, the server's
 * capabilities checked before anything is sent, and the getters for a
 * received message's properties.
 *
 * Nothing here allocates after create: the property lists of CONNECT and
 * the will live in one block made at create, CONNACK strings are copied
 * into a fixed block (KMQTT_CONNACK_STR_MAX) made at create too.
 */
#include "client_internal.h"

#if KMQTT_CFG_V5

/* ------------------------------------------------------------- at create */

static bool text_ok(const char *s)
{
    size_t len;

    if (s == NULL)
        return false;
    len = strlen(s);
    return len <= KMQTT_STRING_MAX && kmqtt_utf8_validate(s, len) == KMQTT_OK;
}

static kmqtt_err_t user_props_check(const kmqtt_user_prop_t *u, size_t n)
{
    size_t i;

    if (n != 0 && u == NULL)
        return KMQTT_EINVAL;
    for (i = 0; i < n; i++) {
        if (!text_ok(u[i].name) || !text_ok(u[i].value))
            return KMQTT_EINVAL;
    }
    return KMQTT_OK;
}

static kmqtt_err_t will_check(const kmqtt_pub_props_t *w, const kmqtt_client_options_t *o)
{
    if (w->payload_format > 1)
        return KMQTT_EINVAL;
    if (w->payload_format == 1 && o->will_payload_len != 0 &&
        kmqtt_utf8_validate(o->will_payload, o->will_payload_len) != KMQTT_OK)
        return KMQTT_EINVAL;
    if (w->content_type != NULL && !text_ok(w->content_type))
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

static size_t will_bytes(const kmqtt_pub_props_t *w)
{
    size_t sum = user_bytes(w->user_props, w->user_prop_count) + w->correlation_len;

    if (w->content_type != NULL)
        sum += strlen(w->content_type) + 1;
    if (w->response_topic != NULL)
        sum += strlen(w->response_topic) + 1;
    return sum;
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

static kmqtt_prop_t *add(kmqtt_prop_t *list, size_t *n, kmqtt_prop_id_t id, uint32_t num)
{
    kmqtt_prop_t *p = &list[(*n)++];

    memset(p, 0, sizeof *p);
    p->id = id;
    p->num = num;
    return p;
}

static void add_users(kmqtt_prop_t *list, size_t *n, const kmqtt_user_prop_t *u, size_t count,
                      char **at)
{
    size_t i;
    kmqtt_prop_t *p;

    for (i = 0; i < count; i++) {
        p = add(list, n, KMQTT_PROP_USER_PROPERTY, 0);
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
        (void)add(l, n, KMQTT_PROP_SESSION_EXPIRY_INTERVAL, o->session_expiry_s);
    /* The server may leave at most this many QoS 1/2 messages towards us
     * unacknowledged (MQTT-3.3.4-9): the inbound QoS 2 table's size. */
    (void)add(l, n, KMQTT_PROP_RECEIVE_MAXIMUM,
              o->receive_maximum != 0 ? o->receive_maximum : o->max_inflight);
    /* Nothing larger than the receive buffer can be taken: the server
     * must not send it (MQTT-3.1.2-24, it drops such a message instead). */
    (void)add(l, n, KMQTT_PROP_MAXIMUM_PACKET_SIZE,
              o->maximum_packet_size != 0 ? o->maximum_packet_size : (uint32_t)o->rx_buffer_size);
    if (o->topic_alias_maximum != 0)
        (void)add(l, n, KMQTT_PROP_TOPIC_ALIAS_MAXIMUM, o->topic_alias_maximum);
    if (o->request_response_info)
        (void)add(l, n, KMQTT_PROP_REQUEST_RESPONSE_INFORMATION, 1);
    if (o->no_problem_info)
        (void)add(l, n, KMQTT_PROP_REQUEST_PROBLEM_INFORMATION, 0);
    if (o->auth_method != NULL) {
        p = add(l, n, KMQTT_PROP_AUTHENTICATION_METHOD, 0);
        p->str = copy_str(at, o->auth_method);
        c->v5.auth_method = p;
        if (o->auth_data != NULL) {
            p = add(l, n, KMQTT_PROP_AUTHENTICATION_DATA, 0);
            p->bin.ptr = (const uint8_t *)*at;
            p->bin.len = o->auth_data_len;
            if (o->auth_data_len != 0)
                memcpy(*at, o->auth_data, o->auth_data_len);
            *at += o->auth_data_len;
        }
    }
    add_users(l, n, o->user_props, o->user_prop_count, at);
}

static void will_list(kmqtt_client_t *c, const kmqtt_pub_props_t *w, char **at)
{
    kmqtt_prop_t *l = c->v5.will_props;
    size_t *n = &c->v5.nwill;
    kmqtt_prop_t *p;

    if (w->will_delay_s != 0)
        (void)add(l, n, KMQTT_PROP_WILL_DELAY_INTERVAL, w->will_delay_s);
    if (w->payload_format != 0)
        (void)add(l, n, KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, w->payload_format);
    if (w->message_expiry_s != 0)
        (void)add(l, n, KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL, w->message_expiry_s);
    if (w->content_type != NULL)
        add(l, n, KMQTT_PROP_CONTENT_TYPE, 0)->str = copy_str(at, w->content_type);
    if (w->response_topic != NULL)
        add(l, n, KMQTT_PROP_RESPONSE_TOPIC, 0)->str = copy_str(at, w->response_topic);
    if (w->correlation_data != NULL) {
        p = add(l, n, KMQTT_PROP_CORRELATION_DATA, 0);
        p->bin.ptr = (const uint8_t *)*at;
        p->bin.len = w->correlation_len;
        if (w->correlation_len != 0)
            memcpy(*at, w->correlation_data, w->correlation_len);
        *at += w->correlation_len;
    }
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
    const kmqtt_pub_props_t *w = o->has_will ? o->will_props : NULL;
    size_t nconn, nwill;

    if (o->version != KMQTT_V5)
        return 0;
    nconn = 8 + o->user_prop_count;
    nwill = w == NULL ? 0 : 6 + w->user_prop_count;
    return (nconn + nwill) * sizeof(kmqtt_prop_t) + user_bytes(o->user_props, o->user_prop_count) +
           (w == NULL ? 0 : will_bytes(w)) +
           (o->auth_method == NULL ? 0 : strlen(o->auth_method) + 1 + o->auth_data_len) +
           (keeps_assigned_id(o) ? KMQTT_ASSIGNED_ID_MAX + 1 : 0);
}

kmqtt_err_t kc_v5_setup(kmqtt_client_t *c, const kmqtt_client_options_t *o)
{
    const kmqtt_pub_props_t *w = o->has_will ? o->will_props : NULL;
    size_t nconn, nwill, bytes;
    char *at;
    kmqtt_err_t err;

    if (o->version != KMQTT_V5)
        return KMQTT_OK;
    if (o->maximum_packet_size > o->rx_buffer_size)
        return KMQTT_EINVAL;
    if (o->auth_method != NULL &&
        (!text_ok(o->auth_method) || o->auth_data_len > KMQTT_STRING_MAX ||
         strlen(o->auth_method) > LEGACY_SESSION_AUTH_METHOD_MAX ||
         (o->auth_data == NULL && o->auth_data_len != 0)))
        return KMQTT_EINVAL;
    err = user_props_check(o->user_props, o->user_prop_count);
    if (err == KMQTT_OK && w != NULL)
        err = will_check(w, o);
    if (err != KMQTT_OK)
        return err;
    nconn = 8 + o->user_prop_count;
    nwill = w == NULL ? 0 : 6 + w->user_prop_count;
    bytes = kc_v5_block_size(o);
    c->v5.block = kmqtt_mem_alloc(&c->mem, "v5", bytes);
    c->v5.block_size = c->v5.block != NULL ? bytes : 0;
    c->v5.connack_str = kmqtt_mem_alloc(&c->mem, "v5", KMQTT_CONNACK_STR_MAX);
    if (c->v5.block == NULL || c->v5.connack_str == NULL)
        return KMQTT_ENOMEM;
    c->v5.props = c->v5.block;
    c->v5.will_props = c->v5.props + nconn;
    at = (char *)(c->v5.will_props + nwill);
    connect_list(c, o, &at);
    if (w != NULL)
        will_list(c, w, &at);
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

/* --------------------------------------------------------------- CONNACK */

/* Copies a string property into the CONNACK strings block. */
static const char *keep(kmqtt_client_t *c, size_t *used, const kmqtt_prop_t *p)
{
    char *dst;

    if (*used + p->str.len + 1 > KMQTT_CONNACK_STR_MAX) {
        c->connack.strings_dropped = true;
        return NULL;
    }
    dst = c->v5.connack_str + *used;
    memcpy(dst, p->str.ptr, p->str.len);
    dst[p->str.len] = '\0';
    *used += p->str.len + 1;
    return dst;
}

/* Keeps an assigned client id for the next connects, or notes that it
 * cannot be (kc_v5_connect_check then refuses them). */
static void keep_assigned_id(kmqtt_client_t *c, const kmqtt_prop_t *p)
{
    if (c->v5.assigned_id == NULL)
        return;
    c->v5.assigned_too_long = p->str.len > KMQTT_ASSIGNED_ID_MAX;
    if (c->v5.assigned_too_long) {
        c->v5.assigned_len = 0;
        return;
    }
    memcpy(c->v5.assigned_id, p->str.ptr, p->str.len);
    c->v5.assigned_id[p->str.len] = '\0';
    c->v5.assigned_len = p->str.len;
}

/* Before a connect: a session named by an assigned id too long to keep
 * cannot be resumed, and asking for a new id would silently start another
 * session; the attempt fails instead. mx held. */
kmqtt_err_t kc_v5_connect_check(const kmqtt_client_t *c)
{
    return c->v5.assigned_too_long ? KMQTT_ELIMIT : KMQTT_OK;
}

void kc_v5_connack(kmqtt_client_t *c, const legacy_event_t *ev)
{
    kmqtt_connack_info_t *ci = &c->connack;
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;
    size_t used = 0;

    c->v5.have_connack = true;
    if (c->opt.version != KMQTT_V5)
        return;
    ci->receive_maximum = 65535;
    ci->maximum_qos = 2;
    ci->retain_available = true;
    ci->wildcard_available = true;
    ci->subscription_id_available = true;
    ci->shared_available = true;
    kmqtt_prop_iter_init(&it, &ev->packet.u.connack.props);
    while (kmqtt_prop_iter_next(&it, &p)) {
        switch (p.id) {
        case KMQTT_PROP_REASON_STRING:
            ci->reason_string = keep(c, &used, &p);
            break;
        case KMQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER:
            ci->assigned_client_id = keep(c, &used, &p);
            if (ev->reason_code < 0x80)
                keep_assigned_id(c, &p);
            break;
        case KMQTT_PROP_RESPONSE_INFORMATION:
            ci->response_information = keep(c, &used, &p);
            break;
        case KMQTT_PROP_SERVER_REFERENCE:
            ci->server_reference = keep(c, &used, &p);
            break;
        case KMQTT_PROP_SERVER_KEEP_ALIVE:
            ci->server_keepalive_s = (uint16_t)p.num;
            break;
        case KMQTT_PROP_SESSION_EXPIRY_INTERVAL:
            ci->has_session_expiry = true;
            ci->session_expiry_s = p.num;
            break;
        case KMQTT_PROP_RECEIVE_MAXIMUM:
            ci->receive_maximum = (uint16_t)p.num;
            break;
        case KMQTT_PROP_MAXIMUM_QOS:
            ci->maximum_qos = (uint8_t)p.num;
            break;
        case KMQTT_PROP_RETAIN_AVAILABLE:
            ci->retain_available = p.num != 0;
            break;
        case KMQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
            ci->wildcard_available = p.num != 0;
            break;
        case KMQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
            ci->subscription_id_available = p.num != 0;
            break;
        case KMQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE:
            ci->shared_available = p.num != 0;
            break;
        case KMQTT_PROP_MAXIMUM_PACKET_SIZE:
            ci->maximum_packet_size = p.num;
            break;
        case KMQTT_PROP_TOPIC_ALIAS_MAXIMUM:
            ci->topic_alias_maximum = (uint16_t)p.num;
            break;
        default:
            break;
        }
    }
    c->v5.max_qos = ci->maximum_qos;
    c->v5.retain_ok = ci->retain_available;
    c->v5.wildcard_ok = ci->wildcard_available;
    c->v5.subid_ok = ci->subscription_id_available;
    c->v5.shared_ok = ci->shared_available;
}

#endif /* KMQTT_CFG_V5 */

kmqtt_err_t kmqtt_client_connack(kmqtt_client_t *c, kmqtt_connack_info_t *info)
{
    kmqtt_err_t err = KMQTT_ENOTCONN;

    if (info != NULL)
        memset(info, 0, sizeof *info);
    if (c == NULL || info == NULL)
        return KMQTT_EINVAL;
    kc_lock(c);
    if (c->v5.have_connack) {
        *info = c->connack;
        err = KMQTT_OK;
    }
    kc_unlock(c);
    return err;
}

#if KMQTT_CFG_V5

/* ------------------------------------------------------ server DISCONNECT */

/* Reported before the loss (the caller reports CONNECTION_LOST next), with
 * mx released for the callback; the turn is held, so the views stay. */
void kc_v5_server_disconnect(kmqtt_client_t *c, const legacy_event_t *ev)
{
    kmqtt_disconnect_fn fn = c->opt.on_disconnect;
    kmqtt_disconnect_info_t info;
    kmqtt_prop_t p;

    if (fn == NULL)
        return;
    memset(&info, 0, sizeof info);
    info.reason_code = ev->packet.u.disconnect.reason_code;
    if (kmqtt_props_find(&ev->packet.u.disconnect.props, KMQTT_PROP_REASON_STRING, &p))
        info.reason_string = p.str;
    if (kmqtt_props_find(&ev->packet.u.disconnect.props, KMQTT_PROP_SERVER_REFERENCE, &p))
        info.server_reference = p.str;
    kc_unlock(c);
    fn(c, &info, c->opt.ctx);
    kc_lock(c);
}

/* ------------------------------------------------------- publish results */

void kc_v5_publish_done(kmqtt_client_t *c, const legacy_event_t *ev)
{
    kmqtt_prop_t p;
    kmqtt_packet_type_t t = ev->packet.type;
    bool is_ack = t == KMQTT_PUBACK || t == KMQTT_PUBREC || t == KMQTT_PUBCOMP;

    c->v5.cb_reason_set = is_ack && ev->err == KMQTT_OK &&
                          kmqtt_props_find(&ev->packet.u.ack.props, KMQTT_PROP_REASON_STRING, &p);
    if (c->v5.cb_reason_set)
        c->v5.cb_reason = p.str;
    kc_publish_done(c, ev->packet_id, ev->err, ev->reason_code);
    c->v5.cb_reason_set = false;
}

/* Fills what the caller asked of a SUBACK / UNSUBACK (props NULL: clears
 * the outputs before the request goes). mx held. */
void kc_v5_ack_info(kmqtt_ack_info_t *info, const kmqtt_props_t *props)
{
    kmqtt_prop_iter_t it;
    kmqtt_prop_t p;

    if (info == NULL)
        return;
    info->has_reason = false;
    info->len = 0;
    info->user_prop_count = 0;
    if (info->reason_string != NULL && info->cap != 0)
        info->reason_string[0] = '\0';
    if (props == NULL)
        return;
    kmqtt_prop_iter_init(&it, props);
    while (kmqtt_prop_iter_next(&it, &p)) {
        if (p.id == KMQTT_PROP_USER_PROPERTY) {
            info->user_prop_count++;
        } else if (p.id == KMQTT_PROP_REASON_STRING) {
            info->has_reason = true;
            info->len = p.str.len;
            if (info->reason_string != NULL && p.str.len < info->cap) {
                memcpy(info->reason_string, p.str.ptr, p.str.len);
                info->reason_string[p.str.len] = '\0';
            }
        }
    }
}

uint32_t kmqtt_client_pubrel_failures(kmqtt_client_t *c, uint8_t *last_reason)
{
    uint32_t n;

    if (last_reason != NULL)
        *last_reason = 0;
    if (c == NULL)
        return 0;
    kc_lock(c);
    n = c->s.pubrel_failures;
    if (last_reason != NULL)
        *last_reason = c->s.pubrel_reason;
    kc_unlock(c);
    return n;
}

bool kmqtt_client_reason_string(kmqtt_client_t *c, kmqtt_str_t *out)
{
    /* Read without the lock: set and cleared by the loop's thread around
     * the callback, and only that thread may ask. */
    if (c == NULL || out == NULL || !c->v5.cb_reason_set)
        return false;
    *out = c->v5.cb_reason;
    return true;
}

/* ------------------------------------------------- server capabilities */

kmqtt_err_t kc_v5_publish_check(const kmqtt_client_t *c, uint8_t qos, bool retain)
{
    if (c->opt.version != KMQTT_V5 || !c->v5.have_connack)
        return KMQTT_OK;
    if (qos > c->v5.max_qos)
        return KMQTT_EUNSUPPORTED; /* MQTT-3.2.2-11 */
    if (retain && !c->v5.retain_ok)
        return KMQTT_EUNSUPPORTED; /* MQTT-3.2.2-14 */
    return KMQTT_OK;
}

static bool is_shared(const char *f)
{
    return kmqtt_topic_is_shared(f, strlen(f));
}

kmqtt_err_t kc_v5_subscribe_check(const kmqtt_client_t *c, const kmqtt_sub_request_t *subs,
                                  const kmqtt_sub_options_t *opts, size_t n)
{
    static const kmqtt_sub_options_t none;
    size_t i;

    for (i = 0; i < n; i++) {
        const char *f = subs[i].filter;
        const kmqtt_sub_options_t *o = opts != NULL ? &opts[i] : &none;
        bool v5opts = o->no_local || o->retain_as_published || o->retain_handling != 0 ||
                      o->subscription_id != 0;
        if (o->retain_handling > 2 || o->subscription_id > KMQTT_VARINT_MAX)
            return KMQTT_EINVAL;
        if (c->opt.version != KMQTT_V5) {
            if (v5opts)
                return KMQTT_EINVAL;
            continue;
        }
        if (opts != NULL && o->subscription_id != opts[0].subscription_id)
            return KMQTT_EINVAL; /* one Subscription Identifier per SUBSCRIBE */
        if (o->no_local && is_shared(f))
            return KMQTT_EINVAL; /* MQTT-3.8.3-4 */
        if (!c->v5.have_connack)
            continue;
        if (is_shared(f) && !c->v5.shared_ok)
            return KMQTT_EUNSUPPORTED;
        if (o->subscription_id != 0 && !c->v5.subid_ok)
            return KMQTT_EUNSUPPORTED;
        if ((strchr(f, '+') != NULL || strchr(f, '#') != NULL) && !c->v5.wildcard_ok)
            return KMQTT_EUNSUPPORTED;
    }
    return KMQTT_OK;
}

/* ------------------------------------- SUBSCRIBE / UNSUBSCRIBE / DISCONNECT */

/* Appends pp's properties to list (cap items, *n used); mxn not needed. */
kmqtt_err_t kc_v5_packet_props(const kmqtt_client_t *c, const kmqtt_packet_props_t *pp,
                               bool reason_ok, kmqtt_prop_t *list, size_t cap, size_t *n)
{
    kmqtt_prop_t *p;
    size_t i;

    if (pp == NULL || (pp->user_prop_count == 0 && pp->reason_string == NULL))
        return KMQTT_OK;
    if (c->opt.version != KMQTT_V5)
        return KMQTT_EINVAL;
    if (pp->reason_string != NULL && !reason_ok)
        return KMQTT_EINVAL;
    if (pp->user_prop_count > KMQTT_PUB_USER_PROPS_MAX || *n + pp->user_prop_count + 1 > cap)
        return KMQTT_ELIMIT;
    if (pp->user_prop_count != 0 && pp->user_props == NULL)
        return KMQTT_EINVAL;
    if (pp->reason_string != NULL) {
        p = add(list, n, KMQTT_PROP_REASON_STRING, 0);
        p->str.ptr = pp->reason_string;
        p->str.len = strlen(pp->reason_string);
    }
    for (i = 0; i < pp->user_prop_count; i++) {
        if (!text_ok(pp->user_props[i].name) || !text_ok(pp->user_props[i].value))
            return KMQTT_EINVAL;
        p = add(list, n, KMQTT_PROP_USER_PROPERTY, 0);
        p->str.ptr = pp->user_props[i].name;
        p->str.len = strlen(p->str.ptr);
        p->value.ptr = pp->user_props[i].value;
        p->value.len = strlen(p->value.ptr);
    }
    return KMQTT_OK;
}

/* ----------------------------------------------------------- publish_ex */

static kmqtt_err_t pub_list(const kmqtt_pub_props_t *pp, const void *payload, size_t len,
                            kmqtt_prop_t *l, size_t *n)
{
    size_t i;
    kmqtt_prop_t *p;

    if (pp->payload_format > 1 || pp->will_delay_s != 0)
        return KMQTT_EINVAL;
    if (pp->user_prop_count > KMQTT_PUB_USER_PROPS_MAX)
        return KMQTT_ELIMIT;
    if (pp->user_prop_count != 0 && pp->user_props == NULL)
        return KMQTT_EINVAL;
    if (pp->payload_format == 1) {
        /* 3.3.2.3.2: a payload said to be UTF-8 must be. */
        if (len != 0 && kmqtt_utf8_validate(payload, len) != KMQTT_OK)
            return KMQTT_EINVAL;
        (void)add(l, n, KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
    }
    if (pp->message_expiry_s != 0)
        (void)add(l, n, KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL, pp->message_expiry_s);
    if (pp->content_type != NULL) {
        p = add(l, n, KMQTT_PROP_CONTENT_TYPE, 0);
        p->str.ptr = pp->content_type;
        p->str.len = strlen(pp->content_type);
    }
    if (pp->response_topic != NULL) {
        p = add(l, n, KMQTT_PROP_RESPONSE_TOPIC, 0);
        p->str.ptr = pp->response_topic;
        p->str.len = strlen(pp->response_topic);
        /* MQTT-3.3.2-14: a topic name, not a filter. */
        if (kmqtt_topic_name_validate(p->str.ptr, p->str.len) != KMQTT_OK)
            return KMQTT_EINVAL;
    }
    if (pp->correlation_data != NULL) {
        p = add(l, n, KMQTT_PROP_CORRELATION_DATA, 0);
        p->bin.ptr = pp->correlation_data;
        p->bin.len = pp->correlation_len;
    }
    for (i = 0; i < pp->user_prop_count; i++) {
        if (pp->user_props[i].name == NULL || pp->user_props[i].value == NULL)
            return KMQTT_EINVAL;
        p = add(l, n, KMQTT_PROP_USER_PROPERTY, 0);
        p->str.ptr = pp->user_props[i].name;
        p->str.len = strlen(p->str.ptr);
        p->value.ptr = pp->user_props[i].value;
        p->value.len = strlen(p->value.ptr);
    }
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_publish_ex(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                             uint8_t qos, bool retain, const kmqtt_pub_props_t *props,
                             uint16_t *packet_id)
{
    kmqtt_prop_t list[5 + KMQTT_PUB_USER_PROPS_MAX];
    kmqtt_props_t pl;
    size_t n = 0;
    kmqtt_err_t err;

    if (packet_id != NULL)
        *packet_id = 0;
    if (c == NULL)
        return KMQTT_EINVAL;
    memset(&pl, 0, sizeof pl);
    if (props != NULL) {
        if (c->opt.version != KMQTT_V5)
            return KMQTT_EUNSUPPORTED;
        err = pub_list(props, payload, len, list, &n);
        if (err != KMQTT_OK)
            return err;
        pl.items = list;
        pl.count = n;
    }
    return kc_publish_props(c, topic, payload, len, qos, retain, n != 0 ? &pl : NULL, packet_id,
                            NULL);
}

/* ------------------------------------------- a received message's props */

bool kmqtt_next_user_prop(kmqtt_prop_iter_t *it, kmqtt_str_t *name, kmqtt_str_t *value)
{
    kmqtt_prop_t p;

    while (it != NULL && kmqtt_prop_iter_next(it, &p)) {
        if (p.id == KMQTT_PROP_USER_PROPERTY) {
            if (name != NULL)
                *name = p.str;
            if (value != NULL)
                *value = p.value;
            return true;
        }
    }
    return false;
}

bool kmqtt_next_subscription_id(kmqtt_prop_iter_t *it, uint32_t *id)
{
    kmqtt_prop_t p;

    while (it != NULL && kmqtt_prop_iter_next(it, &p)) {
        if (p.id == KMQTT_PROP_SUBSCRIPTION_IDENTIFIER) {
            if (id != NULL)
                *id = p.num;
            return true;
        }
    }
    return false;
}

static bool find(const kmqtt_publish_t *m, kmqtt_prop_id_t id, kmqtt_prop_t *p)
{
    return m != NULL && kmqtt_props_find(&m->props, id, p);
}

bool kmqtt_msg_content_type(const kmqtt_publish_t *msg, kmqtt_str_t *out)
{
    kmqtt_prop_t p;

    if (!find(msg, KMQTT_PROP_CONTENT_TYPE, &p))
        return false;
    if (out != NULL)
        *out = p.str;
    return true;
}

bool kmqtt_msg_response_topic(const kmqtt_publish_t *msg, kmqtt_str_t *out)
{
    kmqtt_prop_t p;

    if (!find(msg, KMQTT_PROP_RESPONSE_TOPIC, &p))
        return false;
    if (out != NULL)
        *out = p.str;
    return true;
}

bool kmqtt_msg_correlation_data(const kmqtt_publish_t *msg, kmqtt_bin_t *out)
{
    kmqtt_prop_t p;

    if (!find(msg, KMQTT_PROP_CORRELATION_DATA, &p))
        return false;
    if (out != NULL)
        *out = p.bin;
    return true;
}

bool kmqtt_msg_message_expiry(const kmqtt_publish_t *msg, uint32_t *seconds)
{
    kmqtt_prop_t p;

    if (!find(msg, KMQTT_PROP_MESSAGE_EXPIRY_INTERVAL, &p))
        return false;
    if (seconds != NULL)
        *seconds = p.num;
    return true;
}

uint8_t kmqtt_msg_payload_format(const kmqtt_publish_t *msg)
{
    kmqtt_prop_t p;

    return find(msg, KMQTT_PROP_PAYLOAD_FORMAT_INDICATOR, &p) ? (uint8_t)p.num : 0;
}

#else /* !KMQTT_CFG_V5: the 3.1.1 answers */

kmqtt_err_t kc_v5_subscribe_check(const kmqtt_client_t *c, const kmqtt_sub_request_t *subs,
                                  const kmqtt_sub_options_t *opts, size_t n)
{
    size_t i;

    (void)c;
    (void)subs;
    for (i = 0; opts != NULL && i < n; i++) {
        if (opts[i].no_local || opts[i].retain_as_published || opts[i].retain_handling != 0 ||
            opts[i].subscription_id != 0)
            return KMQTT_EINVAL;
    }
    return KMQTT_OK;
}

kmqtt_err_t kc_v5_packet_props(const kmqtt_client_t *c, const kmqtt_packet_props_t *pp,
                               bool reason_ok, kmqtt_prop_t *list, size_t cap, size_t *n)
{
    (void)c;
    (void)reason_ok;
    (void)list;
    (void)cap;
    (void)n;
    if (pp == NULL || (pp->user_prop_count == 0 && pp->reason_string == NULL))
        return KMQTT_OK;
    return KMQTT_EINVAL;
}

bool kmqtt_client_reason_string(kmqtt_client_t *c, kmqtt_str_t *out)
{
    (void)c;
    (void)out;
    return false;
}

kmqtt_err_t kmqtt_publish_ex(kmqtt_client_t *c, const char *topic, const void *payload, size_t len,
                             uint8_t qos, bool retain, const kmqtt_pub_props_t *props,
                             uint16_t *packet_id)
{
    if (packet_id != NULL)
        *packet_id = 0;
    if (c == NULL)
        return KMQTT_EINVAL;
    if (props != NULL)
        return KMQTT_EUNSUPPORTED;
    return kc_publish_props(c, topic, payload, len, qos, retain, NULL, packet_id, NULL);
}

/* A 3.1.1 message has no properties. */
bool kmqtt_next_user_prop(kmqtt_prop_iter_t *it, kmqtt_str_t *name, kmqtt_str_t *value)
{
    (void)it;
    (void)name;
    (void)value;
    return false;
}

bool kmqtt_next_subscription_id(kmqtt_prop_iter_t *it, uint32_t *id)
{
    (void)it;
    (void)id;
    return false;
}

bool kmqtt_msg_content_type(const kmqtt_publish_t *msg, kmqtt_str_t *out)
{
    (void)msg;
    (void)out;
    return false;
}

bool kmqtt_msg_response_topic(const kmqtt_publish_t *msg, kmqtt_str_t *out)
{
    (void)msg;
    (void)out;
    return false;
}

bool kmqtt_msg_correlation_data(const kmqtt_publish_t *msg, kmqtt_bin_t *out)
{
    (void)msg;
    (void)out;
    return false;
}

bool kmqtt_msg_message_expiry(const kmqtt_publish_t *msg, uint32_t *seconds)
{
    (void)msg;
    (void)seconds;
    return false;
}

uint8_t kmqtt_msg_payload_format(const kmqtt_publish_t *msg)
{
    (void)msg;
    return 0;
}

#endif /* KMQTT_CFG_V5 */
