"""Which interpreter, process and thread served the request
(test_interpreters.py).

Query string:
  bump=1     increments interp_counter.COUNT (a module on the Python path,
             shared by every application of one interpreter) and reports it
  counter=1  reports interp_counter.COUNT without changing it
  flag=NAME  puts a module "interp_flag_NAME" into sys.modules

Always reported: pid, thread id, the application group from the environ,
a token made once per execution of this file (LOAD_TOKEN), a token made
once per interpreter and kept in sys.modules (interp_marker.TOKEN), the
flags present in this interpreter's sys.modules, the interpreter id from
_xxsubinterpreters when it is importable, and a per-thread request count
kept in a module-level threading.local."""
import json
import os
import sys
import threading
import types
from urllib.parse import parse_qs

try:
    import _xxsubinterpreters as _xi
except ImportError:
    _xi = None

LOAD_TOKEN = os.urandom(8).hex()

_marker = sys.modules.get("interp_marker")
if _marker is None:
    _marker = types.ModuleType("interp_marker")
    _marker.TOKEN = os.urandom(8).hex()
    sys.modules["interp_marker"] = _marker

_local = threading.local()


def _interp_ids():
    if _xi is None:
        return None, None
    return int(_xi.get_current()), int(_xi.get_main())


def application(environ, start_response):
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    counter = None
    if "bump" in qs or "counter" in qs:
        import interp_counter
        if "bump" in qs:
            interp_counter.COUNT += 1
        counter = {"value": interp_counter.COUNT,
                   "module_id": id(interp_counter),
                   "file": interp_counter.__file__}
    for name in qs.get("flag", []):
        key = "interp_flag_" + name
        sys.modules[key] = types.ModuleType(key)
    _local.n = getattr(_local, "n", 0) + 1
    current, main = _interp_ids()
    doc = {
        "pid": os.getpid(),
        "tid": threading.get_ident(),
        "group": environ.get("mod_gateway.application_group"),
        "process_group": environ.get("mod_gateway.process_group"),
        "script": __file__,
        "load_token": LOAD_TOKEN,
        "interp_token": sys.modules["interp_marker"].TOKEN,
        "flags": sorted(k[len("interp_flag_"):] for k in sys.modules
                        if k.startswith("interp_flag_")),
        "interp_id": current,
        "main_id": main,
        "tls": _local.n,
        "counter": counter,
    }
    data = json.dumps(doc).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]
