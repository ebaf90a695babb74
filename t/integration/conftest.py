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
  GW_POSTCHECK_LOG  a file: one JSON line per test with the time the
              post-conditions took and the descriptor counts that moved
  GW_CORE_DIR a directory every user may write: test httpds dump core there
"""

import gc
import json
import os
import pathlib
import re
import resource
import shutil
import signal
import socket
import stat
import string
import struct
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

# Crash and alert lines the error log must never contain: substrings, or
# compiled regexes for lines that are a crash only in one of their forms.
# AH00052 "exit signal" covers the parent's direct children (Apache children
# and daemon keepers); a daemon process is its keeper's child, so its death
# by a signal is only seen in the keeper's GW0404 (its other form, "exited
# with code C", is an application calling os._exit(), not a crash), and a
# keeper's own abnormal end in the parent's GW0401 "died: ..." (see
# docs/log-tags.md). Python's fatal errors abort the process; the line says
# why.
CRASH_PATTERNS = ["Segmentation fault", "exit signal", "[core:alert]", ":alert]",
                  ":emerg]", "AddressSanitizer", "runtime error:",
                  "LeakSanitizer", "Fatal Python error",
                  re.compile(r"GW0404: .* killed by signal"),
                  re.compile(r"GW0401: .* died: ")]

# Lines the parent writes when a child ignores SIGTERM at shutdown.
SHUTDOWN_PATTERNS = ["still did not exit"]

LOG_TAG_RE = re.compile(r"\[gateway:(\w+)\] .*\bGW\d{4}: ")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_log_alerts(*substrings): the test expects crash/"
        "alert lines in the error log; with no argument skip the after-test "
        "log scan, else allow only the lines containing one of substrings")
    config.addinivalue_line(
        "markers", "allow_fd_growth(why): the test legitimately leaves the "
        "server's processes with more descriptors; skip the after-test "
        "descriptor check (zombies and socket files are still checked)")


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
        APP_MOUNTS=mounts, EXTRA=extra + core_dump_config())


def core_dump_config():
    """With GW_CORE_DIR set (a directory www-data can write), every test
    httpd dumps core there: for chasing a crash that only CI shows. Set
    kernel.core_pattern to a path under it as well."""
    d = os.environ.get("GW_CORE_DIR")
    return '\nCoreDumpDirectory "%s"\n' % d if d else ""


def _allow_core():
    if os.environ.get("GW_CORE_DIR"):
        resource.setrlimit(resource.RLIMIT_CORE,
                           (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


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

    @property
    def threads_per_child(self):
        """How many requests one Apache child serves at once."""
        if self.mpm == "prefork":
            return 1
        with open(self.conf) as f:
            found = re.findall(r"^\s*ThreadsPerChild\s+(\d+)", f.read(),
                               re.M | re.I)
        return int(found[-1]) if found else 25     # httpd's default

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
            start_new_session=True, cwd=self.root, preexec_fn=_allow_core)
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

    def settle(self):
        """Waits (at most a second) until no connection of ours is in a
        lingering close: call before signalling httpd to stop (see stop)."""
        wait_until(lambda: closing_connections((self.port, self.port2)) == 0,
                   1.0)

    def stop(self):
        """SIGTERM the parent, wait, then SIGKILL whatever is left of the
        process group. Returns the processes that outlived the parent.

        Lingering closes are let finish first (at most a second): httpd's
        event MPM has a race at an ungraceful stop, in which the main
        thread closes the sockets of connections another thread is
        finishing and freeing; a core dump of it showed a SIGSEGV in
        apr_os_sock_get() called from the MPM on the main thread while a
        second thread was destroying a connection's allocator
        (docs/reliability.md). Stopping an idle server keeps that httpd
        bug out of the crash checks, which are for mod_gateway's."""
        if self.proc is None:
            return []
        if self.proc.poll() is None:
            self.settle()
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


def _is_crash_line(line):
    return any(p.search(line) if isinstance(p, re.Pattern) else p in line
               for p in CRASH_PATTERNS)


