/*
 * gw_cpool.c -- an Apache child's pools of idle daemon connections.
 *
 * Each pool is a stack: the most recently used connection is taken first,
 * so under a steady load the same few stay warm and the rest sink to the
 * bottom. low is the fewest the pool held since the window began; that
 * many at the bottom were not needed for the whole window, and the
 * trimmer closes them when the window ends.
 */
#include "gw_cpool.h"
#include "gw_log.h"

#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_portable.h"
#include "apr_thread_proc.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

typedef struct {
    apr_thread_mutex_t *lock;
    apr_array_header_t *idle;   /* gw_conn_t *, least recently used first */
    int low;                    /* fewest idle since the window began */
} gw_cpool_t;

static gw_cpool_t *pools;       /* one per group, by gw_group_t.index */
static int npools;

static struct {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;
    apr_thread_t *thread;
    int stop;
} trimmer;

/* An idle pooled connection with bytes (CLOSE) or EOF waiting is stale. */
static int is_stale(gw_conn_t *c)
{
    struct pollfd pfd = { c->fd, POLLIN, 0 };

    return poll(&pfd, 1, 0) != 0;
}

gw_conn_t *gw_cpool_get(gw_group_t *g)
{
    gw_cpool_t *cp = &pools[g->index];
    gw_conn_t *c = NULL;

    for (;;) {
        apr_thread_mutex_lock(cp->lock);
        if (cp->idle->nelts) {
            c = APR_ARRAY_IDX(cp->idle, --cp->idle->nelts, gw_conn_t *);
            if (cp->idle->nelts < cp->low) {
                cp->low = cp->idle->nelts;
            }
        }
        else {
            c = NULL;
        }
        apr_thread_mutex_unlock(cp->lock);
        if (c == NULL || !is_stale(c)) {
            return c;
        }
        gw_conn_destroy(c);
    }
}

void gw_cpool_put(gw_group_t *g, gw_conn_t *c)
{
    gw_cpool_t *cp = &pools[g->index];

    gw_conn_idle(c);
    apr_thread_mutex_lock(cp->lock);
    APR_ARRAY_PUSH(cp->idle, gw_conn_t *) = c;
    apr_thread_mutex_unlock(cp->lock);
}

/* Closes the connections at the bottom of cp that the window did not
 * need, a batch at a time (closing is done outside the lock). */
static void trim_pool(gw_cpool_t *cp)
{
    gw_conn_t *gone[32];
    int n, i;

    do {
        apr_thread_mutex_lock(cp->lock);
        n = cp->low < cp->idle->nelts ? cp->low : cp->idle->nelts;
        if (n > (int)(sizeof(gone) / sizeof(gone[0]))) {
            n = sizeof(gone) / sizeof(gone[0]);
        }
        memcpy(gone, cp->idle->elts, n * sizeof(gw_conn_t *));
        memmove(cp->idle->elts, (gw_conn_t **)cp->idle->elts + n,
                (cp->idle->nelts - n) * sizeof(gw_conn_t *));
        cp->idle->nelts -= n;
        cp->low -= n;
        if (n < (int)(sizeof(gone) / sizeof(gone[0]))) {
            cp->low = cp->idle->nelts; /* the next window begins */
        }
        apr_thread_mutex_unlock(cp->lock);
        for (i = 0; i < n; i++) {
            gw_conn_destroy(gone[i]);
        }
    } while (n == (int)(sizeof(gone) / sizeof(gone[0])));
}

static void *APR_THREAD_FUNC trim_main(apr_thread_t *t, void *data)
{
    int i;

    apr_thread_mutex_lock(trimmer.lock);
    while (!trimmer.stop) {
        apr_thread_cond_timedwait(trimmer.wake, trimmer.lock, GW_CPOOL_IDLE);
        if (trimmer.stop) {
            break;
        }
        apr_thread_mutex_unlock(trimmer.lock);
        for (i = 0; i < npools; i++) {
            trim_pool(&pools[i]);
        }
        gw_conn_trim_bigs();
        apr_thread_mutex_lock(trimmer.lock);
    }
    apr_thread_mutex_unlock(trimmer.lock);
    return NULL;
}

/* The wait is bounded: prefork destroys pchild from its stop signal's
 * handler, which may have interrupted the main thread holding a pool's
 * lock that the trimmer is waiting for. The trimmer then never runs again
 * (the process exits), and the child must not hang on it. */
static apr_status_t trimmer_stop(void *data)
{
    apr_os_thread_t *tid = NULL;
    struct timespec until;

    apr_thread_mutex_lock(trimmer.lock);
    trimmer.stop = 1;
    apr_thread_cond_signal(trimmer.wake);
    apr_thread_mutex_unlock(trimmer.lock);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    if (apr_os_thread_get(&tid, trimmer.thread) == APR_SUCCESS && tid) {
        pthread_timedjoin_np(*tid, NULL, &until);
    }
    return APR_SUCCESS;
}

void gw_cpool_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_array_header_t *groups = gw_group_list();
    sigset_t all, old;
    apr_status_t rv;
    int i;

    npools = groups->nelts;
    pools = apr_pcalloc(pchild, sizeof(gw_cpool_t) * (npools + 1));
    for (i = 0; i < npools; i++) {
        apr_thread_mutex_create(&pools[i].lock, APR_THREAD_MUTEX_DEFAULT,
                                pchild);
        pools[i].idle = apr_array_make(pchild, 8, sizeof(gw_conn_t *));
    }
    if (npools == 0) {
        return;
    }
    apr_thread_mutex_create(&trimmer.lock, APR_THREAD_MUTEX_DEFAULT, pchild);
    apr_thread_cond_create(&trimmer.wake, pchild);
    trimmer.stop = 0;
    /* Signals stay with the MPM's threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rv = apr_thread_create(&trimmer.thread, NULL, trim_main, NULL, pchild);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rv != APR_SUCCESS) {
        GW_LOG_S(APLOG_WARNING, rv, s, "GW0425", "cannot start the thread "
                 "that closes idle daemon connections; they stay open "
                 "until the child exits");
        return;
    }
    apr_pool_cleanup_register(pchild, NULL, trimmer_stop,
                              apr_pool_cleanup_null);
}
