/*
 * Secrets are wiped before their memory is freed (issue 14): the user name
 * and password, the 5.0 Authentication Data given at create, the data a
 * re-authentication sends, and the buffer on_auth writes its answer into
 * (a stack buffer: wiped before it goes out of scope). Every block the
 * clients free goes through a debug-mode parent context whose on_free hook
 * (include/kmqtt/mem.h) sees the bytes as the library left them, before the
 * poison; none may hold a secret. Against mosquitto with a password file
 * (3.1.1 and 5.0, refused and accepted) and the 5.0 test broker double
 * (enhanced authentication).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "it_client.h"
#include "v5_broker.h"

#define WAIT_MS 10000u

#define USER   "user-Zk81xQ"
#define PASS   "pw-Qm72vLpR"
#define ADATA  "ad-Xr93KqTe"
#define REAUTH "re-Wd56HnYo"
#define ANSWER "an-Tb45JmUi" /* written around the answer the double wants */

static const char *const secrets[] = {USER, PASS, ADATA, REAUTH, ANSWER};
#define N_SECRETS (sizeof secrets / sizeof secrets[0])

static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static int hits[N_SECRETS];
static char hit_tag[N_SECRETS][32];
static unsigned long frees;

static bool holds(const unsigned char *p, size_t n, const char *s)
{
    size_t k = strlen(s), i;
    for (i = 0; i + k <= n; i++) {
        if (memcmp(p + i, s, k) == 0)
            return true;
    }
    return false;
}

static void on_free(void *ctx, const kmqtt_mem_block_t *b)
{
    size_t i;
    (void)ctx;
    pthread_mutex_lock(&seen_mu);
    frees++;
    for (i = 0; i < N_SECRETS; i++) {
        if (holds(b->ptr, b->size, secrets[i])) {
            hits[i]++;
            snprintf(hit_tag[i], sizeof hit_tag[i], "%s", b->tag != NULL ? b->tag : "?");
        }
    }
    pthread_mutex_unlock(&seen_mu);
}

static kmqtt_mem_t parent;

static void parent_lock(void *ctx)
{
    pthread_mutex_lock(ctx);
}

static void parent_unlock(void *ctx)
{
    pthread_mutex_unlock(ctx);
}

static int setup(void **state)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    kmqtt_mem_config_t cfg;
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.debug = true; /* poisons freed blocks: the hook looks before that */
    cfg.lock = parent_lock;
    cfg.unlock = parent_unlock;
    cfg.lock_ctx = &mu;
    cfg.on_free = on_free;
    return kmqtt_mem_init(&parent, &cfg) == KMQTT_OK ? 0 : -1;
}

static void reset_hits(void)
{
    pthread_mutex_lock(&seen_mu);
    memset(hits, 0, sizeof hits);
    frees = 0;
    pthread_mutex_unlock(&seen_mu);
}

static void expect_no_secret_freed(const char *what)
{
    size_t i;
    pthread_mutex_lock(&seen_mu);
    assert_true(frees > 0);
    for (i = 0; i < N_SECRETS; i++) {
        if (hits[i] != 0)
            fail_msg("%s: %d freed block(s) still held \"%s\" (the last tagged \"%s\")", what,
                     hits[i], secrets[i], hit_tag[i]);
    }
    pthread_mutex_unlock(&seen_mu);
}

/* User name and password, 3.1.1 and 5.0, refused once and accepted. */
static void test_user_name_and_password_are_wiped(void **state)
{
    broker_opts_t bo;
    broker_t *b;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    it_baseline_t base;
    int v;

    (void)state;
    memset(&bo, 0, sizeof bo);
    bo.username = USER;
    bo.password = PASS;
    b = broker_start(&bo);
    assert_non_null(b);
    it_take_baseline(&parent, &base);
    reset_hits();
    for (v = 0; v < 2; v++) {
        it_options(&o, b, "it-secrets-pw");
        o.mem = &parent;
        o.version = v == 0 ? KMQTT_V311 : KMQTT_V5;
        o.username = USER;
        o.password = "wrong";
        o.password_len = 5;
        assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
        assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_EREFUSED);
        kmqtt_client_destroy(c);
        o.password = PASS;
        o.password_len = strlen(PASS);
        assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
        assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_publish(c, "s/x", "x", 1, 1, false, NULL, NULL), KMQTT_OK);
        assert_int_equal(kmqtt_flush(c, WAIT_MS), KMQTT_OK);
        assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
        kmqtt_client_destroy(c);
    }
    it_expect_baseline(&parent, &base, "user name and password", 0);
    expect_no_secret_freed("user name and password");
    broker_stop(b);
}

