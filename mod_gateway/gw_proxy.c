/*
 * gw_proxy.c -- a request served by a daemon process group, seen from the
 * Apache child.
 *
 * Runs only in Apache children. The daemon runs tenant code, so everything
 * it sends is hostile input (RELIABILITY.md): frames are checked by the L0
 * decoder, status and headers again by gw_http, hop-by-hop headers and
 * Transfer-Encoding are dropped, Content-Length is enforced, and a daemon's
 * Location header never causes an internal redirect.
 *
 * Connections are persistent and pooled per child and per group. A request
 * is sent again on a new connection only when the daemon proves it never
 * read it: a CLOSE frame as the answer, or a failed write of the REQUEST.
 */
#include "gw_proxy.h"
#include "gw_conn.h"
#include "gw_cpool.h"
#include "gw_group.h"
#include "gw_http.h"
#include "gw_io.h"
#include "gw_log.h"

#include "apr_buckets.h"
#include "util_filter.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The most client body bytes one READ is answered with. */
#define GW_PROXY_BODY_CHUNK 65536

/* ---- connections --------------------------------------------------- */

static apr_status_t await_ready(gw_conn_t *c, apr_time_t end)
{
    apr_interval_time_t left = end - apr_time_now();
    gw_wire_frame_t f;
    apr_status_t rv;
    int fd = -1, rc;

    rc = gw_conn_next(c, &f, &fd, left > 0 ? left : 0, &rv);
    if (rc == 1 && f.type == GW_WIRE_T_READY) {
        return APR_SUCCESS;
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc < 0 && rv == APR_TIMEUP ? APR_TIMEUP : APR_EGENERAL;
}

/* Connects, retrying while the daemon is starting or its backlog is full,
 * until connect-timeout. Checks who listens before anything is sent. */
static apr_status_t dial(request_rec *r, gw_group_t *g, gw_conn_t **out)
{
    apr_time_t end = apr_time_now() + g->connect_timeout;
    struct sockaddr_un sa;
    apr_status_t rv;
    uid_t uid;
    gid_t gid;
    pid_t pid;
    int fd, sndbuf = 2 * GW_WIRE_BODY_WINDOW;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    apr_cpystrn(sa.sun_path, g->socket_path, sizeof(sa.sun_path));
    for (;;) {
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            return errno;
        }
        /* Room for a REQUEST and the body sent behind it unasked, even
         * when the daemon reads neither yet (its app may be writing a
         * large response first): that write never waits on the daemon.
         * The kernel caps it at net.core.wmem_max (doubled), whose
         * default of 208 KiB is room enough. */
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            break;
        }
        rv = errno;
        close(fd);
        if (apr_time_now() >= end) {
            return rv;
        }
        apr_sleep(apr_time_from_msec(20));
    }
    if ((rv = gw_conn_peer(fd, &uid, &gid, &pid)) != APR_SUCCESS) {
        close(fd);
        return rv;
    }
    /* The listening socket is created by the Apache parent, so that is
     * who SO_PEERCRED names; anything else at this path is an impostor. */
    if (pid != getppid() || (uid != 0 && uid != geteuid())) {
        GW_LOG_R(APLOG_ERR, 0, r, "GW0411", "the socket %s of daemon group "
                 "'%s' is held by pid %ld uid %ld, not by this server's "
                 "parent process (pid %ld); refusing to send it the request",
                 g->socket_path, g->name, (long)pid, (long)uid,
                 (long)getppid());
        close(fd);
        return APR_EACCES;
    }
    *out = gw_conn_create(NULL, fd, GW_WIRE_TO_CHILD, NULL);
    if (*out == NULL) {
        return APR_ENOMEM;
    }
    /* connect() only reached the parent's backlog: nothing is sent until
     * a daemon has taken the connection (READY), within connect-timeout;
     * so a group whose processes cannot start answers 503 quickly and no
     * request is ever left behind in the backlog. */
    if ((rv = await_ready(*out, end)) != APR_SUCCESS) {
        gw_conn_destroy(*out);
        *out = NULL;
    }
    return rv;
}

/* ---- one exchange -------------------------------------------------- */

