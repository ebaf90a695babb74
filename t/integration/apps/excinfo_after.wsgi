"""start_response called with exc_info after the first body chunk went out:
PEP 3333 says it must re-raise, and the response is truncated."""
import sys


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"partial-body;"
    try:
        raise RuntimeError("late failure")
    except RuntimeError:
        start_response("500 Internal Server Error",
                       [("Content-Type", "text/plain")], sys.exc_info())
    yield b"must-not-be-sent"
