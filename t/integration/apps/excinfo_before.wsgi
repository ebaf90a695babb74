"""start_response called again with exc_info before any body was sent: the
second status and headers replace the first."""
import sys


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-First", "1")])
    try:
        raise ValueError("early failure")
    except ValueError:
        start_response("503 Service Unavailable",
                       [("Content-Type", "text/plain"), ("X-Second", "1")],
                       sys.exc_info())
    return [b"replaced"]
