/*
 * TLS over a lower kmqtt transport with mbed TLS 2.28 (what firmware uses).
 * The record layer reaches the lower transport through mbedtls_ssl_set_bio;
 * "would block" becomes MBEDTLS_ERR_SSL_WANT_READ/WRITE and the handshake in
 * open() waits on the lower wait(), honouring the timeout and wake(). The
 * DRBG is seeded from kmqtt_port_random (never the clock). mbed TLS 2.28 has
 * no TLS 1.3 client (only an experimental, disabled prototype): TLS 1.2 only.
 * mbed TLS 2.28 does not check IP address SANs, so for an IP host the
 * verify callback does (RFC 5280 iPAddress, compared byte for byte).
 *
 * Sending (port.h's contract). mbedtls_ssl_write (2.28: ssl_write_real in
 * library/ssl_msg.c) copies at most one record's payload (len, capped to
 * mbedtls_ssl_get_max_out_record_payload) into its output buffer, encrypts
 * it and flushes; when the lower transport would block it returns
 * MBEDTLS_ERR_SSL_WANT_WRITE with the record in the buffer (out_left bytes
 * unsent). The next call, whatever its buf and len, only flushes that record
 * (buf is not read) and then returns its own len, capped the same way, as if
 * that many bytes had been written: the header says it must be called with
 * the same arguments. Called with a longer len (our callers' queues grow
 * meanwhile) it reported bytes the record never carried: issue #14's lost and
 * misaligned records. So the length that went into the record is kept
 * (rec_pending), the retry asks for exactly that, and only that is reported.
 *
 * The output buffer is shared with the library's own records. Refusing a
 * renegotiation, mbedtls_ssl_read sends the no_renegotiation alert through
 * mbedtls_ssl_send_alert_message, which, while a record of ours waits in the
 * buffer, only flushes that record (and drops the alert). Our record can
 * thus leave from inside a read: the next send finds out_left 0 and reports
 * rec_pending without writing (a write would encrypt the bytes again and the
 * server would get them twice). When nothing of ours waits, the alert itself
 * can be left waiting; it is flushed before our next record (mbedtls_ssl_write
 * would otherwise flush it and report our bytes as written).
 *
 * Renegotiation stays off (mbed TLS's default, set explicitly): a
 * HelloRequest is answered with that alert and the connection goes on; no
 * handshake ever starts after open(), so a write never waits on a read.
 */
#include "tls_common.h"

#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <string.h>

#define MAX_ALPN 8

typedef struct mtls {
    kmqtt_mem_t *mem;
    kmqtt_transport_t lower;
    tls_conf_t conf;
    mbedtls_ssl_config cfg;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_x509_crt own;
    mbedtls_pk_context key;
    const char *alpn[MAX_ALPN + 1];
    mbedtls_ssl_context ssl;
    bool open;
    mbedtls_ssl_session session;
    bool have_session;
    /* The name the kept session's server was verified as: it is offered to
     * that name only (a session from the caller's buffer carries no name). */
    char session_name[256];
    bool session_named;
    /* Per open(): the host's IP (when it is one) for the SAN check, and
     * whether a certificate was verified (not on a resumed handshake). */
    unsigned char ip[16];
    size_t ip_len;
    bool verified;
    bool ip_mismatch;
    kmqtt_err_t lower_err;
    kmqtt_err_t fatal;  /* first fatal error of the connection, kept (see tls_openssl.c) */
    tls_io_t io;        /* wanted directions, bytes owed by the caller */
    size_t rec_pending; /* our bytes in the record waiting in mbed TLS's output buffer */
    uint64_t bytes_in, bytes_out;
    kmqtt_tls_stats_t stats;
} mtls_t;

const char *kmqtt_tls_backend(void)
{
    return MBEDTLS_VERSION_STRING_FULL; /* the headers built against */
}

