/*
 * gw_conn.c -- framed connections between Apache children and daemons.
 *
 * L1 (APR, POSIX sockets; no httpd, no Python). Every blocking call has a
 * deadline: a peer that stops reading or writing costs a timeout, never a
 * hung thread.
 */
#include "gw_conn.h"

#include "apr_strings.h"
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>

static void *pool_alloc(void *baton, size_t size)
{
    return apr_palloc((apr_pool_t *)baton, size);
}

/* The process's spare big buffers (see GW_CONN_BUF_BIG). They are mapped
 * on their own, so a buffer given up goes back to the system at once
 * rather than staying in malloc's arenas. Spares that sat unused through a
 * whole GW_CONN_BIG_IDLE window are given up: after a burst of large
 * bodies the process shrinks back to what its traffic needs. */
static struct {
    pthread_mutex_t lock;
    char *spare[GW_CONN_BIG_CACHE];
    int n;
    int low;            /* fewest spares since the window began */
    apr_time_t window;  /* when it began */
} bigs = { PTHREAD_MUTEX_INITIALIZER, { NULL }, 0, 0, 0 };

#ifdef __SANITIZE_ADDRESS__
/* Under AddressSanitizer from malloc, where overruns are caught. */
static char *map_big(void)
{
    return malloc(GW_CONN_BUF_BIG);
}

static void unmap_big(char *b)
{
    free(b);
}
#else
/* Between two inaccessible guard pages: a bug that ran past either end
 * (the bytes come from a daemon, which is untrusted) faults at once
 * instead of corrupting a neighbour. */
#define GW_CONN_GUARD 4096

