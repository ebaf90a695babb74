/*
 * gw_python.c -- the Python runtime of one process.
 *
 * L2. Runs in an Apache child or a daemon, never in the Apache parent.
 * Interpreters are created lazily, one per application group, and live as
 * long as the process. Each thread keeps one thread state per interpreter
 * for its whole life, so threading.local data survives between requests.
 */
#include "gw_python.h"
#include "gw_pylog.h"
#include "gw_adapter.h"

#include "apr_hash.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "httpd.h"
#include "http_log.h"
#include <unistd.h>
#include <sys/stat.h>

/* Environ keys cached per interpreter; beyond this, keys a client invents
 * (header names) are built per request instead of growing the cache. */
#define GW_KEY_CACHE_MAX 512
/* Open addressing, at most half full: a lookup is one hash of the key, a
 * word at a time, and nearly always one memcmp (apr_hash cost three times
 * more, and a request looks up some 35 keys). */
#define GW_KEY_SLOTS 1024

typedef struct {
    const char *bytes;
    size_t len;
    uint32_t hash;
    PyObject *str;             /* interned; NULL: free slot */
} gw_key_slot_t;

struct gw_interp {
    const char *name;
    int index;                 /* slot in each thread's state table */
    PyInterpreterState *interp;
    PyObject *cache;           /* dict: script path -> loaded script */
    gw_key_slot_t *keys;       /* environ key bytes -> interned str */
    int nkeys;
    apr_pool_t *pool;
    apr_thread_mutex_t *load_lock;
};

static struct {
    int ready;
    char **environ_at_start;   /* the process environment before any app */
    gw_python_config_t cfg;
    apr_pool_t *pool;
    apr_thread_mutex_t *lock;  /* guards interps and count */
    apr_hash_t *interps;       /* name -> gw_interp_t */
    int count;
    gw_interp_t *main;
    PyThreadState *main_tstate;
} gw_py;

/* This thread's thread states, indexed by gw_interp_t.index. */
static __thread PyThreadState **thread_states;
static __thread int thread_nstates;

int gw_python_ready(void)
{
    return gw_py.ready;
}

const gw_python_config_t *gw_python_config(void)
{
    return &gw_py.cfg;
}

void gw_python_log(int level, const char *msg)
{
    if (PyGILState_Check()) {
        GW_PY_BLOCKING(gw_py.cfg.log(level, msg));
    }
    else {
        gw_py.cfg.log(level, msg);
    }
}

static int file_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* A virtualenv is found from the executable (pyvenv.cfg beside bin/), so
 * for one we set the program name; a plain prefix is set as home. */
static PyStatus config_home(PyConfig *c, const char *home, apr_pool_t *p)
{
    if (home == NULL) {
        return PyConfig_SetBytesString(c, &c->program_name,
                                       GW_PYTHON_EXECUTABLE);
    }
    if (file_exists(apr_pstrcat(p, home, "/pyvenv.cfg", NULL))) {
        return PyConfig_SetBytesString(c, &c->program_name,
                                       apr_pstrcat(p, home, "/bin/python3",
                                                   NULL));
    }
    return PyConfig_SetBytesString(c, &c->home, home);
}

