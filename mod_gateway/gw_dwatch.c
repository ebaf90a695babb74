/*
 * gw_dwatch.c -- the watchdog of a daemon process.
 *
 * Runs only in daemon processes. Two threads:
 *  - the watchdog (no GIL, ever) checks every 250 ms: restart-interval,
 *    inactivity-timeout, the parent being gone, request-timeout, and the
 *    GIL heartbeat for deadlock-timeout. Unlike mod_wsgi's monitor it runs
 *    whatever timeouts are set.
 *  - the GIL thread takes the GIL every 250 ms (the heartbeat) and, while
 *    holding it, delivers request-timeout interrupts: a TimeoutError raised
 *    in the stuck request's thread, so the request ends with 504 and the
 *    thread and process go on serving. If the request is still running
 *    after a grace period, the interrupt did not take (a C call that never
 *    returns to Python) and the process exits to be respawned.
 */
#include "gw_dwatch.h"
#include "gw_daemon.h"
#include "gw_log.h"
#include "gw_pyapi.h"

#include <unistd.h>

#define GW_TICK (250 * 1000)
/* The GIL thread's pause while an interrupt is pending or a worker is
 * taking the GIL in an interpreter not known yet. */
#define GW_GIL_RETRY apr_time_from_msec(50)
/* How long an interrupted request may take to unwind before the process
 * is restarted: long enough for except/finally blocks, short enough that a
 * stuck thread is not left holding a worker for long. */
#define GW_INTERRUPT_GRACE apr_time_from_sec(5)

static void recycle(gw_daemon_t *d, const char *why)
{
    GW_LOG_S(APLOG_INFO, 0, d->server, "GW0323", "daemon '%s' process %"
             APR_PID_T_FMT ": %s; recycling", d->group->name, getpid(), why);
    gw_daemon_stop(GW_STOP_RECYCLE);
}

/* Before a stuck process ends, each request it was running learns it
 * timed out (504, or a cut response once its head went out) instead of
 * seeing the connection drop (502). */
static void fail_running(gw_daemon_t *d)
{
    int i;

    for (i = 0; i < d->nworkers; i++) {
        gw_worker_t *w = &d->workers[i];

        if (w->busy_since && w->interrupted && w->ctx.conn) {
            gw_pyapi->dserve_timeout(&w->ctx);
        }
    }
}

static void die(gw_daemon_t *d, const char *why)
{
    GW_LOG_S(APLOG_CRIT, 0, d->server, "GW0324", "daemon '%s' process %"
             APR_PID_T_FMT ": %s; exiting so that it is restarted",
             d->group->name, getpid(), why);
    fail_running(d);
    _exit(GW_DAEMON_EXIT_ABORT);
}

static void check_requests(gw_daemon_t *d, apr_time_t now)
{
    apr_interval_time_t limit = d->group->request_timeout;
    int i;

    for (i = 0; limit > 0 && i < d->nworkers; i++) {
        gw_worker_t *w = &d->workers[i];
        apr_time_t since = w->busy_since;

        if (since == 0 || now - since < limit) {
            continue;
        }
        if (w->interrupted == 0) {
            GW_LOG_S(APLOG_ERR, 0, d->server, "GW0325", "daemon '%s': a "
                     "request ran past request-timeout (%" APR_TIME_T_FMT
                     " s); interrupting it", d->group->name,
                     apr_time_sec(limit));
            w->ctx.timed_out = 1;
            w->interrupted = now;
            /* Names this request: a later one on the same worker has
             * another busy_since and is left alone. */
            w->interrupt_pending = since;
        }
        else if (now - w->interrupted > GW_INTERRUPT_GRACE) {
            die(d, "an interrupted request did not stop (a call that never "
                "returns to Python)");
        }
    }
}

