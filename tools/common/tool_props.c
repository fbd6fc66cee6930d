/*
 * mosquitto's -D flag: -D command identifier value (user-property takes
 * two values). The commands and identifiers are spelled as mosquitto
 * spells them; what kmqtt cannot send is refused with one line saying so,
 * never ignored. Values point into argv (alive for the whole program).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

typedef enum cmd { C_CONNECT, C_PUBLISH, C_SUBSCRIBE, C_UNSUBSCRIBE, C_DISCONNECT, C_WILL } cmd_t;

static const char *const CMDS[] = {"connect",     "publish",    "subscribe",
                                   "unsubscribe", "disconnect", "will"};

static int bad(const char *what, const char *val, const char *why)
{
    tool_error("-D %s '%s': %s; see --help", what, val, why);
    return TOOL_EXIT_USAGE;
}

static bool num(const char *s, unsigned long hi, unsigned long *out)
{
    char *end = NULL;

    if (s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno == 0 && *end == '\0' && *out <= hi;
}

static int user_prop(kmqtt_user_prop_t *list, size_t *n, const char *name, const char *value)
{
    if (*n == TOOL_MAX_USER_PROPS) {
        tool_error("-D user-property: at most %d per packet", TOOL_MAX_USER_PROPS);
        return TOOL_EXIT_USAGE;
    }
    list[*n].name = name;
    list[*n].value = value;
    (*n)++;
    return TOOL_CONTINUE;
}

/* The message properties publish and will share. */
static int message_prop(const char *id, const char *v, kmqtt_publish_props_t *pp)
{
    unsigned long n;

    if (strcmp(id, "content-type") == 0) {
        pp->content_type = v;
    } else if (strcmp(id, "payload-format-indicator") == 0) {
        if (!num(v, 1, &n))
            return bad(id, v, "0 (bytes) or 1 (UTF-8)");
        pp->payload_format = (uint8_t)n;
    } else if (strcmp(id, "message-expiry-interval") == 0) {
        if (!num(v, UINT32_MAX, &n))
            return bad(id, v, "seconds, 0..4294967295");
        pp->message_expiry_s = (uint32_t)n;
    } else if (strcmp(id, "response-topic") == 0) {
        if (kmqtt_topic_name_validate(v, strlen(v)) != KMQTT_OK)
            return bad(id, v, "a topic name without wildcards");
        pp->response_topic = v;
    } else if (strcmp(id, "correlation-data") == 0) {
        pp->correlation_data = v;
        pp->correlation_len = strlen(v);
    } else {
        return TOOL_EXIT_USAGE + 100; /* not a message property */
    }
    return TOOL_CONTINUE;
}

static int connect_prop(tool_props_t *p, const char *id, const char *v)
{
    unsigned long n;

    if (strcmp(id, "session-expiry-interval") == 0) {
        if (!num(v, UINT32_MAX, &n))
            return bad(id, v, "seconds, 0..4294967295");
        p->session_expiry = (uint32_t)n;
    } else if (strcmp(id, "receive-maximum") == 0) {
        if (!num(v, 65535, &n) || n == 0)
            return bad(id, v, "1..65535");
        p->receive_maximum = (uint16_t)n;
    } else if (strcmp(id, "maximum-packet-size") == 0) {
        if (!num(v, 268435460ul, &n) || n == 0)
            return bad(id, v, "bytes, 1..268435460");
        p->maximum_packet_size = (uint32_t)n;
    } else if (strcmp(id, "topic-alias-maximum") == 0) {
        if (!num(v, 65535, &n))
            return bad(id, v, "0..65535");
        p->topic_alias_maximum = (uint16_t)n;
    } else if (strcmp(id, "request-response-information") == 0) {
        if (!num(v, 1, &n))
            return bad(id, v, "0 or 1");
        p->request_response_info = n == 1;
    } else if (strcmp(id, "request-problem-information") == 0) {
        if (!num(v, 1, &n))
            return bad(id, v, "0 or 1");
        p->no_problem_info = n == 0;
    } else {
        return TOOL_EXIT_USAGE + 100;
    }
    return TOOL_CONTINUE;
}

