/*
 * gw_loader.c -- WSGI script files as modules.
 *
 * L2, GIL held on entry. A script is compiled and executed as a module
 * named "_gateway_<hash of path>" in the interpreter of its application
 * group, and cached there with the mtime it had. Loading is serialised per
 * interpreter (the module body may release the GIL, and two threads must
 * not import the same script at once); the lock is taken with the GIL
 * released so it cannot deadlock against a thread that holds the GIL.
 */
#include "gw_loader.h"
#include "gw_adapter.h"

#include "httpd.h"
#include "http_log.h"

#include "apr_strings.h"
#include <sys/stat.h>

/* FNV-1a, 64 bits: module names only need to be distinct per path. */
static apr_uint64_t path_hash(const char *s)
{
    apr_uint64_t h = APR_UINT64_C(14695981039346656037);

    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * APR_UINT64_C(1099511628211);
    }
    return h;
}

/* NEW ref: the source compiled with the file's own coding cookie. */
static PyObject *compile_file(const char *path)
{
    PyObject *io = NULL, *f = NULL, *src = NULL, *code = NULL;
    PyObject *builtins = PyEval_GetBuiltins(); /* BORROWED */
    PyObject *compile = builtins ? PyDict_GetItemString(builtins, "compile")
                                 : NULL; /* BORROWED */

    if (compile == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "builtins.compile is missing");
        return NULL;
    }
    if ((io = PyImport_ImportModule("io")) == NULL
        || (f = PyObject_CallMethod(io, "open", "ss", path, "rb")) == NULL) {
        goto done;
    }
    src = PyObject_CallMethod(f, "read", NULL);
    Py_XDECREF(PyObject_CallMethod(f, "close", NULL));
    if (src) {
        code = PyObject_CallFunction(compile, "Oss", src, path, "exec");
    }
done:
    Py_XDECREF(io);
    Py_XDECREF(f);
    Py_XDECREF(src);
    return code;
}

/* NEW ref: a fresh module for the script, registered in sys.modules
 * while its body runs (so pickling and self-imports work). */
static PyObject *exec_script(const char *path)
{
    char name[40];
    PyObject *code = NULL, *mod = NULL, *modules = PyImport_GetModuleDict();
    PyObject *d, *r;

    apr_snprintf(name, sizeof(name), "_gateway_%016" APR_UINT64_T_HEX_FMT,
                 path_hash(path));
    if ((code = compile_file(path)) == NULL
        || (mod = PyModule_New(name)) == NULL) {
        goto fail;
    }
    d = PyModule_GetDict(mod); /* BORROWED */
    if (PyModule_AddStringConstant(mod, "__file__", path) < 0
        || PyDict_SetItemString(d, "__builtins__", PyEval_GetBuiltins()) < 0
        || PyDict_SetItemString(modules, name, mod) < 0) {
        goto fail;
    }
    r = PyEval_EvalCode(code, d, d);
    if (r == NULL) {
        PyObject *t, *v, *tb;

        PyErr_Fetch(&t, &v, &tb);
        PyDict_DelItemString(modules, name);
        PyErr_Clear();
        PyErr_Restore(t, v, tb);
        goto fail;
    }
    Py_DECREF(r);
    Py_DECREF(code);
    return mod;
fail:
    Py_XDECREF(code);
    Py_XDECREF(mod);
    return NULL;
}

/* Paste Deploy, as `paster serve` does it: logging from the file's
 * [loggers]/[handlers] sections, then loadapp('config:...'). */
