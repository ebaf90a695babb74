# Fault tests: writes its pid to GW_TMP/<marker>, then sleeps `secs`
# seconds BEFORE start_response (a daemon killed meanwhile never sent HEAD).
import os
import time
import urllib.parse


def application(environ, start_response):
    q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    marker = q.get("marker", [""])[0]
    if marker:
        with open(os.path.join(environ["GW_TMP"], marker), "w") as f:
            f.write("%d\n" % os.getpid())
    time.sleep(float(q.get("secs", ["3"])[0]))
    body = b"slept %d\n" % os.getpid()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
