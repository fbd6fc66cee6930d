/*
 * lifecycle.pml: a Spin model of the threaded client's lifecycle
 * (src/client/), checked by `make model` (scripts/model.sh, docs/proof.md).
 *
 * What it stands for. One client, its mutex `mx` and the fields of
 * kmqtt_client_t that decide who may touch the transport (client_internal.h,
 * "Concurrency model"): open, state, the turn (turn_busy, turn_bg), io_busy,
 * quiescing, disconnecting, cancel_seq / attempt_seq, rc_armed / rc_attempt,
 * bg_stop / bg_done, conn_gen, connect_result. Every inline below is named
 * after the C function it mirrors and follows its branches; a C function
 * that changes must change here too (the table in docs/proof.md maps them).
 * Protocol content (bytes, packets, the session) is not modelled: the
 * session's answers are nondeterministic choices (a CONNACK comes or not,
 * a keepalive expires or not, the link fails or not).
 *
 * The environment, all nondeterministic:
 *  - the transport (kmqtt_transport_t): open() succeeds or fails, wait()
 *    returns ready, timed out or an error, recv() gives bytes, nothing or
 *    an error, send() takes bytes or fails; a wake() ends a wait() or open()
 *    early, which the model covers by letting them end at any time;
 *  - time: every condition wait in the client has a timeout
 *    (kc_cond_wait(c, ms)), so in the model a cond wait releases mx, lets
 *    any other thread run, and takes mx again; a broadcast is then implied.
 *    This checks safety and deadlock under every interleaving and every
 *    timing, not that a broadcast comes soon enough (that is a speed
 *    question, left to the tests);
 *  - at most MAX_OPENS successful opens in one run, so the state space is
 *    finite (three covers connect, a reconnect after a loss and a second
 *    cycle).
 *
 * Threads: `application` (the program: kmqtt_start, kmqtt_connect,
 * kmqtt_disconnect, a second cycle, kmqtt_client_destroy), `other_thread`
 * (a second application thread: a blocking call that runs the loop when
 * nobody else does, standing for kmqtt_publish_wait / kmqtt_flush, then its
 * own kmqtt_disconnect at any moment), and `bg_main` (the background thread,
 * which also waits out the reconnect backoff and makes the attempts: the
 * reconnect timer).
 *
 * Properties (asserts; Spin also reports any deadlock, an invalid end state):
 *  USE   a socket is never used (send, recv, wait) after it was closed, nor
 *        closed twice, nor closed or used while another thread is inside
 *        the transport (open/wait run unlocked with io_busy set);
 *  LEAK  open() never replaces a socket still open (that one would leak),
 *        and after kmqtt_client_destroy no socket is open and the
 *        background thread has ended;
 *  SYNC  when kmqtt_disconnect returns no socket is open (rule 1 of
 *        docs/architecture.md), and no open() starts after an
 *        application's disconnect returned until the application calls
 *        kmqtt_connect again (never a reconnect behind its back).
 *
 * FIELD_DESIGN (spin -DFIELD_DESIGN) swaps in the design of the field
 * report instead of kmqtt_disconnect and bg_main: disconnect only marks the
 * state and returns, the worker closes the socket later, and the worker's
 * reconnect logic ("not connected: connect") can run in the gap. Only USE
 * and LEAK are checked there (that design makes no SYNC promise), and Spin
 * must find the leaked socket: `make model` fails if it does not.
 */

#define MAX_OPENS 3

mtype = { DISCONNECTED, CONNECTING, CONNECTED, CONNECTION_LOST, RECONNECTING };
mtype = { OK, NEED_MORE, ERR_IO, ENOTCONN, ECANCELED, ETIMEDOUT, EREFUSED, ESTATE };