static char *map_big(void)
{
    char *b = mmap(NULL, GW_CONN_BUF_BIG + 2 * GW_CONN_GUARD, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (b == MAP_FAILED) {
        return NULL;
    }
    if (mprotect(b + GW_CONN_GUARD, GW_CONN_BUF_BIG,
                 PROT_READ | PROT_WRITE) != 0) {
        munmap(b, GW_CONN_BUF_BIG + 2 * GW_CONN_GUARD);
        return NULL;
    }
    return b + GW_CONN_GUARD;
}

static void unmap_big(char *b)
{
    munmap(b - GW_CONN_GUARD, GW_CONN_BUF_BIG + 2 * GW_CONN_GUARD);
}
#endif

/* With bigs.lock held: ends the window if it is over, handing back the
 * spares that none of its exchanges needed (at most GW_CONN_BIG_CACHE
 * munmaps, once a window). */
static void expire_bigs(apr_time_t now)
{
    if (now - bigs.window < GW_CONN_BIG_IDLE) {
        return;
    }
    while (bigs.low > 0 && bigs.n > 0) {
        unmap_big(bigs.spare[bigs.n - 1]);
        __atomic_store_n(&bigs.n, bigs.n - 1, __ATOMIC_RELAXED);
        bigs.low--;
    }
    bigs.low = bigs.n;
    bigs.window = now;
}

char *gw_conn_big_take(void)
{
    char *b = NULL;

    pthread_mutex_lock(&bigs.lock);
    if (bigs.n > 0) {
        b = bigs.spare[bigs.n - 1];
        __atomic_store_n(&bigs.n, bigs.n - 1, __ATOMIC_RELAXED);
        if (bigs.n < bigs.low) {
            bigs.low = bigs.n;
        }
    }
    pthread_mutex_unlock(&bigs.lock);
    return b ? b : map_big();
}

void gw_conn_big_give(char *b)
{
    pthread_mutex_lock(&bigs.lock);
    if (bigs.n < GW_CONN_BIG_CACHE) {
        bigs.spare[bigs.n] = b;
        __atomic_store_n(&bigs.n, bigs.n + 1, __ATOMIC_RELAXED);
        b = NULL;
    }
    expire_bigs(apr_time_now());
    pthread_mutex_unlock(&bigs.lock);
    if (b) {
        unmap_big(b);
    }
}

void gw_conn_trim_bigs(void)
{
    /* An unlocked peek: a stale answer only puts the trim off to the next
     * exchange. */
    if (__atomic_load_n(&bigs.n, __ATOMIC_RELAXED) > 0) {
        pthread_mutex_lock(&bigs.lock);
        expire_bigs(apr_time_now());
        pthread_mutex_unlock(&bigs.lock);
    }
}

static void drop_big(gw_conn_t *c)
{
    if (c->big) {
        gw_conn_big_give(c->big);
        c->big = NULL;
    }
    c->buf = c->small;
    c->cap = GW_CONN_BUF;
}

static apr_status_t conn_cleanup(void *data)
{
    gw_conn_t *c = data;
    int i;

    drop_big(c);
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    for (i = 0; i < c->nfds; i++) {
        close(c->fds[i]);
    }
    c->nfds = 0;
    return APR_SUCCESS;
}

gw_conn_t *gw_conn_create(apr_pool_t *parent, int fd, int direction,
                          const gw_wire_caps_t *caps)
{
    apr_allocator_t *a = NULL;
    apr_pool_t *p;
    gw_conn_t *c;
    gw_wire_caps_t dflt;

    /* Without a parent, the connection has an allocator of its own (and
     * no lock: one thread at a time): closing it gives its memory back to
     * the system, not to the global allocator, which keeps all it frees. */
    if ((parent == NULL && apr_allocator_create(&a) != APR_SUCCESS)
        || apr_pool_create_ex(&p, parent, NULL, a) != APR_SUCCESS) {
        if (a) {
            apr_allocator_destroy(a);
        }
        close(fd);
        return NULL;
    }
    if (a) {
        apr_allocator_owner_set(a, p);
    }
    apr_pool_tag(p, "gw_conn");
    c = apr_pcalloc(p, sizeof(*c));
    c->fd = fd;
    c->pool = p;
    c->buf = c->small = apr_palloc(p, GW_CONN_BUF);
    c->cap = GW_CONN_BUF;
    if (caps == NULL) {
        gw_wire_caps_default(&dflt);
        caps = &dflt;
    }
    gw_wire_decoder_init(&c->dec, direction, caps, pool_alloc, p);
    apr_pool_cleanup_register(p, c, conn_cleanup, apr_pool_cleanup_null);
    return c;
}

void gw_conn_destroy(gw_conn_t *c)
{
    if (c) {
        apr_pool_destroy(c->pool);
    }
}

int gw_conn_pending(const gw_conn_t *c)
{
    return c->off < c->len;
}

int gw_conn_buffered_type(const gw_conn_t *c)
{
    const unsigned char *h = (const unsigned char *)c->buf + c->off;

    if (c->len - c->off < GW_WIRE_HEADER_LEN
        || !gw_wire_decoder_idle(&c->dec)
        || h[0] != GW_WIRE_MAGIC0 || h[1] != GW_WIRE_MAGIC1) {
        return 0;
    }
    return h[3];
}

void gw_conn_idle(gw_conn_t *c)
{
    int i;

    /* Descriptors that came with no FILE frame of this exchange must not
     * be taken for the file of a later one. */
    for (i = 0; i < c->nfds; i++) {
        close(c->fds[i]);
    }
    c->nfds = 0;
    c->grow = 0;
    if (c->big && c->off >= c->len) {
        drop_big(c);
        c->off = c->len = 0;
    }
    else {
        gw_conn_trim_bigs();
    }
}

/* Called with the buffer empty: after a read that filled the small one,
 * switch to a big one. */
static void maybe_grow(gw_conn_t *c)
{
    if (!c->grow || c->big) {
        return;
    }
    c->grow = 0;
    if ((c->big = gw_conn_big_take()) != NULL) {
        c->buf = c->big;
        c->cap = GW_CONN_BUF_BIG;
    }
}

static int timeout_ms(apr_interval_time_t t)
{
    if (t < 0) {
        return -1;
    }
    return t / 1000 > 0x7fffffff ? 0x7fffffff : (int)((t + 999) / 1000);
}

static apr_status_t wait_fd(int fd, short events, apr_interval_time_t t)
{
    struct pollfd pfd = { fd, events, 0 };
    int rc;

    do {
        rc = poll(&pfd, 1, timeout_ms(t));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        return errno;
    }
    return rc == 0 ? APR_TIMEUP : APR_SUCCESS;
}

/* Keeps the fds of an SCM_RIGHTS message, in arrival order. */
static void take_fds(gw_conn_t *c, struct msghdr *msg)
{
    struct cmsghdr *cm;

    for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
        int *fds = (int *)CMSG_DATA(cm);
        size_t i, n;

        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < n; i++) {
            if (c->nfds < GW_CONN_MAXFDS) {
                c->fds[c->nfds++] = fds[i];
            }
            else {
                close(fds[i]); /* more than the protocol ever sends */
            }
        }
    }
}

/* Waits for input within what is left of the current frame's budget t
 * (see gw_conn_next()): every wait counts, not just the last one, so a
 * byte every 200 ms cannot hold a thread for ever. */
static apr_status_t wait_input(gw_conn_t *c, apr_interval_time_t t)
{
    apr_time_t start = apr_time_now();
    apr_status_t rv;

    if (t >= 0 && c->waited >= t) {
        return APR_TIMEUP;
    }
    rv = wait_fd(c->fd, POLLIN, t < 0 ? -1 : t - c->waited);
    c->waited += apr_time_now() - start;
    return rv;
}