typedef struct {
    request_rec *r;
    gw_group_t *g;
    gw_conn_t *c;
    const char *id;
    apr_interval_time_t timeout;
    apr_bucket_brigade *out;
    apr_bucket_brigade *in;    /* one read of the client's body */
    char *early;               /* a big buffer: the body bytes sent unasked
                                * behind REQUEST, then each READ's answer */
    apr_size_t early_len;
    apr_status_t in_error;     /* the client read failed after bytes came */
    int got_frame;           /* the daemon answered this request */
    int head;                /* HEAD applied */
    int no_body;
    int passed;              /* bytes went down the output filters */
    int body_done;
    int end_sent;              /* BODY_END went out: READs need no answer */
    int reusable;
    int surplus;             /* body bytes past Content-Length came */
    apr_off_t clen, sent;
} gw_px_t;

#define GW_RETRY (-2)

static apr_status_t send_request(gw_px_t *px, apr_array_header_t *env)
{
    const gw_pair_t *pairs = (const gw_pair_t *)env->elts;
    size_t npairs = (size_t)env->nelts, size, w = 0, off = 0;
    struct iovec iov[4];
    char *buf, body[GW_WIRE_HEADER_LEN], end[GW_WIRE_HEADER_LEN];
    apr_status_t rv;
    int n = 1;

    size = gw_wire_request_size(pairs, npairs, 0);
    if (size == 0 || size > GW_WIRE_CAP_REQUEST + GW_WIRE_HEADER_LEN) {
        return APR_EINVAL;
    }
    buf = apr_palloc(px->r->pool, size + GW_WIRE_HEADER_LEN + GW_SECRET_LEN);
    if (!px->c->hello_sent) {
        gw_wire_encode_hello(buf, GW_WIRE_HEADER_LEN + GW_SECRET_LEN,
                             px->g->secret, GW_SECRET_LEN, &off, NULL);
    }
    if (gw_wire_encode_request(buf + off, size, pairs, npairs, NULL, 0, NULL,
                               &w, NULL) != 0) {
        return APR_EINVAL;
    }
    iov[0].iov_base = buf;
    iov[0].iov_len = off + w;
    if (px->early_len > 0) {
        /* the answer to the READ of GW_WIRE_BODY_WINDOW nobody sent */
        gw_wire_encode_header(body, GW_WIRE_T_BODY, px->early_len, NULL,
                              NULL);
        iov[n].iov_base = body;
        iov[n++].iov_len = GW_WIRE_HEADER_LEN;
        iov[n].iov_base = px->early;
        iov[n++].iov_len = px->early_len;
        if (px->body_done) {
            gw_wire_encode_header(end, GW_WIRE_T_BODY_END, 0, NULL, NULL);
            iov[n].iov_base = end;
            iov[n++].iov_len = GW_WIRE_HEADER_LEN;
        }
    }
    rv = gw_conn_writev(px->c, iov, n, px->timeout);
    if (rv == APR_SUCCESS) {
        px->c->hello_sent = 1;
    }
    return rv;
}

static int pass(gw_px_t *px, int flush)
{
    request_rec *r = px->r;
    apr_status_t rv;

    if (flush) {
        APR_BRIGADE_INSERT_TAIL(px->out, apr_bucket_flush_create(
            r->connection->bucket_alloc));
    }
    px->passed = 1;
    rv = ap_pass_brigade(r->output_filters, px->out);
    apr_brigade_cleanup(px->out);
    return rv == APR_SUCCESS && !r->connection->aborted ? 0 : -1;
}

/* The response is cut short: an error bucket makes the chunk filter leave
 * out the last chunk, and the connection closes. */
