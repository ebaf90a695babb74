"""The smallest WSGI application (PEP 3333).

    GatewayScriptAlias /hello /srv/apps/hello.wsgi
"""


def application(environ, start_response):
    body = b"Hello World!"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
