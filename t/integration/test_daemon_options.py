"""GatewayDaemonProcess options, one behavioural test each: every test
starts a one-off server (event MPM, embedded mode plus the daemon groups it
defines) and checks an effect the option must have, seen from the
responses, the error log, /proc, `ps` or `ss`.

The apps (apps/opt_*.wsgi) and the directories the options point at
(home=, python-path=, python-home=) live in one module-wide directory
/tmp/gwtest-opt-*, mounted by absolute path with process-group=, so the
config lines do not depend on the server's own root.

Run: cd <repo> && /usr/bin/python3 -m pytest -q t/integration/test_daemon_options.py
"""
import concurrent.futures
import grp
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

from conftest import (APPS_DIR, KEEP, configtest, crash_lines, read_marker,
                      token, wait_until)

MPM = "event"
TEST_USER = "gwtest_a"


# --------------------------------------------------------------------------
# helpers

@pytest.fixture(scope="module")
def optroot():
    """A directory every daemon user can read: apps/ (the opt_* apps),
    home/, pypath/ (a module for python-path=), venv/ made on demand."""
    d = tempfile.mkdtemp(prefix="gwtest-opt-", dir="/tmp")
    os.makedirs(os.path.join(d, "apps"))
    for p in APPS_DIR.glob("opt_*.wsgi"):
        shutil.copy(p, os.path.join(d, "apps"))
    os.makedirs(os.path.join(d, "home"))
    os.makedirs(os.path.join(d, "pypath"))
    with open(os.path.join(d, "pypath", "gwopt_ppmod.py"), "w") as f:
        f.write("VALUE = 'from-python-path'\n")
    for dirpath, dirnames, filenames in os.walk(d):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    yield d
    if not KEEP:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def gw_user():
    """The system user gwtest_a (created if missing; kept afterwards)."""
    try:
        pw = pwd.getpwnam(TEST_USER)
    except KeyError:
        p = subprocess.run(["useradd", "--system", "--no-create-home",
                            TEST_USER], capture_output=True, text=True,
                           timeout=30)
        # a concurrent run may have created it meanwhile
        if p.returncode not in (0, 9):
            pytest.fail("useradd %s: %s" % (TEST_USER, p.stderr))
        pw = pwd.getpwnam(TEST_USER)
    assert pw.pw_uid != 0 and pw.pw_gid != 0
    return pw


def start(make_server, optroot, groups, mounts):
    """groups: [(name, "opt=value ...")]; mounts: [(url, app, group)] or
    [(url, app, group, "more GatewayScriptAlias options")], app being the
    <app> of apps/opt_<app>.wsgi."""
    lines = ['<Directory "%s/apps">' % optroot,
             "    Require all granted",
             "</Directory>"]
    for name, opts in groups:
        lines.append("GatewayDaemonProcess %s %s" % (name, opts))
    for url, app, group, *more in mounts:
        lines.append('GatewayScriptAlias %s "%s/apps/opt_%s.wsgi" '
                     'process-group=%s %s' % (url, optroot, app, group,
                                              " ".join(more)))
    return make_server("\n".join(lines), MPM, "embedded")


def get(srv, path, timeout=15.0):
    return requests.get(srv.url(path), timeout=timeout)


def get_json(srv, path):
    r = get(srv, path)
    assert r.status_code == 200, (path, r.status_code, r.text[:500],
                                  "\n".join(srv.log_since()[-30:]))
    return r.json()


def timed_get(srv, path, timeout=15.0):
    """(status or exception name, body, seconds, monotonic end)."""
    t0 = time.monotonic()
    try:
        r = requests.get(srv.url(path), timeout=timeout)
        status, body = r.status_code, r.content
    except requests.RequestException as e:
        status, body = type(e).__name__, b""
    t1 = time.monotonic()
    return status, body, t1 - t0, t1


def parallel(fn, args_list):
    with concurrent.futures.ThreadPoolExecutor(len(args_list)) as ex:
        return list(ex.map(fn, args_list))


def pid_alive(pid):
    """Running (a zombie waiting for the parent to reap it counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def _ppid_state(pid):
    with open("/proc/%s/stat" % pid) as f:
        stat = f.read()
    rest = stat[stat.rindex(")") + 2:].split()
    return int(rest[1]), rest[0]


def _descends_from(pid, ancestor, depth=3):
    """Daemons are children of a keeper, itself a child of httpd."""
    try:
        for _ in range(depth):
            pid, _ = _ppid_state(pid)
            if pid == ancestor:
                return True
    except (OSError, ValueError):
        pass
    return False


def titled(srv, title):
    """Pids of srv's daemons whose command line starts with title."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            _, state = _ppid_state(d)
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().split(b"\0")[0].decode("latin-1")
        except (OSError, ValueError):
            continue
        if state != "Z" and cmd.startswith(title) \
                and _descends_from(d, srv.proc.pid):
            out.append(int(d))
    return sorted(out)


