"""Shared by every framework app (on GatewayPythonPath).

Each app calls claim(<framework>) when its script is imported. Every app
runs in an application group (sub-interpreter) of its own, so this module
is imported once per app and OWNERS never holds more than one name; the
test asks each app for state() and checks that.
"""
import os
import sys
import threading

OWNERS = []
IMPORTS = 0
_lock = threading.Lock()

# the top-level module of every framework under test
MARKERS = ["flask", "django", "pyramid", "bottle", "cherrypy", "web",
           "falcon", "webob"]


def claim(name):
    global IMPORTS
    with _lock:
        IMPORTS += 1
        OWNERS.append(name)


def state(environ):
    try:
        import _xxsubinterpreters as xi
        interp_id = int(xi.get_current())
    except Exception:  # pragma: no cover
        interp_id = None
    return {
        "owners": list(OWNERS),
        "imports": IMPORTS,
        "group": environ.get("mod_gateway.application_group"),
        "process_group": environ.get("mod_gateway.process_group"),
        "pid": os.getpid(),
        "interp_id": interp_id,
        "frameworks": [m for m in MARKERS if m in sys.modules],
        "django_settings": os.environ.get("DJANGO_SETTINGS_MODULE"),
        "script_name": environ.get("SCRIPT_NAME"),
    }
