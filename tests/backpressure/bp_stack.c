/*
 * The transport stacks of the matrix, each over the slow link: tcp, tls
 * (the backend this program is linked with), ws, and wss (ws over tls).
 */
#include "bp_drive.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kmqtt/transport.h"

void bp_client_fail(bp_client_result_t *r, const char *fmt, ...)
{
    va_list ap;

    if (r->failed)
        return;
    r->failed = true;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
}

kmqtt_err_t bp_stack_create(const bp_drive_t *d, kmqtt_transport_t *out)
{
    kmqtt_transport_t link, tls;
    kmqtt_err_t e = bp_link_create(d->mem, d->link, &link);

    if (e != KMQTT_OK)
        return e;
    if (d->tls) {
        kmqtt_tls_options_t o;
        kmqtt_tls_options_init(&o);
        o.ca_file = d->ca_file;
        e = kmqtt_tls_create(d->mem, &o, &link, &tls);
        if (e != KMQTT_OK) {
            link.destroy(link.ctx);
            return e;
        }
        link = tls; /* the lower transport of what follows */
    }
    if (d->ws) {
        kmqtt_ws_options_t o;
        memset(&o, 0, sizeof(o)); /* path /mqtt, 1 KiB buffers: the defaults */
        e = kmqtt_ws_create(d->mem, &o, &link, out);
        if (e != KMQTT_OK)
            link.destroy(link.ctx);
        return e;
    }
    *out = link;
    return KMQTT_OK;
}
