"""The legacy write() callable, then an iterable."""


def application(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"a")
    return [b"b"]
