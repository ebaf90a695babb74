"""An Apache child gives back what a burst of daemon-mode traffic made it
take (issue 6: children with GatewayRestrictEmbedded stay close to a plain
Apache child's size):
- the big read buffers of daemon connections (gw_conn.c): a large response
  streams through a 128 KiB buffer mapped on its own, which goes back to a
  per-process cache when the exchange ends; spares that no exchange took
  for a whole second are unmapped, by the next exchange or by the child's
  trimmer thread (gw_cpool.c) when none comes;
- idle daemon connections that no request needed for a whole
  GW_CPOOL_IDLE (2 s) window are closed by the trimmer;
- request bodies are copied out of Apache's buckets one socket read at a
  time, so the per-connection allocators that keep all they free do not
  keep the uploads (gw_proxy.c read_into).
"""
import concurrent.futures
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


def one_child(make_server):
    """A daemon-mode server with one Apache child, so that every request
    reaches the child that is measured."""
    return make_server(mode="daemon", mpm="event",
                       extra="GatewayRestrictEmbedded On\nStartServers 1\n"
                             "ServerLimit 1\nMaxRequestWorkers 16\n")


def apache_children(srv):
    return [pid for pid, p in C.server_tree(srv.proc.pid).items()
            if p.role == "child" and p.state != "Z"]


def daemon_connections(pids):
    """Connected Unix sockets held by pids: an Apache child's only ones
    are its connections to daemons."""
    socks = C.unix_sockets()
    n = 0
    for pid in pids:
        for target in (C._fd_targets(pid) or {}).values():
            if target.startswith("socket:["):
                info = socks.get(int(target[8:-1]))
                if info and info[3]:
                    n += 1
    return n


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_big_buffers_are_given_back(make_server):
    srv = one_child(make_server)
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


def test_big_buffers_go_without_more_requests(make_server):
    srv = one_child(make_server)
    children = C._children(srv.proc.pid)
    r = requests.get(srv.url("/client_stream?t=%s&size=65536&n=16"
                             % C.token()), timeout=30)
    assert r.status_code == 200 and len(r.content) == 16 * 65536
    assert big_buffers(children) >= 1, "no big buffer after a 1 MiB response"
    # nothing more is asked of the server: the trimmer ends the windows
    assert C.wait_until(lambda: big_buffers(children) == 0, 8), \
        "%d big buffer(s) still mapped 8 s after the last request" \
        % big_buffers(children)


def test_idle_daemon_connections_are_closed(make_server):
    srv = one_child(make_server)
    kids = apache_children(srv)
    assert len(kids) == 1, kids
    url = srv.url("/fault_sleep?secs=1")
    # six requests at once, each a second long: six daemon connections
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        codes = list(ex.map(lambda _: requests.get(url, timeout=30)
                            .status_code, range(6)))
    assert codes == [200] * 6
    held = daemon_connections(kids)
    assert held >= 4, "only %d pooled daemon connection(s) after 6 " \
        "concurrent requests" % held
    # idle through a whole 2 s window: closed, within two windows
    assert C.wait_until(lambda: daemon_connections(kids) == 0, 8), \
        "%d daemon connection(s) still open 8 s after the last request" \
        % daemon_connections(kids)
    # and the next request dials a new one
    assert requests.get(srv.url("/simple"), timeout=10).status_code == 200


def test_uploads_leave_little_behind(make_server):
    """Eight keep-alive clients post 100 KiB bodies. Left in Apache's
    buckets while they were sent on, each connection's allocator kept
    about 100 KiB after the request (1.2 MB over 8 connections, measured);
    copied one socket read at a time, the child grows by less than a
    third of that."""
    srv = one_child(make_server)
    kids = apache_children(srv)
    assert len(kids) == 1, kids
    sessions = [requests.Session() for _ in range(8)]
    url = srv.url("/input/hash")

    def run(body, n):
        def one(s):
            for _ in range(n):
                r = s.post(url, data=body, timeout=30)
                assert r.status_code == 200, r.text[:200]
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(one, sessions))

    try:
        run(b"warm", 20)      # the same 8 connections, small bodies
        time.sleep(5)         # idle daemon connections and buffers go
        before = rss_kib(kids[0])
        run(os.urandom(100 * 1024), 20)
        time.sleep(5)
        after = rss_kib(kids[0])
    finally:
        for s in sessions:
            s.close()
    assert after - before < 400, \
        "the child grew by %d KiB over 160 uploads of 100 KiB" % (
            after - before)
