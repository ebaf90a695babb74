"""Records that it ran (GW_TMP/ran-TOK, written before anything else),
sleeps s seconds (default 0), then answers its pid and when it slept
(t0, t1: time.time()) as JSON; used by
test_daemon_options.py for concurrency, queueing and timeouts."""
import json
import os
import time
from urllib.parse import parse_qs


def application(environ, start_response):
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    tok = qs.get("tok", [""])[0]
    if tok:
        with open(os.path.join(environ["GW_TMP"], "ran-" + tok), "w") as f:
            f.write("%d\n" % os.getpid())
    t0 = time.time()
    time.sleep(float(qs.get("s", ["0"])[0]))
    data = json.dumps({"pid": os.getpid(), "tok": tok, "t0": t0,
                       "t1": time.time()}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]
