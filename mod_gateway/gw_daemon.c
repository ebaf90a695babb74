/*
 * gw_daemon.c -- a daemon process: set-up, the I/O thread, the worker pool
 * and shutdown.
 *
 * Runs only in daemon processes. Order at start-up matters (DESIGN.md §3):
 * close what belongs to others, drop privileges, and only THEN start
 * Python. The main thread becomes the I/O thread: one epoll set watches the
 * group's listening socket and every idle connection, and hands a
 * connection with a request waiting to the worker threads through a FIFO,
 * so `threads` requests run at once however many Apache threads hold
 * connections.
 */
#include "gw_daemon.h"
#include "gw_dserve.h"
#include "gw_dwatch.h"
#include "gw_log.h"
#include "gw_privs.h"
#include "gw_pyapi.h"
#include "gw_config.h"
#include "gw_pm.h"

#include "ap_listen.h"
#include "unixd.h"
#include "apr_thread_proc.h"
#include "apr_thread_cond.h"
#include "apr_atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct gw_queue_item {
    gw_dconn_t *dc;
    gw_queue_item_t *next;
};

static gw_daemon_t d;
static char marker_listen, marker_wake;

/* ---- signals ------------------------------------------------------- */

static void on_stop_signal(int sig)
{
    int saved = errno;
    char c = 's';

    d.stop_reason = GW_STOP_SIGNAL;
    if (write(d.wake[1], &c, 1) < 0) {
        /* the pipe is full: a wake-up is already pending */
    }
    errno = saved;
}

/* shutdown-timeout ran out (atexit handlers still running): end as a
 * recycle, not as a crash. Only async-signal-safe calls here. */
static void on_shutdown_timeout(int sig)
{
    static const char msg[] = "GW0330: shutdown-timeout reached while "
                              "stopping; exiting now\n";

    if (write(2, msg, sizeof(msg) - 1) < 0) {
        /* nothing more can be done */
    }
    _exit(GW_DAEMON_EXIT_RECYCLE);
}

static void set_signals(void)
{
    struct sigaction sa;
    sigset_t all;
    static const int stops[] = GW_STOP_SIGNALS;
    size_t i;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < sizeof(stops) / sizeof(*stops); i++) {
        sigaction(stops[i], &sa, NULL);
    }
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = on_shutdown_timeout;
    sigaction(SIGALRM, &sa, NULL);
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
}

void gw_daemon_wake(void)
{
    char c = 'w';

    if (write(d.wake[1], &c, 1) < 0) {
        /* already pending */
    }
}

void gw_daemon_stop(gw_stop_reason_t why)
{
    if (d.stop_reason == GW_STOP_NONE) {
        d.stop_reason = why;
    }
    gw_daemon_wake();
}

gw_daemon_t *gw_daemon_state(void)
{
    return &d;
}

/* ---- what this process must not keep ------------------------------ */

static int is_log_fd(server_rec *s, int fd)
{
    apr_os_file_t os;

    for (; s; s = s->next) {
        if (s->error_log && apr_os_file_get(&os, s->error_log) == APR_SUCCESS
            && os == fd) {
            return 1;
        }
    }
    return 0;
}

/* Closes every inherited fd but stdio, the group's socket and the error
 * logs: Apache's listeners, other groups' sockets, the MPM's pipes. A group
 * defined in a vhost keeps only that vhost's log: every other log fd is
 * pointed at it, so a tenant cannot write into another tenant's ErrorLog.
 * A group of the main server serves every vhost and keeps their logs. */
static void close_inherited(gw_group_t *g, server_rec *main_server)
{
    apr_os_file_t mine = 2;
    DIR *dir;
    struct dirent *e;
    server_rec *s;

    if (g->server->error_log) {
        apr_os_file_get(&mine, g->server->error_log);
    }
    for (s = main_server; s; s = s->next) {
        apr_os_file_t os;

        if (!g->server->is_virtual) {
            break;
        }
        if (s->error_log && apr_os_file_get(&os, s->error_log) == APR_SUCCESS
            && os != mine) {
            dup2(mine, os);
        }
    }
    dup2(mine, 2);
    ap_close_listeners();
    if ((dir = opendir("/proc/self/fd")) == NULL) {
        return;
    }
    while ((e = readdir(dir)) != NULL) {
        int fd = atoi(e->d_name);

        if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(dir)
            || fd == g->listen_fd || is_log_fd(main_server, fd)) {
            continue;
        }
        close(fd);
    }
    closedir(dir);
}