static const char paste_loader[] =
    "import os, configparser, logging.config\n"
    "from paste.deploy import loadapp\n"
    "_here = os.path.dirname(_path)\n"
    "_cp = configparser.ConfigParser()\n"
    "_cp.read(_path)\n"
    "if _cp.has_section('loggers'):\n"
    "    logging.config.fileConfig(_path, dict(__file__=_path, here=_here),\n"
    "                              disable_existing_loggers=False)\n"
    /* A console handler would turn every record into one ErrorLog level;
     * ours keeps the record's level, with the file's format and level. */
    "    import sys, mod_gateway\n"
    "    _all = [logging.getLogger()] + [l for l in\n"
    "            logging.Logger.manager.loggerDict.values()\n"
    "            if isinstance(l, logging.Logger)]\n"
    "    for _lg in _all:\n"
    "        for _h in list(_lg.handlers):\n"
    "            if isinstance(_h, logging.StreamHandler) and \\\n"
    "                    _h.stream in (sys.stderr, sys.stdout):\n"
    "                _g = mod_gateway.GatewayHandler(_h.level)\n"
    "                _g.setFormatter(_h.formatter)\n"
    "                _lg.removeHandler(_h)\n"
    "                _lg.addHandler(_g)\n"
    "application = loadapp('config:' + _path, name=_name)\n";

static int is_paste(const char *path)
{
    size_t n = strlen(path);

    return n > 4 && strcmp(path + n - 4, ".ini") == 0;
}

/* NEW ref: the app of a Paste Deploy file, as a module-like namespace
 * (a module whose `application` is the app). */
static PyObject *exec_paste(const char *path, const char *name)
{
    char modname[48];
    PyObject *mod = NULL, *d, *r;

    apr_snprintf(modname, sizeof(modname), "_gateway_paste_%016"
                 APR_UINT64_T_HEX_FMT, path_hash(path));
    if ((mod = PyModule_New(modname)) == NULL) {
        return NULL;
    }
    d = PyModule_GetDict(mod); /* BORROWED */
    if (PyModule_AddStringConstant(mod, "__file__", path) < 0
        || PyModule_AddStringConstant(mod, "_path", path) < 0
        || PyModule_AddStringConstant(mod, "_name", name) < 0
        || PyDict_SetItemString(d, "__builtins__", PyEval_GetBuiltins()) < 0
        || (r = PyRun_String(paste_loader, Py_file_input, d, d)) == NULL) {
        Py_DECREF(mod);
        return NULL;
    }
    Py_DECREF(r);
    return mod;
}

/* BORROWED from the cache (under keyname): the module for path, loaded or
 * reloaded as needed; paste_name selects a Paste Deploy app instead of a
 * script. Called with the interpreter's load lock held. */
static PyObject *cached(gw_interp_t *interp, const char *keyname,
                        apr_time_t mtime, int reload, const char *path,
                        const char *paste_name)
{
    /* The key is the interpreter's cached str for keyname: no str is
     * built and hashed per request. */
    PyObject *key = gw_interp_key(interp, keyname, strlen(keyname));
    PyObject *cache = gw_interp_cache(interp), *entry, *mod, *pair;

    if (key == NULL) {
        return NULL;
    }
    entry = PyDict_GetItemWithError(cache, key); /* BORROWED */
    if (entry) {
        long long seen = PyLong_AsLongLong(PyTuple_GET_ITEM(entry, 1));

        if (!reload || seen == (long long)mtime) {
            Py_DECREF(key);
            return PyTuple_GET_ITEM(entry, 0);
        }
        {
            char msg[600];

            apr_snprintf(msg, sizeof(msg), "GW0107: the WSGI script '%s' "
                         "changed (mtime %lld -> %lld); importing it again",
                         path, seen, (long long)mtime);
            gw_python_log(APLOG_INFO, msg);
        }
    }
    else if (PyErr_Occurred()) {
        Py_DECREF(key);
        return NULL;
    }
    mod = paste_name ? exec_paste(path, paste_name) : exec_script(path);
    pair = mod ? Py_BuildValue("(NL)", mod, (long long)mtime) : NULL;
    if (pair == NULL || PyDict_SetItem(cache, key, pair) < 0) {
        Py_XDECREF(pair);
        Py_DECREF(key);
        return NULL;
    }
    mod = PyTuple_GET_ITEM(pair, 0); /* the cache keeps pair alive */
    Py_DECREF(pair);
    Py_DECREF(key);
    return mod;
}

/* NEW ref: mod.name, with the name as the interpreter's interned str (no
 * str is built per request). */
