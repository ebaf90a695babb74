"""paste.cascade.Cascade: try the static files in ./static first
(paste.urlparser.StaticURLParser), and fall back to the application when that
answers 404.

    GatewayScriptAlias /site /srv/apps/cascade.wsgi
    /site/hello.txt   -> static/hello.txt
    /site/anything    -> the app
"""
import os

from paste.cascade import Cascade
from paste.urlparser import StaticURLParser

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")


def app(environ, start_response):
    body = ("dynamic: %s\n" % environ.get("PATH_INFO", "")).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


application = Cascade([StaticURLParser(STATIC), app])
