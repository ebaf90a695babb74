# Fault tests: the process serving this request calls os._exit(code)
# (default 15: httpd's APEXIT_CHILDFATAL) before sending anything.
import os
import urllib.parse


def application(environ, start_response):
    q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    os._exit(int(q.get("code", ["15"])[0]))