/* ------------------------------------------------------ kmqtt_client_t */
byte mx;                        /* kmqtt_port_mutex: 0 free, else the holder's _pid + 1 */
bool open;                      /* c->open */
mtype state = DISCONNECTED;     /* c->state */
mtype connect_result = OK;      /* c->connect_result */
bool rc_armed;                  /* c->rc_armed */
bool rc_attempt;                /* c->rc_attempt */
byte cancel_seq;                /* c->cancel_seq */
byte attempt_seq;               /* c->attempt_seq */
byte disconnecting;             /* c->disconnecting */
byte quiescing;                 /* c->quiescing */
bool io_busy;                   /* c->io_busy */
bool turn_busy;                 /* c->turn_busy */
bool turn_bg;                   /* c->turn_bg */
bool thread;                    /* c->thread != NULL */
bool bg_stop;                   /* c->bg_stop */
bool bg_done;                   /* c->bg_done */
byte conn_gen;                  /* c->conn_gen */
byte bg_pid = 255;              /* which _pid is the background thread */
#ifdef FIELD_DESIGN
bool close_req;                 /* the field report: "disconnect only marks the state" */
#endif

/* ----------------------------------------------- the transport's socket */
byte fd;                        /* the socket the transport holds, 0 = none */
byte next_fd;                   /* socket ids are never reused in the model */
byte live;                      /* sockets opened and not closed */
byte opens_left = MAX_OPENS;
byte in_transport;              /* threads inside open()/wait() (unlocked) */

/* ghosts for the properties */
byte leaked;                    /* LEAK: sockets replaced while open, or left open */
bool app_disc;                  /* an application's disconnect returned, no connect since */
bool bg_exited;                 /* the background thread's function returned */
bool other_done;

/* ------------------------------------------------------------- locking */

/* kc_lock / kc_unlock */
inline lock()
{
    atomic { mx == 0 -> mx = _pid + 1 }
}

inline unlock()
{
    assert(mx == _pid + 1);
    mx = 0
}

/* kc_cond_wait: every wait has a timeout, so it may end at any moment */
inline cond_wait()
{
    unlock();
    lock()
}

/* kc_notify_state: the on_state callback runs without the lock */
inline notify_state()
{
    unlock();
    lock()
}

/* -------------------------------------------------------- the transport */

/* tr.send / tr.recv: with mx held, never blocking */
inline tr_use()
{
    assert(fd != 0);            /* USE: not after close */
    assert(in_transport == 0)   /* USE: nobody inside open()/wait() meanwhile */
}

/* tr.close, with mx held (kc_close; connect_open's cleanup) */
inline tr_close()
{
    assert(fd != 0);            /* USE: never closed twice */
    assert(in_transport == 0);  /* USE: never under a thread inside the transport */
    printf("MSG: proc %d closes socket %d\n", _pid, fd);
    fd = 0;
    live--
}

/* tr.open, unlocked, io_busy set (connect_open). res: OK or ERR_IO. */
inline tr_open(res)
{
#ifndef FIELD_DESIGN
    /* SYNC: never an automatic attempt after an application's disconnect */
    assert(!(app_disc && rc_attempt));
#endif
    in_transport++;
    /* ... resolving, connecting: any other thread may run ... */
    if
    :: opens_left > 0 ->
       atomic {
           /* LEAK: a socket still open would be replaced, never closed */
           leaked = leaked + (fd != 0 -> 1 : 0);
           assert(leaked == 0);
           opens_left--;
           next_fd++;
           fd = next_fd;
           live++;
           res = OK;
           printf("MSG: proc %d opens socket %d (sockets open: %d)\n", _pid, fd, live)
       }
    :: res = ERR_IO             /* refused, unreachable, timed out, or woken */
    fi;
    in_transport--
}

/* tr.wait on the socket, unlocked, io_busy set (kc_turn). res: OK (ready or
 * timed out) or ERR_IO. The socket must be the same one all through. */
inline tr_wait(res, mine)
{
    assert(fd != 0);            /* USE */
    mine = fd;
    in_transport++;
    /* ... blocked in poll(): any other thread may run ... */
    assert(fd == mine);         /* USE: not closed (or replaced) under us */
    in_transport--;
    if
    :: res = OK
    :: res = ERR_IO
    fi
}

