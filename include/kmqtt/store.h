/** @file
 * kmqtt store — a small synchronous key-value interface for persistence.
 *
 * Store and forward keeps, in a store, what must survive a process kill or
 * a power cut: queued and in-flight QoS 1/2 messages and inbound QoS 2 ids.
 * The interface is small so it can sit on a file system (the POSIX
 * implementation below), a flash key-value store or EEPROM pages.
 *
 * Keys are 32-bit unsigned integers: a record's kind in the top byte and
 * its number (packet id, queue sequence) below, so a store needs no string
 * handling. Values are opaque bytes.
 *
 * Rules every implementation keeps:
 *  - put is atomic: after a crash at any point either the old record (or
 *    none) or the new one is read back, never a mix or a torn write;
 *  - a damaged record (truncated, a flipped bit) is never returned as
 *    valid: get returns KMQTT_ESTORE, list skips it and reports it;
 *  - calls are synchronous and may block (disk, flash erase); the client
 *    calls them with its lock held, on the thread that publishes or runs
 *    the loop.
 */
#ifndef KMQTT_STORE_H
#define KMQTT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kmqtt/error.h"
#include "kmqtt/mem.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Called by list for each valid record: its key and the length of its
 * value. Return KMQTT_OK to go on, anything else to stop (list returns it). */
typedef kmqtt_err_t (*kmqtt_store_list_fn)(void *arg, uint32_t key, size_t len);

/** A store: functions over the implementation's context. The client calls
 * them with its lock held (see the rules above). */
typedef struct kmqtt_store {
    void *ctx; /**< the implementation's state, passed to every function below */

    /** Stores len bytes under key, replacing any record there. Returns
     * KMQTT_OK or KMQTT_ESTORE (I/O error, full). */
    kmqtt_err_t (*put)(void *ctx, uint32_t key, const void *data, size_t len);
    /** Copies the value of key into buf (cap bytes) and sets *len. Returns
     * KMQTT_OK, KMQTT_ENOTFOUND, KMQTT_ENOBUFS (cap too small: *len says how
     * much is needed) or KMQTT_ESTORE (damaged or unreadable). */
    kmqtt_err_t (*get)(void *ctx, uint32_t key, void *buf, size_t cap, size_t *len);
    /** Removes key. KMQTT_OK also when there was none; KMQTT_ESTORE. */
    kmqtt_err_t (*remove)(void *ctx, uint32_t key);
    /** Calls fn for every valid record, in no particular order. Damaged
     * records are reported (implementation-specific) and skipped. Returns
     * KMQTT_OK, fn's error, or KMQTT_ESTORE. */
    kmqtt_err_t (*list)(void *ctx, kmqtt_store_list_fn fn, void *arg);
    /** Releases ctx (the stored records stay). May be NULL. */
    void (*destroy)(void *ctx);
} kmqtt_store_t;

/** CRC-32 (IEEE 802.3, the one of zlib and PNG) of len bytes, continuing
 * from crc (start with 0). For stores that checksum their records. */
uint32_t kmqtt_crc32(uint32_t crc, const void *data, size_t len);

/* ------------------------------------------- POSIX: one file per record */

/** A damaged or left-over file the file store found and skipped: its name
 * (inside dir) and why: KMQTT_ESTORE (bad magic, version, length or CRC;
 * the file is removed) or KMQTT_ECANCELED (a temporary file a crash left
 * mid-write; removed). */
typedef void (*kmqtt_store_file_bad_fn)(void *arg, const char *name, kmqtt_err_t why);

/**
 * The file store (src/port/posix/store_file.c). Each record is the file
 * dir/KEY.rec, KEY the key in 8 hex digits:
 *   "KMQS" | version (1) | 3 zero bytes | length (u32 LE) | CRC-32 of the
 *   value (u32 LE) | value
 * written as dir/KEY.tmp, fsync'ed, renamed over the record and the
 * directory fsync'ed: a crash leaves the old record or the new one, and at
 * worst a .tmp that list removes. A record that fails its checks is never
 * returned: get says KMQTT_ESTORE, list reports it to bad (may be NULL)
 * and removes it. dir must exist; it is copied. The context comes from mem
 * (tag "store"). Returns KMQTT_OK, KMQTT_EINVAL, KMQTT_ENOMEM or
 * KMQTT_ESTORE (dir not usable). Per put: open, write, fsync, close,
 * rename, fsync of the directory.
 */
kmqtt_err_t kmqtt_store_file_create(kmqtt_mem_t *mem, const char *dir, kmqtt_store_file_bad_fn bad,
                                    void *bad_arg, kmqtt_store_t *out);

/** Records the file store skipped as damaged or left over, since create. */
size_t kmqtt_store_file_bad_count(const kmqtt_store_t *st);

#ifdef __cplusplus
}
#endif
#endif