static apr_status_t fill(gw_conn_t *c, apr_interval_time_t t)
{
    char cbuf[CMSG_SPACE(sizeof(int) * GW_CONN_MAXFDS)];
    struct iovec iov;
    struct msghdr msg;
    apr_status_t rv;
    ssize_t n;

    maybe_grow(c);
    iov.iov_base = c->buf;
    iov.iov_len = c->cap;
    for (;;) {
        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf;
        msg.msg_controllen = sizeof(cbuf);
        n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n >= 0) {
            take_fds(c, &msg);
            if (msg.msg_flags & MSG_CTRUNC) {
                c->error = "passed file descriptors were truncated";
                return APR_EGENERAL;
            }
            c->off = 0;
            c->len = (size_t)n;
            c->eof = n == 0;
            c->grow = c->len == c->cap;
            return APR_SUCCESS;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            c->error = "read failed";
            return errno;
        }
        if ((rv = wait_input(c, t)) != APR_SUCCESS) {
            c->error = rv == APR_TIMEUP ? "timed out" : "read failed";
            return rv;
        }
    }
}

static int take_file_fd(gw_conn_t *c, int *fd_out)
{
    if (c->nfds == 0) {
        c->error = "FILE frame without a file descriptor";
        return -1;
    }
    *fd_out = c->fds[0];
    memmove(c->fds, c->fds + 1, (size_t)(--c->nfds) * sizeof(int));
    return 1;
}

size_t gw_conn_send_room(gw_conn_t *c)
{
    socklen_t sl = sizeof(c->sndbuf);
    int queued = 0;

    if (c->sndbuf == 0
        && getsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &c->sndbuf, &sl) != 0) {
        c->sndbuf = -1;
    }
    /* SIOCOUTQ: what is written and not yet read by the peer, counted as
     * the kernel counts it against SO_SNDBUF */
    if (c->sndbuf <= 0 || ioctl(c->fd, SIOCOUTQ, &queued) != 0
        || queued < 0 || queued >= c->sndbuf) {
        return 0;
    }
    return (size_t)(c->sndbuf - queued);
}

size_t gw_conn_fill_nowait(gw_conn_t *c)
{
    if (c->off >= c->len && !c->eof) {
        c->off = c->len = 0;
        if (fill(c, 0) != APR_SUCCESS) {
            c->off = c->len = 0; /* nothing here yet, or an error that
                                  * the next gw_conn_next() meets */
        }
    }
    return c->len - c->off;
}

int gw_conn_next(gw_conn_t *c, gw_wire_frame_t *f, int *fd_out,
                 apr_interval_time_t timeout, apr_status_t *rv)
{
    *rv = APR_SUCCESS;
    if (gw_wire_decoder_idle(&c->dec)) {
        c->waited = 0; /* a new frame: a new budget */
    }
    for (;;) {
        if (c->off < c->len) {
            size_t used = 0;
            int rc = gw_wire_decoder_feed(&c->dec, c->buf + c->off,
                                          c->len - c->off, &used, f);

            c->off += used;
            if (rc == GW_WIRE_ERROR) {
                c->error = gw_wire_decoder_error(&c->dec);
                *rv = APR_EGENERAL;
                return -1;
            }
            if (rc == GW_WIRE_FRAME) {
                if (f->type == GW_WIRE_T_FILE) {
                    *fd_out = -1;
                    return take_file_fd(c, fd_out);
                }
                return 1;
            }
        }
        if (c->eof) {
            if (gw_wire_decoder_idle(&c->dec)) {
                return 0;
            }
            c->error = "the connection closed in the middle of a frame";
            *rv = APR_EOF;
            return -1;
        }
        if ((*rv = fill(c, timeout)) != APR_SUCCESS) {
            return -1; /* fill() said why in c->error */
        }
    }
}

apr_status_t gw_conn_writev(gw_conn_t *c, struct iovec *iov, int n,
                            apr_interval_time_t timeout)
{
    struct msghdr msg;
    apr_status_t rv;
    ssize_t w;

    while (n > 0) {
        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)n;
        w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                return errno;
            }
            if ((rv = wait_fd(c->fd, POLLOUT, timeout)) != APR_SUCCESS) {
                return rv;
            }
            continue;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return APR_SUCCESS;
}

apr_status_t gw_conn_send_fd(gw_conn_t *c, const char *buf, size_t len,
                             int fd, apr_interval_time_t timeout)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { (void *)buf, len };
    struct msghdr msg;
    struct cmsghdr *cm;
    apr_status_t rv;
    ssize_t w;

    memset(&msg, 0, sizeof(msg));
    memset(cbuf, 0, sizeof(cbuf));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof(cbuf);
    cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    for (;;) {
        w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w >= 0) {
            break;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return errno;
        }
        if ((rv = wait_fd(c->fd, POLLOUT, timeout)) != APR_SUCCESS) {
            return rv;
        }
    }
    if ((size_t)w < len) {
        /* The fd went with the first byte; the rest is plain bytes. */
        iov.iov_base = (char *)buf + w;
        iov.iov_len = len - (size_t)w;
        return gw_conn_writev(c, &iov, 1, timeout);
    }
    return APR_SUCCESS;
}

apr_status_t gw_conn_peer(int fd, uid_t *uid, gid_t *gid, pid_t *pid)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        return errno;
    }
    *uid = cred.uid;
    *gid = cred.gid;
    *pid = cred.pid;
    return APR_SUCCESS;
}
