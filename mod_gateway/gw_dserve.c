/*
 * gw_dserve.c -- one request on a daemon connection: the daemon's side of
 * the wire and its gw_io_t transport for the PEP 3333 adapter.
 *
 * Runs only in daemon processes, in worker threads. Transport functions run
 * with the GIL released. Small frames (HEAD, small DATA, END) are gathered
 * in one buffer and leave in one write: a "hello" response is one syscall.
 */
#include "gw_dserve.h"
#include "gw_log.h"
#include "gw_io.h"
#include "gw_python.h"
#include "gw_loader.h"
#include "gw_adapter.h"
#include "gw_pylog.h"

#include <poll.h>
#include <sys/stat.h>

/* Response bytes gathered before a write: HEAD + DATA + END of a typical
 * page fit, so most responses cost one syscall. */
#define GW_DSERVE_OUT 65536

typedef struct {
    gw_dserve_ctx_t *ctx;
    server_rec *server;     /* the request's vhost, for its ErrorLog */
    gw_conn_t *conn;
    const char *prefix;     /* body bytes that came with REQUEST */
    apr_size_t prefix_len;
    const char *chunk;      /* body bytes of a BODY frame, in the conn's */
    apr_size_t chunk_len;   /* buffer, not yet given to the app */
    apr_size_t allowed;     /* what the READ being answered still allows */
    int answering;          /* a READ's answer is not all read yet */
    int in_frame;           /* a BODY frame has chunks still to come */
    int body_done;
    int broken;             /* the connection cannot be reused */
    char *out;
    apr_size_t out_len;
} gw_dreq_t;

/* ---- output -------------------------------------------------------- */

static apr_status_t send_out(gw_dreq_t *q, const char *extra,
                             apr_size_t extra_len)
{
    struct iovec iov[2];
    int n = 0;
    apr_status_t rv;

    if (q->out_len) {
        iov[n].iov_base = q->out;
        iov[n++].iov_len = q->out_len;
    }
    if (extra_len) {
        iov[n].iov_base = (void *)extra;
        iov[n++].iov_len = extra_len;
    }
    if (n == 0) {
        return APR_SUCCESS;
    }
    rv = gw_conn_writev(q->conn, iov, n, q->ctx->socket_timeout);
    q->out_len = 0;
    if (rv != APR_SUCCESS) {
        q->broken = 1;
    }
    return rv;
}

/* Room for len more bytes in the gather buffer, writing it out first if
 * needed. */
static apr_status_t room(gw_dreq_t *q, apr_size_t len)
{
    if (q->out_len + len > GW_DSERVE_OUT) {
        return send_out(q, NULL, 0);
    }
    return APR_SUCCESS;
}

static apr_status_t put_frame_header(gw_dreq_t *q, int type, apr_size_t len)
{
    apr_status_t rv = room(q, GW_WIRE_HEADER_LEN);

    if (rv == APR_SUCCESS) {
        gw_wire_encode_header(q->out + q->out_len, type, len, NULL, NULL);
        q->out_len += GW_WIRE_HEADER_LEN;
    }
    return rv;
}

static apr_status_t put_error(gw_dreq_t *q, uint32_t code, const char *msg)
{
    size_t len = strlen(msg), w = 0;
    apr_status_t rv = room(q, GW_WIRE_HEADER_LEN + 4 + len);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (gw_wire_encode_error(q->out + q->out_len, GW_DSERVE_OUT - q->out_len,
                             code, msg, len, NULL, &w, NULL) == 0) {
        q->out_len += w;
    }
    return send_out(q, NULL, 0);
}

/* ---- the transport ------------------------------------------------- */

/* The next piece of a READ's answer: a chunk of a BODY frame, left in
 * q->chunk (it points into the connection's read buffer, valid until the
 * next gw_conn_next()), or BODY_END. A BODY that ends the body comes with
 * BODY_END behind it, unasked: that is taken at once, so the app's next
 * read needs no READ (if it is not here yet, it answers the next READ). */
