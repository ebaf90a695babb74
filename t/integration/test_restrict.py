"""GatewayRestrictEmbedded On: the Apache children never start Python; a
mount that would run embedded answers 500 (GW0211), daemon mounts work."""
import os
import time

from conftest import _proc_ppid


def maps_libpython(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libpython" in f.read()


def direct_children(pid):
    return [p for p in map(int, filter(str.isdigit, os.listdir("/proc")))
            if _proc_ppid(p) == pid]


def test_restrict_embedded(make_server):
    srv = make_server(mode="daemon", extra=lambda s: (
        "GatewayRestrictEmbedded On\n"
        "GatewayScriptAlias /emb {r}/apps/simple.wsgi process-group=%{{GLOBAL}}\n"
    ).format(r=s.root))
    r = srv.get("/simple")            # through the daemon group
    assert r.status_code == 200
    r = srv.get("/emb")
    assert r.status_code == 500
    assert srv.wait_log(lambda l: "GW0211" in l), srv.error_log_text()
    # No child started an interpreter (GW0002 is logged at debug when one
    # does, and the test config logs gateway:debug).
    time.sleep(0.2)
    assert not [l for l in srv.log_since() if "GW0002" in l]
    # Not even libpython is mapped into the parent, the children and the
    # daemons' keepers (mod_gateway_python.so is loaded by the daemons
    # only): each child saves the pages libpython's relocations dirty.
    parent = srv.proc.pid
    kids = direct_children(parent)
    assert kids
    assert not maps_libpython(parent)
    assert [k for k in kids if maps_libpython(k)] == []
    daemons = [g for k in kids for g in direct_children(k)]
    assert daemons and all(maps_libpython(g) for g in daemons)


def test_embedded_children_do_start_python_without_it(make_server):
    srv = make_server(mode="embedded")
    assert srv.get("/simple").status_code == 200
    assert srv.wait_log(lambda l: "GW0002" in l, )
    assert any(maps_libpython(k) for k in direct_children(srv.proc.pid))
