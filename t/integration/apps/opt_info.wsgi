"""Reports what a daemon process looks like from inside (ids, groups,
cwd, sys.prefix, LANG/LC_ALL and the C locale, umask, rlimits, the
wsgi.multithread/multiprocess flags) as JSON; used by
test_daemon_options.py.

Query: touch=NAME creates GW_TMP/NAME with mode 0666 (so the umask shows
in its mode); import=MODULE imports MODULE and reports its VALUE."""
import json
import locale
import os
import resource
import stat
import sys
from urllib.parse import parse_qs


def _rlimit(res):
    soft, hard = resource.getrlimit(res)
    return [soft, hard]


def application(environ, start_response):
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    mask = os.umask(0)
    os.umask(mask)
    doc = {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "resuid": list(os.getresuid()),
        "resgid": list(os.getresgid()),
        "groups": sorted(os.getgroups()),
        "cwd": os.getcwd(),
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "LANG": os.environ.get("LANG"),
        "LC_ALL": os.environ.get("LC_ALL"),
        "locale": locale.setlocale(locale.LC_ALL),
        "umask": mask,
        "rlimit_data": _rlimit(resource.RLIMIT_DATA),
        "rlimit_cpu": _rlimit(resource.RLIMIT_CPU),
        "multithread": environ["wsgi.multithread"],
        "multiprocess": environ["wsgi.multiprocess"],
        "process_group": environ.get("mod_gateway.process_group"),
    }
    if "touch" in qs:
        path = os.path.join(environ["GW_TMP"], qs["touch"][0])
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.close(fd)
        doc["touched_mode"] = stat.S_IMODE(os.stat(path).st_mode)
    if "import" in qs:
        try:
            doc["imported"] = __import__(qs["import"][0]).VALUE
        except ImportError as e:
            doc["imported"] = "ImportError: %s" % e
    data = json.dumps(doc).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]
