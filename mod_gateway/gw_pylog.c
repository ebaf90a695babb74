/*
 * gw_pylog.c -- wsgi.errors, sys.stdout and sys.stderr as log writers.
 *
 * L2, GIL held on entry to every function; the GIL is released around the
 * log writes themselves (DESIGN.md §7). Lines are tagged GW0250 (wsgi.errors)
 * or GW0251 (sys.stdout/sys.stderr, print()).
 */
#include "gw_pylog.h"
#include "gw_python.h"
#include "gw_version.h"

#include "apr_strings.h"
#include "httpd.h"
#include "http_log.h"

/* An unterminated line is emitted once it reaches 8 KiB, so a stream with
 * no newline cannot grow without bound. */
#define GW_LOG_LINE_MAX 8192

typedef struct {
    PyObject_HEAD
    gw_io_t *io;
    int level;
    const char *tag;
    const char *cname;         /* static: formatted only when read */
    PyObject *name;
    char *buf;
    size_t len;
} gw_pylog_t;

static __thread gw_io_t *current_io;

void gw_pylog_set_current(gw_io_t *io)
{
    current_io = io;
}

/* GIL: held. Sends lines[0..n) with the GIL released. */
static void emit(gw_pylog_t *self, char **lines, size_t n)
{
    gw_io_t *io = self->io ? self->io : current_io;
    int level = self->level;
    size_t i;

    Py_BEGIN_ALLOW_THREADS
    for (i = 0; i < n; i++) {
        if (io) {
            io->ops->log(io, level, lines[i]);
        }
        else {
            gw_python_config()->log(level, lines[i]);
        }
        free(lines[i]);
    }
    Py_END_ALLOW_THREADS
}

static char *tagged(const char *tag, const char *s, size_t n)
{
    size_t tl = strlen(tag);
    char *line = malloc(tl + n + 1);

    if (line) {
        memcpy(line, tag, tl);
        memcpy(line + tl, s, n);
        line[tl + n] = '\0';
    }
    return line;
}

/* Emit every complete line (and, with all, the partial one too). */
static void drain(gw_pylog_t *self, int all)
{
    char *lines[64];
    size_t n = 0, start = 0, i;

    for (i = 0; i < self->len; i++) {
        int eol = self->buf[i] == '\n';

        if (eol || i - start >= GW_LOG_LINE_MAX
            || (all && i + 1 == self->len)) {
            size_t end = eol ? i : i + 1;
            char *line = tagged(self->tag, self->buf + start, end - start);

            if (line) {
                lines[n++] = line;
            }
            start = i + 1;
            if (n == sizeof(lines) / sizeof(*lines)) {
                emit(self, lines, n);
                n = 0;
            }
        }
    }
    /* start > 0 only when there is a buffer: memmove(NULL, NULL, 0) is
     * undefined (UBSan reports it on a flush before any write). */
    if (start > 0) {
        memmove(self->buf, self->buf + start, self->len - start);
        self->len -= start;
    }
    emit(self, lines, n);
}

