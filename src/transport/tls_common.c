/*
 * Option copying, defaults and the handshake wait, shared by the OpenSSL and
 * mbedTLS transports.
 */
#include "tls_common.h"

#include <sys/socket.h> /* AF_INET: arpa/inet.h need not define it (RT-Thread's does not) */

#include <arpa/inet.h>
#include <string.h>

void kmqtt_tls_options_init(kmqtt_tls_options_t *o)
{
    if (o == NULL) {
        return;
    }
    memset(o, 0, sizeof(*o));
    o->min_version = KMQTT_TLS_1_2;
    o->skip_host_name_check = false;
    o->no_verification_at_all = false;
    o->session_resumption = true;
}

kmqtt_err_t tls_strdup(kmqtt_mem_t *m, const char *s, char **out)
{
    size_t n;
    *out = NULL;
    if (s == NULL) {
        return KMQTT_OK;
    }
    n = strlen(s) + 1;
    *out = kmqtt_mem_alloc(m, TLS_TAG, n);
    if (*out == NULL) {
        return KMQTT_ENOMEM;
    }
    memcpy(*out, s, n);
    return KMQTT_OK;
}

void tls_strfree(kmqtt_mem_t *m, char **s)
{
    if (*s != NULL) {
        /* Key material may sit in key_pem: clear before returning it. */
        kmqtt_mem_wipe(*s, strlen(*s));
        (void)kmqtt_mem_free(m, *s);
        *s = NULL;
    }
}

void tls_conf_free(kmqtt_mem_t *m, tls_conf_t *c)
{
    char **all[] = {&c->ca_file,  &c->ca_path, &c->ca_pem,      &c->cert_file, &c->key_file,
                    &c->cert_pem, &c->key_pem, &c->server_name, &c->alpn};
    size_t i;
    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tls_strfree(m, all[i]);
    }
    if (c->own.buf != NULL) {
        kmqtt_mem_wipe(c->own.buf, c->own.cap); /* a secret */
        (void)kmqtt_mem_free(m, c->own.buf);
        c->own.buf = NULL;
    }
}

void tls_session_stored(tls_conf_t *c)
{
    kmqtt_err_t err;
    if (c->store.put == NULL || c->session == NULL) {
        return;
    }
    err = c->session->len > 0
              ? c->store.put(c->store.ctx, KMQTT_TLS_STORE_KEY, c->session->buf, c->session->len)
              : c->store.remove(c->store.ctx, KMQTT_TLS_STORE_KEY);
    if (err != KMQTT_OK) {
        c->store_errors++;
    }
}

/* session_store: the session of an earlier process, into c->session (the
 * caller's buffer when it is empty, else nothing; or the transport's own). */
static kmqtt_err_t store_load(kmqtt_mem_t *m, const kmqtt_tls_options_t *o, tls_conf_t *c)
{
    size_t len = 0;
    kmqtt_err_t err;
    const kmqtt_store_t *st = o->session_store;
    if (st->put == NULL || st->get == NULL || st->remove == NULL) {
        return KMQTT_EINVAL;
    }
    c->store = *st;
    if (c->session == NULL) {
        c->own.buf = kmqtt_mem_alloc(m, TLS_TAG, KMQTT_TLS_STORE_SESSION_MAX);
        if (c->own.buf == NULL) {
            return KMQTT_ENOMEM;
        }
        c->own.cap = KMQTT_TLS_STORE_SESSION_MAX;
        c->own.len = 0;
        c->session = &c->own;
    }
    if (c->session->len != 0) {
        return KMQTT_OK; /* the caller's is newer */
    }
    err = st->get(st->ctx, KMQTT_TLS_STORE_KEY, c->session->buf, c->session->cap, &len);
    if (err == KMQTT_OK) {
        c->session->len = len;
    } else if (err != KMQTT_ENOTFOUND) {
        c->store_errors++;
    }
    return KMQTT_OK;
}

