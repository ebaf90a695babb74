"""The request ledger (RELIABILITY.md "How we show it", issue 7 point 3):
under load, while daemons are killed, recycled, restarted by a graceful
restart or by a changed script, every request carries an id and the app
(apps/ledger.wsgi) appends "<id> <pid> <method>" to a ledger file before it
does anything else. Afterwards:

  - every id whose client got a 2xx (with its own id echoed back) is in the
    ledger exactly once, run by the pid that answered;
  - no id is in the ledger twice, whatever its client got: nothing ran
    twice (the module sends a request again only when the daemon promised,
    with CLOSE, that it did not run it; a POST must never run twice);
  - errors only where they cannot be avoided: a request running in a daemon
    that gets SIGKILL answers 502 (and is then in the ledger at most once,
    run by a killed process); recycling (maximum-requests, restart-interval),
    graceful restarts and script reloads give no error at all.

The load: CLIENTS Python threads, each with its own keep-alive connection,
a mix of GETs and POSTs (1 B - 96 KiB bodies, checked by CRC in the answer),
some requests sleeping a few ms so that a disruption finds some in flight.
POSTs go on a new connection each (`Connection: close`): when httpd closes
an idle keep-alive connection (which it does to every one at a graceful
restart, prefork also after each request once the restart is signalled), a
request sent on it at that moment fails before httpd read it, and a client
may send it again only if it is idempotent. A GET that fails that way on a
reused connection before any byte of an answer is sent again once, with
the same id, on a new connection (as browsers do); the ledger shows whether
the first attempt had run after all.

Disruptions are paced by completed requests, not by fixed sleeps: FLOW
requests complete before each one and after the last (on a loaded machine a
restarted prefork generation may need seconds to start Python in its nine
children). Each test prints its figures (`pytest -s`): requests, POSTs,
errors by status, GETs the client sent again, the longest time in which no
request completed, ledger lines.

Servers: one per (MPM, mode) for this file, event and prefork (those of
GW_MPMS), the modes of GW_MODES; kills and recycling need daemon mode.
Every daemon group has a display-name unique to the run, so its processes
are found in /proc by command line.
"""
import collections
import http.client
import os
import random
import re
import shutil
import signal
import threading
import time
import zlib

import pytest

import conftest as C

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (kill, /proc)")

MPMS = [m for m in ("event", "prefork") if m in C.MPMS]
DAEMON = ["%s-daemon" % m for m in MPMS] if "daemon" in C.MODES else []
EMBEDDED = ["%s-embedded" % m for m in MPMS] if "embedded" in C.MODES else []
BOTH = DAEMON + EMBEDDED

CLIENTS = 8
# Requests that must complete before each disruption and after the last one
# (bounded by FLOW_TIMEOUT each): the disruptions hit a server under load.
FLOW = 40
FLOW_TIMEOUT = 15.0
CLIENT_TIMEOUT = 20.0
MAX_BODY = 96 * 1024

# path -> (daemon group, GatewayDaemonProcess options, script). Each
# disruption has its own group, so one does not disturb another; a script
# reload has its own copy of the script (daemon mode restarts every process
# of the group whose script changed).
MOUNTS = {
    "/lkill": ("lkill", "processes=2 threads=4", "apps"),
    "/lrecyc": ("lrecyc", "processes=2 threads=4 maximum-requests=50", "apps"),
    "/lintv": ("lintv", "processes=2 threads=4 restart-interval=1", "apps"),
    "/lgrace": ("lgrace", "processes=2 threads=4", "apps"),
    "/lreload": ("lreload", "processes=2 threads=4", "ldyn"),
}
EMBEDDED_MOUNTS = ("/lgrace", "/lreload")


# --------------------------------------------------------------------------
# the servers

def ledger_config(srv, mode):
    """Extra config: the ledger mounts, their groups in daemon mode, and a
    copy of the app that the reload test rewrites."""
    dyn = os.path.join(srv.root, "ldyn")
    os.makedirs(dyn)
    os.chmod(dyn, 0o755)
    shutil.copy(C.APPS_DIR / "ledger.wsgi", os.path.join(dyn, "ledger.wsgi"))
    os.chmod(os.path.join(dyn, "ledger.wsgi"), 0o644)
    srv.ledger_title = "gwl%s" % os.urandom(3).hex()
    lines = ['<Directory "%s">' % dyn, "    Require all granted",
             "</Directory>"]
    for path, (group, opts, where) in MOUNTS.items():
        script = os.path.join(srv.root, where, "ledger.wsgi")
        if mode == "daemon":
            lines.append("GatewayDaemonProcess %s %s display-name=%s"
                         % (group, opts, title_of(srv, group)))
            lines.append('GatewayScriptAlias %s "%s" process-group=%s'
                         % (path, script, group))
        elif path in EMBEDDED_MOUNTS:
            lines.append('GatewayScriptAlias %s "%s"' % (path, script))
    return "\n".join(lines) + "\n"


