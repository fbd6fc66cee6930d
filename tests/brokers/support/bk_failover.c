#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bk_failover.h"

void bk_failover_threaded(void **state)
{
    (void)state;
    fail_msg("not written yet");
}
