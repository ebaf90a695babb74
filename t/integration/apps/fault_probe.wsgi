# Fault tests: who am I, and what may I touch?  Query parameters:
#   (none)        JSON: pid, getresuid, getresgid, getgroups
#   read=PATH     also try to read PATH
#   connect=PATH  also try to connect to the Unix socket PATH
import json
import os
import socket
import urllib.parse


def _try(fn):
    try:
        return "ok:%r" % (fn(),)
    except Exception as e:  # the type is what the tests check
        return "%s: %s" % (type(e).__name__, e)


def _read(path):
    with open(path, "rb") as f:
        return len(f.read())


def _connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(2)
        s.connect(path)
        return "connected"
    finally:
        s.close()


def application(environ, start_response):
    q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    out = {
        "pid": os.getpid(),
        "resuid": list(os.getresuid()),
        "resgid": list(os.getresgid()),
        "groups": sorted(os.getgroups()),
        "process_group": environ.get("mod_gateway.process_group"),
    }
    if "read" in q:
        out["read"] = _try(lambda: _read(q["read"][0]))
    if "connect" in q:
        out["connect"] = _try(lambda: _connect(q["connect"][0]))
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