static void abort_response(gw_px_t *px)
{
    request_rec *r = px->r;
    conn_rec *c = r->connection;

    r->no_cache = 1;
    c->keepalive = AP_CONN_CLOSE;
    APR_BRIGADE_INSERT_TAIL(px->out, ap_bucket_error_create(
        HTTP_BAD_GATEWAY, NULL, r->pool, c->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(px->out, apr_bucket_eos_create(c->bucket_alloc));
    pass(px, 0);
}

/* A failure: before anything went out, Apache's error page with status;
 * after, a truncated response. The connection is not reused. */
static int fail(gw_px_t *px, int status, const char *tag, const char *why)
{
    px->reusable = 0;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, px->r, "%s: [%s] daemon group "
                  "'%s': %s%s", tag, px->id, px->g->name, why, px->passed
                  ? "; the response was already under way and is cut short"
                  : "");
    if (px->passed) {
        abort_response(px);
        return OK;
    }
    return status;
}

/* One read of the client's body into bb; *len is how many bytes came. */
static apr_status_t read_some(gw_px_t *px, apr_bucket_brigade *bb,
                              apr_size_t want, apr_read_type_e block,
                              apr_off_t *len)
{
    apr_status_t rv;

    *len = 0;
    rv = ap_get_brigade(px->r->input_filters, bb, AP_MODE_READBYTES, block,
                        want);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!APR_BRIGADE_EMPTY(bb) && APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(bb))) {
        px->body_done = 1;
    }
    return apr_brigade_length(bb, 1, len);
}

static apr_status_t give_early(void *data)
{
    gw_conn_big_give(data);
    return APR_SUCCESS;
}

/* The big buffer for body bytes, kept until the request ends. */
static char *body_buffer(gw_px_t *px)
{
    if (px->early == NULL && (px->early = gw_conn_big_take()) != NULL) {
        apr_pool_cleanup_register(px->r->pool, px->early, give_early,
                                  apr_pool_cleanup_null);
    }
    return px->early;
}

/* Appends one socket read of the client's body (up to want - *len bytes)
 * to buf; *got is how many bytes came. Each is copied and freed at once,
 * and no more than one is asked for (the core input filter, asked for
 * more, keeps reading while bytes are there): every byte in transit at a
 * time would stay in Apache's per-connection allocator after the request,
 * which keeps what it frees (100 KiB uploads left 1-2 MB more in each
 * child). */
static apr_status_t read_into(gw_px_t *px, char *buf, apr_size_t want,
                              apr_size_t *len, apr_read_type_e block,
                              apr_off_t *got)
{
    apr_size_t n = want - *len;
    apr_status_t rv = read_some(px, px->in, n < APR_BUCKET_BUFF_SIZE
                                ? n : APR_BUCKET_BUFF_SIZE, block, got);

    if (rv == APR_SUCCESS && *got > 0) {
        apr_brigade_flatten(px->in, buf + *len, &n);
        *len += n;
    }
    apr_brigade_cleanup(px->in);
    return rv;
}

/* Up to want client body bytes, gathered at px->early (the daemon has
 * taken the REQUEST, so the bytes sent with it are done with); *len is
 * how many, 0 at the end of the body. Waits for the first bytes, then
 * takes what else has already arrived, up to want: the core input filter
 * hands out one socket read (about 8 KB) per call, and a BODY frame per
 * call would cost the upload a round trip to the daemon per 8 KB instead
 * of per 64 KiB. A failure met after some bytes were taken is kept for
 * the next call, so those bytes still go out first. */
static apr_status_t read_client(gw_px_t *px, apr_size_t want,
                                apr_size_t *len)
{
    char *buf = body_buffer(px);
    apr_status_t rv;
    apr_off_t got;

    *len = 0;
    if (px->in_error != APR_SUCCESS) {
        return px->in_error;
    }
    if (buf == NULL) {
        return APR_ENOMEM;
    }
    while (!px->body_done && *len == 0) {
        if ((rv = read_into(px, buf, want, len, APR_BLOCK_READ, &got))
            != APR_SUCCESS) {
            return rv;
        }
    }
    while (!px->body_done && *len < want) {
        rv = read_into(px, buf, want, len, APR_NONBLOCK_READ, &got);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_EAGAIN(rv)) {
            px->in_error = rv;
        }
        if (rv != APR_SUCCESS || got == 0) {
            break;
        }
    }
    return APR_SUCCESS;
}

/* READ: the app wants body bytes; the client is read only now, so a large
 * upload never has to fit anywhere. One BODY (1..want bytes) or BODY_END
 * answers each READ; a BODY that ends the body goes out with BODY_END
 * behind it, which answers the next READ before it is sent (the app's
 * last read, the one that finds the end, costs no round trip). */
