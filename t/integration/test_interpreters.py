"""Interpreters (DESIGN.md section 7): application groups, per-thread
thread states, several sites in one server, C extensions and %{GLOBAL},
atexit handlers in every interpreter.  Every test runs in embedded and in
daemon mode.

Most tests share one module-wide server per mode (event MPM) whose extra
config mounts apps/interp_probe.wsgi under /ig/... with every kind of
application group, and three name-based virtual hosts on srv.port2 (two
Django projects and a Flask app that the fixture generates into srv.tmp).
In daemon mode the /ig/ mounts go to one daemon process
(`GatewayDaemonProcess interp processes=1`) so that every request of a test
sees the same process, the virtual hosts to `sites` (processes=2), and the
PyGILState probe to a group of its own; in embedded mode a test sends its
requests over one keep-alive connection, which one Apache child serves.

The tests that need a particular process layout (threads=1, prefork,
maximum-requests=2, a server stop) start one-off servers with make_server.

Run: cd <repo> && /usr/bin/python3 -m pytest -q t/integration/test_interpreters.py
"""
import concurrent.futures
import importlib.util
import json
import os
import random
import signal
import subprocess
import textwrap

import pytest
import requests

import conftest
from conftest import (SHUTDOWN_PATTERNS, HttpdServer, RawConn, crash_lines,
                      wait_until)

MPM = "event"
MODES = ["embedded", "daemon"]
# The module runs the same Python as this test (Debian's 3.11), where the
# interpreter id is available.
HAVE_XI = importlib.util.find_spec("_xxsubinterpreters") is not None


# --------------------------------------------------------------------------
# files the tests generate into <root>/tmp

def _write(path, text):
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text).lstrip())
    os.chmod(path, 0o644)


DJANGO_SETTINGS = """
    SECRET_KEY = "interp-test-{name}"
    DEBUG = False
    ALLOWED_HOSTS = ["*"]
    INSTALLED_APPS = []
    MIDDLEWARE = []
    DATABASES = {{}}
    ROOT_URLCONF = "{name}.urls"
    USE_I18N = False
    USE_TZ = True
    SITE_LABEL = "{label}"
    """

DJANGO_URLS = """
    import os
    import sys

    from django.conf import settings
    from django.http import JsonResponse
    from django.urls import path


    def index(request):
        return JsonResponse({
            "label": settings.SITE_LABEL,
            "settings_module": settings.SETTINGS_MODULE,
            "site_modules": sorted(k for k in sys.modules if "site_" in k),
            "env": os.environ.get("DJANGO_SETTINGS_MODULE"),
            "group": request.META.get("mod_gateway.application_group"),
            "pid": os.getpid(),
        })


    urlpatterns = [path("", index)]
    """

# As `django-admin startproject` writes it, plus the project's parent
# directory on sys.path.
DJANGO_WSGI = """
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    from django.core.wsgi import get_wsgi_application

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{name}.settings")

    application = get_wsgi_application()
    """

FLASK_APP = """
    import os
    import sys

    from flask import Flask, jsonify, request

    app = Flask(__name__)


    @app.route("/")
    def index():
        return jsonify(label="{label}",
                       settings_module=None,
                       site_modules=sorted(k for k in sys.modules if "site_" in k),
                       env=os.environ.get("DJANGO_SETTINGS_MODULE"),
                       group=request.environ.get("mod_gateway.application_group"),
                       pid=os.getpid())


    application = app
    """

# host -> (label, settings module, script relative to <tmp>/sites)
SITES = {
    "a.test": ("Site A", "site_a.settings", "site_a/wsgi.py"),
    "b.test": ("Site B", "site_b.settings", "site_b/wsgi.py"),
    "c.test": ("Site C (Flask)", None, "flask_c/app.wsgi"),
}


def _make_sites(tmp):
    """Two tiny Django projects side by side in <tmp>/sites (so each could
    import the other's settings) and a Flask app."""
    base = os.path.join(tmp, "sites")
    for host, (label, settings, script) in SITES.items():
        if settings is None:
            _write(os.path.join(base, script), FLASK_APP.format(label=label))
            continue
        name = settings.split(".")[0]
        _write(os.path.join(base, name, "__init__.py"), "")
        _write(os.path.join(base, name, "settings.py"),
               DJANGO_SETTINGS.format(name=name, label=label))
        _write(os.path.join(base, name, "urls.py"), DJANGO_URLS)
        _write(os.path.join(base, name, "wsgi.py"), DJANGO_WSGI.format(name=name))
    return base


