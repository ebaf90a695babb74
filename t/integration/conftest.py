"""pytest harness for mod_gateway: private httpd instances rendered from
httpd.conf.tmpl, one per (MPM, mode), plus helpers for raw HTTP and for the
error log.  See README.md in this directory for how to run it.

Environment:
  GW_MODULE   absolute path to mod_gateway.so   (<repo>/.libs/mod_gateway.so)
  GW_HTTPD    the httpd binary                  (/usr/sbin/apache2)
  GW_MPMS     MPMs to run                       ("event worker prefork")
  GW_MODES    modes to run                      ("embedded daemon")
  GW_MODULES_DIR  where mod_*.so live           (/usr/lib/apache2/modules)
  GW_KEEP     set to 1 to keep the /tmp/gwtest-* roots after the run
"""

import json
import os
import pathlib
import re
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time

import pytest
import requests

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
APPS_DIR = HERE / "apps"
EXAMPLES_DIR = REPO / "apps"
TEMPLATE = HERE / "httpd.conf.tmpl"

GW_MODULE = os.environ.get("GW_MODULE") or str(REPO / ".libs" / "mod_gateway.so")
GW_HTTPD = os.environ.get("GW_HTTPD", "/usr/sbin/apache2")
MPMS = os.environ.get("GW_MPMS", "event worker prefork").split()
MODES = os.environ.get("GW_MODES", "embedded daemon").split()
MODULES_DIR = os.environ.get("GW_MODULES_DIR", "/usr/lib/apache2/modules")
KEEP = os.environ.get("GW_KEEP") == "1"
RUN_USER = "www-data"
RUN_GROUP = "www-data"

START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0
HTTP_TIMEOUT = 15.0

# Modules every test server loads (besides the MPM and mod_gateway); those
# compiled into the httpd binary (apache2 -l) are skipped.
WANTED_MODULES = ["authz_core", "authz_host", "mime", "alias", "dir", "env",
                  "setenvif", "log_config"]

# Sized so that a load test of up to 8 keep-alive connections never makes
# the MPM shed connections or retire children mid-test (wrk counts both as
# socket errors): two children from the start, headroom in threads.
MPM_CONFIG = {
    "event": """\
StartServers 2
ServerLimit 2
ThreadLimit 16
ThreadsPerChild 16
MaxRequestWorkers 32
MinSpareThreads 1
MaxSpareThreads 32
MaxConnectionsPerChild 0""",
    "worker": """\
StartServers 2
ServerLimit 2
ThreadLimit 16
ThreadsPerChild 16
MaxRequestWorkers 32
MinSpareThreads 1
MaxSpareThreads 32
MaxConnectionsPerChild 0""",
    "prefork": """\
StartServers 9
MinSpareServers 1
MaxSpareServers 16
ServerLimit 16
MaxRequestWorkers 16
MaxConnectionsPerChild 0""",
}

# Daemon mode is server-level config only: everything else stays the same.
MODE_CONFIG = {
    "embedded": "# embedded: apps run inside the Apache children",
    "daemon": """\
GatewaySocketPrefix "${ROOT}/run/gw"
GatewayDaemonProcess gwtest processes=2 threads=4
GatewayProcessGroup gwtest""",
}

# Crash and alert lines the error log must never contain.
CRASH_PATTERNS = ["Segmentation fault", "exit signal", "[core:alert]", ":alert]",
                  ":emerg]", "AddressSanitizer", "runtime error:",
                  "LeakSanitizer"]

# Lines the parent writes when a child ignores SIGTERM at shutdown.
SHUTDOWN_PATTERNS = ["still did not exit"]

LOG_TAG_RE = re.compile(r"\[gateway:(\w+)\] .*\bGW\d{4}: ")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_log_alerts: the test expects crash/alert lines in "
        "the error log; skip the after-test log scan")


# --------------------------------------------------------------------------
# small utilities

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, interval=0.05):
    """Poll pred() until it returns a truthy value or timeout; returns the
    last value."""
    deadline = time.monotonic() + timeout
    while True:
        val = pred()
        if val or time.monotonic() >= deadline:
            return val
        time.sleep(interval)


_builtin_cache = None


def builtin_modules():
    global _builtin_cache
    if _builtin_cache is None:
        out = subprocess.run([GW_HTTPD, "-l"], capture_output=True, text=True,
                             timeout=30).stdout
        _builtin_cache = set(re.findall(r"^\s*(\S+)\.c\s*$", out, re.M))
    return _builtin_cache


