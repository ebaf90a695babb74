"""bench workload `file50m`: htdocs/file.bin (50 MiB; 5 MiB with
bench/run --quick) through wsgi.file_wrapper, which both modules turn into
a file bucket (sendfile with EnableSendfile On)."""
import os


def _data_file(environ):
    script = environ.get("SCRIPT_FILENAME") or __file__
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(script))),
                        "htdocs", "file.bin")


def application(environ, start_response):
    f = open(_data_file(environ), "rb")
    size = os.fstat(f.fileno()).st_size
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(size))])
    return environ["wsgi.file_wrapper"](f, 65536)