def tmp_path(srv, name):
    return os.path.join(srv.tmp, name)


def tagged(lines, tag, *words):
    return [l for l in lines if tag + ":" in l and all(w in l for w in words)]


def logtail(srv, n=40):
    return "\n".join(srv.log_since()[-n:])


def settle(srv, group, timeout=8.0):
    """Waits until no process of group is between recycling and its
    replacement being ready: every GW0311 (stopping) has its parent's
    GW0402/GW0401 (reaped), and every replacement its GW0310 (ready)."""
    def steady():
        lines = srv.log_since()
        stopping = len(tagged(lines, "GW0311", "'%s'" % group))
        reaped = len(tagged(lines, "GW0402", "'%s'" % group)) + len(
            tagged(lines, "GW0401", "'%s'" % group))
        ready = len(tagged(lines, "GW0310", "'%s'" % group))
        return stopping == reaped and ready == reaped + 1
    assert wait_until(steady, timeout), logtail(srv)


# --------------------------------------------------------------------------
# processes, threads

def test_processes(make_server, optroot):
    """processes=3 threads=1: three daemon processes exist, and a request
    that arrives while one process's only thread is busy is served by
    another process at once; concurrent requests reach all three (the app
    answers os.getpid())."""
    srv = start(make_server, optroot,
                [("gwopt_procs", "processes=3 threads=1 display-name=gwopt-procs")],
                [("/o/sleep", "sleep", "gwopt_procs")])
    procs = wait_until(lambda: len(titled(srv, "gwopt-procs")) == 3, 5.0)
    assert procs, ("not 3 daemon processes", titled(srv, "gwopt-procs"),
                   logtail(srv))
    daemons = set(titled(srv, "gwopt-procs"))
    assert srv.proc.pid not in daemons
    # One process busy for 1.5 s: the next request must not queue behind it
    # (it starts, by the app's own clock, before the busy one ends).
    ta = token()
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        fa = ex.submit(timed_get, srv, "/o/sleep?s=1.5&tok=" + ta)
        assert read_marker(tmp_path(srv, "ran-" + ta)), logtail(srv)
        status, body, secs, _ = timed_get(srv, "/o/sleep")
        status_a, body_a, _, _ = fa.result()
    assert (status, status_a) == (200, 200), (status, body, status_a, body_a,
                                             logtail(srv))
    a, b = json.loads(body_a), json.loads(body)
    assert (b["pid"] != a["pid"], b["t0"] < a["t1"]) == (True, True), (
        "with pid %d busy until %.2f, the next request was served by pid %d "
        "at %.2f (idle daemons: %s)" % (a["pid"], a["t1"], b["pid"], b["t0"],
                                        sorted(daemons - {a["pid"]})))
    seen = set()
    rounds = []
    for _ in range(3):
        t0 = time.monotonic()
        results = parallel(lambda i: timed_get(srv, "/o/sleep?s=0.2"),
                           range(6))
        rounds.append(round(time.monotonic() - t0, 2))
        for status, body, _, _ in results:
            assert status == 200, (status, body, logtail(srv))
            seen.add(int(re.search(rb'"pid": (\d+)', body).group(1)))
        if len(seen) == 3:
            break
    assert seen == daemons, ("pids that answered", seen, "daemons", daemons,
                             "seconds per round of 6 x 0.2 s", rounds)


def test_threads(make_server, optroot):
    """threads=4: 4 concurrent requests run at once in the daemon, of 5 one
    has to wait for a thread; wsgi.multithread is True for threads=4 and
    False for threads=1."""
    srv = start(make_server, optroot,
                [("gwopt_t4", "processes=1 threads=4"),
                 ("gwopt_t1", "threads=1")],
                [("/o/t4/sleep", "sleep", "gwopt_t4"),
                 ("/o/t4/info", "info", "gwopt_t4"),
                 ("/o/t1/info", "info", "gwopt_t1")])
    t4 = get_json(srv, "/o/t4/info")
    t1 = get_json(srv, "/o/t1/info")
    assert t4["multithread"] is True
    assert t1["multithread"] is False
    # As mod_wsgi: an explicit processes= (even 1) makes wsgi.multiprocess
    # True; without it, one process is not multi-process.
    assert t4["multiprocess"] is True
    assert t1["multiprocess"] is False
    # warm up: the script is loaded, the Apache child has connections
    for status, body, _, _ in parallel(lambda i: timed_get(srv, "/o/t4/sleep"),
                                       range(4)):
        assert status == 200, (status, body)

    def most_at_once(n):
        """n concurrent requests sleeping 0.8 s; how many of them the
        daemon ran at the same time (from the app's own clock, so a slow
        client or a loaded machine does not matter)."""
        res = parallel(lambda i: timed_get(srv, "/o/t4/sleep?s=0.8"), range(n))
        assert all(r[0] == 200 for r in res), (res, logtail(srv))
        spans = [json.loads(r[1]) for r in res]
        return max(sum(1 for o in spans if o["t0"] <= s["t0"] < o["t1"])
                   for s in spans)

    assert most_at_once(4) == 4
    assert most_at_once(5) == 4