def load_module_lines(mpm):
    lines = ["LoadModule mpm_%s_module %s/mod_mpm_%s.so" % (mpm, MODULES_DIR, mpm)]
    for name in WANTED_MODULES:
        if "mod_%s" % name in builtin_modules():
            continue
        lines.append("LoadModule %s_module %s/mod_%s.so" % (name, MODULES_DIR, name))
    return "\n".join(lines)


def _chmod_tree(path, dmode=0o755, fmode=0o644):
    for dirpath, dirnames, filenames in os.walk(path):
        os.chmod(dirpath, dmode)
        for f in filenames:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                os.chmod(p, fmode)


def make_root(prefix="gwtest-"):
    """A ServerRoot www-data can traverse, with apps, examples and the dirs
    the template refers to."""
    root = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    for d in ["logs", "run", "htdocs", "dyn", "handler", "addhandler", "noexec",
              "callabledir", "pylib", "pylib2"]:
        os.makedirs(os.path.join(root, d))
    shutil.copytree(APPS_DIR, os.path.join(root, "apps"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(EXAMPLES_DIR, os.path.join(root, "examples"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for d in ["handler", "addhandler", "noexec"]:
        shutil.copy(APPS_DIR / "env.wsgi", os.path.join(root, d, "env.wsgi"))
    shutil.copy(APPS_DIR / "callable.wsgi", os.path.join(root, "callabledir"))
    # GatewayPythonPath: pylib is added with site.addsitedir, so its .pth
    # file must pull in pylib2 as well.
    with open(os.path.join(root, "pylib", "gwtest_pathmod.py"), "w") as f:
        f.write("VALUE = 'from-pylib'\n")
    with open(os.path.join(root, "pylib", "gwtest.pth"), "w") as f:
        f.write(os.path.join(root, "pylib2") + "\n")
    with open(os.path.join(root, "pylib2", "gwtest_pthmod.py"), "w") as f:
        f.write("VALUE = 'from-pth'\n")
    with open(os.path.join(root, "htdocs", "index.html"), "w") as f:
        f.write("static index\n")
    _chmod_tree(root)
    tmp = os.path.join(root, "tmp")
    os.makedirs(tmp)
    os.chmod(tmp, 0o1777)
    return root


def render_config(root, mpm, mode, port, port2, extra=""):
    app_names = sorted(p.stem for p in APPS_DIR.glob("*.wsgi"))
    mounts = "\n".join('GatewayScriptAlias /%s "%s/apps/%s.wsgi"' % (n, root, n)
                       for n in app_names)
    mode_cfg = string.Template(MODE_CONFIG[mode]).substitute(ROOT=root)
    tmpl = string.Template(TEMPLATE.read_text())
    return tmpl.substitute(
        ROOT=root, GW_MODULE=GW_MODULE, LOAD_MODULES=load_module_lines(mpm),
        USER=RUN_USER, GROUP=RUN_GROUP, PORT=port, PORT2=port2, MPM=mpm,
        MPM_CONFIG=MPM_CONFIG[mpm], MODE=mode, MODE_CONFIG=mode_cfg,
        APP_MOUNTS=mounts, EXTRA=extra)


def check_module_built():
    if not os.path.isfile(GW_MODULE):
        pytest.fail("mod_gateway.so not found at %s (build it, or set GW_MODULE)"
                    % GW_MODULE, pytrace=False)


# --------------------------------------------------------------------------
# raw HTTP

class RawResponse:
    def __init__(self):
        self.version = self.reason = None
        self.status = None
        self.headers = []          # [(name, value)] in order
        self.head = b""
        self.body = b""
        self.chunked = False
        self.chunks = []           # raw chunk payloads, in order
        self.complete = False      # framing completed (last chunk / all C-L)
        self.eof = False           # server closed the connection while reading
        self.t_first_body = None   # monotonic time the first body byte parsed

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return ("<RawResponse %s chunked=%s complete=%s eof=%s body=%r>"
                % (self.status, self.chunked, self.complete, self.eof,
                   self.body[:200]))


class RawConn:
    """A plain TCP connection: send bytes, parse responses ourselves so the
    test sees the real framing (chunks, terminator, early close)."""

    def __init__(self, port, host="127.0.0.1", timeout=HTTP_TIMEOUT):
        self.port = port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.eof = False

    def local_port(self):
        return self.sock.getsockname()[1]

    def send(self, data):
        self.sock.sendall(data)

    def request(self, method, path, headers=None, body=None,
                host=None, extra=b""):
        host = host or "localhost:%d" % self.port
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % host]
        for k, v in (headers or []):
            lines.append("%s: %s" % (k, v))
        if body is not None and not any(k.lower() in ("content-length",
                                                      "transfer-encoding")
                                        for k, _ in (headers or [])):
            lines.append("Content-Length: %d" % len(body))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + extra
        if body:
            data += body
        self.send(data)

    def _fill(self, deadline):
        """Receive more bytes; returns False on EOF or timeout."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            self.eof = True
            return False
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def _take_until(self, sep, deadline):
        while sep not in self.buf:
            if not self._fill(deadline):
                return None
        i = self.buf.index(sep)
        out, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return out

    def _take(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                out, self.buf = self.buf, b""
                return out
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, method="GET", timeout=HTTP_TIMEOUT):
        deadline = time.monotonic() + timeout
        r = RawResponse()
        head = self._take_until(b"\r\n\r\n", deadline)
        if head is None:
            raise AssertionError("no complete response head within %ss; got %r"
                                 % (timeout, self.buf[:500]))
        r.head = head
        lines = head.split(b"\r\n")
        m = re.match(rb"(HTTP/\d\.\d) (\d{3}) ?(.*)$", lines[0])
        assert m, "bad status line %r" % lines[0]
        r.version = m.group(1).decode()
        r.status = int(m.group(2))
        r.reason = m.group(3).decode("latin-1")
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            r.headers.append((k.decode("latin-1"), v.strip().decode("latin-1")))
        te = (r.header("Transfer-Encoding") or "").lower()
        cl = r.header("Content-Length")
        if method == "HEAD" or r.status in (204, 304) or 100 <= r.status < 200:
            r.complete = True
        elif "chunked" in te:
            r.chunked = True
            body = []
            while True:
                size_line = self._take_until(b"\r\n", deadline)
                if size_line is None:
                    body.append(self.buf)
                    self.buf = b""
                    break
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    # trailers, then the empty line
                    while True:
                        t = self._take_until(b"\r\n", deadline)
                        if t is None or t == b"":
                            break
                    r.complete = t == b""
                    break
                data = self._take(size, deadline)
                if r.t_first_body is None and data:
                    r.t_first_body = time.monotonic()
                body.append(data)
                r.chunks.append(data)
                if len(data) < size or self._take_until(b"\r\n", deadline) is None:
                    break
            r.body = b"".join(body)
        elif cl is not None:
            n = int(cl)
            r.body = self._take(n, deadline)
            if r.body and r.t_first_body is None:
                r.t_first_body = time.monotonic()
            r.complete = len(r.body) == n
        else:
            while self._fill(deadline):
                if r.t_first_body is None:
                    r.t_first_body = time.monotonic()
            r.body, self.buf = self.buf, b""
            r.complete = self.eof
        r.eof = self.eof
        return r

    def wait_closed(self, timeout=3.0):
        """True if the server closes the connection within timeout (any
        bytes received meanwhile stay in self.buf)."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if not self._fill(deadline) and not self.eof:
                return False
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


# --------------------------------------------------------------------------
# the server

def _proc_pids():
    for d in os.listdir("/proc"):
        if d.isdigit():
            yield int(d)


def _proc_ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        return int(stat[stat.rindex(")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def _proc_info(pid):
    """(pgid, state, cmdline) or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode("latin-1")
    except OSError:
        return None
    rest = stat[stat.rindex(")") + 2:].split()
    return int(rest[2]), rest[0], cmd


class HttpdServer:
    def __init__(self, mpm, mode, extra="", name="main"):
        self.mpm, self.mode, self.name = mpm, mode, name
        self.extra = extra
        self.root = make_root()
        self.port = free_port()
        self.port2 = free_port()
        while self.port2 == self.port:
            self.port2 = free_port()
        self.conf = os.path.join(self.root, "httpd.conf")
        if callable(extra):
            # extra lines that need this server's ROOT or ports:
            # extra(srv) -> str, called once root and ports are known
            extra = self.extra = extra(self)
        with open(self.conf, "w") as f:
            f.write(render_config(self.root, mpm, mode, self.port, self.port2,
                                  extra))
        os.chmod(self.conf, 0o644)
        self.error_log = os.path.join(self.root, "logs", "error.log")
        self.vh1_log = os.path.join(self.root, "logs", "vh1_error.log")
        self.tmp = os.path.join(self.root, "tmp")
        self.proc = None
        self.leftovers = []

    # -- identity / expectations --
    @property
    def param(self):
        return "%s-%s" % (self.mpm, self.mode)

    @property
    def multithread(self):
        if self.mode == "daemon":
            return True        # threads=4
        return self.mpm != "prefork"

    @property
    def process_group(self):
        return "gwtest" if self.mode == "daemon" else ""

    def url(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def url2(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.port2, path)

    def get(self, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return requests.get(self.url(path), **kw)

    def post(self, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return requests.post(self.url(path), **kw)

    def get_json(self, path, **kw):
        r = self.get(path, **kw)
        assert r.status_code == 200, (r.status_code, r.text[:2000])
        return r.json()

    def raw(self, port=None):
        return RawConn(port or self.port)

    # -- logs --
    def log_files(self):
        return sorted(str(p) for p in pathlib.Path(self.root, "logs").glob("*error*.log"))

    def log_mark(self):
        return {p: os.path.getsize(p) for p in self.log_files()}

    def log_since(self, mark=None, files=None):
        """Lines written since mark (dict file -> size), from all error logs
        or only from `files`."""
        mark = mark or {}
        out = []
        for p in (files or self.log_files()):
            try:
                with open(p, "rb") as f:
                    f.seek(mark.get(p, 0))
                    data = f.read()
            except FileNotFoundError:
                continue
            out.extend(data.decode("utf-8", "backslashreplace").splitlines())
        return out

    def wait_log(self, pred, mark=None, timeout=3.0, files=None):
        """Wait until some line since mark satisfies pred (a callable or a
        substring); returns the matching lines (possibly empty)."""
        if isinstance(pred, str):
            needle = pred
            pred = lambda line: needle in line  # noqa: E731
        return wait_until(lambda: [l for l in self.log_since(mark, files) if pred(l)],
                          timeout)

    def error_log_text(self):
        return "\n".join(self.log_since())

    # -- lifecycle --
    def start(self):
        check_module_built()
        self.stderr_path = os.path.join(self.root, "logs", "stderr.txt")
        stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [GW_HTTPD, "-f", self.conf, "-DFOREGROUND"],
            stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
            start_new_session=True, cwd=self.root)
        stderr.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                self._fail_start("httpd exited with status %s" % self.proc.returncode)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                with socket.create_connection(("127.0.0.1", self.port2), timeout=1):
                    pass
                return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self._fail_start("port %d not answering after %ss"
                                 % (self.port, START_TIMEOUT))
            time.sleep(0.05)

    def _fail_start(self, why):
        self.stop()
        text = "\n".join(self.log_since())
        try:
            with open(self.stderr_path, errors="replace") as f:
                err = f.read()
        except OSError:
            err = ""
        pytest.fail("%s server %s: %s\n--- stderr ---\n%s\n--- error logs ---\n%s"
                    % (self.name, self.param, why, err[-5000:], text[-10000:]),
                    pytrace=False)

    def _our_pids(self):
        """httpd's processes: its process group, anything started with its
        config (daemon keepers keep httpd's command line but have their own
        process group), and the children of those (the daemons, whose
        command line may be a display-name)."""
        pids, parents = [], set()
        infos = {}
        for pid in _proc_pids():
            info = _proc_info(pid)
            if info is None:
                continue
            infos[pid] = info
            pgid, state, cmd = info
            if state == "Z":
                continue
            if (self.proc and pgid == self.proc.pid) or self.conf in cmd:
                pids.append((pid, state, cmd))
                parents.add(pid)
        for pid, (pgid, state, cmd) in infos.items():
            if state != "Z" and pid not in parents \
                    and _proc_ppid(pid) in parents:
                pids.append((pid, state, cmd))
        return pids

    def stop(self):
        """SIGTERM the parent, wait, then SIGKILL whatever is left of the
        process group. Returns the processes that outlived the parent."""
        if self.proc is None:
            return []
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        # Daemons stop gracefully after the parent: graceful-timeout for
        # what runs, then finalising Python, bounded by shutdown-timeout.
        leftovers = wait_until(lambda: not self._our_pids(), 10.0) or self._our_pids()
        leftovers = [] if leftovers is True else leftovers
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid, _, _ in self._our_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.wait(5)
        still = wait_until(lambda: not self._our_pids(), 5.0)
        if still is not True:
            leftovers = leftovers + [("STILL-ALIVE-AFTER-SIGKILL",) + p
                                     for p in self._our_pids()]
        self.leftovers = leftovers
        return leftovers

    def cleanup(self):
        if not KEEP:
            shutil.rmtree(self.root, ignore_errors=True)


def apache_escape(text):
    """How httpd writes a message into the error log: non-printable and
    non-ASCII bytes as \\xNN, a backslash doubled."""
    out = []
    for b in text.encode("utf-8"):
        if b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def crash_lines(lines):
    return [l for l in lines if any(p in l for p in CRASH_PATTERNS)]


# --------------------------------------------------------------------------
# fixtures

PARAMS = [(m, mode) for mode in MODES for m in MPMS]
PARAM_IDS = ["%s-%s" % p for p in PARAMS]


_failed_starts = {}


@pytest.fixture(scope="session", params=PARAMS, ids=PARAM_IDS)
def server(request):
    mpm, mode = request.param
    # pytest retries a failed session fixture for every test; fail fast
    if request.param in _failed_starts:
        pytest.fail(_failed_starts[request.param], pytrace=False)
    srv = HttpdServer(mpm, mode)
    try:
        srv.start()
    except pytest.fail.Exception as e:
        _failed_starts[request.param] = str(e)
        srv.cleanup()
        raise
    yield srv
    leftovers = srv.stop()
    slow = [l for l in srv.log_since() if any(p in l for p in SHUTDOWN_PATTERNS)]
    srv.cleanup()
    assert not leftovers, "processes outlived httpd %s: %r" % (srv.param, leftovers)
    assert not slow, "children did not exit on SIGTERM (%s):\n%s" % (
        srv.param, "\n".join(slow))


@pytest.fixture(autouse=True)
def _error_log_guard(request):
    """Scan the error log lines a test produced for crashes and alerts."""
    srv = request.getfixturevalue("server") if "server" in request.fixturenames else None
    mark = srv.log_mark() if srv else None
    yield
    if srv is None or request.node.get_closest_marker("allow_log_alerts"):
        return
    # a crash is reported by the parent slightly after the fact
    time.sleep(0.02)
    bad = crash_lines(srv.log_since(mark))
    if bad:
        pytest.fail("crash/alert lines in the error log during this test:\n"
                    + "\n".join(bad[:20]), pytrace=False)


class LogView:
    """The error-log lines the current test produced."""

    def __init__(self, srv):
        self.srv = srv
        self.mark = srv.log_mark()

    def lines(self, files=None):
        return self.srv.log_since(self.mark, files)

    def text(self, files=None):
        return "\n".join(self.lines(files))

    def wait_for(self, pred, timeout=3.0, files=None):
        return self.srv.wait_log(pred, self.mark, timeout, files)

    def tagged(self, tag):
        return [l for l in self.lines() if (tag + ":") in l]


@pytest.fixture
def log(server):
    return LogView(server)


@pytest.fixture
def make_server(request):
    """Start a one-off server with extra config lines:
    make_server(extra="GatewayScriptReloading Off", mpm=..., mode=...).
    `extra` may also be a callable srv -> str, for lines that need the
    server's root or ports (srv.root, srv.port, srv.port2)."""
    started = []

    def _make(extra="", mpm=None, mode=None):
        srv = HttpdServer(mpm or MPMS[0], mode or MODES[0], extra=extra,
                          name="one-off")
        started.append(srv)
        return srv.start()

    yield _make
    problems = []
    for srv in started:
        leftovers = srv.stop()
        if leftovers:
            problems.append("processes outlived httpd: %r" % leftovers)
        slow = [l for l in srv.log_since() if any(p in l for p in SHUTDOWN_PATTERNS)]
        if slow:
            problems.append("children did not exit on SIGTERM:\n" + "\n".join(slow))
        if not request.node.get_closest_marker("allow_log_alerts"):
            bad = crash_lines(srv.log_since())
            if bad:
                problems.append("crash/alert lines:\n" + "\n".join(bad[:20]))
        srv.cleanup()
    if problems:
        pytest.fail("one-off server: " + "\n".join(problems), pytrace=False)


def configtest(extra, mpm=None, mode=None):
    """Render the standard config plus `extra` and run `httpd -t` on it.
    Returns (returncode, combined output)."""
    check_module_built()
    root = make_root(prefix="gwtest-t-")
    try:
        conf = os.path.join(root, "httpd.conf")
        with open(conf, "w") as f:
            f.write(render_config(root, mpm or MPMS[0], mode or MODES[0],
                                  free_port(), free_port(), extra))
        p = subprocess.run([GW_HTTPD, "-t", "-f", conf], capture_output=True,
                           text=True, timeout=30, errors="replace")
        return p.returncode, p.stdout + p.stderr
    finally:
        if not KEEP:
            shutil.rmtree(root, ignore_errors=True)


def token():
    """A unique, URL-safe marker for one test request."""
    return "t" + os.urandom(6).hex()


def read_marker(path, timeout=5.0):
    def _read():
        try:
            with open(path) as f:
                data = f.read()
            return data if data.endswith("\n") else None
        except FileNotFoundError:
            return None
    return wait_until(_read, timeout)


def json_body(r):
    return json.loads(r.body if isinstance(r, RawResponse) else r.content)
