# Records each import (pid) so a test can tell a preload from a load on
# the first request.
import os

_TMP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tmp")
with open(os.path.join(_TMP, "preload-imports"), "a") as f:
    f.write("%d\n" % os.getpid())
IMPORTS_IN_THIS_PROCESS = 1


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%d %d" % (os.getpid(), IMPORTS_IN_THIS_PROCESS)).encode()]