# --------------------------------------------------------------------------
# identity and environment

def test_user_and_group(make_server, optroot, gw_user):
    """user=gwtest_a: real/effective/saved uid and gid are the user's, the
    supplementary groups are the user's own (initgroups), never 0 or
    www-data's; group=nogroup replaces the primary group."""
    pw = gw_user
    nogroup = grp.getgrnam("nogroup").gr_gid
    www = grp.getgrnam("www-data").gr_gid
    srv = start(make_server, optroot,
                [("gwopt_user", "user=%s threads=1" % TEST_USER),
                 ("gwopt_ugroup", "user=%s group=nogroup threads=1" % TEST_USER)],
                [("/o/user/info", "info", "gwopt_user"),
                 ("/o/ugroup/info", "info", "gwopt_ugroup")])
    doc = get_json(srv, "/o/user/info")
    assert doc["resuid"] == [pw.pw_uid] * 3
    assert doc["resgid"] == [pw.pw_gid] * 3
    assert doc["groups"] == sorted(os.getgrouplist(TEST_USER, pw.pw_gid))
    assert 0 not in doc["groups"] and www not in doc["groups"], doc["groups"]

    doc = get_json(srv, "/o/ugroup/info")
    assert doc["resuid"] == [pw.pw_uid] * 3
    assert doc["resgid"] == [nogroup] * 3
    assert doc["groups"] == sorted(os.getgrouplist(TEST_USER, nogroup))
    assert 0 not in doc["groups"] and www not in doc["groups"], doc["groups"]
    ready = tagged(srv.log_since(), "GW0310", "gwopt_user",
                   "uid %d, gid %d" % (pw.pw_uid, pw.pw_gid))
    assert ready, logtail(srv)


def test_supplementary_groups(make_server, optroot, gw_user):
    """supplementary-groups=users,nogroup: getgroups() is exactly that set,
    for user= and for Apache's User alike."""
    users, nogroup = grp.getgrnam("users").gr_gid, grp.getgrnam("nogroup").gr_gid
    www = pwd.getpwnam("www-data")
    srv = start(make_server, optroot,
                [("gwopt_supp", "user=%s supplementary-groups=users,nogroup "
                  "threads=1" % TEST_USER),
                 ("gwopt_supp_www", "supplementary-groups=users threads=1")],
                [("/o/supp/info", "info", "gwopt_supp"),
                 ("/o/suppwww/info", "info", "gwopt_supp_www")])
    doc = get_json(srv, "/o/supp/info")
    assert doc["groups"] == sorted([users, nogroup])
    assert doc["resgid"] == [gw_user.pw_gid] * 3
    doc = get_json(srv, "/o/suppwww/info")
    assert doc["groups"] == [users]
    assert doc["resuid"] == [www.pw_uid] * 3
    assert doc["resgid"] == [www.pw_gid] * 3


def test_home(make_server, optroot):
    """home=DIR is the working directory; without it, "/"."""
    home = os.path.join(optroot, "home")
    srv = start(make_server, optroot,
                [("gwopt_home", "home=%s threads=1" % home),
                 ("gwopt_nohome", "threads=1")],
                [("/o/home/info", "info", "gwopt_home"),
                 ("/o/nohome/info", "info", "gwopt_nohome")])
    assert get_json(srv, "/o/home/info")["cwd"] == home
    assert get_json(srv, "/o/nohome/info")["cwd"] == "/"


def test_python_home(make_server, optroot):
    """python-home=VENV: the daemon's sys.prefix is the venv."""
    venv = os.path.join(optroot, "venv")
    if not os.path.isdir(venv):
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", venv],
                       check=True, timeout=60)
        for dirpath, dirnames, filenames in os.walk(venv):
            os.chmod(dirpath, 0o755)
    srv = start(make_server, optroot,
                [("gwopt_pyhome", "python-home=%s threads=1" % venv),
                 ("gwopt_nopyhome", "threads=1")],
                [("/o/pyhome/info", "info", "gwopt_pyhome"),
                 ("/o/nopyhome/info", "info", "gwopt_nopyhome")])
    doc = get_json(srv, "/o/pyhome/info")
    assert os.path.realpath(doc["prefix"]) == os.path.realpath(venv), doc
    assert doc["base_prefix"] == "/usr"
    assert get_json(srv, "/o/nopyhome/info")["prefix"] == "/usr"


