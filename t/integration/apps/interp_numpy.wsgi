"""Imports numpy (a C extension) at load time (test_interpreters.py)."""
import json

import numpy


def application(environ, start_response):
    doc = {"sum": int(numpy.arange(5).sum()), "version": numpy.__version__,
           "group": environ.get("mod_gateway.application_group")}
    data = json.dumps(doc).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]
