"""Streaming with a generator: mod_gateway sends each item as soon as the
generator yields it (one flush per item), as chunked transfer encoding when
no Content-Length is given. ?count=N picks the number of lines (max 1000).

    GatewayScriptAlias /streaming /srv/apps/streaming.wsgi
"""
from urllib.parse import parse_qs


def lines(count):
    for i in range(count):
        yield ("line %d of %d\n" % (i + 1, count)).encode()


def application(environ, start_response):
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    try:
        count = max(0, min(1000, int(qs.get("count", ["10"])[0])))
    except ValueError:
        count = 10
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return lines(count)