def stop_checked(srv, crashes=True):
    """Stops and removes a server a module fixture started, with the checks
    of make_server's teardown: no process outlives httpd, the children
    exit on SIGTERM, and (crashes) no crash or alert line was logged."""
    leftovers = srv.stop()
    lines = srv.log_since()
    slow = [l for l in lines if any(p in l for p in SHUTDOWN_PATTERNS)]
    bad = crash_lines(lines) if crashes else []
    srv.cleanup()
    assert not leftovers, "processes outlived httpd %s: %r" % (srv.param,
                                                               leftovers)
    assert not slow, "children did not exit on SIGTERM:\n" + "\n".join(slow)
    assert not bad, "crash/alert lines:\n" + "\n".join(bad[:20])


def crash_lines(lines, allowed=()):
    """The crash/alert lines among lines, except those containing one of
    the substrings in allowed."""
    return [l for l in lines if _is_crash_line(l)
            and not any(a in l for a in allowed)]


def allowed_alerts(node):
    """None: the test opts out of the crash scan entirely (a bare
    allow_log_alerts); else the substrings of the lines it expects."""
    allowed = []
    for m in node.iter_markers("allow_log_alerts"):
        if not m.args:
            return None
        allowed.extend(m.args)
    return allowed


# --------------------------------------------------------------------------
# post-conditions after every test (RELIABILITY.md: "After every test: ...
# fd and process counts back to baseline; no zombies"): the descriptors of
# the server's processes, zombies, and Unix socket files in its run dir.

# Bounds of the waits below. They are spent only while something is not
# (yet) as it must be: a clean test pays for two looks at /proc, about 10 ms.
SETTLE_TIMEOUT = 8.0      # s: descriptors closing, zombies being reaped
NEWBORN_AGE = 3.0         # s: see _settled()

# After a test, each process of the session server may hold at most
# FD_TOLERANCE descriptors more than its baseline, leaving out its
# connections between Apache children and daemons (those have their own
# rules, in _fd_problems). The baseline is the lowest count seen between
# two tests since the process was first seen settled (done starting up:
# _settled()). Why not 0: the server's end of a connection the test's
# client has just closed is often still open for a few milliseconds (seen
# after up to a third of the tests: +1, a TCP socket), and waiting for it
# after every test would cost more than the whole check; and a process may
# open a descriptor once, on first use, and
# keep it for its life (an app's module-level file or logging handler, a
# library's lazily created epoll or eventfd, what a new sub-interpreter's
# first import keeps open), which uses up the tolerance once, never again.
# A leak grows with the requests instead: one descriptor per request fails
# within three requests, in this test or a later one. More than 2 would let
# a leak run longer before anyone sees it.
FD_TOLERANCE = 2

# What may be left in the run dir of a server that stopped: nothing (httpd
# removes its pid file and mutex files, mod_gateway the groups' sockets, at
# the final exit).
RUN_DIR_EXPECTED = frozenset()

_SOCK_STREAM = 1
_ST_ESTABLISHED = 1       # sock_diag states are TCP's
_ST_LISTEN = 10
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_HAVE_CHILDREN_FILE = os.path.exists("/proc/self/task/%d/children"
                                     % os.getpid())


class _Proc:
    __slots__ = ("pid", "ppid", "pgid", "state", "start", "role")

    def __init__(self, pid, ppid, pgid, state, start):
        self.pid, self.ppid, self.pgid = pid, ppid, pgid
        self.state, self.start, self.role = state, start, None


def _read_stat(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
        rest = data[data.rindex(b")") + 2:].split()
        return _Proc(pid, int(rest[1]), int(rest[2]), rest[0].decode(),
                     int(rest[19]))
    except (OSError, ValueError, IndexError):
        return None


def _children(pid):
    """pid's children, zombies included, from each of its threads' list."""
    out = []
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid), "rb") as f:
                out.extend(int(x) for x in f.read().split())
        except (OSError, ValueError):
            pass
    return out


