"""GatewayDaemonProcess and GatewayImportScript, end to end through
`httpd -t`: every option of mod_wsgi's WSGIDaemonProcess is accepted, and
every bad value is refused with a message naming the directive, the group,
the option and the value.

No server is started (no `server` fixture): each case writes a small
httpd.conf and runs `httpd -t -f` on it.

Environment: GW_MODULE (<repo>/.libs/mod_gateway.so), GW_HTTPD
(/usr/sbin/apache2), GW_MODULES_DIR (/usr/lib/apache2/modules).
"""
import grp
import os
import pathlib
import pwd
import re
import subprocess
import tempfile

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
GW_MODULE = os.environ.get("GW_MODULE") or str(REPO / ".libs" / "mod_gateway.so")
GW_HTTPD = os.environ.get("GW_HTTPD", "/usr/sbin/apache2")
MODULES_DIR = os.environ.get("GW_MODULES_DIR", "/usr/lib/apache2/modules")

RUN_USER = "www-data"
NOBODY = pwd.getpwnam("nobody")
NOBODY_GROUP = grp.getgrgid(NOBODY.pw_gid).gr_name
ROOT_USER = pwd.getpwuid(0).pw_name
ROOT_GROUP = grp.getgrgid(0).gr_name


def _builtin_modules():
    out = subprocess.run([GW_HTTPD, "-l"], capture_output=True, text=True,
                         timeout=30).stdout
    return set(re.findall(r"^\s*(\S+)\.c\s*$", out, re.M))


def _base_config(root):
    builtin = _builtin_modules()
    lines = ["ServerRoot %s" % root, "Listen 127.0.0.1:18999"]
    for name in ("mpm_event", "authz_core"):
        if "mod_" + name not in builtin:
            lines.append("LoadModule %s_module %s/mod_%s.so"
                         % (name, MODULES_DIR, name))
    lines += [
        "LoadModule gateway_module %s" % GW_MODULE,
        "ServerName localhost",
        "PidFile %s/httpd.pid" % root,
        "ErrorLog %s/error_log" % root,
        "User %s" % RUN_USER,
        "Group %s" % grp.getgrgid(pwd.getpwnam(RUN_USER).pw_gid).gr_name,
    ]
    return lines


def configtest(extra):
    """Runs `httpd -t` on the base config plus `extra` (a string); returns
    (returncode, output, path of the config, number of base lines)."""
    if not os.path.exists(GW_MODULE):
        pytest.fail("module not built: %s (run make first)" % GW_MODULE)
    root = tempfile.mkdtemp(prefix="gwtest-dc-")
    conf = os.path.join(root, "httpd.conf")
    base = _base_config(root)
    with open(conf, "w") as f:
        f.write("\n".join(base) + "\n" + extra + "\n")
    try:
        p = subprocess.run([GW_HTTPD, "-t", "-f", conf], capture_output=True,
                           text=True, timeout=30, errors="replace")
        return p.returncode, p.stdout + p.stderr, conf, len(base)
    finally:
        for name in os.listdir(root):
            os.unlink(os.path.join(root, name))
        os.rmdir(root)


def assert_ok(extra):
    rc, out, _, _ = configtest(extra)
    assert rc == 0 and "Syntax OK" in out, out


# ---- accepted -----------------------------------------------------------------

EVERY_OPTION = " ".join([
    "user=nobody",
    "group=%s" % NOBODY_GROUP,
    "supplementary-groups=%s,#4242" % NOBODY_GROUP,
    "processes=2",
    "threads=4",
    "umask=0027",
    "home=/tmp",
    "python-home=/opt/venv",
    "python-path=/srv/a:/srv/b",
    "python-path=/srv/c",
    "python-eggs=/tmp/eggs",
    "lang=C.UTF-8",
    "locale=C.UTF-8",
    "display-name=%{GROUP}",
    "chroot=/",
    "script-user=nobody",
    "socket-user=%s" % RUN_USER,
    "maximum-requests=1000",
    "restart-interval=3600",
    "startup-timeout=2.5",
    "shutdown-timeout=500ms",
    "deadlock-timeout=60s",
    "inactivity-timeout=120",
    "request-timeout=30",
    "graceful-timeout=10",
    "eviction-timeout=5",
    "connect-timeout=3",
    "socket-timeout=45",
    "queue-timeout=7",
    "response-socket-timeout=8",
    "listen-backlog=200",
    "socket-rotation=Off",
    "receive-buffer-size=64k",
    "send-buffer-size=131072",
    "header-buffer-size=32k",
    "response-buffer-size=1M",
    "memory-limit=512M",
    "virtual-memory-limit=2G",
    "cpu-time-limit=600",
    "cpu-priority=5",
    "stack-size=512k",
    "server-metrics=On",
    "python-optimize=1",
])