def test_python_path(make_server, optroot):
    """python-path=DIR: a module in DIR imports in that group only."""
    pypath = os.path.join(optroot, "pypath")
    srv = start(make_server, optroot,
                [("gwopt_pypath", "python-path=%s threads=1" % pypath),
                 ("gwopt_nopypath", "threads=1")],
                [("/o/pypath/info", "info", "gwopt_pypath"),
                 ("/o/nopypath/info", "info", "gwopt_nopypath")])
    doc = get_json(srv, "/o/pypath/info?import=gwopt_ppmod")
    assert doc["imported"] == "from-python-path"
    doc = get_json(srv, "/o/nopypath/info?import=gwopt_ppmod")
    assert doc["imported"].startswith("ImportError"), doc["imported"]


def test_display_name(make_server, optroot):
    """display-name=TEXT is what `ps` shows for the daemon; %{GROUP} gives
    (gateway:NAME)."""
    srv = start(make_server, optroot,
                [("gwopt_disp", "display-name=gwopt-custom-title threads=1"),
                 ("gwopt_dgrp", "display-name=%{GROUP} threads=1")],
                [("/o/disp/info", "info", "gwopt_disp"),
                 ("/o/dgrp/info", "info", "gwopt_dgrp")])

    def args(pid):
        return subprocess.run(["ps", "-o", "args=", "-p", str(pid)],
                              capture_output=True, text=True,
                              timeout=10).stdout.strip()

    pid = get_json(srv, "/o/disp/info")["pid"]
    assert args(pid) == "gwopt-custom-title"
    pid = get_json(srv, "/o/dgrp/info")["pid"]
    assert args(pid) == "(gateway:gwopt_dgrp)"


def test_umask(make_server, optroot):
    """umask=0027: the daemon's umask, so a file created 0666 is 0640."""
    srv = start(make_server, optroot,
                [("gwopt_umask", "umask=0027 threads=1")],
                [("/o/umask/info", "info", "gwopt_umask")])
    name = "umask-" + token()
    doc = get_json(srv, "/o/umask/info?touch=" + name)
    assert doc["umask"] == 0o027
    assert doc["touched_mode"] == 0o640
    st = os.stat(tmp_path(srv, name))
    assert st.st_mode & 0o777 == 0o640
    assert st.st_uid == pwd.getpwnam("www-data").pw_uid


def test_lang_and_locale(make_server, optroot, monkeypatch):
    """lang=C.UTF-8 sets LANG; locale=C.UTF-8 sets LC_ALL and the C locale
    (locale.setlocale(LC_ALL) reports it). httpd is started without
    LANG/LC_* so neither comes from the test's own environment."""
    for var in list(os.environ):
        if var == "LANG" or var.startswith("LC_"):
            monkeypatch.delenv(var)
    srv = start(make_server, optroot,
                [("gwopt_lang", "lang=C.UTF-8 threads=1"),
                 ("gwopt_locale", "locale=C.UTF-8 threads=1"),
                 ("gwopt_nolocale", "threads=1")],
                [("/o/lang/info", "info", "gwopt_lang"),
                 ("/o/locale/info", "info", "gwopt_locale"),
                 ("/o/nolocale/info", "info", "gwopt_nolocale")])
    base = get_json(srv, "/o/nolocale/info")
    assert base["LANG"] is None and base["LC_ALL"] is None, base
    assert base["locale"] != "C.UTF-8", base
    doc = get_json(srv, "/o/lang/info")
    assert doc["LANG"] == "C.UTF-8"
    doc = get_json(srv, "/o/locale/info")
    assert doc["LC_ALL"] == "C.UTF-8"
    assert doc["locale"] == "C.UTF-8"


# --------------------------------------------------------------------------
# recycling

