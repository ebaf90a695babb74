"""Request limits are Apache's, enforced before the application runs (or a
daemon is contacted): a body whose Content-Length is over LimitRequestBody
gets 413 and the app never runs."""
import os

import pytest

from conftest import token


@pytest.mark.parametrize("mode", ["embedded", "daemon"])
def test_body_over_limit_is_413_without_running(make_server, mode):
    srv = make_server(mode=mode, extra="LimitRequestBody 1000\n")
    t = token()
    r = srv.post("/limitprobe?" + t, data=b"x" * 2000)
    assert r.status_code == 413
    assert not os.path.exists(os.path.join(srv.tmp, "ran-" + t))
    assert srv.wait_log("GW0214")
    # within the limit it runs
    t2 = token()
    r = srv.post("/limitprobe?" + t2, data=b"x" * 500)
    assert r.status_code == 200
    assert os.path.exists(os.path.join(srv.tmp, "ran-" + t2))
