"""WSGI apps and Paste Deploy factories for paste_app.wsgi and paste.ini."""
import json

import gwfw_common


def _json(start_response, doc, status="200 OK"):
    body = json.dumps(doc).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def first(environ, start_response):
    """Knows only /a/...; everything else is a 404 for the Cascade."""
    path = environ.get("PATH_INFO", "")
    if not path.startswith("/a/"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"first: not mine\n"]
    return _json(start_response, {"app": "first", "path": path,
                                  "script_name": environ["SCRIPT_NAME"]})


def second(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith("/missing"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"second: not found either\n"]
    return _json(start_response, {"app": "second", "path": path,
                                  "script_name": environ["SCRIPT_NAME"]})


def echo(environ, start_response):
    """Reads the body the way old frameworks do: readline, then read."""
    inp = environ["wsgi.input"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    first_line = inp.readline() if length else b""
    rest = inp.read(length - len(first_line)) if length else b""
    environ["wsgi.errors"].flush()
    return _json(start_response, {
        "method": environ["REQUEST_METHOD"],
        "script_name": environ["SCRIPT_NAME"],
        "path_info": environ.get("PATH_INFO", ""),
        "query": environ.get("QUERY_STRING", ""),
        "first_line": first_line.decode("latin-1"),
        "rest": rest.decode("latin-1"),
        "length": length})


def state(environ, start_response):
    return _json(start_response, gwfw_common.state(environ))


# ---- Paste Deploy factories (paste.ini) ------------------------------------

def make_text(global_conf, text):
    body = (text + "\n").encode()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body))),
                                  ("X-Script-Name", environ["SCRIPT_NAME"])])
        return [body]
    return app


def make_state(global_conf, owner):
    gwfw_common.claim(owner)
    return state