/* Other groups' secrets are forgotten after fork (RELIABILITY.md). */
static void forget_others(gw_group_t *g)
{
    apr_array_header_t *all = gw_group_list();
    int i;

    for (i = 0; i < all->nelts; i++) {
        gw_group_t *o = APR_ARRAY_IDX(all, i, gw_group_t *);

        if (o != g) {
            memset(o->secret, 0, sizeof(o->secret));
            o->listen_fd = -1;
        }
    }
}

/* ---- the queue between the I/O thread and the workers -------------- */

static void enqueue(gw_dconn_t *dc)
{
    gw_queue_item_t *it = malloc(sizeof(*it));

    if (it == NULL) {
        gw_conn_destroy(dc->conn);
        free(dc);
        return;
    }
    it->dc = dc;
    it->next = NULL;
    dc->enqueued = apr_time_now();
    apr_thread_mutex_lock(d.lock);
    d.queued++;
    if (d.tail) {
        d.tail->next = it;
    }
    else {
        d.head = it;
    }
    d.tail = it;
    apr_thread_cond_signal(d.cond);
    apr_thread_mutex_unlock(d.lock);
}

/* Blocks for the next connection; NULL when stopping and nothing is
 * left to serve. */
static gw_dconn_t *dequeue(void)
{
    gw_queue_item_t *it;
    gw_dconn_t *dc;

    apr_thread_mutex_lock(d.lock);
    while (d.head == NULL && d.stop_reason == GW_STOP_NONE) {
        apr_thread_cond_wait(d.cond, d.lock);
    }
    it = d.head;
    if (it) {
        d.queued--;
        d.head = it->next;
        if (d.head == NULL) {
            d.tail = NULL;
        }
    }
    apr_thread_mutex_unlock(d.lock);
    if (it == NULL) {
        return NULL;
    }
    dc = it->dc;
    free(it);
    return dc;
}

/* ---- the idle list: connections armed in epoll --------------------- */

static void idle_unlink(gw_dconn_t *dc)
{
    gw_dconn_t *prev = dc->link_prev, *next = dc->link_next;

    if (prev) {
        prev->link_next = next;
    }
    else if (d.idle == dc) {
        d.idle = next;
    }
    if (next) {
        next->link_prev = prev;
    }
    dc->link_prev = dc->link_next = NULL;
}

/* Tells the child this connection is done: a CLOSE frame (the request it
 * may have just written was not run), then close. */
static void send_close(gw_dconn_t *dc, apr_interval_time_t timeout)
{
    char frame[GW_WIRE_HEADER_LEN];
    struct iovec iov = { frame, sizeof(frame) };

    gw_wire_encode_header(frame, GW_WIRE_T_CLOSE, 0, NULL, NULL);
    gw_conn_writev(dc->conn, &iov, 1, timeout);
    gw_conn_destroy(dc->conn);
    dc->conn = NULL;
}

/* Arms dc for its next request; during shutdown it is told CLOSE. */
static void rearm(gw_dconn_t *dc)
{
    struct epoll_event ev;

    apr_thread_mutex_lock(d.lock);
    if (d.stop_reason != GW_STOP_NONE) {
        apr_thread_mutex_unlock(d.lock);
        send_close(dc, d.workers[0].ctx.socket_timeout);
        free(dc);
        return;
    }
    dc->link_prev = NULL;
    dc->link_next = d.idle;
    if (d.idle) {
        d.idle->link_prev = dc;
    }
    d.idle = dc;
    ev.events = EPOLLIN | EPOLLONESHOT | EPOLLRDHUP;
    ev.data.ptr = dc;
    epoll_ctl(d.epfd, EPOLL_CTL_MOD, dc->conn->fd, &ev);
    apr_thread_mutex_unlock(d.lock);
}

/* ---- workers ------------------------------------------------------- */

