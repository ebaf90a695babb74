"""Daemon mode under faults: the reliability claims of RELIABILITY.md
("What each failure looks like") and DESIGN.md §3, §5-6, shown on real
servers.

Every test starts its own one-off server in daemon mode (`make_server`)
with the daemon process groups it needs; the standard `gwtest` group of the
daemon template stays as it is. The groups under test get a `display-name`
unique to the test, so their processes are found in /proc by command line.

  1  kill -9 of an idle daemon: respawned, the next request is served,
     GW0401 names the signal (also for a daemon older than 10 s)
  2  kill -9 mid-request: 502 before the head (GW0413); after a first chunk,
     a truncated chunked body and a closed connection
  3  every thread busy past queue-timeout: 503 within the deadline
  4  an infinite loop past request-timeout: 504, the same process goes on
  5  a segfault in group A while group B is under load: B unaffected
  6  graceful restarts under load: no failed request; restart and stop
     leave no process and no socket file behind, the parent exits cleanly
  7  two Unix users: a group cannot read the other's files, reach its
     socket, or be used from another virtual host (GW0212)
  8  user=root refused by `httpd -t`
  9  a daemon that cannot start: backoff (no fork storm), 503 for its group
 10  an app that exits with httpd's "fatal" child status does not stop
     Apache

Needs root (useradd, kill, /proc/<pid>/fd) and /usr/bin/wrk. The load is
local (127.0.0.1) and bounded (6 and 12 seconds). GW_MPMS selects the MPMs;
GW_MODES does not apply (every server here runs in daemon mode).
"""
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest
import requests

import conftest as C

WRK = shutil.which("wrk") or "/usr/bin/wrk"
ALL_MPMS = C.MPMS
# Tests where the MPM makes no difference to the module's code path run on
# one MPM (event when it is selected).
ONE_MPM = ["event"] if "event" in C.MPMS else C.MPMS[:1]

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (users, kill, /proc)")

GRACEFUL_RE = re.compile(r"(?i)graceful restart")   # AH00493/AH00297/AH00171


# --------------------------------------------------------------------------
# helpers

def _title(tag):
    """A display-name unique to this test run."""
    return "gwf%s-%s" % (os.urandom(3).hex(), tag)


def _proc(pid):
    """(state, ppid, cmdline) of pid, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode("latin-1").strip()
    except (OSError, ValueError):
        return None
    rest = stat[stat.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), cmd


def _all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def daemon_pids(title):
    """Live (non-zombie) processes whose command line is the display-name."""
    out = []
    for pid in _all_pids():
        info = _proc(pid)
        if info and info[0] != "Z" and info[2].startswith(title):
            out.append(pid)
    return sorted(out)


def wait_daemons(title, n, timeout=10.0, exclude=()):
    """Exactly n live daemons with this title, none of them in exclude;
    returns their pids, or None."""
    def ok():
        pids = daemon_pids(title)
        return pids if len(pids) == n and not set(pids) & set(exclude) \
            else None
    return C.wait_until(ok, timeout)


def procs_mentioning(*needles):
    """Every process (zombies too) whose command line mentions a needle."""
    out = []
    for pid in _all_pids():
        info = _proc(pid)
        if info and any(n in info[2] for n in needles):
            out.append((pid,) + info)
    return out


def is_dead(pid):
    """Gone, or a zombie whose threads have all exited: the kernel has
    closed its descriptors (a multithreaded process shows "Z" as soon as
    its first thread is done, while the others may still hold its files)."""
    info = _proc(pid)
    if info is None:
        return True
    try:
        return info[0] == "Z" and not os.listdir("/proc/%d/fd" % pid) \
            and len(os.listdir("/proc/%d/task" % pid)) <= 1
    except (FileNotFoundError, ProcessLookupError):
        return True     # reaped between the reads (ESRCH from /proc)
    except PermissionError:
        return False


def kill9(pid):
    os.kill(pid, signal.SIGKILL)
    assert C.wait_until(lambda: is_dead(pid), 5.0), \
        "pid %d still running 5 s after SIGKILL" % pid


def age(pid):
    """Seconds since pid started."""
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    ticks = int(stat[stat.rindex(")") + 2:].split()[19])
    with open("/proc/uptime") as f:
        up = float(f.read().split()[0])
    return up - ticks / os.sysconf("SC_CLK_TCK")


def socket_files(srv):
    run = os.path.join(srv.root, "run")
    return sorted(os.path.join(run, n) for n in os.listdir(run)
                  if n.endswith(".sock"))


def unix_paths_held_by(pid):
    """Paths of the bound Unix sockets pid holds open."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(int(link[8:-1]))
    paths = set()
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) >= 8 and int(parts[6]) in inodes:
                paths.add(parts[7])
    return paths


