"""Writes one marker line each to wsgi.errors, print() and sys.stderr;
?t=TOKEN makes them unique."""
import sys


def application(environ, start_response):
    t = environ.get("QUERY_STRING", "")[2:]
    err = environ["wsgi.errors"]
    err.write("WSGI-ERRORS-%s\n" % t)
    err.flush()
    print("PRINT-%s" % t)
    sys.stdout.flush()
    sys.stderr.write("STDERR-%s\n" % t)
    sys.stderr.flush()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ.get("mod_gateway.request_id", "").encode()]