/* ------------------------------------------------------- client_loop.c */

/* kc_flush: sends what the session queued (nothing, some, or an error) */
inline kc_flush(res)
{
    if
    :: res = OK                 /* nothing queued */
    :: tr_use(); res = OK       /* sent, or would block */
    :: tr_use(); res = ERR_IO   /* send failed */
    fi
}

/* kc_quiesce: returns once nobody is inside open() or wait() */
inline kc_quiesce()
{
    quiescing++;
    do
    :: io_busy -> cond_wait()   /* after tr.wake() */
    :: else -> break
    od;
    quiescing--
}

/* kc_close: the one release path of a connection; mx held, io_busy clear */
inline kc_close(why, st)
{
    assert(!io_busy);
    if
    :: open -> tr_close(); open = false; conn_gen++
    :: else
    fi;
    if
    :: connect_result == NEED_MORE -> connect_result = why
    :: else
    fi;
    state = st
}

/* kc_reconnect_policy (client_reconnect.c): KMQTT_RECONNECT_DEFAULT
 * reconnects when the background thread drives the loop, KMQTT_RECONNECT_ON
 * (spin -DRECONNECT_ON) always, so a blocking call stands in for the loop */
#ifdef RECONNECT_ON
#define kc_reconnect_policy true
#else
#define kc_reconnect_policy (thread && !bg_stop)
#endif
/* kc_bg_drives */
#define kc_bg_drives (thread && !bg_stop)
/* kc_reconnect_due (client_reconnect.c) */
#define kc_reconnect_due (rc_armed && state == RECONNECTING && !open && disconnecting == 0 && !turn_busy)

/* kc_reconnect_arm (client_reconnect.c): enters the backoff */
inline kc_reconnect_arm()
{
    state = RECONNECTING;
    notify_state()
}

/* kc_attempt_failed (client_connect.c): nothing open any more */
inline kc_attempt_failed(why)
{
    if
    :: connect_result == NEED_MORE -> connect_result = why
    :: else
    fi;
    if
    :: cancel_seq == attempt_seq && rc_attempt && rc_armed -> kc_reconnect_arm()
    :: else ->
       state = DISCONNECTED;
       if
       :: cancel_seq == attempt_seq -> notify_state()
       :: else
       fi
    fi
}

/* kc_lost: a failure of the transport or the protocol */
inline kc_lost(why, saved_cancel)
{
    saved_cancel = cancel_seq;
    if
    :: !open -> skip
    :: else ->
       if
       :: state == CONNECTING ->
          kc_close(why, DISCONNECTED);
          kc_attempt_failed(why)
       :: else ->
          rc_armed = (disconnecting == 0 && kc_reconnect_policy);
          kc_close(why, CONNECTION_LOST);
          notify_state();
          /* The callback may have disconnected (which disarms) meanwhile. */
          if
          :: rc_armed && cancel_seq == saved_cancel && !open && state == CONNECTION_LOST ->
             kc_reconnect_arm()
          :: else
          fi
       fi
    fi
}

/* kc_turn_acquire / kc_turn_release */
inline kc_turn_acquire()
{
    do
    :: turn_busy -> cond_wait()
    :: else -> break
    od;
    turn_busy = true;
    turn_bg = (thread && _pid == bg_pid)
}

inline kc_turn_release()
{
    turn_busy = false;
    turn_bg = false
}

/* kc_events (client_events.c): what the session reports after bytes came.
 * res: OK, ENOTCONN or the error that ended the connection. */
