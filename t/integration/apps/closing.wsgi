"""A result object whose close() writes GW_TMP/close-TOKEN. PATH_INFO picks
the case: /normal, /raise_first (exception before the first item), /raise
(exception after the first item), /stream (200 chunks, 50 ms apart)."""
import os
import time


class Result:
    def __init__(self, environ, mode):
        self.environ = environ
        self.mode = mode
        self.sent = 0
        self.completed = False

    def __iter__(self):
        if self.mode == "/raise_first":
            raise RuntimeError("closing: failed before the first item")
        n = 200 if self.mode == "/stream" else 2
        for i in range(n):
            if self.mode == "/raise" and i == 1:
                raise RuntimeError("closing: failed after the first item")
            yield b"chunk %d\n" % i
            self.sent += 1
            if self.mode == "/stream":
                time.sleep(0.05)
        self.completed = True

    def close(self):
        t = self.environ["QUERY_STRING"][2:]
        with open(os.path.join(self.environ["GW_TMP"], "close-" + t), "w") as f:
            f.write("closed completed=%s sent=%d\n" % (self.completed, self.sent))


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Result(environ, environ.get("PATH_INFO", ""))
