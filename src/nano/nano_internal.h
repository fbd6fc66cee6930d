/*
 * Shared by the nano driver's files only. The protocol is the engine's
 * (src/session/, session.h); the driver owns the transport, the reconnect
 * policy and the callback.
 */
#ifndef KMQTT_NANO_INTERNAL_H
#define KMQTT_NANO_INTERNAL_H

#include <string.h>

#include "kmqtt/nano.h"

/* nano_poll.c */
void nano_lose(kmqtt_nano_t *c, kmqtt_err_t err, uint8_t reason, const uint8_t *props,
               size_t props_len);
kmqtt_err_t nano_flush(kmqtt_nano_t *c);
kmqtt_err_t nano_attempt(kmqtt_nano_t *c);
void nano_close(kmqtt_nano_t *c);

#endif