static int on_read(gw_px_t *px, uint32_t want)
{
    apr_size_t cap = want < GW_PROXY_BODY_CHUNK ? want : GW_PROXY_BODY_CHUNK;
    struct iovec iov[3];
    char hdr[GW_WIRE_HEADER_LEN], end[GW_WIRE_HEADER_LEN];
    apr_size_t len = 0;
    apr_status_t rv, wv;
    int type, n = 1;

    if (px->end_sent) {
        return OK; /* answered already */
    }
    rv = read_client(px, cap, &len);
    type = len > 0 ? GW_WIRE_T_BODY : GW_WIRE_T_BODY_END;
    if (rv != APR_SUCCESS) {
        /* The client failed (timeout, reset, LimitRequestBody): the daemon
         * hears ABORT and the app's read raises. */
        type = GW_WIRE_T_ABORT;
        len = 0;
        px->reusable = 0;
    }
    gw_wire_encode_header(hdr, type, len, NULL, NULL);
    iov[0].iov_base = hdr;
    iov[0].iov_len = GW_WIRE_HEADER_LEN;
    if (len > 0) {
        iov[n].iov_base = px->early;
        iov[n++].iov_len = len;
    }
    if (type == GW_WIRE_T_BODY && px->body_done && px->in_error == 0) {
        gw_wire_encode_header(end, GW_WIRE_T_BODY_END, 0, NULL, NULL);
        iov[n].iov_base = end;
        iov[n++].iov_len = GW_WIRE_HEADER_LEN;
        type = GW_WIRE_T_BODY_END;
    }
    px->end_sent = type == GW_WIRE_T_BODY_END;
    wv = gw_conn_writev(px->c, iov, n, px->timeout);
    if (wv != APR_SUCCESS) {
        px->reusable = 0;
        return fail(px, HTTP_BAD_GATEWAY, "GW0415", "cannot send the "
                    "request body to the daemon");
    }
    if (rv != APR_SUCCESS) {
        GW_LOG_R(APLOG_INFO, rv, px->r, "GW0423", "[%s] reading the request "
                 "body from the client failed", px->id);
        return px->passed ? OK : ap_map_http_request_error(rv,
                                                           HTTP_BAD_REQUEST);
    }
    return OK;
}

/* HEAD from the daemon, validated again (the daemon is untrusted). */
static int on_head(gw_px_t *px, const gw_wire_frame_t *f)
{
    request_rec *r = px->r;
    const char *err;
    int code;
    size_t i;

    if (px->head) {
        return fail(px, HTTP_BAD_GATEWAY, "GW0416", "a second HEAD frame");
    }
    if (gw_http_check_status(f->u.head.status, f->u.head.status_len, &code,
                             &err) != 0) {
        return fail(px, HTTP_BAD_GATEWAY, "GW0417", apr_psprintf(r->pool,
                    "invalid status from the daemon: %s", err));
    }
    for (i = 0; i < f->u.head.nheaders; i++) {
        const gw_wire_pair_t *h = &f->u.head.headers[i];
        const char *name, *value;

        if (gw_http_check_header_name(h->name, h->name_len, &err) != 0
            || gw_http_check_header_value(h->value, h->value_len, &err)
               != 0) {
            return fail(px, HTTP_BAD_GATEWAY, "GW0417", apr_psprintf(r->pool,
                        "invalid header from the daemon: %s", err));
        }
        name = apr_pstrmemdup(r->pool, h->name, h->name_len);
        value = apr_pstrmemdup(r->pool, h->value, h->value_len);
        if (gw_http_is_hop_by_hop(h->name, h->name_len)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "GW0418: [%s] "
                          "dropped the hop-by-hop header '%s' sent by daemon "
                          "group '%s'", px->id, name, px->g->name);
        }
        else if (strcasecmp(name, "Content-Length") == 0) {
            long long cl;

            if (gw_http_parse_content_length(h->value, h->value_len, &cl,
                                             &err) != 0
                || (px->clen >= 0 && px->clen != cl)) {
                return fail(px, HTTP_BAD_GATEWAY, "GW0417", "an invalid "
                            "Content-Length from the daemon");
            }
            px->clen = (apr_off_t)cl;
        }
        else if (strcasecmp(name, "Content-Type") == 0) {
            ap_set_content_type(r, value);
        }
        else {
            apr_table_addn(r->headers_out, name, value);
        }
    }
    r->status = code;
    r->status_line = apr_pstrmemdup(r->pool, f->u.head.status,
                                    f->u.head.status_len);
    px->no_body = r->header_only || gw_http_status_has_no_body(code);
    if (px->clen >= 0 && code != HTTP_NO_CONTENT) {
        ap_set_content_length(r, px->clen);
    }
    px->head = 1;
    return OK;
}

