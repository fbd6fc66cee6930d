/* The file store (src/port/posix/store_file.c) and its record format: round
 * trip, replace, remove, list; and damage on disk — a truncated file, a
 * flipped byte, a wrong magic, a stale temporary file from a crash
 * mid-write, junk after the value — detected, reported, skipped, never
 * returned as a record. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmqtt/store.h"

typedef struct env {
    char dir[64];
    kmqtt_mem_t mem;
    kmqtt_store_t st;
    int bad;
    kmqtt_err_t why[8];
    char name[8][32];
} env_t;

static void on_bad(void *arg, const char *name, kmqtt_err_t why)
{
    env_t *e = arg;
    if (e->bad < 8) {
        e->why[e->bad] = why;
        snprintf(e->name[e->bad], sizeof e->name[0], "%s", name);
    }
    e->bad++;
}

static int setup(void **state)
{
    static env_t e;
    kmqtt_mem_config_t mc;

    memset(&e, 0, sizeof e);
    snprintf(e.dir, sizeof e.dir, "/tmp/kmqtt-store-XXXXXX");
    if (mkdtemp(e.dir) == NULL)
        return -1;
    memset(&mc, 0, sizeof mc);
    mc.debug = true;
    if (kmqtt_mem_init(&e.mem, &mc) != KMQTT_OK)
        return -1;
    if (kmqtt_store_file_create(&e.mem, e.dir, on_bad, &e, &e.st) != KMQTT_OK)
        return -1;
    *state = &e;
    return 0;
}

static int teardown(void **state)
{
    env_t *e = *state;
    kmqtt_mem_stats_t s;
    char cmd[128];

    e->st.destroy(e->st.ctx);
    kmqtt_mem_get_stats(&e->mem, &s);
    snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
    if (system(cmd) != 0)
        return -1;
    return s.bytes == 0 && s.blocks == 0 ? 0 : -1; /* nothing leaked */
}

typedef struct seen {
    int n;
    uint32_t keys[16];
    size_t lens[16];
} seen_t;

static kmqtt_err_t collect(void *arg, uint32_t key, size_t len)
{
    seen_t *s = arg;
    if (s->n < 16) {
        s->keys[s->n] = key;
        s->lens[s->n] = len;
    }
    s->n++;
    return KMQTT_OK;
}