def title_of(srv, group):
    return "%s-%s" % (srv.ledger_title, group)


@pytest.fixture(scope="module")
def lsrv(request):
    """One server per "mpm-mode" (indirect parameter), kept for the
    module: the tests of one server run one after another."""
    mpm, mode = request.param.split("-")
    srv = C.HttpdServer(mpm, mode, name="ledger",
                        extra=lambda s: ledger_config(s, mode))
    try:
        srv.start()
    except pytest.fail.Exception:
        srv.cleanup()
        raise
    yield srv
    # kill -9 of children and daemons is part of the test: its crash lines
    # are expected, the other checks hold
    C.stop_checked(srv, crashes=False)


# --------------------------------------------------------------------------
# processes

def _state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[0]


def daemon_pids(srv, group):
    """Live daemons of group (command line = its display-name)."""
    title = title_of(srv, group)
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and C._cmdline(int(d)).split(" ")[0] == title \
                and _state(int(d)) not in (None, "Z"):
            out.append(int(d))
    return sorted(out)


def ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    return int(stat[stat.rindex(")") + 2:].split()[1])


def wait_daemons(srv, group, n, exclude=(), timeout=10.0):
    """n live daemons of group, none of them in exclude: their pids, or
    None."""
    def ok():
        pids = daemon_pids(srv, group)
        return pids if len(pids) == n and not set(pids) & set(exclude) \
            else None
    return C.wait_until(ok, timeout)


# --------------------------------------------------------------------------
# the load

# How a kept connection closed by httpd shows, when nothing was answered.
STALE = (http.client.RemoteDisconnected, ConnectionResetError,
         BrokenPipeError)


class Outcome:
    """One request as its client saw it."""
    __slots__ = ("rid", "method", "ledger", "status", "error", "pid",
                 "retried", "t_end")

    def __init__(self, rid, method, ledger):
        self.rid, self.method, self.ledger = rid, method, ledger
        self.status = self.error = self.pid = self.t_end = None
        self.retried = False

    def ok(self):
        return self.error is None and self.status is not None \
            and 200 <= self.status < 300

    def what(self):
        if self.error is None:
            return str(self.status)
        return self.error.split(":")[0] + (
            "" if self.status is None else " after %d" % self.status)


