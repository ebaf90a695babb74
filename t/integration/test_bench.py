"""bench/run --quick: the benchmark harness starts its five private httpds
(static, mod_wsgi embedded/daemon, mod_gateway embedded/daemon), runs every
workload once, stops everything and writes a valid report.

Checks the harness, never the speed: no assertion on any ratio or target.
Takes about 30-60 s. Needs wrk and mod_wsgi (libapache2-mod-wsgi-py3).
"""
import json
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(REPO, "bench", "run")
WRK = os.environ.get("BENCH_WRK", "/usr/bin/wrk")
WSGI_MODULE = os.environ.get("BENCH_WSGI_MODULE", "/usr/lib/apache2/modules/mod_wsgi.so")

CONFIGS = ["static", "mod_wsgi-embedded", "mod_wsgi-daemon",
           "gateway-embedded", "gateway-daemon"]
WORKLOADS = ["hello", "post100k", "big1m", "file50m", "sleep10ms"]
PAIRS = ["gateway-embedded/mod_wsgi-embedded", "gateway-daemon/mod_wsgi-daemon",
         "gateway-embedded/static", "gateway-daemon/static"]


def _gwtmp_roots():
    return {d for d in os.listdir("/tmp") if d.startswith("gwbench-")}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    for path, what in [(WRK, "wrk"), (WSGI_MODULE, "mod_wsgi")]:
        if not os.path.exists(path):
            pytest.skip("%s not installed (%s)" % (what, path))
    out = tmp_path_factory.mktemp("bench")
    json_path, md_path = out / "quick.json", out / "quick.md"
    before = _gwtmp_roots()
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    p = subprocess.run([python, RUN, "--quick", "--json", str(json_path),
                        "--md", str(md_path)],
                       capture_output=True, text=True, timeout=600, errors="replace")
    return p, json_path, md_path, _gwtmp_roots() - before


def test_quick_exits_zero(quick_run):
    p, _, _, _ = quick_run
    assert p.returncode == 0, "bench/run --quick failed (rc %d)\n--- stdout ---\n%s\n" \
        "--- stderr ---\n%s" % (p.returncode, p.stdout[-6000:], p.stderr[-6000:])


def test_quick_json_is_complete(quick_run):
    _, json_path, _, _ = quick_run
    doc = json.loads(json_path.read_text())
    assert doc["ok"] is True, doc["errors"]
    assert doc["errors"] == []
    s = doc["settings"]
    assert s["quick"] is True and s["rounds"] == 1
    assert s["configs"] == CONFIGS
    assert s["workloads"] == WORKLOADS
    # the reduced file is marked as such
    assert s["file_reduced"] is True
    assert doc["workloads"]["file50m"]["file_bytes"] == 5 * 1024 * 1024
    for w in WORKLOADS:
        assert set(doc["results"][w]) == set(CONFIGS), w
        for c in CONFIGS:
            r = doc["results"][w][c]
            assert len(r["samples"]) == 1, (w, c, r)
            sample = r["samples"][0]
            assert sample["errors"] == [], (w, c, sample)
            assert sample["requests"] > 0, (w, c, sample)
            assert sample["rps"] > 0 and r["median"]["rps"] > 0, (w, c, r)
            assert sample.get("cpu_us_per_req") is not None, (w, c, sample)
        for pair in PAIRS:
            if w == "sleep10ms" and pair.endswith("/static"):
                continue        # the static twin does not sleep: no ratio
            assert doc["ratios"][w][pair]["rps_ratio"] is not None, (w, pair)
            assert doc["ratios"][w][pair]["cpu_per_req_ratio"] is not None, (w, pair)
    for c in CONFIGS:
        assert doc["startup"][c]["median_s"] > 0, c
        mem = doc["memory"][c]
        assert mem["children"]["count"] == 2 and mem["children"]["rss_kb_mean"] > 0, (c, mem)
        if c.endswith("daemon"):
            assert mem["daemons"]["count"] == 2, (c, mem)
            assert mem["daemons"]["pss_kb_total"] > 0, (c, mem)
        else:
            assert "daemons" not in mem, (c, mem)
    # targets are reported (pass or fail), never missing
    assert len(doc["targets"]) == 10
    for t in doc["targets"]:
        assert t["pass"] in (True, False), t


def test_quick_markdown_written(quick_run):
    p, _, md_path, _ = quick_run
    md = md_path.read_text()
    assert md.startswith("# mod_gateway benchmark")
    for w in WORKLOADS:
        assert "## %s" % w in md
    assert "## Targets" in md
    assert "Result: **OK**" in md
    assert md in p.stdout             # the same table went to stdout


def test_quick_leaves_nothing_behind(quick_run):
    p, _, _, new_roots = quick_run
    m = re.search(r"server roots under (/tmp/gwbench-\S+)", p.stderr)
    assert m, p.stderr[-3000:]
    workdir = m.group(1)
    assert not os.path.exists(workdir), "server roots left behind: %s" % workdir
    assert not new_roots, "server roots left under /tmp: %s" % sorted(new_roots)
    leftovers = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("latin-1")
        except OSError:
            continue
        if workdir in cmd:
            leftovers.append((d, cmd))
    assert not leftovers, "processes outlived bench/run: %r" % leftovers