static void path_of(const env_t *e, uint32_t key, const char *ext, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%08x.%s", e->dir, (unsigned)key, ext);
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static void test_crc32_known_value(void **state)
{
    (void)state;
    /* The check value of CRC-32/ISO-HDLC. */
    assert_int_equal(kmqtt_crc32(0, "123456789", 9), 0xcbf43926u);
    assert_int_equal(kmqtt_crc32(kmqtt_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
    assert_int_equal(kmqtt_crc32(0, "", 0), 0);
}

static void test_round_trip_replace_remove(void **state)
{
    env_t *e = *state;
    uint8_t big[5000], out[5000];
    char buf[64], path[128];
    size_t len = 0;
    seen_t s;
    int i;

    for (i = 0; i < (int)sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    assert_int_equal(e->st.put(e->st.ctx, 1, "hello", 5), KMQTT_OK);
    assert_int_equal(e->st.put(e->st.ctx, 0x02000007u, big, sizeof big), KMQTT_OK);
    assert_int_equal(e->st.put(e->st.ctx, 3, NULL, 0), KMQTT_OK);
    path_of(e, 1, "rec", path, sizeof path);
    assert_int_equal(file_size(path), 16 + 5); /* the header's cost */

    assert_int_equal(e->st.get(e->st.ctx, 1, buf, sizeof buf, &len), KMQTT_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(e->st.get(e->st.ctx, 0x02000007u, out, sizeof out, &len), KMQTT_OK);
    assert_int_equal(len, sizeof big);
    assert_memory_equal(out, big, sizeof big);
    assert_int_equal(e->st.get(e->st.ctx, 3, buf, sizeof buf, &len), KMQTT_OK);
    assert_int_equal(len, 0);
    /* Too small a buffer: says how much is needed, copies nothing. */
    assert_int_equal(e->st.get(e->st.ctx, 0x02000007u, buf, sizeof buf, &len), KMQTT_ENOBUFS);
    assert_int_equal(len, sizeof big);
    assert_int_equal(e->st.get(e->st.ctx, 99, buf, sizeof buf, &len), KMQTT_ENOTFOUND);

    assert_int_equal(e->st.put(e->st.ctx, 1, "world!", 6), KMQTT_OK);
    assert_int_equal(e->st.get(e->st.ctx, 1, buf, sizeof buf, &len), KMQTT_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(buf, "world!", 6);

    memset(&s, 0, sizeof s);
    assert_int_equal(e->st.list(e->st.ctx, collect, &s), KMQTT_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(e->st.remove(e->st.ctx, 0x02000007u), KMQTT_OK);
    assert_int_equal(e->st.remove(e->st.ctx, 0x02000007u), KMQTT_OK); /* absent: fine */
    assert_int_equal(e->st.remove(e->st.ctx, 3), KMQTT_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(e->st.list(e->st.ctx, collect, &s), KMQTT_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.keys[0], 1);
    assert_int_equal(s.lens[0], 6);
    assert_int_equal(e->bad, 0);
    assert_int_equal(kmqtt_store_file_bad_count(&e->st), 0);
}

/* Writes raw bytes as a record or temporary file. */
static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static size_t read_file(const char *path, uint8_t *p, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    assert_non_null(f);
    n = fread(p, 1, cap, f);
    fclose(f);
    return n;
}

static void test_damage_detected_and_skipped(void **state)
{
    env_t *e = *state;
    uint8_t raw[256], buf[256];
    char path[128];
    size_t n, len;
    seen_t s;
    uint32_t k;

    /* Five good records, then damage four of them in different ways. */
    for (k = 1; k <= 6; k++)
        assert_int_equal(e->st.put(e->st.ctx, k, "payload-of-record", 17), KMQTT_OK);
    path_of(e, 1, "rec", path, sizeof path);
    n = read_file(path, raw, sizeof raw);
    assert_int_equal(n, 16 + 17);

    /* 1: truncated in the value (a torn write without rename) */
    write_file(path, raw, n - 3);
    /* 2: one flipped bit in the value */
    path_of(e, 2, "rec", path, sizeof path);
    raw[20] ^= 0x10;
    write_file(path, raw, n);
    raw[20] ^= 0x10;
    /* 3: wrong magic */
    path_of(e, 3, "rec", path, sizeof path);
    raw[0] = 'X';
    write_file(path, raw, n);
    raw[0] = 'K';
    /* 4: truncated in the header */
    path_of(e, 4, "rec", path, sizeof path);
    write_file(path, raw, 10);
    /* 5: junk after the value */
    path_of(e, 5, "rec", path, sizeof path);
    raw[n] = 0;
    write_file(path, raw, n + 1);
    /* a crash after writing the temporary file of key 6, before rename:
     * the old record 6 stays valid, the .tmp is junk */
    path_of(e, 6, "tmp", path, sizeof path);
    write_file(path, raw, 7);

    for (k = 1; k <= 5; k++)
        assert_int_equal(e->st.get(e->st.ctx, k, buf, sizeof buf, &len), KMQTT_ESTORE);
    assert_int_equal(e->st.get(e->st.ctx, 6, buf, sizeof buf, &len), KMQTT_OK);
    assert_memory_equal(buf, "payload-of-record", 17);

    memset(&s, 0, sizeof s);
    assert_int_equal(e->st.list(e->st.ctx, collect, &s), KMQTT_OK);
    assert_int_equal(s.n, 1); /* only the intact one */
    assert_int_equal(s.keys[0], 6);
    assert_int_equal(e->bad, 6);
    assert_int_equal(kmqtt_store_file_bad_count(&e->st), 6);
    {
        int i, tmp = 0, bad = 0;
        for (i = 0; i < 6; i++) {
            if (e->why[i] == KMQTT_ECANCELED && strcmp(e->name[i], "00000006.tmp") == 0)
                tmp++;
            if (e->why[i] == KMQTT_ESTORE)
                bad++;
        }
        assert_int_equal(tmp, 1);
        assert_int_equal(bad, 5);
    }
    /* Reported once: the damaged files are gone, the next list is clean. */
    memset(&s, 0, sizeof s);
    assert_int_equal(e->st.list(e->st.ctx, collect, &s), KMQTT_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(e->bad, 6);
    path_of(e, 6, "tmp", path, sizeof path);
    assert_int_equal(file_size(path), -1);
    /* Files that are not records are left alone. */
    snprintf(path, sizeof path, "%s/README", e->dir);
    write_file(path, "x", 1);
    memset(&s, 0, sizeof s);
    assert_int_equal(e->st.list(e->st.ctx, collect, &s), KMQTT_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(file_size(path), 1);
}

static void test_bad_arguments(void **state)
{
    env_t *e = *state;
    kmqtt_store_t st;

    assert_int_equal(kmqtt_store_file_create(&e->mem, "/nonexistent/kmqtt", NULL, NULL, &st),
                     KMQTT_ESTORE);
    assert_int_equal(kmqtt_store_file_create(&e->mem, "", NULL, NULL, &st), KMQTT_EINVAL);
    assert_int_equal(e->st.put(e->st.ctx, 1, NULL, 3), KMQTT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_known_value),
        cmocka_unit_test_setup_teardown(test_round_trip_replace_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_detected_and_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
