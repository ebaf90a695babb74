/*
 * gw_python.h -- the Python runtime of one process: initialisation,
 * interpreters (application groups), per-thread thread states, the GIL.
 *
 * L2. Runs in an Apache child (embedded mode) or in a daemon after it has
 * dropped privileges; never in the Apache parent.
 */
#ifndef GW_PYTHON_H
#define GW_PYTHON_H

#include <Python.h>
#include "apr_pools.h"
#include "apr_tables.h"

typedef struct gw_interp gw_interp_t;

typedef struct {
    const char *python_home;         /* NULL: the built-in prefix */
    apr_array_header_t *python_path; /* const char *: site.addsitedir */
    int multithread;                 /* for wsgi.multithread */
    int multiprocess;                /* for wsgi.multiprocess */
    int optimize;                    /* -1 default, else 0..2 (-O) */
    int log_level;                   /* Apache's LogLevel for the module */
    /* Where output that belongs to no request goes (sys.stderr outside a
     * request, interpreter start-up errors). GIL: not held. */
    void (*log)(int level, const char *msg);
} gw_python_config_t;

/* GIL: not held, and not held on return. Starts Python in this process;
 * the finaliser (atexit in every interpreter, then Py_FinalizeEx) is a
 * cleanup of pool. Returns APR_SUCCESS or an error already logged. */
apr_status_t gw_python_init(apr_pool_t *pool, const gw_python_config_t *cfg);

/* 1 once gw_python_init succeeded. */
int gw_python_ready(void);

const gw_python_config_t *gw_python_config(void);

/* GIL: not held -> held, with this thread's thread state of the named
 * interpreter ("" is the main one), created on first use. Returns NULL
 * (GIL not held) when the interpreter cannot be created; *err says why. */
gw_interp_t *gw_python_acquire(const char *name, const char **err);

/* GIL: held -> released. */
void gw_python_release(gw_interp_t *interp);

/* Per-interpreter state, BORROWED. GIL: held. */
PyObject *gw_interp_cache(gw_interp_t *interp);  /* path -> loaded script */
/* NEW ref: interned str for an environ key. */
PyObject *gw_interp_key(gw_interp_t *interp, const char *key, size_t len);
const char *gw_interp_name(gw_interp_t *interp);
/* Serialises script loading within one interpreter; taken with the GIL
 * released (see gw_loader.c). */
void gw_interp_lock(gw_interp_t *interp);
void gw_interp_unlock(gw_interp_t *interp);

/* Log a line outside any request. GIL: either; released around the
 * write when held. */
void gw_python_log(int level, const char *msg);

/* Where a request's thread is in Python, so the daemon's GIL thread can
 * take the GIL where that thread would give it up (Python 3.11 asks only
 * threads of the waiter's own interpreter to drop the GIL) and interrupt
 * the request. The owning thread writes it; the GIL thread reads interp
 * and entering without the GIL (a stale read costs it one tick), running
 * only with the GIL held, so an interrupt never lands on the next request.
 */
typedef struct {
    gw_interp_t *interp;     /* the interpreter it is in; NULL outside */
    unsigned long thread_id;
    int entering;            /* taking the GIL; interp not known yet */
    int running;             /* in the application: interrupts may land */
} gw_py_request_t;

/* gw_python_acquire/release for a request's thread, recording where it
 * is. GIL: not held before acquire, held after; held before release. */
gw_interp_t *gw_python_request_acquire(gw_py_request_t *req,
                                       const char *name, const char **err);
void gw_python_request_release(gw_py_request_t *req);
/* GIL: held. Around the call of the application. end clears an interrupt
 * that arrived too late to matter. */
void gw_python_request_begin(gw_py_request_t *req);
void gw_python_request_end(gw_py_request_t *req);
/* GIL: held (any interpreter). Raises TimeoutError in req's thread if it
 * is running the application: 1 if it did, 0 if not (yet). */
int gw_python_interrupt(gw_py_request_t *req);

/* Run stmt with the GIL released (around every blocking call). */
#define GW_PY_BLOCKING(stmt) \
    do { \
        PyThreadState *gw_save_ = PyEval_SaveThread(); \
        stmt; \
        PyEval_RestoreThread(gw_save_); \
    } while (0)

/* Runs expr, a call of the transport operation op, with the GIL released
 * unless the transport's quick() (gw_io.h) says it completes from memory.
 * GIL: held. */
#define GW_IO_CALL(io, op, head, len, flush, expr) \
    do { \
        if ((io)->ops->quick && (io)->ops->quick((io), (op), (head), (len), \
                                                 (flush))) { \
            expr; \
        } \
        else { \
            Py_BEGIN_ALLOW_THREADS \
            expr; \
            Py_END_ALLOW_THREADS \
        } \
    } while (0)

#endif /* GW_PYTHON_H */
