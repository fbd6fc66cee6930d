/*
 * sizeof of the nano client's structures for the target, read back from the
 * object with nm -S (scripts/size.sh): each array is as long as the type.
 */
#include "kmqtt/nano.h"

#define PROBE(name, type) const char kmqtt_sizeof_##name[sizeof(type)] = {0}

PROBE(nano, kmqtt_nano_t);
PROBE(nano_config, kmqtt_nano_config_t);
PROBE(nano_buffers, kmqtt_nano_buffers_t);
