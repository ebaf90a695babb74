"""Content-Length that disagrees with the body: /more (declares 10, sends
20), /fewer (declares 20, sends 10); a list result, or with the _gen suffix
a generator (the streaming path)."""


def gen(items):
    for item in items:
        yield item


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith("/more"):
        declared, items = "10", [b"0123456789", b"abcdefghij"]
    else:
        declared, items = "20", [b"0123456789"]
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", declared)])
    return gen(items) if path.endswith("_gen") else items
