"""bench/soak: one app for the soak's mixed requests; the query says what.

  op=ok&n=N    200, N bytes (at most 64 KiB) of a fixed pattern, with
               Content-Length
  op=raise     an exception before start_response: Apache's 500 page (the
               traceback goes to the error log)
  op=big       200, 1 MiB from a generator of 16 x 64 KiB blocks without
               Content-Length (chunked): the soak's client reads a little
               and closes the connection mid-response
  op=upload    reads the body to the end in 64 KiB reads; 200,
               "<bytes> <crc32 hex>"

Every 100th request a process serves, it writes what glibc's malloc holds
(mallinfo2: in use, free inside its heaps) to <pid>.json in the directory
"stats" next to the directory of this script, if there is one, so that the
soak can tell RSS growth by a leak (in use grows) from growth by
fragmentation (free grows); and Python's count of allocated memory blocks,
which grows when Python objects leak.
"""
import ctypes
import json
import os
import sys
import threading
import zlib

PATTERN = bytes(range(256)) * 256          # 64 KiB
BIG_BLOCKS = 16


class SoakError(Exception):
    pass


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
        "fsmblks", "uordblks", "fordblks", "keepcost")]


try:
    _mallinfo2 = ctypes.CDLL(None).mallinfo2
    _mallinfo2.restype = _MallInfo2
    _mallinfo2.argtypes = []
except (OSError, AttributeError):     # not glibc, or glibc < 2.33
    _mallinfo2 = None
_served = 0
STATS_EVERY = 100


def _write_stats(environ):
    global _served
    _served += 1                      # under the GIL: close enough
    if _mallinfo2 is None or _served % STATS_EVERY:
        return
    where = os.path.join(os.path.dirname(os.path.dirname(
        environ["SCRIPT_FILENAME"])), "stats")
    if not os.path.isdir(where):
        return
    mi = _mallinfo2()
    data = json.dumps({
        "pid": os.getpid(), "served": _served,
        "malloc_in_use_kb": (mi.uordblks + mi.hblkhd) // 1024,
        "malloc_free_kb": mi.fordblks // 1024,
        "malloc_heap_kb": mi.arena // 1024,
        "py_blocks": sys.getallocatedblocks()}).encode()
    path = os.path.join(where, "%d.json" % os.getpid())
    tmp = "%s.%d" % (path, threading.get_ident())
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _big():
    for _ in range(BIG_BLOCKS):
        yield PATTERN


def _query(environ):
    out = {}
    for part in environ.get("QUERY_STRING", "").split("&"):
        k, _, v = part.partition("=")
        out[k] = v
    return out


def application(environ, start_response):
    _write_stats(environ)
    q = _query(environ)
    op = q.get("op", "ok")
    if op == "raise":
        raise SoakError("an application error the soak asked for")
    if op == "big":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return _big()
    if op == "upload":
        stream = environ["wsgi.input"]
        n, crc = 0, 0
        while True:
            block = stream.read(65536)
            if not block:
                break
            n += len(block)
            crc = zlib.crc32(block, crc)
        body = b"%d %08x" % (n, crc)
    else:
        body = PATTERN[:min(int(q.get("n") or 1000), len(PATTERN))]
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(body)))])
    return [body]
