"""A hostile daemon: the Apache child treats every byte a daemon sends as
hostile (RELIABILITY.md "Wire protocol", "Responses", "What each failure
looks like"; issue 7, point 2).

The fixture app apps/hostile.wsgi runs in a real daemon (group `hostile`,
processes=1 threads=1) and writes scripted raw frames onto the connection
it is served on (how it finds it: the app's docstring). For every case the
client pipelines three requests on one connection:

  1  /hx?case=NAME    the hostile answer
  2  /fault_probe     an embedded app: its JSON names the Apache child pid
  3  /hx?case=ok      the same group again, answered normally; its JSON
                      names the peer of the daemon's connection, which must
                      be that same child (the app found the right socket)

(after an answer the child may keep the daemon connection for, request 3
goes once the app is done: see hostile.wsgi), and checks: (1) is a 502 (504 for a drip of the head, 503 for a daemon
that answers CLOSE for ever), or, once a valid head went out, a response
cut short (the connection closes before the declared length or the last
chunk), or, for answers that are only dirty (hop-by-hop headers,
Transfer-Encoding, surplus body, Location with 200), a clean 200; never
the forged bytes or the daemon's own late response. (2) and (3) get their
own correct answers: on the same connection after a complete (1), on a new
one after a cut. The error log has the GW04xx tag naming the fault and no
crash line, the Apache child is still alive and the daemon was not
restarted. Where the child must drop the daemon connection, the app
records that it saw the child close it (a child must never pool a
connection that carried garbage).

One server per MPM (GW_MPMS), embedded mode plus the `hostile` group with
socket-timeout=2 (so a drip-feed is cut after about 2 s) and
connect-timeout=2 (the bound on CLOSE-driven retries); the three cases that
last a timeout are left out on worker.
"""
import json
import os
import time

import pytest
import requests

import conftest as C

SOCKET_TIMEOUT = 2.0
CONNECT_TIMEOUT = 2.0
# The whole hostile answer, on a loaded 2-core machine. A child that waited
# for a drip (12 s of it) or a pipe would take longer.
ANSWER_WITHIN = SOCKET_TIMEOUT + CONNECT_TIMEOUT + 4.0
OWN = b"DAEMON-OWN-RESPONSE"      # the daemon's late response (hostile.wsgi)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (httpd drops to www-data)")


def _extra(srv):
    return ("GatewayDaemonProcess hostile processes=1 threads=1 "
            "socket-timeout=%g connect-timeout=%g\n"
            'GatewayScriptAlias /hx "%s/apps/hostile.wsgi" '
            "process-group=hostile application-group=%%{GLOBAL}\n"
            % (SOCKET_TIMEOUT, CONNECT_TIMEOUT, srv.root))


def _ok(srv):
    try:
        r = requests.get(srv.url("/hx?case=ok"), timeout=5)
    except requests.RequestException:
        return None
    return r.json() if r.status_code == 200 else None


@pytest.fixture(scope="module", params=C.MPMS)
def hsrv(request):
    srv = C.HttpdServer(request.param, "embedded", extra=_extra,
                        name="hostile")
    try:
        srv.start()
        first = C.wait_until(lambda: _ok(srv), 30.0)
        assert first, "the hostile group never answered case=ok"
        srv.daemon_pid = first["daemon_pid"]
    except BaseException:
        srv.stop()
        srv.cleanup()
        raise
    yield srv
    C.stop_checked(srv)


# --------------------------------------------------------------------------
# the cases: name -> (outcome, [(tag, words in the line)])
#   502/503/504  a complete error page
#   cut          a valid head went out, then the response was cut short
#   clean        a complete 200, cleaned up by the child (checked below)

def broken(why):
    return ("502", [("GW0415", "broken frame stream: " + why)])


def invalid(why):
    return ("502", [("GW0417", why)])


def protocol(what):
    return ("502", [("GW0416", what)])


