/*
 * Client integration test helpers (see it_client.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "it_client.h"

#include <string.h>

void it_rec_init(it_rec_t *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
}

void it_rec_destroy(it_rec_t *r)
{
    pthread_mutex_destroy(&r->mu);
}

int it_rec_count(it_rec_t *r)
{
    int n;
    pthread_mutex_lock(&r->mu);
    n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

void it_rec_handler(kmqtt_client_t *c, const kmqtt_publish_t *msg, void *ctx)
{
    it_rec_t *r = ctx;
    (void)c;
    pthread_mutex_lock(&r->mu);
    if (r->n < IT_MAX_MSGS) {
        it_msg_t *m = &r->msgs[r->n];
        size_t tl = msg->topic.len < sizeof(m->topic) - 1 ? msg->topic.len : sizeof(m->topic) - 1;
        size_t pl = msg->payload.len < sizeof(m->payload) ? msg->payload.len : sizeof(m->payload);
        memcpy(m->topic, msg->topic.ptr, tl);
        m->topic[tl] = '\0';
        if (pl > 0) {
            memcpy(m->payload, msg->payload.ptr, pl);
        }
        m->len = msg->payload.len;
        m->qos = msg->qos;
        m->retain = msg->retain;
    }
    r->n++;
    pthread_mutex_unlock(&r->mu);
}

void it_states_init(it_states_t *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
}

void it_states_destroy(it_states_t *s)
{
    pthread_mutex_destroy(&s->mu);
}

void it_states_handler(kmqtt_client_t *c, kmqtt_conn_state_t state, kmqtt_err_t err, void *ctx)
{
    it_states_t *s = ctx;
    (void)c;
    pthread_mutex_lock(&s->mu);
    if (s->n < 32) {
        s->state[s->n] = state;
        s->err[s->n] = err;
        s->n++;
    }
    pthread_mutex_unlock(&s->mu);
}

bool it_states_wait(it_states_t *s, kmqtt_conn_state_t state, unsigned timeout_ms, kmqtt_err_t *err)
{
    uint64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int i;
        pthread_mutex_lock(&s->mu);
        for (i = 0; i < s->n; i++) {
            if (s->state[i] == state) {
                if (err != NULL) {
                    *err = s->err[i];
                }
                pthread_mutex_unlock(&s->mu);
                return true;
            }
        }
        pthread_mutex_unlock(&s->mu);
        if (now_ms() >= deadline) {
            return false;
        }
        sleep_ms(2);
    }
}

void it_options(kmqtt_client_options_t *o, const broker_t *b, const char *id)
{
    kmqtt_client_options_init(o);
    o->host = "127.0.0.1";
    o->port = b != NULL ? broker_port(b) : 1;
    o->client_id = id;
    o->connect_timeout_ms = 5000;
}

kmqtt_err_t it_pump(kmqtt_client_t *c, unsigned timeout_ms, bool (*done)(void *), void *ctx)
{
    uint64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        kmqtt_err_t e;
        if (done != NULL && done(ctx)) {
            return KMQTT_OK;
        }
        if (now_ms() >= deadline) {
            return KMQTT_OK;
        }
        e = kmqtt_run(c, 10);
        if (e == KMQTT_ESTATE) {
            /* The background thread runs the loop. */
            sleep_ms(2);
        } else if (e != KMQTT_OK) {
            return e;
        }
    }
}

typedef struct rec_goal {
    it_rec_t *r;
    int n;
} rec_goal_t;

static bool rec_reached(void *ctx)
{
    rec_goal_t *g = ctx;
    return it_rec_count(g->r) >= g->n;
}

bool it_wait_msgs(kmqtt_client_t *c, it_rec_t *r, int n, unsigned timeout_ms)
{
    rec_goal_t g;
    g.r = r;
    g.n = n;
    (void)it_pump(c, timeout_ms, rec_reached, &g);
    return it_rec_count(r) >= n;
}

static bool proc_done(void *ctx)
{
    return proc_poll(ctx, NULL);
}

int it_wait_proc(kmqtt_client_t *c, proc_t *p, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    uint64_t now;
    (void)it_pump(c, timeout_ms, proc_done, p);
    /* The loop may have stopped early (connection gone): wait out the rest. */
    now = now_ms();
    return proc_wait(p, now < deadline ? (unsigned)(deadline - now) + 100u : 100u);
}

static pthread_mutex_t parent_mu = PTHREAD_MUTEX_INITIALIZER;

static void parent_lock(void *ctx)
{
    pthread_mutex_lock(ctx);
}

static void parent_unlock(void *ctx)
{
    pthread_mutex_unlock(ctx);
}

int it_parent_init(kmqtt_mem_t *m)
{
    kmqtt_mem_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.debug = true;
    cfg.lock = parent_lock;
    cfg.unlock = parent_unlock;
    cfg.lock_ctx = &parent_mu;
    return kmqtt_mem_init(m, &cfg) == KMQTT_OK ? 0 : -1;
}

void it_take_baseline(kmqtt_mem_t *m, it_baseline_t *b)
{
    kmqtt_mem_stats_t s;
    kmqtt_mem_get_stats(m, &s);
    b->bytes = s.bytes;
    b->blocks = s.blocks;
    b->fds = count_open_fds();
    b->threads = count_threads();
}

static void print_block(void *ctx, const kmqtt_mem_block_t *blk)
{
    (void)ctx;
    print_error("  live: %zu B tag %s at %s:%d\n", blk->size, blk->tag, blk->file, blk->line);
}

void it_expect_baseline(kmqtt_mem_t *m, const it_baseline_t *b, const char *what, int cycle)
{
    kmqtt_mem_stats_t s;
    int fds, threads;
    kmqtt_mem_get_stats(m, &s);
    fds = count_open_fds();
    threads = wait_threads_at_most(b->threads, 200);
    if (s.bytes != b->bytes || s.blocks != b->blocks || fds != b->fds || threads != b->threads ||
        s.faults != 0) {
        print_error("%s, cycle %d: heap %zu B in %zu blocks (baseline %zu B, %zu), fds %d (%d), "
                    "threads %d (%d), faults %u\n",
                    what, cycle, s.bytes, s.blocks, b->bytes, b->blocks, fds, b->fds, threads,
                    b->threads, (unsigned)s.faults);
        kmqtt_mem_walk(m, print_block, NULL);
        fail();
    }
}
