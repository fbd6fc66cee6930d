/*
 * TLS over a lower kmqtt transport with OpenSSL 3. A custom BIO moves the
 * record bytes through the lower transport's non-blocking send/recv, so the
 * handshake in open() runs on the lower wait(): it honours the timeout and
 * wake(). The SSL_CTX (trust store, client certificate) lives as long as the
 * transport; one SSL per connection, freed by close() and by every failed
 * open(). The last session is kept for resumption, and copied (DER) into the
 * caller's kmqtt_tls_session_t when one is given, so it outlives the process
 * or a deep sleep.
 *
 * Sending (port.h's contract): when the BIO below says "would block",
 * OpenSSL keeps the record it encrypted and requires the next SSL_write to
 * offer at least as many bytes, starting with the same ones (the address may
 * change: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER); with
 * SSL_MODE_ENABLE_PARTIAL_WRITE, the retry that gets the record out returns
 * the bytes it carried, real progress only. Our callers offer exactly that;
 * one that offers fewer gets KMQTT_EINVAL here, before OpenSSL would fail
 * the connection with "bad length". The BIO itself re-offers OpenSSL's own
 * buffer as it is, which is what the lower transport requires.
 *
 * Direction: SSL_write may need to read first (a handshake message) and
 * SSL_read to write first (an alert, a TLS 1.3 key update); wait() waits on
 * the lower transport for that, not for what the caller asked (issue #14:
 * waiting for a writable socket while TLS needed to read spun the loop).
 * Renegotiation is refused (SSL_OP_NO_RENEGOTIATION): a TLS 1.2 server's
 * HelloRequest gets the no_renegotiation warning alert, and writing goes on.
 */
#include "tls_common.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

typedef struct ossl {
    kmqtt_mem_t *mem;
    kmqtt_transport_t lower;
    tls_conf_t conf;
    SSL_CTX *ctx;
    BIO_METHOD *meth;
    SSL *ssl;             /* the open connection, NULL when closed */
    SSL_SESSION *session; /* the last one, offered on the next open */
    uint64_t bytes_in, bytes_out;
    bool lower_eof;
    kmqtt_err_t lower_err; /* the lower transport's last send error */
    tls_io_t io;           /* wanted directions, bytes owed by the caller */
    /* The first fatal error of this connection, returned by every later
     * send/recv: a caller that ignored one (a best-effort flush) still
     * learns the real reason, not "closed". */
    kmqtt_err_t fatal;
    kmqtt_tls_stats_t stats;
    /* The name (DNS or IP literal) this connection verifies the server as;
     * each session is marked with it and offered only to the same name. */
    char peer_name[256];
} ossl_t;

const char *kmqtt_tls_backend(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}

/* ------------------------------------------------------------ the BIO */

static int bio_write(BIO *b, const char *buf, int len)
{
    ossl_t *t = BIO_get_data(b);
    long n = t->lower.send(t->lower.ctx, buf, (size_t)len);
    BIO_clear_retry_flags(b);
    if (n == 0) {
        BIO_set_retry_write(b);
        return -1;
    }
    if (n < 0) {
        t->lower_err = (kmqtt_err_t)n;
        return -1;
    }
    t->bytes_out += (uint64_t)n;
    return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
    ossl_t *t = BIO_get_data(b);
    long n = t->lower.recv(t->lower.ctx, buf, (size_t)len);
    BIO_clear_retry_flags(b);
    if (n == 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    if (n < 0) {
        t->lower_eof = true;
        return 0;
    }
    t->bytes_in += (uint64_t)n;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ------------------------------------------------------------ errors */

static kmqtt_err_t map_verify(long v)
{
    switch (v) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return KMQTT_ECERT_EXPIRED;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return KMQTT_ECERT_HOSTNAME;
    default:
        return KMQTT_ECERT_UNTRUSTED;
    }
}

/* After SSL_ERROR_SSL: our verification, or an alert from the server. */
static kmqtt_err_t map_ssl_error(ossl_t *t)
{
    unsigned long e = ERR_peek_last_error();
    int reason = ERR_GET_REASON(e);
    long v = t->ssl != NULL ? SSL_get_verify_result(t->ssl) : X509_V_OK;
    ERR_clear_error();
    if (v != X509_V_OK) {
        return map_verify(v);
    }
    switch (reason) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        return KMQTT_ECERT_REJECTED;
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
        /* TLS 1.2 servers (mosquitto with require_certificate) send this
         * when we had no certificate to give. */
        return (t->conf.cert_file == NULL && t->conf.cert_pem == NULL) ? KMQTT_ECERT_REJECTED
                                                                       : KMQTT_ETLS;
    default:
        return KMQTT_ETLS;
    }
}

