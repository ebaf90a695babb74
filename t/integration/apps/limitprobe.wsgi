# Records that it ran (a marker file named by the query string).
import os

_TMP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tmp")


def application(environ, start_response):
    with open(os.path.join(_TMP, "ran-" + environ["QUERY_STRING"]), "w") as f:
        f.write("1")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ran"]
