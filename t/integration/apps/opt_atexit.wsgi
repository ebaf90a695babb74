"""Registers an atexit handler in the daemon process (test_daemon_options.py,
shutdown-timeout). mode=marker: the handler writes GW_TMP/atexit-TOK
(the pid). mode=slow: it writes GW_TMP/atexit-TOK.start, sleeps s
seconds, then writes GW_TMP/atexit-TOK.end."""
import atexit
import json
import os
import time
from urllib.parse import parse_qs


def _write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(path + ".tmp", path)


def _slow(base, seconds):
    _write(base + ".start", str(os.getpid()))
    time.sleep(seconds)
    _write(base + ".end", str(os.getpid()))


def application(environ, start_response):
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    base = os.path.join(environ["GW_TMP"], "atexit-" + qs["tok"][0])
    if qs.get("mode", ["marker"])[0] == "slow":
        atexit.register(_slow, base, float(qs.get("s", ["10"])[0]))
    else:
        atexit.register(_write, base, str(os.getpid()))
    data = json.dumps({"pid": os.getpid()}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]
