"""/gen: a generator that sleeps between items (each must be flushed);
/list: a list of three items without Content-Length (one write)."""
import time


def slow():
    yield b"a"
    time.sleep(1)
    yield b"b"


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ.get("PATH_INFO") == "/list":
        return [b"aa", b"bb", b"cc"]
    return slow()