/* ------------------------------------------------------------ context */

/* Writes s (DER) into the caller's session buffer; one that does not fit
 * empties the buffer and says so in the stats (never half a session). */
static void session_export(ossl_t *t, SSL_SESSION *s)
{
    kmqtt_tls_session_t *out = t->conf.session;
    unsigned char *p;
    int need;
    if (out == NULL) {
        return;
    }
    need = i2d_SSL_SESSION(s, NULL);
    if (need <= 0 || (size_t)need > out->cap) {
        out->len = 0;
        t->stats.session_too_big = need > 0;
        tls_session_stored(&t->conf);
        return;
    }
    p = out->buf;
    out->len = (size_t)i2d_SSL_SESSION(s, &p);
    tls_session_stored(&t->conf);
}

/* True if session s was made with the server verified as name. OpenSSL
 * records the name of a client session only when the server acknowledged
 * SNI (mosquitto does not), so new_session_cb marks each one itself. */
static bool session_for(SSL_SESSION *s, const char *name)
{
    const char *made_for = SSL_SESSION_get0_hostname(s);
    return made_for != NULL && strcmp(made_for, name) == 0;
}

/* The session in the caller's buffer, if it parses, can be resumed and was
 * made for this server name; else NULL and a full handshake. */
static SSL_SESSION *session_import(ossl_t *t)
{
    const kmqtt_tls_session_t *in = t->conf.session;
    const unsigned char *p;
    SSL_SESSION *s;
    if (in == NULL || in->len == 0 || in->len > in->cap || in->len > 0x7fffffff) {
        return NULL;
    }
    p = in->buf;
    s = d2i_SSL_SESSION(NULL, &p, (long)in->len);
    if (s == NULL) {
        ERR_clear_error();
        return NULL;
    }
    if (p != in->buf + in->len || SSL_SESSION_is_resumable(s) != 1 ||
        !session_for(s, t->peer_name)) {
        SSL_SESSION_free(s);
        return NULL;
    }
    return s;
}

static int new_session_cb(SSL *ssl, SSL_SESSION *s)
{
    ossl_t *t = SSL_get_app_data(ssl);
    if (t == NULL || !t->conf.session_resumption) {
        return 0;
    }
    if (t->session != NULL) {
        SSL_SESSION_free(t->session);
    }
    t->session = s; /* returning 1 keeps OpenSSL's reference for us */
    if (SSL_SESSION_set1_hostname(s, t->peer_name) != 1) {
        ERR_clear_error(); /* unmarked: kept in memory, never offered again */
    }
    session_export(t, s);
    return 1;
}

static int load_pem_ca(SSL_CTX *ctx, const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509_STORE *st = SSL_CTX_get_cert_store(ctx);
    X509 *x;
    int n = 0;
    /* Unreached in tests: only OpenSSL's own malloc fails here (docs/proof.md). */
    if (b == NULL) {
        return -1;
    }
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(st, x) == 1) {
            n++;
        }
        X509_free(x);
    }
    ERR_clear_error();
    BIO_free(b);
    return n > 0 ? 0 : -1;
}

static int load_pem_cert_key(SSL_CTX *ctx, const char *cert, const char *key)
{
    BIO *b = BIO_new_mem_buf(cert, -1);
    X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = NULL;
    int ok = 0;
    BIO_free(b);
    b = BIO_new_mem_buf(key, -1);
    if (b != NULL) {
        k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    }
    BIO_free(b);
    if (x != NULL && k != NULL && SSL_CTX_use_certificate(ctx, x) == 1 &&
        SSL_CTX_use_PrivateKey(ctx, k) == 1) {
        ok = 1;
    }
    X509_free(x);
    EVP_PKEY_free(k);
    return ok ? 0 : -1;
}