inline kc_events(res, gen, saved_cancel)
{
    res = OK;
    do
    :: gen != conn_gen || !open -> res = ENOTCONN; break
    :: else ->
       if
       :: break                                 /* nothing more (NEED_MORE) */
       :: state == CONNECTING ->                /* CONNACK accepted: on_connack */
          state = CONNECTED;
          if
          :: connect_result == NEED_MORE -> connect_result = OK
          :: else
          fi;
          rc_armed = false;
          notify_state()
       :: state == CONNECTING ->                /* CONNACK refused: on_connack */
          kc_close(EREFUSED, DISCONNECTED);
          kc_attempt_failed(EREFUSED);
          res = EREFUSED;
          break
       :: state == CONNECTED ->                 /* a message: kc_dispatch gives up */
          kc_turn_release();                    /* the turn while its handlers run */
          unlock();
          lock();
          kc_turn_acquire()
       :: kc_lost(ERR_IO, saved_cancel);        /* protocol error, server DISCONNECT */
          res = ERR_IO;
          break
       fi
    od
}

/* receive (client_loop.c): bytes in, then their events */
inline receive(res, gen, saved_cancel)
{
    kc_events(res, gen, saved_cancel);
    if
    :: res == OK ->
       if
       :: skip                                  /* nothing to read */
       :: tr_use();                             /* bytes */
          kc_events(res, gen, saved_cancel)
       :: tr_use();                             /* closed by the peer, or an error */
          kc_lost(ERR_IO, saved_cancel);
          res = ERR_IO
       fi
    :: else
    fi
}

/* kc_turn: one turn; mx and the turn held */
inline kc_turn(res, gen, saved_cancel, mine)
{
    gen = conn_gen;
    if
    :: !open -> res = ENOTCONN
    :: else ->
       kc_flush(res);
       if
       :: res != OK -> kc_lost(res, saved_cancel)
       :: else ->
          /* kmqtt_session_tick: the keepalive may find the link dead */
          if
          :: res = OK
          :: res = ETIMEDOUT; kc_lost(res, saved_cancel)
          fi;
          if
          :: res == OK ->
             kc_flush(res);
             if
             :: res != OK -> kc_lost(res, saved_cancel)
             :: else
             fi
          :: else
          fi
       fi;
       if
       :: res == OK ->
          if
          :: disconnecting == 0 && quiescing == 0 && !(turn_bg && bg_stop) ->
             io_busy = true;
             unlock();
             tr_wait(res, mine);
             lock();
             io_busy = false;
             if
             :: gen != conn_gen || !open || disconnecting != 0 -> res = ENOTCONN
             :: else ->
                if
                :: res != OK -> kc_lost(res, saved_cancel)
                :: else
                fi
             fi
          :: skip                               /* wait_ms == 0: a deadline is due */
          fi;
          if
          :: res == OK ->
             receive(res, gen, saved_cancel);
             if
             :: res == OK && (gen != conn_gen || !open) -> res = ENOTCONN
             :: res == OK ->
                kc_flush(res);
                if
                :: res != OK -> kc_lost(res, saved_cancel)
                :: else
                fi
             :: else
             fi
          :: else
          fi
       :: else
       fi
    fi
}

/* kc_wait_step inside kc_connect_run (the only blocking call modelled with
 * it besides other_thread's). The reconnect branch cannot be taken from
 * inside a connect attempt: the model checks that instead of recursing. */
inline kc_wait_step(res, gen, saved_cancel, mine)
{
    if
    :: kc_reconnect_due && (!kc_bg_drives || (thread && _pid == bg_pid)) ->
       assert(false)            /* kc_reconnect_step from inside an attempt */
    :: else ->
       if
       :: (kc_bg_drives && !(thread && _pid == bg_pid)) || disconnecting != 0 || !open ->
          cond_wait()
       :: else ->
          if
          :: turn_busy -> cond_wait()  /* (ESTATE when the caller holds it: not here) */
          :: else ->
             kc_turn_acquire();
             kc_turn(res, gen, saved_cancel, mine);
             kc_turn_release()
          fi
       fi
    fi
}

/* ----------------------------------------------------- client_connect.c */