def test_maximum_requests(make_server, optroot):
    """maximum-requests=4: a process serves 4 requests and is replaced; no
    request fails while it happens, sequentially or 4 at a time."""
    srv = start(make_server, optroot,
                [("gwopt_maxreq", "processes=1 threads=2 maximum-requests=4")],
                [("/o/sleep", "sleep", "gwopt_maxreq")])
    mark = srv.log_mark()
    pids = [get_json(srv, "/o/sleep")["pid"] for _ in range(9)]
    assert pids == [pids[0]] * 4 + [pids[4]] * 4 + [pids[8]], pids
    assert len(set(pids)) == 3, pids
    assert all(not pid_alive(p) for p in pids[:4]), pids
    lines = srv.log_since(mark)
    assert len(tagged(lines, "GW0320", "gwopt_maxreq")) == 2, lines
    # A recycled process is replaced at once (GW0402), not treated as a
    # failed start (GW0401 with a back-off that doubles up to 60 s, which
    # under steady traffic leaves the group without a process).
    assert not tagged(lines, "GW0401", "gwopt_maxreq"), "\n".join(
        tagged(lines, "GW0401"))
    # (GW0402 names the keeper, the parent's child, not the daemon.)
    assert len(tagged(lines, "GW0402", "gwopt_maxreq")) == 2, lines
    # under concurrency: nothing fails either
    results = parallel(lambda i: timed_get(srv, "/o/sleep?s=0.05"), range(4))
    results += parallel(lambda i: timed_get(srv, "/o/sleep?s=0.05"), range(4))
    results += parallel(lambda i: timed_get(srv, "/o/sleep?s=0.05"), range(4))
    assert [r[0] for r in results] == [200] * 12, (results, logtail(srv))
    # Not stopping the server while a replacement is being forked: a daemon
    # forked as httpd stops can outlive it (reported separately).
    settle(srv, "gwopt_maxreq")


def test_restart_interval(make_server, optroot):
    """restart-interval=1.5: the process is replaced after ~1.5 s although it is
    busy, and no request fails meanwhile."""
    t_start = time.monotonic()
    srv = start(make_server, optroot,
                [("gwopt_restart", "processes=1 threads=2 restart-interval=1.5")],
                [("/o/sleep", "sleep", "gwopt_restart")])
    first = get_json(srv, "/o/sleep")["pid"]
    deadline = time.monotonic() + 6
    pid = first
    while pid == first and time.monotonic() < deadline:
        status, body, _, t_end = timed_get(srv, "/o/sleep?s=0.05")
        assert status == 200, (status, body, logtail(srv))
        pid = int(re.search(rb'"pid": (\d+)', body).group(1))
    assert pid != first, "still pid %d after 6 s" % first
    assert t_end - t_start >= 1.4, "recycled after %.2f s" % (t_end - t_start)
    assert tagged(srv.log_since(), "GW0323", "gwopt_restart",
                  "restart-interval reached")
    assert wait_until(lambda: not pid_alive(first), 3.0)


def test_inactivity_timeout(make_server, optroot):
    """inactivity-timeout=1: requests every 0.25 s for 2 s keep the
    process; ~1 s without requests replaces it."""
    srv = start(make_server, optroot,
                [("gwopt_idle", "processes=1 threads=2 inactivity-timeout=1")],
                [("/o/sleep", "sleep", "gwopt_idle")])
    first = get_json(srv, "/o/sleep")["pid"]
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        assert get_json(srv, "/o/sleep")["pid"] == first
        time.sleep(0.25)
    mark = srv.log_mark()
    t_idle = time.monotonic()
    lines = srv.wait_log(lambda l: "GW0323:" in l and "inactivity-timeout" in l,
                         mark, 3.0)
    assert lines, "no inactivity recycling within 3 s\n" + logtail(srv)
    assert time.monotonic() - t_idle >= 0.7
    assert wait_until(lambda: not pid_alive(first), 3.0)
    assert get_json(srv, "/o/sleep")["pid"] != first


# --------------------------------------------------------------------------
# timeouts

@pytest.mark.parametrize("app_group", ["default", "global"])
def test_request_timeout_interrupts_python_loop(make_server, optroot, app_group):
    """request-timeout=1: an app spinning in `while True: pass` gets 504
    within ~timeout+2 s; the thread and the process survive (DESIGN.md §6),
    so the next request on the group is 200 from the same pid. Both in the
    default application group (a sub-interpreter) and in %{GLOBAL}."""
    opt = "application-group=%{GLOBAL}" if app_group == "global" else ""
    srv = start(make_server, optroot,
                [("gwopt_rt", "processes=1 threads=2 request-timeout=1")],
                [("/o/stuck", "stuck", "gwopt_rt", opt),
                 ("/o/info", "info", "gwopt_rt", opt)])
    pid = get_json(srv, "/o/info")["pid"]
    status, body, secs, _ = timed_get(srv, "/o/stuck?mode=spin")
    assert status == 504, (status, body[:300], logtail(srv))
    assert 0.9 <= secs <= 3.0, secs
    assert tagged(srv.log_since(), "GW0325", "gwopt_rt")
    for _ in range(3):
        assert get_json(srv, "/o/info")["pid"] == pid
    # the interrupted thread is usable again: both threads serve at once
    res = parallel(lambda i: timed_get(srv, "/o/info"), range(2))
    assert [r[0] for r in res] == [200, 200]
    assert pid_alive(pid)
    assert not tagged(srv.log_since(), "GW0324")


