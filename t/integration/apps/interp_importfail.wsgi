"""Fails to load with ModuleNotFoundError (an ImportError), for the GW0104
and GW0105 log lines (test_interpreters.py)."""
import this_module_does_not_exist  # noqa: F401


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"unreachable"]