static int entropy(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    return kmqtt_port_random(out, len) == KMQTT_OK ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

/* ------------------------------------------------------------ the BIO */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    mtls_t *t = ctx;
    long n = t->lower.send(t->lower.ctx, buf, len);
    if (n == 0) {
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    if (n < 0) {
        t->lower_err = (kmqtt_err_t)n;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    t->bytes_out += (uint64_t)n;
    return (int)n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    mtls_t *t = ctx;
    long n = t->lower.recv(t->lower.ctx, buf, len);
    if (n == 0) {
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    if (n < 0) {
        t->lower_err = (kmqtt_err_t)n;
        return n == KMQTT_ECLOSED ? 0 : MBEDTLS_ERR_NET_RECV_FAILED;
    }
    t->bytes_in += (uint64_t)n;
    return (int)n;
}

/* ------------------------------------------------------------ verify */

/* True if the certificate lists ip among its iPAddress SANs. Its parse
 * failures are unreached: mbed TLS parsed these extensions already. */
static bool san_has_ip(const mbedtls_x509_crt *crt, const unsigned char *ip, size_t ip_len)
{
    unsigned char *p = crt->v3_ext.p;
    const unsigned char *end = p + crt->v3_ext.len;
    size_t len;
    if (p == NULL || mbedtls_asn1_get_tag(&p, end, &len,
                                          MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return false;
    }
    end = p + len;
    while (p < end) {
        unsigned char *ext_end;
        mbedtls_x509_buf oid;
        int critical = 0;
        if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) !=
            0) {
            return false;
        }
        ext_end = p + len;
        if (mbedtls_asn1_get_tag(&p, ext_end, &oid.len, MBEDTLS_ASN1_OID) != 0) {
            return false;
        }
        oid.p = p;
        p += oid.len;
        (void)mbedtls_asn1_get_bool(&p, ext_end, &critical);
        if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0) {
            return false;
        }
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_SUBJECT_ALT_NAME, &oid) == 0) {
            unsigned char *q = p;
            const unsigned char *q_end = p + len;
            size_t names;
            if (mbedtls_asn1_get_tag(&q, q_end, &names,
                                     MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
                return false;
            }
            q_end = q + names;
            while (q < q_end) {
                unsigned char tag = *q++;
                size_t n;
                if (mbedtls_asn1_get_len(&q, q_end, &n) != 0) {
                    return false;
                }
                /* GeneralName iPAddress is [7] IMPLICIT OCTET STRING. */
                if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && n == ip_len &&
                    memcmp(q, ip, ip_len) == 0) {
                    return true;
                }
                q += n;
            }
            return false;
        }
        p = ext_end;
    }
    return false;
}

static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    mtls_t *t = ctx;
    t->verified = true;
    if (t->conf.no_verification_at_all) {
        *flags = 0;
        return 0;
    }
    if (t->conf.skip_host_name_check) {
        /* mbed TLS merges its name check into the end entity's flags before
         * calling us: clear that one flag, keep every chain and date flag. */
        if (depth == 0)
            *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
        return 0;
    }
    if (depth == 0 && t->ip_len > 0 && !san_has_ip(crt, t->ip, t->ip_len)) {
        t->ip_mismatch = true;
        *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }
    return 0;
}

static kmqtt_err_t map_error(mtls_t *t, int ret)
{
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        uint32_t f = mbedtls_ssl_get_verify_result(&t->ssl);
        if (f & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
            return KMQTT_ECERT_UNTRUSTED;
        }
        if (f & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) {
            return KMQTT_ECERT_EXPIRED;
        }
        if (f & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
            return KMQTT_ECERT_HOSTNAME;
        }
        return KMQTT_ECERT_UNTRUSTED;
    }
    if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && t->ssl.in_msg != NULL) {
        switch (t->ssl.in_msg[1]) {
        case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
        case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT:
        case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED:
        case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:
        case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:
        case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
        case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:
            return KMQTT_ECERT_REJECTED;
        case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
            /* What a TLS 1.2 server that requires a certificate sends when
             * we had none. */
            return (t->conf.cert_file == NULL && t->conf.cert_pem == NULL) ? KMQTT_ECERT_REJECTED
                                                                           : KMQTT_ETLS;
        default:
            return KMQTT_ETLS;
        }
    }
    if ((ret == MBEDTLS_ERR_NET_SEND_FAILED || ret == MBEDTLS_ERR_NET_RECV_FAILED) &&
        t->lower_err != KMQTT_OK) {
        return t->lower_err;
    }
    if (ret == MBEDTLS_ERR_SSL_ALLOC_FAILED) {
        return KMQTT_ENOMEM;
    }
    return KMQTT_ETLS;
}

