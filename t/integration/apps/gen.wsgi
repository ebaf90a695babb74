"""A generator app: start_response is only called when the server pulls the
first item, so the server must not send headers before that."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Lazy", "yes")])
    yield b"gen-1;"
    yield b""
    yield b"gen-2"
