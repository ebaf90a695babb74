"""The application behind apps/paste/config.ini."""
import logging

log = logging.getLogger("helloapp")


def make_app(global_conf, greeting="Hello!"):
    body = (greeting + "\n").encode("utf-8")

    def app(environ, start_response):
        log.info("hello for %s", environ.get("PATH_INFO") or "/")
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return app
