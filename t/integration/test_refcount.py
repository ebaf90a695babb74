"""No per-request reference leak: with the module built against Debian's
debug Python (`make check-refcount`, package python3.11-dbg),
sys.gettotalrefcount() of the process that runs the app must stay flat over
1,000 requests of each kind (plain GET, POST body read, app exception,
generator, iterable with close(), wsgi.file_wrapper, write() callable,
start_response with exc_info, client disconnect mid-body, wsgi.errors).

One server per mode, prefork with a single child so every request reaches
the process measured: embedded, the app runs in that child; daemon, in a
group of one process with one thread. apps/refcount.wsgi is mounted at /rc
with a fixed application group; /rc/total answers the count after a full
collection. Each kind gets WARMUP requests first (interpreter caches,
interned keys, linecache for tracebacks), then the count, ROUNDS requests,
the count again.

Against a release build /rc/total answers null and every test is skipped,
so the normal suite only pays one server start; with GW_REFCOUNT=1 (set by
`make check-refcount`) that is a failure instead.
Run: make check-refcount   (runs pytest with -s: each test prints its delta)
"""
import json
import os
import socket
import struct
import time

import pytest

import conftest as C

ROUNDS = 1000
WARMUP = 200
# Over ROUNDS requests: a leak of one reference per request shows as
# >= 1000; what a few lazily filled caches add stays far below this.
MAX_DELTA = 100
REQUIRED = os.environ.get("GW_REFCOUNT") == "1"
KINDS = ["get", "post", "exception", "generator", "closing", "filewrapper",
         "write", "excinfo", "disconnect", "errors"]
POST_BODY = b"p" * 10000

# One Apache child, so a keep-alive connection is served by the process
# measured (embedded) and no other child holds another interpreter.
ONE_CHILD = """\
StartServers 1
MinSpareServers 1
MaxSpareServers 1
ServerLimit 1
MaxRequestWorkers 1"""

_not_debug = []


def _extra(mode):
    def extra(srv):
        app = "%s/apps/refcount.wsgi" % srv.root
        if mode == "daemon":
            return ONE_CHILD + """
GatewayDaemonProcess refc processes=1 threads=1
GatewayScriptAlias /rc "%s" process-group=refc application-group=refcount
""" % app
        return ONE_CHILD + """
GatewayScriptAlias /rc "%s" process-group=%%{GLOBAL} application-group=refcount
""" % app
    return extra


@pytest.fixture(scope="module", params=C.MODES)
def rcsrv(request):
    if _not_debug:
        pytest.skip(_not_debug[0])
    srv = C.HttpdServer("prefork", request.param, extra=_extra(request.param),
                        name="refcount")
    try:
        srv.start()
    except BaseException:
        srv.cleanup()
        raise
    try:
        total, _ = Client(srv).total()
        if total is None:
            why = ("%s is not built against a debug Python (no "
                   "sys.gettotalrefcount); `make check-refcount` builds one"
                   % C.GW_MODULE)
            if REQUIRED:
                pytest.fail(why, pytrace=False)
            _not_debug.append(why)
            pytest.skip(why)
        yield srv
    finally:
        leftovers = srv.stop()
        lines = srv.log_since()
        srv.cleanup()
    # the checks of conftest's make_server teardown
    slow = [l for l in lines if any(p in l for p in C.SHUTDOWN_PATTERNS)]
    bad = C.crash_lines(lines)
    assert not leftovers, "processes outlived httpd: %r" % leftovers
    assert not slow, "children did not exit on SIGTERM:\n" + "\n".join(slow)
    assert not bad, "crash/alert lines:\n" + "\n".join(bad[:20])


class Client:
    """One keep-alive connection, reopened when the server closes it."""

    def __init__(self, srv):
        self.srv = srv
        self.conn = None

    def request(self, method, path, body=None):
        if self.conn is None:
            self.conn = C.RawConn(self.srv.port)
        self.conn.request(method, path, body=body)
        r = self.conn.read_response(method)
        assert r.complete, (path, r)
        if r.eof or (r.header("Connection") or "").lower() == "close":
            self.close()
        return r

    def total(self):
        """(total, pid): the count and the process that reported it."""
        r = self.request("GET", "/rc/total")
        assert r.status == 200, r
        doc = json.loads(r.body)
        want = "refc" if self.srv.mode == "daemon" else ""
        assert doc["group"] == want, ("wrong process group", doc)
        return doc["total"], doc["pid"]

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def disconnect(self):
        """GET /rc/disconnect, read the head, then reset the connection.
        The single child serves nothing else until that request ended, so
        the next request cannot overtake it."""
        self.close()
        with C.RawConn(self.srv.port) as c:
            c.request("GET", "/rc/disconnect")
            c._take_until(b"\r\n\r\n", time.monotonic() + C.HTTP_TIMEOUT)
            # RST, not FIN: the app's next write fails at once
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                              struct.pack("ii", 1, 0))

    def one(self, kind):
        if kind == "disconnect":
            return self.disconnect()
        if kind == "post":
            r = self.request("POST", "/rc/post", body=POST_BODY)
            assert r.status == 200 and r.body == str(len(POST_BODY)).encode(), r
            return
        r = self.request("GET", "/rc/" + kind)
        want = 500 if kind in ("exception", "excinfo") else 200
        assert r.status == want, (kind, r)


@pytest.mark.parametrize("kind", KINDS)
def test_refcount_flat(rcsrv, kind):
    client = Client(rcsrv)
    mark = rcsrv.log_mark()
    try:
        for _ in range(WARMUP):
            client.one(kind)
        before, pid = client.total()
        for _ in range(ROUNDS):
            client.one(kind)
        after, pid_after = client.total()
    finally:
        client.close()
    # one process measured, or the two counts mean nothing
    assert pid_after == pid, "the app's process changed: %d, then %d" % (
        pid, pid_after)
    delta = after - before
    print("\nrefcount %s %s: %d -> %d, delta %+d over %d requests"
          % (rcsrv.mode, kind, before, after, delta, ROUNDS))
    bad = C.crash_lines(rcsrv.log_since(mark))
    assert not bad, "crash/alert lines:\n" + "\n".join(bad[:20])
    assert delta < MAX_DELTA, (
        "%s, %s: total refcount grew by %d over %d requests (%d -> %d): a "
        "reference leaked per request" % (rcsrv.mode, kind, delta, ROUNDS,
                                          before, after))
