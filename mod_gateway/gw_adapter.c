/*
 * gw_adapter.c -- runs one request through a WSGI application (PEP 3333):
 * the environ dict, the call, iterating the result, close(), and what an
 * exception becomes.
 *
 * L2, GIL held on entry. An exception before the head went out becomes a
 * 500 from the caller; after it, the transport aborts the response so the
 * client sees a truncation, never a clean end. close() on the result is
 * called on every path.
 */
#include "gw_adapter.h"
#include "gw_response.h"
#include "gw_input.h"
#include "gw_pylog.h"
#include "gw_filewrapper.h"

#include "apr_atomic.h"
#include "apr_strings.h"
#include "httpd.h"
#include "http_log.h"
#include <malloc.h>
#include <sys/stat.h>

int gw_adapter_init_interp(void)
{
    if (gw_response_ready_type() < 0 || gw_pylog_ready_type() < 0
        || gw_filewrapper_type() == NULL) {
        return -1;
    }
    return 0;
}

/* ---- environ ------------------------------------------------------- */

static int dict_set_steal(PyObject *d, PyObject *k, PyObject *v)
{
    int rc = (k && v) ? PyDict_SetItem(d, k, v) : -1;

    Py_XDECREF(k);
    Py_XDECREF(v);
    return rc;
}

static int set_key(gw_interp_t *interp, PyObject *d, const char *key,
                   PyObject *v /* STEALS */)
{
    return dict_set_steal(d, gw_interp_key(interp, key, strlen(key)), v);
}

