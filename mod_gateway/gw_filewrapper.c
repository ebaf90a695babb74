/*
 * gw_filewrapper.c -- the wsgi.file_wrapper type.
 *
 * L2, GIL held. Iterating it reads blksize blocks (the fallback for
 * objects that are not regular files); close() closes the wrapped object,
 * as PEP 3333 requires.
 */
#include "gw_filewrapper.h"

typedef struct {
    PyObject_HEAD
    PyObject *filelike;
    Py_ssize_t blksize;
} gw_filewrapper_t;

static PyTypeObject gw_filewrapper_type_obj;

static PyObject *fw_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"filelike", "blksize", NULL};
    PyObject *filelike;
    Py_ssize_t blksize = 8192;
    gw_filewrapper_t *self;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|n:file_wrapper", kwlist,
                                     &filelike, &blksize)) {
        return NULL;
    }
    if (blksize <= 0) {
        PyErr_SetString(PyExc_ValueError, "blksize must be positive");
        return NULL;
    }
    self = (gw_filewrapper_t *)type->tp_alloc(type, 0);
    if (self) {
        self->filelike = Py_NewRef(filelike);
        self->blksize = blksize;
    }
    return (PyObject *)self;
}

static void fw_dealloc(gw_filewrapper_t *self)
{
    Py_XDECREF(self->filelike);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *fw_iternext(gw_filewrapper_t *self)
{
    PyObject *block = PyObject_CallMethod(self->filelike, "read", "n",
                                          self->blksize);

    if (block == NULL) {
        return NULL;
    }
    if (!PyBytes_Check(block)) {
        PyErr_Format(PyExc_TypeError, "file_wrapper: read() returned "
                     "%.100s, expected bytes", Py_TYPE(block)->tp_name);
        Py_DECREF(block);
        return NULL;
    }
    if (PyBytes_GET_SIZE(block) == 0) {
        Py_DECREF(block);
        return NULL; /* StopIteration */
    }
    return block;
}

static PyObject *fw_close(gw_filewrapper_t *self, PyObject *unused)
{
    if (PyObject_HasAttrString(self->filelike, "close")) {
        return PyObject_CallMethod(self->filelike, "close", NULL);
    }
    Py_RETURN_NONE;
}

static PyMethodDef fw_methods[] = {
    {"close", (PyCFunction)fw_close, METH_NOARGS, NULL},
    {NULL},
};

static PyTypeObject gw_filewrapper_type_obj = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mod_gateway.FileWrapper",
    .tp_basicsize = sizeof(gw_filewrapper_t),
    .tp_dealloc = (destructor)fw_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = fw_new,
    .tp_methods = fw_methods,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)fw_iternext,
};

PyObject *gw_filewrapper_type(void)
{
    if (PyType_Ready(&gw_filewrapper_type_obj) < 0) {
        return NULL;
    }
    return (PyObject *)&gw_filewrapper_type_obj;
}

int gw_filewrapper_check(PyObject *obj)
{
    return Py_IS_TYPE(obj, &gw_filewrapper_type_obj);
}

PyObject *gw_filewrapper_filelike(PyObject *obj)
{
    return ((gw_filewrapper_t *)obj)->filelike;
}

Py_ssize_t gw_filewrapper_blksize(PyObject *obj)
{
    return ((gw_filewrapper_t *)obj)->blksize;
}