def _make_pylib(tmp):
    """<tmp>/ilib, on GatewayPythonPath: the counter module the /ig/ apps
    share within one interpreter."""
    _write(os.path.join(tmp, "ilib", "interp_counter.py"), "COUNT = 0\n")


def _main_extra(srv):
    """Extra config of the module-wide server (see the module docstring).
    srv.tmp is not set yet when this runs."""
    root = srv.root
    tmp = os.path.join(root, "tmp")
    daemon = srv.mode == "daemon"
    _make_pylib(tmp)
    sites = _make_sites(tmp)
    # a second script file with the same code, for "two apps, one group"
    with open(os.path.join(root, "apps", "interp_probe.wsgi")) as f:
        _write(os.path.join(tmp, "interp", "peer.wsgi"), f.read())
    probe = os.path.join(root, "apps", "interp_probe.wsgi")
    peer = os.path.join(tmp, "interp", "peer.wsgi")
    apps = os.path.join(root, "apps")
    pg = " process-group=interp" if daemon else ""
    gs = " process-group=gilstate" if daemon else ""
    lines = [
        'GatewayPythonPath "%s/ilib"' % tmp,
        '<Directory "%s">' % tmp,
        "    Require all granted",
        "</Directory>",
    ]
    if daemon:
        lines += ["GatewayDaemonProcess interp processes=1 threads=4",
                  "GatewayDaemonProcess sites processes=2 threads=4",
                  "GatewayDaemonProcess gilstate processes=1 threads=4"]
    lines += [
        # %{GLOBAL}: by option and by directive
        'GatewayScriptAlias /ig/global-a "%s" application-group=%%{GLOBAL}%s' % (probe, pg),
        'GatewayScriptAlias /ig/global-b "%s"%s' % (peer, pg),
        "<Location /ig/global-b>",
        "    GatewayApplicationGroup %{GLOBAL}",
        "</Location>",
        # %{SERVER}
        'GatewayScriptAlias /ig/server-a "%s" application-group=%%{SERVER}%s' % (probe, pg),
        'GatewayScriptAlias /ig/server-b "%s"%s' % (peer, pg),
        "<Location /ig/server-b>",
        "    GatewayApplicationGroup %{SERVER}",
        "</Location>",
        # %{RESOURCE}: the default, and explicit; same script, two URLs
        'GatewayScriptAlias /ig/res-a "%s"%s' % (probe, pg),
        'GatewayScriptAlias /ig/res-b "%s" application-group=%%{RESOURCE}%s' % (probe, pg),
        # a literal name shared by two mounts of two scripts
        'GatewayScriptAlias /ig/named-a "%s" application-group=interp_shared%s' % (probe, pg),
        'GatewayScriptAlias /ig/named-b "%s"%s' % (peer, pg),
        "<Location /ig/named-b>",
        "    GatewayApplicationGroup interp_shared",
        "</Location>",
        'GatewayScriptAlias /ig/tls "%s"%s' % (probe, pg),
        'GatewayScriptAlias /ig/sysinfo-global "%s/sysinfo.wsgi" application-group=%%{GLOBAL}%s' % (apps, pg),
        'GatewayScriptAlias /ig/sysinfo-named "%s/sysinfo.wsgi" application-group=interp_shared%s' % (apps, pg),
        'GatewayScriptAlias /ig/sysinfo-res "%s/sysinfo.wsgi"%s' % (apps, pg),
        # C extensions
        'GatewayScriptAlias /ig/numpy "%s/interp_numpy.wsgi" application-group=%%{GLOBAL}%s' % (apps, pg),
        'GatewayScriptAlias /ig/importfail "%s/interp_importfail.wsgi"%s' % (apps, pg),
        # a group of its own: its threads are fresh when the test starts
        'GatewayScriptAlias /ig/gs-sub "%s/interp_gilstate.wsgi"%s' % (apps, gs),
        'GatewayScriptAlias /ig/gs-global "%s/interp_gilstate.wsgi" application-group=%%{GLOBAL}%s' % (apps, gs),
    ]
    # three name-based virtual hosts, declared like the template's vh1.test
    for host, (label, settings, script) in SITES.items():
        lines += ["<VirtualHost 127.0.0.1:%d>" % srv.port2,
                  "    ServerName %s" % host]
        if daemon:
            lines.append("    GatewayProcessGroup sites")
        lines += ['    GatewayScriptAlias / "%s/%s"' % (sites, script),
                  "</VirtualHost>"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# fixtures and helpers

def patient_stop(srv, timeout=20.0):
    """SIGTERM httpd and give its processes `timeout` seconds to end before
    srv.stop() (which allows 3 s, then SIGKILLs). Ending the interpreters of
    a process that loaded Django twice, Flask and numpy takes about 0.2 s of
    CPU, which on a loaded test machine has been seen to take more than
    3 s; a daemon may legitimately take graceful-timeout plus
    shutdown-timeout. Returns what srv.stop() returns: the processes still
    alive after that."""
    if srv.proc is not None and srv.proc.poll() is None:
        srv.settle()
        os.kill(srv.proc.pid, signal.SIGTERM)
        try:
            srv.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    wait_until(lambda: not srv._our_pids(), timeout)
    return srv.stop()


@pytest.fixture(scope="module",
                params=[(m, mode) for m in conftest.MPMS for mode in MODES],
                ids=["%s-%s" % (m, mode) for m in conftest.MPMS
                     for mode in MODES])
def _isrv(request):
    mpm, mode = request.param
    srv = HttpdServer(mpm, mode, extra=_main_extra, name="interp")
    try:
        srv.start()
    except BaseException:
        srv.cleanup()
        raise
    yield srv
    leftovers = patient_stop(srv)
    # httpd warns (AH00045) after 3 s and kills (AH00046) after ~9 s; only
    # the kill is held against the module here (see patient_stop)
    killed = [l for l in srv.log_since() if any(p in l for p in SHUTDOWN_PATTERNS)
              and "SIGKILL" in l]
    bad = crash_lines(srv.log_since())
    srv.cleanup()
    assert not leftovers, "processes outlived httpd %s by 20 s: %r" % (
        srv.param, leftovers)
    assert not killed, "children killed at shutdown:\n" + "\n".join(killed)
    assert not bad, "crash/alert lines:\n" + "\n".join(bad[:20])


@pytest.fixture
def srv(_isrv):
    """The module-wide server; fails the test if it logged a crash."""
    mark = _isrv.log_mark()
    yield _isrv
    bad = crash_lines(_isrv.log_since(mark))
    if bad:
        pytest.fail("crash/alert lines in the error log during this test:\n"
                    + "\n".join(bad[:20]), pytrace=False)


class Client:
    """One keep-alive connection: all its requests are served by one Apache
    child (and, in daemon mode, by whichever daemon process the child
    picks)."""

    def __init__(self, srv, port=None):
        self.srv = srv
        self.conn = RawConn(port or srv.port)

    def get(self, path, host=None):
        self.conn.request("GET", path, host=host)
        r = self.conn.read_response()
        assert r.complete and not r.eof, (path, r)
        return r

    def json(self, path, host=None):
        r = self.get(path, host)
        assert r.status == 200, (path, r.status, r.body[:3000], logtail(self.srv))
        return json.loads(r.body)

    def close(self):
        self.conn.close()


def logtail(srv, n=30):
    return "\n".join(srv.log_since()[-n:])


def tail_lines(srv, mark, *needles):
    return [l for l in srv.log_since(mark) if all(n in l for n in needles)]


def same_interp(a, b):
    """Two probe answers come from the same interpreter of one process."""
    return (a["pid"] == b["pid"] and a["interp_token"] == b["interp_token"]
            and a["interp_id"] == b["interp_id"])


# --------------------------------------------------------------------------
# 1. application groups

def test_global_group_is_the_main_interpreter(srv):
    """%{GLOBAL} (by option and by GatewayApplicationGroup): group "", the
    main interpreter, and two scripts share module objects there."""
    c = Client(srv)
    a = c.json("/ig/global-a?bump=1")
    b = c.json("/ig/global-b?counter=1")
    assert a["group"] == "" and b["group"] == "", (a, b)
    assert a["pid"] == b["pid"], (a, b)
    assert a["script"] != b["script"]          # two script files...
    assert a["load_token"] != b["load_token"]
    assert same_interp(a, b), (a, b)           # ... one interpreter
    if HAVE_XI:
        assert a["interp_id"] == a["main_id"] == 0, a
    # one module object, one counter
    assert a["counter"]["module_id"] == b["counter"]["module_id"], (a, b)
    assert a["counter"]["file"].startswith(os.path.join(srv.tmp, "ilib")), a
    assert b["counter"]["value"] == a["counter"]["value"] >= 1, (a, b)
    b2 = c.json("/ig/global-b?bump=1")
    a2 = c.json("/ig/global-a?counter=1")
    assert a2["counter"]["value"] == b2["counter"]["value"] == a["counter"]["value"] + 1
    # the same script file is not executed again
    assert a2["load_token"] == a["load_token"]
    c.close()


def test_server_group(srv):
    """%{SERVER}: "host:port", one interpreter for the whole virtual host,
    and not the main one."""
    c = Client(srv)
    g = c.json("/ig/global-a?counter=1")
    a = c.json("/ig/server-a?bump=1")
    b = c.json("/ig/server-b?counter=1")
    want = "localhost:%d" % srv.port
    assert a["group"] == want and b["group"] == want, (a["group"], b["group"])
    assert same_interp(a, b), (a, b)
    assert a["load_token"] != b["load_token"]
    assert not same_interp(a, g), (a, g)
    if HAVE_XI:
        assert a["interp_id"] != a["main_id"], a
    assert b["counter"]["value"] == a["counter"]["value"] >= 1
    assert a["counter"]["module_id"] == b["counter"]["module_id"]
    # the main interpreter's counter was not touched
    assert c.json("/ig/global-a?counter=1")["counter"]["value"] == g["counter"]["value"]
    c.close()


def test_resource_group_one_interpreter_per_url(srv):
    """%{RESOURCE} (the default, and explicit): "host:port|SCRIPT_NAME"; the
    same script at two URLs runs in two interpreters, one URL always in the
    same one; the client's Host port does not make a new one."""
    c = Client(srv)
    a1 = c.json("/ig/res-a?bump=1&flag=resa")
    b1 = c.json("/ig/res-b?counter=1")
    a2 = c.json("/ig/res-a/some/path?bump=1")
    b2 = c.json("/ig/res-b?bump=1")
    assert a1["group"] == "localhost:%d|/ig/res-a" % srv.port, a1["group"]
    assert a2["group"] == a1["group"], a2["group"]
    assert b1["group"] == "localhost:%d|/ig/res-b" % srv.port, b1["group"]
    assert a1["script"] == b1["script"]
    assert a1["pid"] == b1["pid"] == a2["pid"] == b2["pid"]
    # different URLs: different interpreters, separate module state
    assert a1["load_token"] != b1["load_token"]
    assert a1["interp_token"] != b1["interp_token"]
    if HAVE_XI:
        assert a1["interp_id"] != b1["interp_id"], (a1, b1)
        assert a1["main_id"] not in (a1["interp_id"], b1["interp_id"])
    assert "resa" in a1["flags"] and "resa" not in b1["flags"], (a1, b1)
    assert a2["counter"]["value"] == a1["counter"]["value"] + 1
    assert b2["counter"]["value"] == b1["counter"]["value"] + 1
    # same URL: same interpreter, same loaded script
    assert same_interp(a1, a2) and a1["load_token"] == a2["load_token"]
    assert same_interp(b1, b2) and b1["load_token"] == b2["load_token"]
    # The port in the name is the port the connection came in on, never
    # the one in the Host header (a client cannot mint interpreters).
    h = c.json("/ig/res-a", host="localhost:1234")
    assert h["group"] == a1["group"], h["group"]
    assert same_interp(h, a1) and h["load_token"] == a1["load_token"]
    c.close()


def test_literal_group_shared_by_two_mounts(srv):
    """application-group=NAME and GatewayApplicationGroup NAME on two mounts
    of two scripts: one interpreter, shared sys.modules and counter."""
    c = Client(srv)
    a = c.json("/ig/named-a?bump=1&flag=nameda")
    b = c.json("/ig/named-b?counter=1")
    assert a["group"] == b["group"] == "interp_shared", (a["group"], b["group"])
    assert same_interp(a, b), (a, b)
    assert a["load_token"] != b["load_token"]
    assert "nameda" in b["flags"], b
    assert b["counter"]["value"] == a["counter"]["value"] >= 1
    assert a["counter"]["module_id"] == b["counter"]["module_id"]
    c.close()


def test_groups_are_distinct_interpreters(srv):
    """The four kinds of group are four interpreters: sys.modules entries
    set in one are not visible in any other."""
    c = Client(srv)
    paths = ["/ig/global-a", "/ig/server-a", "/ig/res-a", "/ig/named-a"]
    flags = {p: "d%d" % i for i, p in enumerate(paths)}
    for p in paths:
        c.json("%s?flag=%s" % (p, flags[p]))
    docs = {p: c.json(p) for p in paths}
    assert len({d["pid"] for d in docs.values()}) == 1, docs
    assert len({d["interp_token"] for d in docs.values()}) == 4, docs
    if HAVE_XI:
        assert len({d["interp_id"] for d in docs.values()}) == 4, docs
    for p, d in docs.items():
        seen = {f for f in d["flags"] if f in flags.values()}
        assert seen == {flags[p]}, (p, d["group"], d["flags"])
    c.close()


def test_python_path_in_every_interpreter(srv):
    """GatewayPythonPath (the template's pylib with a .pth file pulling in
    pylib2) is applied with site.addsitedir in the main interpreter and in
    each sub-interpreter, in both modes."""
    for path in ["/ig/sysinfo-global", "/ig/sysinfo-named", "/ig/sysinfo-res"]:
        d = srv.get_json(path)
        assert d["pathmod"] == "from-pylib", (path, d)
        assert d["pthmod"] == "from-pth", (path, d)
        assert os.path.join(srv.tmp, "ilib") in d["path"], (path, d["path"])


# --------------------------------------------------------------------------
# 2. thread states persist

def test_threading_local_per_thread(srv):
    """Under concurrency, every (process, thread) sees its own
    threading.local counter go 1, 2, 3, ... without gaps or repeats: a thread
    keeps its thread state between requests, and no two threads share one."""
    def one(_):
        r = requests.get(srv.url("/ig/tls"), timeout=15)
        assert r.status_code == 200, r.text
        d = r.json()
        return d["pid"], d["tid"], d["tls"]

    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        results = list(ex.map(one, range(60)))
    seen = {}
    for pid, tid, n in results:
        seen.setdefault((pid, tid), []).append(n)
    for key, ns in seen.items():
        assert sorted(ns) == list(range(1, len(ns) + 1)), (key, sorted(ns), seen)


def _tls_sequence(srv, path, n, keepalive):
    docs = []
    if keepalive:
        c = Client(srv)
        docs = [c.json(path) for _ in range(n)]
        c.close()
    else:
        for _ in range(n):
            r = srv.get(path)
            assert r.status_code == 200, (r.text, logtail(srv))
            docs.append(r.json())
    return docs


@pytest.mark.parametrize("mode", MODES)
def test_threading_local_survives_between_requests(make_server, mode):
    """daemon: processes=1 threads=1, three requests on three connections
    are served by the one thread, whose threading.local counter goes 1, 2,
    3. embedded: prefork (one thread per child), three requests on one
    keep-alive connection, i.e. the same child."""
    if mode == "daemon":
        srv = make_server(mpm=MPM, mode=mode, extra=lambda s: (
            "GatewayDaemonProcess one processes=1 threads=1\n"
            'GatewayScriptAlias /tls "%s/apps/interp_probe.wsgi" '
            "process-group=one\n" % s.root))
        docs = _tls_sequence(srv, "/tls", 3, keepalive=False)
    else:
        srv = make_server(mpm="prefork", mode=mode)
        docs = _tls_sequence(srv, "/interp_probe", 3, keepalive=True)
    assert len({d["pid"] for d in docs}) == 1, docs
    assert len({d["tid"] for d in docs}) == 1, docs
    assert len({d["load_token"] for d in docs}) == 1, docs
    assert [d["tls"] for d in docs] == [1, 2, 3], docs


# --------------------------------------------------------------------------
# 3. two Django sites and a Flask app in one server

def _site_problems(host, status, text, port2, pids):
    """What is wrong with one answer of a site (an empty list if nothing)."""
    label, settings, _ = SITES[host]
    if status != 200:
        return ["status %s: %s" % (status, text[:300])]
    d = json.loads(text)
    pids.setdefault(host, set()).add(d["pid"])
    wrong = []
    if d["label"] != label:
        wrong.append("label %r" % d["label"])
    if d["settings_module"] != settings:
        wrong.append("SETTINGS_MODULE %r" % d["settings_module"])
    # os.environ is the interpreter's own: what this site set, or (the
    # Flask app) nothing that another interpreter set
    if d["env"] != settings:
        wrong.append("os.environ DJANGO_SETTINGS_MODULE %r" % d["env"])
    own = settings.split(".")[0] if settings else None
    foreign = [m for m in d["site_modules"] if m.split(".")[0] != own]
    if foreign:
        wrong.append("foreign modules %r" % foreign)
    if d["group"] != "%s:%d|" % (host, port2):
        wrong.append("group %r" % d["group"])
    return wrong


def test_two_django_sites_and_flask_under_load(srv):
    """Three name-based virtual hosts with the default %{RESOURCE} groups,
    ~300 requests from 8 threads mixed across them: every answer is 200 and
    each site answers with its own label and settings, never another's.
    Embedded: all three live in each Apache child; daemon: in each process
    of the one group 'sites'.

    Site A is up first (as when site B gets its first request while A is
    already serving): 16 requests for A alone, spread over the processes,
    then 300 mixed. The wsgi.py files use os.environ.setdefault() as
    `django-admin startproject` writes them; DJANGO_SETTINGS_MODULE set by
    site A's interpreter must not become site B's default, nor appear in
    the Flask app's os.environ."""
    hosts = [h for h in SITES for _ in range(100)]
    random.Random(7).shuffle(hosts)

    def one(host):
        try:
            r = requests.get(srv.url2("/"), timeout=30,
                             headers={"Host": "%s:%d" % (host, srv.port2)})
        except requests.RequestException as e:
            return host, None, repr(e)
        return host, r.status_code, r.text

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(one, ["a.test"] * 16))
        results += list(ex.map(one, hosts))

    problems = {}        # (host, what was wrong) -> number of requests
    pids = {}
    nbad = 0
    for host, status, text in results:
        wrong = _site_problems(host, status, text, srv.port2, pids)
        for what in wrong:
            problems[(host, what)] = problems.get((host, what), 0) + 1
        nbad += bool(wrong)
    assert not problems, "%d/%d requests wrong: %s\n%s" % (
        nbad, len(results),
        json.dumps({"%s: %s" % k: v for k, v in problems.items()}, indent=1),
        logtail(srv, 40))
    if srv.mode == "daemon":
        # the three sites share the processes of the one group
        assert pids["a.test"] & pids["b.test"] & pids["c.test"], pids