def _children_by_scan():
    """ppid -> [pid] from all of /proc (when the kernel has no children
    files): about 15 ms, against 2 for the tree walk."""
    kids = {}
    for pid in _proc_pids():
        p = _read_stat(pid)
        if p:
            kids.setdefault(p.ppid, []).append(pid)
    return lambda pid: kids.get(pid, [])


def server_tree(root):
    """pid -> _Proc for httpd's parent `root` and its descendants, zombies
    included, each with its role: "parent", "child" (an Apache child, in
    the parent's process group), "keeper" (a daemon keeper: the parent's
    child in a process group of its own), "daemon" (a keeper's child), or
    "spawned" (anything started by those)."""
    kids = _children if _HAVE_CHILDREN_FILE else _children_by_scan()
    tree = {}
    todo = [(root, None)]
    while todo:
        pid, parent = todo.pop()
        p = _read_stat(pid)
        if p is None or pid in tree:
            continue
        if parent is None:
            p.role = "parent"
        elif parent.role == "parent":
            p.role = "child" if p.pgid == parent.pgid else "keeper"
        elif parent.role == "keeper":
            p.role = "daemon"
        else:
            p.role = "spawned"
        tree[pid] = p
        if p.state != "Z":
            todo.extend((k, p) for k in kids(pid))
    return tree


def _fd_targets(pid):
    """fd -> what it refers to (readlink of /proc/PID/fd/N), or None if
    the process is gone."""
    d = "/proc/%d/fd" % pid
    try:
        names = os.listdir(d)
    except OSError:
        return None
    out = {}
    for n in names:
        try:
            out[int(n)] = os.readlink(d + "/" + n)
        except OSError:
            pass
    return out


