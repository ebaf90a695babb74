"""bench workload `sleep10ms`: a blocking application (sleeps 10 ms, then
answers "Hello World!"); measures how many requests the configuration's
threads can have in flight. There is no static twin."""
import time

BODY = b"Hello World!"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    time.sleep(0.010)
    start_response("200 OK", list(HEADERS))
    return [BODY]