/* connect_fail: ends an attempt that failed at open; mx and the turn held */
inline connect_fail(why, res)
{
    kc_turn_release();
    kc_attempt_failed(why);
    res = why
}

/* connect_open: opens the transport and queues CONNECT */
inline connect_open(res, my_cancel)
{
    res = OK;
    /* Wait for a turn still ending */
    do
    :: turn_busy && cancel_seq != my_cancel ->
       kc_attempt_failed(ECANCELED); res = ECANCELED; break
    :: turn_busy && cancel_seq == my_cancel ->
       if
       :: cond_wait()
       :: kc_attempt_failed(ETIMEDOUT); res = ETIMEDOUT; break   /* deadline */
       fi
    :: else -> break
    od;
    if
    :: res == OK ->
       kc_turn_acquire();
       if
       :: cancel_seq != my_cancel -> connect_fail(ECANCELED, res)
       :: else ->
          /* tr.wait(ctx, 0, 0): consumes a pending wake, touches no socket */
          io_busy = true;
          unlock();
          tr_open(res);
          lock();
          io_busy = false;
          if
          :: cancel_seq != my_cancel ->
             if
             :: res == OK -> tr_close()
             :: else
             fi;
             connect_fail(ECANCELED, res)
          :: else ->
             if
             :: res != OK -> connect_fail(ERR_IO, res)   /* the open's error */
             :: else ->
                /* kmqtt_session_start cannot fail here (a valid CONNECT) */
                open = true;
                kc_flush(res);          /* errors surface in the first turn */
                res = OK;
                kc_turn_release()
             fi
          fi
       fi
    :: else
    fi
}

/* kc_connect_run: one attempt; mx held, nothing open */
inline kc_connect_run(automatic, res, my_cancel, gen, saved_cancel, mine)
{
    my_cancel = cancel_seq;
    attempt_seq = my_cancel;
    rc_attempt = automatic;
    state = CONNECTING;
    connect_result = NEED_MORE;
    notify_state();
    connect_open(res, my_cancel);
    do
    :: res != OK -> break
    :: else ->
       if
       :: connect_result != NEED_MORE -> res = connect_result; break
       :: connect_result == NEED_MORE && cancel_seq != my_cancel -> res = ECANCELED; break
       :: connect_result == NEED_MORE && cancel_seq == my_cancel ->
          if
          :: kc_wait_step(res, gen, saved_cancel, mine); res = OK
          :: /* no CONNACK in time: close before anything else uses it */
             kc_quiesce();
             if
             :: connect_result == NEED_MORE && cancel_seq == my_cancel ->
                kc_close(ETIMEDOUT, DISCONNECTED);
                kc_attempt_failed(ETIMEDOUT)
             :: else
             fi;
             res = connect_result;
             break
          fi
       fi
    od;
    if
    :: automatic -> rc_attempt = false
    :: else
    fi
}

#ifndef FIELD_DESIGN
/* kmqtt_connect */
inline kmqtt_connect(res, my_cancel, gen, saved_cancel, mine)
{
    lock();
    if
    :: open || state == CONNECTED || state == CONNECTING || rc_armed -> res = ESTATE
    :: else ->
       if
       :: disconnecting != 0 -> res = ECANCELED
       :: else ->
          app_disc = false;     /* the application asks for a connection again */
          kc_connect_run(false, res, my_cancel, gen, saved_cancel, mine)
       fi
    fi;
    unlock()
}
#else
/* The field report's connect: opens unless the state says connected (the
 * transport is used by one thread at a time: io_busy, as here). */
inline kmqtt_connect(res, my_cancel, gen, saved_cancel, mine)
{
    lock();
    app_disc = false;
    if
    :: open || state == CONNECTED || state == CONNECTING || io_busy -> res = ESTATE
    :: else ->
       state = CONNECTING;
       io_busy = true;
       unlock();
       tr_open(res);
       lock();
       io_busy = false;
       if
       :: res == OK -> open = true; state = CONNECTED
       :: else -> state = DISCONNECTED
       fi
    fi;
    unlock()
}
#endif

