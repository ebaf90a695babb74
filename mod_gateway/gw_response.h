/*
 * gw_response.h -- the response side of one WSGI request: start_response,
 * write(), validation of status and headers, and sending body bytes with
 * Content-Length enforced.
 *
 * L2, GIL held for every call; the transport is called with the GIL
 * released. Private to gw_adapter.c.
 */
#ifndef GW_RESPONSE_H
#define GW_RESPONSE_H

#include <Python.h>
#include "gw_io.h"
#include "gw_adapter.h"

typedef struct {
    PyObject_HEAD
    gw_io_t *io;              /* NULL once the app has returned */
    const gw_request_info_t *info;
    gw_head_t head;           /* status 0 until start_response */
    int committed;            /* the head went to the transport */
    int no_body;              /* HEAD, 204, 304: bytes are dropped */
    int client_gone;          /* a transport write failed */
    int cut_logged;
    apr_off_t sent;
} gw_response_t;

/* NEW ref. */
gw_response_t *gw_response_new(gw_io_t *io, const gw_request_info_t *info);

/* NEW ref: the start_response callable bound to resp. */
PyObject *gw_response_start_callable(gw_response_t *resp);

/* Body bytes from the app's iterable. 0 on success; -1 when the transport
 * failed (resp->client_gone, no exception) or the item is invalid
 * (exception set, logged by the caller). */
int gw_response_send(gw_response_t *resp, PyObject *item, int flush);

/* Commits the head if it is not yet; -1 (exception set) when
 * start_response was never called. */
int gw_response_commit(gw_response_t *resp);

/* A real file from offset: APR_ENOTIMPL when the transport cannot. */
apr_status_t gw_response_sendfile(gw_response_t *resp, int fd,
                                  apr_off_t offset, apr_off_t len);

/* The response is over: 1 if complete, 0 if short of Content-Length
 * (logged with tag GW0204). */
int gw_response_complete(gw_response_t *resp);

int gw_response_ready_type(void);

#endif /* GW_RESPONSE_H */
