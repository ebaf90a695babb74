/*
 * gw_adapter.h -- the PEP 3333 adapter: runs one request through a WSGI
 * application over a transport (gw_io.h).
 *
 * L2, GIL held. One adapter serves embedded mode and the daemons.
 */
#ifndef GW_ADAPTER_H
#define GW_ADAPTER_H

#include <Python.h>
#include "gw_io.h"
#include "gw_python.h"

typedef struct {
    int multithread;
    int multiprocess;
    int header_only;    /* a HEAD request: the body is not sent */
} gw_request_info_t;

/* What became of the response. */
typedef enum {
    GW_ADAPTER_DONE = 0,   /* sent, completely or truncated; nothing to add */
    GW_ADAPTER_FAILED = 1  /* nothing was sent: the caller answers 500 */
} gw_adapter_rc_t;

/* GIL: held. Per-interpreter set-up (types). -1 with an exception set. */
int gw_adapter_init_interp(void);

/* GIL: held, with a thread state of interp. app is BORROWED; env is the
 * list of gw_pair_t of gw_environ_build (or a daemon's REQUEST frame). */
gw_adapter_rc_t gw_adapter_run(gw_interp_t *interp, PyObject *app,
                               gw_io_t *io, const apr_array_header_t *env,
                               const gw_request_info_t *info);

/* GIL: held. Logs the current Python exception with its traceback, one
 * line per log entry, each "tag: [request id] ...", through io (or the
 * server log when io is NULL), then clears it. */
void gw_adapter_log_exception(gw_io_t *io, int level, const char *tag,
                              const char *what);

#endif /* GW_ADAPTER_H */