/* A server that refuses our (missing) certificate sends its alert and
 * closes while we are still writing our flight, so the handshake fails on a
 * send and mbed TLS never reads the alert. The connection is lost either
 * way: read what arrived and, if it is an alert record, name it. */
static kmqtt_err_t alert_after_send_failure(mtls_t *t, int ret)
{
    unsigned char rec[7];
    long n = t->lower.recv(t->lower.ctx, rec, sizeof(rec));
    if (n >= 7 && rec[0] == MBEDTLS_SSL_MSG_ALERT && rec[1] == 3 && rec[3] == 0 && rec[4] == 2 &&
        rec[5] == MBEDTLS_SSL_ALERT_LEVEL_FATAL) {
        switch (rec[6]) {
        case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
        case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:
        case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
        case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:
            return KMQTT_ECERT_REJECTED;
        case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
            return (t->conf.cert_file == NULL && t->conf.cert_pem == NULL) ? KMQTT_ECERT_REJECTED
                                                                           : KMQTT_ETLS;
        default:
            return KMQTT_ETLS;
        }
    }
    return map_error(t, ret);
}

/* ------------------------------------------------------------ config */

static kmqtt_err_t make_config(mtls_t *t)
{
    tls_conf_t *c = &t->conf;
    static const char pers[] = "kmqtt tls";
    int ret;
    if (c->min_version == KMQTT_TLS_1_3) {
        return KMQTT_EUNSUPPORTED;
    }
    /* Unreached on Linux (getrandom does not fail) nor is the preset below refused. */
    if (mbedtls_ctr_drbg_seed(&t->drbg, entropy, NULL, (const unsigned char *)pers,
                              sizeof(pers) - 1) != 0) {
        return KMQTT_EIO;
    }
    if (mbedtls_ssl_config_defaults(&t->cfg, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        return KMQTT_ENOMEM;
    }
    mbedtls_ssl_conf_rng(&t->cfg, mbedtls_ctr_drbg_random, &t->drbg);
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    /* The default, made explicit: a server's HelloRequest gets the
     * no_renegotiation alert, and no handshake runs under a write. */
    mbedtls_ssl_conf_renegotiation(&t->cfg, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
    mbedtls_ssl_conf_min_version(&t->cfg, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    if (c->ca_file != NULL && mbedtls_x509_crt_parse_file(&t->ca, c->ca_file) != 0) {
        return KMQTT_ETLS_CONFIG;
    }
    if (c->ca_path != NULL && mbedtls_x509_crt_parse_path(&t->ca, c->ca_path) < 0) {
        return KMQTT_ETLS_CONFIG;
    }
    if (c->ca_pem != NULL && mbedtls_x509_crt_parse(&t->ca, (const unsigned char *)c->ca_pem,
                                                    strlen(c->ca_pem) + 1) != 0) {
        return KMQTT_ETLS_CONFIG;
    }
    if (c->ca_file == NULL && c->ca_path == NULL && c->ca_pem == NULL &&
        !c->no_verification_at_all) {
        /* mbed TLS has no system store: trust must be given. */
        return KMQTT_ETLS_CONFIG;
    }
    /* OPTIONAL without verification, so the verify callback still runs (it
     * clears the flags) and tells a full handshake from a resumed one. */
    mbedtls_ssl_conf_authmode(&t->cfg, c->no_verification_at_all ? MBEDTLS_SSL_VERIFY_OPTIONAL
                                                                 : MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&t->cfg, &t->ca, NULL);
    mbedtls_ssl_conf_verify(&t->cfg, verify_cb, t);
    if (c->cert_file != NULL || c->cert_pem != NULL) {
        ret = c->cert_file != NULL
                  ? mbedtls_x509_crt_parse_file(&t->own, c->cert_file)
                  : mbedtls_x509_crt_parse(&t->own, (const unsigned char *)c->cert_pem,
                                           strlen(c->cert_pem) + 1);
        if (ret == 0) {
            ret = c->key_file != NULL
                      ? mbedtls_pk_parse_keyfile(&t->key, c->key_file, NULL)
                      : mbedtls_pk_parse_key(&t->key, (const unsigned char *)c->key_pem,
                                             strlen(c->key_pem) + 1, NULL, 0);
        }
        /* A key that is not the certificate's fails every handshake; say
         * so here, as OpenSSL's SSL_CTX_check_private_key does. */
        if (ret == 0) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
            ret = mbedtls_pk_check_pair(&t->own.pk, &t->key, mbedtls_ctr_drbg_random, &t->drbg);
#else
            ret = mbedtls_pk_check_pair(&t->own.pk, &t->key);
#endif
        }
        if (ret == 0) {
            ret = mbedtls_ssl_conf_own_cert(&t->cfg, &t->own, &t->key);
        }
        if (ret != 0) {
            return KMQTT_ETLS_CONFIG;
        }
    }
    if (c->alpn != NULL) {
        /* Our copy of the list is cut in place into the NULL-ended array
         * mbed TLS keeps a pointer to. */
        char *p = c->alpn;
        size_t n = 0;
        while (p != NULL && n < MAX_ALPN) {
            char *comma = strchr(p, ',');
            t->alpn[n++] = p;
            if (comma != NULL) {
                *comma = '\0';
                p = comma + 1;
            } else {
                p = NULL;
            }
        }
        if (p != NULL) {
            return KMQTT_ETLS_CONFIG;
        }
        t->alpn[n] = NULL;
        /* Unreached: it refuses empty or long names, which tls_conf_copy did. */
        if (mbedtls_ssl_conf_alpn_protocols(&t->cfg, t->alpn) != 0) {
            return KMQTT_ETLS_CONFIG;
        }
    }
    mbedtls_ssl_conf_session_tickets(&t->cfg, c->session_resumption
                                                  ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                  : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
    return KMQTT_OK;
}

/* ------------------------------------------------------------ transport */

static void drop_ssl(mtls_t *t)
{
    if (t->open) {
        mbedtls_ssl_free(&t->ssl);
        t->open = false;
    }
}

static kmqtt_err_t handshake(mtls_t *t, uint64_t deadline)
{
    for (;;) {
        int ret = mbedtls_ssl_handshake(&t->ssl);
        kmqtt_err_t err;
        if (ret == 0) {
            return KMQTT_OK;
        }
        if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
            err = tls_wait(&t->lower, KMQTT_WAIT_READ, deadline);
        } else if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            err = tls_wait(&t->lower, KMQTT_WAIT_WRITE, deadline);
        } else if (ret == MBEDTLS_ERR_NET_SEND_FAILED) {
            return alert_after_send_failure(t, ret);
        } else {
            return map_error(t, ret);
        }
        if (err != KMQTT_OK) {
            return err;
        }
    }
}

static kmqtt_err_t mtls_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    mtls_t *t = ctx;
    const char *name = t->conf.server_name != NULL ? t->conf.server_name : host;
    uint64_t deadline = kmqtt_port_now_ms() + timeout_ms;
    uint64_t start, in0, out0;
    kmqtt_err_t err = KMQTT_OK;
    bool is_ip;
    bool other_name = false;
    if (t->open) {
        return KMQTT_ESTATE;
    }
    err = t->lower.open(t->lower.ctx, host, port, timeout_ms);
    if (err != KMQTT_OK) {
        return err;
    }
    start = kmqtt_port_now_ms();
    in0 = t->bytes_in;
    out0 = t->bytes_out;
    t->lower_err = KMQTT_OK;
    t->fatal = KMQTT_OK;
    tls_io_reset(&t->io);
    t->rec_pending = 0;
    t->verified = false;
    t->ip_mismatch = false;
    is_ip = tls_host_ip(name, t->ip, &t->ip_len);
    if (!is_ip) {
        t->ip_len = 0;
    }
    mbedtls_ssl_init(&t->ssl);
    t->open = true;
    /* Unreached in tests: fails only when mbed TLS cannot calloc its buffers. */
    if (mbedtls_ssl_setup(&t->ssl, &t->cfg) != 0) {
        err = KMQTT_ENOMEM;
    }
    /* A DNS name is both SNI and the name checked; an IP literal is
     * neither (RFC 6066 forbids it as SNI): the callback checks IP SANs. */
    if (err == KMQTT_OK && !is_ip && name != NULL && mbedtls_ssl_set_hostname(&t->ssl, name) != 0) {
        err = KMQTT_ETLS_CONFIG;
    }
    if (err == KMQTT_OK && t->have_session && t->session_named &&
        strcmp(t->session_name, name != NULL ? name : "") != 0) {
        /* Made with another server name: not offered here, nor is the
         * caller's buffer, which holds the same session. */
        mbedtls_ssl_session_free(&t->session);
        t->have_session = false;
        other_name = true;
    }
    if (err == KMQTT_OK && !t->have_session && !other_name && t->conf.session != NULL &&
        t->conf.session->len > 0) {
        /* The caller's saved session (across deep sleep or a restart): one
         * that does not load is ignored, and the handshake is a full one. */
        mbedtls_ssl_session_init(&t->session);
        t->have_session =
            mbedtls_ssl_session_load(&t->session, t->conf.session->buf, t->conf.session->len) == 0;
        t->session_named = false;
        if (!t->have_session) {
            mbedtls_ssl_session_free(&t->session);
        }
    }
    if (err == KMQTT_OK) {
        mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
        if (t->have_session && t->conf.session_resumption) {
            (void)mbedtls_ssl_set_session(&t->ssl, &t->session);
        }
        err = handshake(t, deadline);
    }
    if (err != KMQTT_OK) {
        drop_ssl(t);
        t->lower.close(t->lower.ctx);
        return err;
    }
    memset(&t->stats, 0, sizeof(t->stats));
    t->stats.resumed = !t->verified;
    t->stats.handshake_ms = (uint32_t)(kmqtt_port_now_ms() - start);
    t->stats.bytes_in = t->bytes_in - in0;
    t->stats.bytes_out = t->bytes_out - out0;
    snprintf(t->stats.version, sizeof(t->stats.version), "%s", mbedtls_ssl_get_version(&t->ssl));
    if (t->conf.session_resumption) {
        if (t->have_session) {
            mbedtls_ssl_session_free(&t->session);
        }
        mbedtls_ssl_session_init(&t->session);
        t->have_session = mbedtls_ssl_get_session(&t->ssl, &t->session) == 0;
        if (!t->have_session) {
            mbedtls_ssl_session_free(&t->session);
        }
        /* open() refused a name that does not fit (set_hostname, 255). */
        t->session_named = strlen(name != NULL ? name : "") < sizeof(t->session_name);
        snprintf(t->session_name, sizeof(t->session_name), "%s", name != NULL ? name : "");
        if (t->have_session && t->conf.session != NULL) {
            size_t len = 0;
            int r = mbedtls_ssl_session_save(&t->session, t->conf.session->buf,
                                             t->conf.session->cap, &len);
            /* Never half a session: one that does not fit empties the buffer. */
            t->conf.session->len = r == 0 ? len : 0;
            t->stats.session_too_big = r == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL;
            tls_session_stored(&t->conf);
        }
    }
    return KMQTT_OK;
}

