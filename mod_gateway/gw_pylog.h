/*
 * gw_pylog.h -- the file-like object behind wsgi.errors, sys.stdout and
 * sys.stderr: complete lines go to the right ErrorLog.
 *
 * L2, GIL held for every call. A log bound to a request (wsgi.errors)
 * writes to that request's virtual host until the request ends; after that,
 * and for the unbound sys.stdout/sys.stderr, a line goes to the request the
 * writing thread is serving, else to the server's ErrorLog.
 */
#ifndef GW_PYLOG_H
#define GW_PYLOG_H

#include <Python.h>
#include "gw_io.h"

/* NEW ref. io may be NULL (unbound). name is shown as the stream's name
 * ("<name>"); it must outlive the object (callers pass literals). */
PyObject *gw_pylog_new(gw_io_t *io, int level, const char *name);

/* Flush the buffered partial line and unbind from the request. */
void gw_pylog_expire(PyObject *log);

/* The request this thread is serving (NULL when none). */
void gw_pylog_set_current(gw_io_t *io);

int gw_pylog_ready_type(void);

/* GIL: held, in a new interpreter. Installs the `mod_gateway` module and,
 * when the root logger has no handler yet, a logging handler that sends
 * each record to the ErrorLog at its mapped level (DEBUG->debug, INFO->info,
 * WARNING->warn, ERROR->error, CRITICAL->crit), tagged GW0252 with the
 * request id inside a request. The root logger's level follows Apache's
 * LogLevel for this module (log_level, an APLOG_* level). -1 with an
 * exception set on failure. */
int gw_pylog_install_logging(int log_level);

#endif /* GW_PYLOG_H */
