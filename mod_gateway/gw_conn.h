/*
 * gw_conn.h -- one framed connection between an Apache child and a daemon:
 * socket I/O with deadlines, fd passing (SCM_RIGHTS) and the incremental
 * frame decoder of gw_wire.h.
 *
 * L1: APR pools and POSIX sockets, no httpd, no Python. Used in the Apache
 * children (gw_proxy.c) and in the daemons (gw_daemon.c). A connection is
 * used by one thread at a time.
 */
#ifndef GW_CONN_H
#define GW_CONN_H

#include "apr_pools.h"
#include "apr_time.h"
#include "gw_wire.h"
#include <sys/types.h>
#include <sys/uio.h>

/* The read buffer: small while frames are small (an idle pooled
 * connection costs little), and GW_CONN_BUF_BIG while a large body streams
 * through (two 64 KiB DATA frames per read: fewer reads in, fewer writes
 * out, half the context switches). Big buffers are shared by the process:
 * a connection takes one from a cache of GW_CONN_BIG_CACHE and gives it
 * back when its exchange ends (gw_conn_idle), so steady streaming costs no
 * page faults and the process keeps at most that many; spares no exchange
 * took for a whole GW_CONN_BIG_IDLE are unmapped. */
#define GW_CONN_BUF 16384
#define GW_CONN_BUF_BIG (128 * 1024)
#define GW_CONN_BIG_CACHE 8
#define GW_CONN_BIG_IDLE apr_time_from_sec(1)
#define GW_CONN_MAXFDS 8

typedef struct {
    int fd;
    apr_pool_t *pool;          /* the connection's own pool */
    gw_wire_decoder_t dec;
    char *buf;                 /* cap bytes read ahead: small or big */
    size_t cap, off, len;
    char *small;               /* GW_CONN_BUF bytes, from the pool */
    char *big;                 /* GW_CONN_BUF_BIG bytes, or NULL */
    int grow;                  /* the last read filled the buffer */
    int fds[GW_CONN_MAXFDS];   /* fds received, oldest first */
    int nfds;
    int eof;
    apr_interval_time_t waited; /* spent waiting for the current frame */
    int hello_sent;            /* child side: HELLO went out already */
    int sndbuf;                /* SO_SNDBUF, once asked (0: not yet) */
    const char *error;         /* why the last call failed */
} gw_conn_t;

/* Wraps fd (which the connection now owns: closed with the pool). A
 * connection without a parent pool has its own allocator: destroying it
 * gives all its memory back to the system.
 * direction: GW_WIRE_TO_DAEMON to decode what a child sends (daemon side),
 * GW_WIRE_TO_CHILD for the child side. caps may be NULL (defaults). */
gw_conn_t *gw_conn_create(apr_pool_t *parent, int fd, int direction,
                          const gw_wire_caps_t *caps);

/* A GW_CONN_BUF_BIG buffer from the process's cache (NULL if none can be
 * mapped), and giving it back: for other bytes in transit that should not
 * stay in a connection's allocator (gw_proxy.c, the body sent with a
 * REQUEST). */
char *gw_conn_big_take(void);
void gw_conn_big_give(char *b);
/* Unmaps the spares no exchange needed for a whole GW_CONN_BIG_IDLE: each
 * exchange's end calls it, and a timer should too, for after the last. */
void gw_conn_trim_bigs(void);

/* Closes the socket and frees everything (destroys the pool). */
void gw_conn_destroy(gw_conn_t *c);

/* The next frame (or, for BODY/DATA, the next chunk of one).
 * Returns 1 with *f filled; 0 at EOF between frames; -1 on error, timeout
 * (APR_TIMEUP in *rv), EOF inside a frame or a protocol error (c->error).
 * For FILE, f->u.file carries the frame and *fd_out the passed fd (the
 * caller owns it), or -1 if none arrived (a protocol error). timeout < 0
 * waits forever. timeout bounds the time spent waiting for one whole
 * frame, summed over the calls that deliver its chunks: a peer dripping a
 * frame byte by byte is cut off, while the caller's own work between two
 * chunks (a slow client) is not counted. */
int gw_conn_next(gw_conn_t *c, gw_wire_frame_t *f, int *fd_out,
                 apr_interval_time_t timeout, apr_status_t *rv);

/* 1 when bytes are already buffered (a frame may be ready without a
 * syscall). */
int gw_conn_pending(const gw_conn_t *c);

/* Room left in c's send buffer (SO_SNDBUF less what the peer has not
 * read yet), as the kernel counts it; 0 if it will not say. */
size_t gw_conn_send_room(gw_conn_t *c);

/* The bytes buffered and not yet decoded; if there are none, first takes
 * what has already arrived on the socket, without waiting (one
 * non-blocking recvmsg). For a caller deciding whether the next
 * gw_conn_next() can answer at once. */
size_t gw_conn_fill_nowait(gw_conn_t *c);

/* The type of the next frame if its whole header is already buffered and
 * no frame is half read, else 0. A peek: gw_conn_next() still decodes and
 * checks it. */
int gw_conn_buffered_type(const gw_conn_t *c);

/* The exchange on c is over: descriptors passed with no FILE frame are
 * closed, and a big read buffer, if nothing is left in it, goes back to
 * the process's cache, so a pooled connection holds only the small one;
 * spares idle for GW_CONN_BIG_IDLE are unmapped. */
void gw_conn_idle(gw_conn_t *c);

/* Writes all of iov (partial writes resumed), within timeout.
 * MSG_NOSIGNAL: a peer that went away is EPIPE, not SIGPIPE. */
apr_status_t gw_conn_writev(gw_conn_t *c, struct iovec *iov, int n,
                            apr_interval_time_t timeout);

/* Writes buf with fd attached as SCM_RIGHTS, within timeout. */
apr_status_t gw_conn_send_fd(gw_conn_t *c, const char *buf, size_t len,
                             int fd, apr_interval_time_t timeout);

/* SO_PEERCRED of the peer. */
apr_status_t gw_conn_peer(int fd, uid_t *uid, gid_t *gid, pid_t *pid);

#endif /* GW_CONN_H */