static void count_request(void)
{
    apr_uint32_t n = apr_atomic_inc32(&d.requests) + 1;

    d.last_activity = apr_time_now();
    if (d.group->maximum_requests > 0
        && (apr_int64_t)n >= d.group->maximum_requests) {
        GW_LOG_S(APLOG_INFO, 0, d.server, "GW0320", "daemon '%s' process "
                 "%" APR_PID_T_FMT " reached maximum-requests=%" APR_INT64_T_FMT
                 "; recycling", d.group->name, getpid(),
                 d.group->maximum_requests);
        gw_daemon_stop(GW_STOP_RECYCLE);
    }
}

/* Has dc waited past queue-timeout (qt, 0: none) for a thread? If so,
 * says so in the log: it is answered 503 without running. */
static int waited_too_long(const gw_dconn_t *dc, apr_time_t now,
                           apr_interval_time_t qt)
{
    if (qt <= 0 || now - dc->enqueued <= qt) {
        return 0;
    }
    GW_LOG_S(APLOG_WARNING, 0, d.server, "GW0321", "daemon '%s': a request "
             "waited %" APR_TIME_T_FMT " ms for a thread, past "
             "queue-timeout; answered 503 without running it",
             d.group->name, (now - dc->enqueued) / 1000);
    return 1;
}

static void *APR_THREAD_FUNC worker_main(apr_thread_t *t, void *data)
{
    gw_worker_t *w = data;
    apr_pool_t *p;
    gw_dconn_t *dc;

    apr_pool_create(&p, NULL);
    apr_pool_tag(p, "gw_daemon_request");
    while ((dc = dequeue()) != NULL) {
        apr_interval_time_t qt = d.group->queue_timeout;
        int reject = 0;

        w->busy_since = apr_time_now();
        apr_atomic_inc32(&d.busy);
        if (waited_too_long(dc, w->busy_since, qt)) {
            reject = GW_WIRE_ERR_UNAVAILABLE;
        }
        switch (gw_pyapi->dserve_one(&w->ctx, dc, p, reject)) {
            case GW_DSERVE_KEEP:
                dc->served++;
                gw_conn_idle(dc->conn);
                /* Counted before the connection can carry another request:
                 * past maximum-requests, rearm() answers CLOSE instead. */
                if (!reject) {
                    count_request();
                    reject = 1; /* counted */
                }
                rearm(dc);
                break;
            case GW_DSERVE_GONE:
                gw_conn_destroy(dc->conn);
                free(dc);
                reject = 1; /* nothing was served */
                break;
            case GW_DSERVE_RELOAD:
                gw_daemon_stop(GW_STOP_RECYCLE);
                send_close(dc, w->ctx.socket_timeout);
                free(dc);
                reject = 1; /* not counted: it did not run */
                break;
            default:
                gw_conn_destroy(dc->conn);
                free(dc);
        }
        apr_pool_clear(p);
        w->busy_since = 0;
        w->interrupted = 0;
        apr_atomic_dec32(&d.busy);
        if (!d.accepting) {
            gw_daemon_wake(); /* a thread is free: accept again */
        }
        if (!reject) {
            count_request();
        }
    }
    apr_pool_destroy(p);
    apr_thread_mutex_lock(d.lock);
    d.running--;
    apr_thread_cond_broadcast(d.cond);
    apr_thread_mutex_unlock(d.lock);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* ---- the I/O thread ------------------------------------------------ */

/* The kernel doubles it and caps it at net.core.wmem_max. */
#define GW_DAEMON_SNDBUF (1024 * 1024)

static void accept_all(void)
{
    for (;;) {
        int fd = accept4(d.group->listen_fd, NULL, NULL,
                         SOCK_CLOEXEC | SOCK_NONBLOCK);
        uid_t uid;
        gid_t gid;
        pid_t pid;
        gw_dconn_t *dc;
        struct epoll_event ev;
        int sndbuf = d.group->send_buffer_size > 0
            ? (int)d.group->send_buffer_size : GW_DAEMON_SNDBUF;
        int rcvbuf = (int)d.group->receive_buffer_size;

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                /* Out of fds: the connection stays in the backlog; wait a
                 * little instead of spinning on a readable socket. */
                GW_LOG_S(APLOG_ERR, errno, d.server, "GW0329", "daemon "
                         "'%s': cannot accept a connection (out of file "
                         "descriptors)", d.group->name);
                apr_sleep(apr_time_from_msec(100));
            }
            return; /* EAGAIN: a sibling took it, or none left */
        }
        /* Only Apache's children may talk to a daemon (RELIABILITY.md). */
        if (gw_conn_peer(fd, &uid, &gid, &pid) != APR_SUCCESS
            || uid != gw_pm_children_uid()) {
            GW_LOG_S(APLOG_ERR, 0, d.server, "GW0302", "daemon '%s': refused "
                     "a connection from uid %ld pid %ld (only Apache's "
                     "children, uid %ld, may connect)", d.group->name,
                     (long)uid, (long)pid, (long)gw_pm_children_uid());
            close(fd);
            continue;
        }
        /* send-buffer-size=, by default room for a whole large response:
         * the worker writes it without waiting for the child to read each
         * frame (fewer wake-ups on both sides; only bytes in flight use
         * it). */
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        if (rcvbuf > 0) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        }
        dc = calloc(1, sizeof(*dc));
        if (dc == NULL || (dc->conn = gw_conn_create(NULL, fd,
                           GW_WIRE_TO_DAEMON, NULL)) == NULL) {
            free(dc);
            continue;
        }
        /* READY tells the child a daemon has the connection (a fresh
         * socket's buffer always has room for 8 bytes). */
        {
            char ready[GW_WIRE_HEADER_LEN];
            struct iovec iov = { ready, sizeof(ready) };

            gw_wire_encode_header(ready, GW_WIRE_T_READY, 0, NULL, NULL);
            if (gw_conn_writev(dc->conn, &iov, 1, 0) != APR_SUCCESS) {
                gw_conn_destroy(dc->conn);
                free(dc);
                continue;
            }
        }
        ev.events = EPOLLIN | EPOLLONESHOT | EPOLLRDHUP;
        ev.data.ptr = dc;
        apr_thread_mutex_lock(d.lock);
        dc->link_next = d.idle;
        if (d.idle) {
            d.idle->link_prev = dc;
        }
        d.idle = dc;
        epoll_ctl(d.epfd, EPOLL_CTL_ADD, fd, &ev);
        apr_thread_mutex_unlock(d.lock);
    }
}

