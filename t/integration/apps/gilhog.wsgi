# ?hold: a C call that keeps the GIL (ctypes.PyDLL does not release it)
# for 30 s; otherwise reports the pid.
import ctypes
import os


def application(environ, start_response):
    if environ.get("QUERY_STRING") == "hold":
        ctypes.PyDLL(None).sleep(30)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
