/*
 * gw_input.h -- wsgi.input: the request body as a file-like object
 * (read, readline, readlines, iteration).
 *
 * L2, GIL held for every call; the transport's read runs with the GIL
 * released. Bytes are pulled from the transport only when the app asks,
 * which in daemon mode is what lets a large upload and a large response
 * never deadlock.
 */
#ifndef GW_INPUT_H
#define GW_INPUT_H

#include <Python.h>
#include "gw_io.h"

/* NEW ref. */
PyObject *gw_input_new(gw_io_t *io);

/* The request is over: later reads raise instead of touching freed
 * memory. */
void gw_input_expire(PyObject *input);

#endif /* GW_INPUT_H */