/* Every thread has a request: more would only wait here. */
static int saturated(void)
{
    return (int)d.busy + d.queued >= d.nworkers;
}

/* How long a saturated process leaves new connections to its siblings
 * before it queues them itself (and queue-timeout starts counting), unless
 * a sibling says it has a free thread (the group's board). */
#define GW_DEFER_ACCEPT apr_time_from_msec(100)
/* A sibling's word older than this is not believed (it may be dead); the
 * I/O loop of a process with siblings says it every 50 ms. */
#define GW_BOARD_FRESH_MS 250

static apr_uint32_t now_ms(void)
{
    return (apr_uint32_t)(apr_time_now() / 1000);
}

/* Tells the siblings how many threads this process has free. */
static void publish_free(void)
{
    gw_board_slot_t *b = d.group->board;
    int free_threads = d.nworkers - (int)d.busy - d.queued;

    if (b && d.slot < GW_BOARD_SLOTS) {
        b[d.slot].free_threads = free_threads > 0 ? (apr_uint32_t)free_threads
                                                  : 0;
        b[d.slot].stamp_ms = now_ms();
    }
}

/* 1 if a live sibling said recently that it has a free thread. */
static int sibling_free(void)
{
    gw_board_slot_t *b = d.group->board;
    apr_uint32_t now = now_ms();
    int i, n = d.group->processes;

    if (b == NULL) {
        return 0;
    }
    for (i = 0; i < n && i < GW_BOARD_SLOTS; i++) {
        if (i != d.slot && b[i].free_threads > 0
            && now - b[i].stamp_ms <= GW_BOARD_FRESH_MS) {
            return 1;
        }
    }
    return 0;
}

/* A saturated process takes its listening socket out of epoll for up to
 * GW_DEFER_ACCEPT, so new connections go to a sibling with a free thread;
 * EPOLLEXCLUSIVE alone always wakes the same idle waiter; past that, for
 * as long as a sibling says it has a free thread. A process without
 * siblings always accepts and queues: queue-timeout stays exact. */