static apr_status_t next_chunk(gw_dreq_t *q)
{
    gw_wire_frame_t f;
    apr_status_t rv;
    int fd = -1, rc;

    rc = gw_conn_next(q->conn, &f, &fd, q->ctx->socket_timeout, &rv);
    if (rc <= 0) {
        q->broken = 1;
        return rc == 0 ? APR_EOF : rv;
    }
    if (f.type == GW_WIRE_T_BODY_END && !q->in_frame) {
        q->body_done = 1;
        q->answering = 0;
        return APR_SUCCESS;
    }
    if (f.type != GW_WIRE_T_BODY || f.u.chunk.len > q->allowed) {
        /* ABORT (the client went away) or a protocol error. */
        q->broken = 1;
        return f.type == GW_WIRE_T_ABORT ? APR_ECONNABORTED : APR_EGENERAL;
    }
    q->chunk = f.u.chunk.data;
    q->chunk_len = f.u.chunk.len;
    q->allowed -= f.u.chunk.len;
    q->in_frame = !f.u.chunk.last;
    if (f.u.chunk.last) {
        q->answering = 0;
        if (gw_conn_buffered_type(q->conn) == GW_WIRE_T_BODY_END) {
            /* q->chunk stays valid: a frame already buffered is decoded
             * without a read. */
            if (gw_conn_next(q->conn, &f, &fd, 0, &rv) != 1) {
                q->broken = 1; /* a BODY_END with a payload */
                return APR_EGENERAL;
            }
            q->body_done = 1;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t dio_read(gw_io_t *io, char *buf, apr_size_t *len)
{
    gw_dreq_t *q = io->baton;
    apr_size_t want = *len;
    char hdr[GW_WIRE_HEADER_LEN + GW_WIRE_READ_LEN];
    size_t w;
    apr_status_t rv;

    *len = 0;
    if (q->prefix_len) {
        *len = want < q->prefix_len ? want : q->prefix_len;
        memcpy(buf, q->prefix, *len);
        q->prefix += *len;
        q->prefix_len -= *len;
        return APR_SUCCESS;
    }
    if (want == 0) {
        return APR_SUCCESS;
    }
    for (;;) {
        if (q->chunk_len) {
            *len = want < q->chunk_len ? want : q->chunk_len;
            memcpy(buf, q->chunk, *len);
            q->chunk += *len;
            q->chunk_len -= *len;
            return APR_SUCCESS;
        }
        if (q->answering) {
            if ((rv = next_chunk(q)) != APR_SUCCESS) {
                return rv;
            }
            continue;
        }
        if (q->body_done) {
            return APR_SUCCESS;
        }
        if (want > GW_WIRE_CAP_BODY) {
            want = GW_WIRE_CAP_BODY;
        }
        /* Buffered response bytes go first: the child handles frames in
         * order, and a READ must not wait behind our own buffer. */
        gw_wire_encode_read(hdr, sizeof(hdr), (uint32_t)want, &w, NULL);
        if ((rv = send_out(q, hdr, w)) != APR_SUCCESS) {
            return rv;
        }
        q->answering = 1;
        q->allowed = want;
    }
}

/* Before the connection carries another REQUEST: the rest of a READ's
 * answer the app did not read (the one sent unasked behind the REQUEST,
 * when the app never read the body) is read and dropped. */
static void drain_answer(gw_dreq_t *q)
{
    while (!q->broken && (q->answering || q->in_frame)) {
        q->chunk_len = 0;
        if (next_chunk(q) != APR_SUCCESS) {
            q->broken = 1;
        }
    }
}

static apr_status_t dio_head(gw_io_t *io, const gw_head_t *head)
{
    gw_dreq_t *q = io->baton;
    const gw_pair_t *h = (const gw_pair_t *)head->headers->elts;
    size_t n = (size_t)head->headers->nelts, w = 0;
    size_t slen = strlen(head->status_line);
    size_t need = gw_wire_head_size(slen, h, n);
    apr_status_t rv;
    char *buf;

    if (need == 0) {
        return APR_EGENERAL;
    }
    if (need > GW_DSERVE_OUT) {
        /* A head larger than the gather buffer goes out on its own. */
        buf = apr_palloc(io->pool, need);
        if (gw_wire_encode_head(buf, need, head->status_line, slen, h, n,
                                NULL, &w, NULL) != 0) {
            return APR_EGENERAL;
        }
        return send_out(q, buf, w);
    }
    if ((rv = room(q, need)) != APR_SUCCESS) {
        return rv;
    }
    if (gw_wire_encode_head(q->out + q->out_len, need, head->status_line,
                            slen, h, n, NULL, &w, NULL) != 0) {
        return APR_EGENERAL;
    }
    q->out_len += w;
    return APR_SUCCESS;
}

static apr_status_t dio_write(gw_io_t *io, const char *buf, apr_size_t len,
                              int flush)
{
    gw_dreq_t *q = io->baton;
    apr_status_t rv = APR_SUCCESS;

    while (len > 0 && rv == APR_SUCCESS) {
        apr_size_t n = len > GW_WIRE_CAP_DATA ? GW_WIRE_CAP_DATA : len;

        if ((rv = put_frame_header(q, GW_WIRE_T_DATA, n)) != APR_SUCCESS) {
            break;
        }
        if (q->out_len + n <= GW_DSERVE_OUT) {
            memcpy(q->out + q->out_len, buf, n);
            q->out_len += n;
        }
        else {
            /* Large blocks are not copied: header and bytes in one
             * writev. */
            rv = send_out(q, buf, n);
        }
        buf += n;
        len -= n;
    }
    if (rv == APR_SUCCESS && flush) {
        rv = send_out(q, NULL, 0);
    }
    return rv;
}

static apr_status_t dio_sendfile(gw_io_t *io, int fd, apr_off_t offset,
                                 apr_off_t len)
{
    gw_dreq_t *q = io->baton;
    char frame[GW_WIRE_HEADER_LEN + GW_WIRE_FILE_LEN];
    size_t w;
    apr_status_t rv;

    if (gw_wire_encode_file(frame, sizeof(frame), (uint64_t)offset,
                            (uint64_t)len, &w, NULL) != 0) {
        return APR_ENOTIMPL;
    }
    if ((rv = send_out(q, NULL, 0)) != APR_SUCCESS) {
        return rv;
    }
    rv = gw_conn_send_fd(q->conn, frame, w, fd, q->ctx->socket_timeout);
    if (rv != APR_SUCCESS) {
        q->broken = 1;
    }
    return rv;
}

static apr_status_t dio_finish(gw_io_t *io, int ok)
{
    gw_dreq_t *q = io->baton;
    apr_status_t rv;

    if (!ok) {
        /* After HEAD, ERROR means "abort": the child truncates. */
        return put_error(q, GW_WIRE_ERR_APP, "the response was aborted");
    }
    if ((rv = put_frame_header(q, GW_WIRE_T_END, 0)) != APR_SUCCESS) {
        return rv;
    }
    return send_out(q, NULL, 0);
}

static void dio_log(gw_io_t *io, int level, const char *msg)
{
    gw_dreq_t *q = io->baton;

    ap_log_error(APLOG_MARK, level, 0, q->server, "%s", msg);
}

/* What completes in the gather buffer or from bytes already here: the
 * conditions under which dio_read, dio_head and dio_write make no
 * syscall. */
static int dio_quick(gw_io_t *io, gw_io_op_t op, const gw_head_t *head,
                     apr_size_t len, int flush)
{
    gw_dreq_t *q = io->baton;
    size_t need;

    switch (op) {
        case GW_IO_READ:
            if (q->prefix_len > 0 || q->chunk_len > 0 || len == 0
                || (q->body_done && !q->answering)) {
                return 1;
            }
            /* Body bytes the child already sent (with the REQUEST, or in
             * answer to a READ): taken without letting the GIL go, when
             * enough has arrived for next_chunk() not to wait: a payload
             * byte inside a BODY frame, a BODY header and a byte of it, or
             * a whole BODY_END or ABORT. */
            if (q->answering || q->in_frame) {
                size_t have = gw_conn_fill_nowait(q->conn);
                int type;

                if (q->in_frame) {
                    return have > 0;
                }
                type = gw_conn_buffered_type(q->conn);
                return (type == GW_WIRE_T_BODY && have > GW_WIRE_HEADER_LEN)
                       || type == GW_WIRE_T_BODY_END
                       || type == GW_WIRE_T_ABORT;
            }
            return 0;
        case GW_IO_HEAD:
            need = gw_wire_head_size(strlen(head->status_line),
                                     (const gw_pair_t *)head->headers->elts,
                                     (size_t)head->headers->nelts);
            return need != 0 && q->out_len + need <= GW_DSERVE_OUT;
        case GW_IO_WRITE:
            return !flush && len <= GW_WIRE_CAP_DATA
                   && q->out_len + GW_WIRE_HEADER_LEN + len <= GW_DSERVE_OUT;
        case GW_IO_FINISH:
            /* END and what is gathered go out in one write, which cannot
             * wait while the send buffer has room for them (twice over,
             * and a page, for the kernel's own overhead per buffer) */
            need = q->out_len + GW_WIRE_HEADER_LEN;
            return need <= GW_DSERVE_OUT
                   && gw_conn_send_room(q->conn) >= 2 * need + 4096;
    }
    return 0;
}

static const gw_io_ops_t dio_ops = {
    dio_read, dio_head, dio_write, dio_sendfile, dio_finish, dio_log,
    dio_quick,
};

/* ---- one request --------------------------------------------------- */

typedef struct {
    apr_array_header_t *env; /* gw_pair_t, NUL-terminated copies */
    const char *script;
    const char *app_group;
    const char *callable;
    const char *request_id;
    int reload;
    int header_only;
} gw_dreq_env_t;

/* The vhost a child names, if this group may serve it (else the group's
 * own): a request cannot steer log lines into another tenant's ErrorLog. */
static server_rec *vhost(gw_dreq_t *q, const char *index)
{
    server_rec *s = q->ctx->main_server;
    long n = atol(index);

    for (; s && n > 0; s = s->next, n--) {
    }
    return s && gw_group_visible(q->ctx->group, s) ? s : q->ctx->server;
}

/* p's value if its name is the literal key (the length is compared
 * first: most names differ in it). */
#define env_value(p, key) \
    ((p)->name_len == sizeof(key) - 1 \
     && memcmp((p)->name, key, sizeof(key) - 1) == 0 ? (p)->value : NULL)

/* Copies the REQUEST frame's pairs and body prefix into the pool (frame
 * memory lasts only until the next read) and picks out what the daemon
 * needs to find the app. */
static int take_request(apr_pool_t *pool, const gw_wire_frame_t *f,
                        gw_dreq_env_t *e, gw_dreq_t *q)
{
    size_t i;

    memset(e, 0, sizeof(*e));
    e->env = apr_array_make(pool, (int)f->u.request.npairs, sizeof(gw_pair_t));
    for (i = 0; i < f->u.request.npairs; i++) {
        const gw_wire_pair_t *src = &f->u.request.pairs[i];
        gw_pair_t *p;
        const char *v;

        if (src->name_len == sizeof(GW_VHOST_KEY) - 1
            && memcmp(src->name, GW_VHOST_KEY, src->name_len) == 0) {
            q->server = vhost(q, apr_pstrmemdup(pool, src->value,
                                                src->value_len));
            continue;
        }
        if (src->name_len == sizeof(GW_BODY_KEY) - 1
            && memcmp(src->name, GW_BODY_KEY, src->name_len) == 0) {
            /* the answer to a READ nobody sent follows the REQUEST */
            q->answering = 1;
            q->allowed = GW_WIRE_BODY_WINDOW;
            continue;
        }
        p = apr_array_push(e->env);
        p->name = apr_pstrmemdup(pool, src->name, src->name_len);
        p->name_len = src->name_len;
        p->value = apr_pstrmemdup(pool, src->value, src->value_len);
        p->value_len = src->value_len;
        if ((v = env_value(p, "SCRIPT_FILENAME")) != NULL) {
            e->script = v;
        }
        else if ((v = env_value(p, "mod_gateway.application_group"))) {
            e->app_group = v;
        }
        else if ((v = env_value(p, "mod_gateway.callable_object"))) {
            e->callable = v;
        }
        else if ((v = env_value(p, "mod_gateway.request_id"))) {
            e->request_id = v;
        }
        else if ((v = env_value(p, "mod_gateway.script_reloading"))) {
            e->reload = strcmp(v, "1") == 0;
        }
        else if ((v = env_value(p, "REQUEST_METHOD"))) {
            e->header_only = strcmp(v, "HEAD") == 0;
        }
    }
    q->prefix = apr_pmemdup(pool, f->u.request.body, f->u.request.body_len);
    q->prefix_len = f->u.request.body_len;
    return e->script && e->app_group && e->callable ? 0 : -1;
}

/* Reads HELLO (once per connection) and the REQUEST. 1: got it; 0: the
 * child closed an idle connection; -1: protocol error (logged). */
static int read_request(gw_dserve_ctx_t *ctx, gw_dconn_t *dc,
                        apr_pool_t *pool, gw_dreq_env_t *e, gw_dreq_t *q)
{
    gw_wire_frame_t f;
    apr_status_t rv;
    int fd = -1, rc;

    for (;;) {
        rc = gw_conn_next(dc->conn, &f, &fd, ctx->socket_timeout, &rv);
        if (rc <= 0) {
            return rc;
        }
        if (!dc->authenticated) {
            if (f.type != GW_WIRE_T_HELLO
                || !gw_wire_secret_eq(f.u.hello.secret, ctx->group->secret,
                                      GW_SECRET_LEN)) {
                GW_LOG_S(APLOG_ERR, 0, ctx->server, "GW0303", "daemon "
                         "group '%s': a connection did not present the "
                         "group's secret; closed", ctx->group->name);
                return -1;
            }
            dc->authenticated = 1;
            continue;
        }
        if (f.type == GW_WIRE_T_BODY_END) {
            /* Sent unasked after the last BODY of a request whose app did
             * not read to the end: nothing is waiting for it. */
            continue;
        }
        if (f.type != GW_WIRE_T_REQUEST || take_request(pool, &f, e, q) < 0) {
            GW_LOG_S(APLOG_ERR, 0, ctx->server, "GW0304", "daemon group "
                     "'%s': %s; closed", ctx->group->name,
                     f.type != GW_WIRE_T_REQUEST
                     ? apr_psprintf(pool, "expected a REQUEST frame, got %s",
                                    gw_wire_type_name(f.type))
                     : "a REQUEST without SCRIPT_FILENAME or the "
                       "application group");
            return -1;
        }
        return 1;
    }
}

/* run_app: the script changed and the request was not run. */
#define RUN_RELOAD (-1)

static int run_app(gw_dserve_ctx_t *ctx, gw_dreq_env_t *e, gw_io_t *io)
{
    const gw_python_config_t *pc = gw_python_config();
    gw_request_info_t info = { pc->multithread, pc->multiprocess,
                               e->header_only };
    const char *err = NULL;
    gw_interp_t *interp = gw_python_request_acquire(&ctx->py, e->app_group,
                                                    &err);
    struct stat st;
    apr_time_t mtime = 0;
    PyObject *app;
    int rc;

    if (interp == NULL) {
        GW_LOG_S(APLOG_ERR, 0, ctx->server, "GW0103", "[%s] cannot create "
                 "the Python interpreter '%s': %s", io->request_id,
                 e->app_group, err);
        return GW_ADAPTER_FAILED;
    }
    if (stat(e->script, &st) == 0) {
        mtime = apr_time_from_sec(st.st_mtime)
            + st.st_mtim.tv_nsec / 1000;
    }
    /* A changed script restarts the whole process, so every module it
     * imported is fresh too (as in mod_wsgi); this request has not run,
     * and goes to the next process. */
    if (e->reload && gw_loader_changed(interp, e->script, mtime)) {
        gw_python_request_release(&ctx->py);
        return RUN_RELOAD;
    }
    gw_pylog_set_current(io);
    app = gw_loader_app(interp, e->script, mtime, e->reload, e->callable);
    if (app == NULL) {
        gw_loader_log_error(io, e->script, e->app_group);
        gw_pylog_set_current(NULL);
        gw_python_request_release(&ctx->py);
        return GW_ADAPTER_FAILED;
    }
    gw_python_request_begin(&ctx->py);
    rc = gw_adapter_run(interp, app, io, e->env, &info);
    gw_python_request_end(&ctx->py);
    Py_DECREF(app);
    gw_python_request_release(&ctx->py);
    return rc;
}

/* 1 if the child has shut its end of the connection. */
static int peer_gone(int fd)
{
    struct pollfd pfd = { fd, POLLRDHUP, 0 };

    return poll(&pfd, 1, 0) > 0
           && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

gw_dserve_rc_t gw_dserve_one(gw_dserve_ctx_t *ctx, gw_dconn_t *dc,
                             apr_pool_t *pool, int reject)
{
    gw_dreq_t q;
    gw_io_t io = { &dio_ops, pool, "-", &q };
    gw_dreq_env_t e;
    int rc;

    memset(&q, 0, sizeof(q));
    q.ctx = ctx;
    q.server = ctx->server;
    q.conn = dc->conn;
    q.out = apr_palloc(pool, GW_DSERVE_OUT);
    rc = read_request(ctx, dc, pool, &e, &q);
    if (rc <= 0) {
        return rc == 0 ? GW_DSERVE_GONE : GW_DSERVE_CLOSE;
    }
    io.request_id = e.request_id ? e.request_id : "-";
    if (peer_gone(dc->conn->fd)) {
        /* The child gave up (socket-timeout: it answered 504) while this
         * request waited: running it now would be invisible to anyone
         * and could repeat a POST the client retries. */
        GW_LOG_S(APLOG_INFO, 0, ctx->server, "GW0328", "[%s] daemon '%s': "
                 "the Apache child stopped waiting before the request could "
                 "run; not running it", io.request_id, ctx->group->name);
        return GW_DSERVE_CLOSE;
    }
    if (reject) {
        put_error(&q, (uint32_t)reject, "the request waited past "
                  "queue-timeout for a free thread");
        drain_answer(&q);
        return q.broken ? GW_DSERVE_CLOSE : GW_DSERVE_KEEP;
    }
    ctx->timed_out = 0;
    ctx->conn = dc->conn;
    rc = run_app(ctx, &e, &io);
    ctx->conn = NULL;
    if (rc == RUN_RELOAD) {
        GW_LOG_S(APLOG_INFO, 0, ctx->server, "GW0327", "[%s] daemon '%s': "
                 "the WSGI script '%s' changed; restarting the process and "
                 "handing the request to the next one", io.request_id,
                 ctx->group->name, e.script);
        return GW_DSERVE_RELOAD;
    }
    if (rc == GW_ADAPTER_FAILED) {
        put_error(&q, ctx->timed_out ? GW_WIRE_ERR_TIMEOUT : GW_WIRE_ERR_APP,
                  ctx->timed_out ? "request-timeout" : "application error");
    }
    drain_answer(&q);
    return q.broken ? GW_DSERVE_CLOSE : GW_DSERVE_KEEP;
}

void gw_dserve_timeout(gw_dserve_ctx_t *ctx)
{
    static const char msg[] = "request-timeout";
    char frame[GW_WIRE_HEADER_LEN + 4 + sizeof(msg)];
    struct iovec iov;
    size_t w = 0;
    gw_conn_t *c = ctx->conn;

    if (c && gw_wire_encode_error(frame, sizeof(frame), GW_WIRE_ERR_TIMEOUT,
                                  msg, sizeof(msg) - 1, NULL, &w,
                                  NULL) == 0) {
        iov.iov_base = frame;
        iov.iov_len = w;
        gw_conn_writev(c, &iov, 1, apr_time_from_sec(1));
    }
}
