"""Shows the WSGI environ as JSON: strings as they are, anything else
(wsgi.input, wsgi.errors, tuples, booleans) as its repr().

    GatewayScriptAlias /environ /srv/apps/environ.wsgi
"""
import json


def application(environ, start_response):
    doc = {str(k): (v if isinstance(v, str) else repr(v))
           for k, v in sorted(environ.items())}
    body = json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n"
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
