/*
 * Group set-up of the integration programs (see it_group.h).
 */
#include "it_group.h"

#include <string.h>

#include "it_client.h"

int it_group_init(kmqtt_mem_t *parent)
{
    /* Before any baseline: TSan's and the C library's helper threads. */
    warm_up_threads();
    return it_parent_init(parent);
}

broker_t *it_group_broker(kmqtt_mem_t *parent, const broker_opts_t *opts)
{
    if (it_group_init(parent) != 0)
        return NULL;
    return broker_start(opts);
}

int it_broker_setup(void **state)
{
    *state = broker_start(NULL);
    return *state != NULL ? 0 : -1;
}

int it_broker_setup_logged(void **state)
{
    broker_opts_t o;

    memset(&o, 0, sizeof o);
    o.log_all = true;
    *state = broker_start(&o);
    return *state != NULL ? 0 : -1;
}

int it_broker_teardown(void **state)
{
    broker_stop(*state);
    return 0;
}