static void update_accepting(void)
{
    struct epoll_event ev;
    apr_time_t now = apr_time_now();
    int want;

    if (!saturated()) {
        d.saturated_since = 0;
    }
    else if (d.saturated_since == 0) {
        d.saturated_since = now;
    }
    if (d.group->processes > 1) {
        publish_free();
    }
    want = d.stop_reason == GW_STOP_NONE
        && (d.group->processes == 1 || d.saturated_since == 0
            || (now - d.saturated_since > GW_DEFER_ACCEPT
                && !sibling_free()));

    if (want == d.accepting) {
        return;
    }
    if (want) {
        ev.events = EPOLLIN | EPOLLEXCLUSIVE;
        ev.data.ptr = &marker_listen;
        epoll_ctl(d.epfd, EPOLL_CTL_ADD, d.group->listen_fd, &ev);
    }
    else {
        epoll_ctl(d.epfd, EPOLL_CTL_DEL, d.group->listen_fd, NULL);
    }
    d.accepting = want;
}

static void on_ready(gw_dconn_t *dc)
{
    apr_thread_mutex_lock(d.lock);
    idle_unlink(dc);
    apr_thread_mutex_unlock(d.lock);
    /* A request on a kept connection to a saturated process: when there
     * are siblings, answer CLOSE (it was not read, so it is not run) and
     * let the child send it to a process with a free thread. The first
     * request of a new connection is never bounced, so a request cannot be
     * passed around for ever when every process is busy. */
    if (d.group->processes > 1 && dc->served > 0 && saturated()) {
        send_close(dc, d.io_ctx.socket_timeout);
        free(dc);
        return;
    }
    enqueue(dc);
}

/* Stop accepting, tell every idle connection CLOSE; requests already
 * queued or running go on. */
static void begin_shutdown(void)
{
    gw_dconn_t *dc, *next;

    if (d.accepting) {
        epoll_ctl(d.epfd, EPOLL_CTL_DEL, d.group->listen_fd, NULL);
        d.accepting = 0;
    }
    close(d.group->listen_fd);
    apr_thread_mutex_lock(d.lock);
    dc = d.idle;
    d.idle = NULL;
    apr_thread_cond_broadcast(d.cond);
    apr_thread_mutex_unlock(d.lock);
    for (; dc; dc = next) {
        next = dc->link_next;
        epoll_ctl(d.epfd, EPOLL_CTL_DEL, dc->conn->fd, NULL);
        send_close(dc, apr_time_from_sec(1));
        free(dc);
    }
}

/* queue-timeout while waiting, not only when a worker frees up: the I/O
 * thread answers 503 for every request that has waited too long, without
 * running it. */
static void expire_queue(apr_interval_time_t qt)
{
    apr_time_t now = apr_time_now();
    gw_queue_item_t *it, *prev = NULL, *next, *expired = NULL;

    apr_thread_mutex_lock(d.lock);
    for (it = d.head; it; it = next) {
        next = it->next;
        if (now - it->dc->enqueued <= qt) {
            prev = it;
            continue;
        }
        /* taken off the queue: answered below, outside the lock */
        if (prev) {
            prev->next = next;
        }
        else {
            d.head = next;
        }
        if (d.tail == it) {
            d.tail = prev;
        }
        d.queued--;
        it->next = expired;
        expired = it;
    }
    apr_thread_mutex_unlock(d.lock);
    for (it = expired; it; it = next) {
        gw_dconn_t *dc = it->dc;

        next = it->next;
        free(it);
        waited_too_long(dc, now, qt); /* true here: it logs GW0321 */
        if (gw_pyapi->dserve_one(&d.io_ctx, dc, d.io_pool, GW_WIRE_ERR_UNAVAILABLE)
            == GW_DSERVE_KEEP) {
            rearm(dc);
        }
        else {
            gw_conn_destroy(dc->conn);
            free(dc);
        }
        apr_pool_clear(d.io_pool);
    }
}