CAP = "frame length over the cap of its type"
CASES = {
    "http_text": broken("bad magic"),
    "bad_magic": broken("bad magic"),
    "bad_version": broken("unsupported protocol version"),
    "unknown_type": broken("unknown frame type"),
    "wrong_direction": broken("frame type not accepted in this direction"),
    "head_len_max": broken(CAP),
    "data_len_max": broken(CAP),
    "error_len_max": broken(CAP),
    "read_len_max": broken("READ payload is not 4 bytes"),
    "head_1mib": broken(CAP),
    "count_over_frame": broken("pair count exceeds the frame"),
    "count_over_cap": broken("pair count over its cap"),
    "too_many_headers": broken("pair count over its cap"),
    "status_len_max": broken("HEAD status line runs past the frame"),
    "name_len_max": broken("pair name runs past the frame"),
    "value_len_max": broken("pair value runs past the frame"),
    "empty_name": broken("empty pair name"),
    "trailing_bytes": broken("trailing bytes after the last HEAD header"),
    "read_zero": broken("READ of zero bytes"),
    "error_short": broken("ERROR payload too short for its code"),
    "status_crlf": invalid("status reason contains CR or LF"),
    "status_nul": invalid("status reason contains a NUL byte"),
    "status_1xx": invalid("1xx status codes cannot be sent"),
    "status_digits": invalid("status code must be three digits"),
    "name_too_long": invalid("header name is longer than 256 bytes"),
    "value_too_long": invalid("header value is longer than 65536 bytes"),
    "name_cr": invalid("header name contains CR or LF"),
    "name_lf": invalid("header name contains CR or LF"),
    "name_nul": invalid("header name contains a NUL byte"),
    "name_ctl": invalid("header name contains a control character"),
    "name_space": invalid("not allowed in a token"),
    "name_colon": invalid("not allowed in a token"),
    "value_cr": invalid("header value contains CR or LF"),
    "value_lf": invalid("header value contains CR or LF"),
    "value_crlf_inject": invalid("header value contains CR or LF"),
    "value_nul": invalid("header value contains a NUL byte"),
    "value_ctl": invalid("header value contains a control character"),
    "value_del": invalid("header value contains a control character"),
    "clen_bad": invalid("an invalid Content-Length"),
    "clen_negative": invalid("an invalid Content-Length"),
    "clen_conflict": invalid("an invalid Content-Length"),
    "data_before_head": protocol("body data before HEAD"),
    "end_before_head": protocol("END before HEAD"),
    "second_head": protocol("a second HEAD frame"),
    "ready_mid": protocol("a READY frame in the middle of a response"),
    "close_mid": protocol("a CLOSE frame in the middle of a response"),
    "error_unknown": ("502", [("GW0412", "the daemon answered 502 (evil")]),
    "file_no_fd": broken("FILE frame without a file descriptor"),
    "file_pipe": protocol("not a regular file"),
    "file_before_head": protocol("a FILE frame before HEAD"),
    "file_range": broken("FILE range beyond INT64_MAX"),
    "fd_flood": broken("passed file descriptors were truncated"),
    "eof_first": ("502", [("GW0413", "closed the connection before")]),
    "eof_mid_frame": broken("the connection closed in the middle of a frame"),
    "eof_after_head": ("502", [("GW0413", "closed the connection before")]),
    "drip_head": ("504", [("GW0414", "no answer within socket-timeout")]),
    "close_first": ("503", [("GW0422", "kept closing connections")]),
    "clen_short": ("cut", [("GW0420", "ended after 10 of 100")]),
    "te_smuggle": ("cut", [("GW0418", "'Transfer-Encoding'"),
                           ("GW0420", "ended after 41 of 100")]),
    "eof_after_data": ("cut", [("GW0413", "is cut short")]),
    "garbage_after_data": ("cut", [("GW0415", "bad magic")]),
    "error_after_data": ("cut", [("GW0412", "answered 500 (late failure)")]),
    "drip_data": ("cut", [("GW0414", "is cut short")]),
    "te_chunked": ("clean", [("GW0418", "'Transfer-Encoding'")]),
    "te_no_clen": ("clean", [("GW0418", "'Transfer-Encoding'")]),
    "hop_headers": ("clean", [("GW0418", "'%s'" % h) for h in (
        "Connection", "Keep-Alive", "Upgrade", "Proxy-Connection", "TE",
        "Trailer", "Transfer-Encoding")]),
    "location_200": ("clean", []),
    "clen_long": ("clean", [("GW0419", "sent more than its Content-Length")]),
}

