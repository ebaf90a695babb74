/*
 * gw_embed.c -- embedded mode: the gw_io_t transport over Apache's
 * filters, and running a request in this child's interpreters.
 *
 * L1 (brigades, request_rec) + the entry into L2. Apache children only.
 * Transport functions run with the GIL released.
 */
#include "gw_embed.h"
#include "gw_log.h"
#include "gw_io.h"
#include "gw_python.h"
#include "gw_loader.h"
#include "gw_adapter.h"
#include "gw_pylog.h"
#include "gw_group.h"

#include "util_filter.h"
#include "apr_buckets.h"
#include <unistd.h>

typedef struct {
    request_rec *r;
    apr_bucket_brigade *out;
    apr_bucket_brigade *in;
    int body_done;
} gw_embed_t;

static server_rec *main_server;

/* ---- transport ----------------------------------------------------- */

static apr_status_t embed_read(gw_io_t *io, char *buf, apr_size_t *len)
{
    gw_embed_t *e = io->baton;
    apr_size_t want = *len;
    apr_status_t rv;

    *len = 0;
    while (!e->body_done && *len == 0) {
        /* Framing is Apache's (chunked, Content-Length, LimitRequestBody):
         * never re-derived here. */
        rv = ap_get_brigade(e->r->input_filters, e->in, AP_MODE_READBYTES,
                            APR_BLOCK_READ, want);
        if (rv != APR_SUCCESS) {
            apr_brigade_cleanup(e->in);
            return rv;
        }
        if (!APR_BRIGADE_EMPTY(e->in)
            && APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(e->in))) {
            e->body_done = 1;
        }
        *len = want;
        rv = apr_brigade_flatten(e->in, buf, len);
        apr_brigade_cleanup(e->in);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t embed_head(gw_io_t *io, const gw_head_t *head)
{
    gw_embed_t *e = io->baton;
    request_rec *r = e->r;
    const gw_pair_t *h = (const gw_pair_t *)head->headers->elts;
    int i;

    r->status = head->status;
    r->status_line = head->status_line;
    for (i = 0; i < head->headers->nelts; i++) {
        if (strcasecmp(h[i].name, "Content-Type") == 0) {
            ap_set_content_type(r, h[i].value);
        }
        else if (strcasecmp(h[i].name, "Content-Length") != 0) {
            apr_table_addn(r->headers_out, h[i].name, h[i].value);
        }
    }
    if (head->content_length >= 0 && head->status != HTTP_NO_CONTENT) {
        ap_set_content_length(r, head->content_length);
    }
    return APR_SUCCESS;
}

static apr_status_t pass(gw_embed_t *e)
{
    apr_status_t rv = ap_pass_brigade(e->r->output_filters, e->out);

    apr_brigade_cleanup(e->out);
    if (rv == APR_SUCCESS && e->r->connection->aborted) {
        rv = APR_ECONNABORTED;
    }
    return rv;
}

static apr_status_t embed_write(gw_io_t *io, const char *buf, apr_size_t len,
                                int flush)
{
    gw_embed_t *e = io->baton;
    apr_bucket_alloc_t *ba = e->r->connection->bucket_alloc;

    if (!flush) {
        /* Coalesces small writes into 8 KiB heap buckets and passes the
         * brigade on when full; large writes go out as they are. */
        return apr_brigade_write(e->out, ap_filter_flush,
                                 e->r->output_filters, buf, len);
    }
    APR_BRIGADE_INSERT_TAIL(e->out, apr_bucket_transient_create(buf, len, ba));
    APR_BRIGADE_INSERT_TAIL(e->out, apr_bucket_flush_create(ba));
    return pass(e);
}

static apr_status_t close_fd(void *data)
{
    close((int)(apr_uintptr_t)data);
    return APR_SUCCESS;
}

/* The fd is dup()ed into the request pool: the app may close its file as
 * soon as it returns, while the file bucket is written later (the request
 * pool lives until the EOR bucket behind it is written). */
static apr_status_t embed_sendfile(gw_io_t *io, int fd, apr_off_t offset,
                                   apr_off_t len)
{
    gw_embed_t *e = io->baton;
    apr_pool_t *p = e->r->pool;
    apr_file_t *f = NULL;
    apr_os_file_t dupfd = dup(fd);

    if (dupfd < 0) {
        return APR_ENOTIMPL;
    }
    apr_pool_cleanup_register(p, (void *)(apr_uintptr_t)dupfd, close_fd,
                              apr_pool_cleanup_null);
    apr_os_file_put(&f, &dupfd, APR_FOPEN_READ | APR_FOPEN_SENDFILE_ENABLED,
                    p);
    apr_brigade_insert_file(e->out, f, offset, len, p);
    return APR_SUCCESS;
}

/* ok: EOS. Not ok: an error bucket first, which makes the chunk filter
 * leave out the last chunk and the connection close, as mod_proxy does for
 * a backend that broke mid-response. */
static apr_status_t embed_finish(gw_io_t *io, int ok)
{
    gw_embed_t *e = io->baton;
    conn_rec *c = e->r->connection;

    if (!ok) {
        /* Buffered bytes (a list result) go out first: an error bucket
         * ahead of any data would become a 502 page instead of a
         * truncation. */
        if (!APR_BRIGADE_EMPTY(e->out)) {
            APR_BRIGADE_INSERT_TAIL(e->out, apr_bucket_flush_create(
                c->bucket_alloc));
            pass(e);
        }
        e->r->no_cache = 1;
        c->keepalive = AP_CONN_CLOSE;
        APR_BRIGADE_INSERT_TAIL(e->out, ap_bucket_error_create(
            HTTP_BAD_GATEWAY, NULL, e->r->pool, c->bucket_alloc));
    }
    APR_BRIGADE_INSERT_TAIL(e->out, apr_bucket_eos_create(c->bucket_alloc));
    return pass(e);
}

static void embed_log(gw_io_t *io, int level, const char *msg)
{
    gw_embed_t *e = io->baton;

    ap_log_rerror(APLOG_MARK, level, 0, e->r, "%s", msg);
}

/* The head only fills in request_rec; everything else may reach the
 * network through the filters. */
static int embed_quick(gw_io_t *io, gw_io_op_t op, const gw_head_t *head,
                       apr_size_t len, int flush)
{
    return op == GW_IO_HEAD;
}

static const gw_io_ops_t embed_ops = {
    embed_read, embed_head, embed_write, embed_sendfile, embed_finish,
    embed_log, embed_quick,
};

/* ---- the child ----------------------------------------------------- */

/* Output that belongs to no request. GIL: not held. */
static void server_log(int level, const char *msg)
{
    ap_log_error(APLOG_MARK, level, 0, main_server, "%s", msg);
}

static int mpm_query(int what)
{
    int v = 0;

    ap_mpm_query(what, &v);
    return v;
}

static int is_threaded(void)
{
    return mpm_query(AP_MPMQ_IS_THREADED) != AP_MPMQ_NOT_SUPPORTED;
}

static int is_multiprocess(void)
{
    return mpm_query(AP_MPMQ_MAX_DAEMONS) > 1;
}

void gw_embed_child_init(apr_pool_t *pchild, server_rec *s)
{
    gw_server_conf_t *sc = gw_config_server(s);
    gw_python_config_t cfg;

    main_server = s;
    if (sc->restrict_embedded == 1) {
        return;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.python_home = sc->python_home;
    cfg.python_path = sc->python_path;
    cfg.multithread = is_threaded();
    cfg.multiprocess = is_multiprocess();
    cfg.log = server_log;
    cfg.log_level = ap_get_server_module_loglevel(s, APLOG_MODULE_INDEX);
    if (gw_python_init(pchild, &cfg) == APR_SUCCESS) {
        apr_array_header_t *list = gw_group_preloads(pchild, s, "");
        int i;

        GW_LOG_S(APLOG_DEBUG, 0, s, "GW0002", "Python %s started in child "
                 "%" APR_PID_T_FMT " for embedded applications",
                 Py_GetVersion(), getpid());
        for (i = 0; i < list->nelts; i++) {
            gw_import_t *im = &APR_ARRAY_IDX(list, i, gw_import_t);

            gw_loader_preload(im->script, im->application_group);
        }
    }
}

int gw_embed_handle(request_rec *r, const gw_effective_t *eff,
                    apr_array_header_t *env, const char *request_id)
{
    gw_embed_t e = { r, NULL, NULL, 0 };
    gw_io_t io = { &embed_ops, r->pool, request_id, &e };
    gw_request_info_t info;
    gw_interp_t *interp;
    const char *err = NULL;
    PyObject *app;
    gw_adapter_rc_t rc;

    e.out = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    e.in = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    interp = gw_python_acquire(eff->application_group, &err);
    if (interp == NULL) {
        GW_LOG_R(APLOG_ERR, 0, r, "GW0103", "[%s] cannot create the Python "
                 "interpreter '%s': %s", request_id, eff->application_group,
                 err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    gw_pylog_set_current(&io);
    app = gw_loader_app(interp, r->filename, r->finfo.mtime,
                        eff->script_reloading, eff->callable_object);
    if (app == NULL) {
        gw_loader_log_error(&io, r->filename, eff->application_group);
        gw_pylog_set_current(NULL);
        gw_python_release(interp);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    info.multithread = gw_python_config()->multithread;
    info.multiprocess = gw_python_config()->multiprocess;
    info.header_only = r->header_only;
    rc = gw_adapter_run(interp, app, &io, env, &info);
    Py_DECREF(app);
    gw_python_release(interp);
    return rc == GW_ADAPTER_FAILED ? HTTP_INTERNAL_SERVER_ERROR : OK;
}
