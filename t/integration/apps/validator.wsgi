"""An app wrapped in wsgiref.validate.validator: any PEP 3333 violation by
the server turns into an AssertionError (500)."""
from wsgiref.validate import validator


def _app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    out = b"validated " + environ["REQUEST_METHOD"].encode() + b" " + body
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(out)))])
    return [out]


application = validator(_app)