/* kc_bg_reap (client_loop.c): joins a background thread told to stop */
inline kc_bg_reap()
{
    if
    :: thread && _pid != bg_pid ->
       bg_stop = true;
       do
       :: !bg_done -> cond_wait()   /* tr.wake() if io_busy, then wait */
       :: else -> break
       od;
       bg_exited;               /* kmqtt_port_thread_join, mx held */
       thread = false;
       bg_done = false;
       bg_stop = false
    :: else
    fi
}

#ifndef FIELD_DESIGN
/* kc_disconnect (kmqtt_disconnect, client_connect.c): synchronous */
inline kmqtt_disconnect(was)
{
    lock();
    was = state;
    rc_armed = false;
    cancel_seq++;
    disconnecting++;
    if
    :: thread -> bg_stop = true
    :: else
    fi;
    kc_quiesce();
    if
    :: open ->
       /* kmqtt_session_disconnect, then flush_bounded: tr.send and
        * tr.wait(WRITE) with mx held and nobody else in the transport */
       if
       :: skip
       :: tr_use()
       fi
    :: else
    fi;
    if
    :: connect_result == NEED_MORE -> connect_result = ECANCELED
    :: else
    fi;
    kc_close(ECANCELED, DISCONNECTED);
    kc_bg_reap();
    /* SYNC: its work done, nothing is open. (The on_state callback below
     * runs unlocked: the application may connect again meanwhile.) */
    assert(live == 0);
    app_disc = true;
    disconnecting--;
    if
    :: was != DISCONNECTED -> notify_state()
    :: else
    fi;
    unlock()
}
#else
/* The field report's disconnect: marks the state and returns; the worker
 * closes the socket later. */
inline kmqtt_disconnect(was)
{
    lock();
    was = state;
    rc_armed = false;
    cancel_seq++;
    close_req = true;
    state = DISCONNECTED;
    app_disc = true;
    printf("MSG: proc %d kmqtt_disconnect returns, socket %d still open (the worker closes it later)\n", _pid, fd);
    unlock()
}
#endif

/* ---------------------------------------------- the background thread */

#ifndef FIELD_DESIGN
/* bg_main (client_loop.c); the backoff wait and the attempt are
 * kc_reconnect_step (client_reconnect.c): the reconnect timer */
proctype bg_main()
{
    mtype res;
    byte my_cancel, gen, saved_cancel, mine;

    lock();
    do
    :: bg_stop -> break
    :: else ->
       if
       :: open && !turn_busy && disconnecting == 0 && quiescing == 0 ->
          kc_turn_acquire();
          kc_turn(res, gen, saved_cancel, mine);
          kc_turn_release()
       :: else ->
          if
          :: kc_reconnect_due ->
             if
             :: cond_wait()             /* the backoff is not over */
             :: kc_connect_run(true, res, my_cancel, gen, saved_cancel, mine)
             fi
          :: else -> cond_wait()
          fi
       fi
    od;
    bg_done = true;
    unlock();
    bg_exited = true
}
#else
/* The field report's worker: it closes a socket after disconnect marked
 * the state, and its reconnect logic connects whenever the state is not
 * connected, whether or not the old socket is closed yet. */
proctype bg_main()
{
    mtype res;
    byte mine;

    lock();
    do
    :: bg_stop -> break
    :: else ->
       if
       :: close_req && !io_busy ->      /* "the worker closes later" */
          if
          :: open -> tr_close(); open = false
          :: else
          fi;
          close_req = false
       :: state != CONNECTED && state != CONNECTING && !io_busy ->
          /* the reconnect logic: not connected, so connect */
          printf("MSG: worker: state not connected: its reconnect logic opens a socket\n");
          state = CONNECTING;
          io_busy = true;
          unlock();
          tr_open(res);
          lock();
          io_busy = false;
          if
          :: res == OK -> open = true; state = CONNECTED
          :: else -> state = DISCONNECTED
          fi
       :: open && !close_req && !io_busy ->   /* a turn: wait on the socket */
          io_busy = true;
          unlock();
          tr_wait(res, mine);
          lock();
          io_busy = false;
          if
          :: res != OK && open -> tr_close(); open = false; state = CONNECTION_LOST
          :: else
          fi
       :: cond_wait()
       fi
    od;
    if                                  /* closes what is left as it exits */
    :: open -> tr_close(); open = false
    :: else
    fi;
    bg_done = true;
    unlock();
    bg_exited = true
}
#endif