/* NEW ref. Values are native str decoded as latin-1 (PEP 3333). */
static PyObject *build_environ(gw_interp_t *interp, gw_io_t *io,
                               const apr_array_header_t *env,
                               const gw_request_info_t *info,
                               PyObject *input, PyObject *errors)
{
    const gw_pair_t *p = (const gw_pair_t *)env->elts;
    /* Sized once: growing a dict key by key resizes it three times. */
    PyObject *d = _PyDict_NewPresized(env->nelts + 8);
    int i;

    if (d == NULL) {
        return NULL;
    }
    for (i = 0; i < env->nelts; i++) {
        if (dict_set_steal(d, gw_interp_key(interp, p[i].name, p[i].name_len),
                           PyUnicode_DecodeLatin1(p[i].value, p[i].value_len,
                                                  NULL)) < 0) {
            goto fail;
        }
    }
    if (set_key(interp, d, "wsgi.version", Py_BuildValue("(ii)", 1, 0)) < 0
        || set_key(interp, d, "wsgi.input", Py_NewRef(input)) < 0
        || set_key(interp, d, "wsgi.errors", Py_NewRef(errors)) < 0
        || set_key(interp, d, "wsgi.multithread",
                   PyBool_FromLong(info->multithread)) < 0
        || set_key(interp, d, "wsgi.multiprocess",
                   PyBool_FromLong(info->multiprocess)) < 0
        || set_key(interp, d, "wsgi.run_once", Py_NewRef(Py_False)) < 0
        || set_key(interp, d, "wsgi.input_terminated",
                   Py_NewRef(Py_True)) < 0
        || set_key(interp, d, "wsgi.file_wrapper",
                   Py_XNewRef(gw_filewrapper_type())) < 0) {
        goto fail;
    }
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

/* ---- logging an exception ------------------------------------------ */

static void log_lines(gw_io_t *io, int level, char **lines, int n)
{
    int i;

    Py_BEGIN_ALLOW_THREADS
    for (i = 0; i < n; i++) {
        if (io) {
            io->ops->log(io, level, lines[i]);
        }
        else {
            gw_python_config()->log(level, lines[i]);
        }
    }
    Py_END_ALLOW_THREADS
}

/* NEW ref: the formatted traceback as one str, or NULL. */
static PyObject *format_exception(PyObject *type, PyObject *value,
                                  PyObject *tb)
{
    PyObject *mod = PyImport_ImportModule("traceback"), *lines = NULL;
    PyObject *empty = NULL, *text = NULL;

    if (mod == NULL) {
        return NULL;
    }
    lines = PyObject_CallMethod(mod, "format_exception", "OOO", type,
                                value ? value : Py_None, tb ? tb : Py_None);
    empty = PyUnicode_FromString("");
    if (lines && empty) {
        text = PyUnicode_Join(empty, lines);
    }
    Py_DECREF(mod);
    Py_XDECREF(lines);
    Py_XDECREF(empty);
    return text;
}

void gw_adapter_log_exception(gw_io_t *io, int level, const char *tag,
                              const char *what)
{
    PyObject *type, *value, *tb, *text = NULL;
    apr_pool_t *p;
    const char *id = io ? io->request_id : "-";
    char *lines[256], *s, *state;
    int n = 0;

    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) {
        return;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    apr_pool_create(&p, NULL);
    apr_pool_tag(p, "gw_traceback");
    lines[n++] = apr_psprintf(p, "%s: [%s] %s", tag, id, what);
    text = format_exception(type, value, tb);
    if (text == NULL) {
        PyErr_Clear();
    }
    s = apr_pstrdup(p, text ? PyUnicode_AsUTF8(text) : "(no traceback)");
    for (s = apr_strtok(s, "\n", &state); s && n < 255;
         s = apr_strtok(NULL, "\n", &state)) {
        lines[n++] = apr_psprintf(p, "%s: [%s] %s", tag, id, s);
    }
    PyErr_Clear();
    log_lines(io, level, lines, n);
    apr_pool_destroy(p);
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* ---- the response body --------------------------------------------- */

/* A failure while sending: either the client went away (no exception:
 * nothing to report but a debug line) or the app's data was wrong. */
static void send_failed(gw_response_t *resp)
{
    if (PyErr_Occurred()) {
        gw_adapter_log_exception(resp->io, APLOG_ERR, "GW0203",
                                 "invalid response from the application:");
    }
}

/* A list or tuple is all at hand: no flush per item, so a small response
 * leaves in one write and Apache can compute its Content-Length. */
static int send_sequence(gw_response_t *resp, PyObject *seq)
{
    Py_ssize_t i;

    for (i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        if (gw_response_send(resp, PySequence_Fast_GET_ITEM(seq, i), 0) < 0) {
            send_failed(resp);
            return -1;
        }
    }
    return 0;
}

/* A generator or other iterable: each block is flushed before the next is
 * asked for (PEP 3333, "Buffering and Streaming"). */
static int send_iterable(gw_response_t *resp, PyObject *result, int flush)
{
    PyObject *it = PyObject_GetIter(result), *item;

    if (it == NULL) {
        gw_adapter_log_exception(resp->io, APLOG_ERR, "GW0203", "the "
                                 "application's result is not iterable:");
        return -1;
    }
    while ((item = PyIter_Next(it)) != NULL) {
        int rc = gw_response_send(resp, item, flush);

        Py_DECREF(item);
        if (rc < 0) {
            send_failed(resp);
            Py_DECREF(it);
            return -1;
        }
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) {
        gw_adapter_log_exception(resp->io, APLOG_ERR,
                                 resp->committed ? "GW0202" : "GW0201",
                                 "exception while iterating the response:");
        return -1;
    }
    return 0;
}

/* The fd and position of a wrapped regular file, or -1 (no exception)
 * when the object has none we can use. */
static int wrapped_fd(PyObject *filelike, apr_off_t *pos, apr_off_t *size)
{
    PyObject *r = PyObject_CallMethod(filelike, "fileno", NULL);
    struct stat st;
    long fd = -1;

    if (r && PyLong_Check(r)) {
        fd = PyLong_AsLong(r);
    }
    Py_XDECREF(r);
    if (fd < 0 || fstat((int)fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        PyErr_Clear();
        return -1;
    }
    r = PyObject_CallMethod(filelike, "tell", NULL);
    *pos = r ? (apr_off_t)PyLong_AsLongLong(r) : -1;
    Py_XDECREF(r);
    if (*pos < 0 || PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    *size = st.st_size > *pos ? st.st_size - *pos : 0;
    return (int)fd;
}

static void log_debug(gw_response_t *resp, const char *msg)
{
    GW_PY_BLOCKING(resp->io->ops->log(resp->io, APLOG_DEBUG, msg));
}

/* wsgi.file_wrapper: the file itself goes to the transport (sendfile),
 * else it is read in blocks. */
static int send_wrapper(gw_response_t *resp, PyObject *wrapper)
{
    PyObject *filelike = gw_filewrapper_filelike(wrapper);
    apr_off_t pos, size;
    int fd = wrapped_fd(filelike, &pos, &size);
    apr_status_t rv = APR_ENOTIMPL;

    if (fd >= 0) {
        rv = gw_response_sendfile(resp, fd, pos, size);
        if (rv == APR_SUCCESS) {
            log_debug(resp, apr_psprintf(resp->io->pool, "GW0220: [%s] "
                      "file_wrapper: fd %d sent as a file (%" APR_OFF_T_FMT
                      " bytes from offset %" APR_OFF_T_FMT ")",
                      resp->io->request_id, fd, size, pos));
            return 0;
        }
        if (rv != APR_ENOTIMPL) {
            send_failed(resp);
            return -1;
        }
    }
    log_debug(resp, apr_psprintf(resp->io->pool, "GW0221: [%s] file_wrapper:"
              " %s has no usable file descriptor; reading it in blocks of %"
              APR_SSIZE_T_FMT " bytes", resp->io->request_id,
              Py_TYPE(filelike)->tp_name, gw_filewrapper_blksize(wrapper)));
    return send_iterable(resp, wrapper, 0);
}

static int send_result(gw_response_t *resp, PyObject *result)
{
    if (PyUnicode_Check(result) || PyBytes_Check(result)) {
        PyErr_Format(PyExc_TypeError, "the application returned %.100s as "
                     "the whole response; it must return an iterable of "
                     "bytes, such as [body]", Py_TYPE(result)->tp_name);
        send_failed(resp);
        return -1;
    }
    if (gw_filewrapper_check(result)) {
        return send_wrapper(resp, result);
    }
    if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) {
        return send_sequence(resp, result);
    }
    return send_iterable(resp, result, 1);
}

/* PEP 3333: close() is called whatever happened, once. The name is the
 * interpreter's interned str: looking it up raises no AttributeError
 * internally when there is none (most results are lists). */
static int call_close(gw_interp_t *interp, gw_response_t *resp,
                      PyObject *result)
{
    PyObject *name = gw_interp_key(interp, "close", 5), *r = NULL;
    int found = name ? _PyObject_LookupAttr(result, name, &r) : -1;

    if (found > 0) {
        Py_SETREF(r, PyObject_CallNoArgs(r));
    }
    Py_XDECREF(name);
    if (found == 0) {
        return 0;
    }
    if (r == NULL) {
        gw_adapter_log_exception(resp->io, APLOG_ERR, "GW0206",
                                 "exception in the result's close():");
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* ---- one request --------------------------------------------------- */

/* After the app returned result (or raised: result NULL). */
static gw_adapter_rc_t respond(gw_interp_t *interp, gw_response_t *resp,
                               PyObject *result)
{
    int ok = result != NULL;

    if (result == NULL) {
        gw_adapter_log_exception(resp->io, APLOG_ERR,
                                 resp->committed ? "GW0202" : "GW0201",
                                 "exception in the WSGI application:");
    }
    else {
        ok = send_result(resp, result) == 0;
        /* A close() that raises is logged (GW0206); it only fails a
         * response that has not gone out yet. */
        if (call_close(interp, resp, result) != 0 && !resp->committed) {
            ok = 0;
        }
    }
    if (ok && gw_response_commit(resp) < 0) {
        if (PyErr_Occurred()) {
            gw_adapter_log_exception(resp->io, APLOG_ERR, "GW0203",
                                     "invalid response from the "
                                     "application:");
        }
        ok = 0;
    }
    if (!resp->committed) {
        return GW_ADAPTER_FAILED;
    }
    if (ok && !resp->client_gone) {
        ok = gw_response_complete(resp);
    }
    ok = ok && !resp->client_gone;
    GW_IO_CALL(resp->io, GW_IO_FINISH, NULL, 0, 0,
               resp->io->ops->finish(resp->io, ok));
    return GW_ADAPTER_DONE;
}

/* Every this many requests a process that runs Python hands the free
 * pages inside malloc's heaps back to the system (malloc_trim). Request
 * bodies read in pieces of up to 64 KiB leave holes between longer-lived
 * blocks that glibc keeps resident: measured by bench/soak, such a
 * process grew ~130 KiB per 1,000 uploads without end. A trim costs well
 * under a millisecond, with the GIL released. */
#define GW_TRIM_EVERY 500

static void maybe_trim(void)
{
    static apr_uint32_t served;

    if (apr_atomic_inc32(&served) % GW_TRIM_EVERY == GW_TRIM_EVERY - 1) {
        Py_BEGIN_ALLOW_THREADS
        malloc_trim(0);
        Py_END_ALLOW_THREADS
    }
}

gw_adapter_rc_t gw_adapter_run(gw_interp_t *interp, PyObject *app,
                               gw_io_t *io, const apr_array_header_t *env,
                               const gw_request_info_t *info)
{
    gw_response_t *resp = gw_response_new(io, info);
    PyObject *input = gw_input_new(io);
    PyObject *errors = gw_pylog_new(io, APLOG_ERR, "wsgi.errors");
    PyObject *environ = NULL, *start = NULL, *result = NULL;
    gw_adapter_rc_t rc = GW_ADAPTER_FAILED;

    gw_pylog_set_current(io);
    if (resp == NULL || input == NULL || errors == NULL
        || (environ = build_environ(interp, io, env, info, input, errors))
            == NULL
        || (start = gw_response_start_callable(resp)) == NULL) {
        gw_adapter_log_exception(io, APLOG_ERR, "GW0200", "cannot set up "
                                 "the request:");
        goto done;
    }
    result = PyObject_CallFunctionObjArgs(app, environ, start, NULL);
    rc = respond(interp, resp, result);
done:
    if (resp) {
        resp->io = NULL;
    }
    if (input) {
        gw_input_expire(input);
    }
    if (errors) {
        gw_pylog_expire(errors);
    }
    gw_pylog_set_current(NULL);
    Py_XDECREF(result);
    Py_XDECREF(start);
    Py_XDECREF(environ);
    Py_XDECREF(errors);
    Py_XDECREF(input);
    Py_XDECREF(resp);
    maybe_trim();
    return rc;
}