def _unix_sockets_diag():
    """inode -> (type, state, path or None, peer inode or None) of every
    Unix socket, from NETLINK_SOCK_DIAG (what `ss -x` uses). The peer
    inode is 0 once the other end is closed."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4)
    try:
        # struct unix_diag_req: all states, show name (1) and peer (4)
        req = struct.pack("=BBHIIIII", socket.AF_UNIX, 0, 0, 0xFFFFFFFF, 0,
                          0x1 | 0x4, 0xFFFFFFFF, 0xFFFFFFFF)
        # nlmsghdr: SOCK_DIAG_BY_FAMILY (20), NLM_F_REQUEST | NLM_F_DUMP
        s.sendto(struct.pack("=IHHII", 16 + len(req), 20, 0x301, 1, 0) + req,
                 (0, 0))
        out = {}
        while True:
            data = s.recv(1 << 17)
            off = 0
            while off + 16 <= len(data):
                length, mtype = struct.unpack_from("=IH", data, off)
                if mtype == 3:                      # NLMSG_DONE
                    return out
                if mtype == 2 or length < 32:       # NLMSG_ERROR
                    raise OSError("sock_diag answered an error")
                stype, state, _, ino = struct.unpack_from("=BBBI", data,
                                                          off + 17)
                name = peer = None
                a, end = off + 32, off + length
                while a + 4 <= end:
                    alen, atype = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    val = data[a + 4:a + alen]
                    if atype == 0:                  # UNIX_DIAG_NAME
                        name = ("@" + val[1:].decode("latin-1")
                                if val[:1] == b"\0"
                                else val.split(b"\0")[0].decode("latin-1"))
                    elif atype == 2 and len(val) >= 4:   # UNIX_DIAG_PEER
                        peer = struct.unpack_from("=I", val)[0]
                    a += (alen + 3) & ~3
                out[ino] = (stype, state, name, peer)
                off += (length + 3) & ~3
            if not data:
                return out
    finally:
        s.close()


def _unix_sockets_procfs():
    """As _unix_sockets_diag, from /proc/net/unix (no peer inodes)."""
    out = {}
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) < 7:
                continue
            flags, stype, st = int(parts[3], 16), int(parts[4], 16), parts[5]
            state = (_ST_LISTEN if flags & 0x10000
                     else _ST_ESTABLISHED if st == "03" else 7)
            out[int(parts[6])] = (stype, state,
                                  parts[7] if len(parts) > 7 else None, None)
    return out


_diag_broken = False


def unix_sockets():
    global _diag_broken
    if not _diag_broken:
        try:
            return _unix_sockets_diag()
        except OSError:
            _diag_broken = True
    return _unix_sockets_procfs()


def _tcp_sockets():
    """inode -> "local -> remote STATE" from /proc/net/tcp{,6} (for
    messages only)."""
    states = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1",
              5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT",
              9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}

    def addr(hexaddr):
        host, port = hexaddr.split(":")
        if len(host) == 8:
            host = socket.inet_ntop(socket.AF_INET,
                                    bytes.fromhex(host)[::-1])
        else:
            raw = bytes.fromhex(host)
            host = socket.inet_ntop(socket.AF_INET6, b"".join(
                raw[i:i + 4][::-1] for i in range(0, 16, 4)))
        return "%s:%d" % (host, int(port, 16))

    return {int(p[9]): "%s -> %s %s" % (addr(p[1]), addr(p[2]),
                                         states.get(int(p[3], 16), p[3]))
            for p in _tcp_rows()}


def closing_connections(ports):
    """Server-side TCP connections on ports that a process still holds
    while closing them (a lingering close: shut for writing, reading until
    the client's EOF). Before a SIGTERM, wait for none: see
    HttpdServer.stop."""
    closing = {"04", "05", "08", "09", "0B"}  # FIN_WAIT1/2, CLOSE_WAIT,
    ports = set(ports)                         # LAST_ACK, CLOSING
    return sum(1 for p in _tcp_rows()
               if int(p[1].rsplit(":", 1)[1], 16) in ports
               and p[3] in closing and p[9] != "0")


def _tcp_rows():
    """The rows of /proc/net/tcp and /proc/net/tcp6, split into fields
    (1: local address, 2: remote, 3: state, 9: inode, all as the kernel
    writes them)."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                rows = [line.split() for line in f]
        except (OSError, StopIteration):
            continue
        for p in rows:
            if len(p) > 9:
                yield p


def _sock_ino(target):
    if target.startswith("socket:["):
        return int(target[8:-1])
    return None


class _Snapshot:
    """The server's process tree, each live process's descriptors, the
    Unix socket table and the system uptime, at one moment."""

    def __init__(self, srv):
        self.alive = srv.proc is not None and srv.proc.poll() is None
        self.tree = server_tree(srv.proc.pid) if self.alive else {}
        self.fds = {}
        for pid, p in self.tree.items():
            if p.role != "spawned" and p.state != "Z":
                t = _fd_targets(pid)
                if t is not None:
                    self.fds[pid] = t
        self.unix = unix_sockets()
        with open("/proc/uptime") as f:
            self.uptime = float(f.read().split()[0])

    def split(self, pid):
        """(other descriptors, child<->daemon connections) of pid: a
        connection is a connected Unix stream socket."""
        others, conns = {}, {}
        for fd, t in self.fds.get(pid, {}).items():
            u = self.unix.get(_sock_ino(t) or -1)
            if u and u[0] == _SOCK_STREAM and u[1] == _ST_ESTABLISHED:
                conns[fd] = t
            else:
                others[fd] = t
        return others, conns

    def age(self, pid):
        return self.uptime - self.tree[pid].start / _CLK_TCK

    def listeners(self):
        """Paths of the Unix sockets the parent listens on: the live
        groups' sockets."""
        out = set()
        for pid, p in self.tree.items():
            if p.role != "parent":
                continue
            for t in self.fds.get(pid, {}).values():
                u = self.unix.get(_sock_ino(t) or -1)
                if u and u[1] == _ST_LISTEN and u[2]:
                    out.add(u[2])
        return out

    def same(self, pid, other):
        """pid is the same process in self and in snapshot other."""
        return pid in self.tree and pid in other.tree \
            and self.tree[pid].start == other.tree[pid].start


class _PostState:
    """What the checks remember about one server between tests."""

    def __init__(self):
        self.base = {}          # pid -> (start, count, {fd: target})
        self.rebase = False     # next baseline: the counts as they are
        self.ready = set()      # daemons that logged GW0310
        self.log_pos = {}
        self.reported = set()   # zombies, socket files and half-closed
                                # connections already reported


def _post(srv):
    if not hasattr(srv, "_post_state"):
        srv._post_state = _PostState()
    return srv._post_state


_READY_RE = re.compile(r"GW0310: daemon '[^']*' process (\d+) ready")


def _daemons_ready(srv):
    """Pids of the daemons that logged GW0310 (read incrementally)."""
    st = _post(srv)
    for path in srv.log_files():
        try:
            with open(path, "rb") as f:
                f.seek(st.log_pos.get(path, 0))
                data = f.read()
        except OSError:
            continue
        # only whole lines; a partial one is read again next time
        data = data[:data.rfind(b"\n") + 1]
        st.log_pos[path] = st.log_pos.get(path, 0) + len(data)
        st.ready.update(int(m) for m in _READY_RE.findall(
            data.decode("utf-8", "replace")))
    return st.ready


def _settled(srv, snap, pid):
    """pid is done starting up: the parent once it answers (start()
    waited for that); an Apache child once it holds its MPM's pollset
    (created after child_init, where Python starts); a daemon once it
    logged GW0310; a keeper once its daemon did (it closed httpd's
    listeners right after forking it). NEWBORN_AGE is the fallback for a
    child, should an MPM have no epoll descriptor."""
    p = snap.tree[pid]
    if p.state == "Z" or pid not in snap.fds:
        return False
    if p.role == "parent":
        return True
    if p.role == "child":
        return "anon_inode:[eventpoll]" in snap.fds[pid].values() \
            or snap.age(pid) >= NEWBORN_AGE
    ready = _post(srv).ready
    if p.role == "daemon":
        return pid in ready or pid in _daemons_ready(srv)
    if p.role == "keeper":
        return any(q.ppid == pid and q.role == "daemon" and q.state != "Z"
                   and (q.pid in ready or q.pid in _daemons_ready(srv))
                   for q in snap.tree.values())
    return False


def update_baselines(srv, snap):
    """Between two tests: record the baseline of each settled process (its
    lowest count of descriptors other than child<->daemon connections), or
    start over after a test that was allowed to add descriptors or that
    failed a check (so one leak is reported once, not by every later
    test)."""
    st = _post(srv)
    for pid in list(st.base):
        if pid not in snap.tree or snap.tree[pid].start != st.base[pid][0]:
            del st.base[pid]
    for pid in snap.tree:
        b = st.base.get(pid)
        if b is None and not _settled(srv, snap, pid):
            continue
        others = snap.split(pid)[0]
        if b is None or st.rebase or len(others) < b[1]:
            st.base[pid] = (snap.tree[pid].start, len(others), others)
    st.rebase = False


def _n_groups(snap):
    return len(snap.listeners())


def _fd_problems(srv, before, snap):
    """[(pid, kind, details)] for the processes with a baseline that
    lived through the test:
      "fds":   more descriptors than baseline + FD_TOLERANCE, leaving out
               child<->daemon connections;
      "pool":  an Apache child holds more connections to daemons than it
               can have pooled: one per thread and group (gw_proxy keeps
               every connection a request returned, and drops a stale one
               when it next takes it), or than before the test;
      "peer":  a daemon holds a connection whose Apache child end is closed
               (the daemon must close it as soon as it reads the EOF)."""
    st = _post(srv)
    out = []
    cap = None
    for pid, (start, count, base_fds) in st.base.items():
        p = snap.tree.get(pid)
        if p is None or p.start != start or p.state == "Z" \
                or pid not in snap.fds or not before.same(pid, snap):
            continue            # died (or was replaced) during the test
        others, conns = snap.split(pid)
        if len(others) > count + FD_TOLERANCE:
            out.append((pid, "fds", (count, before.split(pid)[0], others,
                                     base_fds)))
        if p.role == "child":
            if cap is None:
                cap = srv.threads_per_child * _n_groups(snap)
            had = before.split(pid)[1]
            if len(conns) > max(cap, len(had)):
                out.append((pid, "pool", (cap, had, conns)))
        elif p.role == "daemon":
            dead = {fd: t for fd, t in conns.items()
                    if snap.unix[_sock_ino(t)][3] == 0
                    and ("P", pid, start, t) not in st.reported}
            if dead:
                out.append((pid, "peer", dead))
    return out


def _zombies(snap):
    return [p for p in snap.tree.values()
            if p.state == "Z" and p.role != "parent"]


def _socket_files(root):
    """Unix socket files under root/run."""
    out = []
    for dirpath, _, names in os.walk(os.path.join(root, "run")):
        for n in names:
            path = os.path.join(dirpath, n)
            try:
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    out.append(path)
            except OSError:
                pass
    return sorted(out)


def _stray_sockets(srv, snap):
    """Socket files in the run dir that no live group listens on."""
    if not snap.alive:
        return []
    live = snap.listeners()
    return [p for p in _socket_files(srv.root) if p not in live]


def _problems(srv, before, snap, check_fds):
    st = _post(srv)
    probs = []
    if not snap.alive:
        probs.append(("exited", srv.proc.returncode if srv.proc else None))
    for z in _zombies(snap):
        if ("Z", z.pid, z.start) not in st.reported:
            probs.append(("zombie", z))
    for path in _stray_sockets(srv, snap):
        if ("S", path) not in st.reported:
            probs.append(("socket", path))
    if check_fds and before is not None:
        probs.extend(("fd",) + f for f in _fd_problems(srv, before, snap))
    return probs


def _close_client_sockets(ports):
    """Close this process's sockets still connected to one of ports (a
    requests session or RawConn the test left open, or that a failed
    test's traceback keeps alive), so the server's side of those
    connections can end. Slow (a walk over every object): only used when
    a check does not pass at once."""
    gc.collect()
    closed = 0
    for obj in gc.get_objects():
        if isinstance(obj, socket.socket):
            try:
                if obj.fileno() < 0 or obj.family not in (socket.AF_INET,
                                                          socket.AF_INET6):
                    continue
                if obj.getpeername()[1] in ports:
                    obj.close()
                    closed += 1
            except OSError:
                pass
    return closed


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("latin-1").strip()
    except OSError:
        return "?"


def _describe_fds(fds, snap, tcp):
    """'fd=target (what)' for each descriptor, for a failure message."""
    holders = {}
    for pid, t in snap.fds.items():
        for fd, target in t.items():
            holders.setdefault(target, []).append("pid %d fd %d" % (pid, fd))
    out = []
    for fd in sorted(fds):
        t = fds[fd]
        ino = _sock_ino(t)
        what = ""
        if ino is not None and ino in snap.unix:
            stype, state, name, peer = snap.unix[ino]
            what = "unix %s%s" % ("listener" if state == _ST_LISTEN
                                  else "connection",
                                  " on " + name if name else "")
            if peer == 0:
                what += ", other end closed"
            elif peer:
                held = holders.get("socket:[%d]" % peer)
                what += ", other end %s" % (", ".join(held) if held
                                            else "socket:[%d]" % peer)
        elif ino is not None and ino in tcp:
            what = "tcp " + tcp[ino]
        out.append("%d=%s%s" % (fd, t, " (%s)" % what if what else ""))
    return ", ".join(out) or "none"


def _new_fds(now, then):
    return {fd: t for fd, t in now.items() if then.get(fd) != t}


def format_problems(srv, before, snap, probs, closed):
    tcp = _tcp_sockets()
    lines = []
    for prob in probs:
        kind = prob[0]
        if kind == "exited":
            lines.append("httpd's parent (pid %d) exited during the test, "
                         "status %s" % (srv.proc.pid, prob[1]))
        elif kind == "zombie":
            z = prob[1]
            parent = snap.tree.get(z.ppid)
            lines.append("zombie: pid %d (%s) not reaped by its parent pid "
                         "%d (%s: %s)" % (z.pid, z.role, z.ppid,
                                          parent.role if parent else "?",
                                          _cmdline(z.ppid)))
        elif kind == "socket":
            lines.append("socket file %s: no group of the server listens "
                         "on it (live: %s)" % (prob[1],
                                               sorted(snap.listeners())))
        else:
            pid, what, d = prob[1], prob[2], prob[3]
            p = snap.tree[pid]
            who = "%s pid %d (%s)" % (p.role, pid, _cmdline(pid)[:80])
            if what == "fds":
                count, had, others, base_fds = d
                lines.append(
                    "descriptors: %s: %d before the test, %d after (baseline "
                    "%d, tolerance +%d; connections between Apache children "
                    "and daemons left out)\n    new during this test: %s\n"
                    "    new since the baseline: %s"
                    % (who, len(had), len(others), count, FD_TOLERANCE,
                       _describe_fds(_new_fds(others, had), snap, tcp),
                       _describe_fds(_new_fds(others, base_fds), snap, tcp)))
            elif what == "pool":
                cap, had, conns = d
                lines.append(
                    "connections to daemons (connected Unix stream sockets): "
                    "%s holds %d before the test, %d after (at most %d can "
                    "be pooled: threads x groups)\n"
                    "    new during this test: %s"
                    % (who, len(had), len(conns), cap,
                       _describe_fds(_new_fds(conns, had), snap, tcp)))
            else:
                lines.append(
                    "connections from Apache children (connected Unix "
                    "stream sockets): %s still holds %d whose other end is "
                    "closed: %s"
                    % (who, len(d), _describe_fds(d, snap, tcp)))
    if closed:
        lines.append("(the check closed %d client socket(s) of the test "
                     "still connected to the server first)" % closed)
    return lines


def post_conditions(srv, before=None, check_fds=True):
    """The post-conditions on srv after a test, waiting at most
    SETTLE_TIMEOUT for them to hold: no zombie among its processes, no
    socket file in its run dir that no live group listens on and, with
    `before` (a _Snapshot from before the test) and check_fds, the
    descriptor rules of _fd_problems. Returns failure messages, each
    naming the process, its counts and the new descriptors' targets."""
    snap = _Snapshot(srv)
    probs = _problems(srv, before, snap, check_fds)
    closed = 0
    if probs:
        closed = _close_client_sockets({srv.port, srv.port2})
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while probs and snap.alive and time.monotonic() < deadline:
            time.sleep(0.05)
            snap = _Snapshot(srv)
            probs = _problems(srv, before, snap, check_fds)
    if not probs:
        return []
    st = _post(srv)
    st.rebase = True
    for prob in probs:
        if prob[0] == "zombie":
            st.reported.add(("Z", prob[1].pid, prob[1].start))
        elif prob[0] == "socket":
            st.reported.add(("S", prob[1]))
        elif prob[0] == "fd" and prob[2] == "peer":
            pid = prob[1]
            st.reported.update(("P", pid, snap.tree[pid].start, t)
                               for t in prob[3].values())
    return format_problems(srv, before, snap, probs, closed)


def run_dir_leftovers(srv):
    """After httpd stopped: what is left in its run dir besides
    RUN_DIR_EXPECTED (the groups' socket files, the pid file, mutexes)."""
    try:
        names = os.listdir(os.path.join(srv.root, "run"))
    except FileNotFoundError:
        return []
    return sorted(set(names) - RUN_DIR_EXPECTED)


def warm_up(srv, timeout=15.0):
    """Wait until every process of a fresh server has started up
    (_settled()), so that the first tests get a baseline too."""
    srv.get("/env")

    def settled():
        snap = _Snapshot(srv)
        return snap.alive and all(_settled(srv, snap, pid)
                                  for pid, p in snap.tree.items()
                                  if p.role != "spawned")
    wait_until(settled, timeout, interval=0.1)


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
    warm_up(srv)
    yield srv
    leftovers = srv.stop()
    slow = [l for l in srv.log_since() if any(p in l for p in SHUTDOWN_PATTERNS)]
    left = run_dir_leftovers(srv)
    srv.cleanup()
    assert not leftovers, "processes outlived httpd %s: %r" % (srv.param, leftovers)
    assert not slow, "children did not exit on SIGTERM (%s):\n%s" % (
        srv.param, "\n".join(slow))
    assert not left, "left in the run dir after httpd %s stopped (exit " \
        "status %s): %s" % (srv.param, srv.proc.returncode, left)


POSTCHECK_LOG = os.environ.get("GW_POSTCHECK_LOG")


def _record(request, srv, before, t_setup, t_check, post):
    """GW_POSTCHECK_LOG: one JSON line per test with the time the checks
    took and every process whose descriptors differ from its baseline or
    from before the test (within the tolerance or not)."""
    st = _post(srv)
    snap = _Snapshot(srv)
    diffs = {}
    for pid, (start, count, _) in st.base.items():
        if not (before.same(pid, snap) and snap.tree[pid].start == start):
            continue
        o_b, c_b = before.split(pid)
        o_a, c_a = snap.split(pid)
        if (len(o_a), len(c_a)) != (len(o_b), len(c_b)) or len(o_a) != count:
            diffs[pid] = {"role": snap.tree[pid].role, "base": count,
                          "before": [len(o_b), len(c_b)],
                          "after": [len(o_a), len(c_a)],
                          "new": sorted(set(_new_fds(o_a, o_b).values()))}
    with open(POSTCHECK_LOG, "a") as f:
        f.write(json.dumps({"test": request.node.nodeid, "param": srv.param,
                            "setup_ms": round(t_setup * 1000, 2),
                            "check_ms": round(t_check * 1000, 2),
                            "baselined": len(st.base), "diffs": diffs,
                            "post": post}) + "\n")


@pytest.fixture(autouse=True)
def _error_log_guard(request):
    """After each test on the session server: no crash or alert line in
    the error log (allow_log_alerts to opt out), and post_conditions():
    descriptors back to baseline (allow_fd_growth to opt out), no zombies,
    no stray socket files."""
    srv = request.getfixturevalue("server") if "server" in request.fixturenames else None
    if srv is None:
        yield
        return
    t0 = time.monotonic()
    mark = srv.log_mark()
    before = _Snapshot(srv)
    update_baselines(srv, before)
    t_setup = time.monotonic() - t0
    yield
    t1 = time.monotonic()
    failures = []
    grow = request.node.get_closest_marker("allow_fd_growth")
    post = post_conditions(srv, before, check_fds=grow is None)
    if grow is not None:
        _post(srv).rebase = True
    t_check = time.monotonic() - t1
    if POSTCHECK_LOG:
        _record(request, srv, before, t_setup, t_check, post)
    allowed = allowed_alerts(request.node)
    if allowed is not None:
        # a crash is reported by the parent slightly after the fact
        time.sleep(max(0.0, 0.02 - (time.monotonic() - t1)))
        bad = crash_lines(srv.log_since(mark), allowed)
        if bad:
            failures.append("crash/alert lines in the error log during this "
                            "test:\n" + "\n".join(bad[:20]))
    if post:
        failures.append("post-conditions after this test (server %s):\n  "
                        % srv.param + "\n  ".join(post))
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


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
    allowed = allowed_alerts(request.node)
    for srv in started:
        # while it runs: no zombie, no stray socket file (the descriptor
        # rules need a baseline from before the test: not for these)
        if srv.proc is not None and srv.proc.poll() is None:
            problems.extend(post_conditions(srv))
        leftovers = srv.stop()
        if leftovers:
            problems.append("processes outlived httpd: %r" % leftovers)
        slow = [l for l in srv.log_since() if any(p in l for p in SHUTDOWN_PATTERNS)]
        if slow:
            problems.append("children did not exit on SIGTERM:\n" + "\n".join(slow))
        left = run_dir_leftovers(srv)
        if left:
            problems.append("left in the run dir after httpd stopped (exit "
                            "status %s): %s" % (srv.proc.returncode, left))
        if allowed is not None:
            bad = crash_lines(srv.log_since(), allowed)
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
