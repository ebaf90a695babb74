"""Echoes the request body back, with its length and sha256 in the headers
X-Upload-Length and X-Upload-SHA256. The body is read in blocks (it may be
chunked: read until EOF) and spooled to a temporary file, so memory stays
flat for large uploads; the echo goes out through wsgi.file_wrapper.

    GatewayScriptAlias /upload /srv/apps/upload.wsgi
    curl --data-binary @file http://localhost/upload
"""
import hashlib
import tempfile
from wsgiref.util import FileWrapper

BLOCK = 65536


def application(environ, start_response):
    inp = environ["wsgi.input"]
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)
    digest, total = hashlib.sha256(), 0
    while True:
        block = inp.read(BLOCK)
        if not block:
            break
        digest.update(block)
        spool.write(block)
        total += len(block)
    spool.seek(0)
    start_response("200 OK", [
        ("Content-Type", "application/octet-stream"),
        ("Content-Length", str(total)),
        ("X-Upload-Length", str(total)),
        ("X-Upload-SHA256", digest.hexdigest()),
    ])
    wrapper = environ.get("wsgi.file_wrapper", FileWrapper)
    return wrapper(spool, BLOCK)
