"""deadlock-timeout: a C call that holds the GIL (so no Python code runs
and no interrupt can take) restarts the daemon process; the group serves
again afterwards."""
import time

import pytest

from conftest import wait_until


@pytest.mark.allow_log_alerts
def test_gil_held_past_deadlock_timeout_restarts(make_server):
    srv = make_server(mode="daemon", extra=lambda s: (
        "GatewayDaemonProcess hog processes=1 threads=2 deadlock-timeout=3\n"
        "GatewayScriptAlias /hog {r}/apps/gilhog.wsgi process-group=hog "
        "application-group=%{{GLOBAL}}\n").format(r=s.root))
    old = int(srv.get("/hog").text)
    t0 = time.monotonic()
    r = srv.get("/hog?hold", timeout=20)
    took = time.monotonic() - t0
    assert r.status_code in (502, 504), r.status_code
    assert took < 10, took
    assert srv.wait_log("GW0324", timeout=5), srv.error_log_text()
    assert "GIL" in "\n".join(l for l in srv.log_since() if "GW0324" in l)
    # a new process serves
    assert wait_until(lambda: srv.get("/hog").status_code == 200, 10)
    assert int(srv.get("/hog").text) != old