class Load:
    """CLIENTS threads sending requests to `targets` (path -> ledger name;
    thread i uses the (i mod n)th path) from start() until stop()."""

    def __init__(self, srv, targets, clients=CLIENTS):
        self.srv = srv
        self.paths = sorted(targets)
        self.targets = targets
        self.clients = clients
        self.stop_ev = threading.Event()
        self.outcomes = []
        self.lock = threading.Lock()
        self.threads = []
        self.run_id = os.urandom(3).hex()
        self.t0 = self.elapsed = None

    def start(self):
        self.t0 = time.monotonic()
        for i in range(self.clients):
            t = threading.Thread(target=self._client, args=(i,), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def done(self):
        with self.lock:
            return len(self.outcomes)

    def flow(self, n=FLOW, timeout=FLOW_TIMEOUT):
        """Waits until n more requests completed (requests flow), within
        timeout; returns whether they did. Disruptions are spaced by this
        rather than by fixed sleeps: on a loaded machine a restarted
        generation may take seconds to start Python (prefork starts 9
        children at once)."""
        target = self.done() + n
        return bool(C.wait_until(lambda: self.done() >= target, timeout))

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(2 * CLIENT_TIMEOUT + 10)
        self.elapsed = time.monotonic() - self.t0
        assert not any(t.is_alive() for t in self.threads), \
            "a load client is stuck"
        return self.outcomes

    def _conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.srv.port,
                                          timeout=CLIENT_TIMEOUT)

    def _client(self, i):
        rng = random.Random("%s-%d" % (self.run_id, i))
        path = self.paths[i % len(self.paths)]
        ledger = self.targets[path]
        conn, used, seq = None, 0, 0
        while not self.stop_ev.is_set():
            seq += 1
            post = rng.random() < 0.35
            o = Outcome("%s-%s-%d-%d" % (ledger, self.run_id, i, seq),
                        "POST" if post else "GET", ledger)
            url = "%s?id=%s&l=%s&ms=%d" % (path, o.rid, ledger,
                                           rng.choice((0, 0, 2, 10, 30)))
            if post:
                self._post(o, url, rng.randbytes(rng.randint(1, MAX_BODY)))
            else:
                if conn is None:
                    conn, used = self._conn(), 0
                conn = self._get(o, url, conn, used)
                used += 1
            o.t_end = time.monotonic()
            with self.lock:
                self.outcomes.append(o)
        if conn is not None:
            conn.close()

    def _post(self, o, url, body):
        conn = self._conn()
        try:
            self._exchange(o, conn, url, body, {"Connection": "close"})
        except Exception as e:  # noqa: BLE001 -- every failure is recorded
            o.error = "%s: %s" % (type(e).__name__, e)
        finally:
            conn.close()

    def _get(self, o, url, conn, used):
        """Returns the connection to go on with, or None."""
        try:
            self._exchange(o, conn, url, None, {})
            return conn
        except STALE as e:
            conn.close()
            if used == 0 or o.status is not None:
                o.error = "%s: %s" % (type(e).__name__, e)
                return None
        except Exception as e:  # noqa: BLE001
            conn.close()
            o.error = "%s: %s" % (type(e).__name__, e)
            return None
        # httpd closed the kept connection without a byte of an answer:
        # once more, same id, on a new connection
        o.retried = True
        conn = self._conn()
        try:
            self._exchange(o, conn, url, None, {})
            return conn
        except Exception as e:  # noqa: BLE001
            conn.close()
            o.error = "%s (after a retry): %s" % (type(e).__name__, e)
            return None

    @staticmethod
    def _exchange(o, conn, url, body, headers):
        conn.request(o.method, url, body=body, headers=headers)
        resp = conn.getresponse()
        o.status = resp.status
        data = resp.read()          # IncompleteRead on a cut answer
        if not 200 <= resp.status < 300:
            return
        body = body or b""
        want = "%d %08x" % (len(body), zlib.crc32(body))
        m = re.match(rb"^(\S+) (\d+) (\d+ [0-9a-f]{8})\n$", data)
        if not m or m.group(1).decode() != o.rid \
                or m.group(3).decode() != want:
            o.error = "WrongAnswer: %r (want %s ... %s)" % (
                data[:200], o.rid, want)
            return
        o.pid = int(m.group(2))


# --------------------------------------------------------------------------
# the verdict

def read_ledger(srv, name):
    """{id: [(pid, method), ...]} and the malformed lines of one ledger."""
    path = os.path.join(srv.tmp, "ledger-%s.txt" % name)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        data = b""
    runs = collections.defaultdict(list)
    bad = []
    if data and not data.endswith(b"\n"):
        bad.append(data[data.rfind(b"\n") + 1:])
    for line in data.split(b"\n")[:-1]:
        parts = line.decode("latin-1").split(" ")
        if len(parts) != 3 or not parts[1].isdigit() \
                or parts[2] not in ("GET", "POST"):
            bad.append(line)
            continue
        runs[parts[0]].append((int(parts[1]), parts[2]))
    return runs, bad


def verdict(srv, load, allowed=(), killed=()):
    """(problems, summary). `allowed`: client-side results that are not
    problems (statuses like 502, or "IncompleteRead" for a cut answer);
    a request with such a result may be in the ledger at most once, and
    only as run by a process in `killed`."""
    outcomes = load.outcomes
    runs, bad = {}, []
    for name in sorted({o.ledger for o in outcomes}):
        r, b = read_ledger(srv, name)
        runs.update(r)
        bad += b
    sent = {o.rid: o for o in outcomes}
    problems = []
    if bad:
        problems.append("malformed ledger lines (not atomic?): %r" % bad[:5])
    unknown = sorted(set(runs) - set(sent))
    if unknown:
        problems.append("ids in the ledger that no client sent: %r"
                        % unknown[:10])
    for rid, r in sorted(runs.items()):
        if len(r) > 1 and rid in sent:
            o = sent[rid]
            problems.append("RAN %d TIMES: %s %s (client got %s%s): %r"
                            % (len(r), o.method, rid, o.what(),
                               ", client sent it again" if o.retried else "",
                               r))
    for o in outcomes:
        r = runs.get(o.rid, [])
        if o.ok():
            if not r:
                problems.append("2xx MISSING FROM THE LEDGER: %s %s "
                                "(answered by pid %d)" % (o.method, o.rid,
                                                          o.pid))
            elif len(r) == 1 and r[0] != (o.pid, o.method):
                problems.append("%s %s answered by pid %d, ledger says %r"
                                % (o.method, o.rid, o.pid, r[0]))
        elif o.what().split(" ")[0] in allowed:
            if r and r[0][0] not in killed:
                problems.append("%s %s got %s but ran in pid %d, which was "
                                "not killed" % (o.method, o.rid, o.what(),
                                                r[0][0]))
        else:
            problems.append("%s %s: %s (%s)" % (
                o.method, o.rid, o.what(),
                "in the ledger %d time(s)" % len(r)))
    summary = {
        "seconds": round(load.elapsed, 1),
        "requests": len(outcomes),
        "posts": sum(1 for o in outcomes if o.method == "POST"),
        "ok": sum(1 for o in outcomes if o.ok()),
        "errors": dict(collections.Counter(o.what() for o in outcomes
                                           if not o.ok())),
        "resent_by_client": sum(1 for o in outcomes if o.retried),
        "longest_stall_s": round(longest_stall(outcomes), 2),
        "ledger_lines": sum(len(r) for r in runs.values()),
    }
    return problems, summary