/* Bytes past the daemon's Content-Length are dropped, and the connection
 * is not trusted again. */
static apr_size_t clamp(gw_px_t *px, apr_size_t len)
{
    if (px->clen >= 0 && (apr_off_t)len > px->clen - px->sent) {
        if (!px->surplus) {
            px->surplus = 1;
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, px->r, "GW0419: [%s] "
                          "daemon group '%s' sent more than its "
                          "Content-Length; the rest is dropped", px->id,
                          px->g->name);
        }
        return (apr_size_t)(px->clen - px->sent);
    }
    return len;
}

static int on_data(gw_px_t *px, const gw_wire_frame_t *f)
{
    apr_bucket_alloc_t *ba = px->r->connection->bucket_alloc;
    apr_size_t len;

    if (!px->head) {
        return fail(px, HTTP_BAD_GATEWAY, "GW0416", "body data before HEAD");
    }
    len = px->no_body ? 0 : clamp(px, f->u.chunk.len);
    if (len > 0) {
        /* The bytes live in the connection's read buffer, which is only
         * refilled once nothing is pending: pass before that. */
        APR_BRIGADE_INSERT_TAIL(px->out, apr_bucket_transient_create(
            f->u.chunk.data, len, ba));
        px->sent += (apr_off_t)len;
    }
    if (!gw_conn_pending(px->c) && !APR_BRIGADE_EMPTY(px->out)
        && pass(px, f->u.chunk.last) < 0) {
        px->reusable = 0;
        return DONE; /* the client is gone */
    }
    return OK;
}

static apr_status_t close_fd(void *data)
{
    close((int)(apr_uintptr_t)data);
    return APR_SUCCESS;
}

/* FILE: the daemon's fd, sent with sendfile from this child. Only a
 * regular file: reading a pipe or a socket the daemon holds the other end
 * of would block this thread with no deadline. */
static int on_file(gw_px_t *px, const gw_wire_frame_t *f, int fd)
{
    request_rec *r = px->r;
    apr_file_t *file = NULL;
    apr_os_file_t os = fd;
    apr_size_t len;
    struct stat st;

    if (fd < 0) {
        return fail(px, HTTP_BAD_GATEWAY, "GW0416", "a FILE frame without a "
                    "file descriptor");
    }
    apr_pool_cleanup_register(r->pool, (void *)(apr_uintptr_t)fd, close_fd,
                              apr_pool_cleanup_null);
    if (!px->head) {
        return fail(px, HTTP_BAD_GATEWAY, "GW0416", "a FILE frame before "
                    "HEAD");
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return fail(px, HTTP_BAD_GATEWAY, "GW0416", "a FILE frame whose "
                    "descriptor is not a regular file");
    }
    len = px->no_body ? 0 : clamp(px, (apr_size_t)f->u.file.length);
    if (len > 0) {
        apr_os_file_put(&file, &os, APR_FOPEN_READ
                        | APR_FOPEN_SENDFILE_ENABLED, r->pool);
        apr_brigade_insert_file(px->out, file, (apr_off_t)f->u.file.offset,
                                len, r->pool);
        px->sent += (apr_off_t)len;
    }
    return OK;
}

static int on_end(gw_px_t *px)
{
    conn_rec *c = px->r->connection;

    if (!px->head) {
        return fail(px, HTTP_BAD_GATEWAY, "GW0416", "END before HEAD");
    }
    if (!px->no_body && px->clen >= 0 && px->sent < px->clen) {
        /* Content-Length promised more: pass what came, then cut. */
        px->reusable = 0;
        if (!APR_BRIGADE_EMPTY(px->out)) {
            pass(px, 1);
        }
        return fail(px, HTTP_BAD_GATEWAY, "GW0420", apr_psprintf(px->r->pool,
                    "the response ended after %" APR_OFF_T_FMT " of %"
                    APR_OFF_T_FMT " Content-Length bytes", px->sent,
                    px->clen));
    }
    APR_BRIGADE_INSERT_TAIL(px->out, apr_bucket_eos_create(c->bucket_alloc));
    if (pass(px, 0) < 0) {
        px->reusable = 0;
    }
    return OK;
}

