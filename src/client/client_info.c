/*
 * What a console command shows of a client: id, state, broker. For the
 * ports' diagnostics (RT-Thread msh `kmqtt`), which find a client from the
 * memory context it registered.
 */
#include "client_internal.h"

kmqtt_err_t kmqtt_client_info(kmqtt_client_t *c, kmqtt_client_info_t *out)
{
    const kc_server_t *s;

    if (c == NULL || out == NULL)
        return KMQTT_EINVAL;
    kc_lock(c);
    s = c->nservers > 0 ? &c->servers[c->server_idx % c->nservers] : &c->one;
    out->client_id = c->opt.client_id;
    out->state = c->state;
    out->host = s->host;
    out->port = s->port;
    out->version = c->opt.version;
    out->background = c->thread != NULL && !c->bg_done;
    kc_unlock(c);
    return KMQTT_OK;
}

/* The context is the struct's first member (client_internal.h), so the
 * client and its context share one address. */
kmqtt_client_t *kmqtt_client_from_mem(kmqtt_mem_t *m)
{
    return (kmqtt_client_t *)(void *)m;
}
