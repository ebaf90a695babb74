/*
 * gw_loader.h -- loads a WSGI script file as a module of its interpreter
 * and finds its callable; reloads it when the file changed.
 *
 * L2, GIL held (with a thread state of interp).
 */
#ifndef GW_LOADER_H
#define GW_LOADER_H

#include <Python.h>
#include "gw_python.h"
#include "gw_io.h"
#include "apr_time.h"

/* NEW ref to the callable, or NULL with a Python exception set.
 * mtime is the file's modification time as the caller saw it (Apache has
 * stat()ed it already); with reload set, a different mtime re-imports. */
PyObject *gw_loader_app(gw_interp_t *interp, const char *path,
                        apr_time_t mtime, int reload, const char *callable);

/* GIL: held. 1 if interp holds path loaded with another mtime. */
int gw_loader_changed(gw_interp_t *interp, const char *path,
                      apr_time_t mtime);

/* Loads (or reloads) the script into interp without looking up a callable:
 * GatewayImportScript. 0, or -1 with a Python exception set. */
int gw_loader_import(gw_interp_t *interp, const char *path);

/* GIL: held. Logs why path could not be loaded (GW0104, with the
 * traceback) and, for an ImportError in a sub-interpreter, the hint to try
 * %{GLOBAL} (GW0105). Clears the exception. */
void gw_loader_log_error(gw_io_t *io, const char *path, const char *group);

/* GIL: not held. Loads script into the named interpreter at process start;
 * a failure is logged with its traceback (GW0106) and the process goes
 * on. */
void gw_loader_preload(const char *script, const char *app_group);

#endif /* GW_LOADER_H */