static int append(gw_pylog_t *self, const char *s, size_t n)
{
    char *b = realloc(self->buf, self->len + n + 1);

    if (b == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->buf = b;
    memcpy(self->buf + self->len, s, n);
    self->len += n;
    drain(self, 0);
    return 0;
}

static PyObject *log_write(gw_pylog_t *self, PyObject *arg)
{
    const char *s;
    Py_ssize_t n;

    if (!PyUnicode_Check(arg)) {
        return PyErr_Format(PyExc_TypeError, "write() argument must be str, "
                            "not %.100s", Py_TYPE(arg)->tp_name);
    }
    s = PyUnicode_AsUTF8AndSize(arg, &n);
    if (s == NULL || append(self, s, (size_t)n) < 0) {
        return NULL;
    }
    return PyLong_FromSsize_t(PyUnicode_GET_LENGTH(arg));
}

static PyObject *log_writelines(gw_pylog_t *self, PyObject *seq)
{
    PyObject *it = PyObject_GetIter(seq), *item;

    if (it == NULL) {
        return NULL;
    }
    while ((item = PyIter_Next(it)) != NULL) {
        PyObject *r = log_write(self, item);

        Py_DECREF(item);
        if (r == NULL) {
            Py_DECREF(it);
            return NULL;
        }
        Py_DECREF(r);
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *log_flush(gw_pylog_t *self, PyObject *unused)
{
    drain(self, 1);
    Py_RETURN_NONE;
}

static PyObject *log_false(gw_pylog_t *self, PyObject *unused)
{
    Py_RETURN_FALSE;
}

static PyObject *log_true(gw_pylog_t *self, PyObject *unused)
{
    Py_RETURN_TRUE;
}

static PyObject *log_fileno(gw_pylog_t *self, PyObject *unused)
{
    PyErr_SetString(PyExc_OSError, "the error log stream has no fileno");
    return NULL;
}

static PyObject *log_get_name(gw_pylog_t *self, void *closure)
{
    if (self->name == NULL
        && (self->name = PyUnicode_FromFormat("<%s>", self->cname)) == NULL) {
        return NULL;
    }
    return Py_NewRef(self->name);
}

static PyObject *log_get_encoding(gw_pylog_t *self, void *closure)
{
    return PyUnicode_FromString("utf-8");
}

static void log_dealloc(gw_pylog_t *self)
{
    if (self->len) {
        drain(self, 1);
    }
    free(self->buf);
    Py_XDECREF(self->name);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef log_methods[] = {
    {"write", (PyCFunction)log_write, METH_O, NULL},
    {"writelines", (PyCFunction)log_writelines, METH_O, NULL},
    {"flush", (PyCFunction)log_flush, METH_NOARGS, NULL},
    {"close", (PyCFunction)log_flush, METH_NOARGS, NULL},
    {"isatty", (PyCFunction)log_false, METH_NOARGS, NULL},
    {"readable", (PyCFunction)log_false, METH_NOARGS, NULL},
    {"seekable", (PyCFunction)log_false, METH_NOARGS, NULL},
    {"writable", (PyCFunction)log_true, METH_NOARGS, NULL},
    {"fileno", (PyCFunction)log_fileno, METH_NOARGS, NULL},
    {NULL},
};

static PyGetSetDef log_getset[] = {
    {"name", (getter)log_get_name, NULL, NULL, NULL},
    {"encoding", (getter)log_get_encoding, NULL, NULL, NULL},
    {"closed", (getter)log_false, NULL, NULL, NULL},
    {NULL},
};

static PyTypeObject gw_pylog_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mod_gateway.Log",
    .tp_basicsize = sizeof(gw_pylog_t),
    .tp_dealloc = (destructor)log_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = log_methods,
    .tp_getset = log_getset,
};

int gw_pylog_ready_type(void)
{
    return PyType_Ready(&gw_pylog_type);
}

PyObject *gw_pylog_new(gw_io_t *io, int level, const char *name)
{
    gw_pylog_t *self;

    if (gw_pylog_ready_type() < 0) {
        return NULL;
    }
    self = PyObject_New(gw_pylog_t, &gw_pylog_type);
    if (self == NULL) {
        return NULL;
    }
    self->io = io;
    self->level = level;
    self->tag = io ? "GW0250: " : "GW0251: ";
    self->buf = NULL;
    self->len = 0;
    self->cname = name;
    self->name = NULL;
    return (PyObject *)self;
}

void gw_pylog_expire(PyObject *log)
{
    gw_pylog_t *self = (gw_pylog_t *)log;

    drain(self, 1);
    self->io = NULL;
}

/* ---- Python logging ------------------------------------------------- */

static int apache_level(long levelno)
{
    return levelno >= 50 ? APLOG_CRIT : levelno >= 40 ? APLOG_ERR
         : levelno >= 30 ? APLOG_WARNING : levelno >= 20 ? APLOG_INFO
         : APLOG_DEBUG;
}

static int python_level(int aplevel)
{
    return aplevel <= APLOG_CRIT ? 50 : aplevel == APLOG_ERR ? 40
         : aplevel == APLOG_WARNING ? 30 : aplevel <= APLOG_INFO ? 20 : 10;
}

/* mod_gateway.log(levelno, message): one ErrorLog entry per line, at the
 * Apache level of levelno. */
static PyObject *gw_log_record(PyObject *mod, PyObject *args)
{
    long levelno;
    const char *msg, *s, *nl;
    Py_ssize_t len;
    gw_io_t *io = current_io;
    char *lines[64], prefix[96];
    size_t n = 0, i;

    if (!PyArg_ParseTuple(args, "ls#:log", &levelno, &msg, &len)) {
        return NULL;
    }
    apr_snprintf(prefix, sizeof(prefix), "GW0252: [%s] ",
                 io ? io->request_id : "-");
    for (s = msg; s < msg + len && n < 64; s = nl + 1) {
        nl = memchr(s, '\n', (size_t)(msg + len - s));
        if (nl == NULL) {
            nl = msg + len;
        }
        if ((lines[n] = tagged(prefix, s, (size_t)(nl - s))) != NULL) {
            n++;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (i = 0; i < n; i++) {
        if (io) {
            io->ops->log(io, apache_level(levelno), lines[i]);
        }
        else {
            gw_python_config()->log(apache_level(levelno), lines[i]);
        }
        free(lines[i]);
    }
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyMethodDef gw_module_methods[] = {
    {"log", gw_log_record, METH_VARARGS,
     "log(levelno, message): write to the Apache ErrorLog"},
    {NULL},
};

static struct PyModuleDef gw_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "mod_gateway",
    .m_size = -1,
    .m_methods = gw_module_methods,
};

/* Runs in the new interpreter with `mod_gateway` importable. */
static const char gw_logging_setup[] =
    "import logging, mod_gateway\n"
    "class GatewayHandler(logging.Handler):\n"
    "    # Sends each record to the Apache ErrorLog at its level.\n"
    "    def emit(self, record):\n"
    "        try:\n"
    "            mod_gateway.log(record.levelno, self.format(record))\n"
    "        except Exception:\n"
    "            self.handleError(record)\n"
    "mod_gateway.GatewayHandler = GatewayHandler\n"
    "_root = logging.getLogger()\n"
    "if not _root.handlers:\n"
    "    _root.addHandler(GatewayHandler())\n"
    "    _root.setLevel(_level)\n";

int gw_pylog_install_logging(int log_level)
{
    PyObject *mod = PyModule_Create(&gw_module_def), *globals = NULL;
    PyObject *level = NULL, *r;
    int rc = -1;

    if (mod == NULL
        || PyModule_AddStringConstant(mod, "version", GW_VERSION_STRING) < 0
        || PyDict_SetItemString(PyImport_GetModuleDict(), "mod_gateway",
                                mod) < 0
        || (globals = PyDict_New()) == NULL
        || PyDict_SetItemString(globals, "__builtins__",
                                PyEval_GetBuiltins()) < 0
        || (level = PyLong_FromLong(python_level(log_level))) == NULL
        || PyDict_SetItemString(globals, "_level", level) < 0) {
        goto done;
    }
    r = PyRun_String(gw_logging_setup, Py_file_input, globals, globals);
    if (r) {
        Py_DECREF(r);
        rc = 0;
    }
done:
    Py_XDECREF(level);
    Py_XDECREF(globals);
    Py_XDECREF(mod);
    return rc;
}
