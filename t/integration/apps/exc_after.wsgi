"""Raises after the first body chunk was sent (chunked response)."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"first-chunk;"
    raise RuntimeError("boom-after-" + environ["QUERY_STRING"][2:])