static apr_status_t start_runtime(apr_pool_t *p)
{
    PyConfig c;
    PyStatus st;

    PyConfig_InitPythonConfig(&c);
    /* Apache owns the signals of this process. */
    c.install_signal_handlers = 0;
    if (gw_py.cfg.optimize >= 0) {
        c.optimization_level = gw_py.cfg.optimize;
    }
    c.parse_argv = 0;
    st = config_home(&c, gw_py.cfg.python_home, p);
    if (!PyStatus_Exception(st)) {
        st = Py_InitializeFromConfig(&c);
    }
    PyConfig_Clear(&c);
    if (PyStatus_Exception(st)) {
        gw_py.cfg.log(APLOG_CRIT, apr_psprintf(p, "GW0101: Python failed to "
                      "start (%s%s%s); check GatewayPythonHome",
                      st.func ? st.func : "", st.func ? ": " : "",
                      st.err_msg ? st.err_msg : "unknown error"));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_status_t finalize(void *data);

static gw_interp_t *new_interp(const char *name);
static int register_interp(gw_interp_t *interp, PyThreadState *ts);
static void snapshot_environ(apr_pool_t *p);

apr_status_t gw_python_init(apr_pool_t *pool, const gw_python_config_t *cfg)
{
    apr_status_t rv;
    gw_interp_t *main_interp;

    gw_py.cfg = *cfg;
    gw_py.pool = pool;
    gw_py.interps = apr_hash_make(pool);
    snapshot_environ(pool);
    rv = apr_thread_mutex_create(&gw_py.lock, APR_THREAD_MUTEX_DEFAULT, pool);
    if (rv != APR_SUCCESS || (rv = start_runtime(pool)) != APR_SUCCESS) {
        return rv;
    }
    /* The initialising thread keeps the state Python started with. */
    gw_py.main_tstate = PyThreadState_Get();
    main_interp = new_interp("");
    if (register_interp(main_interp, gw_py.main_tstate) < 0) {
        gw_py.cfg.log(APLOG_CRIT, "GW0102: cannot set up the main Python "
                      "interpreter (sys.path or sys.stdout/stderr)");
        PyErr_Print();
        PyEval_SaveThread();
        return APR_EGENERAL;
    }
    gw_py.main = main_interp;
    gw_py.ready = 1;
    PyEval_SaveThread();
    /* A pre-cleanup: apr_pool_destroy() destroys subpools before it runs
     * plain cleanups, and each interpreter's record lives in a subpool. */
    apr_pool_pre_cleanup_register(pool, NULL, finalize);
    return APR_SUCCESS;
}

/* ---- interpreters -------------------------------------------------- */

/* Grows this thread's table so interp has a slot. */
static int thread_state_slot(gw_interp_t *interp)
{
    int n = interp->index + 8;
    PyThreadState **t = realloc(thread_states, n * sizeof(*t));

    if (t == NULL) {
        return -1;
    }
    memset(t + thread_nstates, 0, (n - thread_nstates) * sizeof(*t));
    thread_states = t;
    thread_nstates = n;
    return 0;
}

/* This thread's state for interp, created on first use. A thread's
 * first state is the one PyGILState_* will use for it, so it is always
 * the main interpreter's: a C extension calling PyGILState_Ensure() under
 * %{GLOBAL} then finds the state that is current, not a sub-interpreter's
 * (which deadlocks). */
static PyThreadState *thread_state(gw_interp_t *interp)
{
    if (interp != gw_py.main && gw_py.main != NULL
        && thread_state(gw_py.main) == NULL) {
        return NULL;
    }
    if (interp->index >= thread_nstates && thread_state_slot(interp) < 0) {
        return NULL;
    }
    if (thread_states[interp->index] == NULL) {
        thread_states[interp->index] = PyThreadState_New(interp->interp);
    }
    return thread_states[interp->index];
}

extern char **environ;

static void snapshot_environ(apr_pool_t *p)
{
    size_t n = 0, i;

    while (environ && environ[n]) {
        n++;
    }
    gw_py.environ_at_start = apr_pcalloc(p, (n + 1) * sizeof(char *));
    for (i = 0; i < n; i++) {
        gw_py.environ_at_start[i] = apr_pstrdup(p, environ[i]);
    }
}

/* GIL: held, in a new sub-interpreter. os.environ starts from the process
 * environment as it was before any application ran, not as other
 * interpreters left it: os.environ.setdefault() also calls putenv(), so
 * without this Django's DJANGO_SETTINGS_MODULE from one site would leak
 * into every interpreter created after it. */
static int reset_environ(void)
{
    PyObject *os = PyImport_ImportModule("os"), *env = NULL, *data = NULL;
    int rc = -1;
    size_t i;

    if (os == NULL || (env = PyObject_GetAttrString(os, "environ")) == NULL
        || (data = PyObject_GetAttrString(env, "_data")) == NULL
        || !PyDict_Check(data)) {
        goto done;
    }
    PyDict_Clear(data);
    for (i = 0; gw_py.environ_at_start[i]; i++) {
        const char *kv = gw_py.environ_at_start[i], *eq = strchr(kv, '=');
        PyObject *k, *v;

        if (eq == NULL || eq == kv) {
            continue;
        }
        k = PyBytes_FromStringAndSize(kv, eq - kv);
        v = PyBytes_FromString(eq + 1);
        if (k == NULL || v == NULL || PyDict_SetItem(data, k, v) < 0) {
            Py_XDECREF(k);
            Py_XDECREF(v);
            goto done;
        }
        Py_DECREF(k);
        Py_DECREF(v);
    }
    rc = 0;
done:
    if (rc < 0 && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_RuntimeError, "os.environ has no _data dict");
    }
    Py_XDECREF(data);
    Py_XDECREF(env);
    Py_XDECREF(os);
    return rc;
}

/* GIL: held, in the new interpreter. sys.path additions and the output
 * streams; returns -1 with a Python exception set. */
static int setup_interp(gw_interp_t *interp)
{
    const apr_array_header_t *pp = gw_py.cfg.python_path;
    PyObject *site = NULL, *r = NULL, *out = NULL, *errs = NULL;
    int i, rc = -1;

    interp->cache = PyDict_New();
    if (interp->cache == NULL || (site = PyImport_ImportModule("site")) == NULL) {
        goto fail;
    }
    for (i = 0; pp && i < pp->nelts; i++) {
        r = PyObject_CallMethod(site, "addsitedir", "s",
                                APR_ARRAY_IDX(pp, i, const char *));
        if (r == NULL) {
            goto fail;
        }
        Py_CLEAR(r);
    }
    out = gw_pylog_new(NULL, APLOG_ERR, "stdout");
    errs = gw_pylog_new(NULL, APLOG_ERR, "stderr");
    if (out == NULL || errs == NULL || PySys_SetObject("stdout", out) < 0
        || PySys_SetObject("stderr", errs) < 0) {
        goto fail;
    }
    if (gw_adapter_init_interp() < 0
        || gw_pylog_install_logging(gw_py.cfg.log_level) < 0
        || (interp->index > 0 && reset_environ() < 0)) {
        goto fail;
    }
    rc = 0;
fail:
    Py_XDECREF(site);
    Py_XDECREF(out);
    Py_XDECREF(errs);
    return rc;
}

static gw_interp_t *new_interp(const char *name)
{
    apr_pool_t *p;
    gw_interp_t *interp;

    apr_pool_create(&p, gw_py.pool);
    apr_pool_tag(p, "gw_interp");
    interp = apr_pcalloc(p, sizeof(*interp));
    interp->pool = p;
    interp->name = apr_pstrdup(p, name);
    interp->index = gw_py.count;
    interp->keys = apr_pcalloc(p, sizeof(gw_key_slot_t) * GW_KEY_SLOTS);
    apr_thread_mutex_create(&interp->load_lock, APR_THREAD_MUTEX_DEFAULT, p);
    return interp;
}

/* GIL: held, by ts, a state of interp's new interpreter. Records ts as
 * this thread's state and sets the interpreter up. Registry lock held
 * (or single-threaded start-up). */
static int register_interp(gw_interp_t *interp, PyThreadState *ts)
{
    interp->interp = ts->interp;
    if (interp->index >= thread_nstates && thread_state_slot(interp) < 0) {
        return -1;
    }
    thread_states[interp->index] = ts;
    if (setup_interp(interp) < 0) {
        return -1;
    }
    gw_py.count++;
    apr_hash_set(gw_py.interps, interp->name, APR_HASH_KEY_STRING, interp);
    return 0;
}

/* Registry lock held, GIL not held. On success the GIL is held by this
 * thread's state of the new sub-interpreter. */
static gw_interp_t *create_interp(const char *name, const char **err)
{
    gw_interp_t *interp = new_interp(name);
    PyThreadState *ts;

    PyEval_RestoreThread(thread_state(gw_py.main));
    ts = Py_NewInterpreter();
    if (ts == NULL) {
        PyEval_SaveThread();
        *err = "Py_NewInterpreter failed";
        return NULL;
    }
    if (register_interp(interp, ts) < 0) {
        *err = "setting up sys.path or sys.stdout/stderr raised";
        PyErr_Print();
        PyEval_SaveThread();
        return NULL;
    }
    return interp;
}

gw_interp_t *gw_python_acquire(const char *name, const char **err)
{
    gw_interp_t *interp;
    PyThreadState *ts;

    apr_thread_mutex_lock(gw_py.lock);
    interp = apr_hash_get(gw_py.interps, name, APR_HASH_KEY_STRING);
    if (interp == NULL) {
        interp = create_interp(name, err);
        apr_thread_mutex_unlock(gw_py.lock);
        return interp;
    }
    apr_thread_mutex_unlock(gw_py.lock);
    ts = thread_state(interp);
    if (ts == NULL) {
        *err = "cannot create a Python thread state";
        return NULL;
    }
    PyEval_RestoreThread(ts);
    return interp;
}

void gw_python_release(gw_interp_t *interp)
{
    PyEval_SaveThread();
}

PyObject *gw_interp_cache(gw_interp_t *interp)
{
    return interp->cache;
}

const char *gw_interp_name(gw_interp_t *interp)
{
    return interp->name;
}

void gw_interp_lock(gw_interp_t *interp)
{
    apr_thread_mutex_lock(interp->load_lock);
}

void gw_interp_unlock(gw_interp_t *interp)
{
    apr_thread_mutex_unlock(interp->load_lock);
}

/* GIL: held. NEW ref: the str for an environ key, interned and cached per
 * interpreter. The cache is bounded: past GW_KEY_CACHE_MAX, keys a client
 * invents (header names) are built per request instead. */
/* Eight bytes at a time, seeded per interpreter (the table's address):
 * header names come from clients, and a seed they cannot see keeps them
 * from piling their names onto one probe chain. */
static uint32_t key_hash(uint64_t seed, const char *key, size_t len)
{
    uint64_t h = seed ^ (len * 0x9E3779B97F4A7C15ull), w;

    for (; len >= 8; key += 8, len -= 8) {
        memcpy(&w, key, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 29;
    }
    if (len > 0) {
        w = 0;
        memcpy(&w, key, len);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 29;
    }
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

PyObject *gw_interp_key(gw_interp_t *interp, const char *key, size_t len)
{
    uint32_t h = key_hash((uintptr_t)interp->keys, key, len);
    unsigned i = h & (GW_KEY_SLOTS - 1);
    gw_key_slot_t *slot;
    PyObject *k;

    for (slot = &interp->keys[i]; slot->str != NULL;
         slot = &interp->keys[i = (i + 1) & (GW_KEY_SLOTS - 1)]) {
        if (slot->hash == h && slot->len == len
            && memcmp(slot->bytes, key, len) == 0) {
            return Py_NewRef(slot->str);
        }
    }
    k = PyUnicode_DecodeLatin1(key, len, NULL);
    if (k == NULL) {
        return NULL;
    }
    PyUnicode_InternInPlace(&k);
    if (interp->nkeys < GW_KEY_CACHE_MAX) {
        /* The cache holds its own reference for the interpreter's life. */
        slot->bytes = apr_pstrmemdup(interp->pool, key, len);
        slot->len = len;
        slot->hash = h;
        slot->str = Py_NewRef(k);
        interp->nkeys++;
    }
    return k;
}

/* ---- shutdown ------------------------------------------------------ */

/* GIL: held, in the interpreter whose handlers run. atexit handlers, then
 * the output streams (a partial last line of sys.stderr reaches the log). */
static void run_exit_handlers(void)
{
    PyObject *m = PyImport_ImportModule("atexit"), *r;
    PyObject *err = PySys_GetObject("stderr"); /* BORROWED */

    r = m ? PyObject_CallMethod(m, "_run_exitfuncs", NULL) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(m);
    PyErr_Clear();
    if (err) {
        r = PyObject_CallMethod(err, "flush", NULL);
        Py_XDECREF(r);
        PyErr_Clear();
    }
}

/* Pool cleanup, GIL not held, as the process ends: atexit handlers run in
 * every interpreter (sub-interpreters first, then the main one). The
 * interpreters are not torn down (no Py_EndInterpreter/Py_FinalizeEx):
 * the process exits right after, and tearing interpreters down while
 * other threads' states may still exist has crashed processes at exit
 * for no gain. */
static apr_status_t finalize(void *data)
{
    apr_hash_index_t *hi;

    if (!gw_py.ready) {
        return APR_SUCCESS;
    }
    gw_py.ready = 0;
    PyEval_RestoreThread(gw_py.main_tstate);
    for (hi = apr_hash_first(gw_py.pool, gw_py.interps); hi;
         hi = apr_hash_next(hi)) {
        gw_interp_t *interp = apr_hash_this_val(hi);
        PyThreadState *ts;

        if (interp == gw_py.main || (ts = thread_state(interp)) == NULL) {
            continue;
        }
        PyThreadState_Swap(ts);
        run_exit_handlers();
        PyThreadState_Swap(gw_py.main_tstate);
    }
    run_exit_handlers();
    PyEval_SaveThread();
    return APR_SUCCESS;
}

/* ---- interrupting a request (request-timeout) ---------------------- */

gw_interp_t *gw_python_request_acquire(gw_py_request_t *req,
                                       const char *name, const char **err)
{
    gw_interp_t *interp;

    req->entering = 1;
    interp = gw_python_acquire(name, err);
    req->interp = interp;
    req->thread_id = PyThread_get_thread_ident();
    req->running = 0;
    req->entering = 0;
    return interp;
}

void gw_python_request_release(gw_py_request_t *req)
{
    gw_interp_t *interp = req->interp;

    req->interp = NULL;
    gw_python_release(interp);
}

void gw_python_request_begin(gw_py_request_t *req)
{
    req->running = 1;
}

void gw_python_request_end(gw_py_request_t *req)
{
    req->running = 0;
    PyThreadState_SetAsyncExc(req->thread_id, NULL);
}

int gw_python_interrupt(gw_py_request_t *req)
{
    PyThreadState *mine, *ts;

    if (req->interp == NULL || !req->running) {
        return 0;
    }
    /* SetAsyncExc looks in the current interpreter only. */
    ts = thread_state(req->interp);
    if (ts == NULL) {
        return 0;
    }
    mine = PyThreadState_Swap(ts);
    PyThreadState_SetAsyncExc(req->thread_id, PyExc_TimeoutError);
    PyThreadState_Swap(mine);
    return 1;
}
