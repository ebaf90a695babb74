"""Dumps the environ as JSON, with the Python type of every key and value.
Reads the whole request body (wsgi.input.read()) and reports its length and
sha256, so chunked uploads can be checked too."""
import hashlib
import json
import os


def application(environ, start_response):
    body = environ["wsgi.input"].read()
    values, types = {}, {}
    for k, v in environ.items():
        key = k if isinstance(k, str) else repr(k)
        types[key] = type(v).__name__
        if isinstance(v, (str, bool, int, float)) or v is None:
            values[key] = v
        elif isinstance(v, tuple):
            values[key] = list(v)
        else:
            values[key] = repr(v)
    doc = {
        "environ": values,
        "types": types,
        "key_types": sorted({type(k).__name__ for k in environ}),
        "body_len": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "pid": os.getpid(),
    }
    data = json.dumps(doc).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]