def get(srv, path, host=None, timeout=15, port2=False):
    url = (srv.url2 if port2 else srv.url)(path)
    headers = {"Host": host} if host else {}
    return requests.get(url, headers=headers, timeout=timeout)


def wait_served(srv, path, timeout=10.0, **kw):
    """The first 200 answer for path within timeout (the group may be
    respawning: each try may itself wait for the new daemon). Returns
    (response or None, [what the tries before got])."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        try:
            r = get(srv, path, timeout=max(1.0, deadline - time.monotonic()),
                    **kw)
            if r.status_code == 200:
                return r, seen
            seen.append(r.status_code)
        except requests.RequestException as e:
            seen.append(type(e).__name__)
        if time.monotonic() >= deadline:
            return None, seen
        time.sleep(0.1)


def lines_with(lines, *needles):
    return [l for l in lines if all(n in l for n in needles)]


def names_code(line, n):
    """A GW0401/GW0402/GW0404 line names signal or exit code n."""
    text = re.sub(r"process \d+", "", line.split("GW040")[-1])
    return re.search(r"\b%d\b" % n, text) is not None


def death_lines(srv, mark, group, pid):
    """The keeper's GW0404 naming the daemon's pid, and the parent's GW0401
    restarting the group (which names the keeper, the parent's child)."""
    keeper = lines_with(srv.wait_log("GW0404:", mark, timeout=3),
                        "'%s'" % group, "process %d " % pid)
    parent = lines_with(srv.wait_log("GW0401:", mark, timeout=3),
                        "'%s'" % group)
    return keeper, parent


def notable(lines):
    """Log lines worth showing in a failure message."""
    return [l for l in lines
            if not any(t in l for t in ("GW0001:", "GW0002:", "GW0310:",
                                        "GW0311:", "AH00094", "AH00490",
                                        "AH00164", "AH00293"))]


def run_wrk(url, secs, conns=8, threads=2, close=False):
    cmd = [WRK, "-t%d" % threads, "-c%d" % conns, "-d%ds" % secs,
           "--timeout", "8s", url]
    if close:
        cmd[1:1] = ["-H", "Connection: close"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wrk_result(proc, secs):
    out, _ = proc.communicate(timeout=secs + 30)
    m = re.search(r"(\d+) requests in", out)
    return {"out": out, "requests": int(m.group(1)) if m else 0,
            "non2xx": "Non-2xx or 3xx responses" in out,
            "socket_errors": "Socket errors" in out}


def load_problems(res, label, log=(), minimum=200):
    """[] if wrk saw no non-2xx answer and no socket error (connect, read,
    write, timeout) and made enough requests for that to mean something."""
    if res["requests"] < minimum:
        return ["%s: wrk made only %d requests:\n%s"
                % (label, res["requests"], res["out"])]
    if res["non2xx"] or res["socket_errors"]:
        return ["%s: failed requests under load:\n%s\nerror log:\n%s"
                % (label, res["out"], "\n".join(notable(log)[-40:]))]
    return []


def group_server(make_server, mpm, lines):
    """A one-off daemon-mode server plus `lines(srv)`."""
    return make_server(extra=lines, mpm=mpm, mode="daemon")


def need_wrk():
    if not os.access(WRK, os.X_OK):
        pytest.fail("wrk not found (%s)" % WRK, pytrace=False)


def httpd_k(srv, action):
    """`apache2 -f CONF -k ACTION`, as apachectl does it."""
    p = subprocess.run([C.GW_HTTPD, "-f", srv.conf, "-k", action],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def check(problems):
    assert not problems, "\n\n".join(problems)


# --------------------------------------------------------------------------
# 1. kill -9 of an idle daemon

# the SIGKILL this test sends: GW0404/GW0401 "killed by signal 9"
@pytest.mark.allow_log_alerts("killed by signal 9")
@pytest.mark.parametrize("mpm", ALL_MPMS)
def test_kill9_idle_daemon_respawns(make_server, mpm):
    title = _title("idle")
    srv = group_server(make_server, mpm, lambda s: """
GatewayDaemonProcess gidle processes=1 threads=2 display-name=%s
GatewayScriptAlias /gi/probe "%s/apps/fault_probe.wsgi" process-group=gidle
""" % (title, s.root))
    r = get(srv, "/gi/probe")
    assert r.status_code == 200, r.text
    old = r.json()["pid"]
    assert wait_daemons(title, 1) == [old]
    mark = srv.log_mark()

    kill9(old)
    # Dead and idle (the kernel closed its end of every connection before
    # the next request is sent): the next request waits for the respawned
    # process, within bounds, and is served by it.
    t0 = time.monotonic()
    r, before = wait_served(srv, "/gi/probe", timeout=10)
    assert r is not None, "no 200 within 10 s of the kill; got %r" % before
    assert before == [], ("requests after an idle daemon's death failed "
                          "before one succeeded: %r\n%s"
                          % (before, "\n".join(srv.log_since(mark))))
    assert time.monotonic() - t0 < 5.0
    new = r.json()["pid"]
    assert new != old
    assert wait_daemons(title, 1) == [new], procs_mentioning(title)

    keeper, parent = death_lines(srv, mark, "gidle", old)
    assert keeper and parent, "no GW0404/GW0401 for pid %d:\n%s" % (
        old, "\n".join(srv.log_since(mark)))
    for line in keeper[0], parent[0]:
        assert "[gateway:error]" in line and names_code(line, 9), \
            "does not name signal 9: %s" % line


# the SIGKILL this test sends: GW0404/GW0401 "killed by signal 9"
@pytest.mark.allow_log_alerts("killed by signal 9")
@pytest.mark.parametrize("mpm", ONE_MPM)
def test_kill9_mature_daemon_logged_as_error(make_server, mpm):
    """A daemon that lived past the young-death window (10 s) and is then
    killed by a signal still crashed: GW0401 at error level, naming the
    signal (not GW0402 "exited" at info level)."""
    title = _title("old")
    srv = group_server(make_server, mpm, lambda s: """
GatewayDaemonProcess gold processes=1 threads=1 display-name=%s
GatewayScriptAlias /go/probe "%s/apps/fault_probe.wsgi" process-group=gold
""" % (title, s.root))
    r = get(srv, "/go/probe")
    assert r.status_code == 200
    old = r.json()["pid"]
    time.sleep(max(0.0, 10.6 - age(old)))
    mark = srv.log_mark()
    kill9(old)
    r, before = wait_served(srv, "/go/probe", timeout=10)
    assert r is not None and r.json()["pid"] != old, before
    keeper, parent = death_lines(srv, mark, "gold", old)
    assert keeper and parent, "\n".join(srv.log_since(mark))
    for line in keeper[0], parent[0]:
        assert "[gateway:error]" in line and names_code(line, 9), \
            "the SIGKILL of a 10 s old daemon is logged as: %s" % line


# --------------------------------------------------------------------------
# 2. kill -9 mid-request

# the SIGKILL this test sends: GW0404/GW0401 "killed by signal 9"
@pytest.mark.allow_log_alerts("killed by signal 9")
@pytest.mark.parametrize("mpm", ALL_MPMS)
def test_kill9_mid_request(make_server, mpm):
    title = _title("mid")
    srv = group_server(make_server, mpm, lambda s: """
GatewayDaemonProcess gmid processes=1 threads=2 display-name=%s
GatewayScriptAlias /gm/sleep "%s/apps/fault_sleep.wsgi" process-group=gmid
GatewayScriptAlias /gm/chunk "%s/apps/fault_chunk.wsgi" process-group=gmid
GatewayScriptAlias /gm/probe "%s/apps/fault_probe.wsgi" process-group=gmid
""" % (title, s.root, s.root, s.root))

    # (a) killed before the head: 502, GW0413
    mark = srv.log_mark()
    marker = C.token()
    with srv.raw() as conn:
        conn.request("GET", "/gm/sleep?secs=3&marker=" + marker)
        pid = C.read_marker(os.path.join(srv.tmp, marker))
        assert pid, "the app never started"
        pid = int(pid)
        t0 = time.monotonic()
        kill9(pid)
        resp = conn.read_response(timeout=10)
        elapsed = time.monotonic() - t0
    assert resp.status == 502, resp
    assert elapsed < 2.0, "502 came %.1f s after the kill" % elapsed
    assert b"Traceback" not in resp.body
    tagged = lines_with(srv.wait_log("GW0413:", mark, timeout=3), "'gmid'")
    assert tagged, "\n".join(srv.log_since(mark))
    assert "[gateway:error]" in tagged[0]

    r, before = wait_served(srv, "/gm/probe", timeout=10)
    assert r is not None, before
    assert r.json()["pid"] != pid

    # (b) killed after the first chunk: a truncated chunked response
    mark = srv.log_mark()
    marker = C.token()
    with srv.raw() as conn:
        conn.request("GET", "/gm/chunk?secs=3&marker=" + marker)
        deadline = time.monotonic() + 10
        while b"first-chunk" not in conn.buf:
            assert conn._fill(deadline), "no first chunk: %r" % conn.buf
        pid = int(C.read_marker(os.path.join(srv.tmp, marker)))
        kill9(pid)
        resp = conn.read_response(timeout=8)
    assert resp.status == 200, resp
    assert resp.chunked, resp.head
    assert resp.body == b"first-chunk\n", resp
    assert not resp.complete, "the truncated response ended with a last chunk"
    assert resp.eof, "the connection was not closed after the truncation"
    tagged = lines_with(srv.wait_log("GW0413:", mark, timeout=3), "'gmid'")
    assert tagged and "cut short" in tagged[0] \
        and "[gateway:error]" in tagged[0], "\n".join(srv.log_since(mark))

    r, before = wait_served(srv, "/gm/probe", timeout=10)
    assert r is not None, before
    assert r.json()["pid"] != pid


# --------------------------------------------------------------------------
# 3. queue-timeout

@pytest.mark.parametrize("mpm", ONE_MPM)
def test_queue_timeout_503(make_server, mpm):
    title = _title("queue")
    srv = group_server(make_server, mpm, lambda s: """
GatewayDaemonProcess gq processes=1 threads=1 queue-timeout=1 display-name=%s
GatewayScriptAlias /gq/sleep "%s/apps/fault_sleep.wsgi" process-group=gq
GatewayScriptAlias /gq/probe "%s/apps/fault_probe.wsgi" process-group=gq
""" % (title, s.root, s.root))
    mark = srv.log_mark()
    marker = C.token()
    long_result = {}

    def long_request():
        t = time.monotonic()
        try:
            r = get(srv, "/gq/sleep?secs=6&marker=" + marker, timeout=20)
            long_result["status"] = r.status_code
        except requests.RequestException as e:
            long_result["status"] = repr(e)
        long_result["elapsed"] = time.monotonic() - t

    th = threading.Thread(target=long_request)
    th.start()
    try:
        assert C.read_marker(os.path.join(srv.tmp, marker)), "no long request"
        t0 = time.monotonic()
        r = get(srv, "/gq/probe", timeout=20)
        elapsed = time.monotonic() - t0
    finally:
        th.join(30)
    assert r.status_code == 503, (r.status_code, r.text[:300])
    assert long_result.get("status") == 200, long_result
    # queue-timeout is a deadline (RELIABILITY.md: every child<->daemon
    # operation has one): the queued request is answered about
    # queue-timeout after it was queued, not when the busy thread is free.
    assert elapsed < 2.5, ("the 503 came %.1f s after the request, with "
                           "queue-timeout=1 and the only thread busy for 6 s"
                           % elapsed)
    assert srv.wait_log("GW0321:", mark, timeout=3)
    assert get(srv, "/gq/probe").status_code == 200


# --------------------------------------------------------------------------
# 4. request-timeout

@pytest.mark.parametrize("app_group", ["default", "global"])
@pytest.mark.parametrize("mpm", ONE_MPM)
def test_request_timeout_infinite_loop_504(make_server, mpm, app_group):
    """DESIGN.md §6: request-timeout first interrupts the stuck request
    (504; the thread and the process survive). `default` runs the app in
    its own sub-interpreter (%{RESOURCE}), `global` in the main one."""
    title = _title("loop")
    opt = " application-group=%{GLOBAL}" if app_group == "global" else ""
    srv = group_server(make_server, mpm, lambda s: """
GatewayDaemonProcess gloop processes=1 threads=1 request-timeout=1 display-name=%s
GatewayScriptAlias /gl/loop "%s/apps/fault_loop.wsgi" process-group=gloop%s
GatewayScriptAlias /gl/probe "%s/apps/fault_probe.wsgi" process-group=gloop
""" % (title, s.root, opt, s.root))
    assert get(srv, "/gl/probe").status_code == 200
    mark = srv.log_mark()
    marker = C.token()
    t0 = time.monotonic()
    r = get(srv, "/gl/loop?marker=" + marker, timeout=20)
    elapsed = time.monotonic() - t0
    assert r.status_code == 504, "%d after %.1f s; log:\n%s" % (
        r.status_code, elapsed, "\n".join(notable(srv.log_since(mark))))
    assert elapsed < 4.0, "504 after %.1f s with request-timeout=1" % elapsed
    loop_pid = int(C.read_marker(os.path.join(srv.tmp, marker)))
    # threads=1: this request needs the very thread that was stuck
    r = get(srv, "/gl/probe", timeout=10)
    assert r.status_code == 200
    assert r.json()["pid"] == loop_pid, "the process was replaced"
    assert daemon_pids(title) == [loop_pid]
    lines = srv.log_since(mark)
    assert lines_with(lines, "GW0325:", "'gloop'"), "\n".join(lines)
    assert not [l for l in lines if "GW0324:" in l or "GW0401:" in l
                or "GW0402:" in l], "\n".join(lines)


@pytest.mark.parametrize("first", ["probe", "loop"])
@pytest.mark.parametrize("mpm", ONE_MPM)
def test_request_timeout_while_script_loads_504(make_server, mpm, first):
    """request-timeout reaches a request whose script held the GIL while it
    loaded (fault_loop_slow_import.wsgi), in its own sub-interpreter. The
    GIL thread must not be left waiting in the interpreter of the worker's
    previous request (first=probe) or in the main one (first=loop): Python
    3.11 would never hand it the GIL there, and the stuck request would end
    only with the process, 5 s later."""
    title = _title("slow")
    srv = group_server(make_server, mpm, lambda s: """
GatewayDaemonProcess gslow processes=1 threads=1 request-timeout=1 display-name=%s
GatewayScriptAlias /gs/loop "%s/apps/fault_loop_slow_import.wsgi" process-group=gslow
GatewayScriptAlias /gs/probe "%s/apps/fault_probe.wsgi" process-group=gslow
""" % (title, s.root, s.root))
    mark = srv.log_mark()
    if first == "probe":
        assert get(srv, "/gs/probe").status_code == 200
    t0 = time.monotonic()
    r = get(srv, "/gs/loop", timeout=20)
    elapsed = time.monotonic() - t0
    assert r.status_code == 504, "%d after %.1f s; log:\n%s" % (
        r.status_code, elapsed, "\n".join(notable(srv.log_since(mark))))
    assert elapsed < 4.0, "504 after %.1f s with request-timeout=1" % elapsed
    pid = get(srv, "/gs/probe", timeout=10).json()["pid"]
    assert daemon_pids(title) == [pid]
    lines = srv.log_since(mark)
    assert lines_with(lines, "GW0325:", "'gslow'"), "\n".join(lines)
    assert not [l for l in lines if "GW0324:" in l or "GW0401:" in l
                or "GW0402:" in l], "\n".join(lines)


# --------------------------------------------------------------------------
# 5. a segfault in group A while group B is under load

# group gsa's daemon segfaults on purpose: GW0404 "killed by signal 11"
# (its keeper) and GW0401 (the parent), both naming the group
@pytest.mark.allow_log_alerts("daemon group 'gsa' ")
@pytest.mark.parametrize("mpm", ALL_MPMS)
def test_segfault_isolated_from_other_group(make_server, mpm):
    need_wrk()
    title_a, title_b = _title("segA"), _title("segB")
    srv = group_server(make_server, mpm, lambda s: """
GatewayDaemonProcess gsa processes=1 threads=2 display-name=%(a)s
GatewayDaemonProcess gsb processes=2 threads=4 display-name=%(b)s
GatewayScriptAlias /sa/segv "%(r)s/apps/fault_segv.wsgi" process-group=gsa
GatewayScriptAlias /sa/probe "%(r)s/apps/fault_probe.wsgi" process-group=gsa
GatewayScriptAlias /sb/simple "%(r)s/apps/simple.wsgi" process-group=gsb
""" % {"a": title_a, "b": title_b, "r": s.root})
    r = get(srv, "/sa/probe")
    assert r.status_code == 200
    a_old = r.json()["pid"]
    assert get(srv, "/sb/simple").status_code == 200
    b_pids = wait_daemons(title_b, 2)
    assert b_pids, procs_mentioning(title_b)
    mark = srv.log_mark()

    secs = 6
    load = run_wrk(srv.url("/sb/simple"), secs)
    try:
        time.sleep(2)
        r = get(srv, "/sa/segv", timeout=10)
        segv_status, segv_text = r.status_code, r.text
    finally:
        res = wrk_result(load, secs)
    lines = srv.log_since(mark)
    problems = load_problems(res, "group B while group A segfaulted", lines)
    if segv_status != 502:
        problems.append("the crashing request got %d, not 502: %s"
                        % (segv_status, segv_text[:300]))
    if daemon_pids(title_b) != b_pids:
        problems.append("group B's processes changed: %r -> %r"
                        % (b_pids, daemon_pids(title_b)))
    # the only crash is A's daemon: no Apache child, no B daemon
    other = C.crash_lines(lines, allowed=["daemon group 'gsa' "])
    if other:
        problems.append("other crashes:\n" + "\n".join(other))
    check(problems)

    r, before = wait_served(srv, "/sa/probe", timeout=10)
    assert r is not None, before
    assert r.json()["pid"] != a_old
    keeper, parent = death_lines(srv, mark, "gsa", a_old)
    assert keeper and parent, "\n".join(srv.log_since(mark))
    for line in keeper[0], parent[0]:
        assert "[gateway:error]" in line and names_code(line, 11), \
            "does not name SIGSEGV (11): %s" % line


# --------------------------------------------------------------------------
# 6. graceful restarts under load; restart and stop leave nothing behind

@pytest.mark.parametrize("mpm", ALL_MPMS)
def test_graceful_under_load(make_server, mpm):
    """Three `httpd -k graceful` during 12 s of load on a daemon group: not
    one request fails. wrk sends `Connection: close`: with keep-alive,
    httpd itself (static files, no mod_gateway involved) makes a few
    clients see a closed idle connection at each graceful restart, which is
    not what this test measures."""
    need_wrk()
    title = _title("grace")
    srv = group_server(make_server, mpm, lambda s: """
GatewayDaemonProcess ggr processes=2 threads=4 display-name=%s
GatewayScriptAlias /gg/simple "%s/apps/simple.wsgi" process-group=ggr
""" % (title, s.root))
    assert get(srv, "/gg/simple").status_code == 200
    first = wait_daemons(title, 2)
    assert first, procs_mentioning(title)
    socks = socket_files(srv)
    assert len(socks) == 2, socks          # gwtest and ggr
    mark = srv.log_mark()

    secs = 12
    load = run_wrk(srv.url("/gg/simple"), secs, close=True)
    rcs = []
    try:
        for _ in range(3):
            time.sleep(3)
            rcs.append(httpd_k(srv, "graceful"))
    finally:
        res = wrk_result(load, secs)
    assert all(rc == 0 for rc, _ in rcs), rcs
    lines = srv.log_since(mark)
    assert len([l for l in lines if GRACEFUL_RE.search(l)]) == 3, \
        "three graceful restarts expected:\n" + "\n".join(notable(lines))
    problems = load_problems(res, "graceful x3 (%s)" % mpm, lines)
    now = wait_daemons(title, 2, exclude=first)
    if not now:
        problems.append("daemons after graceful: %r (before: %r)"
                        % (daemon_pids(title), first))
    if socket_files(srv) != socks:
        problems.append("the socket files changed on graceful: %r -> %r"
                        % (socks, socket_files(srv)))
    # The ending generation stops its daemons (SIGTERM, no log line); a
    # GW0401/GW0402 here means one died or was respawned by a generation
    # that is going away; GW0322, that requests were cut off.
    bad = [l for l in lines if "GW0401:" in l or "GW0402:" in l
           or "GW0322:" in l]
    if bad:
        problems.append("daemons died, were respawned by the ending "
                        "generation, or were cut off during graceful "
                        "restarts:\n" + "\n".join(bad))
    check(problems)


@pytest.mark.parametrize("mpm", ALL_MPMS)
def test_restart_and_stop_leave_nothing_behind(make_server, mpm):
    title = _title("stop")
    srv = group_server(make_server, mpm, lambda s: """
GatewayDaemonProcess gst processes=2 threads=2 display-name=%s
GatewayScriptAlias /gs/simple "%s/apps/simple.wsgi" process-group=gst
""" % (title, s.root))
    assert get(srv, "/gs/simple").status_code == 200
    before = wait_daemons(title, 2)
    assert before, procs_mentioning(title)
    socks = socket_files(srv)
    assert len(socks) == 2, socks
    problems = []

    # -k restart: a new generation, the old one gone entirely
    mark = srv.log_mark()
    rc, out = httpd_k(srv, "restart")
    assert rc == 0, out
    r, seen = wait_served(srv, "/gs/simple", timeout=10)
    assert r is not None, seen
    if not wait_daemons(title, 2, exclude=before):
        problems.append("daemons after restart: %r (before: %r)"
                        % (daemon_pids(title), before))
    if not C.wait_until(lambda: all(_proc(p) is None for p in before), 5):
        problems.append("old daemons left after restart: %r"
                        % [(p, _proc(p)) for p in before if _proc(p)])
    if socket_files(srv) != socks:
        problems.append("socket files after restart: %r (before: %r)"
                        % (socket_files(srv), socks))
    bad = [l for l in srv.log_since(mark) if "GW0401:" in l
           or "GW0402:" in l]
    if bad:
        problems.append("daemons died or were respawned by the generation "
                        "that was ending (restart):\n" + "\n".join(bad))

    # -k stop: the parent exits cleanly; no process, no socket file left
    mark = srv.log_mark()
    rc, out = httpd_k(srv, "stop")
    assert rc == 0, out
    srv.proc.wait(20)
    if srv.proc.returncode != 0:
        problems.append("the Apache parent ended with %s on -k stop "
                        "(negative: killed by that signal)"
                        % srv.proc.returncode)
    left = C.wait_until(lambda: not procs_mentioning(srv.root, title), 5)
    if left is not True:
        problems.append("processes left after -k stop: %r"
                        % procs_mentioning(srv.root, title))
    if socket_files(srv):
        problems.append("socket files left after -k stop: %r"
                        % socket_files(srv))
    bad = [l for l in srv.log_since(mark) if "GW0401:" in l
           or "GW0402:" in l]
    if bad:
        problems.append("daemons respawned during -k stop:\n"
                        + "\n".join(bad))
    check(problems)


# --------------------------------------------------------------------------
# 7. privilege separation between two Unix users

USERS = ("gwtest_a", "gwtest_b")


def ensure_user(name):
    """A system user `name` (created once; another run may race us)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    p = subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", name], capture_output=True,
                       text=True, timeout=30)
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pytest.fail("useradd %s failed: %s" % (name, p.stderr), pytrace=False)


@pytest.mark.parametrize("mpm", ONE_MPM)
def test_two_users_isolated(make_server, mpm):
    ua, ub = ensure_user(USERS[0]), ensure_user(USERS[1])
    www_gid = grp.getgrnam(C.RUN_GROUP).gr_gid
    ta, tb = _title("userA"), _title("userB")

    def lines(s):
        return """
<VirtualHost 127.0.0.1:%(p2)d>
    ServerName a.test
    GatewayDaemonProcess gua user=%(ua)s display-name=%(ta)s processes=1 threads=2
    GatewayScriptAlias /probe "%(r)s/apps/fault_probe.wsgi" process-group=gua
</VirtualHost>
<VirtualHost 127.0.0.1:%(p2)d>
    ServerName b.test
    GatewayDaemonProcess gub user=%(ub)s display-name=%(tb)s processes=1 threads=2
    GatewayScriptAlias /probe "%(r)s/apps/fault_probe.wsgi" process-group=gub
    GatewayScriptAlias /cross "%(r)s/apps/fault_probe.wsgi"
    <Location /cross>
        GatewayProcessGroup gua
    </Location>
</VirtualHost>
""" % {"p2": s.port2, "r": s.root, "ua": ua.pw_name, "ub": ub.pw_name,
       "ta": ta, "tb": tb}

    srv = group_server(make_server, mpm, lines)
    secret = os.path.join(srv.root, "secret_b.txt")
    with open(secret, "w") as f:
        f.write("b's secret\n")
    os.chown(secret, ub.pw_uid, ub.pw_gid)
    os.chmod(secret, 0o600)

    b_pid = wait_daemons(tb, 1)
    assert b_pid, procs_mentioning(tb)
    b_socks = unix_paths_held_by(b_pid[0]) & set(socket_files(srv))
    assert len(b_socks) == 1, (b_socks, socket_files(srv))
    b_sock = b_socks.pop()
    st = os.stat(b_sock)
    assert (st.st_mode & 0o777, st.st_uid) == \
        (0o600, pwd.getpwnam(C.RUN_USER).pw_uid), \
        "B's socket: mode %o uid %d" % (st.st_mode & 0o777, st.st_uid)

    quote = requests.utils.quote
    ra = get(srv, "/probe?read=%s&connect=%s" % (quote(secret), quote(b_sock)),
             host="a.test", port2=True)
    rb = get(srv, "/probe?read=" + quote(secret), host="b.test", port2=True)
    assert ra.status_code == 200 and rb.status_code == 200, (ra.text, rb.text)
    a, b = ra.json(), rb.json()
    assert a["process_group"] == "gua" and b["process_group"] == "gub"
    for info, u in ((a, ua), (b, ub)):
        assert info["resuid"] == [u.pw_uid] * 3, info
        assert info["resgid"] == [u.pw_gid] * 3, info
        assert 0 not in info["groups"] and www_gid not in info["groups"], info
        assert set(info["groups"]) <= {u.pw_gid}, info
    assert b["read"].startswith("ok:"), b      # the control: B can read it
    assert a["read"].startswith("PermissionError"), a
    assert a["connect"].startswith("PermissionError"), a

    # B goes on serving, with the same process
    rb = get(srv, "/probe", host="b.test", port2=True)
    assert rb.status_code == 200 and rb.json()["pid"] == b_pid[0]

    # group A used from vhost B: refused
    mark = srv.log_mark()
    rc = get(srv, "/cross", host="b.test", port2=True)
    assert rc.status_code == 500, (rc.status_code, rc.text[:300])
    tagged = srv.wait_log("GW0212:", mark, timeout=3)
    assert tagged and "'gua'" in tagged[0], "\n".join(srv.log_since(mark))


# --------------------------------------------------------------------------
# 8. user=root refused at configuration time

def test_user_root_refused_by_configtest():
    rc, out = C.configtest("GatewayDaemonProcess rootgrp user=root",
                           mpm=ONE_MPM[0], mode="daemon")
    assert rc != 0, out
    assert "user=root" in out and "refused" in out, out
    assert "rootgrp" in out, out


# --------------------------------------------------------------------------
# 9. a daemon that cannot start: backoff, and 503 for its group

@pytest.mark.parametrize("mpm", ONE_MPM)
def test_daemon_cannot_start_backoff(make_server, mpm):
    title = _title("bad")

    def lines(s):
        empty = os.path.join(s.root, "emptyhome")
        os.makedirs(empty, exist_ok=True)
        os.chmod(empty, 0o755)
        return """
GatewayDaemonProcess gbad processes=1 threads=1 python-home=%s connect-timeout=2 socket-timeout=6 display-name=%s
GatewayScriptAlias /gb/probe "%s/apps/fault_probe.wsgi" process-group=gbad
""" % (empty, title, s.root)

    srv = group_server(make_server, mpm, lines)
    t_start = time.monotonic()
    result = {}

    def request():
        t = time.monotonic()
        try:
            result["status"] = get(srv, "/gb/probe", timeout=20).status_code
        except requests.RequestException as e:
            result["status"] = repr(e)
        result["elapsed"] = time.monotonic() - t

    th = threading.Thread(target=request)
    th.start()
    # the other groups are not affected
    other = get(srv, "/simple").status_code
    time.sleep(max(0.0, 6.0 - (time.monotonic() - t_start)))
    th.join(20)
    lines = srv.log_since()
    problems = []

    died = [l for l in lines if "GW0401:" in l and "'gbad'" in l]
    if not 3 <= len(died) <= 8:
        problems.append("%d GW0401 lines for the failing group in ~6 s "
                        "(expected a handful, with growing delays):\n%s"
                        % (len(died), "\n".join(died)))
    delays = [int(m.group(1)) for m in
              (re.search(r" in (\d+) ms", l) for l in died) if m]
    if len(delays) != len(died) or \
            not all(b > a for a, b in zip(delays, delays[1:])):
        problems.append("restart delays do not grow: %r\n%s"
                        % (delays, "\n".join(died)))
    if not lines_with(lines, "GW0101:"):
        problems.append("no GW0101 (why Python failed to start)")
    if result.get("status") != 503 or result.get("elapsed", 99) > 3.5:
        problems.append(
            "a request for the group that cannot start got %r after %.1f s "
            "(expected 503 within connect-timeout=2 + 1.5 s):\n%s" % (
                result.get("status"), result.get("elapsed", -1),
                "\n".join(l for l in lines if "GW041" in l)))
    if other != 200 or get(srv, "/simple").status_code != 200:
        problems.append("the healthy group gwtest stopped serving")
    check(problems)


# --------------------------------------------------------------------------
# 10. an app that exits with httpd's "fatal" status

@pytest.mark.parametrize("mpm", ALL_MPMS)
def test_app_exit_fatal_status_does_not_stop_apache(make_server, mpm):
    """httpd's MPMs shut the whole server down when a process they reap
    exits with APEXIT_CHILDFATAL (15). Daemons are children of the Apache
    parent and run tenant code: `os._exit(15)` in an app must cost the
    tenant its process (502, respawn), not stop Apache for everyone."""
    title = _title("exit")
    srv = group_server(make_server, mpm, lambda s: """
GatewayDaemonProcess gex processes=1 threads=2 display-name=%s
GatewayScriptAlias /gx/exit "%s/apps/fault_exit.wsgi" process-group=gex
GatewayScriptAlias /gx/probe "%s/apps/fault_probe.wsgi" process-group=gex
""" % (title, s.root, s.root))
    r = get(srv, "/gx/probe")
    assert r.status_code == 200
    old = r.json()["pid"]
    mark = srv.log_mark()
    r = get(srv, "/gx/exit?code=15")
    assert r.status_code == 502, (r.status_code, r.text[:300])
    time.sleep(2.5)       # the parent reaps on its once-a-second tick
    lines = srv.log_since(mark)
    assert srv.proc.poll() is None, (
        "the Apache parent is gone (status %s) after a daemon app called "
        "os._exit(15):\n%s" % (srv.proc.returncode, "\n".join(notable(lines))))
    r, before = wait_served(srv, "/gx/probe", timeout=10)
    assert r is not None and r.json()["pid"] != old, before
    assert get(srv, "/simple").status_code == 200