# --------------------------------------------------------------------------
# 4. C extensions

def test_numpy_in_global_group(srv):
    d = srv.get_json("/ig/numpy")
    assert d["sum"] == 10, d
    assert d["group"] == "", d


def test_import_error_in_sub_interpreter_hints_global(srv):
    """A script whose import fails in a sub-interpreter: 500, the traceback
    under GW0104, then the GW0105 hint naming the group and %{GLOBAL}."""
    mark = srv.log_mark()
    r = srv.get("/ig/importfail")
    assert r.status_code == 500, (r.status_code, r.text[:500])
    group = "localhost:%d|/ig/importfail" % srv.port
    tb = srv.wait_log(lambda l: "GW0104:" in l
                      and "this_module_does_not_exist" in l, mark, 5)
    assert tb, logtail(srv)
    assert srv.wait_log(lambda l: "GW0104:" in l and "cannot load the WSGI "
                        "script" in l and "interp_importfail.wsgi" in l, mark)
    hint = srv.wait_log("GW0105:", mark, 3)
    assert hint, "no GW0105 hint after the ImportError (%s mode):\n%s" % (
        srv.mode, "\n".join(srv.log_since(mark)))
    assert len(hint) == 1, hint
    assert "'%s'" % group in hint[0], hint
    assert "GatewayApplicationGroup %{GLOBAL}" in hint[0], hint
    # the hint carries the request id of the GW0104 report
    rid = tb[0].split("GW0104: [", 1)[1].split("]", 1)[0]
    assert "GW0105: [%s]" % rid in hint[0], (rid, hint)


