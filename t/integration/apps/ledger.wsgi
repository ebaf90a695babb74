"""Request ledger (test_ledger.py): proof of what ran, and where.

Every request that reaches the app appends one line
    "<id> <pid> <method>\\n"
to GW_TMP/ledger-<name>.txt with a single O_APPEND write (a line this short
is written whole: lines of concurrent requests never interleave), before it
does anything else. Then it reads the whole body, sleeps if asked, and
answers "<id> <pid> <body bytes> <crc32 of the body>\\n", so the client can
check that the answer is its own and which process ran it.

Query: id=ID (or the header X-Ledger-Id), l=NAME (the ledger file, [a-z0-9-]
only), ms=N (sleep N ms after reading the body, so that a disruption finds
requests in flight).
"""
import os
import re
import time
import urllib.parse
import zlib

NAME_RE = re.compile(r"^[a-z0-9-]{1,40}$")
ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


def record(environ, rid, name):
    path = os.path.join(environ["GW_TMP"], "ledger-%s.txt" % name)
    line = ("%s %d %s\n" % (rid, os.getpid(),
                            environ["REQUEST_METHOD"])).encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        if os.write(fd, line) != len(line):
            raise OSError("short write to the ledger")
    finally:
        os.close(fd)


def application(environ, start_response):
    q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    rid = q.get("id", [environ.get("HTTP_X_LEDGER_ID", "")])[0]
    name = q.get("l", ["default"])[0]
    if not ID_RE.match(rid) or not NAME_RE.match(name):
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"bad id or ledger name\n"]
    record(environ, rid, name)
    n, crc = 0, 0
    stream = environ["wsgi.input"]
    while True:
        block = stream.read(65536)
        if not block:
            break
        n += len(block)
        crc = zlib.crc32(block, crc)
    ms = int(q.get("ms", ["0"])[0])
    if ms > 0:
        time.sleep(ms / 1000.0)
    body = ("%s %d %d %08x\n" % (rid, os.getpid(), n, crc)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