static int on_error(gw_px_t *px, const gw_wire_frame_t *f)
{
    request_rec *r = px->r;
    int status = gw_wire_error_status(f->u.error.code);
    const char *msg = ap_escape_logitem(r->pool, apr_pstrmemdup(r->pool,
                      f->u.error.message, f->u.error.message_len));

    px->reusable = !px->head;
    if (px->head && !APR_BRIGADE_EMPTY(px->out)) {
        pass(px, 1);
    }
    if (!px->passed && f->u.error.code == GW_WIRE_ERR_APP) {
        /* The app's failure is logged by the daemon with its traceback. */
        return status;
    }
    return fail(px, status, "GW0412", apr_psprintf(r->pool, "the daemon "
                "answered %d (%s)", status, msg));
}

/* Reads the daemon's answer to the request just sent. */
static int exchange(gw_px_t *px)
{
    gw_wire_frame_t f;
    apr_status_t rv;
    int fd, rc, st;

    for (;;) {
        fd = -1;
        rc = gw_conn_next(px->c, &f, &fd, px->timeout, &rv);
        if (rc == 0) {
            return fail(px, HTTP_BAD_GATEWAY, "GW0413", "the daemon closed "
                        "the connection before the response was complete");
        }
        if (rc < 0) {
            if (fd >= 0) {
                close(fd);
            }
            /* A reset before any answer means the daemon closed with our
             * REQUEST still unread in its queue (had it read the whole
             * frame and then died, its queue would be empty: a plain EOF),
             * and it runs nothing before the whole frame and asks for the
             * body only with a READ. So nothing ran: send it again. */
            if (rv == ECONNRESET && !px->got_frame) {
                return GW_RETRY;
            }
            if (rv == APR_TIMEUP) {
                return fail(px, HTTP_GATEWAY_TIME_OUT, "GW0414", "no answer "
                            "within socket-timeout");
            }
            return fail(px, HTTP_BAD_GATEWAY, "GW0415", apr_psprintf(
                        px->r->pool, "broken frame stream: %s",
                        px->c->error ? px->c->error : "read error"));
        }
        if (f.type == GW_WIRE_T_CLOSE && !px->got_frame) {
            return GW_RETRY;
        }
        px->got_frame = 1;
        switch (f.type) {
            case GW_WIRE_T_READ:
                st = on_read(px, f.u.read.want);
                break;
            case GW_WIRE_T_HEAD:
                st = on_head(px, &f);
                break;
            case GW_WIRE_T_DATA:
                st = on_data(px, &f);
                break;
            case GW_WIRE_T_FILE:
                st = on_file(px, &f, fd);
                break;
            case GW_WIRE_T_END:
                /* After surplus bytes the daemon is not trusted again. */
                px->reusable = !px->surplus;
                return on_end(px);
            case GW_WIRE_T_ERROR:
                return on_error(px, &f);
            default: /* CLOSE after the first frame, READY */
                return fail(px, HTTP_BAD_GATEWAY, "GW0416", apr_psprintf(
                            px->r->pool, "a %s frame in the middle of a "
                            "response", gw_wire_type_name(f.type)));
        }
        if (st != OK) {
            return st == DONE ? OK : st;
        }
    }
}

static int connect_and_send(gw_px_t *px, apr_array_header_t *env,
                            int *fresh)
{
    apr_status_t rv;

    px->c = gw_cpool_get(px->g);
    *fresh = px->c == NULL;
    if (px->c == NULL && (rv = dial(px->r, px->g, &px->c)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, px->r, "GW0410: [%s] cannot "
                      "connect to daemon group '%s' at %s within "
                      "connect-timeout", px->id, px->g->name,
                      px->g->socket_path);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if ((rv = send_request(px, env)) == APR_SUCCESS) {
        return OK;
    }
    gw_conn_destroy(px->c);
    px->c = NULL;
    if (rv == APR_EINVAL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, px->r, "GW0421: [%s] the "
                      "request's environ does not fit in a frame", px->id);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* A write that failed delivered no complete REQUEST, so nothing ran:
     * send it again on another connection (the daemon may have started
     * recycling right after it accepted this one), within connect-timeout
     * like every retry. */
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, px->r, "GW0424: [%s] cannot "
                  "send the request to daemon group '%s'%s; trying again",
                  px->id, px->g->name, *fresh ? " on a new connection" : "");
    return GW_RETRY;
}