def test_pygilstate_in_global_group(srv):
    """An extension that calls PyGILState_Ensure() must work in %{GLOBAL}:
    on every thread, the thread state PyGILState_* knows for the thread
    (PyGILState_GetThisThreadState) is the one running the %{GLOBAL}
    request, also on threads that served a sub-interpreter first.
    Otherwise PyGILState_Ensure() waits for the GIL the thread already
    holds: the request hangs (daemon: GW0324 after deadlock-timeout).
    The app compares the pointers instead of calling it."""
    assert srv.get_json("/ig/gs-sub")["group"] != ""

    def get(path):
        r = requests.get(srv.url(path), timeout=15)
        assert r.status_code == 200, r.text
        return r.json()

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda i: get("/ig/gs-sub"), range(48)))
        docs = list(ex.map(lambda i: get("/ig/gs-global"), range(48)))
    assert all(d["group"] == "" for d in docs)
    bad = sorted({(d["pid"], d["tid"]) for d in docs if not d["same"]})
    threads = {(d["pid"], d["tid"]) for d in docs}
    assert not bad, ("%d of %d threads serving %%{GLOBAL} have a "
                     "PyGILState thread state that is not their current "
                     "one (PyGILState_Ensure() would deadlock there): %r"
                     % (len(bad), len(threads), bad))