static void io_loop(void)
{
    struct epoll_event ev[64];
    apr_interval_time_t qt = d.group->queue_timeout;
    int i, n, wait_ms = 1000;

    if (d.group->processes > 1) {
        wait_ms = 50; /* re-check a deferred accept soon */
    }
    if (qt > 0) {
        wait_ms = (int)(qt / 4000);
        wait_ms = wait_ms < 20 ? 20 : wait_ms > 1000 ? 1000 : wait_ms;
        if (d.group->processes > 1 && wait_ms > 50) {
            wait_ms = 50;
        }
    }
    while (d.stop_reason == GW_STOP_NONE) {
        update_accepting();
        n = epoll_wait(d.epfd, ev, 64, wait_ms);
        if (qt > 0) {
            expire_queue(qt);
        }
        for (i = 0; i < n; i++) {
            if (ev[i].data.ptr == &marker_listen) {
                accept_all();
            }
            else if (ev[i].data.ptr == &marker_wake) {
                char buf[64];

                while (read(d.wake[0], buf, sizeof(buf)) > 0) {
                }
            }
            else {
                on_ready(ev[i].data.ptr);
            }
        }
    }
}

/* ---- set-up -------------------------------------------------------- */

static int drop_privileges(void)
{
    gw_group_t *g = d.group;
    char err[256];
    gw_privs_t p;

    memset(&p, 0, sizeof(p));
    p.uid = g->uid;
    p.gid = g->gid;
    if (g->supplementary_groups) {
        p.groups = (const gid_t *)g->supplementary_groups->elts;
        p.ngroups = (size_t)g->supplementary_groups->nelts;
    }
    p.umask = g->umask;
    p.home = g->home;
    p.lang = g->lang;
    p.locale = g->locale;
    p.cpu_priority = g->cpu_priority;
    p.memory_limit = g->memory_limit;
    p.virtual_memory_limit = g->virtual_memory_limit;
    p.cpu_time_limit = g->cpu_time_limit;
    if (gw_privs_apply(&p, err, sizeof(err)) != 0) {
        GW_LOG_S(APLOG_CRIT, 0, d.server, "GW0301", "daemon '%s' process "
                 "%" APR_PID_T_FMT ": %s; exiting before Python starts",
                 g->name, getpid(), err);
        return -1;
    }
    return 0;
}

static void daemon_log(int level, const char *msg)
{
    ap_log_error(APLOG_MARK, level, 0, d.server, "%s", msg);
}

/* GatewayImportScript for this group: loaded at start so the first
 * request is not slow. A failure is logged; the process still serves. */
static void preload(void)
{
    apr_array_header_t *list = gw_group_preloads(d.pool, d.main_server,
                                                 d.group->name);
    int i;

    for (i = 0; i < list->nelts; i++) {
        gw_import_t *im = &APR_ARRAY_IDX(list, i, gw_import_t);

        gw_pyapi->loader_preload(im->script, im->application_group);
    }
}

/* malloc in a daemon process. By default glibc gives the top of a heap
 * back (madvise) as soon as 128 KiB of it is free, and a request body read
 * in 64 KiB pieces frees that much per request: each upload then paid a
 * madvise and, on the next one, a page fault for every 4 KiB it touched
 * again. The heaps may now keep up to GW_DAEMON_TRIM_KEEP free, and the
 * periodic malloc_trim (gw_adapter.c, every 500 requests) gives back what
 * a burst left. Setting a threshold turns glibc's dynamic thresholds off,
 * so the mmap threshold is set as well: blocks of GW_DAEMON_MMAP_FROM or
 * more are mapped on their own and unmapped when freed. */
#define GW_DAEMON_TRIM_KEEP (1024 * 1024)
#define GW_DAEMON_MMAP_FROM (1024 * 1024)

static void tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, GW_DAEMON_MMAP_FROM);
    mallopt(M_TRIM_THRESHOLD, GW_DAEMON_TRIM_KEEP);
}

