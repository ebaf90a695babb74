"""Reference-count probe (test_refcount.py): /total reports
sys.gettotalrefcount() (null unless Python is a debug build) after a full
collection, with the pid and process group that answered; every other path is one kind of request whose per-request
references must all be released by the adapter."""
import gc
import json
import os
import sys

BLOCK = b"x" * 65536


class ClosingBody:
    """An iterable with close(), not a generator: the adapter must call it."""

    def __init__(self):
        self.closed = False

    def __iter__(self):
        yield b"closing "
        yield b"body"

    def close(self):
        self.closed = True


def total(environ, start_response):
    gc.collect()
    gc.collect()
    counter = getattr(sys, "gettotalrefcount", None)
    body = json.dumps({"total": counter() if counter else None,
                       "blocks": sys.getallocatedblocks(),
                       "pid": os.getpid(),
                       "group": environ.get("mod_gateway.process_group")
                       }).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def get(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def post(environ, start_response):
    data = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(len(data)).encode()]


def exception(environ, start_response):
    raise RuntimeError("refcount probe: deliberate exception")


def generator(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def body():
        yield b"gen "
        yield b"erator"
    return body()


def closing(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ClosingBody()


def filewrapper(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return environ["wsgi.file_wrapper"](open(__file__, "rb"), 8192)


def write(environ, start_response):
    w = start_response("200 OK", [("Content-Type", "text/plain")])
    w(b"written ")
    return [b"and returned"]


def excinfo(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise ValueError("refcount probe: replaced response")
    except ValueError:
        start_response("500 Internal Server Error",
                       [("Content-Type", "text/plain")], sys.exc_info())
    return [b"replaced"]


def disconnect(environ, start_response):
    """Up to 64 MiB: the client reads the head and goes away, so a write
    fails long before the end."""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])

    def body():
        for _ in range(1024):
            yield BLOCK
    return body()


def errors(environ, start_response):
    err = environ["wsgi.errors"]
    err.write("refcount probe: wsgi.errors line\n")
    err.writelines(["refcount probe: ", "writelines\n"])
    err.flush()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"logged"]


ROUTES = {"/total": total, "/get": get, "/post": post,
          "/exception": exception, "/generator": generator,
          "/closing": closing, "/filewrapper": filewrapper, "/write": write,
          "/excinfo": excinfo, "/disconnect": disconnect, "/errors": errors}


def application(environ, start_response):
    route = ROUTES.get(environ.get("PATH_INFO", ""))
    if route is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such probe"]
    return route(environ, start_response)
