/*
 * Which server an attempt goes to: the server list, or (5.0, with
 * options.redirect_max_hops) the server a Server Reference names when a
 * CONNACK or a server DISCONNECT says Use Another Server (0x9C) or Server
 * Moved (0x9D) (4.11). A reference is followed once, by the next attempt;
 * a failed redirected attempt goes back to the list. The hop count bounds
 * a chain of redirects (servers that send the client round in a circle)
 * and starts again with an accepted CONNACK.
 *
 * The referenced host is copied into KMQTT_REDIRECT_HOST_MAX + 1 bytes of
 * the 5.0 block made at create (client_v5_setup.c): nothing is allocated
 * when a server redirects.
 */
#include "client_internal.h"

#if KMQTT_CFG_V5

/* The first reference of s (4.11: a space-separated list; the format of
 * one is not fixed): "host", "host:port" or "[v6]" / "[v6]:port". The
 * host is s[*at .. *at + *hlen); *port stays as given when none is named.
 * false if it does not parse. */
static bool reference_parse(const kmqtt_str_t *s, size_t *at, size_t *hlen, uint16_t *port)
{
    const char *p = s->ptr;
    size_t b = 0, e, i, colon;
    uint32_t v = 0;

    while (b < s->len && p[b] == ' ')
        b++;
    for (e = b; e < s->len && p[e] != ' '; e++)
        ;
    if (b == e)
        return false;
    if (p[b] == '[') {
        for (i = b + 1; i < e && p[i] != ']'; i++)
            ;
        if (i == e || i == b + 1)
            return false;
        *at = b + 1;
        *hlen = i - b - 1;
        colon = i + 1;
        if (colon != e && p[colon] != ':')
            return false;
    } else {
        for (colon = b; colon < e && p[colon] != ':'; colon++)
            ;
        *at = b;
        *hlen = colon - b;
        if (*hlen == 0)
            return false;
        for (i = colon + 1; i < e; i++) {
            if (p[i] == ':' || p[i] == '[' || p[i] == ']')
                return false; /* an IPv6 literal needs its brackets */
        }
    }
    for (i = *at; i < *at + *hlen; i++) {
        if (p[i] == '\0' || p[i] == '/')
            return false;
    }
    if (colon >= e)
        return true;
    if (colon + 1 == e || e - colon - 1 > 5)
        return false;
    for (i = colon + 1; i < e; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10u + (uint32_t)(p[i] - '0');
    }
    if (v == 0 || v > 65535u)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* A CONNACK or server DISCONNECT with reason and Server Reference ref
 * (NULL = none); mx held. */
void kc_redirect_note(kmqtt_client_t *c, uint8_t reason, const kmqtt_str_t *ref)
{
    kc_v5_t *v = &c->v5;
    size_t at, hlen;
    uint16_t port;

    if (v->redir_host == NULL || ref == NULL || ref->ptr == NULL)
        return;
    if (reason != 0x9C && reason != 0x9D)
        return;
    if (v->redir_hops >= c->opt.redirect_max_hops)
        return; /* the hop limit: reported as without the option */
    port = kc_server_now(c)->port;
    if (!reference_parse(ref, &at, &hlen, &port) || hlen > KMQTT_REDIRECT_HOST_MAX)
        return;
    memcpy(v->redir_host, ref->ptr + at, hlen);
    v->redir_host[hlen] = '\0';
    v->redir.host = v->redir_host;
    v->redir.port = port;
    v->redir_pending = true;
    v->redir_hops++;
}

void kc_redirect_accepted(kmqtt_client_t *c)
{
    c->v5.redir_hops = 0;
}

const kc_server_t *kc_server_take(kmqtt_client_t *c)
{
    /* A chain of redirects ends with an attempt at the list's server. */
    if (!c->v5.redir_pending)
        c->v5.redir_hops = 0;
    c->v5.redir_current = c->v5.redir_pending;
    c->v5.redir_pending = false;
    return kc_server_now(c);
}

const kc_server_t *kc_server_now(const kmqtt_client_t *c)
{
    if (c->v5.redir_current)
        return &c->v5.redir;
    return c->nservers > 0 ? &c->servers[c->server_idx % c->nservers] : &c->one;
}

void kc_server_failed(kmqtt_client_t *c)
{
    if (!c->v5.redir_current)
        c->server_idx = (c->server_idx + 1) % c->nservers;
}

kmqtt_err_t kc_redirect_connect(kmqtt_client_t *c, uint64_t deadline)
{
    kmqtt_err_t err = kc_connect_run(c, deadline, false);

    while (err == KMQTT_EREFUSED && c->v5.redir_pending && kc_remaining(deadline) > 0)
        err = kc_connect_run(c, deadline, false);
    return err;
}

#else /* !KMQTT_CFG_V5: the list alone */

const kc_server_t *kc_server_take(kmqtt_client_t *c)
{
    return kc_server_now(c);
}

const kc_server_t *kc_server_now(const kmqtt_client_t *c)
{
    return c->nservers > 0 ? &c->servers[c->server_idx % c->nservers] : &c->one;
}

void kc_server_failed(kmqtt_client_t *c)
{
    c->server_idx = (c->server_idx + 1) % c->nservers;
}

kmqtt_err_t kc_redirect_connect(kmqtt_client_t *c, uint64_t deadline)
{
    return kc_connect_run(c, deadline, false);
}

#endif /* KMQTT_CFG_V5 */
