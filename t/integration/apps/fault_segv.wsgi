# Fault tests: the process serving this request dies of SIGSEGV.
import ctypes


def application(environ, start_response):
    ctypes.string_at(0)
    start_response("500 Not Reached", [("Content-Type", "text/plain")])
    return [b"not reached\n"]
