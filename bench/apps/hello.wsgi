"""bench workload `hello`: a 12-byte response (the static twin is
htdocs/hello.txt, the same 12 bytes)."""

BODY = b"Hello World!"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", list(HEADERS))
    return [BODY]