def test_request_timeout_blocked_in_sleep(make_server, optroot):
    """request-timeout=1 and an app blocked in time.sleep(30), which the
    TimeoutError cannot interrupt (it is raised only when Python code runs
    next): 5 s after the interrupt the process exits (GW0324) and is
    replaced, and the client still gets 504, not 502
    (docs/daemon-mode.md, Timeouts)."""
    srv = start(make_server, optroot,
                [("gwopt_rts", "processes=1 threads=2 request-timeout=1")],
                [("/o/stuck", "stuck", "gwopt_rts"),
                 ("/o/info", "info", "gwopt_rts")])
    pid = get_json(srv, "/o/info")["pid"]
    mark = srv.log_mark()
    status, body, secs, _ = timed_get(srv, "/o/stuck?mode=sleep")
    assert status == 504, ("got %s after %.1f s" % (status, secs), logtail(srv))
    # 1 s, the watchdog's 5 s grace, and its 250 ms tick / 1 s GIL beat
    assert 5.5 <= secs <= 8.5, secs
    lines = srv.log_since(mark)
    assert tagged(lines, "GW0325", "gwopt_rts")
    assert tagged(lines, "GW0324", "gwopt_rts", str(pid))
    assert wait_until(lambda: not pid_alive(pid), 3.0)
    assert get_json(srv, "/o/info")["pid"] != pid


def test_graceful_timeout(make_server, optroot):
    """SIGTERM to a daemon with a request in flight: with graceful-timeout=6
    a 1.5 s request still completes (200); with graceful-timeout=1 a 4 s
    request is cut (502) and the process is gone after ~1 s (GW0322)."""
    srv = start(make_server, optroot,
                [("gwopt_grlong", "processes=1 threads=2 graceful-timeout=6"),
                 ("gwopt_grshort", "processes=1 threads=2 graceful-timeout=1")],
                [("/o/long/sleep", "sleep", "gwopt_grlong"),
                 ("/o/short/sleep", "sleep", "gwopt_grshort")])
    mark = srv.log_mark()
    ta, tb = token(), token()
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        fa = ex.submit(timed_get, srv, "/o/long/sleep?s=1.5&tok=" + ta)
        fb = ex.submit(timed_get, srv, "/o/short/sleep?s=4&tok=" + tb)
        pa = read_marker(tmp_path(srv, "ran-" + ta))
        pb = read_marker(tmp_path(srv, "ran-" + tb))
        assert pa and pb, logtail(srv)
        pa, pb = int(pa), int(pb)
        t_term = time.monotonic()
        os.kill(pa, signal.SIGTERM)
        os.kill(pb, signal.SIGTERM)
        # the short one: cut after ~1 s, the process is gone
        status_b, body_b, _, end_b = fb.result()
        assert status_b in (502, "ChunkedEncodingError", "ConnectionError"), (
            status_b, body_b, logtail(srv))
        assert end_b - t_term <= 2.5, end_b - t_term
        assert wait_until(lambda: not pid_alive(pb), 2.5 - (time.monotonic() - t_term)), \
            "pid %d alive %.1f s after SIGTERM" % (pb, time.monotonic() - t_term)
        # the long one: completes
        status_a, body_a, _, end_a = fa.result()
        assert status_a == 200, (status_a, body_a, logtail(srv))
        assert ta.encode() in body_a
    assert wait_until(lambda: not pid_alive(pa), 3.0)
    assert tagged(srv.log_since(mark), "GW0322", "gwopt_grshort", str(pb))
    assert not tagged(srv.log_since(mark), "GW0322", "gwopt_grlong")
    # both groups are served again by new processes
    assert get_json(srv, "/o/long/sleep")["pid"] not in (pa, pb)
    assert get_json(srv, "/o/short/sleep")["pid"] not in (pa, pb)


@pytest.mark.allow_log_alerts
def test_shutdown_timeout(make_server, optroot):
    """An atexit handler that sleeps 8 s is cut at shutdown-timeout=1: the
    recycled process is gone ~1 s after the handler starts; a quick atexit
    handler runs at recycling (it writes its marker file).

    The daemon is ended by SIGALRM (gw_daemon.c shut_down), which httpd
    reports as "AH00052: child pid N exit signal Alarm clock (14)": that
    one line is allowed (allow_log_alerts), any other crash line is not."""
    srv = start(make_server, optroot,
                [("gwopt_sdslow", "processes=1 threads=1 maximum-requests=1 "
                  "shutdown-timeout=1"),
                 ("gwopt_sdmark", "processes=1 threads=1 maximum-requests=1")],
                [("/o/slow/atexit", "atexit", "gwopt_sdslow"),
                 ("/o/mark/atexit", "atexit", "gwopt_sdmark")])
    ts, tm = token(), token()
    slow_pid = get_json(srv, "/o/slow/atexit?mode=slow&s=8&tok=" + ts)["pid"]
    mark_pid = get_json(srv, "/o/mark/atexit?mode=marker&tok=" + tm)["pid"]
    started = read_marker(tmp_path(srv, "atexit-%s.start" % ts), 5.0)
    t_started = time.monotonic()
    assert started and int(started) == slow_pid, logtail(srv)
    assert wait_until(lambda: not pid_alive(slow_pid), 2.0), (
        "pid %d still alive %.1f s after its atexit handler started"
        % (slow_pid, time.monotonic() - t_started))
    assert not os.path.exists(tmp_path(srv, "atexit-%s.end" % ts))
    assert int(read_marker(tmp_path(srv, "atexit-" + tm), 5.0) or 0) == mark_pid
    assert wait_until(lambda: not pid_alive(mark_pid), 3.0)
    # both are respawned
    assert get_json(srv, "/o/slow/atexit?mode=marker&tok=" + token())["pid"] != slow_pid
    assert get_json(srv, "/o/mark/atexit?mode=marker&tok=" + token())["pid"] != mark_pid
    bad = [l for l in crash_lines(srv.log_since())
           if not ("AH00052: child pid %d exit signal Alarm clock" % slow_pid) in l]
    assert not bad, bad


