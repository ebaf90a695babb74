/*
 * gw_filewrapper.h -- wsgi.file_wrapper (PEP 3333 "Optional
 * Platform-Specific File Handling").
 *
 * L2, GIL held. The adapter recognises a FileWrapper returned as the result:
 * over a regular file with a usable fileno() the transport sends the file
 * itself (a file bucket and sendfile in embedded mode, the fd over
 * SCM_RIGHTS in daemon mode); anything else is iterated in blocks.
 */
#ifndef GW_FILEWRAPPER_H
#define GW_FILEWRAPPER_H

#include <Python.h>

/* BORROWED: the type, for environ['wsgi.file_wrapper']. NULL on error. */
PyObject *gw_filewrapper_type(void);

/* 1 if obj is a FileWrapper. */
int gw_filewrapper_check(PyObject *obj);

/* BORROWED: the wrapped file-like object. */
PyObject *gw_filewrapper_filelike(PyObject *obj);

/* The block size given to the wrapper. */
Py_ssize_t gw_filewrapper_blksize(PyObject *obj);

#endif /* GW_FILEWRAPPER_H */