static int start_python(void)
{
    gw_python_config_t cfg;

    gw_server_conf_t *sc = gw_config_server(d.main_server);

    memset(&cfg, 0, sizeof(cfg));
    /* The group's python-home/python-path, else the server-wide
     * GatewayPythonHome/GatewayPythonPath (mod_wsgi ignores those in
     * daemons, a common migration surprise). */
    cfg.python_home = d.group->python_home ? d.group->python_home
                                           : sc->python_home;
    cfg.python_path = d.group->python_path && d.group->python_path->nelts
        ? apr_array_append(d.pool, d.group->python_path, sc->python_path)
        : sc->python_path;
    cfg.multithread = d.group->threads > 1;
    /* As mod_wsgi: any processes= makes the group multi-process. */
    cfg.multiprocess = d.group->processes > 1 || d.group->multiprocess;
    cfg.optimize = d.group->python_optimize;
    cfg.log = daemon_log;
    cfg.log_level = ap_get_server_module_loglevel(d.server,
                                                  APLOG_MODULE_INDEX);
    tune_malloc();
    if (gw_pyapi->python_init(d.pool, &cfg) != APR_SUCCESS) {
        return -1;
    }
    preload();
    return 0;
}

static int start_workers(void)
{
    apr_threadattr_t *attr;
    int i;

    apr_threadattr_create(&attr, d.pool);
    if (d.group->stack_size > 0) {
        apr_threadattr_stacksize_set(attr, (apr_size_t)d.group->stack_size);
    }
    d.io_ctx.group = d.group;
    d.io_ctx.server = d.server;
    d.io_ctx.main_server = d.main_server;
    d.io_ctx.socket_timeout = d.group->socket_timeout > 0
        ? d.group->socket_timeout : d.server->timeout;
    apr_pool_create(&d.io_pool, d.pool);
    apr_pool_tag(d.io_pool, "gw_daemon_io");
    d.nworkers = d.group->threads;
    d.workers = apr_pcalloc(d.pool, sizeof(gw_worker_t) * d.nworkers);
    for (i = 0; i < d.nworkers; i++) {
        gw_worker_t *w = &d.workers[i];

        w->ctx.group = d.group;
        w->ctx.server = d.server;
        w->ctx.main_server = d.main_server;
        /* socket-timeout unset: Apache's Timeout, as for the child. */
        w->ctx.socket_timeout = d.group->socket_timeout > 0
            ? d.group->socket_timeout : d.server->timeout;
        if (apr_thread_create(&w->thread, attr, worker_main, w, d.pool)
            != APR_SUCCESS) {
            return -1;
        }
        d.running++;
    }
    return 0;
}