kmqtt_err_t tls_conf_copy(kmqtt_mem_t *m, const kmqtt_tls_options_t *o, tls_conf_t *c)
{
    kmqtt_err_t err = KMQTT_OK;
    unsigned char wire[256];
    memset(c, 0, sizeof(*c));
    if (o->min_version != KMQTT_TLS_1_2 && o->min_version != KMQTT_TLS_1_3) {
        return KMQTT_EINVAL;
    }
    /* A certificate without its key (or the reverse) can only be a mistake. */
    if ((o->cert_file != NULL || o->cert_pem != NULL) !=
        (o->key_file != NULL || o->key_pem != NULL)) {
        return KMQTT_EINVAL;
    }
    if (o->alpn != NULL && tls_alpn_wire(o->alpn, wire, sizeof(wire)) <= 0) {
        return KMQTT_EINVAL;
    }
    c->min_version = o->min_version;
    c->skip_host_name_check = o->skip_host_name_check;
    c->no_verification_at_all = o->no_verification_at_all;
    c->session_resumption = o->session_resumption;
    c->session = o->session_resumption ? o->session : NULL;
    if (c->session != NULL && (c->session->buf == NULL || c->session->len > c->session->cap)) {
        return KMQTT_EINVAL;
    }
    if (err == KMQTT_OK)
        err = tls_strdup(m, o->ca_file, &c->ca_file);
    if (err == KMQTT_OK)
        err = tls_strdup(m, o->ca_path, &c->ca_path);
    if (err == KMQTT_OK)
        err = tls_strdup(m, o->ca_pem, &c->ca_pem);
    if (err == KMQTT_OK)
        err = tls_strdup(m, o->cert_file, &c->cert_file);
    if (err == KMQTT_OK)
        err = tls_strdup(m, o->key_file, &c->key_file);
    if (err == KMQTT_OK)
        err = tls_strdup(m, o->cert_pem, &c->cert_pem);
    if (err == KMQTT_OK)
        err = tls_strdup(m, o->key_pem, &c->key_pem);
    if (err == KMQTT_OK)
        err = tls_strdup(m, o->server_name, &c->server_name);
    if (err == KMQTT_OK)
        err = tls_strdup(m, o->alpn, &c->alpn);
    if (err == KMQTT_OK && o->session_resumption && o->session_store != NULL)
        err = store_load(m, o, c);
    if (err != KMQTT_OK) {
        tls_conf_free(m, c);
    }
    return err;
}

bool tls_host_ip(const char *host, unsigned char ip[16], size_t *ip_len)
{
    if (host == NULL) {
        return false;
    }
    if (inet_pton(AF_INET, host, ip) == 1) {
        *ip_len = 4;
        return true;
    }
    if (inet_pton(AF_INET6, host, ip) == 1) {
        *ip_len = 16;
        return true;
    }
    return false;
}

kmqtt_err_t tls_wait(const kmqtt_transport_t *lower, unsigned events, uint64_t deadline)
{
    for (;;) {
        unsigned ready = 0;
        uint64_t now = kmqtt_port_now_ms();
        uint64_t left = deadline > now ? deadline - now : 0;
        kmqtt_err_t err;
        if (left == 0) {
            return KMQTT_ETIMEDOUT;
        }
        err = lower->wait(lower->ctx, events, left > 0xffffffffu ? 0xffffffffu : (uint32_t)left,
                          &ready);
        if (err != KMQTT_OK) {
            return err;
        }
        if (ready & KMQTT_WAIT_WOKEN) {
            return KMQTT_ECANCELED;
        }
        if (ready & events) {
            return KMQTT_OK;
        }
    }
}

void tls_io_reset(tls_io_t *io)
{
    io->send_want = KMQTT_WAIT_WRITE;
    io->recv_want = KMQTT_WAIT_READ;
    io->owed = 0;
}

kmqtt_err_t tls_io_wait(const kmqtt_transport_t *lower, const tls_io_t *io, unsigned events,
                        uint32_t timeout_ms, unsigned *ready)
{
    unsigned lev = 0, got = 0;
    kmqtt_err_t err;

    /* Each event the caller waits for becomes what the TLS library needs
     * below for that call to progress, and back. */
    if (events & KMQTT_WAIT_WRITE) {
        lev |= io->send_want;
    }
    if (events & KMQTT_WAIT_READ) {
        lev |= io->recv_want;
    }
    err = lower->wait(lower->ctx, lev, timeout_ms, &got);
    *ready = got & KMQTT_WAIT_WOKEN;
    if ((events & KMQTT_WAIT_WRITE) && (got & io->send_want)) {
        *ready |= KMQTT_WAIT_WRITE;
    }
    if ((events & KMQTT_WAIT_READ) && (got & io->recv_want)) {
        *ready |= KMQTT_WAIT_READ;
    }
    return err;
}

long tls_alpn_wire(const char *list, unsigned char *out, size_t cap)
{
    size_t n = 0;
    const char *p = list;
    while (*p != '\0') {
        const char *e = strchr(p, ',');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        if (len == 0 || len > 255 || n + 1 + len > cap) {
            return -1;
        }
        out[n++] = (unsigned char)len;
        memcpy(out + n, p, len);
        n += len;
        p += len;
        if (*p == ',') {
            p++;
            if (*p == '\0') {
                return -1;
            }
        }
    }
    return (long)n;
}