# The cases that last a timeout (2 s each) run on event and prefork only:
# worker's child serves them with event's code path.
TIMED = {"drip_head", "drip_data", "close_first"}

# Complete answers the child may keep the daemon connection after; for
# every other case it must close it (recorded by the app), except
# close_first, whose retries each run the app again.
KEPT = {"te_chunked", "te_no_clen", "hop_headers", "location_200"}


def check_clean(case, r):
    """A complete 200 whose dirt the child removed."""
    assert r.status == 200 and r.complete, r
    names = [k.lower() for k, _ in r.headers]
    for h in ("upgrade", "proxy-connection", "te", "trailer"):
        assert h not in names, (h, r.headers)
    assert (r.header("Connection") or "").lower() != "close", r.headers
    assert "timeout=1," not in (r.header("Keep-Alive") or ""), r.headers
    if case == "te_chunked":
        assert r.header("Transfer-Encoding") is None, r.headers
        assert r.header("Content-Length") == "5" and r.body == b"hello"
    elif case == "te_no_clen":
        # httpd frames it itself (here a Content-Length: the whole body
        # came with the end); nothing of the daemon's "gzip, chunked"
        assert r.header("Transfer-Encoding") in (None, "chunked"), r.headers
        assert r.body == b"hello"
    elif case == "hop_headers":
        assert r.header("X-Kept") == "yes" and r.body == b"hello"
    elif case == "location_200":
        # passed on as it is; never an internal redirect (CVE-2024-38476)
        assert r.header("Location") == "/simple", r.headers
        assert r.body == b"the daemon's body"
    elif case == "clen_long":
        assert r.header("Content-Length") == "5" and r.body == b"hello"


def request_bytes(srv, path):
    return ("GET %s HTTP/1.1\r\nHost: localhost:%d\r\n\r\n"
            % (path, srv.port)).encode()


def check_followers(srv, conn, before_ok=None):
    """Requests 2 and 3 on conn: their own answers, from the same live
    child, and the daemon was not restarted. before_ok: request 3 is sent
    only once before_ok() has returned."""
    r2 = conn.read_response()
    assert r2.status == 200 and r2.complete, r2
    child = json.loads(r2.body)["pid"]
    if before_ok:
        before_ok()
        conn.send(request_bytes(srv, "/hx?case=ok"))
    r3 = conn.read_response()
    assert r3.status == 200 and r3.complete, r3
    ok = json.loads(r3.body)
    assert ok["peer_pid"] == child, (ok, child)
    assert ok["daemon_pid"] == srv.daemon_pid, "the daemon was restarted"
    assert C._proc_ppid(child) == srv.proc.pid, "child %d is gone" % child
    return r2, r3


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_daemon(hsrv, case):
    if case in TIMED and hsrv.mpm == "worker":
        pytest.skip("timed cases run on event and prefork")
    outcome, tags = CASES[case]
    mark = hsrv.log_mark()
    t = C.token()
    wait = case not in KEPT and case != "close_first"
    path = "/hx?case=%s&t=%s%s" % (case, t, "&wait=1" if wait else "")
    marker = os.path.join(hsrv.tmp, "hostile-" + t)
    followers = (request_bytes(hsrv, "/fault_probe")
                 + request_bytes(hsrv, "/hx?case=ok"))
    with hsrv.raw() as conn:
        t0 = time.monotonic()
        if case in KEPT:
            # request 3 once the app is done (see hostile.wsgi)
            conn.send(request_bytes(hsrv, path)
                      + request_bytes(hsrv, "/fault_probe"))
        else:
            conn.send(request_bytes(hsrv, path) + followers)
        r1 = conn.read_response(timeout=ANSWER_WITHIN + 15)
        took = time.monotonic() - t0
        seen = r1.head + r1.body
        if outcome in ("502", "504"):
            assert r1.status == int(outcome) and r1.complete, r1
            check_followers(hsrv, conn)     # on the same connection
        elif outcome == "clean":
            check_clean(case, r1)
            r2, r3 = check_followers(
                hsrv, conn, (lambda: C.read_marker(marker, 10.0))
                if case in KEPT else None)
            seen += r2.head + r2.body + r3.head + r3.body
        else:
            if outcome == "503":    # httpd closes after a 503
                assert r1.status == 503 and r1.complete, r1
            else:
                assert r1.status == 200 and not r1.complete, r1
            assert conn.wait_closed(5.0), "the connection stayed open"
            seen += conn.buf
    if outcome not in ("502", "504", "clean"):
        with hsrv.raw() as conn:
            conn.send(followers)
            check_followers(hsrv, conn)
    # bounded; a drip-feed ends by the child's socket-timeout, not when the
    # daemon stops dripping (12 s)
    assert took < ANSWER_WITHIN, "the hostile answer took %.1f s" % took
    if case.startswith("drip_"):
        assert took > SOCKET_TIMEOUT * 0.9, took
    assert OWN not in seen and b"forged" not in seen \
        and b"stolen" not in seen, seen[:300]
    if case == "te_smuggle":
        assert r1.header("Transfer-Encoding") is None, r1.headers
        assert r1.header("Content-Length") == "100", r1.headers
    for tag, words in tags:
        assert hsrv.wait_log(lambda l: tag + ":" in l and words in l, mark,
                             timeout=5.0), \
            "no %s line with %r:\n%s" % (tag, words,
                                         "\n".join(hsrv.log_since(mark)))
    if wait:
        rec = C.read_marker(marker, 10.0)
        assert rec, "the app recorded nothing"
        assert json.loads(rec)["closed"] is not None, \
            "the child kept the daemon connection that carried %s" % case
    lines = hsrv.log_since(mark)
    # the daemon's message is escaped into the GW0412 line, not a line of
    # its own
    assert not [l for l in lines if "GW9999" in l and "GW0412" not in l]
    bad = C.crash_lines(lines)
    assert not bad, "\n".join(bad)



