"""sys.prefix/sys.path and which test modules are importable (GatewayPythonPath,
.pth files, GatewayPythonHome venv)."""
import json
import sys


def _try(name):
    try:
        return __import__(name).VALUE
    except ImportError as e:
        return "ImportError: %s" % e


def application(environ, start_response):
    doc = {"prefix": sys.prefix, "base_prefix": sys.base_prefix,
           "path": sys.path, "version": sys.version,
           "pathmod": _try("gwtest_pathmod"), "pthmod": _try("gwtest_pthmod"),
           "venvmod": _try("gwtest_venvmod")}
    data = json.dumps(doc).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [data]
