"""Script reloading under load: the app's file changes while wrk hammers
it; every request succeeds and the new code is served afterwards.
Embedded mode re-imports the script; daemon mode restarts the group's
processes (GW0327), handing each not-yet-run request to the next process."""
import os
import re
import subprocess
import threading
import time

import pytest

import conftest
from conftest import wait_until

APP = """def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%s"]
"""


def write_app(path, version, mtime):
    # As a deployment does it: the new file appears whole (rename), so no
    # request can import a half-written script.
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(APP % version)
    os.chmod(tmp, 0o644)
    os.utime(tmp, (mtime, mtime))
    os.replace(tmp, path)


def wrk(url, seconds):
    # --timeout 10s: wrk's default (2 s) counts a request that waited for a
    # restarted daemon on a slow host as a socket error; a lost request
    # would still show as one (a read error or a non-2xx).
    out = subprocess.run(["wrk", "-t2", "-c8", "-d%ds" % seconds,
                          "--timeout", "10s", url],
                         capture_output=True, text=True, timeout=seconds + 30)
    return out.stdout


@pytest.mark.parametrize("mpm", conftest.MPMS)
@pytest.mark.parametrize("mode", ["embedded", "daemon"])
def test_reload_under_load_loses_nothing(make_server, mode, mpm):
    srv = make_server(mode=mode, mpm=mpm, extra=lambda s: (
        "GatewayDaemonProcess reloadgrp processes=2 threads=4\n"
        if mode == "daemon" else "") + (
        "GatewayScriptAlias /reloadme {r}/tmp/reloadme.wsgi{pg}\n"
        "<Directory {r}/tmp>\n  Require all granted\n</Directory>\n"
    ).format(r=s.root, pg=" process-group=reloadgrp" if mode == "daemon"
             else ""))
    path = os.path.join(srv.tmp, "reloadme.wsgi")
    now = time.time()
    write_app(path, "v1", now - 10)
    assert srv.get("/reloadme").text == "v1"
    result = {}
    t = threading.Thread(target=lambda: result.update(
        out=wrk(srv.url("/reloadme"), 6)))
    t.start()
    time.sleep(2)
    write_app(path, "v2", now)
    t.join()
    out = result.get("out", "")
    assert "requests in" in out, out
    assert "Non-2xx" not in out, out
    assert "Socket errors" not in out, out
    assert int(re.search(r"(\d+) requests in", out).group(1)) > 50, out
    assert wait_until(lambda: srv.get("/reloadme").text == "v2", 5)
    if mode == "daemon":
        assert srv.wait_log("GW0327"), srv.error_log_text()
    else:
        assert srv.wait_log("GW0107"), srv.error_log_text()
