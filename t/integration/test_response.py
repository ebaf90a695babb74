"""How the response reaches the client: HEAD, bodiless statuses,
Content-Length enforcement, flushing, wsgi.file_wrapper, close()."""
import os
import time

import pytest

from conftest import RawConn, read_marker, token


def _second_request_ok(c):
    c.request("GET", "/simple")
    r2 = c.read_response()
    assert r2.status == 200, r2
    assert r2.body == b"simple ok"


# ---- HEAD and bodiless statuses -----------------------------------------------

@pytest.mark.parametrize("path", ["/simple", "/gen", "/flush/list"])
def test_head_has_no_body(server, path):
    with RawConn(server.port) as c:
        c.request("HEAD", path)
        r = c.read_response(method="HEAD")
        assert r.status == 200
        # nothing may follow the head: the next response must parse cleanly
        _second_request_ok(c)


@pytest.mark.parametrize("code", [204, 304])
def test_bodiless_status_keeps_connection(server, code):
    with RawConn(server.port) as c:
        c.request("GET", "/status/%d" % code)
        r = c.read_response()
        assert r.status == code
        assert r.header("Transfer-Encoding") is None
        assert r.header("Content-Length") in (None, "0")
        _second_request_ok(c)


# ---- Content-Length enforcement -----------------------------------------------

@pytest.mark.parametrize("path", ["/clen/more", "/clen/more_gen"])
def test_content_length_more_sent_than_declared(server, path):
    with RawConn(server.port) as c:
        c.request("GET", path)
        r = c.read_response()
        assert r.status == 200
        assert r.header("Content-Length") == "10"
        assert r.body == b"0123456789"
        # the extra 10 bytes must not leak into the next response
        _second_request_ok(c)


@pytest.mark.parametrize("path", ["/clen/fewer", "/clen/fewer_gen"])
def test_content_length_fewer_sent_than_declared(server, path):
    with RawConn(server.port) as c:
        c.request("GET", path)
        # KeepAliveTimeout is 30 s: a close within 5 s is the module's doing
        r = c.read_response(timeout=5)
        assert r.status == 200
        assert r.header("Content-Length") == "20"
        assert r.body == b"0123456789"
        assert not r.complete
        assert r.eof, "connection must be closed after a short body"


# ---- flushing -------------------------------------------------------------

def test_generator_flushed_per_chunk(server):
    with RawConn(server.port) as c:
        t0 = time.monotonic()
        c.request("GET", "/flush/gen")
        r = c.read_response()
        t_end = time.monotonic()
    assert r.status == 200 and r.complete
    assert r.body == b"ab"
    assert r.chunks[0] == b"a"
    assert r.t_first_body - t0 < 0.6, "first chunk took %.2fs" % (r.t_first_body - t0)
    assert t_end - t0 >= 0.9


def test_list_not_flushed_per_item(server):
    with RawConn(server.port) as c:
        c.request("GET", "/flush/list")
        r = c.read_response()
    assert r.status == 200
    assert r.complete
    if r.chunked:
        # flushed once, at the end: a single chunk
        assert r.chunks == [b"aabbcc"], r.chunks
    else:
        # held until the end of the response, so Apache could count it
        assert r.header("Content-Length") == "6", r.headers
        assert r.body == b"aabbcc"


# ---- wsgi.file_wrapper ------------------------------------------------------------

def test_file_wrapper_real_file(server, log):
    name = "fw-%s.bin" % token()
    data = os.urandom(300 * 1024 + 17)
    path = os.path.join(server.tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    r = server.get("/filewrapper/file/" + name)
    assert r.status_code == 200
    assert len(r.content) == len(data)
    assert r.content == data
    assert log.wait_for("GW0220:"), "no GW0220 (file bucket) line:\n" + log.text()


def test_file_wrapper_bytesio(server, log):
    r = server.get("/filewrapper/bytesio")
    assert r.status_code == 200
    assert r.content == bytes(range(256)) * 4096
    assert log.wait_for("GW0221:"), "no GW0221 (blocks) line:\n" + log.text()
    assert not log.tagged("GW0220")


# ---- close() ---------------------------------------------------------------

def test_close_after_normal_end(server):
    t = token()
    r = server.get("/closing/normal?t=" + t)
    assert r.status_code == 200
    assert r.content == b"chunk 0\nchunk 1\n"
    assert read_marker(os.path.join(server.tmp, "close-" + t)) == \
        "closed completed=True sent=2\n"


def test_close_after_exception_before_first_item(server):
    t = token()
    r = server.get("/closing/raise_first?t=" + t)
    assert r.status_code == 500
    assert read_marker(os.path.join(server.tmp, "close-" + t)) == \
        "closed completed=False sent=0\n"


def test_close_after_exception_during_iteration(server):
    t = token()
    with RawConn(server.port) as c:
        c.request("GET", "/closing/raise?t=" + t)
        r = c.read_response(timeout=5)
    assert r.status == 200 and not r.complete and r.eof
    assert read_marker(os.path.join(server.tmp, "close-" + t)) == \
        "closed completed=False sent=1\n"


def test_close_when_client_goes_away(server):
    t = token()
    c = RawConn(server.port)
    c.request("GET", "/closing/stream?t=" + t)
    deadline = time.monotonic() + 5
    while b"chunk 1\n" not in c.buf and time.monotonic() < deadline:
        c._fill(deadline)
    assert b"chunk 1\n" in c.buf, c.buf
    c.close()
    # the stream would run 10 s; close() must come well before that
    marker = read_marker(os.path.join(server.tmp, "close-" + t), timeout=6)
    assert marker, "close() not called within 6 s of the client leaving"
    assert marker.startswith("closed completed=False"), marker
