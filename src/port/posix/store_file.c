/*
 * The file store: one file per record, written to a temporary file,
 * fsync'ed and renamed over the record (see include/kmqtt/store.h for the
 * format). Everything read back is checked (magic, version, length, CRC)
 * before a byte of it is returned.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmqtt/store.h"

#define SF_MAGIC    "KMQS"
#define SF_VERSION  1u
#define SF_HDR      16u
#define SF_NAME_MAX 32u
/* A record larger than this is damage, not data (a store holds packets). */
#define SF_MAX_LEN (16u * 1024u * 1024u)

typedef struct sf {
    kmqtt_mem_t *mem;
    kmqtt_store_file_bad_fn bad;
    void *bad_arg;
    size_t bad_count;
    int dirfd;
    char dir[]; /* NUL-terminated */
} sf_t;

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void rec_name(char *out, uint32_t key, const char *ext)
{
    snprintf(out, SF_NAME_MAX, "%08x.%s", (unsigned)key, ext);
}

static void report(sf_t *s, const char *name, kmqtt_err_t why)
{
    s->bad_count++;
    if (s->bad != NULL)
        s->bad(s->bad_arg, name, why);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static kmqtt_err_t sf_put(void *ctx, uint32_t key, const void *data, size_t len)
{
    sf_t *s = ctx;
    char tmp[SF_NAME_MAX], rec[SF_NAME_MAX];
    uint8_t hdr[SF_HDR];
    int fd;

    if (len > SF_MAX_LEN || (data == NULL && len != 0))
        return KMQTT_EINVAL;
    rec_name(tmp, key, "tmp");
    rec_name(rec, key, "rec");
    memcpy(hdr, SF_MAGIC, 4);
    hdr[4] = SF_VERSION;
    hdr[5] = hdr[6] = hdr[7] = 0;
    put32(hdr + 8, (uint32_t)len);
    put32(hdr + 12, kmqtt_crc32(0, data, len));
    fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return KMQTT_ESTORE;
    /* One write for header and value would need a copy; two writes into
     * the page cache cost little next to the fsync. */
    if (write_all(fd, hdr, sizeof hdr) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        (void)close(fd);
        (void)unlinkat(s->dirfd, tmp, 0);
        return KMQTT_ESTORE;
    }
    if (close(fd) != 0 || renameat(s->dirfd, tmp, s->dirfd, rec) != 0) {
        (void)unlinkat(s->dirfd, tmp, 0);
        return KMQTT_ESTORE;
    }
    /* The rename itself must reach the disk. */
    if (fsync(s->dirfd) != 0)
        return KMQTT_ESTORE;
    return KMQTT_OK;
}

/* Reads and checks the record file name; fills buf (cap) and *len. */
static kmqtt_err_t read_rec(sf_t *s, const char *name, void *buf, size_t cap, size_t *len)
{
    uint8_t hdr[SF_HDR], extra;
    uint32_t n;
    ssize_t r;
    int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOENT ? KMQTT_ENOTFOUND : KMQTT_ESTORE;
    r = pread(fd, hdr, sizeof hdr, 0);
    if (r != (ssize_t)sizeof hdr || memcmp(hdr, SF_MAGIC, 4) != 0 || hdr[4] != SF_VERSION ||
        (n = get32(hdr + 8)) > SF_MAX_LEN) {
        (void)close(fd);
        return KMQTT_ESTORE;
    }
    *len = n;
    if (n > cap) {
        (void)close(fd);
        return KMQTT_ENOBUFS;
    }
    /* Exactly n bytes of value: fewer is a truncated file, more is damage. */
    r = n == 0 ? 0 : pread(fd, buf, n, SF_HDR);
    if (r != (ssize_t)n || pread(fd, &extra, 1, SF_HDR + (off_t)n) != 0 ||
        kmqtt_crc32(0, buf, n) != get32(hdr + 12)) {
        (void)close(fd);
        return KMQTT_ESTORE;
    }
    (void)close(fd);
    return KMQTT_OK;
}

static kmqtt_err_t sf_get(void *ctx, uint32_t key, void *buf, size_t cap, size_t *len)
{
    sf_t *s = ctx;
    char rec[SF_NAME_MAX];
    size_t n = 0;
    kmqtt_err_t err;

    rec_name(rec, key, "rec");
    err = read_rec(s, rec, buf, cap, &n);
    if (len != NULL)
        *len = n;
    return err;
}

static kmqtt_err_t sf_remove(void *ctx, uint32_t key)
{
    sf_t *s = ctx;
    char rec[SF_NAME_MAX];

    rec_name(rec, key, "rec");
    if (unlinkat(s->dirfd, rec, 0) != 0 && errno != ENOENT)
        return KMQTT_ESTORE;
    return KMQTT_OK;
}

/* "<8 hex>.<ext>": the key, or false for a name that is none of ours. */
static bool parse_name(const char *name, const char *ext, uint32_t *key)
{
    uint32_t k = 0;
    int i;

    if (strlen(name) != 8 + 1 + strlen(ext) || name[8] != '.' || strcmp(name + 9, ext) != 0)
        return false;
    for (i = 0; i < 8; i++) {
        char ch = name[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else
            return false;
        k = k << 4 | d;
    }
    *key = k;
    return true;
}

static kmqtt_err_t sf_list(void *ctx, kmqtt_store_list_fn fn, void *arg)
{
    sf_t *s = ctx;
    struct dirent *de;
    uint8_t buf[256];
    uint32_t key;
    size_t len;
    DIR *d;
    int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    kmqtt_err_t err = KMQTT_OK, r;

    if (fd < 0)
        return KMQTT_ESTORE;
    d = fdopendir(fd);
    if (d == NULL) {
        (void)close(fd);
        return KMQTT_ESTORE;
    }
    while (err == KMQTT_OK && (de = readdir(d)) != NULL) {
        if (parse_name(de->d_name, "tmp", &key)) {
            /* A put that a crash interrupted before its rename. */
            report(s, de->d_name, KMQTT_ECANCELED);
            (void)unlinkat(s->dirfd, de->d_name, 0);
            continue;
        }
        if (!parse_name(de->d_name, "rec", &key))
            continue;
        /* Checked in full here, so fn only ever hears of records that a
         * get will return. */
        r = read_rec(s, de->d_name, buf, sizeof buf, &len);
        if (r == KMQTT_ENOBUFS) {
            uint8_t *big = kmqtt_mem_alloc(s->mem, "store", len);
            if (big == NULL) {
                err = KMQTT_ENOMEM;
                break;
            }
            r = read_rec(s, de->d_name, big, len, &len);
            (void)kmqtt_mem_free(s->mem, big);
        }
        if (r == KMQTT_ENOTFOUND)
            continue;
        if (r != KMQTT_OK) {
            report(s, de->d_name, KMQTT_ESTORE);
            (void)unlinkat(s->dirfd, de->d_name, 0);
            continue;
        }
        err = fn(arg, key, len);
    }
    (void)closedir(d);
    return err;
}

static void sf_destroy(void *ctx)
{
    sf_t *s = ctx;

    (void)close(s->dirfd);
    (void)kmqtt_mem_free(s->mem, s);
}

kmqtt_err_t kmqtt_store_file_create(kmqtt_mem_t *mem, const char *dir, kmqtt_store_file_bad_fn bad,
                                    void *bad_arg, kmqtt_store_t *out)
{
    size_t n;
    sf_t *s;

    if (mem == NULL || dir == NULL || out == NULL || dir[0] == '\0')
        return KMQTT_EINVAL;
    n = strlen(dir);
    s = kmqtt_mem_alloc(mem, "store", sizeof *s + n + 1);
    if (s == NULL)
        return KMQTT_ENOMEM;
    memcpy(s->dir, dir, n + 1);
    s->mem = mem;
    s->bad = bad;
    s->bad_arg = bad_arg;
    s->bad_count = 0;
    s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        (void)kmqtt_mem_free(mem, s);
        return KMQTT_ESTORE;
    }
    memset(out, 0, sizeof *out);
    out->ctx = s;
    out->put = sf_put;
    out->get = sf_get;
    out->remove = sf_remove;
    out->list = sf_list;
    out->destroy = sf_destroy;
    return KMQTT_OK;
}

size_t kmqtt_store_file_bad_count(const kmqtt_store_t *st)
{
    const sf_t *s;

    if (st == NULL || st->ctx == NULL || st->list != sf_list)
        return 0;
    s = st->ctx;
    return s->bad_count;
}