/* Has the request a body (Content-Length over 0, or Transfer-Encoding)? */
static int has_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    return apr_table_get(r->headers_in, "Transfer-Encoding") != NULL
           || (cl != NULL && strcmp(cl, "0") != 0);
}

_Static_assert(GW_WIRE_BODY_WINDOW <= GW_CONN_BUF_BIG,
               "the body sent with a REQUEST fits in a big buffer");

/* The body bytes that have already arrived, up to GW_WIRE_BODY_WINDOW,
 * go behind the REQUEST unasked (gw_wire.h, READ): a body that came with
 * its request costs no READ round trip, and a 100 KiB upload none at all.
 * They are gathered in one of the process's big buffers, each socket read
 * freed as soon as it is copied: left in the client's buckets, up to 128
 * KiB per connection would stay in Apache's per-connection allocators
 * after the request. Not when the client waits for 100 Continue: whether
 * to read the body is the app's call. The REQUEST says so with
 * GW_BODY_KEY. */
static void read_early(gw_px_t *px, apr_array_header_t *env)
{
    request_rec *r = px->r;
    apr_status_t rv;
    apr_off_t got;
    gw_pair_t *p;

    if (r->expecting_100 || !has_body(r)) {
        return;
    }
    if ((px->early = gw_conn_big_take()) == NULL) {
        return;
    }
    while (!px->body_done && px->early_len < GW_WIRE_BODY_WINDOW) {
        rv = read_into(px, px->early, GW_WIRE_BODY_WINDOW, &px->early_len,
                       APR_NONBLOCK_READ, &got);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_EAGAIN(rv)) {
            px->in_error = rv; /* the first READ answers ABORT */
        }
        if (rv != APR_SUCCESS || got == 0) {
            break;
        }
    }
    if (px->early_len == 0) {
        gw_conn_big_give(px->early); /* nothing had arrived */
        px->early = NULL;
        return;
    }
    apr_pool_cleanup_register(r->pool, px->early, give_early,
                              apr_pool_cleanup_null);
    px->end_sent = px->body_done;
    p = apr_array_push(env);
    p->name = GW_BODY_KEY;
    p->name_len = sizeof(GW_BODY_KEY) - 1;
    p->value = "1";
    p->value_len = 1;
}

int gw_proxy_handle(request_rec *r, gw_group_t *g, apr_array_header_t *env,
                    const char *request_id)
{
    gw_px_t px;
    apr_time_t give_up;
    int attempt, fresh = 0, st = HTTP_SERVICE_UNAVAILABLE;

    memset(&px, 0, sizeof(px));
    px.r = r;
    px.g = g;
    px.id = request_id;
    px.timeout = g->socket_timeout > 0 ? g->socket_timeout : r->server->timeout;
    px.clen = -1;
    px.out = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    px.in = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    read_early(&px, env);
    give_up = apr_time_now() + g->connect_timeout;
    for (attempt = 0; attempt == 0 || apr_time_now() < give_up; attempt++) {
        st = connect_and_send(&px, env, &fresh);
        if (st == GW_RETRY) {
            continue;
        }
        if (st != OK) {
            return st;
        }
        st = exchange(&px);
        if (st != GW_RETRY) {
            break;
        }
        gw_conn_destroy(px.c);
        px.c = NULL;
    }
    if (st == GW_RETRY) {
        GW_LOG_R(APLOG_ERR, 0, r, "GW0422", "[%s] daemon group '%s' kept "
                 "closing connections (recycling?); giving up", request_id,
                 g->name);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (px.reusable) {
        gw_cpool_put(g, px.c);
    }
    else {
        gw_conn_destroy(px.c);
    }
    return st;
}
