"""Raises before the first body byte. Writes its request id to
GW_TMP/reqid-TOKEN first so the test can find the log lines."""
import os


def application(environ, start_response):
    t = environ["QUERY_STRING"][2:]
    with open(os.path.join(environ["GW_TMP"], "reqid-" + t), "w") as f:
        f.write(environ.get("mod_gateway.request_id", "") + "\n")
    raise RuntimeError("boom-before-%s" % t)
