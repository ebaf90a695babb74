"""The example apps shipped in apps/ (what users start from)."""
import hashlib
import os

from conftest import EXAMPLES_DIR


def test_hello(server):
    r = server.get("/ex/hello")
    assert r.status_code == 200
    assert r.content == b"Hello World!"
    assert r.headers["Content-Type"] == "text/plain"
    assert r.headers["Content-Length"] == "12"


def test_streaming_lines(server):
    with server.raw() as c:
        c.request("GET", "/ex/streaming?count=5")
        r = c.read_response()
    assert r.status == 200 and r.complete
    assert r.body == b"".join(b"line %d of 5\n" % i for i in range(1, 6))
    # Embedded: a generator is flushed per item, so several chunks. In
    # daemon mode the child passes on whatever frames have arrived at once,
    # and these lines are produced instantly; that a pausing generator is
    # still sent item by item there is test_generator_flushed_per_item.
    if server.mode == "embedded":
        assert r.chunked and len(r.chunks) >= 2, r


def test_classapp_class_is_the_iterable(server):
    r = server.get("/ex/classapp")
    assert r.status_code == 200
    assert r.content == b"Hello from a class!\n"


def test_classapp_instance_with_call(server):
    r = server.get("/ex/classapp-instance")
    assert r.status_code == 200
    assert r.content == b"Hello from an instance!\n"


def test_middleware_adds_key(server):
    r = server.get("/ex/middleware")
    assert r.status_code == 200
    assert r.content == b"greeting=hello\n"


def test_middleware_refuses_undotted_key(server, log):
    r = server.get("/ex/middleware/bad")
    assert r.status_code == 500
    assert b"nodot" not in r.content
    assert log.wait_for("environ keys without a '.': nodot")


def test_cascade_static_file_first(server):
    r = server.get("/ex/cascade/hello.txt")
    assert r.status_code == 200
    with open(os.path.join(EXAMPLES_DIR, "static", "hello.txt"), "rb") as f:
        assert r.content == f.read()
    assert r.headers["Content-Type"].startswith("text/plain")


def test_cascade_falls_back_to_app(server):
    r = server.get("/ex/cascade/not-a-file")
    assert r.status_code == 200
    assert r.content == b"dynamic: /not-a-file\n"


def test_environ_example(server):
    r = server.get("/ex/environ/x?y=1")
    assert r.status_code == 200
    doc = r.json()
    assert doc["REQUEST_METHOD"] == "GET"
    assert doc["SCRIPT_NAME"] == "/ex/environ"
    assert doc["PATH_INFO"] == "/x"
    assert doc["QUERY_STRING"] == "y=1"
    assert doc["wsgi.version"] == "(1, 0)"


def test_upload_echo_5mib(server):
    data = os.urandom(5 * 1024 * 1024)
    r = server.post("/ex/upload", data=data,
                    headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200
    assert r.headers["X-Upload-Length"] == str(len(data))
    assert r.headers["X-Upload-SHA256"] == hashlib.sha256(data).hexdigest()
    assert len(r.content) == len(data)
    assert r.content == data


def test_upload_echo_chunked(server):
    parts = [os.urandom(70000) for _ in range(5)]
    data = b"".join(parts)
    r = server.post("/ex/upload", data=iter(parts))   # generator -> chunked
    assert r.status_code == 200
    assert r.headers["X-Upload-Length"] == str(len(data))
    assert r.headers["X-Upload-SHA256"] == hashlib.sha256(data).hexdigest()
    assert r.content == data


# ---- the Paste Deploy example (apps/paste/config.ini) ----------------------

def test_paste_ini_static_file_first(server):
    r = server.get("/ex/paste/readme.txt")
    assert r.status_code == 200
    assert r.text == "Served by Apache through Paste's static app.\n"


def test_paste_ini_app_after_static(server, log):
    r = server.get("/ex/paste/some/page")
    assert r.status_code == 200
    assert r.text == "Hello from Paste Deploy!\n"
    # The file's [loggers] setup applies, at the record's own level.
    lines = log.wait_for("[helloapp] hello for /some/page")
    assert lines and "[gateway:info]" in lines[0], log.text()


def test_paste_ini_named_app(server):
    r = server.get("/ex/paste-hello")
    assert r.status_code == 200
    assert r.text == "Hello from Paste Deploy!\n"
