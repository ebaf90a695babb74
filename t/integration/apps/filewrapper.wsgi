"""wsgi.file_wrapper over a real file (/file/NAME, a file in GW_TMP) and over
a non-file object (/bytesio: 1 MiB of bytes(range(256)))."""
import io
import os


def application(environ, start_response):
    wrapper = environ["wsgi.file_wrapper"]
    path = environ.get("PATH_INFO", "")
    if path.startswith("/file/"):
        name = os.path.basename(path[len("/file/"):])
        f = open(os.path.join(environ["GW_TMP"], name), "rb")
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return wrapper(f, 32768)
    if path == "/bytesio":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return wrapper(io.BytesIO(bytes(range(256)) * 4096), 8192)
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]
