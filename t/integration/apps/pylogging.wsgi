# Logs one record per level with a token from the query string, and a
# logging.exception() traceback; returns the request id.
import logging

log = logging.getLogger("myapp")


def application(environ, start_response):
    t = environ.get("QUERY_STRING", "")
    log.debug("DEBUG-%s", t)
    log.info("INFO-%s", t)
    log.warning("WARNING-%s", t)
    log.error("ERROR-%s", t)
    log.critical("CRITICAL-%s", t)
    try:
        raise ValueError("EXC-" + t)
    except ValueError:
        log.exception("EXCEPTION-%s", t)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["mod_gateway.request_id"].encode()]