/* After mbedtls_ssl_write or _read returned ret < 0: 0 ("would block") with
 * the lower event the call waits for in *want, or the error. */
static long would_block_or_error(mtls_t *t, int ret, unsigned *want)
{
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        *want = KMQTT_WAIT_WRITE;
        return 0;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
        *want = KMQTT_WAIT_READ;
        return 0;
    }
    return map_error(t, ret);
}

/* Sends what waits in the output buffer when it is the library's own record
 * (an alert), not ours: with out_left set, mbedtls_ssl_write only flushes
 * and returns its len, here 0, so nothing of ours is claimed. Returns 0 or
 * the mbed TLS result. */
static int flush_own(mtls_t *t)
{
    static const unsigned char none[1] = {0};
    if (t->rec_pending != 0 || t->ssl.out_left == 0) {
        return 0;
    }
    return mbedtls_ssl_write(&t->ssl, none, 0);
}

/* The most plaintext one record of ours may carry. The function came with
 * mbedTLS 2.13; RT-Thread's mbedtls package (2.7) caps a write at the
 * negotiated maximum fragment length, else MBEDTLS_SSL_MAX_CONTENT_LEN. */
static int max_payload(const mtls_t *t)
{
#if MBEDTLS_VERSION_NUMBER >= 0x020D0000
    return mbedtls_ssl_get_max_out_record_payload(&t->ssl);
#elif defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
    return (int)mbedtls_ssl_get_max_frag_len(&t->ssl);
#else
    (void)t;
    return MBEDTLS_SSL_MAX_CONTENT_LEN;
#endif
}