static kmqtt_err_t make_ctx(ossl_t *t)
{
    tls_conf_t *c = &t->conf;
    unsigned char alpn[256];
    long alpn_len;
    t->ctx = SSL_CTX_new(TLS_client_method());
    /* Unreached in tests: only OpenSSL's own malloc fails here (docs/proof.md). */
    if (t->ctx == NULL) {
        return KMQTT_ENOMEM;
    }
    SSL_CTX_set_min_proto_version(t->ctx, c->min_version == KMQTT_TLS_1_3 ? TLS1_3_VERSION
                                                                          : TLS1_2_VERSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* A device has no use for renegotiation, and a server that asks for one
     * and then stalls must not leave a write waiting on a read. */
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_verify(t->ctx, c->no_verification_at_all ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    if (c->ca_file != NULL || c->ca_path != NULL) {
        if (SSL_CTX_load_verify_locations(t->ctx, c->ca_file, c->ca_path) != 1) {
            return KMQTT_ETLS_CONFIG;
        }
    }
    if (c->ca_pem != NULL && load_pem_ca(t->ctx, c->ca_pem) != 0) {
        return KMQTT_ETLS_CONFIG;
    }
    if (c->ca_file == NULL && c->ca_path == NULL && c->ca_pem == NULL &&
        !c->no_verification_at_all && SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
        return KMQTT_ETLS_CONFIG;
    }
    if (c->cert_file != NULL) {
        if (SSL_CTX_use_certificate_chain_file(t->ctx, c->cert_file) != 1 ||
            SSL_CTX_use_PrivateKey_file(t->ctx, c->key_file, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(t->ctx) != 1) {
            return KMQTT_ETLS_CONFIG;
        }
    } else if (c->cert_pem != NULL) {
        if (load_pem_cert_key(t->ctx, c->cert_pem, c->key_pem) != 0 ||
            SSL_CTX_check_private_key(t->ctx) != 1) {
            return KMQTT_ETLS_CONFIG;
        }
    }
    if (c->alpn != NULL) {
        alpn_len = tls_alpn_wire(c->alpn, alpn, sizeof(alpn));
        /* Unreached: tls_conf_copy refused a list that does not parse. */
        if (alpn_len <= 0 || SSL_CTX_set_alpn_protos(t->ctx, alpn, (unsigned)alpn_len) != 0) {
            return KMQTT_ETLS_CONFIG;
        }
    }
    if (c->session_resumption) {
        /* Client cache mode only to get the new-session callback (TLS 1.3
         * tickets arrive after the handshake); OpenSSL's internal cache is
         * not used, the transport keeps the one session itself. */
        SSL_CTX_set_session_cache_mode(t->ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(t->ctx, new_session_cb);
    } else {
        SSL_CTX_set_options(t->ctx, SSL_OP_NO_TICKET);
    }
    return KMQTT_OK;
}

/* ------------------------------------------------------------ transport */

static void drop_ssl(ossl_t *t)
{
    if (t->ssl != NULL) {
        SSL_set_app_data(t->ssl, NULL);
        SSL_free(t->ssl); /* frees the BIO too */
        t->ssl = NULL;
    }
    ERR_clear_error();
}

static kmqtt_err_t setup_ssl(ossl_t *t, const char *host)
{
    const char *name = t->conf.server_name != NULL ? t->conf.server_name : host;
    unsigned char ip[16];
    size_t ip_len;
    bool is_ip = tls_host_ip(name, ip, &ip_len);
    BIO *bio;
    t->ssl = SSL_new(t->ctx);
    /* Unreached in tests (this and BIO_new): only OpenSSL's malloc fails. */
    if (t->ssl == NULL) {
        return KMQTT_ENOMEM;
    }
    bio = BIO_new(t->meth);
    if (bio == NULL) {
        return KMQTT_ENOMEM;
    }
    BIO_set_data(bio, t);
    SSL_set_bio(t->ssl, bio, bio);
    SSL_set_app_data(t->ssl, t);
    if (!is_ip && name != NULL) {
        /* The macro casts away const; a DNS name fits in 253 bytes. */
        char sni[256];
        size_t len = strlen(name);
        if (len >= sizeof(sni)) {
            return KMQTT_ETLS_CONFIG;
        }
        memcpy(sni, name, len + 1);
        /* Unreached: it refuses only a name over 255 bytes, refused above. */
        if (SSL_set_tlsext_host_name(t->ssl, sni) != 1) {
            return KMQTT_ETLS_CONFIG;
        }
    }
    /* skip_host_name_check leaves the name out of the verification only:
     * SSL_VERIFY_PEER still checks the chain and its dates. */
    if (!t->conf.no_verification_at_all && !t->conf.skip_host_name_check && name != NULL) {
        X509_VERIFY_PARAM *p = SSL_get0_param(t->ssl);
        /* Unreached in tests: these fail only when OpenSSL's malloc does. */
        if (is_ip ? X509_VERIFY_PARAM_set1_ip(p, ip, ip_len) != 1
                  : X509_VERIFY_PARAM_set1_host(p, name, 0) != 1) {
            return KMQTT_ETLS_CONFIG;
        }
    }
    if (name != NULL && strlen(name) >= sizeof(t->peer_name)) {
        return KMQTT_ETLS_CONFIG;
    }
    snprintf(t->peer_name, sizeof(t->peer_name), "%s", name != NULL ? name : "");
    /* A session is offered only to the name it was verified for: opened
     * with another host, the transport's session is dropped. */
    if (t->session != NULL && !session_for(t->session, t->peer_name)) {
        SSL_SESSION_free(t->session);
        t->session = NULL;
    }
    if (t->session == NULL && t->conf.session_resumption) {
        t->session = session_import(t);
    }
    if (t->session != NULL && t->conf.session_resumption) {
        SSL_set_session(t->ssl, t->session);
    }
    return KMQTT_OK;
}

static kmqtt_err_t handshake(ossl_t *t, uint64_t deadline)
{
    for (;;) {
        int r = SSL_connect(t->ssl);
        kmqtt_err_t err;
        if (r == 1) {
            return KMQTT_OK;
        }
        switch (SSL_get_error(t->ssl, r)) {
        case SSL_ERROR_WANT_READ:
            err = tls_wait(&t->lower, KMQTT_WAIT_READ, deadline);
            break;
        case SSL_ERROR_WANT_WRITE:
            err = tls_wait(&t->lower, KMQTT_WAIT_WRITE, deadline);
            break;
        case SSL_ERROR_SSL:
            return map_ssl_error(t);
        default:
            /* The peer closed during the handshake: a server that refuses
             * our certificate may do just that. */
            err = SSL_get_verify_result(t->ssl) != X509_V_OK
                      ? map_verify(SSL_get_verify_result(t->ssl))
                      : KMQTT_ETLS;
            ERR_clear_error();
            return err;
        }
        if (err != KMQTT_OK) {
            return err;
        }
    }
}

static kmqtt_err_t ossl_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    ossl_t *t = ctx;
    uint64_t start = kmqtt_port_now_ms();
    uint64_t deadline = start + timeout_ms;
    uint64_t in0, out0;
    kmqtt_err_t err;
    if (t->ssl != NULL) {
        return KMQTT_ESTATE;
    }
    err = t->lower.open(t->lower.ctx, host, port, timeout_ms);
    if (err != KMQTT_OK) {
        return err;
    }
    t->lower_eof = false;
    t->lower_err = KMQTT_OK;
    t->fatal = KMQTT_OK;
    tls_io_reset(&t->io);
    in0 = t->bytes_in;
    out0 = t->bytes_out;
    start = kmqtt_port_now_ms();
    t->stats.session_too_big = false;
    err = setup_ssl(t, host);
    if (err == KMQTT_OK) {
        err = handshake(t, deadline);
    }
    if (err != KMQTT_OK) {
        drop_ssl(t);
        t->lower.close(t->lower.ctx);
        return err;
    }
    {
        bool too_big = t->stats.session_too_big; /* set during the handshake (TLS 1.2) */
        memset(&t->stats, 0, sizeof(t->stats));
        t->stats.session_too_big = too_big;
    }
    t->stats.resumed = SSL_session_reused(t->ssl) == 1;
    t->stats.handshake_ms = (uint32_t)(kmqtt_port_now_ms() - start);
    t->stats.bytes_in = t->bytes_in - in0;
    t->stats.bytes_out = t->bytes_out - out0;
    snprintf(t->stats.version, sizeof(t->stats.version), "%s", SSL_get_version(t->ssl));
    return KMQTT_OK;
}

/* A write failed below us. With TLS 1.3 the server judges our certificate
 * after our handshake ended and closes right after its alert, so our next
 * write may fail before we read that alert: read it now (the connection is
 * lost either way) so the error names the reason. */
static long send_failed(ossl_t *t)
{
    char scratch[256];
    kmqtt_err_t lower = t->lower_err != KMQTT_OK ? t->lower_err : KMQTT_EIO;
    int n;
    ERR_clear_error();
    n = SSL_read(t->ssl, scratch, sizeof(scratch));
    if (n <= 0 && SSL_get_error(t->ssl, n) == SSL_ERROR_SSL) {
        kmqtt_err_t err = map_ssl_error(t);
        if (err != KMQTT_ETLS) {
            return err;
        }
    }
    ERR_clear_error();
    return t->lower_eof ? KMQTT_ECLOSED : lower;
}

static long send_raw(void *ctx, const void *buf, size_t len)
{
    ossl_t *t = ctx;
    int n;
    if (t->ssl == NULL) {
        return KMQTT_ENOTCONN;
    }
    if (len < t->io.owed) {
        return KMQTT_EINVAL; /* port.h: refused bytes come back whole */
    }
    if (len == 0) {
        return 0;
    }
    if (len > 0x7fffffff) {
        len = 0x7fffffff;
    }
    n = SSL_write(t->ssl, buf, (int)len);
    if (n > 0) {
        t->io.send_want = KMQTT_WAIT_WRITE;
        t->io.owed = len - (size_t)n;
        return n;
    }
    switch (SSL_get_error(t->ssl, n)) {
    case SSL_ERROR_WANT_READ:
        /* A handshake message must be read first: wait() waits for that. */
        t->io.send_want = KMQTT_WAIT_READ;
        t->io.owed = len;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        t->io.send_want = KMQTT_WAIT_WRITE;
        t->io.owed = len;
        return 0;
    case SSL_ERROR_SSL:
        return map_ssl_error(t);
    default:
        return send_failed(t);
    }
}

static long recv_raw(void *ctx, void *buf, size_t len)
{
    ossl_t *t = ctx;
    int n;
    if (t->ssl == NULL) {
        return KMQTT_ENOTCONN;
    }
    n = SSL_read(t->ssl, buf, len > 0x7fffffff ? 0x7fffffff : (int)len);
    if (n > 0) {
        t->io.recv_want = KMQTT_WAIT_READ;
        return n;
    }
    switch (SSL_get_error(t->ssl, n)) {
    case SSL_ERROR_WANT_READ:
        t->io.recv_want = KMQTT_WAIT_READ;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        /* Something must be written first (an alert, a key update). */
        t->io.recv_want = KMQTT_WAIT_WRITE;
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        return KMQTT_ECLOSED;
    case SSL_ERROR_SSL:
        /* TLS 1.3: the server judges our certificate after our handshake
         * ended, so its refusal arrives here, as an alert. */
        return map_ssl_error(t);
    default:
        ERR_clear_error();
        return t->lower_eof ? KMQTT_ECLOSED : KMQTT_EIO;
    }
}

static long sticky(ossl_t *t, long r)
{
    if (r < 0 && t->ssl != NULL && t->fatal == KMQTT_OK) {
        t->fatal = (kmqtt_err_t)r;
    }
    return r;
}

static long ossl_send(void *ctx, const void *buf, size_t len)
{
    ossl_t *t = ctx;
    return t->fatal != KMQTT_OK ? t->fatal : sticky(t, send_raw(ctx, buf, len));
}

static long ossl_recv(void *ctx, void *buf, size_t len)
{
    ossl_t *t = ctx;
    return t->fatal != KMQTT_OK ? t->fatal : sticky(t, recv_raw(ctx, buf, len));
}

static kmqtt_err_t ossl_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    ossl_t *t = ctx;
    if (t->ssl == NULL) {
        return t->lower.wait(t->lower.ctx, events, timeout_ms, ready);
    }
    /* Decrypted bytes already buffered would never wake the socket (unless
     * the read waits to write: then they are not what it needs).
     * SSL_pending, not SSL_has_pending: the latter is also true for part of
     * a record, which a read cannot return yet, and waiting would not wait
     * while the rest trickled in over a slow link. Without read-ahead (off
     * for TLS) OpenSSL reads no further than the record it works on, so a
     * whole record never sits unseen behind a quiet socket. */
    if ((events & KMQTT_WAIT_READ) && t->io.recv_want == KMQTT_WAIT_READ &&
        SSL_pending(t->ssl) > 0) {
        *ready = KMQTT_WAIT_READ;
        return KMQTT_OK;
    }
    return tls_io_wait(&t->lower, &t->io, events, timeout_ms, ready);
}

static void ossl_wake(void *ctx)
{
    ossl_t *t = ctx;
    t->lower.wake(t->lower.ctx);
}

static void ossl_close(void *ctx)
{
    ossl_t *t = ctx;
    if (t->ssl != NULL) {
        /* One close_notify attempt, never waited for: the socket goes now. */
        (void)SSL_shutdown(t->ssl);
        drop_ssl(t);
    }
    t->lower.close(t->lower.ctx);
}

static void free_all(ossl_t *t)
{
    drop_ssl(t);
    if (t->session != NULL) {
        SSL_SESSION_free(t->session);
    }
    SSL_CTX_free(t->ctx);
    BIO_meth_free(t->meth);
    tls_conf_free(t->mem, &t->conf);
    ERR_clear_error();
    (void)kmqtt_mem_free(t->mem, t);
}

static void ossl_destroy(void *ctx)
{
    ossl_t *t = ctx;
    kmqtt_transport_t lower;
    if (t == NULL) {
        return;
    }
    ossl_close(t);
    lower = t->lower;
    free_all(t);
    lower.destroy(lower.ctx);
}

kmqtt_err_t kmqtt_tls_create(kmqtt_mem_t *m, const kmqtt_tls_options_t *o,
                             const kmqtt_transport_t *lower, kmqtt_transport_t *out)
{
    ossl_t *t;
    kmqtt_err_t err;
    if (m == NULL || o == NULL || lower == NULL || out == NULL || lower->open == NULL) {
        return KMQTT_EINVAL;
    }
    t = kmqtt_mem_calloc(m, TLS_TAG, sizeof(*t));
    if (t == NULL) {
        return KMQTT_ENOMEM;
    }
    t->mem = m;
    t->lower = *lower;
    err = tls_conf_copy(m, o, &t->conf);
    if (err != KMQTT_OK) {
        (void)kmqtt_mem_free(m, t);
        return err;
    }
    t->meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kmqtt");
    /* Unreached in tests: BIO_meth_new fails only on OpenSSL's malloc, the setters never. */
    if (t->meth == NULL || BIO_meth_set_write(t->meth, bio_write) != 1 ||
        BIO_meth_set_read(t->meth, bio_read) != 1 || BIO_meth_set_ctrl(t->meth, bio_ctrl) != 1 ||
        BIO_meth_set_create(t->meth, bio_create) != 1) {
        err = KMQTT_ENOMEM;
    }
    if (err == KMQTT_OK) {
        err = make_ctx(t);
    }
    if (err != KMQTT_OK) {
        /* The caller keeps the lower transport: free only what is ours. */
        free_all(t);
        return err;
    }
    out->ctx = t;
    out->open = ossl_open;
    out->send = ossl_send;
    out->recv = ossl_recv;
    out->wait = ossl_wait;
    out->wake = ossl_wake;
    out->close = ossl_close;
    out->destroy = ossl_destroy;
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_tls_stats(const kmqtt_transport_t *t, kmqtt_tls_stats_t *out)
{
    if (t == NULL || out == NULL || t->open != ossl_open || t->ctx == NULL) {
        return KMQTT_EINVAL;
    }
    *out = ((const ossl_t *)t->ctx)->stats;
    out->store_errors = ((const ossl_t *)t->ctx)->conf.store_errors;
    return KMQTT_OK;
}