def test_every_option_accepted():
    assert_ok("GatewayDaemonProcess site " + EVERY_OPTION)


@pytest.mark.parametrize("extra", [
    "GatewayDaemonProcess site",
    "GatewayDaemonProcess site user=#%d" % NOBODY.pw_uid,
    "GatewayDaemonProcess site group=#%d" % NOBODY.pw_gid,
    "GatewayDaemonProcess site group=#4242",
    'GatewayDaemonProcess site "display-name=my site" threads=1000 processes=1',
    "GatewayDaemonProcess site maximum-requests=0 listen-backlog=65535 "
    "cpu-priority=-20 python-optimize=0 umask=0",
    "GatewayDaemonProcess site script-group=%s" % NOBODY_GROUP,
    "GatewayDaemonProcess site\n"
    "GatewayImportScript /srv/app.wsgi process-group=site "
    "application-group=%{GLOBAL}",
    "GatewayImportScript /srv/app.wsgi application-group=app "
    "process-group=%{GLOBAL}",
    # the import may come before the group it names
    "GatewayImportScript /srv/app.wsgi process-group=late "
    "application-group=x\nGatewayDaemonProcess late",
    "<VirtualHost *:18999>\nServerName v1\nGatewayDaemonProcess vsite\n"
    "GatewayImportScript /srv/v.wsgi process-group=vsite application-group=v"
    "\n</VirtualHost>",
], ids=["bare", "uid", "gid", "gid-without-entry", "quoted", "edges",
        "script-group", "import", "import-embedded", "import-before-group",
        "vhost"])
def test_accepted(extra):
    assert_ok(extra)


# ---- refused at parse time --------------------------------------------------------

GDP = "GatewayDaemonProcess site "

