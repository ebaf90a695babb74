"""start_response called twice without exc_info: the second call must raise
in the app. The outcome goes to GW_TMP/sr-TOKEN."""
import os


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    path = os.path.join(environ["GW_TMP"], "sr-" + environ["QUERY_STRING"][2:])
    try:
        start_response("201 Created", [("Content-Type", "text/plain")])
    except Exception as e:
        with open(path, "w") as f:
            f.write("RAISED %s: %s\n" % (type(e).__name__, e))
        raise
    with open(path, "w") as f:
        f.write("ACCEPTED\n")
    return [b"second start_response accepted"]