def longest_stall(outcomes):
    """The longest time in which no request completed."""
    ends = sorted(o.t_end for o in outcomes)
    return max((b - a for a, b in zip(ends, ends[1:])), default=0.0)


def report(srv, label, summary, problems, mark, extra=(), expected=()):
    """Prints the figures (pytest -s shows them) and fails with the
    problems, the figures and the error log lines of the test. Crash lines
    containing one of `expected` are not problems."""
    line = "ledger %s %s: %s" % (srv.param, label, summary)
    print(line)
    problems = list(problems) + list(extra)
    crash = [l for l in C.crash_lines(srv.log_since(mark))
             if not any(e in l for e in expected)]
    if crash:
        problems.append("crash/alert lines in the error log:\n"
                        + "\n".join(crash[:20]))
    if summary["requests"] < 100 or summary["posts"] < 20:
        problems.append("too little load to mean anything")
    if problems:
        log = [l for l in srv.log_since(mark) if "GW0002:" not in l]
        pytest.fail("%s\n%s\n--- error log ---\n%s" % (
            line, "\n".join(problems[:40]), "\n".join(log[-60:])),
            pytrace=False)


def graceful_count(srv, mark):
    return len([l for l in srv.log_since(mark)
                if re.search(r"(?i)graceful restart", l)])


# --------------------------------------------------------------------------
# the tests

def warm(srv, path):
    """One request to path succeeds (the app is imported), so that the
    load starts on a server that serves."""
    r = srv.get("%s?id=warm-%s&l=warm" % (path, os.urandom(3).hex()))
    assert r.status_code == 200, (r.status_code, r.text[:500])


def disrupt(load, times, action, settle=None):
    """Under load: let FLOW requests complete, run action(i), wait for
    settle(i) if given; `times` times; then FLOW requests more. Returns the
    problems (requests that stopped flowing, a disruption that did not
    happen)."""
    problems = []
    for i in range(times):
        if not load.flow():
            problems.append("requests stopped flowing before disruption %d"
                            % (i + 1))
        action(i)
        if settle is not None and not settle(i):
            problems.append("disruption %d did not take effect" % (i + 1))
    if not load.flow():
        problems.append("requests stopped flowing after the last disruption")
    return problems


@pytest.mark.parametrize("lsrv", DAEMON, indirect=True)
def test_ledger_daemon_kills(lsrv):
    """SIGKILL a daemon process of the group three times under load: the
    requests it was running get 502 (or a cut answer), each in the ledger
    at most once; nothing else fails, nothing runs twice."""
    srv = lsrv
    warm(srv, "/lkill")
    mark = srv.log_mark()
    killed, keepers = [], []

    def kill(i):
        live = wait_daemons(srv, "lkill", 2, exclude=killed)
        assert live, "the group did not get back to 2 processes: %r" \
            % daemon_pids(srv, "lkill")
        pid = random.choice(live)
        keepers.append(ppid(pid))
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    load = Load(srv, {"/lkill": "kill"}).start()
    try:
        extra = disrupt(load, 3, kill, lambda i: wait_daemons(
            srv, "lkill", 2, exclude=killed))
    finally:
        load.stop()
    problems, summary = verdict(srv, load, killed=killed,
                                allowed=("502", "IncompleteRead"))
    summary["killed"] = killed
    # the kills themselves are logged as crashes (GW0404 by the keeper,
    # GW0401 by the parent): only those of our kills are expected
    expected = ["process %d was killed by signal 9" % p for p in killed] + \
        ["process %d died: killed by signal 9" % p for p in keepers]
    report(srv, "kill -9 x3", summary, problems, mark, extra, expected)


