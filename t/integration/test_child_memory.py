"""An Apache child gives back the big read buffers of daemon connections
(gw_conn.c): a large response streams through a 128 KiB buffer mapped on
its own, which goes back to a per-process cache when the exchange ends;
spares that no exchange took for a whole second are unmapped, so after a
burst of large responses the child shrinks back (issue 6: children with
GatewayRestrictEmbedded stay close to a plain Apache child's size).
"""
import os
import time

import pytest
import requests

import conftest as C

BIG = 128 * 1024      # GW_CONN_BUF_BIG

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (httpd drops to www-data)")


def big_buffers(pids):
    """Anonymous private mappings of exactly GW_CONN_BUF_BIG bytes, over
    pids (malloc's own large blocks carry a header, so they are never
    exactly that size; thread stacks are megabytes)."""
    n = 0
    for pid in pids:
        try:
            with open("/proc/%d/maps" % pid) as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if hi - lo == BIG and parts[1] == "rw-p" and len(parts) == 5:
                n += 1
    return n


def test_big_buffers_are_given_back(make_server):
    srv = make_server(mode="daemon",
                      extra="GatewayRestrictEmbedded On\n")
    # the Apache children and the daemons' keepers (the daemons, one
    # level further down, are not counted: their buffers follow their own
    # traffic)
    children = C._children(srv.proc.pid)
    with requests.Session() as s:     # one connection: one Apache child
        r = s.get(srv.url("/client_stream?t=%s&size=65536&n=16" % C.token()),
                  timeout=30)
        assert r.status_code == 200 and len(r.content) == 16 * 65536
        held = big_buffers(children)
        assert held >= 1, "no big buffer after a 1 MiB response"
        # the first small exchange after a second closes the window the
        # buffer was used in; the next one, a second later, finds it
        # unused for a whole window
        for _ in range(3):
            time.sleep(1.1)
            assert s.get(srv.url("/simple"), timeout=10).status_code == 200
        assert big_buffers(children) == 0, \
            "%d big buffer(s) still mapped after 3 s without large bodies" \
            % big_buffers(children)
