"""No `application` here: mounted with callable-object= or
GatewayCallableObject."""


def custom_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"custom_app"]


def other_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"other_app"]
