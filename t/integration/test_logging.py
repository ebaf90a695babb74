"""Python logging reaches the vhost's ErrorLog at the mapped Apache level,
tagged GW0252 with the request id; LogLevel gateway:... filters it."""
from conftest import token

LEVELS = [("DEBUG", "debug"), ("INFO", "info"), ("WARNING", "warn"),
          ("ERROR", "error"), ("CRITICAL", "crit")]


def line_for(lines, needle):
    return [l for l in lines if needle in l]


def test_logging_levels_and_request_id(server, log):
    t = token()
    r = server.get("/pylogging?" + t)
    assert r.status_code == 200
    rid = r.text
    assert log.wait_for("CRITICAL-" + t)
    lines = log.lines()
    for pyname, apname in LEVELS:
        found = line_for(lines, "%s-%s" % (pyname, t))
        assert found, "no %s line:\n%s" % (pyname, log.text())
        assert "[gateway:%s]" % apname in found[0], found[0]
        assert "GW0252: [%s]" % rid in found[0], found[0]
    # logging.exception: the traceback, one entry per line, same request
    tb = [l for l in lines if "GW0252: [%s]" % rid in l and "EXC-" + t in l]
    assert any("ValueError" in l for l in tb), log.text()


def test_loglevel_filters_python_logging(make_server):
    srv = make_server(extra="LogLevel info gateway:info\n")
    t = token()
    assert srv.get("/pylogging?" + t).status_code == 200
    assert srv.wait_log("CRITICAL-" + t)
    text = srv.error_log_text()
    assert "INFO-" + t in text
    assert "DEBUG-" + t not in text