@pytest.mark.parametrize("lsrv", DAEMON, indirect=True)
def test_ledger_daemon_recycling(lsrv):
    """maximum-requests=50 and restart-interval=1 under load: processes are
    replaced many times, and not one request fails or runs twice (a request
    a recycling process did not take is answered CLOSE and sent again)."""
    srv = lsrv
    warm(srv, "/lrecyc")
    warm(srv, "/lintv")
    mark = srv.log_mark()

    def recycled(tag, group):
        return len([l for l in srv.log_since(mark)
                    if tag in l and "'%s'" % group in l])

    load = Load(srv, {"/lrecyc": "recyc", "/lintv": "intv"}).start()
    try:
        # each round: both groups' processes recycled once more (about a
        # second for restart-interval=1, 100 requests for maximum-requests)
        extra = disrupt(load, 2, lambda i: None, lambda i: C.wait_until(
            lambda: recycled("GW0323:", "lintv") >= 2 * (i + 1)
            and recycled("GW0320:", "lrecyc") >= 2 * (i + 1), 15))
    finally:
        load.stop()
    problems, summary = verdict(srv, load)
    summary["recycled_maxreq"] = recycled("GW0320:", "lrecyc")
    summary["recycled_interval"] = recycled("GW0323:", "lintv")
    report(srv, "recycling", summary, problems, mark, extra)


def write_script(path, version, mtime):
    """The ledger app with a new version comment, as a deployment writes
    it: whole, by rename, with a new mtime."""
    tmp = path + ".new"
    with open(C.APPS_DIR / "ledger.wsgi") as f:
        text = f.read()
    with open(tmp, "w") as f:
        f.write(text + "\n# deployed version %d\n" % version)
    os.chmod(tmp, 0o644)
    os.utime(tmp, (mtime, mtime))
    os.replace(tmp, path)


@pytest.mark.parametrize("lsrv", BOTH, indirect=True)
def test_ledger_script_reload(lsrv):
    """The script is replaced twice under load (GatewayScriptReloading On,
    the default): embedded mode imports it again, daemon mode restarts the
    group's processes and hands each request not yet run to the next one.
    No error, nothing twice."""
    srv = lsrv
    path = os.path.join(srv.root, "ldyn", "ledger.wsgi")
    now = time.time()
    write_script(path, 1, now - 100)
    warm(srv, "/lreload")
    mark = srv.log_mark()
    tag = "GW0327:" if srv.mode == "daemon" else "GW0107:"
    marks = []

    def rewrite(i):
        marks.append(srv.log_mark())
        write_script(path, i + 2, now - 50 + 50 * i)

    load = Load(srv, {"/lreload": "reload"}).start()
    try:
        extra = disrupt(load, 2, rewrite, lambda i: srv.wait_log(
            tag, marks[i], timeout=10))
    finally:
        load.stop()
    problems, summary = verdict(srv, load)
    summary["reloads_logged"] = len([l for l in srv.log_since(mark)
                                     if tag in l])
    report(srv, "script reload x2", summary, problems, mark, extra)


@pytest.mark.parametrize("lsrv", BOTH, indirect=True)
def test_ledger_graceful(lsrv):
    """Two graceful restarts (SIGUSR1 to the parent, what `apachectl
    graceful` sends) under load: no error, nothing twice. In daemon mode
    each restart replaces the group's processes too."""
    srv = lsrv
    warm(srv, "/lgrace")
    mark = srv.log_mark()
    before = daemon_pids(srv, "lgrace") if srv.mode == "daemon" else []
    load = Load(srv, {"/lgrace": "grace"}).start()
    try:
        extra = disrupt(
            load, 2, lambda i: os.kill(srv.proc.pid, signal.SIGUSR1),
            lambda i: C.wait_until(
                lambda: graceful_count(srv, mark) >= i + 1, 10))
    finally:
        load.stop()
    problems, summary = verdict(srv, load)
    summary["gracefuls"] = graceful_count(srv, mark)
    if srv.mode == "daemon" and not wait_daemons(srv, "lgrace", 2,
                                                 exclude=before):
        extra.append("daemons after the restarts: %r (before: %r)"
                     % (daemon_pids(srv, "lgrace"), before))
    report(srv, "graceful x2", summary, problems, mark, extra)