# --------------------------------------------------------------------------
# 5. atexit handlers run in every interpreter

def _atexit_lines(srv):
    try:
        with open(os.path.join(srv.tmp, "interp-atexit.log")) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


@pytest.mark.parametrize("mode", MODES)
def test_atexit_runs_in_every_interpreter(make_server, mode):
    """An app in application group "a" and one in %{GLOBAL} each register
    an atexit handler. daemon: maximum-requests=2 recycles the process
    after the two requests; embedded: the server is stopped. Both handlers
    run in that process, the sub-interpreter's first."""
    def extra(s):
        app = "%s/apps/interp_atexit.wsgi" % s.root
        pg = " process-group=rec" if mode == "daemon" else ""
        lines = ["GatewayDaemonProcess rec processes=1 threads=1 "
                 "maximum-requests=2"] if mode == "daemon" else []
        lines += ['GatewayScriptAlias /ax/a "%s" application-group=a%s' % (app, pg),
                  'GatewayScriptAlias /ax/g "%s" application-group=%%{GLOBAL}%s'
                  % (app, pg)]
        return "\n".join(lines) + "\n"

    srv = make_server(mpm=MPM, mode=mode, extra=extra)
    c = Client(srv)
    a = c.json("/ax/a")
    g = c.json("/ax/g")
    c.close()
    assert a["pid"] == g["pid"], (a, g)
    assert (a["group"], g["group"]) == ("a", "%{GLOBAL}")
    pid = a["pid"]
    want = ["a %d" % pid, "%%{GLOBAL} %d" % pid]
    if mode == "daemon":
        assert srv.wait_log(lambda l: "GW0320" in l and "process %d " % pid in l,
                            timeout=5), logtail(srv)
        lines = wait_until(lambda: len(_atexit_lines(srv)) >= 2 and _atexit_lines(srv), 10)
        assert wait_until(lambda: not os.path.exists("/proc/%d" % pid), 5), pid
        # Let the replacement come up before the server is stopped: a
        # replacement forked (with a start-up back-off, GW0401) just as
        # httpd stops has been seen to outlive httpd.
        assert srv.wait_log(lambda l: "GW0310: daemon 'rec' process" in l
                            and "process %d " % pid not in l, timeout=10), logtail(srv)
    else:
        assert _atexit_lines(srv) == []
        assert not patient_stop(srv)
        lines = _atexit_lines(srv)
    assert lines == want, (lines, want, logtail(srv))
