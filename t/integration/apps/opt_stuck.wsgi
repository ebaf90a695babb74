"""Never answers: mode=spin loops in Python bytecode (`while True: pass`),
mode=sleep blocks in time.sleep(30). GW_TMP/stuck-TOK is written first
with the pid. Used by test_daemon_options.py (request-timeout)."""
import os
import time
from urllib.parse import parse_qs


def application(environ, start_response):
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    tok = qs.get("tok", [""])[0]
    if tok:
        with open(os.path.join(environ["GW_TMP"], "stuck-" + tok), "w") as f:
            f.write("%d\n" % os.getpid())
    if qs.get("mode", ["spin"])[0] == "sleep":
        time.sleep(30)
    else:
        while True:
            pass
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"unreachable\n"]