static int setup_io(void)
{
    struct epoll_event ev;

    if (pipe2(d.wake, O_CLOEXEC | O_NONBLOCK) != 0
        || (d.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        return -1;
    }
    fcntl(d.group->listen_fd, F_SETFL,
          fcntl(d.group->listen_fd, F_GETFL) | O_NONBLOCK);
    /* The listening socket joins epoll in update_accepting(). */
    ev.events = EPOLLIN;
    ev.data.ptr = &marker_wake;
    return epoll_ctl(d.epfd, EPOLL_CTL_ADD, d.wake[0], &ev);
}

/* ---- shutdown ------------------------------------------------------ */

/* Waits for the workers; 0 if they all finished in time. */
static int wait_workers(apr_interval_time_t timeout)
{
    apr_time_t end = apr_time_now() + timeout;
    int left;

    apr_thread_mutex_lock(d.lock);
    while (d.running > 0 && apr_time_now() < end) {
        apr_thread_cond_timedwait(d.cond, d.lock, end - apr_time_now());
    }
    left = d.running;
    apr_thread_mutex_unlock(d.lock);
    return left;
}

/* A worker that has counted itself out may still be in apr_thread_exit,
 * destroying its thread pool, a child of d.pool: join them all before
 * d.pool goes, or the two destroys race (a crash seen at SIGTERM). */
static void join_workers(void)
{
    apr_status_t rv;
    int i;

    for (i = 0; i < d.nworkers; i++) {
        if (d.workers[i].thread != NULL) {
            apr_thread_join(&rv, d.workers[i].thread);
            d.workers[i].thread = NULL;
        }
    }
}

static void shut_down(void)
{
    gw_group_t *g = d.group;
    apr_interval_time_t grace = g->graceful_timeout;
    int left;

    begin_shutdown();
    left = wait_workers(grace);
    if (left > 0) {
        GW_LOG_S(APLOG_ERR, 0, d.server, "GW0322", "daemon '%s' process %"
                 APR_PID_T_FMT ": %d request(s) still running after "
                 "graceful-timeout (%" APR_TIME_T_FMT " s); exiting anyway",
                 g->name, getpid(), left, apr_time_sec(grace));
        _exit(GW_DAEMON_EXIT_RECYCLE);
    }
    join_workers();
    gw_dwatch_join(&d);
    /* atexit handlers run in every interpreter; past shutdown-timeout,
     * SIGALRM ends the process (on_shutdown_timeout). */
    if (g->shutdown_timeout > 0) {
        alarm((unsigned)apr_time_sec(g->shutdown_timeout + APR_USEC_PER_SEC
                                     - 1));
    }
    apr_pool_destroy(d.pool);
    /* _exit: httpd's atexit(apr_terminate) would run the parent's pool
     * cleanups (scoreboard, pid file) in this process. */
    _exit(GW_DAEMON_EXIT_RECYCLE);
}

/* ---- main ---------------------------------------------------------- */

static const char *display_name(gw_group_t *g)
{
    if (strcmp(g->display_name, "%{GROUP}") == 0) {
        return apr_psprintf(g->server->process->pool, "(gateway:%s)",
                            g->name);
    }
    return g->display_name;
}

static void fail(const char *what)
{
    GW_LOG_S(APLOG_CRIT, errno, d.server, "GW0300", "daemon '%s' process %"
             APR_PID_T_FMT ": %s; exiting", d.group->name, getpid(), what);
    _exit(GW_DAEMON_EXIT_FATAL);
}

void gw_daemon_main(gw_group_t *g, int slot, apr_pool_t *pconf,
                    server_rec *main_server, apr_interval_time_t delay,
                    pid_t parent)
{
    memset(&d, 0, sizeof(d));
    d.group = g;
    d.server = g->server;
    d.main_server = main_server;
    d.slot = slot;
    /* The parent's pid from before fork: if it is already gone, getppid()
     * would name init and the watchdog would never notice. */
    d.parent = parent;
    d.wake[0] = d.wake[1] = -1;
    set_signals();
    if (getppid() != parent) {
        _exit(GW_DAEMON_EXIT_RECYCLE);
    }
    close_inherited(g, main_server);
    forget_others(g);
    if (delay > 0) {
        apr_sleep(delay);
    }
    if (apr_pool_create(&d.pool, pconf) != APR_SUCCESS) {
        fail("cannot create the daemon pool");
    }
    apr_pool_tag(d.pool, "gw_daemon");
    if (g->display_name) {
        gw_privs_set_title((char **)main_server->process->argv,
                           main_server->process->argc, display_name(g));
    }
    /* The Python half is loaded as root: the tenant's user may not be
     * able to read the module's directory. */
    if (gw_pyapi_load(d.server) != APR_SUCCESS || drop_privileges() != 0) {
        _exit(GW_DAEMON_EXIT_FATAL);
    }
    if (setup_io() != 0) {
        fail("cannot set up epoll");
    }
    if (apr_thread_mutex_create(&d.lock, APR_THREAD_MUTEX_DEFAULT, d.pool)
            != APR_SUCCESS
        || apr_thread_cond_create(&d.cond, d.pool) != APR_SUCCESS) {
        fail("cannot create the queue lock");
    }
    if (start_python() != 0) {
        _exit(GW_DAEMON_EXIT_FATAL);
    }
    d.started = d.last_activity = apr_time_now();
    if (start_workers() != 0 || gw_dwatch_start(&d) != APR_SUCCESS) {
        fail("cannot start the worker threads");
    }
    GW_LOG_S(APLOG_INFO, 0, d.server, "GW0310", "daemon '%s' process %"
             APR_PID_T_FMT " ready: %d thread(s), uid %ld, gid %ld",
             g->name, getpid(), g->threads, (long)getuid(), (long)getgid());
    io_loop();
    GW_LOG_S(APLOG_INFO, 0, d.server, "GW0311", "daemon '%s' process %"
             APR_PID_T_FMT " stopping (%s) after %u request(s)", g->name,
             getpid(), d.stop_reason == GW_STOP_SIGNAL ? "signal" : "recycle",
             (unsigned)d.requests);
    if (d.stop_reason == GW_STOP_FATAL) {
        _exit(GW_DAEMON_EXIT_RECYCLE);
    }
    shut_down();
    _exit(GW_DAEMON_EXIT_RECYCLE);
}