static int apply(tool_opts_t *o, cmd_t cmd, const char *id, const char *v, const char *v2)
{
    tool_props_t *p = &o->v5;
    unsigned long n;
    int rc = TOOL_EXIT_USAGE + 100;

    if (strcmp(id, "user-property") == 0) {
        switch (cmd) {
        case C_CONNECT:
            return user_prop(p->connect_user, &p->nconnect_user, v, v2);
        case C_PUBLISH:
            p->has_pub = true;
            p->pub.user_props = p->pub_user;
            return user_prop(p->pub_user, &p->pub.user_prop_count, v, v2);
        case C_WILL:
            p->has_will = true;
            p->will.user_props = p->will_user;
            return user_prop(p->will_user, &p->will.user_prop_count, v, v2);
        case C_SUBSCRIBE:
            p->sub_props.user_props = p->sub_user;
            return user_prop(p->sub_user, &p->sub_props.user_prop_count, v, v2);
        case C_DISCONNECT:
            p->disc_props.user_props = p->disc_user;
            return user_prop(p->disc_user, &p->disc_props.user_prop_count, v, v2);
        default:
            tool_error("-D %s user-property: %s sends no UNSUBSCRIBE", CMDS[cmd], tool_prog());
            return TOOL_EXIT_USAGE;
        }
    }
    switch (cmd) {
    case C_CONNECT:
        rc = connect_prop(p, id, v);
        break;
    case C_PUBLISH:
        if (strcmp(id, "topic-alias") == 0) {
            /* mosquitto_pub lets the user pick an alias; kmqtt picks them
             * itself for repeated topics, so the value is not needed. */
            if (!num(v, 65535, &n) || n == 0)
                return bad(id, v, "1..65535");
            fprintf(stderr,
                    "%s: note: -D publish topic-alias: kmqtt chooses topic aliases "
                    "itself (up to the broker's maximum); %s is not used\n",
                    tool_prog(), v);
            return TOOL_CONTINUE;
        }
        p->has_pub = true;
        rc = message_prop(id, v, &p->pub);
        break;
    case C_WILL:
        if (strcmp(id, "will-delay-interval") == 0) {
            if (!num(v, UINT32_MAX, &n))
                return bad(id, v, "seconds, 0..4294967295");
            p->has_will = true;
            p->will.will_delay_s = (uint32_t)n;
            return TOOL_CONTINUE;
        }
        p->has_will = true;
        rc = message_prop(id, v, &p->will);
        break;
    case C_SUBSCRIBE:
        if (strcmp(id, "subscription-identifier") == 0) {
            if (!num(v, 268435455ul, &n) || n == 0)
                return bad(id, v, "1..268435455");
            p->sub_props.subscription_id = (uint32_t)n;
            return TOOL_CONTINUE;
        }
        break;
    case C_DISCONNECT:
        if (strcmp(id, "session-expiry-interval") == 0) {
            if (!num(v, UINT32_MAX, &n))
                return bad(id, v, "seconds, 0..4294967295");
            p->has_disc_expiry = true;
            p->disc_expiry = (uint32_t)n;
            return TOOL_CONTINUE;
        }
        break;
    case C_UNSUBSCRIBE:
        break;
    }
    if (rc == TOOL_EXIT_USAGE + 100) {
        tool_error("-D %s %s: not a property of %s (or not supported by kmqtt); see --help",
                   CMDS[cmd], id, CMDS[cmd]);
        return TOOL_EXIT_USAGE;
    }
    return rc;
}

/* -V may come after -D: the last -V of the command line decides. */
static bool wants_v5(int argc, char **argv)
{
    bool v5 = false;
    int i;

    for (i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--protocol-version") == 0)
            v5 = strcmp(argv[i + 1], "5") == 0 || strcmp(argv[i + 1], "mqttv5") == 0;
    }
    return v5;
}

