# Fault tests: writes its pid to GW_TMP/<marker>, then loops forever in
# pure Python before start_response (only request-timeout ends it).
import os
import urllib.parse


def application(environ, start_response):
    q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    marker = q.get("marker", [""])[0]
    if marker:
        with open(os.path.join(environ["GW_TMP"], marker), "w") as f:
            f.write("%d\n" % os.getpid())
    n = 0
    while True:
        n += 1
