/*
 * gw_response.c -- start_response, write() and the body path of one WSGI
 * request.
 *
 * L2, GIL held on entry; released around every transport call.
 * Status and headers are validated here (the app gets the exception, as
 * PEP 3333 asks) and copied into the request pool at the call, so later
 * changes to the app's objects cannot alter what is sent
 * (mod_wsgi CVE-2014-0242). Validation itself is L0 (gw_http.c).
 */
#include "gw_response.h"
#include "gw_http.h"
#include "gw_python.h"

#include "apr_strings.h"
#include "httpd.h"
#include "http_log.h"

/* Latin-1 bytes of a str, without copying: CPython keeps a str whose
 * characters are all <= U+00FF in its 1-byte form, so any other form means
 * a character outside latin-1. */
static const char *latin1(PyObject *s, const char *what, Py_ssize_t *len)
{
    if (!PyUnicode_Check(s)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what,
                     Py_TYPE(s)->tp_name);
        return NULL;
    }
    if (PyUnicode_READY(s) < 0) {
        return NULL;
    }
    if (PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND) {
        PyErr_Format(PyExc_ValueError, "%s %R has characters outside "
                     "latin-1", what, s);
        return NULL;
    }
    *len = PyUnicode_GET_LENGTH(s);
    return (const char *)PyUnicode_1BYTE_DATA(s);
}

static int set_status(gw_response_t *resp, PyObject *status)
{
    const char *s, *err;
    Py_ssize_t n;
    int code;

    if ((s = latin1(status, "status", &n)) == NULL) {
        return -1;
    }
    if (gw_http_check_status(s, (size_t)n, &code, &err) != 0) {
        PyErr_Format(PyExc_ValueError, "invalid status %R: %s", status, err);
        return -1;
    }
    resp->head.status = code;
    resp->head.status_line = apr_pstrmemdup(resp->io->pool, s, n);
    return 0;
}

/* One (name, value) tuple, validated and copied into the pool. */
static int add_header(gw_response_t *resp, apr_array_header_t *hdrs,
                      PyObject *item, apr_off_t *clen)
{
    const char *name, *value, *err;
    Py_ssize_t nlen, vlen;
    gw_pair_t *p;

    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
        PyErr_Format(PyExc_TypeError, "response header must be a (name, "
                     "value) tuple, not %R", item);
        return -1;
    }
    if ((name = latin1(PyTuple_GET_ITEM(item, 0), "header name", &nlen))
            == NULL
        || (value = latin1(PyTuple_GET_ITEM(item, 1), "header value", &vlen))
            == NULL) {
        return -1;
    }
    if (gw_http_check_header_name(name, (size_t)nlen, &err) != 0
        || gw_http_check_header_value(value, (size_t)vlen, &err) != 0) {
        PyErr_Format(PyExc_ValueError, "invalid response header %R: %s",
                     item, err);
        return -1;
    }
    if (gw_http_is_hop_by_hop(name, (size_t)nlen)) {
        PyErr_Format(PyExc_ValueError, "hop-by-hop header %R is not allowed "
                     "in a WSGI response", PyTuple_GET_ITEM(item, 0));
        return -1;
    }
    if (gw_http_name_eq(name, (size_t)nlen, "Content-Length")) {
        long long cl;

        if (gw_http_parse_content_length(value, (size_t)vlen, &cl, &err) != 0
            || (*clen >= 0 && *clen != cl)) {
            PyErr_Format(PyExc_ValueError, "invalid Content-Length %R: %s",
                         PyTuple_GET_ITEM(item, 1),
                         *clen >= 0 ? "conflicting values" : err);
            return -1;
        }
        *clen = (apr_off_t)cl;
    }
    p = apr_array_push(hdrs);
    p->name = apr_pstrmemdup(resp->io->pool, name, nlen);
    p->name_len = (apr_size_t)nlen;
    p->value = apr_pstrmemdup(resp->io->pool, value, vlen);
    p->value_len = (apr_size_t)vlen;
    return 0;
}

