/*
 * gw_input.c -- wsgi.input.
 *
 * L2, GIL held on entry; released around every transport read. read(n)
 * returns n bytes unless the body ends first (frameworks such as cgi and
 * multipart parsers rely on that), read()/read(-1) returns the rest.
 */
#include "gw_input.h"
#include "gw_python.h"

#include "apr_strings.h"

/* Bytes asked of the transport per read when the app gives no size, and
 * the readline step. 64 KiB keeps syscalls few without large buffers. */
#define GW_INPUT_CHUNK 65536

typedef struct {
    PyObject_HEAD
    gw_io_t *io;          /* NULL once the request is over */
    char *buf;            /* read-ahead for readline */
    size_t off, len, cap;
    int eof;
} gw_input_t;

/* GIL: held. Up to want bytes from the transport into dst; 0 at the end.
 * -1 with OSError set when the transport fails. */
static Py_ssize_t pull(gw_input_t *self, char *dst, size_t want)
{
    apr_status_t rv;
    apr_size_t n = want;
    gw_io_t *io = self->io;

    if (io == NULL) {
        PyErr_SetString(PyExc_OSError, "wsgi.input used after the request "
                        "ended");
        return -1;
    }
    if (self->eof || want == 0) {
        return 0;
    }
    GW_IO_CALL(io, GW_IO_READ, NULL, want, 0, rv = io->ops->read(io, dst,
                                                                  &n));
    if (rv != APR_SUCCESS) {
        char msg[120];

        apr_strerror(rv, msg, sizeof(msg));
        PyErr_Format(PyExc_OSError, "request body read failed: %s", msg);
        return -1;
    }
    if (n == 0) {
        self->eof = 1;
    }
    return (Py_ssize_t)n;
}

/* Take up to want bytes: first from the read-ahead buffer, then the
 * transport, looping until want bytes or the end. NEW ref. */
static PyObject *take(gw_input_t *self, size_t want)
{
    PyObject *out;
    size_t have = self->len - self->off, got;

    if (have > want) {
        have = want;
    }
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)want);
    if (out == NULL) {
        return NULL;
    }
    if (have > 0) {
        memcpy(PyBytes_AS_STRING(out), self->buf + self->off, have);
        self->off += have;
    }
    got = have;
    while (got < want) {
        Py_ssize_t n = pull(self, PyBytes_AS_STRING(out) + got, want - got);

        if (n < 0) {
            Py_DECREF(out);
            return NULL;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    if (got != want && _PyBytes_Resize(&out, (Py_ssize_t)got) < 0) {
        return NULL;
    }
    return out;
}

/* The rest of the body. NEW ref. */
static PyObject *take_all(gw_input_t *self)
{
    PyObject *out = take(self, self->len - self->off);
    Py_ssize_t size;

    if (out == NULL) {
        return NULL;
    }
    size = PyBytes_GET_SIZE(out);
    while (!self->eof) {
        Py_ssize_t n;

        if (_PyBytes_Resize(&out, size + GW_INPUT_CHUNK) < 0) {
            return NULL;
        }
        n = pull(self, PyBytes_AS_STRING(out) + size, GW_INPUT_CHUNK);
        if (n < 0) {
            Py_DECREF(out);
            return NULL;
        }
        size += n;
        if (_PyBytes_Resize(&out, size) < 0) {
            return NULL;
        }
    }
    return out;
}

static int size_arg(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *out)
{
    *out = -1;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "expected at most one argument");
        return -1;
    }
    if (nargs == 1 && args[0] != Py_None) {
        *out = PyLong_AsSsize_t(args[0]);
        if (*out == -1 && PyErr_Occurred()) {
            return -1;
        }
    }
    return 0;
}

static PyObject *input_read(gw_input_t *self, PyObject *const *args,
                            Py_ssize_t nargs)
{
    Py_ssize_t n;

    if (size_arg(args, nargs, &n) < 0) {
        return NULL;
    }
    return n < 0 ? take_all(self) : take(self, (size_t)n);
}

/* Makes sure the read-ahead holds a '\n' or limit bytes or the rest of
 * the body; returns the length of the line available (<= limit). */
