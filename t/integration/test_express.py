"""gateway-express (tools/gateway-express): each example app served with one
command, the options that change the generated configuration, setup-server,
module-config and the refusal of bad arguments.

Each test starts `gateway-express start-server` as a subprocess with its own
--server-root and a free port, stops it with SIGTERM, and checks that no
process of that server is left (the Apache parent and children and the
daemon keepers carry the server root in their command line; the daemon
processes are named "(gateway:express:PORT)"). Uses no conftest fixture.
"""
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import requests

import conftest as C

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
EXPRESS = os.path.join(REPO, "tools", "gateway-express")
HTTPD = os.environ.get("GW_HTTPD", "/usr/sbin/apache2")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
CRASH_PATTERNS = ("Segmentation fault", "exit signal", ":alert]", ":emerg]")

LOOP_APP = '''\
def application(environ, start_response):
    n = 0
    while True:          # pure Python: request-timeout can interrupt it
        n += 1
'''

MODULE_APP = '''\
def app(environ, start_response):
    body = ("module app at %r\\n" % environ["SCRIPT_NAME"]).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def server_pids(root, port):
    """Processes of the server in root: Apache's (root in the command
    line) and the daemons ("(gateway:express:PORT)")."""
    marks = (root.encode(), b"(gateway:express:%d)" % port)
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ")
        except OSError:
            continue
        if b"gateway-express" in cmd or b"pytest" in cmd:
            continue
        if any(m in cmd for m in marks):
            pids.append(int(d))
    return pids


def wait_for(pred, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def kill_leftovers(root, port):
    """Wait for the server's processes to go; kill and return any that
    stay."""
    left = wait_for(lambda: not server_pids(root, port), STOP_TIMEOUT)
    if left:
        return []
    pids = server_pids(root, port)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return pids


@pytest.fixture(scope="module")
def apps():
    """A copy of <repo>/apps, plus the apps these tests need, where the
    Apache user (www-data) can read them."""
    d = tempfile.mkdtemp(prefix="gwexpress-apps-")
    shutil.copytree(os.path.join(REPO, "apps"), os.path.join(d, "apps"))
    extra = os.path.join(d, "extra")
    os.makedirs(os.path.join(extra, "docroot", "sub"))
    os.makedirs(os.path.join(extra, "mods"))
    files = {
        "loop.wsgi": LOOP_APP,
        "mods/expressmod.py": MODULE_APP,
        "docroot/exists.txt": "a file in the document root\n",
        "docroot/sub/style.css": "body { color: red }\n",
        "robots.txt": "User-agent: *\n",
    }
    for name, text in files.items():
        with open(os.path.join(extra, name), "w") as f:
            f.write(text)
    for top, dirs, names in os.walk(d):
        os.chmod(top, 0o755)
        for n in names:
            os.chmod(os.path.join(top, n), 0o644)
    yield {"apps": os.path.join(d, "apps"), "extra": extra, "top": d}
    shutil.rmtree(d, ignore_errors=True)


class Express:
    """gateway-express start-server APP ARGS, on a free port, in its own
    server root."""

    def __init__(self, app, *args, cwd=None):
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="gwexpress-")
        self.out = open(os.path.join(self.root, "express.stdout"), "w+")
        self.err = open(os.path.join(self.root, "express.stderr"), "w+")
        self.cmd = [EXPRESS, "start-server", app, "--port", str(self.port),
                    "--server-root", self.root] + list(args)
        self.proc = subprocess.Popen(self.cmd, stdout=self.out,
                                     stderr=self.err, cwd=cwd or REPO)

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def get(self, path="/", **kw):
        kw.setdefault("timeout", 20)
        return requests.get(self.url(path), **kw)

    def output(self):
        self.out.seek(0)
        self.err.seek(0)
        return self.out.read(), self.err.read()

    def error_log(self):
        try:
            with open(os.path.join(self.root, "error.log"),
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def __enter__(self):
        ok = wait_for(lambda: port_open(self.port)
                      or self.proc.poll() is not None, START_TIMEOUT)
        if not ok or self.proc.poll() is not None:
            out, err = self.output()
            self.stop()
            pytest.fail("gateway-express did not start (%s):\nstdout:\n%s\n"
                        "stderr:\n%s\nerror.log:\n%s"
                        % (" ".join(self.cmd), out, err,
                           self.error_log()[-3000:]), pytrace=False)
        return self

    def stop(self):
        if self.proc.poll() is None:
            # lingering closes first: httpd's event MPM can crash at an
            # ungraceful stop that races them (conftest HttpdServer.stop)
            wait_for(lambda: C.closing_connections((self.port,)) == 0, 1.0)
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        leftovers = kill_leftovers(self.root, self.port)
        return rc, leftovers

    def __exit__(self, etype, *exc):
        rc, leftovers = self.stop()
        log = self.error_log()
        crashes = [l for l in log.splitlines()
                   if any(p in l for p in CRASH_PATTERNS)]
        shutil.rmtree(self.root, ignore_errors=True)
        if etype is not None:
            return False
        assert not leftovers, ("processes of %s outlived gateway-express: %r"
                               % (self.root, leftovers))
        assert rc == 0, "gateway-express exited with %r after SIGTERM" % rc
        assert not crashes, "\n".join(crashes)
        return False


# ---- each example app, with one command ----------------------------------

def check_hello(srv, apps):
    r = srv.get("/")
    assert r.status_code == 200 and r.content == b"Hello World!"


def check_streaming(srv, apps):
    r = srv.get("/?count=3")
    assert r.status_code == 200
    assert r.content == b"line 1 of 3\nline 2 of 3\nline 3 of 3\n"


def check_classapp(srv, apps):
    r = srv.get("/")
    assert r.status_code == 200 and r.content == b"Hello from a class!\n"


def check_middleware(srv, apps):
    r = srv.get("/")
    assert r.status_code == 200 and r.content == b"greeting=hello\n"


def check_cascade(srv, apps):
    r = srv.get("/hello.txt")
    assert r.status_code == 200
    with open(os.path.join(apps["apps"], "static", "hello.txt"), "rb") as f:
        assert r.content == f.read()
    r = srv.get("/not-a-file")
    assert r.status_code == 200 and r.content == b"dynamic: /not-a-file\n"


def check_environ(srv, apps):
    r = srv.get("/x?y=1")
    assert r.status_code == 200
    env = r.json()
    assert env["SCRIPT_NAME"] == "" and env["PATH_INFO"] == "/x"
    assert env["QUERY_STRING"] == "y=1"
    # daemon mode is the default
    assert env["mod_gateway.process_group"] == "express:%d" % srv.port
    assert env["mod_gateway.application_group"] == ""
    assert env["wsgi.multiprocess"] == "False"    # one daemon process


def check_upload(srv, apps):
    body = os.urandom(300000)
    r = requests.post(srv.url("/"), data=body, timeout=20)
    assert r.status_code == 200 and r.content == body
    assert r.headers["X-Upload-SHA256"] == hashlib.sha256(body).hexdigest()


def check_paste(srv, apps):
    r = srv.get("/")
    assert r.status_code == 200 and r.content == b"Hello from Paste Deploy!\n"
    r = srv.get("/readme.txt")
    assert r.status_code == 200 and b"Paste's static app" in r.content


EXAMPLES = [
    ("hello.wsgi", [], check_hello),
    ("streaming.wsgi", [], check_streaming),
    ("classapp.wsgi", [], check_classapp),
    ("middleware.wsgi", [], check_middleware),
    ("cascade.wsgi", [], check_cascade),
    ("environ.wsgi", [], check_environ),
    ("upload.wsgi", [], check_upload),
    ("paste/config.ini", ["--python-path", "{apps}/paste"], check_paste),
]


@pytest.mark.parametrize("app,args,check", EXAMPLES,
                         ids=[e[0] for e in EXAMPLES])
def test_example_app(apps, app, args, check):
    args = [a.format(apps=apps["apps"]) for a in args]
    with Express(os.path.join(apps["apps"], app), *args) as srv:
        check(srv, apps)
        out, err = srv.output()
    if app == "hello.wsgi":
        # the banner
        assert "http://127.0.0.1:%d/" % srv.port in out
        assert "daemon: 1 process(es) x 5 thread(s)" in out
        assert os.path.join(srv.root, "error.log") in out


def test_paste_section_by_name(apps):
    """config.ini#hello mounts the [app:hello] section alone: no static
    files in front of it."""
    ini = os.path.join(apps["apps"], "paste", "config.ini") + "#hello"
    with Express(ini, "--python-path",
                 os.path.join(apps["apps"], "paste")) as srv:
        r = srv.get("/readme.txt")
        assert r.status_code == 200
        assert r.content == b"Hello from Paste Deploy!\n"


def test_embedded_mode(apps):
    with Express(os.path.join(apps["apps"], "environ.wsgi"),
                 "--embedded-mode") as srv:
        env = srv.get("/").json()
        out, _ = srv.output()
    assert env["mod_gateway.process_group"] == ""
    assert env["SCRIPT_NAME"] == ""
    assert "embedded in the Apache children" in out


def test_module_callable(apps):
    """module:callable, the module found in the current directory (no
    --python-path)."""
    mods = os.path.join(apps["extra"], "mods")
    with Express("expressmod:app", "--processes", "2", "--threads", "3",
                 cwd=mods) as srv:
        r = srv.get("/some/path")
        assert r.status_code == 200 and r.content == b"module app at ''\n"
        out, _ = srv.output()
        wrapper = os.path.join(srv.root, "module-app.wsgi")
        assert os.path.exists(wrapper)
    assert "2 process(es) x 3 thread(s)" in out


def test_module_callable_with_python_path(apps):
    mods = os.path.join(apps["extra"], "mods")
    with Express("expressmod:app", "--python-path", mods, "--embedded-mode",
                 cwd=apps["top"]) as srv:
        r = srv.get("/")
        assert r.status_code == 200 and r.content == b"module app at ''\n"


def test_url_alias(apps):
    static = os.path.join(apps["apps"], "static")
    robots = os.path.join(apps["extra"], "robots.txt")
    with Express(os.path.join(apps["apps"], "hello.wsgi"),
                 "--url-alias", "/static", static,
                 "--url-alias", "/robots.txt", robots) as srv:
        r = srv.get("/static/hello.txt")
        assert r.status_code == 200
        assert r.content == b"Hello from a static file.\n"
        assert r.headers["Content-Type"].startswith("text/plain")
        r = srv.get("/robots.txt")
        assert r.status_code == 200 and r.content == b"User-agent: *\n"
        assert srv.get("/static/missing.txt").status_code == 404
        r = srv.get("/elsewhere")
        assert r.status_code == 200 and r.content == b"Hello World!"


def test_document_root_cascade(apps):
    """Files that exist under --document-root are served by Apache; every
    other URL reaches the app, mounted at / (SCRIPT_NAME '')."""
    docroot = os.path.join(apps["extra"], "docroot")
    with Express(os.path.join(apps["apps"], "environ.wsgi"),
                 "--document-root", docroot) as srv:
        r = srv.get("/exists.txt")
        assert r.status_code == 200
        assert r.content == b"a file in the document root\n"
        r = srv.get("/sub/style.css")
        assert r.status_code == 200 and r.content == b"body { color: red }\n"
        assert r.headers["Content-Type"].startswith("text/css")
        for path, info in (("/missing.txt", "/missing.txt"), ("/", "/"),
                           ("/sub/", "/sub/"), ("/sub/nope", "/sub/nope")):
            r = srv.get(path)
            assert r.status_code == 200, path
            env = r.json()
            assert env["SCRIPT_NAME"] == "" and env["PATH_INFO"] == info
        # a file outside the document root is not reachable
        r = srv.get("/../../apps/hello.wsgi")
        assert b"def application" not in r.content


def test_request_timeout(apps):
    with Express(os.path.join(apps["extra"], "loop.wsgi"),
                 "--request-timeout", "1") as srv:
        t0 = time.monotonic()
        r = srv.get("/")
        assert r.status_code == 504
        assert time.monotonic() - t0 < 15


VERSIONED_APP = """\
def application(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"version %d, %d bytes" % (VERSION, len(body))]

VERSION = 1
"""


def test_limit_body_access_log_and_reload(apps):
    """--limit-request-body, --access-log (a file in the server root) and
    --reload-on-changes (the daemon restarts when the script changes)."""
    app = os.path.join(apps["extra"], "versioned.wsgi")
    with open(app, "w") as f:
        f.write(VERSIONED_APP)
    os.chmod(app, 0o644)
    with Express(app, "--limit-request-body", "1000", "--access-log",
                 "--reload-on-changes") as srv:
        r = requests.post(srv.url("/"), data=b"x" * 500, timeout=20)
        assert r.status_code == 200 and r.content == b"version 1, 500 bytes"
        r = requests.post(srv.url("/"), data=b"x" * 2000, timeout=20)
        assert r.status_code == 413
        with open(app, "w") as f:
            f.write(VERSIONED_APP.replace("VERSION = 1", "VERSION = 2"))
        later = time.time() + 5
        os.utime(app, (later, later))
        r = srv.get("/")
        assert r.status_code == 200 and r.content == b"version 2, 0 bytes"
        access = os.path.join(srv.root, "access.log")
        assert wait_for(lambda: os.path.exists(access) and open(access).read()
                        .count('"POST / HTTP/1.1" 413'), 5)


def test_log_to_terminal(apps):
    with Express(os.path.join(apps["apps"], "hello.wsgi"), "--log-to-terminal",
                 "--access-log") as srv:
        assert srv.get("/").status_code == 200
        assert wait_for(lambda: '"GET / HTTP/1.1" 200' in srv.output()[0], 5)
        assert not os.path.exists(os.path.join(srv.root, "error.log"))
    out, err = srv.output()
    assert "resuming normal operations" in err
    assert "Error log     : terminal" in out


@pytest.mark.parametrize("mpm,args,threaded", [
    ("worker", [], True), ("prefork", ["--embedded-mode"], False)])
def test_mpm(apps, mpm, args, threaded):
    with Express(os.path.join(apps["apps"], "environ.wsgi"), "--mpm", mpm,
                 *args) as srv:
        env = srv.get("/").json()
    assert env["wsgi.multithread"] == repr(threaded)
    assert (env["mod_gateway.process_group"] == "") == bool(args)


def test_setup_server_and_apachectl(apps):
    root = tempfile.mkdtemp(prefix="gwexpress-setup-")
    port = free_port()
    try:
        r = subprocess.run([EXPRESS, "setup-server",
                            os.path.join(apps["apps"], "hello.wsgi"),
                            "--server-root", root, "--port", str(port)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        conf = os.path.join(root, "httpd.conf")
        ctl = os.path.join(root, "apachectl")
        assert os.access(ctl, os.X_OK)
        assert os.path.exists(os.path.join(root, "README"))
        assert not port_open(port), "setup-server must not start anything"
        t = subprocess.run([HTTPD, "-t", "-f", conf], capture_output=True,
                           text=True)
        assert t.returncode == 0, t.stderr
        t = subprocess.run([ctl, "configtest"], capture_output=True,
                           text=True)
        assert t.returncode == 0, t.stderr
        s = subprocess.run([ctl, "start"], capture_output=True, text=True,
                           timeout=60)
        assert s.returncode == 0, s.stderr
        try:
            assert wait_for(lambda: port_open(port), START_TIMEOUT)
            g = requests.get("http://127.0.0.1:%d/" % port, timeout=20)
            assert g.status_code == 200 and g.content == b"Hello World!"
        finally:
            s = subprocess.run([ctl, "stop"], capture_output=True, text=True,
                               timeout=60)
            leftovers = kill_leftovers(root, port)
        assert s.returncode == 0, s.stderr
        assert not leftovers, "processes outlived apachectl stop: %r" % (
            leftovers,)
        assert not port_open(port)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_module_config():
    r = subprocess.run([EXPRESS, "module-config"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    load = [l for l in lines if l.startswith("LoadModule gateway_module ")]
    assert len(load) == 1, r.stdout
    path = load[0].split(None, 2)[2]
    assert os.path.isabs(path) and os.path.exists(path), path
    home = [l for l in lines if l.startswith("GatewayPythonHome ")]
    assert len(home) == 1 and os.path.isabs(home[0].split()[1]), r.stdout


# ---- bad arguments: exit status 2 and a message ---------------------------

BAD = [
    ("unknown-option", ["{hello}", "--no-such-option"],
     "unrecognized arguments"),
    ("port-range", ["{hello}", "--port", "70000"], "--port 70000"),
    ("missing-app", ["{top}/nope.wsgi"], "no such application file"),
    ("processes-0", ["{hello}", "--processes", "0"], "--processes 0"),
    ("relative-alias", ["{hello}", "--url-alias", "/s", "static"],
     "must be absolute"),
    ("unreadable-app", ["{secret}"], "not readable by"),
    ("timeout-embedded", ["{hello}", "--embedded-mode",
                          "--request-timeout", "5"], "daemon mode only"),
    ("missing-module", ["no_such_module_xyz:app"], "not found"),
    ("bad-docroot", ["{hello}", "--document-root", "{top}/nope"],
     "not a directory"),
]


@pytest.mark.parametrize("name,args,message", BAD, ids=[b[0] for b in BAD])
def test_bad_arguments(apps, name, args, message):
    if name == "unreadable-app" and os.geteuid() != 0:
        pytest.skip("needs root: the app must be unreadable by www-data")
    secret_dir = tempfile.mkdtemp(prefix="gwexpress-secret-")  # mode 0700
    secret = os.path.join(secret_dir, "app.wsgi")
    with open(secret, "w") as f:
        f.write("application = None\n")
    port = free_port()
    root = os.path.join(apps["top"], "root-" + name)
    fill = {"hello": os.path.join(apps["apps"], "hello.wsgi"),
            "top": apps["top"], "secret": secret}
    try:
        r = subprocess.run([EXPRESS, "start-server", "--port", str(port),
                            "--server-root", root]
                           + [a.format(**fill) for a in args],
                           capture_output=True, text=True, timeout=60,
                           cwd=apps["top"])
    finally:
        shutil.rmtree(secret_dir, ignore_errors=True)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert message in r.stderr, r.stderr
    assert "error" in r.stderr and "Traceback" not in r.stderr
    assert not port_open(port)
    assert not os.path.exists(os.path.join(root, "httpd.conf"))