static long send_raw(void *ctx, const void *buf, size_t len)
{
    mtls_t *t = ctx;
    size_t n;
    int ret;
    if (!t->open) {
        return KMQTT_ENOTCONN;
    }
    if (len < t->io.owed) {
        return KMQTT_EINVAL; /* port.h: refused bytes come back whole */
    }
    if (len == 0) {
        return 0;
    }
    if (t->rec_pending > 0) {
        /* Our record waits: the same length again, which only flushes it.
         * If a read flushed it meanwhile (see the top), it is sent. */
        n = t->rec_pending;
        if (t->ssl.out_left != 0) {
            ret = mbedtls_ssl_write(&t->ssl, buf, n);
            if (ret < 0) {
                t->io.owed = len;
                return would_block_or_error(t, ret, &t->io.send_want);
            }
        }
        t->rec_pending = 0;
    } else {
        ret = flush_own(t);
        if (ret == 0) {
            ret = max_payload(t);
            if (ret <= 0) {
                return KMQTT_ETLS;
            }
            /* Capped here, so the record carries exactly n bytes. */
            n = len < (size_t)ret ? len : (size_t)ret;
            ret = mbedtls_ssl_write(&t->ssl, buf, n);
            if (ret == MBEDTLS_ERR_SSL_WANT_WRITE && t->ssl.out_left != 0) {
                t->rec_pending = n; /* encrypted, not yet all sent */
            }
        }
        if (ret <= 0) {
            t->io.owed = len;
            return ret == 0 ? 0 : would_block_or_error(t, ret, &t->io.send_want);
        }
        n = (size_t)ret;
    }
    t->io.send_want = KMQTT_WAIT_WRITE;
    t->io.owed = len - n;
    return (long)n;
}

