"""WSGI middleware, the idea from the Pylons docs: a callable that wraps an
application and is itself an application.

EnvironCheck adds its own key to the environ, then refuses keys added by the
wrapped chain without a '.' in them: PEP 3333 reserves undotted names for
the server (CGI variables), so apps and middleware must namespace theirs
("myapp.user"). The check runs when the wrapped app calls start_response;
a violation raises, and the server answers 500 and logs the traceback.

    GatewayScriptAlias /middleware /srv/apps/middleware.wsgi
    /middleware       -> 200, shows example.greeting
    /middleware/bad   -> 500: the demo app adds an undotted key
"""


class EnvironCheck:
    def __init__(self, app, key="example.greeting", value="hello"):
        self.app, self.key, self.value = app, key, value

    def __call__(self, environ, start_response):
        environ[self.key] = self.value
        before = set(environ)

        def checked_start_response(status, headers, exc_info=None):
            bad = sorted(k for k in set(environ) - before if "." not in k)
            if bad:
                raise ValueError("environ keys without a '.': %s" % ", ".join(bad))
            return start_response(status, headers, exc_info)

        return self.app(environ, checked_start_response)


def demo_app(environ, start_response):
    environ["demo.seen"] = True
    if environ.get("PATH_INFO") == "/bad":
        environ["nodot"] = "breaks the convention"
    body = ("greeting=%s\n" % environ["example.greeting"]).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


application = EnvironCheck(demo_app)