static void *APR_THREAD_FUNC watchdog_main(apr_thread_t *t, void *data)
{
    gw_daemon_t *d = data;
    gw_group_t *g = d->group;

    while (d->stop_reason == GW_STOP_NONE || d->busy > 0) {
        apr_time_t now = apr_time_now();

        apr_sleep(GW_TICK);
        if (getppid() != d->parent && d->stop_reason == GW_STOP_NONE) {
            GW_LOG_S(APLOG_ERR, 0, d->server, "GW0326", "daemon '%s' "
                     "process %" APR_PID_T_FMT ": the Apache parent is gone; "
                     "stopping", g->name, getpid());
            gw_daemon_stop(GW_STOP_SIGNAL);
        }
        if (d->stop_reason != GW_STOP_NONE) {
            check_requests(d, now);
            continue;
        }
        if (g->restart_interval > 0
            && now - d->started > g->restart_interval) {
            recycle(d, "restart-interval reached");
        }
        else if (g->inactivity_timeout > 0 && d->busy == 0
                 && now - d->last_activity > g->inactivity_timeout) {
            recycle(d, "inactivity-timeout reached");
        }
        check_requests(d, now);
        if (g->deadlock_timeout > 0
            && now - d->gil_heartbeat > g->deadlock_timeout) {
            die(d, "the GIL has been held past deadlock-timeout");
        }
    }
    return NULL;
}

/* The interpreter to take the GIL in: where the request with an interrupt
 * to deliver is, else where the longest-running request is, else the main
 * one. In Python 3.11 a waiting thread asks only threads of its own
 * interpreter to drop the GIL, so a wait anywhere else would last as long
 * as a request spinning in pure Python. NULL (wait a little and look
 * again) while a worker is taking the GIL in an interpreter not known yet:
 * it may be creating it, and then run the script's module code in it. */
static const char *gil_interp(gw_daemon_t *d, gw_worker_t **pending)
{
    gw_worker_t *best = NULL;
    int entering = 0;
    int i;

    *pending = NULL;
    for (i = 0; i < d->nworkers; i++) {
        gw_worker_t *w = &d->workers[i];
        gw_interp_t *in = w->ctx.py.interp;

        if (w->busy_since == 0) {
            continue;
        }
        if (in == NULL) {
            entering |= w->ctx.py.entering;
            continue;
        }
        if (w->interrupt_pending && *pending == NULL) {
            *pending = w;
        }
        if (best == NULL || w->busy_since < best->busy_since) {
            best = w;
        }
    }
    if (*pending) {
        best = *pending;
    }
    if (best) {
        return gw_pyapi->interp_name(best->ctx.py.interp);
    }
    return entering ? NULL : "";
}

static void *APR_THREAD_FUNC gil_main(apr_thread_t *t, void *data)
{
    gw_daemon_t *d = data;

    /* Ends once the process stops: Python's finalisation deletes this
     * thread's state, which must not be used after that. */
    while (d->stop_reason == GW_STOP_NONE) {
        const char *err = NULL;
        gw_worker_t *w;
        const char *name = gil_interp(d, &w);
        gw_interp_t *interp;

        if (name == NULL) {
            apr_sleep(GW_GIL_RETRY);
            continue;
        }
        interp = gw_pyapi->python_acquire(name, &err);
        if (interp == NULL) {
            return NULL;
        }
        d->gil_heartbeat = apr_time_now();
        /* GIL held: the worker's request cannot end meanwhile. An
         * interrupt stays pending until the application runs (its script
         * may still be loading) or the request is over. */
        if (w && (w->interrupt_pending != w->busy_since
                  || gw_pyapi->python_interrupt(&w->ctx.py))) {
            w->interrupt_pending = 0;
        }
        gw_pyapi->python_release(interp);
        apr_sleep(w ? GW_GIL_RETRY : GW_TICK);
    }
    return NULL;
}

apr_status_t gw_dwatch_start(gw_daemon_t *d)
{
    apr_status_t rv;

    d->gil_heartbeat = apr_time_now();
    rv = apr_thread_create(&d->watchdog, NULL, watchdog_main, d, d->pool);
    if (rv == APR_SUCCESS) {
        rv = apr_thread_create(&d->gil_thread, NULL, gil_main, d, d->pool);
    }
    return rv;
}

void gw_dwatch_join(gw_daemon_t *d)
{
    apr_status_t rv;

    if (d->gil_thread) {
        apr_thread_join(&rv, d->gil_thread);
        d->gil_thread = NULL;
    }
    if (d->watchdog) {
        apr_thread_join(&rv, d->watchdog);
        d->watchdog = NULL;
    }
}