static long recv_raw(void *ctx, void *buf, size_t len)
{
    mtls_t *t = ctx;
    int ret;
    if (!t->open) {
        return KMQTT_ENOTCONN;
    }
    /* An alert left waiting goes when it can; reading does not wait for it
     * (mbed TLS reads on with it pending), so a peer that does not read
     * while it writes to us cannot lock both sides. */
    ret = flush_own(t);
    if (ret < 0 && ret != MBEDTLS_ERR_SSL_WANT_WRITE && ret != MBEDTLS_ERR_SSL_WANT_READ) {
        return map_error(t, ret);
    }
    ret = mbedtls_ssl_read(&t->ssl, buf, len);
    if (ret > 0) {
        t->io.recv_want = KMQTT_WAIT_READ;
        return ret;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        /* An alert could not go whole: the next read may send the rest
         * (writable) or read on (readable); either is progress. */
        t->io.recv_want = KMQTT_WAIT_READ | KMQTT_WAIT_WRITE;
        return 0;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
        t->io.recv_want = KMQTT_WAIT_READ;
        return 0;
    }
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        return KMQTT_ECLOSED;
    }
    return map_error(t, ret);
}

static long sticky(mtls_t *t, long r)
{
    if (r < 0 && t->open && t->fatal == KMQTT_OK) {
        t->fatal = (kmqtt_err_t)r;
    }
    return r;
}

static long mtls_send(void *ctx, const void *buf, size_t len)
{
    mtls_t *t = ctx;
    return t->fatal != KMQTT_OK ? t->fatal : sticky(t, send_raw(ctx, buf, len));
}

