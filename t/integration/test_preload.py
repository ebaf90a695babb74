"""Preloading: GatewayImportScript, and a GatewayScriptAlias whose
process-group= and application-group= are both fixed, load the script when
a process starts, in embedded and in daemon mode."""
import os

import pytest

import conftest
from conftest import wait_until

GROUP = {"embedded": "%{GLOBAL}", "daemon": "gwtest"}


def imports(srv):
    path = os.path.join(srv.tmp, "preload-imports")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [int(x) for x in f.read().split()]


def serving_pids(srv, mode):
    """The processes that run the app: the daemons, or the Apache
    children."""
    role = "daemon" if mode == "daemon" else "child"
    return {pid for pid, p in conftest.server_tree(srv.proc.pid).items()
            if p.role == role and p.state != "Z"}


def check_preloaded(srv, mode):
    # Loaded at process start, before any request: in every process that
    # can serve it (on a slow host the last one may still be starting).
    assert wait_until(lambda: serving_pids(srv, mode) <= set(imports(srv))
                      and imports(srv), 10), (
        "not preloaded everywhere: %s serve, %s loaded it"
        % (sorted(serving_pids(srv, mode)), imports(srv)))
    before = set(imports(srv))
    r = srv.get("/preloaded")
    assert r.status_code == 200, r.text
    pid, count = map(int, r.text.split())
    assert pid in before, "the serving process %d did not preload (%s)" % (
        pid, sorted(before))
    assert count == 1
    # Serving did not import it again in that process.
    assert imports(srv).count(pid) == 1


@pytest.mark.parametrize("mpm", conftest.MPMS)
@pytest.mark.parametrize("mode", ["embedded", "daemon"])
def test_import_script_preloads(make_server, mode, mpm):
    srv = make_server(mode=mode, mpm=mpm, extra=lambda s: (
        "GatewayImportScript {r}/apps/preload.wsgi process-group={g} "
        "application-group=%{{GLOBAL}}\n"
        "GatewayScriptAlias /preloaded {r}/apps/preload.wsgi process-group={g} "
        "application-group=%{{GLOBAL}}\n").format(r=s.root, g=GROUP[mode]))
    check_preloaded(srv, mode)


@pytest.mark.parametrize("mpm", conftest.MPMS)
@pytest.mark.parametrize("mode", ["embedded", "daemon"])
def test_alias_with_fixed_groups_preloads(make_server, mode, mpm):
    srv = make_server(mode=mode, mpm=mpm, extra=lambda s: (
        "GatewayScriptAlias /preloaded {r}/apps/preload.wsgi process-group={g} "
        "application-group=site\n").format(r=s.root, g=GROUP[mode]))
    check_preloaded(srv, mode)


@pytest.mark.parametrize("mpm", conftest.MPMS)
@pytest.mark.parametrize("mode", ["embedded", "daemon"])
def test_alias_with_per_request_group_is_not_preloaded(make_server, mode, mpm):
    srv = make_server(mode=mode, mpm=mpm, extra=lambda s: (
        "GatewayScriptAlias /preloaded {r}/apps/preload.wsgi process-group={g} "
        "application-group=%{{RESOURCE}}\n").format(r=s.root, g=GROUP[mode]))
    r = srv.get("/preloaded")
    assert r.status_code == 200
    pid, count = map(int, r.text.split())
    # The only import is the one the request caused.
    assert imports(srv) == [pid]
