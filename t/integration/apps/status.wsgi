"""/204 and /304 with a body the server must not send."""


def application(environ, start_response):
    code = environ.get("PATH_INFO", "/204")[1:]
    reason = {"204": "No Content", "304": "Not Modified"}[code]
    start_response("%s %s" % (code, reason), [("ETag", '"x"')])
    return [b"this body must never reach the client"]
