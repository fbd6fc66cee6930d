/* The version of the library itself, for programs that check what they run with. */
#include "kmqtt/version.h"

const char *kmqtt_version(void)
{
    return KMQTT_VERSION_STRING;
}
