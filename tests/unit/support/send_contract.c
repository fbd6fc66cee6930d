/* The send-contract gate: see send_contract.h. */
#include "send_contract.h"

#include <string.h>

void sc_gate_init(sc_gate_t *g, uint8_t *held, size_t held_cap)
{
    memset(g, 0, sizeof(*g));
    g->held = held;
    g->held_cap = held_cap;
}

void sc_gate_script(sc_gate_t *g, const long *limits, size_t n)
{
    size_t i;
    for (i = 0; i < n && g->script_len < SC_SCRIPT_MAX; i++)
        g->script[g->script_len++] = limits[i];
}

void sc_gate_random(sc_gate_t *g, uint32_t seed, unsigned refuse_per_mille, size_t max_take)
{
    g->seed = seed;
    g->refuse_per_mille = refuse_per_mille;
    g->max_take = max_take;
}

static uint32_t next_random(sc_gate_t *g)
{
    /* xorshift32: deterministic per seed, never 0 once seeded. */
    uint32_t x = g->seed;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    g->seed = x;
    return x;
}

/* Writes "what (offer k: n)" into first, once. */
static void violation(sc_gate_t *g, const char *what, size_t at, size_t len)
{
    static const char digits[] = "0123456789";
    char num[2][24];
    size_t v[2], i, k, o = 0;

    g->violations++;
    if (g->first[0] != '\0')
        return;
    v[0] = at;
    v[1] = len;
    for (k = 0; k < 2; k++) {
        char t[24];
        size_t n = 0;
        do {
            t[n++] = digits[v[k] % 10];
            v[k] /= 10;
        } while (v[k] != 0);
        for (i = 0; i < n; i++)
            num[k][i] = t[n - 1 - i];
        num[k][n] = '\0';
    }
    for (i = 0; what[i] != '\0' && o < sizeof(g->first) - 1; i++)
        g->first[o++] = what[i];
    for (k = 0; k < 2; k++) {
        const char *sep = k == 0 ? " at offer " : ", byte/len ";
        for (i = 0; sep[i] != '\0' && o < sizeof(g->first) - 1; i++)
            g->first[o++] = sep[i];
        for (i = 0; num[k][i] != '\0' && o < sizeof(g->first) - 1; i++)
            g->first[o++] = num[k][i];
    }
    g->first[o] = '\0';
}

size_t sc_gate_offer(sc_gate_t *g, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t take = len, keep, i;

    g->offers++;
    if (len < g->owed) {
        violation(g, "re-offer shorter than what was owed", g->offers, len);
    } else {
        for (i = 0; i < g->held_len; i++) {
            if (p[i] != g->held[i]) {
                violation(g, "re-offer changed an owed byte", g->offers, i);
                break;
            }
        }
    }
    if (g->script_pos < g->script_len) {
        long l = g->script[g->script_pos++];
        if (l >= 0 && (size_t)l < take)
            take = (size_t)l;
    } else if (g->seed != 0 && len > 0) {
        if (next_random(g) % 1000u < g->refuse_per_mille) {
            take = 0;
        } else {
            size_t most = g->max_take != 0 && g->max_take < len ? g->max_take : len;
            take = 1 + next_random(g) % most;
        }
    }
    if (take == 0 && len > 0)
        g->refusals++;
    g->taken += take;
    /* What this offer leaves owed, for the next one to carry first. */
    g->owed = len - take;
    keep = g->owed < g->held_cap ? g->owed : g->held_cap;
    memmove(g->held, p + take, keep);
    g->held_len = keep;
    return take;
}

void sc_gate_closed(sc_gate_t *g)
{
    g->owed = 0;
    g->held_len = 0;
}

bool sc_gate_ok(const sc_gate_t *g)
{
    return g->violations == 0;
}