/* kmqtt_start: the background thread */
inline kmqtt_start()
{
    lock();
    if
    :: !thread ->
       bg_stop = false;
       bg_done = false;
       bg_exited = false;
       thread = true;
       bg_pid = run bg_main()
    :: else
    fi;
    unlock()
}

/* kmqtt_client_destroy: disconnects, joins, frees */
inline kmqtt_client_destroy(was)
{
#ifndef FIELD_DESIGN
    kmqtt_disconnect(was);
    lock();
    kc_bg_reap();
    unlock();
#else
    kmqtt_disconnect(was);
    lock();
    bg_stop = true;
    do
    :: !bg_done -> cond_wait()
    :: else -> break
    od;
    bg_exited;
    thread = false;
    unlock();
#endif
    /* client_free */
    leaked = leaked + live;
    assert(leaked == 0);        /* LEAK: every socket opened was closed */
    assert(!thread || bg_exited)
}

/* ---------------------------------------------------------- the program */

/* The device's cycle, twice: start the background thread, connect (the
 * link may fail and be reconnected meanwhile), disconnect; then destroy
 * once the other application thread is done with the client. */
active proctype application()
{
    mtype res, was;
    byte my_cancel, gen, saved_cancel, mine, cycle;

    do
    :: cycle < 2 ->
       printf("MSG: application: cycle %d\n", cycle);
#ifndef FIELD_DESIGN
       if
       :: kmqtt_start()
       :: skip                  /* no background thread: blocking calls run the loop */
       fi;
#else
       kmqtt_start();
#endif
       kmqtt_connect(res, my_cancel, gen, saved_cancel, mine);
       kmqtt_disconnect(was);
#ifndef FIELD_DESIGN
       /* SYNC: only this thread connects, so nothing is open now */
       assert(live == 0);
#endif
       cycle++
    :: else -> break
    od;
    other_done;
    kmqtt_client_destroy(was)
}

#ifndef FIELD_DESIGN
/* Another application thread: a blocking call (kmqtt_publish_wait: loops
 * on kc_wait_step until kc_conn_err says the connection ended), then its
 * own kmqtt_disconnect, which may come at any moment of the other's cycle. */
active proctype other_thread()
{
    mtype res, was;
    byte my_cancel, gen, saved_cancel, mine, entry_cancel, steps;

    lock();
    entry_cancel = cancel_seq;
    do
    :: cancel_seq != entry_cancel -> break      /* kc_conn_err: ECANCELED */
    :: steps == 2 -> break                       /* its timeout */
    :: else ->
       steps++;
       if
       :: kc_reconnect_due && !kc_bg_drives ->   /* stands in for the loop */
          if
          :: cond_wait()
          :: kc_connect_run(true, res, my_cancel, gen, saved_cancel, mine)
          fi
       :: else ->
          if
          :: (kc_bg_drives) || disconnecting != 0 || !open -> cond_wait()
          :: else ->
             if
             :: turn_busy -> cond_wait()
             :: else ->
                kc_turn_acquire();
                kc_turn(res, gen, saved_cancel, mine);
                kc_turn_release()
             fi
          fi
       fi
    od;
    unlock();
    kmqtt_disconnect(was);
    other_done = true
}
#else
active proctype other_thread()
{
    other_done = true
}
#endif
