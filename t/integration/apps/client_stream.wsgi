"""Slow and broken clients (test_clients.py): a long streamed response that
records how far it got.

Query: t=TOKEN names the markers, size= bytes per chunk (default 16384),
n= chunks (default 100000, i.e. practically forever), delay= seconds
between chunks (default 0). The stream also ends by itself after 60 s, so
a test that fails cannot leave it running.

GW_TMP/stream-TOKEN.count grows by one byte per chunk handed to the server
(its size is the count: appends are atomic, a reader never sees a partial
number). close() writes GW_TMP/stream-TOKEN.close:
"closed sent=N completed=BOOL".
"""
import os
import time
import urllib.parse


class Stream:
    def __init__(self, environ):
        q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        self.tmp = environ["GW_TMP"]
        self.t = q.get("t", ["none"])[0]
        self.size = int(q.get("size", ["16384"])[0])
        self.n = int(q.get("n", ["100000"])[0])
        self.delay = float(q.get("delay", ["0"])[0])
        self.sent = 0
        self.completed = False
        self.fd = os.open(self._path("count"),
                          os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def _path(self, kind):
        return os.path.join(self.tmp, "stream-%s.%s" % (self.t, kind))

    def __iter__(self):
        chunk = b"x" * (self.size - 1) + b"\n"
        end = time.monotonic() + 60
        for _ in range(self.n):
            if time.monotonic() > end:
                return
            os.write(self.fd, b".")
            self.sent += 1
            yield chunk
            if self.delay:
                time.sleep(self.delay)
        self.completed = True

    def close(self):
        os.close(self.fd)
        with open(self._path("close"), "w") as f:
            f.write("closed sent=%d completed=%s\n"
                    % (self.sent, self.completed))


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return Stream(environ)
