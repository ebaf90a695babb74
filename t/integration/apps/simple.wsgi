"""A plain function app with a Content-Length."""


def application(environ, start_response):
    body = b"simple ok"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