static Py_ssize_t fill_line(gw_input_t *self, size_t limit)
{
    for (;;) {
        size_t have = self->len - self->off;
        char *nl = have ? memchr(self->buf + self->off, '\n', have) : NULL;
        Py_ssize_t n;

        if (nl && (size_t)(nl - (self->buf + self->off)) < limit) {
            return nl - (self->buf + self->off) + 1;
        }
        if (have >= limit || self->eof) {
            return have < limit ? (Py_ssize_t)have : (Py_ssize_t)limit;
        }
        if (self->off > 0) {
            memmove(self->buf, self->buf + self->off, have);
            self->off = 0;
            self->len = have;
        }
        if (self->cap - self->len < GW_INPUT_CHUNK) {
            char *b = realloc(self->buf, self->cap + GW_INPUT_CHUNK);

            if (b == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            self->buf = b;
            self->cap += GW_INPUT_CHUNK;
        }
        n = pull(self, self->buf + self->len, self->cap - self->len);
        if (n < 0) {
            return -1;
        }
        self->len += (size_t)n;
    }
}

static PyObject *readline_limit(gw_input_t *self, Py_ssize_t limit)
{
    Py_ssize_t n = fill_line(self, limit < 0 ? (size_t)-1 : (size_t)limit);
    PyObject *line;

    if (n < 0) {
        return NULL;
    }
    line = PyBytes_FromStringAndSize(self->buf + self->off, n);
    if (line) {
        self->off += (size_t)n;
    }
    return line;
}

static PyObject *input_readline(gw_input_t *self, PyObject *const *args,
                                Py_ssize_t nargs)
{
    Py_ssize_t n;

    if (size_arg(args, nargs, &n) < 0) {
        return NULL;
    }
    return readline_limit(self, n);
}

static PyObject *input_readlines(gw_input_t *self, PyObject *const *args,
                                 Py_ssize_t nargs)
{
    PyObject *lines = NULL, *line = NULL;
    Py_ssize_t hint, total = 0;

    if (size_arg(args, nargs, &hint) < 0 || (lines = PyList_New(0)) == NULL) {
        return NULL;
    }
    while ((line = readline_limit(self, -1)) != NULL
           && PyBytes_GET_SIZE(line) > 0) {
        total += PyBytes_GET_SIZE(line);
        if (PyList_Append(lines, line) < 0) {
            goto fail;
        }
        Py_CLEAR(line);
        if (hint > 0 && total >= hint) {
            return lines;
        }
    }
    if (line == NULL) {
        goto fail;
    }
    Py_DECREF(line);
    return lines;
fail:
    Py_XDECREF(line);
    Py_DECREF(lines);
    return NULL;
}

static PyObject *input_iternext(gw_input_t *self)
{
    PyObject *line = readline_limit(self, -1);

    if (line && PyBytes_GET_SIZE(line) == 0) {
        Py_DECREF(line);
        return NULL; /* StopIteration */
    }
    return line;
}

static PyObject *input_close(gw_input_t *self, PyObject *unused)
{
    Py_RETURN_NONE;
}

static void input_dealloc(gw_input_t *self)
{
    free(self->buf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef input_methods[] = {
    {"read", (PyCFunction)(void (*)(void))input_read, METH_FASTCALL, NULL},
    {"readline", (PyCFunction)(void (*)(void))input_readline, METH_FASTCALL,
     NULL},
    {"readlines", (PyCFunction)(void (*)(void))input_readlines,
     METH_FASTCALL, NULL},
    {"close", (PyCFunction)input_close, METH_NOARGS, NULL},
    {NULL},
};

static PyTypeObject gw_input_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mod_gateway.Input",
    .tp_basicsize = sizeof(gw_input_t),
    .tp_dealloc = (destructor)input_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = input_methods,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)input_iternext,
};

PyObject *gw_input_new(gw_io_t *io)
{
    gw_input_t *self;

    if (PyType_Ready(&gw_input_type) < 0) {
        return NULL;
    }
    self = PyObject_New(gw_input_t, &gw_input_type);
    if (self) {
        self->io = io;
        self->buf = NULL;
        self->off = self->len = self->cap = 0;
        self->eof = 0;
    }
    return (PyObject *)self;
}

void gw_input_expire(PyObject *input)
{
    ((gw_input_t *)input)->io = NULL;
}
