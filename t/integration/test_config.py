"""Directives: handlers, callable object, Python path/home, script
reloading, and configuration errors caught by `httpd -t`."""
import os
import subprocess
import time

import pytest

from conftest import MODES, MPMS, configtest


# ---- handlers ----------------------------------------------------------------

def test_sethandler(server):
    r = server.get("/sethandler/env.wsgi/extra")
    assert r.status_code == 200, r.text[:500]
    env = r.json()["environ"]
    assert env["SCRIPT_NAME"] == "/sethandler/env.wsgi"
    assert env["PATH_INFO"] == "/extra"
    assert env["SCRIPT_FILENAME"] == server.root + "/handler/env.wsgi"


def test_addhandler(server):
    r = server.get("/addhandler/env.wsgi")
    assert r.status_code == 200, r.text[:500]
    assert r.json()["environ"]["SCRIPT_NAME"] == "/addhandler/env.wsgi"


def test_addhandler_without_execcgi_is_403(server):
    r = server.get("/noexec/env.wsgi")
    assert r.status_code == 403
    assert b"environ" not in r.content


# ---- callable object ------------------------------------------------------------

def test_callable_object_option(server):
    r = server.get("/callable-opt")
    assert (r.status_code, r.content) == (200, b"custom_app")


def test_callable_object_directive_in_directory(server):
    r = server.get("/callable-dir")
    assert (r.status_code, r.content) == (200, b"custom_app")


def test_callable_object_directive_in_location(server):
    r = server.get("/callable-loc")
    assert (r.status_code, r.content) == (200, b"other_app")


# ---- Python path -------------------------------------------------------------------

def test_python_path_uses_addsitedir(server):
    doc = server.get_json("/sysinfo")
    assert doc["pathmod"] == "from-pylib"
    assert doc["pthmod"] == "from-pth", ".pth in GatewayPythonPath dir not processed"
    assert server.root + "/pylib" in doc["path"]


# ---- script reloading ---------------------------------------------------------------

def _write_app(path, text, mtime):
    with open(path, "w") as f:
        f.write("def application(environ, start_response):\n"
                "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                "    return [%r]\n" % text.encode())
    os.chmod(path, 0o644)
    os.utime(path, (mtime, mtime))


def _reload_case(srv, name):
    path = os.path.join(srv.root, "dyn", name + ".wsgi")
    now = time.time()
    _write_app(path, "v1", now - 100)
    import requests
    with requests.Session() as s:     # one keep-alive connection: one process
        r1 = s.get(srv.url("/dyn/" + name), timeout=15)
        assert (r1.status_code, r1.content) == (200, b"v1")
        _write_app(path, "v2", now - 50)
        r2 = s.get(srv.url("/dyn/" + name), timeout=15)
        assert r2.status_code == 200
        return r2.content


def test_script_reloading_default_on(server):
    assert _reload_case(server, "reload_on") == b"v2"


def test_script_reloading_off(server, make_server):
    srv = make_server("GatewayScriptReloading Off", server.mpm, server.mode)
    assert _reload_case(srv, "reload_off") == b"v1"


# ---- Python home: a virtualenv -------------------------------------------------

@pytest.fixture(scope="session")
def venv_dir():
    import tempfile
    import shutil
    d = tempfile.mkdtemp(prefix="gwtest-venv-", dir="/tmp")
    venv = os.path.join(d, "venv")
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", venv],
                   check=True, timeout=120)
    out = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                          "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True, timeout=60)
    site = out.stdout.strip()
    with open(os.path.join(site, "gwtest_venvmod.py"), "w") as f:
        f.write("VALUE = 'from-venv'\n")
    for dirpath, dirnames, filenames in os.walk(d):
        os.chmod(dirpath, 0o755)
    os.chmod(d, 0o755)
    yield venv
    shutil.rmtree(d, ignore_errors=True)


def test_python_home_venv(server, make_server, venv_dir):
    srv = make_server('GatewayPythonHome "%s"' % venv_dir, server.mpm, server.mode)
    r = srv.get("/sysinfo")
    assert r.status_code == 200, srv.error_log_text()[-3000:]
    doc = r.json()
    assert os.path.realpath(doc["prefix"]) == os.path.realpath(venv_dir)
    assert doc["venvmod"] == "from-venv"
    assert doc["pathmod"] == "from-pylib"


# ---- configuration errors (httpd -t), run once --------------------------------------

def test_configtest_baseline_ok():
    rc, out = configtest("")
    assert rc == 0, out
    for mode in MODES:
        for mpm in MPMS:
            rc, out = configtest("", mpm=mpm, mode=mode)
            assert rc == 0, (mpm, mode, out)


@pytest.mark.parametrize("extra,words", [
    ('GatewayScriptAlias /bad "/tmp/x.wsgi" bogus=1', ["GatewayScriptAlias", "bogus"]),
    ("GatewayPassAuthorization maybe", ["GatewayPassAuthorization", "maybe"]),
    ("GatewayScriptReloading maybe", ["GatewayScriptReloading", "maybe"]),
    ("GatewayApplicationGroup %{BOGUS}", ["GatewayApplicationGroup", "%{BOGUS}"]),
    ("GatewayScriptAlias /x", ["GatewayScriptAlias"]),
    ("<VirtualHost 127.0.0.1:1>\nServerName bad.test\nGatewayPythonHome /usr\n</VirtualHost>",
     ["GatewayPythonHome"]),
], ids=["alias-bogus-option", "passauth-maybe", "reloading-maybe",
        "appgroup-bogus", "alias-missing-path", "pythonhome-in-vhost"])
def test_configtest_rejects(extra, words):
    rc, out = configtest(extra)
    assert rc != 0, "httpd -t accepted:\n%s\n%s" % (extra, out)
    for w in words:
        assert w in out, "%r not in httpd -t output:\n%s" % (w, out)
