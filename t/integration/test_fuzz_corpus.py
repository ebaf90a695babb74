"""The fuzz corpus as a regression suite: every t/fuzz/fuzz_*.c target is
built with t/fuzz/replay.c (a plain main, no libFuzzer) under ASan+UBSan,
and every file of t/fuzz/corpus/<target>/ and t/fuzz/crashers/<target>/
is run through it once. A crash, a sanitizer report or an oracle abort
fails the test, with the name of the input (the last "replay:" line).

No httpd is started; it takes seconds. The compiler is $GW_FUZZ_CC, else
the first of clang-14, clang, gcc found (all of them have ASan and UBSan).
See t/fuzz/README.md.
"""
import concurrent.futures
import os
import pathlib
import re
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
FUZZ = REPO / "t" / "fuzz"
TARGETS = sorted(p.stem for p in FUZZ.glob("fuzz_*.c"))

CFLAGS = ["-g", "-O1", "-fno-omit-frame-pointer", "-Wall", "-Wextra",
          "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
          "-I", str(REPO / "mod_gateway")]
SOURCES_RE = re.compile(r"^ \* Sources: (.*)$", re.M)

# Limits that keep the committed corpus cheap to replay and to review.
MAX_FILES = 500
MAX_BYTES = 2 * 1024 * 1024

SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}


def compiler():
    wanted = os.environ.get("GW_FUZZ_CC")
    for cc in ([wanted] if wanted else ["clang-14", "clang", "gcc"]):
        if shutil.which(cc):
            return cc
    return None


def sources_of(target):
    text = (FUZZ / (target + ".c")).read_text()
    m = SOURCES_RE.search(text)
    assert m, "%s.c has no ' * Sources:' header line" % target
    return [str(REPO / s) for s in m.group(1).split()]


@pytest.fixture(scope="module")
def replay_bins(tmp_path_factory):
    cc = compiler()
    if cc is None:
        pytest.skip("no C compiler with ASan (set GW_FUZZ_CC)")
    out = tmp_path_factory.mktemp("fuzz-replay")

    def build(target):
        binary = out / target
        cmd = ([cc] + CFLAGS + ["-o", str(binary), str(FUZZ / "replay.c"),
                                str(FUZZ / (target + ".c"))]
               + sources_of(target))
        res = subprocess.run(cmd, capture_output=True, text=True)
        return target, binary, res

    bins, errors = {}, []
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        for target, binary, res in ex.map(build, TARGETS):
            if res.returncode != 0:
                errors.append("%s:\n%s" % (target, res.stderr[-3000:]))
            bins[target] = binary
    assert not errors, "building the replay targets failed:\n" + "\n".join(errors)
    return bins


def test_every_target_has_corpus_crashers_and_dict():
    assert TARGETS, "no t/fuzz/fuzz_*.c targets"
    for t in TARGETS:
        corpus = FUZZ / "corpus" / t
        assert corpus.is_dir() and any(corpus.iterdir()), "%s: empty corpus" % t
        assert (FUZZ / "crashers" / t).is_dir(), "%s: no crashers dir" % t
        assert (FUZZ / "dict" / (t + ".dict")).is_file(), "%s: no dict" % t


@pytest.mark.parametrize("target", TARGETS)
def test_corpus_is_small(target):
    files = [p for p in (FUZZ / "corpus" / target).iterdir() if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    assert len(files) < MAX_FILES, "%s: %d corpus files; minimize it " \
        "(t/fuzz/README.md)" % (target, len(files))
    assert size < MAX_BYTES, "%s: corpus is %d bytes" % (target, size)


@pytest.mark.parametrize("target", TARGETS)
def test_corpus_and_crashers_replay_clean(replay_bins, target):
    dirs = [FUZZ / "corpus" / target, FUZZ / "crashers" / target]
    env = dict(os.environ, **SAN_ENV)
    res = subprocess.run([str(replay_bins[target])] + [str(d) for d in dirs
                                                       if d.is_dir()],
                         capture_output=True, text=True, env=env, timeout=300)
    lines = res.stderr.splitlines()
    inputs = [l for l in lines if l.startswith("replay: ") and "(" in l]
    expected = sum(1 for d in dirs if d.is_dir() for p in d.iterdir()
                   if p.is_file() and not p.name.startswith("."))
    if res.returncode != 0:
        culprit = inputs[-1] if inputs else "(before the first input)"
        pytest.fail("%s failed on %s (exit %d):\n%s" % (
            target, culprit, res.returncode, "\n".join(lines[-60:])),
            pytrace=False)
    assert len(inputs) == expected, res.stderr[-2000:]
    bad = [l for l in lines if "runtime error:" in l or "Sanitizer" in l]
    assert not bad, "\n".join(bad[:20])