/* on_auth writes the answer the double wants ("response"), surrounded by
 * ANSWER over the rest of the buffer (a callback may use all of it), and
 * remembers where the buffer was. */
typedef struct auth_ctx {
    unsigned char *out;
    size_t cap;
    int calls;
} auth_ctx_t;

static kmqtt_err_t on_auth(kmqtt_client_t *c, uint8_t reason, const kmqtt_bin_t *data, uint8_t *out,
                           size_t cap, size_t *out_len, void *ctx)
{
    auth_ctx_t *a = ctx;
    size_t i, k = strlen(ANSWER);
    (void)c;
    (void)data;
    a->calls++;
    if (reason != 0x18)
        return KMQTT_OK;
    a->out = out;
    a->cap = cap;
    for (i = 0; i + k <= cap; i += k)
        memcpy(out + i, ANSWER, k);
    memcpy(out, "response", 8);
    *out_len = 8;
    return KMQTT_OK;
}

/* What the dead stack frame of the answer buffer still holds, copied out
 * at once (in this frame, with no call in between that could reuse the
 * stack below it). */
#define STACK_COPY 1024

static void test_auth_data_and_the_answer_buffer_are_wiped(void **state)
{
    v5b_opts_t bo;
    v5b_t *b;
    kmqtt_client_options_t o;
    kmqtt_client_t *c;
    auth_ctx_t a;
    it_baseline_t base;
    unsigned char copy[STACK_COPY];
    size_t n, i;

    (void)state;
    memset(&bo, 0, sizeof bo);
    bo.enhanced_auth = true;
    b = v5b_start(&bo);
    assert_non_null(b);
    it_take_baseline(&parent, &base);
    reset_hits();
    memset(&a, 0, sizeof a);
    it_options(&o, NULL, "it-secrets-auth");
    o.host = "127.0.0.1";
    o.port = v5b_port(b);
    o.mem = &parent;
    o.version = KMQTT_V5;
    o.auth_method = V5B_AUTH_METHOD;
    o.auth_data = ADATA;
    o.auth_data_len = strlen(ADATA);
    o.on_auth = on_auth;
    o.ctx = &a;
    assert_int_equal(kmqtt_client_create(&o, &c), KMQTT_OK);
    assert_int_equal(kmqtt_connect(c, WAIT_MS, NULL), KMQTT_OK);
    {
        /* The buffer lived in a frame of this thread below this one. */
        volatile const unsigned char *src = a.out;
        n = a.cap < sizeof copy ? a.cap : sizeof copy;
        assert_non_null(a.out);
        for (i = 0; i < n; i++)
            copy[i] = src[i];
    }
    if (holds(copy, n, ANSWER))
        fail_msg("the on_auth answer buffer still holds what the callback wrote");
    assert_int_equal(kmqtt_reauthenticate(c, REAUTH, strlen(REAUTH), WAIT_MS, NULL), KMQTT_OK);
    assert_int_equal(kmqtt_disconnect(c, NULL), KMQTT_OK);
    kmqtt_client_destroy(c);
    it_expect_baseline(&parent, &base, "auth", 0);
    expect_no_secret_freed("authentication data");
    v5b_stop(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_name_and_password_are_wiped),
        cmocka_unit_test(test_auth_data_and_the_answer_buffer_are_wiped),
    };
    warm_up_threads();
    return cmocka_run_group_tests(tests, setup, NULL);
}