static long mtls_recv(void *ctx, void *buf, size_t len)
{
    mtls_t *t = ctx;
    return t->fatal != KMQTT_OK ? t->fatal : sticky(t, recv_raw(ctx, buf, len));
}

/* Decrypted or buffered bytes the socket will not announce again.
 * mbedtls_ssl_check_pending came with mbedTLS 2.10 (RT-Thread's mbedtls
 * package is 2.7.10); before it, only decrypted bytes can be asked for, and
 * 2.7 reads no further from the socket than the record it decrypts. */
static bool pending(mtls_t *t)
{
#if MBEDTLS_VERSION_NUMBER >= 0x020A0000
    return mbedtls_ssl_check_pending(&t->ssl) != 0;
#else
    return mbedtls_ssl_get_bytes_avail(&t->ssl) > 0;
#endif
}

static kmqtt_err_t mtls_wait(void *ctx, unsigned events, uint32_t timeout_ms, unsigned *ready)
{
    mtls_t *t = ctx;
    if (!t->open) {
        return t->lower.wait(t->lower.ctx, events, timeout_ms, ready);
    }
    /* Records read but not processed would never wake the socket. */
    if ((events & KMQTT_WAIT_READ) && pending(t)) {
        *ready = KMQTT_WAIT_READ;
        return KMQTT_OK;
    }
    return tls_io_wait(&t->lower, &t->io, events, timeout_ms, ready);
}

static void mtls_wake(void *ctx)
{
    mtls_t *t = ctx;
    t->lower.wake(t->lower.ctx);
}

static void mtls_close(void *ctx)
{
    mtls_t *t = ctx;
    if (t->open) {
        (void)mbedtls_ssl_close_notify(&t->ssl); /* one attempt, never waited for */
        drop_ssl(t);
    }
    t->lower.close(t->lower.ctx);
}

static void free_all(mtls_t *t)
{
    drop_ssl(t);
    if (t->have_session) {
        mbedtls_ssl_session_free(&t->session);
    }
    mbedtls_ssl_config_free(&t->cfg);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_x509_crt_free(&t->own);
    mbedtls_pk_free(&t->key);
    tls_conf_free(t->mem, &t->conf);
    /* The DRBG state and the kept session (its master secret) sit in t;
     * mbed TLS zeroes what it frees, this covers what it keeps inline. */
    {
        kmqtt_mem_t *m = t->mem;
        kmqtt_mem_wipe(t, sizeof(*t));
        (void)kmqtt_mem_free(m, t);
    }
}

static void mtls_destroy(void *ctx)
{
    mtls_t *t = ctx;
    kmqtt_transport_t lower;
    if (t == NULL) {
        return;
    }
    mtls_close(t);
    lower = t->lower;
    free_all(t);
    lower.destroy(lower.ctx);
}

kmqtt_err_t kmqtt_tls_create(kmqtt_mem_t *m, const kmqtt_tls_options_t *o,
                             const kmqtt_transport_t *lower, kmqtt_transport_t *out)
{
    mtls_t *t;
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
    mbedtls_ssl_config_init(&t->cfg);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_x509_crt_init(&t->own);
    mbedtls_pk_init(&t->key);
    err = tls_conf_copy(m, o, &t->conf);
    if (err == KMQTT_OK) {
        err = make_config(t);
    }
    if (err != KMQTT_OK) {
        free_all(t); /* the caller keeps the lower transport */
        return err;
    }
    out->ctx = t;
    out->open = mtls_open;
    out->send = mtls_send;
    out->recv = mtls_recv;
    out->wait = mtls_wait;
    out->wake = mtls_wake;
    out->close = mtls_close;
    out->destroy = mtls_destroy;
    return KMQTT_OK;
}

kmqtt_err_t kmqtt_tls_stats(const kmqtt_transport_t *t, kmqtt_tls_stats_t *out)
{
    if (t == NULL || out == NULL || t->open != mtls_open || t->ctx == NULL) {
        return KMQTT_EINVAL;
    }
    *out = ((const mtls_t *)t->ctx)->stats;
    out->store_errors = ((const mtls_t *)t->ctx)->conf.store_errors;
    return KMQTT_OK;
}
