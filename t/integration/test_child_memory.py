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
GUARD = 4096          # GW_CONN_GUARD

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (httpd drops to www-data)")


def big_buffers(pids):
    """gw_conn's big read buffers mapped in pids: a private anonymous
    mapping of exactly GW_CONN_BUF_BIG bytes between two inaccessible guard
    pages (gw_conn.c map_big), which nothing else in an Apache child looks
    like (APR's and malloc's own large blocks have no guard pages)."""
    n = 0
    for pid in pids:
        try:
            with open("/proc/%d/maps" % pid) as f:
                maps = [line.split() for line in f.read().splitlines()]
        except OSError:
            continue
        spans = []
        for parts in maps:
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            spans.append((lo, hi, parts[1], len(parts) == 5))
        for i in range(1, len(spans) - 1):
            lo, hi, perm, anon = spans[i]
            before, after = spans[i - 1], spans[i + 1]
            if (hi - lo == BIG and perm == "rw-p" and anon
                    and before[1] == lo and before[1] - before[0] == GUARD
                    and before[2] == "---p"
                    and after[0] == hi and after[1] - after[0] == GUARD
                    and after[2] == "---p"):
                n += 1
    return n


def test_big_buffers_are_given_back(make_server):
    # one Apache child, so the small requests below surely reach the child
    # that holds the buffer
    srv = make_server(mode="daemon", mpm="event",
                      extra="GatewayRestrictEmbedded On\nStartServers 1\n"
                            "ServerLimit 1\nMaxRequestWorkers 16\n")
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
