"""Exercises wsgi.input; the operation is the PATH_INFO, the size n= in the
query string. Results are JSON lists of latin-1 strings."""
import hashlib
import json


def application(environ, start_response):
    inp = environ["wsgi.input"]
    op = environ.get("PATH_INFO", "")
    qs = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
    n = int(qs.get("n", "4"))
    out = []
    if op == "/read":
        out.append(inp.read())
    elif op == "/read-1":
        out.append(inp.read(-1))
    elif op == "/readn":
        while True:
            b = inp.read(n)
            out.append(b)
            if not b:
                break
    elif op == "/readline":
        while True:
            b = inp.readline()
            out.append(b)
            if not b:
                break
    elif op == "/readlinen":
        while True:
            b = inp.readline(n)
            out.append(b)
            if not b:
                break
    elif op == "/readlines":
        out.extend(inp.readlines())
    elif op == "/iter":
        out.extend(iter(inp))
    elif op == "/hash":
        h, total = hashlib.sha256(), 0
        while True:
            b = inp.read(65536)
            if not b:
                break
            h.update(b)
            total += len(b)
        data = json.dumps({"len": total, "sha256": h.hexdigest()}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [data]
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"unknown op"]
    types = sorted({type(b).__name__ for b in out})
    data = json.dumps({"items": [b.decode("latin-1") for b in out],
                       "types": types}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [data]