def test_socket_timeout(make_server, optroot):
    """socket-timeout=2: the daemon answers nothing for 3.5 s -> 504 after
    ~2 s, GW0414 logged; a request quicker than the timeout is 200 (2 s,
    so that the first request, which loads the script into a new
    interpreter, is quick enough even on a loaded machine)."""
    srv = start(make_server, optroot,
                [("gwopt_st", "processes=1 threads=2 socket-timeout=2")],
                [("/o/sleep", "sleep", "gwopt_st")])
    mark = srv.log_mark()
    assert get(srv, "/o/sleep").status_code == 200
    status, body, secs, t_end = timed_get(srv, "/o/sleep?s=3.5")
    assert status == 504, (status, body[:300], logtail(srv))
    assert 1.8 <= secs <= 3.3, secs
    assert tagged(srv.log_since(mark), "GW0414", "gwopt_st")
    # let the abandoned request end before the server stops
    time.sleep(max(0.0, t_end - secs + 3.7 - time.monotonic()))


def test_connect_timeout(make_server, optroot):
    """connect-timeout=2: the only daemon is stopped with SIGSTOP, so it
    accepts nothing. A child sends a request only on a connection a daemon
    has taken (its READY frame), so every request that needs a new
    connection gets 503 after ~2 s with GW0410, whether connect() reached
    the backlog or failed; only a request on the child's pooled
    connection, which the daemon already holds, waits and completes after
    SIGCONT."""
    srv = start(make_server, optroot,
                [("gwopt_ct", "processes=1 threads=1 listen-backlog=1 "
                  "connect-timeout=2 socket-timeout=20")],
                [("/o/sleep", "sleep", "gwopt_ct")])
    pid = get_json(srv, "/o/sleep")["pid"]
    mark = srv.log_mark()
    os.kill(pid, signal.SIGSTOP)
    try:
        with concurrent.futures.ThreadPoolExecutor(6) as ex:
            t0 = time.monotonic()
            futs = [ex.submit(timed_get, srv, "/o/sleep") for _ in range(6)]
            # the refused ones give up after ~2 s; the one on the pooled
            # connection cannot end while the daemon is stopped, so all
            # that end in 5 s (time for a slow host) were refused
            done, _ = concurrent.futures.wait(futs, timeout=5.0)
            early = [f.result() for f in done]
            os.kill(pid, signal.SIGCONT)
            t_cont = time.monotonic()
            late = [f.result() for f in futs if f not in done]
    finally:
        os.kill(pid, signal.SIGCONT)
    refused = [r for r in early if r[0] == 503]
    assert refused, (early, logtail(srv))
    assert all(r[0] == 503 for r in early), early
    for r in refused:
        assert 1.8 <= r[3] - t0 <= 5.0, r
    assert len(tagged(srv.log_since(mark), "GW0410", "gwopt_ct")) == len(refused)
    # the pooled connection's request was served once the daemon ran again
    assert len(late) >= 1, (early, late)
    assert all(r[0] == 200 and r[3] >= t_cont for r in late), late
    assert pid_alive(pid)


