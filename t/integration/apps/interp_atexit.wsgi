"""Registers, once per interpreter, an atexit handler that appends
"<group> <pid>" to GW_TMP/interp-atexit.log; the group is the application
group, "%{GLOBAL}" for the main interpreter (test_interpreters.py)."""
import atexit
import json
import os

_registered = False


def _record(path, label):
    with open(path, "a") as f:
        f.write("%s %d\n" % (label, os.getpid()))


def application(environ, start_response):
    global _registered
    label = environ.get("mod_gateway.application_group") or "%{GLOBAL}"
    if not _registered:
        atexit.register(_record, os.path.join(environ["GW_TMP"],
                                              "interp-atexit.log"), label)
        _registered = True
    data = json.dumps({"pid": os.getpid(), "group": label}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]
