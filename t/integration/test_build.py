"""The build: configure's errors for a Python that cannot be embedded, and
`make install DESTDIR=...` through apxs. Runs against a copy of the source
tree, so the developer's build is untouched."""
import os
import shutil
import subprocess
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def srcdir():
    tmp = tempfile.mkdtemp(prefix="gwbuild-")
    src = os.path.join(tmp, "src")
    files = subprocess.run(["git", "-C", REPO, "ls-files"], capture_output=True,
                           text=True, check=True).stdout.split("\n")
    for rel in filter(None, files):
        if not os.path.exists(os.path.join(REPO, rel)):
            continue
        os.makedirs(os.path.join(src, os.path.dirname(rel)), exist_ok=True)
        shutil.copy2(os.path.join(REPO, rel), os.path.join(src, rel))
    subprocess.run(["autoreconf", "-fi"], cwd=src, check=True,
                   capture_output=True)
    yield src
    shutil.rmtree(tmp, ignore_errors=True)


def configure(src, *args):
    return subprocess.run(["./configure"] + list(args), cwd=src,
                          capture_output=True, text=True)


def test_static_python_is_refused_with_a_clear_error(srcdir, tmp_path):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\n"
                    "case \"$2\" in *Py_ENABLE_SHARED*) echo 0; exit 0;; esac\n"
                    "exec /usr/bin/python3 \"$@\"\n")
    fake.chmod(0o755)
    r = configure(srcdir, "--with-python=%s" % fake)
    assert r.returncode != 0
    assert "without a shared libpython" in r.stderr, r.stderr[-2000:]


def test_missing_python_is_refused(srcdir):
    r = configure(srcdir, "--with-python=/nonexistent/python3")
    assert r.returncode != 0
    assert "not found" in r.stderr


def test_make_install_honours_destdir(srcdir, tmp_path):
    r = configure(srcdir, "--with-python=/usr/bin/python3", "--enable-werror")
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run(["make", "-j2"], cwd=srcdir, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    dest = tmp_path / "root"
    r = subprocess.run(["make", "install", "DESTDIR=%s" % dest], cwd=srcdir,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    apxs_libexec = subprocess.run(["apxs", "-q", "LIBEXECDIR"],
                                  capture_output=True, text=True).stdout.strip()
    so = dest / apxs_libexec.lstrip("/") / "mod_gateway.so"
    assert so.exists()
    # the Python half goes next to it; only it links libpython
    pyso = so.parent / "mod_gateway_python.so"
    assert pyso.exists()
    ldd = lambda p: subprocess.run(["ldd", str(p)], capture_output=True,
                                   text=True).stdout
    assert "libpython" not in ldd(so)
    assert "libpython" in ldd(pyso)
    load = dest / "etc/apache2/mods-available/gateway.load"
    assert "LoadModule gateway_module" in load.read_text()
    assert (dest / "etc/apache2/mods-available/gateway.conf").exists()
    # The installed module loads into a real httpd (config test).
    conf = tmp_path / "t.conf"
    conf.write_text("ServerRoot %s\nListen 127.0.0.1:1\nServerName localhost\n"
                    "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
                    "LoadModule gateway_module %s\nPidFile %s/p\nErrorLog %s/e\n"
                    % (tmp_path, so, tmp_path, tmp_path))
    r = subprocess.run(["/usr/sbin/apache2", "-t", "-f", str(conf)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
