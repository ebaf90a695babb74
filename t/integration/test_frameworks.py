"""Real frameworks from Debian's packages, in embedded and in daemon mode
(issue #5, item 1): Flask, Django, Pyramid, Bottle, CherryPy, web.py,
Falcon, WebOb, Paste (and a Paste Deploy .ini).

The apps live in t/integration/frameworks/ and are copied into each
server's root (<root>/frameworks, on GatewayPythonPath). One server per
(MPM, mode) serves every framework, each mounted at /<name> in the default
application group (%{RESOURCE}, one sub-interpreter per mount). The Django
project (all the contrib apps, sqlite) is migrated and its static files
collected once for the whole file, into a seed directory that each server
copies into <root>/tmp/django (owned by www-data); Apache serves
/static/ from there with mod_alias.

After every test the error-log lines it produced are checked: no crash or
alert lines, and no error/crit line and no non-application warning unless
the test allows it (a framework that answers 500 by itself, Django with
DEBUG off for example, still logs its traceback through `logging`, which
would show up here as GW0252 at error level).

Run: cd <repo> && /usr/bin/python3 -m pytest -q t/integration/test_frameworks.py
"""
import concurrent.futures
import hashlib
import html
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import (HTTP_TIMEOUT, KEEP, MODES, MPMS, SHUTDOWN_PATTERNS,
                      HttpdServer, RawConn, crash_lines, token, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
FW_SRC = os.path.join(HERE, "frameworks")
DJANGO_SRC = os.path.join(FW_SRC, "django")
PYTHON = "/usr/bin/python3"
RUN_USER = "www-data"
PATIENT_STOP = 20.0

DJANGO_ADMIN_USER = "gwadmin"
DJANGO_ADMIN_PASSWORD = "gw-Admin-pw-4711"

# name -> (mount, target relative to <root>/frameworks)
MOUNTS = {
    "flask": ("/flask", "flask_app.wsgi"),
    "django": ("/django", "django/gwsite/wsgi.py"),
    "pyramid": ("/pyramid", "pyramid_app.wsgi"),
    "bottle": ("/bottle", "bottle_app.wsgi"),
    "cherrypy": ("/cherrypy", "cherrypy_app.wsgi"),
    "web": ("/webpy", "webpy_app.wsgi"),
    "falcon": ("/falcon", "falcon_app.wsgi"),
    "webob": ("/webob", "webob_app.wsgi"),
    "paste": ("/paste", "paste_app.wsgi"),
    "pastedeploy": ("/pastedeploy", "paste.ini"),
}

# Framework modules an app may legitimately have besides its own
# (gwfw_common.MARKERS): Pyramid is built on WebOb.
MARKER_DEPS = {"pyramid": {"webob"}}

PARAMS = [(mpm, mode) for mode in MODES for mpm in MPMS]
PARAM_IDS = ["%s-%s" % p for p in PARAMS]

# Lines in the error log that are a failure unless a test allows them:
# errors and worse from anyone, and warnings from mod_gateway other than a
# warning the application logged itself (GW0252).
BAD_LEVEL_RE = re.compile(r"\[[\w.-]*:(error|crit|alert|emerg)\]")


# Besides conftest's crash patterns: a daemon process that died. Its keeper
# logs GW0404 (also after httpd's parent has exited, at shutdown); the
# parent logs GW0401 when it restarts one.
DAEMON_DEATH = ["GW0404:", "GW0401:", "was killed by signal"]


def fw_crash_lines(lines):
    return [l for l in lines if crash_lines([l])
            or any(p in l for p in DAEMON_DEATH)]


def _lines_after(lines, needle):
    for i, l in enumerate(lines):
        if needle in l:
            return lines[i + 1:]
    return []


def _bad_line(line):
    if BAD_LEVEL_RE.search(line):
        return True
    return "[gateway:warn]" in line and "GW0252:" not in line


# --------------------------------------------------------------------------
# the Django seed: migrate + superuser + collectstatic, once for the file

SEED_SCRIPT = r"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.contrib.auth import get_user_model
get_user_model().objects.create_superuser(%r, "gwadmin@example.test", %r)
call_command("collectstatic", interactive=False, verbosity=0)
from django.conf import settings
print(settings.DATABASES["default"]["NAME"])
print(settings.STATIC_ROOT)
""" % (DJANGO_ADMIN_USER, DJANGO_ADMIN_PASSWORD)


@pytest.fixture(scope="module")
def django_seed():
    seed = tempfile.mkdtemp(prefix="gwtest-djseed-", dir="/tmp")
    env = dict(os.environ)
    env.update({
        "GWFW_DJANGO_DATA": seed,
        "DJANGO_SETTINGS_MODULE": "gwsite.settings",
        "PYTHONPATH": os.pathsep.join([DJANGO_SRC, FW_SRC]),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    p = subprocess.run([PYTHON, "-c", SEED_SCRIPT], cwd=DJANGO_SRC, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "django seed failed:\n%s\n%s" % (p.stdout, p.stderr)
    db, static_root = p.stdout.split()
    assert db == os.path.join(seed, "db.sqlite3") and os.path.getsize(db) > 0
    assert os.path.isfile(os.path.join(static_root, "admin", "css", "base.css"))
    yield seed
    if not KEEP:
        shutil.rmtree(seed, ignore_errors=True)


def _chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for n in dirnames + filenames:
            os.chown(os.path.join(dirpath, n), uid, gid)


def _fw_extra(seed):
    """The extra config (a callable srv -> str: it needs srv.root) that
    also lays out <root>/frameworks and <root>/tmp/django."""

    def extra(srv):
        root = srv.root
        fw = os.path.join(root, "frameworks")
        shutil.copytree(FW_SRC, fw, ignore=shutil.ignore_patterns("__pycache__"))
        for dirpath, dirnames, filenames in os.walk(fw):
            os.chmod(dirpath, 0o755)
            for n in filenames:
                os.chmod(os.path.join(dirpath, n), 0o644)
        data = os.path.join(root, "tmp", "django")
        shutil.copytree(seed, data)
        pw = pwd.getpwnam(RUN_USER)
        for dirpath, dirnames, filenames in os.walk(data):
            os.chmod(dirpath, 0o755)
            for n in filenames:
                os.chmod(os.path.join(dirpath, n), 0o644)
        # sqlite writes the DB and a journal next to it
        _chown_tree(data, pw.pw_uid, pw.pw_gid)
        static = os.path.join(data, "static")
        lines = [
            'GatewayPythonPath "%s"' % fw,
            '<Directory "%s">' % fw,
            "    Require all granted",
            "</Directory>",
        ]
        for name, (mount, target) in MOUNTS.items():
            lines.append('GatewayScriptAlias %s "%s/%s"' % (mount, fw, target))
        lines += [
            'Alias /static/ "%s/"' % static,
            '<Directory "%s">' % static,
            "    Require all granted",
            "</Directory>",
        ]
        return "\n".join(lines) + "\n"

    return extra


# --------------------------------------------------------------------------
# the server: one per (MPM, mode) for the whole file


def _patient_stop(srv, timeout=PATIENT_STOP):
    """SIGTERM httpd, then give its processes `timeout` seconds to end
    before srv.stop() (which allows 3 s and then SIGKILLs). A process that
    has ten interpreters holding Django, Flask, Pyramid, CherryPy... needs
    about 0.5 s of CPU to end them; on a loaded test machine that has taken
    more than 3 s of wall time (the daemons were seen in state R, i.e.
    still finalizing, not hanging). A daemon may legitimately take up to
    graceful-timeout + shutdown-timeout (15 + 5 s)."""
    if srv.proc is not None and srv.proc.poll() is None:
        srv.settle()
        os.kill(srv.proc.pid, signal.SIGTERM)
        try:
            srv.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    wait_until(lambda: not srv._our_pids(), timeout)
    return srv.stop()


@pytest.fixture(scope="module", params=PARAMS, ids=PARAM_IDS)
def _fwsrv(request, django_seed):
    mpm, mode = request.param
    srv = HttpdServer(mpm, mode, extra=_fw_extra(django_seed), name="frameworks")
    try:
        srv.start()
    except BaseException:
        srv.stop()
        srv.cleanup()
        raise
    # one keep-alive connection for most requests, so that in embedded
    # mode one Apache child (not every one) loads all the frameworks
    srv.fw_http = requests.Session()
    yield srv
    srv.fw_http.close()
    # the checks of conftest's make_server teardown
    problems = []
    leftovers = _patient_stop(srv)
    if leftovers:
        problems.append("processes outlived httpd by %ss: %r" % (PATIENT_STOP, leftovers))
    # httpd re-sends SIGTERM to a child still running after 3 s (AH00045)
    # and SIGKILLs it after about 9 s (AH00046). A child that holds ten
    # framework-laden interpreters needs some CPU to end them (about 0.5 s;
    # they were seen in state R for up to 8 s on a test machine with a load
    # average of 20), so only the kill is held against the module.
    killed = [l for l in srv.log_since() if any(p in l for p in SHUTDOWN_PATTERNS)
              and "SIGKILL" in l]
    if killed:
        problems.append("children killed at shutdown:\n" + "\n".join(killed))
    bad = fw_crash_lines(srv.log_since())
    if bad:
        problems.append("crash/alert lines:\n" + "\n".join(bad[:20]))
    # what the apps and the module logged while stopping (atexit handlers
    # of ten interpreters, the daemons' shutdown): no errors either
    stopping = _lines_after(srv.log_since(), "caught SIGTERM, shutting down")
    noisy = [l for l in stopping if _bad_line(l) and l not in bad
             and not ("SIGKILL" in l and "still did not exit" in l)]
    if noisy:
        problems.append("error lines while stopping:\n" + "\n".join(noisy[:20]))
    srv.cleanup()
    if problems:
        pytest.fail("frameworks server %s: %s" % (srv.param, "\n".join(problems)),
                    pytrace=False)


class Site:
    """The module-wide server plus this test's error-log expectations."""

    def __init__(self, srv):
        self.srv = srv
        self.mark = srv.log_mark()
        self.allowed = []

    def __getattr__(self, name):
        return getattr(self.srv, name)

    def allow_log(self, *needles):
        """Lines containing one of needles are expected in this test."""
        self.allowed.extend(needles)

    def lines(self):
        return self.srv.log_since(self.mark)

    def wait_log(self, needle, timeout=3.0):
        return self.srv.wait_log(needle, self.mark, timeout)

    def session(self):
        """A fresh cookie jar on the shared keep-alive connection."""
        s = requests.Session()
        s.mount("http://", self.srv.fw_http.get_adapter("http://"))
        return s

    def get(self, path, session=None, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        kw.setdefault("allow_redirects", False)
        return (session or self.srv.fw_http).get(self.srv.url(path), **kw)

    def post(self, path, session=None, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        kw.setdefault("allow_redirects", False)
        return (session or self.srv.fw_http).post(self.srv.url(path), **kw)

    def json(self, path, session=None, status=200, **kw):
        r = self.get(path, session, **kw)
        assert r.status_code == status, self.explain(r)
        assert r.headers["Content-Type"].startswith("application/json"), r.headers
        return r.json()

    def explain(self, r):
        return "%s %s -> %s %r\n--- error log of this test ---\n%s" % (
            r.request.method, r.request.url, r.status_code, r.content[:1500],
            "\n".join(self.lines()[-40:]))


@pytest.fixture
def site(_fwsrv):
    _fwsrv.fw_http.cookies.clear()
    s = Site(_fwsrv)
    yield s
    time.sleep(0.05)   # a crash is reported by the parent slightly later
    lines = s.lines()
    bad = fw_crash_lines(lines)
    if bad:
        pytest.fail("crash/alert lines in the error log during this test:\n"
                    + "\n".join(bad[:20]), pytrace=False)
    unexpected = [l for l in lines if _bad_line(l)
                  and not any(n in l for n in s.allowed)]
    if unexpected:
        pytest.fail("unexpected error-log lines during this test:\n"
                    + "\n".join(unexpected[:30]), pytrace=False)


def _no_django_marker(r):
    assert "X-GW-Django" not in r.headers, r.headers


# --------------------------------------------------------------------------
# Flask

def test_flask_json(site):
    doc = site.json("/flask/api/info?q=v%C3%A4lue")
    assert doc == {
        "framework": "flask", "method": "GET", "path": "/api/info",
        # Werkzeug 2.2 gives request.url as an IRI
        "script_root": "/flask", "url": site.url("/flask/api/info?q=v\u00e4lue"),
        "q": "v\u00e4lue", "url_for": "/flask/api/info?q=z"}
    payload = {"a": [1, 2, {"b": None}], "s": "\u20ac", "t": token()}
    r = site.post("/flask/api/echo", json=payload)
    assert r.status_code == 201, site.explain(r)
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"received": payload, "content_type": "application/json"}


def test_flask_form_post(site):
    r = site.post("/flask/form", data=[("name", "J\u00fcrgen & Co"),
                                       ("tag", "x"), ("tag", "y z")])
    assert r.status_code == 200, site.explain(r)
    assert r.json() == {"name": "J\u00fcrgen & Co", "tags": ["x", "y z"],
                        "method": "POST"}
    # GET is not allowed on this route: Flask's own 405
    r = site.get("/flask/form")
    assert r.status_code == 405
    assert "POST" in r.headers["Allow"]


def test_flask_session_cookie_round_trip(site):
    tok = token()
    s = site.session()
    r = site.post("/flask/session/set", s, data={"value": tok})
    assert r.status_code == 200, site.explain(r)
    assert r.json() == {"stored": tok}
    set_cookie = r.headers["Set-Cookie"]
    assert set_cookie.startswith("session=") and "HttpOnly" in set_cookie
    assert "Path=/" in set_cookie, set_cookie
    assert "session" in s.cookies
    # the next request carries the signed cookie and gets the value back
    assert site.json("/flask/session/get", s) == {"value": tok, "count": 1}
    r = site.post("/flask/session/set", s, data={"value": tok + "b"})
    assert r.status_code == 200
    assert site.json("/flask/session/get", s) == {"value": tok + "b", "count": 2}
    # without the cookie: an empty session
    assert site.json("/flask/session/get") == {"value": None, "count": None}
    # a tampered cookie is ignored, not an error
    bad = s.cookies["session"][:-2] + ("AA" if not s.cookies["session"].endswith("AA") else "BB")
    assert site.json("/flask/session/get", cookies={"session": bad}) == \
        {"value": None, "count": None}


def test_flask_file_upload(site):
    data = os.urandom(1024 * 1024 + 17)
    r = site.post("/flask/upload",
                  files={"file": ("d\u00e4ta.bin", data, "application/x-gwtest")},
                  data={"note": "multi\npart"})
    assert r.status_code == 200, site.explain(r)
    assert r.json() == {"filename": "d\u00e4ta.bin", "mimetype": "application/x-gwtest",
                        "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                        "note": "multi\npart"}


def test_flask_streaming_response(site):
    who = token()
    pause = 0.4
    with RawConn(site.port) as c:
        # the same connection first loads the app in the process serving it
        c.request("GET", "/flask/api/info")
        r0 = c.read_response()
        assert r0.status == 200 and json.loads(r0.body)["framework"] == "flask"
        c.request("GET", "/flask/stream?n=3&pause=%s&who=%s" % (pause, who))
        r = c.read_response()
        t_end = time.monotonic()
        # the connection stays usable after the streamed response
        c.request("GET", "/flask/api/info?q=after")
        r2 = c.read_response()
    items = [b"item %d of 3 for %s\n" % (i, who.encode()) for i in (1, 2, 3)]
    assert r.status == 200 and r.complete, r
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert r.chunked and r.header("Content-Length") is None, r.headers
    assert r.body == b"".join(items)
    # one chunk per yielded item, each sent when it was produced: the first
    # arrived before the generator's two pauses were over
    assert r.chunks == items, r.chunks
    assert t_end - r.t_first_body >= 1.5 * pause, (
        "first item only %.2fs before the end" % (t_end - r.t_first_body))
    assert r2.status == 200 and json.loads(r2.body)["q"] == "after"


# --------------------------------------------------------------------------
# Django

def _csrf_form(site, s, path="/django/form/"):
    r = site.get(path, s)
    assert r.status_code == 200, site.explain(r)
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.text)
    assert m, r.text[:2000]
    assert "csrftoken" in s.cookies, r.headers
    return r, m.group(1)


def test_django_json_view(site):
    r = site.get("/django/api/info?q=x%20y")
    assert r.status_code == 200, site.explain(r)
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["X-GW-Django"].isdigit()
    assert r.json() == {
        "framework": "django", "method": "GET", "path": "/django/api/info",
        "path_info": "/api/info", "script_name": "/django",
        "script_prefix": "/django/", "reverse": "/django/api/info",
        "q": "x y", "host": "127.0.0.1:%d" % site.port,
        "absolute": site.url("/x")}


def test_django_csrf_form_post(site):
    s = site.session()
    r, form_token = _csrf_form(site, s)
    assert r.headers["X-GW-Django"].isdigit()
    assert "csrftoken" in r.headers["Set-Cookie"]
    name = "n-" + token()
    r = site.post("/django/form/", s, data={"csrfmiddlewaretoken": form_token,
                                            "name": name})
    assert r.status_code == 200, site.explain(r)
    assert r.text == "form ok: %s\n" % name
    assert r.headers["X-GW-Django"].isdigit()


def test_django_csrf_missing_token_403(site):
    site.allow_log("Forbidden (CSRF")
    s = site.session()
    _csrf_form(site, s)
    # the cookie, but no token in the form: 403, the view does not run
    r = site.post("/django/form/", s, data={"name": "x"})
    assert r.status_code == 403, site.explain(r)
    assert "CSRF verification failed" in r.text
    assert "form ok" not in r.text
    # a wrong token
    r = site.post("/django/form/", s, data={"name": "x",
                                            "csrfmiddlewaretoken": "A" * 64})
    assert r.status_code == 403
    # neither cookie nor token
    r = site.post("/django/form/", data={"name": "x"})
    assert r.status_code == 403
    assert "CSRF verification failed" in r.text
    # Django logs each refusal (django.security.csrf, WARNING) through the
    # handler mod_gateway gives the root logger
    lines = site.wait_log(lambda l: "GW0252" in l and "Forbidden (CSRF" in l)
    assert lines and all("[gateway:warn]" in l for l in lines), "\n".join(site.lines())


def test_django_admin_login(site):
    s = site.session()
    r = site.get("/django/admin/", s)
    assert r.status_code == 302, site.explain(r)
    assert r.headers["Location"] == "/django/admin/login/?next=/django/admin/"
    r, form_token = _csrf_form(site, s, "/django/admin/login/?next=/django/admin/")
    assert "Django administration" in r.text
    assert 'name="username"' in r.text and 'name="password"' in r.text
    assert 'action="/django/admin/login/?next=/django/admin/"' in html.unescape(r.text)
    # the admin's CSS comes from STATIC_URL, served by Apache (see below)
    assert 'href="/static/admin/css/base.css"' in r.text
    # log in: auth + sessions write to the sqlite DB as www-data
    r = site.post("/django/admin/login/?next=/django/admin/", s, data={
        "csrfmiddlewaretoken": form_token, "username": DJANGO_ADMIN_USER,
        "password": DJANGO_ADMIN_PASSWORD, "next": "/django/admin/"})
    assert r.status_code == 302, site.explain(r)
    assert r.headers["Location"] == "/django/admin/"
    assert "sessionid" in s.cookies
    r = site.get("/django/admin/", s)
    assert r.status_code == 200, site.explain(r)
    assert "Site administration" in r.text
    assert "Welcome," in r.text and DJANGO_ADMIN_USER in r.text
    r = site.get("/django/admin/auth/user/", s)
    assert r.status_code == 200, site.explain(r)
    assert DJANGO_ADMIN_USER in r.text


def test_django_static_served_by_apache(site):
    path = os.path.join(site.root, "tmp", "django", "static", "admin", "css", "base.css")
    with open(path, "rb") as f:
        expected = f.read()
    r = site.get("/static/admin/css/base.css")
    assert r.status_code == 200
    assert r.content == expected
    assert r.headers["Content-Type"].startswith("text/css")
    assert r.headers["Content-Length"] == str(len(expected))
    assert "ETag" in r.headers and "Last-Modified" in r.headers
    # not through Django: its middleware marks every response it makes
    _no_django_marker(r)
    # a missing static file is Apache's 404, not Django's
    r = site.get("/static/admin/css/no-such-file.css")
    assert r.status_code == 404
    _no_django_marker(r)
    assert "Not Found" in r.text
    # and a conditional request is answered by Apache too
    r2 = site.get("/static/admin/css/base.css",
                  headers={"If-None-Match": site.get("/static/admin/css/base.css").headers["ETag"]})
    assert r2.status_code == 304
    _no_django_marker(r2)


def test_django_unknown_url_404(site):
    site.allow_log("Not Found: /django/no/such/page")
    r = site.get("/django/no/such/page")
    assert r.status_code == 404, site.explain(r)
    assert r.headers["X-GW-Django"].isdigit()
    assert "Not Found" in r.text
    # DEBUG is off: no technical 404 page
    assert "URLconf" not in r.text and "Traceback" not in r.text
    lines = site.wait_log(lambda l: "GW0252" in l and "Not Found: /django/no/such/page" in l)
    assert lines and "[gateway:warn]" in lines[0], "\n".join(site.lines())


# --------------------------------------------------------------------------
# Pyramid

def test_pyramid_json_renderer(site):
    doc = site.json("/pyramid/api/info?q=1")
    assert doc == {"framework": "pyramid", "method": "GET", "path": "/pyramid/api/info",
                   "script_name": "/pyramid", "path_info": "/api/info", "q": "1",
                   "item_url": site.url("/pyramid/items/abc")}


def test_pyramid_route_matchdict(site):
    assert site.json("/pyramid/items/a%20b%C3%A9") == {
        "id": "a b\u00e9", "sub": None, "route": "item"}
    assert site.json("/pyramid/items/42/detail") == {
        "id": "42", "sub": "detail", "route": "subitem"}
    r = site.get("/pyramid/items/1/2/3")
    assert r.status_code == 404


def test_pyramid_post(site):
    r = site.post("/pyramid/items", data={"name": "widget", "qty": "3"})
    assert r.status_code == 201, site.explain(r)
    assert r.json() == {"created": {"name": "widget", "qty": "3"}, "method": "POST"}
    r = site.post("/pyramid/items", json={"name": "gadget", "n": [1, 2]})
    assert r.status_code == 201, site.explain(r)
    assert r.json() == {"created": {"name": "gadget", "n": [1, 2]}, "method": "POST"}
    # the route only matches POST
    assert site.get("/pyramid/items").status_code == 404
    r = site.get("/pyramid/text")
    assert r.status_code == 200 and r.text == "plain pyramid text\n"
    assert r.headers["Content-Type"].startswith("text/plain")


# --------------------------------------------------------------------------
# Bottle

def test_bottle_routes(site):
    r = site.get("/bottle/hello/W%C3%B6rld")
    assert r.status_code == 200, site.explain(r)
    assert r.text == "Hello W\u00f6rld from bottle\n"
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.headers["X-Bottle"] == "yes"
    doc = site.json("/bottle/api/info?q=2")
    assert doc == {"framework": "bottle", "method": "GET", "path": "/api/info",
                   "script_name": "/bottle/", "fullpath": "/bottle/api/info",
                   "q": "2", "url": site.url("/bottle/api/info?q=2"),
                   "hello_url": "/bottle/hello/x"}
    r = site.get("/bottle/nope")
    assert r.status_code == 404


def test_bottle_request_json(site):
    payload = {"k": "v", "n": 7, "t": token()}
    r = site.post("/bottle/api/json", json=payload)
    assert r.status_code == 200, site.explain(r)
    assert r.json() == {"received": payload, "keys": ["k", "n", "t"]}


def test_bottle_forms(site):
    r = site.post("/bottle/form", data=[("name", "Zo\u00eb"), ("tag", "a"), ("tag", "b")])
    assert r.status_code == 200, site.explain(r)
    assert r.json() == {"name": "Zo\u00eb", "tags": ["a", "b"]}


# --------------------------------------------------------------------------
# CherryPy (cherrypy.tree, engine not started)

def test_cherrypy_get(site):
    r = site.get("/cherrypy/hello?name=Ann")
    assert r.status_code == 200, site.explain(r)
    assert r.text == "Hello Ann from cherrypy (script_name=/cherrypy, path_info=/hello)\n"
    assert r.headers["Content-Type"].startswith("text/plain")
    r = site.get("/cherrypy/")
    assert r.status_code == 200 and r.text == "cherrypy root\n"
    r = site.get("/cherrypy/no_such_handler")
    assert r.status_code == 404


def test_cherrypy_post(site):
    r = site.post("/cherrypy/submit", data={"a": "1", "b": "two"})
    assert r.status_code == 200, site.explain(r)
    assert r.json() == {"fields": {"a": "1", "b": "two"}, "method": "POST",
                        "content_type": "application/x-www-form-urlencoded"}
    r = site.get("/cherrypy/submit")
    assert r.status_code == 405


def test_cherrypy_second_mount(site):
    payload = {"x": [1, "2"], "t": token()}
    r = site.post("/cherrypy/api/echo", json=payload)
    assert r.status_code == 200, site.explain(r)
    assert r.json() == {"received": payload, "app": "api",
                        "script_name": "/cherrypy/api"}


# --------------------------------------------------------------------------
# web.py

def test_webpy_get_path_parameter(site):
    r = site.get("/webpy/hello/Bob%20Smith?q=3")
    assert r.status_code == 200, site.explain(r)
    assert r.text == "Hello Bob Smith from web.py (homepath=/webpy, path=/hello/Bob Smith, q=3)\n"
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_webpy_post(site):
    r = site.post("/webpy/submit", data=[("name", "Eve"), ("tag", "p"), ("tag", "q")])
    assert r.status_code == 200, site.explain(r)
    assert r.json() == {"name": "Eve", "tags": ["p", "q"], "method": "POST"}


def test_webpy_unknown_and_wrong_method(site):
    assert site.get("/webpy/nowhere").status_code == 404
    assert site.get("/webpy/submit").status_code == 405


# --------------------------------------------------------------------------
# Falcon

def test_falcon_get(site):
    doc = site.json("/falcon/things/42?q=z")
    assert doc == {"framework": "falcon", "tid": "42", "q": "z", "path": "/things/42",
                   "relative_uri": "/falcon/things/42?q=z", "app": "/falcon",
                   "uri": site.url("/falcon/things/42?q=z")}


def test_falcon_post_media(site):
    payload = {"name": "thing", "tags": ["a"], "t": token()}
    r = site.post("/falcon/things/7", json=payload)
    assert r.status_code == 201, site.explain(r)
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"tid": "7", "received": payload}


def test_falcon_errors(site):
    # httpd closes the connection after a 400: use one of its own, so the
    # shared keep-alive connection stays with its Apache child
    with requests.Session() as own:
        r = site.post("/falcon/things/7", own, data=b"{not json",
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400, site.explain(r)
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["title"] == "Invalid JSON"
    r = site.get("/falcon/nothing/here")
    assert r.status_code == 404


# --------------------------------------------------------------------------
# WebOb

def test_webob_query(site):
    doc = site.json("/webob/query?a=1&b=x&b=y")
    assert doc == {"framework": "webob", "a": "1", "b": ["x", "y"],
                   "script_name": "/webob", "path_info": "/query",
                   "application_url": site.url("/webob"),
                   "path_url": site.url("/webob/query")}


def test_webob_post(site):
    r = site.post("/webob/post", data=[("name", "Ida"), ("tag", "1"), ("tag", "2")])
    assert r.status_code == 201, site.explain(r)
    assert r.json() == {"name": "Ida", "tags": ["1", "2"],
                        "content_length": len("name=Ida&tag=1&tag=2")}
    assert site.get("/webob/post").status_code == 405
    assert site.get("/webob/other").status_code == 404


# --------------------------------------------------------------------------
# Paste (and Paste Deploy)

def test_paste_cascade(site):
    # the first app answers /a/...
    assert site.json("/paste/cascade/a/b") == {
        "app": "first", "path": "/a/b", "script_name": "/paste/cascade"}
    # the first app's 404 is caught, the second answers
    assert site.json("/paste/cascade/zzz") == {
        "app": "second", "path": "/zzz", "script_name": "/paste/cascade"}
    # both 404: the last app's 404 goes out
    r = site.get("/paste/cascade/missing")
    assert r.status_code == 404
    assert r.text == "second: not found either\n"


def test_paste_urlmap_and_lint(site):
    body = b"line one\nline two\nthree"
    r = site.post("/paste/echo/sub/path?x=1", data=body,
                  headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, site.explain(r)
    assert r.json() == {"method": "POST", "script_name": "/paste/echo",
                        "path_info": "/sub/path", "query": "x=1",
                        "first_line": "line one\n", "rest": "line two\nthree",
                        "length": len(body)}
    # GET through both lint layers, no body
    r = site.get("/paste/echo")
    assert r.status_code == 200, site.explain(r)
    assert r.json()["length"] == 0 and r.json()["script_name"] == "/paste/echo"
    # an unmapped prefix: URLMap's own 404
    r = site.get("/paste/unmapped")
    assert r.status_code == 404
    # lint writes to stderr when a result is never closed
    assert not [l for l in site.lines() if "garbage collected" in l]


def test_paste_deploy_ini(site):
    for name in ("one", "two"):
        r = site.get("/pastedeploy/%s" % name)
        assert r.status_code == 200, site.explain(r)
        assert r.text == "paste deploy %s\n" % name
        assert r.headers["X-Script-Name"] == "/pastedeploy/%s" % name
    assert site.get("/pastedeploy/three").status_code == 404


# --------------------------------------------------------------------------
# every framework in its own application group


def _expected_markers(name):
    import_name = {"pastedeploy": None, "paste": None}.get(name, name)
    own = {import_name} if import_name else set()
    return own | MARKER_DEPS.get(name, set())


def _ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def test_each_framework_in_its_own_group(site):
    # where the apps must run: in daemon mode the group's processes (their
    # GW0310 lines), in embedded mode Apache's children
    daemons = {int(p) for p in re.findall(r"GW0310: daemon 'gwtest' process (\d+) ready",
                                          "\n".join(site.srv.log_since()))}
    assert bool(daemons) == (site.mode == "daemon"), daemons
    groups = {}
    for name, (mount, _) in MOUNTS.items():
        st = site.json(mount + "/state")
        if site.mode == "daemon":
            assert st["pid"] in daemons, (name, st, daemons)
        else:
            assert _ppid(st["pid"]) == site.proc.pid, (name, st)
        assert st["owners"] == [name], (name, st)
        assert st["imports"] == 1, (name, st)
        assert st["group"] == "localhost:%d|%s" % (site.port, mount), (name, st)
        assert st["process_group"] == site.process_group, (name, st)
        assert st["interp_id"] not in (None, 0), (name, st)  # a sub-interpreter
        # no other framework was imported into this interpreter
        assert set(st["frameworks"]) == _expected_markers(name), (name, st)
        # os.environ is per interpreter: only Django's has its settings
        expected_dsm = "gwsite.settings" if name == "django" else None
        assert st["django_settings"] == expected_dsm, (name, st)
        groups[name] = st["group"]
    assert len(set(groups.values())) == len(MOUNTS)


def _check_one(site, name, n):
    """One quick request per framework with a unique value in and out."""
    t = "%s-%d-%s" % (name, n, token())
    s = site.session()   # own cookie jar, connections from the shared pool
    if name == "flask":
        r = site.post("/flask/api/echo", s, json={"t": t})
        return (r.status_code == 201 and r.json()["received"] == {"t": t}), r
    if name == "django":
        r = site.get("/django/api/info?q=" + t, s)
        return (r.status_code == 200 and r.json()["q"] == t), r
    if name == "pyramid":
        r = site.get("/pyramid/items/" + t, s)
        return (r.status_code == 200 and r.json()["id"] == t), r
    if name == "bottle":
        r = site.post("/bottle/api/json", s, json={"t": t})
        return (r.status_code == 200 and r.json()["received"] == {"t": t}), r
    if name == "cherrypy":
        r = site.get("/cherrypy/hello?name=" + t, s)
        return (r.status_code == 200 and r.text.startswith("Hello %s from cherrypy" % t)), r
    if name == "web":
        r = site.get("/webpy/hello/" + t, s)
        return (r.status_code == 200 and r.text.startswith("Hello %s from web.py" % t)), r
    if name == "falcon":
        r = site.get("/falcon/things/" + t, s)
        return (r.status_code == 200 and r.json()["tid"] == t), r
    if name == "webob":
        r = site.get("/webob/query?a=" + t, s)
        return (r.status_code == 200 and r.json()["a"] == t), r
    if name == "paste":
        r = site.post("/paste/echo", s, data=t.encode())
        return (r.status_code == 200 and r.json()["first_line"] == t), r
    if name == "pastedeploy":
        r = site.get("/pastedeploy/one", s)
        return (r.status_code == 200 and r.text == "paste deploy one\n"), r
    raise AssertionError(name)


def test_concurrent_requests_across_frameworks(site):
    """All frameworks at once from 8 client threads: every answer is the
    right app's, and no interpreter imported its script twice. With
    prefork (one thread per child) the same requests are interleaved on one
    connection instead: several connections would only make more children
    load every framework, and a child never runs two requests at once."""
    jobs = [(name, n) for n in range(6) for name in MOUNTS]
    if site.mode == "embedded" and site.mpm == "prefork":
        results = [(job,) + _check_one(site, *job) for job in jobs]
    else:
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            results = list(ex.map(lambda job: (job,) + _check_one(site, *job), jobs))
    failed = [(job, r.status_code, r.content[:300]) for job, ok, r in results if not ok]
    assert not failed, failed
    for name, (mount, _) in MOUNTS.items():
        st = site.json(mount + "/state")
        assert st["owners"] == [name] and st["imports"] == 1, (name, st)