static int set_headers(gw_response_t *resp, PyObject *headers)
{
    apr_array_header_t *hdrs;
    apr_off_t clen = -1;
    Py_ssize_t i, n;

    if (!PyList_Check(headers)) {
        PyErr_Format(PyExc_TypeError, "response headers must be a list, not "
                     "%.100s", Py_TYPE(headers)->tp_name);
        return -1;
    }
    n = PyList_GET_SIZE(headers);
    hdrs = apr_array_make(resp->io->pool, (int)n + 1, sizeof(gw_pair_t));
    for (i = 0; i < n; i++) {
        if (add_header(resp, hdrs, PyList_GET_ITEM(headers, i), &clen) < 0) {
            return -1;
        }
    }
    resp->head.headers = hdrs;
    resp->head.content_length = clen;
    return 0;
}

/* exc_info rules of PEP 3333: after the head went out the original
 * exception is re-raised; before, the new status and headers replace the
 * old ones. Without exc_info a second call is an error. */
static int check_exc_info(gw_response_t *resp, PyObject *exc_info)
{
    if (exc_info != NULL && exc_info != Py_None) {
        if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
            PyErr_SetString(PyExc_TypeError, "exc_info must be a 3-tuple");
            return -1;
        }
        if (resp->committed) {
            PyErr_Restore(Py_NewRef(PyTuple_GET_ITEM(exc_info, 0)),
                          Py_NewRef(PyTuple_GET_ITEM(exc_info, 1)),
                          Py_NewRef(PyTuple_GET_ITEM(exc_info, 2)));
            return -1;
        }
        return 0;
    }
    if (resp->head.status != 0) {
        PyErr_SetString(PyExc_RuntimeError, "start_response() called again "
                        "without exc_info");
        return -1;
    }
    return 0;
}

static PyMethodDef write_def;

static PyObject *start_response(gw_response_t *resp, PyObject *args)
{
    PyObject *status, *headers, *exc_info = NULL;
    gw_head_t old = resp->head;

    if (!PyArg_ParseTuple(args, "OO|O:start_response", &status, &headers,
                          &exc_info)) {
        return NULL;
    }
    if (resp->io == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "start_response() called after "
                        "the application returned");
        return NULL;
    }
    if (check_exc_info(resp, exc_info) < 0) {
        return NULL;
    }
    if (set_status(resp, status) < 0 || set_headers(resp, headers) < 0) {
        /* A rejected call leaves the response as it was. */
        resp->head = old;
        return NULL;
    }
    return PyCFunction_New(&write_def, (PyObject *)resp);
}

/* ---- sending ------------------------------------------------------- */

int gw_response_commit(gw_response_t *resp)
{
    gw_io_t *io = resp->io;
    apr_status_t rv;

    if (resp->committed) {
        return 0;
    }
    if (resp->head.status == 0) {
        PyErr_SetString(PyExc_RuntimeError, "the application sent its "
                        "response without calling start_response()");
        return -1;
    }
    resp->no_body = resp->info->header_only
        || gw_http_status_has_no_body(resp->head.status);
    resp->committed = 1;
    GW_IO_CALL(io, GW_IO_HEAD, &resp->head, 0, 0,
               rv = io->ops->head(io, &resp->head));
    if (rv != APR_SUCCESS) {
        resp->client_gone = 1;
        return -1;
    }
    return 0;
}

/* Bytes past Content-Length are cut: a client must never read the next
 * response's bytes as this one's (CVE-2024-24795 class). */
static apr_size_t clamp(gw_response_t *resp, apr_size_t len)
{
    apr_off_t left;

    if (resp->head.content_length < 0) {
        return len;
    }
    left = resp->head.content_length - resp->sent;
    if ((apr_off_t)len > left) {
        if (!resp->cut_logged) {
            char msg[200];

            resp->cut_logged = 1;
            apr_snprintf(msg, sizeof(msg), "GW0205: [%s] the application "
                         "sent more than its Content-Length of %"
                         APR_OFF_T_FMT " bytes; the rest is dropped",
                         resp->io->request_id, resp->head.content_length);
            GW_PY_BLOCKING(resp->io->ops->log(resp->io, APLOG_WARNING, msg));
        }
        return (apr_size_t)(left > 0 ? left : 0);
    }
    return len;
}

static int send_bytes(gw_response_t *resp, const char *buf, apr_size_t len,
                      int flush)
{
    gw_io_t *io = resp->io;
    apr_status_t rv;

    if (gw_response_commit(resp) < 0) {
        return -1;
    }
    len = resp->no_body ? 0 : clamp(resp, len);
    if (len == 0) {
        return 0;
    }
    GW_IO_CALL(io, GW_IO_WRITE, NULL, len, flush,
               rv = io->ops->write(io, buf, len, flush));
    if (rv != APR_SUCCESS) {
        resp->client_gone = 1;
        return -1;
    }
    resp->sent += (apr_off_t)len;
    return 0;
}

