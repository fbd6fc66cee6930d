/*
 * Deadlock guard (see watchdog.h).
 */
#include "watchdog.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "broker.h"

static pthread_mutex_t wd_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t wd_thread;
static bool wd_running;
static bool wd_quit;
static const char *wd_what;
static uint64_t wd_deadline; /* 0 = disarmed */
static unsigned wd_timeout;
static void (*wd_cleanup)(void);

static void *wd_main(void *arg)
{
    (void)arg;
    for (;;) {
        const char *what = NULL;
        unsigned timeout = 0;
        pthread_mutex_lock(&wd_mu);
        if (wd_quit) {
            pthread_mutex_unlock(&wd_mu);
            return NULL;
        }
        if (wd_deadline != 0 && now_ms() >= wd_deadline) {
            what = wd_what;
            timeout = wd_timeout;
        }
        pthread_mutex_unlock(&wd_mu);
        if (what != NULL) {
            fprintf(stderr, "WATCHDOG: %s still running after %u ms (deadlock or livelock)\n", what,
                    timeout);
            fflush(stderr);
            if (wd_cleanup != NULL) {
                wd_cleanup();
            }
            _exit(1);
        }
        sleep_ms(100);
    }
}

bool watchdog_start(void (*cleanup)(void))
{
    wd_cleanup = cleanup;
    wd_quit = false;
    wd_deadline = 0;
    wd_running = pthread_create(&wd_thread, NULL, wd_main, NULL) == 0;
    return wd_running;
}

void watchdog_arm(const char *what, unsigned timeout_ms)
{
    pthread_mutex_lock(&wd_mu);
    wd_what = what;
    wd_timeout = timeout_ms;
    wd_deadline = now_ms() + timeout_ms;
    pthread_mutex_unlock(&wd_mu);
}

void watchdog_disarm(void)
{
    pthread_mutex_lock(&wd_mu);
    wd_deadline = 0;
    pthread_mutex_unlock(&wd_mu);
}

void watchdog_stop(void)
{
    if (!wd_running) {
        return;
    }
    pthread_mutex_lock(&wd_mu);
    wd_quit = true;
    pthread_mutex_unlock(&wd_mu);
    pthread_join(wd_thread, NULL);
    wd_running = false;
}