def test_queue_timeout(make_server, optroot):
    """threads=1, queue-timeout=1: while a 2 s request holds the thread, a
    second request waits past the queue timeout and gets 503 without ever
    running (GW0321); the first one completes."""
    srv = start(make_server, optroot,
                [("gwopt_qt", "processes=1 threads=1 queue-timeout=1")],
                [("/o/sleep", "sleep", "gwopt_qt")])
    get_json(srv, "/o/sleep")
    mark = srv.log_mark()
    ta, tb = token(), token()
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        fa = ex.submit(timed_get, srv, "/o/sleep?s=2&tok=" + ta)
        assert read_marker(tmp_path(srv, "ran-" + ta)), logtail(srv)
        status_b, body_b, secs_b, _ = timed_get(srv, "/o/sleep?tok=" + tb)
        status_a, body_a, _, _ = fa.result()
    assert status_b == 503, (status_b, body_b[:300], logtail(srv))
    assert status_a == 200
    assert not os.path.exists(tmp_path(srv, "ran-" + tb)), "the rejected request ran"
    assert tagged(srv.log_since(mark), "GW0321", "gwopt_qt")
    # the thread is free again
    assert get(srv, "/o/sleep?tok=" + token()).status_code == 200


def test_queue_timeout_is_a_deadline(make_server, optroot):
    """queue-timeout=1 with the only thread busy for 3 s: the waiting
    request's 503 comes after ~1 s (RELIABILITY.md: every child-daemon
    operation has a deadline), not when the thread frees up."""
    srv = start(make_server, optroot,
                [("gwopt_qtd", "processes=1 threads=1 queue-timeout=1")],
                [("/o/sleep", "sleep", "gwopt_qtd")])
    get_json(srv, "/o/sleep")
    ta, tb = token(), token()
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        fa = ex.submit(timed_get, srv, "/o/sleep?s=3&tok=" + ta)
        assert read_marker(tmp_path(srv, "ran-" + ta)), logtail(srv)
        status_b, _, secs_b, _ = timed_get(srv, "/o/sleep?tok=" + tb)
        fa.result()
    assert (status_b, secs_b <= 2.2) == (503, True), (
        "got %s after %.1f s" % (status_b, secs_b))


def _ss_backlogs(root):
    """{socket path: Send-Q} of the listening Unix sockets under root."""
    out = subprocess.run(["ss", "-xlnH"], capture_output=True, text=True,
                         timeout=10).stdout
    found = {}
    for line in out.splitlines():
        cols = line.split()
        paths = [c for c in cols if c.startswith(root + "/")]
        if paths and len(cols) >= 4:
            # Netid State Recv-Q Send-Q Local ...
            found[paths[0]] = int(cols[3])
    return found


def test_listen_backlog(make_server, optroot):
    """listen-backlog=7 passes `apache2 -t` and is the listening socket's
    backlog (ss shows it as Send-Q); the default is 100."""
    rc, out = configtest("GatewayDaemonProcess gwopt_bl listen-backlog=7")
    assert rc == 0 and "Syntax OK" in out, out
    srv = start(make_server, optroot,
                [("gwopt_bl", "listen-backlog=7 threads=1"),
                 ("gwopt_bldef", "threads=1")],
                [("/o/info", "info", "gwopt_bl")])
    get_json(srv, "/o/info")
    found = _ss_backlogs(srv.root)
    assert sorted(found.values()) == [7, 100], found


# --------------------------------------------------------------------------
# resource limits

def test_memory_limit(make_server, optroot):
    """memory-limit=256M is RLIMIT_DATA (soft and hard); allocating 512 MiB
    raises MemoryError (500) and the process goes on serving."""
    limit = 256 * 1024 * 1024
    srv = start(make_server, optroot,
                [("gwopt_mem", "processes=1 threads=2 memory-limit=256M")],
                [("/o/info", "info", "gwopt_mem"),
                 ("/o/alloc", "alloc", "gwopt_mem")])
    doc = get_json(srv, "/o/info")
    assert doc["rlimit_data"] == [limit, limit]
    mark = srv.log_mark()
    r = get(srv, "/o/alloc?mb=512")
    assert r.status_code == 500, (r.status_code, r.text[:300])
    assert "Traceback" not in r.text
    assert srv.wait_log("MemoryError", mark, 3.0), logtail(srv)
    doc = get_json(srv, "/o/alloc?mb=16")
    assert doc["pid"] == get_json(srv, "/o/info")["pid"]
    assert doc["len"] == 16 * 1024 * 1024


def test_cpu_time_limit(make_server, optroot):
    """cpu-time-limit=100 is RLIMIT_CPU's soft limit (the hard limit is one
    second above, so SIGXCPU comes before SIGKILL); unset, no limit."""
    srv = start(make_server, optroot,
                [("gwopt_cpu", "cpu-time-limit=100 threads=1"),
                 ("gwopt_nocpu", "threads=1")],
                [("/o/cpu/info", "info", "gwopt_cpu"),
                 ("/o/nocpu/info", "info", "gwopt_nocpu")])
    soft, hard = get_json(srv, "/o/cpu/info")["rlimit_cpu"]
    assert soft == 100
    assert 100 <= hard <= 101
    import resource
    assert get_json(srv, "/o/nocpu/info")["rlimit_cpu"][0] == resource.RLIM_INFINITY