int tool_parse_property(tool_opts_t *o, int argc, char **argv, int *i)
{
    const char *cmd_s, *id, *v, *v2 = NULL;
    size_t k;
    int need;

    if (!wants_v5(argc, argv)) {
        tool_error("-D: MQTT 5.0 properties are not supported in MQTT 3.1.1 (add -V 5)");
        return TOOL_EXIT_USAGE;
    }
    if (*i + 3 >= argc) {
        tool_error("-D needs a command, an identifier and a value; see --help");
        return TOOL_EXIT_USAGE;
    }
    cmd_s = argv[*i + 1];
    id = argv[*i + 2];
    v = argv[*i + 3];
    need = strcmp(id, "user-property") == 0 ? 4 : 3;
    if (*i + need >= argc) {
        tool_error("-D %s %s needs %s; see --help", cmd_s, id,
                   need == 4 ? "a name and a value" : "a value");
        return TOOL_EXIT_USAGE;
    }
    if (need == 4)
        v2 = argv[*i + 4];
    if (o->v5.first == NULL)
        o->v5.first = argv[*i];
    for (k = 0; k < sizeof CMDS / sizeof CMDS[0]; k++) {
        if (strcmp(cmd_s, CMDS[k]) == 0)
            break;
    }
    if (k == sizeof CMDS / sizeof CMDS[0]) {
        tool_error("-D '%s': unknown command (connect, publish, subscribe, unsubscribe, "
                   "disconnect, will)",
                   cmd_s);
        return TOOL_EXIT_USAGE;
    }
    if ((k == C_PUBLISH && o->kind != TOOL_PUB) ||
        ((k == C_SUBSCRIBE || k == C_UNSUBSCRIBE) && o->kind != TOOL_SUB)) {
        tool_error("-D %s: not a command of %s", cmd_s, tool_prog());
        return TOOL_EXIT_USAGE;
    }
    *i += need;
    return apply(o, (cmd_t)k, id, v, v2);
}

int tool_props_check(const tool_opts_t *o)
{
    const tool_props_t *p = &o->v5;
    bool any = p->first != NULL || p->no_local || p->retain_as_published;

    if (any && o->version != KMQTT_V5) {
        tool_error("%s: MQTT 5.0 properties are not supported in MQTT 3.1.1 (add -V 5)",
                   p->first != NULL ? "-D"
                   : p->no_local    ? "--nl"
                                    : "--rap");
        return TOOL_EXIT_USAGE;
    }
    if (p->has_will && o->will_topic == NULL) {
        tool_error("-D will: needs --will-topic");
        return TOOL_EXIT_USAGE;
    }
    if (p->has_disc_expiry && p->disc_expiry != 0 && p->session_expiry == 0) {
        /* 3.14.2.2.2 */
        tool_error("-D disconnect session-expiry-interval: needs -D connect "
                   "session-expiry-interval other than 0");
        return TOOL_EXIT_USAGE;
    }
    return TOOL_CONTINUE;
}

void tool_props_apply(const tool_opts_t *o, kmqtt_client_options_t *co)
{
    const tool_props_t *p = &o->v5;

    if (o->version != KMQTT_V5)
        return;
    co->session_expiry_s = p->session_expiry;
    co->receive_maximum = p->receive_maximum;
    co->maximum_packet_size = p->maximum_packet_size;
    co->topic_alias_maximum = p->topic_alias_maximum;
    co->request_response_info = p->request_response_info;
    co->no_problem_info = p->no_problem_info;
    /* Repeated topics (--repeat, -l) go as topic aliases when the broker
     * allows them. */
    co->topic_alias_out = 16;
    co->user_props = p->connect_user;
    co->user_prop_count = p->nconnect_user;
    if (p->has_will && co->has_will)
        co->will_props = &p->will;
    /* The advertised maximum must fit the receive buffer. */
    if (co->rx_buffer_size < p->maximum_packet_size)
        co->rx_buffer_size = p->maximum_packet_size;
}

void tool_disconnect(const tool_opts_t *o, kmqtt_client_t *c)
{
    kmqtt_disconnect_props_t dp = o->v5.disc_props;

    /* A Session Expiry Interval only when it changes the CONNECT's. */
    dp.set_session_expiry = o->v5.has_disc_expiry && o->v5.disc_expiry != o->v5.session_expiry;
    dp.session_expiry_s = o->v5.disc_expiry;
    (void)kmqtt_disconnect(c, o->version == KMQTT_V5 ? &dp : NULL);
}
