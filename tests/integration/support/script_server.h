/*
 * A scripted "broker" for failure-path tests: a TCP server on a free
 * loopback port that plays one short script per connection. It runs in a
 * child process, so its sockets never count among the test's descriptors.
 */
#ifndef KMQTT_IT_SCRIPT_SERVER_H
#define KMQTT_IT_SCRIPT_SERVER_H

#include <stdint.h>

typedef enum script {
    /* Reads the CONNECT, then closes: a broker that dies mid-handshake. */
    SCRIPT_CLOSE_AFTER_CONNECT,
    /* Reads the CONNECT, answers CONNACK (accepted), then bytes that are no
     * packet (a remaining length longer than 4 bytes), then waits for the
     * client to close. */
    SCRIPT_CONNACK_THEN_GARBAGE
} script_t;

typedef struct script_server script_server_t;

/* NULL if it could not start. */
script_server_t *script_server_start(script_t script);
uint16_t script_server_port(const script_server_t *s);
/* Kills and reaps the child. NULL is a no-op. */
void script_server_stop(script_server_t *s);

#endif
