/*
 * The peer's TLS server side: OpenSSL over two memory BIOs, so the socket
 * (and how it is read: stalled, a byte at a time) stays the peer's own.
 * Socket bytes go into the read BIO; whatever OpenSSL writes (handshake,
 * records, alerts) is moved from the write BIO to the output queue. A record
 * that does not decrypt or parse is an error of the client's stream.
 */
#include "bp_peer_internal.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bp_tls {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    bool handshake_done;
    bool closed; /* close_notify received */
};

static void drain(bp_peer_t *p)
{
    uint8_t buf[16384];
    int n;

    while ((n = BIO_read(p->tls->wbio, buf, sizeof(buf))) > 0)
        bp_peer_raw_out(p, buf, (size_t)n);
}

/* OpenSSL's reason for the last failure ("decryption failed or bad record mac"). */
static const char *ossl_reason(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (e == 0)
        return "no reason given";
    ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

bp_tls_t *bp_tls_new(bp_peer_t *p)
{
    bp_tls_t *t = calloc(1, sizeof(*t));
    char why[256];

    if (t == NULL) {
        bp_peer_fail(p, "peer out of memory");
        return NULL;
    }
    t->ctx = SSL_CTX_new(TLS_server_method());
    if (t->ctx == NULL || SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(t->ctx, p->o.cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(t->ctx, p->o.key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(t->ctx) != 1)
        goto fail;
    t->ssl = SSL_new(t->ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        goto fail;
    }
    /* An empty read BIO means "more to come", not end of stream. */
    BIO_set_mem_eof_return(t->rbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_accept_state(t->ssl);
    return t;
fail:
    bp_peer_fail(p, "TLS server setup: %s", ossl_reason(why, sizeof(why)));
    bp_tls_free(t);
    return NULL;
}

void bp_tls_in(bp_peer_t *p, const uint8_t *b, size_t n)
{
    bp_tls_t *t = p->tls;
    uint8_t plain[16384];
    char why[256];

    if (BIO_write(t->rbio, b, (int)n) != (int)n) {
        bp_peer_fail(p, "TLS read BIO refused bytes");
        return;
    }
    if (!t->handshake_done) {
        int r = SSL_do_handshake(t->ssl);
        drain(p);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            if (e != SSL_ERROR_WANT_READ)
                bp_peer_fail(p, "TLS handshake: %s", ossl_reason(why, sizeof(why)));
            return;
        }
        t->handshake_done = true;
        snprintf(p->res.tls_version, sizeof(p->res.tls_version), "%s", SSL_get_version(t->ssl));
    }
    while (!p->res.failed) {
        int r = SSL_read(t->ssl, plain, sizeof(plain));
        if (r > 0) {
            if (t->closed) {
                bp_peer_fail(p, "TLS data after close_notify");
                return;
            }
            bp_peer_plain_in(p, plain, (size_t)r);
            continue;
        }
        drain(p); /* a TLS 1.3 key update or alert answer */
        switch (SSL_get_error(t->ssl, r)) {
        case SSL_ERROR_WANT_READ:
            return;
        case SSL_ERROR_ZERO_RETURN:
            t->closed = true;
            if (!p->mq.disconnected)
                bp_peer_fail(p, "TLS close_notify before DISCONNECT");
            return;
        default:
            /* After DISCONNECT the client may close any way it likes. */
            if (!p->mq.disconnected)
                bp_peer_fail(p, "TLS record from the client: %s", ossl_reason(why, sizeof(why)));
            ERR_clear_error();
            return;
        }
    }
}

void bp_tls_out(bp_peer_t *p, const uint8_t *b, size_t n)
{
    char why[256];

    /* A memory BIO takes everything: one SSL_write writes it all. */
    if (SSL_write(p->tls->ssl, b, (int)n) != (int)n) {
        bp_peer_fail(p, "TLS write: %s", ossl_reason(why, sizeof(why)));
        return;
    }
    drain(p);
}

void bp_tls_free(bp_tls_t *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl); /* frees both BIOs */
    SSL_CTX_free(t->ctx);
    free(t);
}
