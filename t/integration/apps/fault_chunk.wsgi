# Fault tests: a streamed (chunked) response: a first chunk, then the pid
# goes to GW_TMP/<marker> and the app sleeps `secs` before the rest.
import os
import time
import urllib.parse


def application(environ, start_response):
    q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    marker = q.get("marker", [""])[0]
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        yield b"first-chunk\n"
        if marker:
            with open(os.path.join(environ["GW_TMP"], marker), "w") as f:
                f.write("%d\n" % os.getpid())
        time.sleep(float(q.get("secs", ["3"])[0]))
        yield b"second-chunk\n"
    return gen()