def _post_chunked(hsrv, case, t, head_first, kib=100):
    body = b"".join(b"400\r\n" + bytes([97 + i % 26]) * 1024 + b"\r\n"
                    for i in range(kib)) + b"0\r\n\r\n"
    head = ("POST /hx?case=%s&t=%s HTTP/1.1\r\nHost: localhost:%d\r\n"
            "Content-Type: application/octet-stream\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
            % (case, t, hsrv.port)).encode()
    with hsrv.raw() as conn:
        if head_first:
            conn.send(head)
            time.sleep(0.3)
            conn.send(body)
        else:
            conn.send(head + body)
        r = conn.read_response(method="POST", timeout=30)
    assert r.status == 200 and r.complete, r
    # the app shut its side after the answer: the group serves again once
    # it has recorded so (see hostile.wsgi)
    assert C.read_marker(os.path.join(hsrv.tmp, "hostile-" + t), 10.0)
    assert C.wait_until(lambda: _ok(hsrv), 10.0)
    return json.loads(r.body)


def test_body_frames(hsrv):
    """How the child answers READ (gw_proxy.c on_read), seen from a raw
    daemon: a chunked 100 KiB body in 1 KiB chunks that arrives after the
    request went to the daemon is not answered a chunk per READ (Apache's
    HTTP_IN filter hands out at most one chunk per call; the child takes
    what else has already arrived, up to the 64 KiB the READ asked for);
    the BODY that ends the body carries BODY_END behind it, unasked; and a
    READ after that gets no second answer."""
    first, second, third = _post_chunked(hsrv, "body_probe", C.token(),
                                         True)["answers"]
    assert first == [65536], first
    assert second == [102400 - 65536, "end"], second
    assert third == [], third


def test_body_sent_early(hsrv):
    """A body that came with its request goes to the daemon right behind
    the REQUEST, unasked, as the answer to a READ of 128 KiB (gw_wire.h):
    a daemon app finds bytes waiting on its connection before anything
    asked for them (a child that waits for READ sends nothing: see
    test_body_frames, whose app finds the connection quiet), and
    wsgi.input reads the whole 200 KiB."""
    got = _post_chunked(hsrv, "body_early", C.token(), False, kib=200)
    assert got["pending"] > 0 and got["input"] == 200 * 1024, got