static PyObject *attr(gw_interp_t *interp, PyObject *mod, const char *name)
{
    PyObject *key = gw_interp_key(interp, name, strlen(name)), *v;

    if (key == NULL) {
        return NULL;
    }
    v = PyObject_GetAttr(mod, key);
    Py_DECREF(key);
    return v;
}

PyObject *gw_loader_app(gw_interp_t *interp, const char *path,
                        apr_time_t mtime, int reload, const char *callable)
{
    PyObject *mod, *app;

    if (is_paste(path)) {
        /* For a .ini file the "callable" names the app section; the
         * default callable name means Paste's default, "main". */
        const char *name = strcmp(callable, "application") == 0 ? "main"
                                                                : callable;
        char key[4096];

        apr_snprintf(key, sizeof(key), "%s#%s", path, name);

        GW_PY_BLOCKING(gw_interp_lock(interp));
        mod = cached(interp, key, mtime, reload, path,
                     name);
        app = mod ? PyObject_GetAttrString(mod, "application") : NULL;
        gw_interp_unlock(interp);
        return app;
    }

    GW_PY_BLOCKING(gw_interp_lock(interp));
    mod = cached(interp, path, mtime, reload, path, NULL);
    app = mod ? attr(interp, mod, callable) : NULL;
    gw_interp_unlock(interp);
    if (mod && app == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        PyErr_Format(PyExc_LookupError, "the WSGI script '%s' defines no "
                     "callable '%s' (set GatewayCallableObject or the "
                     "callable-object= option)", path, callable);
    }
    return app;
}

int gw_loader_import(gw_interp_t *interp, const char *path)
{
    PyObject *mod;
    struct stat st;
    apr_time_t mtime = 0;

    if (stat(path, &st) == 0) {
        mtime = apr_time_from_sec(st.st_mtime) + st.st_mtim.tv_nsec / 1000;
    }
    GW_PY_BLOCKING(gw_interp_lock(interp));
    mod = cached(interp, path, mtime, 1, path, NULL);
    gw_interp_unlock(interp);
    return mod ? 0 : -1;
}

void gw_loader_log_error(gw_io_t *io, const char *path, const char *group)
{
    int import_error = PyErr_ExceptionMatches(PyExc_ImportError);
    char what[600];

    apr_snprintf(what, sizeof(what), "cannot load the WSGI script '%s':",
                 path);
    gw_adapter_log_exception(io, APLOG_ERR, "GW0104", what);
    if (import_error && *group) {
        apr_snprintf(what, sizeof(what), "GW0105: [%s] an import failed in "
                     "the sub-interpreter '%s'; if the module is a C "
                     "extension that does not support sub-interpreters, run "
                     "this application with GatewayApplicationGroup "
                     "%%{GLOBAL}", io ? io->request_id : "-", group);
        if (io) {
            GW_PY_BLOCKING(io->ops->log(io, APLOG_ERR, what));
        }
        else {
            gw_python_log(APLOG_ERR, what);
        }
    }
}

void gw_loader_preload(const char *script, const char *app_group)
{
    const char *err = NULL;
    gw_interp_t *interp = gw_python_acquire(app_group, &err);
    char what[512];

    if (interp == NULL) {
        return;
    }
    if (gw_loader_import(interp, script) < 0) {
        apr_snprintf(what, sizeof(what), "cannot preload '%s' in the "
                     "application group '%s':", script, app_group);
        gw_adapter_log_exception(NULL, APLOG_ERR, "GW0106", what);
    }
    gw_python_release(interp);
}

int gw_loader_changed(gw_interp_t *interp, const char *path,
                      apr_time_t mtime)
{
    PyObject *key = gw_interp_key(interp, path, strlen(path)), *entry;
    int changed = 0;

    if (key == NULL) {
        PyErr_Clear();
        return 0;
    }
    entry = PyDict_GetItemWithError(gw_interp_cache(interp), key);
    if (entry) {
        changed = PyLong_AsLongLong(PyTuple_GET_ITEM(entry, 1))
                  != (long long)mtime;
    }
    PyErr_Clear();
    Py_DECREF(key);
    return changed;
}
