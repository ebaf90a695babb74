"""A class as the application: calling it makes an instance, which is the
iterable; start_response is called lazily in __iter__. close() is recorded
in a marker file when ?t=TOKEN is given."""
import os


class application:
    def __init__(self, environ, start_response):
        self.environ = environ
        self.start_response = start_response

    def __iter__(self):
        self.start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"class "
        yield b"iterable ok"

    def close(self):
        qs = self.environ.get("QUERY_STRING", "")
        if qs.startswith("t="):
            path = os.path.join(self.environ["GW_TMP"], "classiter-" + qs[2:])
            with open(path, "w") as f:
                f.write("closed\n")
