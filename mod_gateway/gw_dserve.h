/*
 * gw_dserve.h -- serving one request on a daemon connection: read the
 * REQUEST frame, run the WSGI app through the adapter, answer with frames.
 *
 * Runs only in daemon processes, in a worker thread, GIL not held on entry.
 */
#ifndef GW_DSERVE_H
#define GW_DSERVE_H

#include "gw_group.h"
#include "gw_conn.h"
#include "gw_python.h"

typedef struct {
    gw_conn_t *conn;
    int authenticated;      /* HELLO with the right secret was seen */
    int served;             /* requests answered on it */
    apr_time_t enqueued;    /* when it became ready to read */
    void *link_prev, *link_next; /* the daemon's idle list */
} gw_dconn_t;

/* What the worker does with the connection afterwards. */
typedef enum {
    GW_DSERVE_KEEP,     /* ready for the next request */
    GW_DSERVE_CLOSE,    /* protocol error, peer gone: close without CLOSE */
    GW_DSERVE_GONE,     /* no request came: the child closed the connection */
    GW_DSERVE_RELOAD    /* the script changed: the request was not run;
                           answer CLOSE and recycle the process */
} gw_dserve_rc_t;

/* The daemon-wide state the serving code needs. */
typedef struct {
    gw_group_t *group;
    server_rec *server;     /* the group's vhost, for logging */
    server_rec *main_server;
    apr_interval_time_t socket_timeout;
    /* Set by the watchdog: this worker's request ran past
     * request-timeout and was interrupted. */
    volatile int timed_out;
    gw_py_request_t py;     /* where the app runs, for the interrupt */
    gw_conn_t *volatile conn; /* the connection of the running request */
} gw_dserve_ctx_t;

/* Serves the request waiting on dc. reject != 0 answers it with an ERROR
 * of that code (GW_WIRE_ERR_*) without running it (queue-timeout,
 * shutdown). */
gw_dserve_rc_t gw_dserve_one(gw_dserve_ctx_t *ctx, gw_dconn_t *dc,
                             apr_pool_t *pool, int reject);

/* From the watchdog, about a request stuck past request-timeout whose
 * process is about to end: an ERROR (timeout) frame on its connection, so
 * the child answers 504 (or cuts the response short) instead of 502. */
void gw_dserve_timeout(gw_dserve_ctx_t *ctx);

#endif /* GW_DSERVE_H */