BAD = [
    ("unknown-option", GDP + "procesess=2",
     ["GatewayDaemonProcess site: unknown option 'procesess=2'", "processes="]),
    ("no-equals", GDP + "processes", ["GatewayDaemonProcess site", "processes"]),
    ("duplicate-option", GDP + "threads=2 threads=3",
     ["GatewayDaemonProcess site", "threads=", "more than once"]),
    ("threads-x", GDP + "threads=x", ["site", "'x'", "threads="]),
    ("threads-0", GDP + "threads=0", ["site", "'0'", "threads="]),
    ("threads-1001", GDP + "threads=1001", ["'1001'", "threads="]),
    ("processes-0", GDP + "processes=0", ["'0'", "processes="]),
    ("processes-junk", GDP + "processes=2x", ["'2x'", "processes="]),
    ("backlog-0", GDP + "listen-backlog=0", ["'0'", "listen-backlog="]),
    ("backlog-big", GDP + "listen-backlog=65536", ["listen-backlog="]),
    ("priority", GDP + "cpu-priority=20", ["'20'", "cpu-priority="]),
    ("optimize", GDP + "python-optimize=3", ["'3'", "python-optimize="]),
    ("max-requests-negative", GDP + "maximum-requests=-1",
     ["'-1'", "maximum-requests="]),
    ("max-requests-huge", GDP + "maximum-requests=99999999999999999999",
     ["maximum-requests="]),
    ("timeout-junk", GDP + "request-timeout=abc", ["'abc'", "request-timeout="]),
    ("timeout-negative", GDP + "socket-timeout=-1", ["'-1'", "socket-timeout="]),
    ("timeout-unit", GDP + "queue-timeout=5m", ["'5m'", "queue-timeout="]),
    ("size-junk", GDP + "memory-limit=12q", ["'12q'", "memory-limit="]),
    ("size-tiny", GDP + "memory-limit=100", ["'100'", "memory-limit="]),
    ("stack-tiny", GDP + "stack-size=1k", ["'1k'", "stack-size="]),
    ("buffer-tiny", GDP + "header-buffer-size=100", ["header-buffer-size="]),
    ("umask", GDP + "umask=0999", ["'0999'", "umask="]),
    ("flag", GDP + "server-metrics=maybe", ["'maybe'", "server-metrics="]),
    ("user-root", GDP + "user=%s" % ROOT_USER,
     ["GatewayDaemonProcess site: user=%s" % ROOT_USER, "refused",
      "never run as root"]),
    ("user-uid-0", GDP + "user=#0", ["user=#0", "refused", "root"]),
    ("group-root", GDP + "group=%s" % ROOT_GROUP,
     ["group=%s" % ROOT_GROUP, "refused"]),
    ("group-gid-0", GDP + "group=#0", ["group=#0", "refused"]),
    ("supplementary-root", GDP + "supplementary-groups=%s,%s"
     % (NOBODY_GROUP, ROOT_GROUP), ["supplementary-groups=", "refused"]),
    ("unknown-user", GDP + "user=no-such-user-gw", ["'no-such-user-gw'",
                                                    "user=", "no such user"]),
    ("numeric-user", GDP + "user=65534", ["'65534'", "user=", "#"]),
    ("unknown-group", GDP + "group=no-such-group-gw", ["no-such-group-gw",
                                                       "group="]),
    ("empty-user", GDP + "user=", ["user="]),
    ("home-relative", GDP + "home=srv", ["'srv'", "home=", "absolute"]),
    ("python-path-relative", GDP + "python-path=/a:b", ["python-path=", "'b'"]),
    ("chroot-missing", GDP + "chroot=/no/such/dir", ["chroot=", "directory"]),
    ("locale-missing", GDP + "locale=xx_YY.bogus", ["locale=", "locale"]),
    ("script-user-and-group", GDP + "script-user=nobody script-group=%s"
     % NOBODY_GROUP, ["script-user=", "script-group="]),
    ("duplicate-name", "GatewayDaemonProcess site\nGatewayDaemonProcess site",
     ["GatewayDaemonProcess site", "already used", "defined again"]),
    ("duplicate-name-vhost", "GatewayDaemonProcess site\n"
     "<VirtualHost *:18999>\nGatewayDaemonProcess site\n</VirtualHost>",
     ["already used"]),
    ("too-many-words", GDP + " ".join("python-path=/a%d" % i
                                      for i in range(70)),
     ["GatewayDaemonProcess site", "64 words"]),
    ("reserved-name", "GatewayDaemonProcess %{GLOBAL}", ["%{GLOBAL}"]),
    ("no-name", "GatewayDaemonProcess", ["GatewayDaemonProcess"]),
    ("in-directory", "<Directory /tmp>\nGatewayDaemonProcess site\n</Directory>",
     ["GatewayDaemonProcess", "not allowed"]),
    ("in-location", "<Location /x>\nGatewayDaemonProcess site\n</Location>",
     ["GatewayDaemonProcess", "not allowed"]),
    ("import-no-process-group",
     "GatewayImportScript /srv/app.wsgi application-group=%{GLOBAL}",
     ["GatewayImportScript", "process-group="]),
    ("import-no-application-group",
     "GatewayImportScript /srv/app.wsgi process-group=%{GLOBAL}",
     ["GatewayImportScript", "application-group="]),
    ("import-relative", "GatewayImportScript app.wsgi process-group=%{GLOBAL} "
     "application-group=%{GLOBAL}", ["GatewayImportScript", "absolute"]),
    ("import-server-group", "GatewayImportScript /srv/app.wsgi "
     "process-group=%{GLOBAL} application-group=%{SERVER}",
     ["application-group=", "%{SERVER}"]),
    ("import-unknown-option", "GatewayImportScript /srv/app.wsgi "
     "process-group=%{GLOBAL} application-group=x callable-object=app",
     ["GatewayImportScript", "callable-object=app"]),
    ("import-in-directory", "<Directory /tmp>\nGatewayImportScript /a.wsgi "
     "process-group=%{GLOBAL} application-group=x\n</Directory>",
     ["GatewayImportScript", "not allowed"]),
]


@pytest.mark.parametrize("extra,words", [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_refused(extra, words):
    rc, out, _, _ = configtest(extra)
    assert rc != 0, out
    assert "Syntax OK" not in out
    for w in words:
        assert w in out, "%r not in:\n%s" % (w, out)


def test_duplicate_name_names_both_places():
    rc, out, conf, nbase = configtest("GatewayDaemonProcess site\n"
                                      "GatewayDaemonProcess site")
    assert rc != 0
    assert "%s:%d" % (conf, nbase + 1) in out, out
    assert "%s:%d" % (conf, nbase + 2) in out, out


# ---- refused once the whole configuration is known (gw_group_finish) ----------------

FINISH_BAD = [
    ("import-unknown-group", "GatewayImportScript /srv/app.wsgi "
     "process-group=nosuch application-group=x",
     ["GatewayImportScript /srv/app.wsgi", "nosuch"]),
    ("import-other-vhost",
     "<VirtualHost *:18999>\nServerName v1\nGatewayDaemonProcess vsite\n"
     "</VirtualHost>\nGatewayImportScript /srv/app.wsgi process-group=vsite "
     "application-group=x", ["GatewayImportScript /srv/app.wsgi", "vsite"]),
]


@pytest.mark.parametrize("extra,words", [b[1:] for b in FINISH_BAD],
                         ids=[b[0] for b in FINISH_BAD])
def test_refused_after_reading(extra, words):
    """gw_group_finish errors: shown by `httpd -t` only when the module
    calls it from the check_config hook (post_config does not run under
    -t)."""
    rc, out, _, _ = configtest(extra)
    assert rc != 0, out
    for w in words:
        assert w in out, "%r not in:\n%s" % (w, out)
