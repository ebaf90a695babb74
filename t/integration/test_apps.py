"""Kinds of applications, start_response, write(), wsgi.input, validator."""
import hashlib
import io
import os

import pytest

from conftest import RawConn, read_marker, token


# ---- kinds of apps ---------------------------------------------------------

def test_function_app(server):
    r = server.get("/simple")
    assert (r.status_code, r.content) == (200, b"simple ok")
    assert r.headers["Content-Length"] == "9"


def test_generator_lazy_start_response(server):
    r = server.get("/gen")
    assert r.status_code == 200
    assert r.content == b"gen-1;gen-2"
    assert r.headers["X-Lazy"] == "yes"


def test_instance_with_call(server):
    r = server.get("/callobj")
    assert (r.status_code, r.content) == (200, b"callable instance ok")


def test_class_instances_are_iterable(server):
    t = token()
    r = server.get("/classiter?t=" + t)
    assert (r.status_code, r.content) == (200, b"class iterable ok")
    assert read_marker(os.path.join(server.tmp, "classiter-" + t)) == "closed\n"


# ---- start_response ----------------------------------------------------------

def test_exc_info_before_body_replaces_status(server):
    r = server.get("/excinfo_before")
    assert r.status_code == 503
    assert r.content == b"replaced"
    assert r.headers.get("X-Second") == "1"
    assert "X-First" not in r.headers


def test_exc_info_after_body_reraises_and_truncates(server, log):
    with RawConn(server.port) as c:
        c.request("GET", "/excinfo_after")
        # KeepAliveTimeout is 30 s: a close within 5 s is the module's doing
        r = c.read_response(timeout=5)
        closed = r.eof or c.wait_closed(3)
    assert r.status == 200
    assert r.chunked
    assert r.body == b"partial-body;"
    assert not r.complete, "a truncated response must not end with 0\\r\\n\\r\\n"
    assert closed, "connection not closed after a truncated response"
    assert log.wait_for("late failure")


def test_start_response_twice_without_exc_info(server):
    t = token()
    r = server.get("/sr_twice?t=" + t)
    assert r.status_code == 500
    assert b"second start_response accepted" not in r.content
    assert read_marker(os.path.join(server.tmp, "sr-" + t)).startswith("RAISED ")
    assert server.get("/simple").status_code == 200


def test_write_callable(server):
    r = server.get("/write")
    assert (r.status_code, r.content) == (200, b"ab")


# ---- wsgi.input ---------------------------------------------------------------

BODY = b"line one\nline two\n\nlast line without newline"


def _oracle(op, n):
    f = io.BytesIO(BODY)
    out = []
    if op == "/read":
        out = [f.read()]
    elif op == "/read-1":
        out = [f.read(-1)]
    elif op in ("/readn", "/readline", "/readlinen"):
        fn = {"/readn": lambda: f.read(n), "/readline": f.readline,
              "/readlinen": lambda: f.readline(n)}[op]
        while True:
            b = fn()
            out.append(b)
            if not b:
                break
    elif op == "/readlines":
        out = f.readlines()
    elif op == "/iter":
        out = list(f)
    return [b.decode("latin-1") for b in out]


@pytest.mark.parametrize("op,n", [("/read", 0), ("/read-1", 0), ("/readn", 1),
                                  ("/readn", 7), ("/readline", 0),
                                  ("/readlinen", 4), ("/readlines", 0),
                                  ("/iter", 0)])
def test_input_methods(server, op, n):
    r = server.post("/input%s?n=%d" % (op, n), data=BODY)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["items"] == _oracle(op, n)
    assert doc["types"] == ["bytes"]


@pytest.mark.parametrize("op", ["/read", "/readline", "/iter"])
def test_input_methods_chunked(server, op):
    parts = [BODY[:5], BODY[5:20], BODY[20:]]
    r = server.post("/input%s" % op, data=iter(parts))
    assert r.status_code == 200, r.text
    assert r.json()["items"] == _oracle(op, 0)


def test_input_large_upload(server):
    data = os.urandom(5 * 1024 * 1024)
    r = server.post("/input/hash", data=data)
    assert r.status_code == 200
    assert r.json() == {"len": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_input_large_upload_chunked(server):
    parts = [os.urandom(1 << 20) for _ in range(5)]
    data = b"".join(parts)
    r = server.post("/input/hash", data=iter(parts))
    assert r.status_code == 200
    assert r.json() == {"len": len(data), "sha256": hashlib.sha256(data).hexdigest()}


# ---- wsgiref.validate ----------------------------------------------------------

def test_validator_get(server, log):
    r = server.get("/validator")
    assert r.status_code == 200, log.text()
    assert r.content == b"validated GET "
    assert "AssertionError" not in log.text()


def test_validator_post(server, log):
    r = server.post("/validator", data=b"payload")
    assert r.status_code == 200, log.text()
    assert r.content == b"validated POST payload"
    text = log.text()
    assert "AssertionError" not in text
    assert "without being closed" not in text
