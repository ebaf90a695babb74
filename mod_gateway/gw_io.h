/*
 * gw_io.h -- the small I/O interface between the PEP 3333 adapter (L2) and
 * its transport: Apache brigades in embedded mode (gw_embed.c), socket
 * frames in a daemon.
 *
 * Every operation is called with the GIL released, except one that the
 * transport's quick() says completes from memory. Nothing here includes
 * Python.h, so transports stay free of Python.
 */
#ifndef GW_IO_H
#define GW_IO_H

#include "apr_pools.h"
#include "apr_errno.h"
#include "apr_tables.h"
#include "gw_wire.h"

/* One environ entry or response header: bytes with explicit lengths, so an
 * embedded NUL is data, never a terminator. It is the wire's pair, so an
 * environ or a head is framed without conversion. In-process pairs are
 * also NUL-terminated (they come from C strings or pool copies); pairs
 * decoded from a frame are not until copied. Memory: the request pool. */
typedef gw_wire_pair_t gw_pair_t;

/* A validated response head, copied into the request pool. */
typedef struct {
    int status;
    const char *status_line;      /* "200 OK" */
    apr_array_header_t *headers;  /* gw_pair_t, in the app's order */
    apr_off_t content_length;     /* -1 when the app sent none */
} gw_head_t;

typedef struct gw_io gw_io_t;

/* The operations quick() is asked about. */
typedef enum { GW_IO_READ, GW_IO_HEAD, GW_IO_WRITE, GW_IO_FINISH } gw_io_op_t;

typedef struct {
    /* Up to *len request-body bytes into buf; *len = 0 at the end of the
     * body. An error means the client is gone or too slow. */
    apr_status_t (*read)(gw_io_t *io, char *buf, apr_size_t *len);
    /* The head, once, before the first write/sendfile or at finish. */
    apr_status_t (*head)(gw_io_t *io, const gw_head_t *head);
    /* Body bytes; flush asks for them to reach the client now. The bytes
     * are only valid during the call. */
    apr_status_t (*write)(gw_io_t *io, const char *buf, apr_size_t len,
                          int flush);
    /* len bytes of an open file from offset; the fd stays the caller's.
     * APR_ENOTIMPL makes the adapter fall back to reading blocks. */
    apr_status_t (*sendfile)(gw_io_t *io, int fd, apr_off_t offset,
                             apr_off_t len);
    /* End of the response: ok = 1 ends it cleanly; ok = 0 aborts it so the
     * client sees a truncation, never a clean end. */
    apr_status_t (*finish)(gw_io_t *io, int ok);
    /* One log line (level is an APLOG_* level), already tagged. */
    void (*log)(gw_io_t *io, int level, const char *msg);
    /* Optional (NULL: never). 1 when op will complete without waiting: a
     * read the transport already holds the bytes or the end for, a head or
     * a write that only fills a buffer (head: for GW_IO_HEAD; len, flush:
     * for GW_IO_WRITE), a finish whose last write the socket has room for.
     * The adapter then calls it with the GIL held: releasing the GIL
     * around a memcpy or a non-blocking syscall costs two futex calls and,
     * when other threads wait for the GIL, a switch to one of them. */
    int (*quick)(gw_io_t *io, gw_io_op_t op, const gw_head_t *head,
                 apr_size_t len, int flush);
} gw_io_ops_t;


struct gw_io {
    const gw_io_ops_t *ops;
    apr_pool_t *pool;        /* the request's pool */
    const char *request_id;
    void *baton;             /* the transport's own state */
};

#endif /* GW_IO_H */
