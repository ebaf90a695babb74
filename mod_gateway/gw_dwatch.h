/*
 * gw_dwatch.h -- the state of a daemon process shared by its threads, and
 * its watchdog: recycling (restart-interval, inactivity-timeout, parent
 * gone), request-timeout and deadlock-timeout.
 *
 * Runs only in daemon processes.
 */
#ifndef GW_DWATCH_H
#define GW_DWATCH_H

#include "gw_dserve.h"
#include "apr_thread_proc.h"
#include "apr_thread_mutex.h"
#include "apr_thread_cond.h"
#include <signal.h>

typedef enum {
    GW_STOP_NONE = 0,
    GW_STOP_SIGNAL,     /* the parent stops this generation */
    GW_STOP_RECYCLE,    /* maximum-requests, restart-interval, ... */
    GW_STOP_FATAL       /* a stuck request or the GIL: exit now */
} gw_stop_reason_t;

typedef struct {
    gw_dserve_ctx_t ctx;
    apr_thread_t *thread;
    volatile apr_time_t busy_since;   /* 0 when idle */
    volatile apr_time_t interrupted;  /* when request-timeout fired */
    volatile apr_time_t interrupt_pending; /* busy_since of the request
                                              to interrupt, or 0 */
} gw_worker_t;

typedef struct gw_queue_item gw_queue_item_t;

typedef struct {
    gw_group_t *group;
    server_rec *server;
    server_rec *main_server;
    apr_pool_t *pool;
    int slot;
    pid_t parent;
    int epfd;
    int wake[2];
    volatile sig_atomic_t stop_reason;
    apr_thread_mutex_t *lock;        /* queue, idle list, counters */
    apr_thread_cond_t *cond;
    gw_queue_item_t *head, *tail;
    int queued;                      /* items in the queue */
    int accepting;                   /* the listening socket is in epoll */
    apr_time_t saturated_since;      /* 0 while a thread is free */
    gw_dconn_t *idle;                /* connections armed in epoll */
    int running;                     /* worker threads not yet exited */
    gw_worker_t *workers;
    int nworkers;
    gw_dserve_ctx_t io_ctx;          /* the I/O thread's, for rejects */
    apr_pool_t *io_pool;
    volatile apr_uint32_t requests;
    volatile apr_uint32_t busy;
    apr_time_t started;
    volatile apr_time_t last_activity;
    volatile apr_time_t gil_heartbeat;
    apr_thread_t *watchdog;
    apr_thread_t *gil_thread;
} gw_daemon_t;

gw_daemon_t *gw_daemon_state(void);
void gw_daemon_stop(gw_stop_reason_t why);
void gw_daemon_wake(void);

/* Starts the watchdog and the GIL heartbeat threads. */
apr_status_t gw_dwatch_start(gw_daemon_t *d);

/* Once stopping and no request runs: waits for both threads to end, so
 * nothing touches Python or the daemon's pool while they go away. */
void gw_dwatch_join(gw_daemon_t *d);

#endif /* GW_DWATCH_H */