int gw_response_send(gw_response_t *resp, PyObject *item, int flush)
{
    if (!PyBytes_Check(item)) {
        PyErr_Format(PyExc_TypeError, "the application yielded %.100s; a "
                     "WSGI response body must be bytes",
                     Py_TYPE(item)->tp_name);
        return -1;
    }
    if (resp->head.status == 0) {
        PyErr_SetString(PyExc_RuntimeError, "the application yielded body "
                        "data before calling start_response()");
        return -1;
    }
    /* PEP 3333: the head waits for the first non-empty block. */
    if (PyBytes_GET_SIZE(item) == 0) {
        return 0;
    }
    return send_bytes(resp, PyBytes_AS_STRING(item),
                      (apr_size_t)PyBytes_GET_SIZE(item), flush);
}

apr_status_t gw_response_sendfile(gw_response_t *resp, int fd,
                                  apr_off_t offset, apr_off_t len)
{
    gw_io_t *io = resp->io;
    apr_status_t rv;

    if (gw_response_commit(resp) < 0) {
        return APR_EGENERAL;
    }
    if (resp->no_body) {
        return APR_SUCCESS;
    }
    if (resp->head.content_length >= 0
        && len > resp->head.content_length - resp->sent) {
        len = resp->head.content_length - resp->sent;
    }
    Py_BEGIN_ALLOW_THREADS
    rv = io->ops->sendfile(io, fd, offset, len);
    Py_END_ALLOW_THREADS
    if (rv == APR_SUCCESS) {
        resp->sent += len;
    }
    else if (rv != APR_ENOTIMPL) {
        resp->client_gone = 1;
    }
    return rv;
}

int gw_response_complete(gw_response_t *resp)
{
    char msg[200];

    if (resp->no_body || resp->head.content_length < 0
        || resp->sent >= resp->head.content_length) {
        return 1;
    }
    apr_snprintf(msg, sizeof(msg), "GW0204: [%s] the application sent %"
                 APR_OFF_T_FMT " of its Content-Length of %" APR_OFF_T_FMT
                 " bytes; the connection is closed so the client sees a "
                 "truncated response", resp->io->request_id, resp->sent,
                 resp->head.content_length);
    GW_PY_BLOCKING(resp->io->ops->log(resp->io, APLOG_ERR, msg));
    return 0;
}

/* write(data): the imperative API of PEP 3333; the bytes go out now. */
static PyObject *response_write(gw_response_t *resp, PyObject *data)
{
    if (resp->io == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "write() called after the "
                        "application returned");
        return NULL;
    }
    if (!PyBytes_Check(data)) {
        return PyErr_Format(PyExc_TypeError, "write() argument must be "
                            "bytes, not %.100s", Py_TYPE(data)->tp_name);
    }
    if (PyBytes_GET_SIZE(data) > 0
        && send_bytes(resp, PyBytes_AS_STRING(data),
                      (apr_size_t)PyBytes_GET_SIZE(data), 1) < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_OSError, "the client connection is gone");
        }
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef start_def = {
    "start_response", (PyCFunction)start_response, METH_VARARGS, NULL
};
static PyMethodDef write_def = {
    "write", (PyCFunction)response_write, METH_O, NULL
};

static PyTypeObject gw_response_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mod_gateway.Response",
    .tp_basicsize = sizeof(gw_response_t),
    .tp_flags = Py_TPFLAGS_DEFAULT,
};

int gw_response_ready_type(void)
{
    return PyType_Ready(&gw_response_type);
}

gw_response_t *gw_response_new(gw_io_t *io, const gw_request_info_t *info)
{
    gw_response_t *resp = PyObject_New(gw_response_t, &gw_response_type);

    if (resp == NULL) {
        return NULL;
    }
    memset((char *)resp + sizeof(PyObject), 0,
           sizeof(*resp) - sizeof(PyObject));
    resp->io = io;
    resp->info = info;
    resp->head.content_length = -1;
    return resp;
}

PyObject *gw_response_start_callable(gw_response_t *resp)
{
    return PyCFunction_New(&start_def, (PyObject *)resp);
}
