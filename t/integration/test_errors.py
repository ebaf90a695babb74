"""Application errors, invalid responses, and where app output is logged."""
import os
import re

import pytest

from conftest import LOG_TAG_RE, RawConn, apache_escape, read_marker, token


def _assert_apache_500(r, *secrets):
    body = r.content if hasattr(r, "content") else r.body
    assert b"Internal Server Error" in body, body[:500]
    assert b"Traceback" not in body
    for s in secrets:
        assert s.encode() not in body


def _still_serving(server):
    r = server.get("/simple")
    assert (r.status_code, r.content) == (200, b"simple ok")


# ---- exceptions ------------------------------------------------------------------

def test_exception_before_body(server, log):
    t = token()
    r = server.get("/exc_before?t=" + t)
    assert r.status_code == 500
    _assert_apache_500(r, "boom-before", "RuntimeError")
    reqid = read_marker(os.path.join(server.tmp, "reqid-" + t)).strip()
    assert reqid
    lines = log.wait_for("RuntimeError: boom-before-" + t)
    assert lines, log.text()
    text = log.text()
    assert "Traceback (most recent call last)" in text
    tagged = [l for l in log.lines() if "GW0201:" in l]
    assert tagged, text
    assert any(reqid in l for l in tagged), (reqid, tagged)
    _still_serving(server)


def test_exception_after_first_chunk(server, log):
    t = token()
    with RawConn(server.port) as c:
        c.request("GET", "/exc_after?t=" + t)
        # KeepAliveTimeout is 30 s: a close within 5 s is the module's doing
        r = c.read_response(timeout=5)
        closed = r.eof or c.wait_closed(3)
    assert r.status == 200
    assert r.chunked
    assert r.body == b"first-chunk;"
    assert not r.complete, "must not end with the last chunk 0\\r\\n\\r\\n"
    assert closed, "connection must be closed"
    assert log.wait_for("GW0202:"), log.text()
    assert log.wait_for("boom-after-" + t)
    _still_serving(server)


def test_missing_callable_is_500(server, log):
    r = server.get("/callable")       # callable.wsgi has no `application`
    assert r.status_code == 500
    _assert_apache_500(r)
    assert log.wait_for("application"), log.text()
    _still_serving(server)


# ---- wrong types ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/str_item", "/str_result"])
def test_str_body_is_500(server, log, path):
    r = server.get("/badresp%s?t=%s" % (path, token()))
    assert r.status_code == 500
    _assert_apache_500(r)
    assert log.wait_for("GW0203:"), log.text()
    _still_serving(server)


BAD_START_RESPONSE = [
    "/bytes_name", "/nonlatin", "/newline",
    "/status/0", "/status/1", "/status/2", "/status/3", "/status/4",
    "/hop/Connection", "/hop/Transfer-Encoding", "/hop/Keep-Alive", "/hop/Upgrade",
]
BAD_IDS = ["bytes-name", "non-latin1-value", "newline-in-value",
           "status-200OK", "status-99", "status-600", "status-100", "status-crlf",
           "hop-connection", "hop-te", "hop-keepalive", "hop-upgrade"]


@pytest.mark.parametrize("path", BAD_START_RESPONSE, ids=BAD_IDS)
def test_bad_start_response_is_500(server, log, path):
    t = token()
    with RawConn(server.port) as c:
        c.request("GET", "/badresp%s?t=%s" % (path, t))
        r = c.read_response()
    assert r.status == 500, r
    assert r.header("Injected") is None and r.header("X") is None
    _assert_apache_500(r)
    outcome = read_marker(os.path.join(server.tmp, "sr-" + t))
    assert outcome and outcome.startswith("RAISED "), \
        "start_response accepted it: %r" % outcome
    msg = outcome.split(": ", 1)[1].strip() if ": " in outcome else ""
    # the exception message reaches a tagged log line
    # httpd escapes the message (\xNN, doubled backslashes) in the log
    needle = apache_escape(msg)[:80]
    lines = log.wait_for(needle) if needle else []
    assert needle and lines, "message %r not logged:\n%s" % (msg, log.text())
    assert [l for l in log.lines() if re.search(r"GW\d{4}:", l)], log.text()
    _still_serving(server)


# ---- wsgi.errors, print(), sys.stderr -----------------------------------------------

def test_wsgi_errors_print_stderr_reach_error_log(server, log):
    t = token()
    r = server.get("/errlog?t=" + t)
    assert r.status_code == 200
    for m in ("WSGI-ERRORS-", "PRINT-", "STDERR-"):
        assert log.wait_for(m + t, files=[server.error_log]), \
            "%s%s not in error.log:\n%s" % (m, t, log.text())


def _vh1_errlog(server, t):
    with RawConn(server.port2) as c:
        c.request("GET", "/errlog?t=" + t, host="vh1.test")
        r = c.read_response()
    assert r.status == 200, r


def test_wsgi_errors_go_to_vhost_error_log(server, log):
    t = token()
    _vh1_errlog(server, t)
    assert log.wait_for("WSGI-ERRORS-" + t, files=[server.vh1_log]), \
        "not in the vhost log:\n" + log.text([server.vh1_log])
    assert not [l for l in log.lines([server.error_log]) if "WSGI-ERRORS-" + t in l]


def test_print_and_stderr_go_to_vhost_error_log(server, log):
    # DESIGN.md section 8: sys.stderr and print reach the right vhost's log
    t = token()
    _vh1_errlog(server, t)
    for m in ("PRINT-", "STDERR-"):
        assert log.wait_for(m + t, files=[server.vh1_log]), \
            "%s not in the vhost log; main log has: %r" % (
                m, [l for l in log.lines([server.error_log]) if t in l])


# ---- log format --------------------------------------------------------------------

def test_request_id_in_log_lines(server, log):
    t = token()
    r = server.get("/errlog?t=" + t)
    reqid = r.text
    assert reqid
    assert log.wait_for("WSGI-ERRORS-" + t)
    r = server.get("/exc_before?t=" + t)
    reqid2 = read_marker(os.path.join(server.tmp, "reqid-" + t)).strip()
    assert reqid2 and reqid2 != reqid
    assert log.wait_for(lambda l: reqid2 in l and "GW0201:" in l)


def test_every_module_line_is_tagged(server, log):
    # produce a few kinds of module lines, then check them all
    server.get("/exc_before?t=" + token())
    server.get("/errlog?t=" + token())
    server.get("/badresp/status/0?t=" + token())
    server.get("/filewrapper/bytesio")
    assert log.wait_for("GW0221:")
    mod_lines = [l for l in log.lines() if "[gateway:" in l]
    assert mod_lines
    untagged = [l for l in mod_lines if not LOG_TAG_RE.search(l)]
    assert not untagged, "\n".join(untagged[:20])
