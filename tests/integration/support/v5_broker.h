/*
 * A strict MQTT 5.0 test broker built on kmqtt's own codec (server
 * direction), for what mosquitto does not do: a small Receive Maximum, a
 * small Maximum Packet Size, a small Topic Alias Maximum enforced to the
 * letter, enhanced authentication (method "KMQTT-TEST") with
 * re-authentication, a CONNACK that names another server, a server
 * DISCONNECT on demand, an assigned client identifier and a server
 * keepalive.
 *
 * It listens on a free 127.0.0.1 port in a child process (so its sockets
 * and heap never count against the test's baselines), serves one client at
 * a time, echoes the client's PUBLISHes to the client's own subscriptions
 * and records what it saw in memory shared with the test.
 *
 * A client that breaks one of the broker's limits gets the DISCONNECT the
 * spec names (0x93 Receive Maximum exceeded, 0x95 Packet too large, 0x94
 * Topic Alias invalid, 0x82 Protocol Error) and the violation is counted.
 */
#ifndef KMQTT_IT_V5_BROKER_H
#define KMQTT_IT_V5_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#define V5B_AUTH_METHOD "KMQTT-TEST"

typedef struct v5b v5b_t;

typedef struct v5b_opts {
    uint16_t receive_max;         /* CONNACK Receive Maximum; 0 = absent */
    uint32_t max_packet_size;     /* CONNACK Maximum Packet Size; 0 = absent */
    uint16_t topic_alias_max;     /* CONNACK Topic Alias Maximum (<= 64); 0 = absent */
    bool send_aliases;            /* forwards use aliases, up to the client's maximum */
    bool enhanced_auth;           /* see v5_broker.c: challenge "challenge", response
                                     "response" */
    const char *server_reference; /* non-NULL: CONNACK 0x9C with this Server Reference */
    uint8_t reference_reason;     /* that CONNACK's reason instead of 0x9C (e.g. 0x9D) */
    const char *assigned_id;      /* for an empty client id (NULL: "v5b-1") */
    uint16_t server_keepalive;    /* CONNACK Server Keep Alive; 0 = absent */
    uint32_t ack_delay_ms;        /* acks to client PUBLISHes held this long (0: 20 ms) */
    bool keep_session;            /* CONNACK Session Present to a Clean Start 0 after the
                                     first connection */
    /* From the second connection on the CONNACK says these instead (a server
     * whose limits changed while the client was away), and they are enforced:
     * a larger packet gets DISCONNECT 0x95, a PUBLISH above the Maximum QoS
     * 0x9B (MQTT-3.2.2-15, MQTT-3.2.2-11). */
    bool later_caps;
    uint32_t later_max_packet_size; /* Maximum Packet Size; 0 = absent */
    uint8_t later_max_qos;          /* Maximum QoS, 0 or 1 */
} v5b_opts_t;

typedef struct v5b_stats {
    unsigned connects;              /* CONNACKs with success sent */
    unsigned publishes;             /* client PUBLISHes received */
    unsigned max_inflight;          /* most client QoS 1/2 PUBLISHes unacknowledged at once */
    unsigned max_packet;            /* largest packet received from the client, bytes */
    unsigned aliased;               /* client PUBLISHes with an empty topic and an alias */
    unsigned violations;            /* broker limits the client broke */
    unsigned auth_steps;            /* AUTH packets received */
    unsigned reauths;               /* re-authentications completed */
    uint8_t last_disconnect_reason; /* of the client's last DISCONNECT; 0xFF: none */
    unsigned aliases_sent;          /* forwards sent with an empty topic and an alias */
    unsigned refusals;              /* CONNACKs with a failure sent */
} v5b_stats_t;

/* Starts the broker; NULL on failure. */
v5b_t *v5b_start(const v5b_opts_t *o);
uint16_t v5b_port(const v5b_t *b);
void v5b_get_stats(v5b_t *b, v5b_stats_t *out);
/* Sends DISCONNECT(reason, Reason String reason_string if not NULL) to the
 * connected client and closes it. 0 when done, -1 if no client or no answer
 * from the broker within 5 s. */
int v5b_disconnect(v5b_t *b, uint8_t reason, const char *reason_string);
/* v5b_disconnect with a Server Reference too (server_reference not NULL). */
int v5b_disconnect_ref(v5b_t *b, uint8_t reason, const char *reason_string,
                       const char *server_reference);
/* Kills and reaps the broker, frees b. NULL is a no-op. */
void v5b_stop(v5b_t *b);

#endif
