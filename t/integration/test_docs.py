"""The reference docs match the source: every directive, log tag and environ
key the C code defines is documented, and the log-tag page lists no tag the
code no longer emits.

Reads files only: no httpd, and no fixture from conftest.py.
"""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "mod_gateway"
DOCS = REPO / "docs"

# "GatewayFoo" as the first argument of an AP_INIT_* entry, or of the
# GW_DIR_FLAG() wrapper gw_config.c uses for its On|Off directives.
DIRECTIVE_RE = re.compile(r'\b(?:AP_INIT_[A-Z0-9_]+|GW_DIR_FLAG)\s*\(\s*"(Gateway\w+)"')
# A tag that starts a C string literal: "GW0203" or "GW0220: [%s] ...".
# Tags quoted inside a message or a comment ("see GW0101") are references,
# not emitted tags.
EMITTED_TAG_RE = re.compile(r'"(GW\d{4})\b')
ANY_TAG_RE = re.compile(r"\bGW\d{4}\b")
# add(env, "KEY", ...) in gw_environ.c
ENVIRON_ADD_RE = re.compile(r'\badd\(\s*env\s*,\s*"([^"]+)"')
# the server-computed keys SetEnv cannot override, in gw_environ.c
SERVER_KEYS_RE = re.compile(r"server_keys\[\]\s*=\s*\{(.*?)\};", re.S)
# set_key(interp, d, "wsgi.version", ...) in gw_adapter.c
ADAPTER_KEY_RE = re.compile(r'\bset_key\(\s*\w+\s*,\s*\w+\s*,\s*"([^"]+)"')
DIRECTIVE_HEADING_RE = re.compile(r"^##\s+(Gateway\w+)\s*$", re.M)


def _read(path):
    return path.read_text(encoding="utf-8")


def _c_sources():
    files = sorted(SRC.glob("*.c"))
    assert files, "no C sources under %s" % SRC
    return files


def _directives():
    names = DIRECTIVE_RE.findall(_read(SRC / "gw_config.c"))
    assert names, "no AP_INIT_*(\"Gateway...\") entries found in gw_config.c"
    return names


def _emitted_tags():
    tags = {}
    for path in _c_sources():
        for tag in EMITTED_TAG_RE.findall(_read(path)):
            tags.setdefault(tag, set()).add(path.name)
    assert tags, "no GWnnnn tags found in mod_gateway/*.c"
    return tags


def _environ_keys():
    src = _read(SRC / "gw_environ.c")
    keys = set(ENVIRON_ADD_RE.findall(src))
    assert keys, "no add(env, \"KEY\", ...) calls found in gw_environ.c"
    m = SERVER_KEYS_RE.search(src)
    if m:   # CONTENT_TYPE/LENGTH come from headers but are listed there
        keys |= set(re.findall(r'"([^"]+)"', m.group(1)))
    wsgi = {k for k in ADAPTER_KEY_RE.findall(_read(SRC / "gw_adapter.c"))}
    assert any(k.startswith("wsgi.") for k in wsgi), \
        "no set_key(..., \"wsgi.*\", ...) calls found in gw_adapter.c"
    return keys | wsgi


def _section(text, title):
    """The text of the '## title' section, up to the next '## ' heading."""
    m = re.search(r"^##\s+%s\s*$(.*?)(?=^##\s|\Z)" % re.escape(title), text,
                  re.M | re.S)
    return m.group(1) if m else None


# ---- directives ---------------------------------------------------------

def test_every_directive_has_a_heading():
    doc = _read(DOCS / "directives.md")
    documented = set(DIRECTIVE_HEADING_RE.findall(doc))
    missing = sorted(set(_directives()) - documented)
    assert not missing, ("directives in gw_config_cmds without a '## <Name>' "
                         "heading in docs/directives.md: %s" % missing)


def test_no_heading_for_a_directive_that_does_not_exist():
    doc = _read(DOCS / "directives.md")
    stale = sorted(set(DIRECTIVE_HEADING_RE.findall(doc)) - set(_directives()))
    assert not stale, ("docs/directives.md documents directives that are not "
                       "in gw_config_cmds (move them to 'Not yet available' "
                       "or remove them): %s" % stale)


def test_not_yet_available_lists_no_implemented_directive():
    doc = _read(DOCS / "directives.md")
    section = _section(doc, "Not yet available")
    assert section is not None, "docs/directives.md has no '## Not yet available' section"
    # the name that starts each bullet ("- `GatewayDaemonProcess` (...)");
    # names mentioned later in a bullet's text are not the listed item
    listed = set(re.findall(r"^\s*[-*]\s+`(Gateway\w+)`", section, re.M))
    assert listed, "no '- `GatewayName`' bullets under 'Not yet available'"
    done = sorted(listed & set(_directives()))
    assert not done, ("directives listed under 'Not yet available' are "
                      "implemented now; document them: %s" % done)


# ---- log tags -----------------------------------------------------------

def test_every_emitted_tag_is_documented():
    doc_tags = set(ANY_TAG_RE.findall(_read(DOCS / "log-tags.md")))
    missing = {t: sorted(f) for t, f in _emitted_tags().items()
               if t not in doc_tags}
    assert not missing, ("log tags used in mod_gateway/*.c but missing from "
                         "docs/log-tags.md: %s" % missing)


def test_every_emitted_tag_has_a_table_row():
    doc = _read(DOCS / "log-tags.md")
    rows = set(re.findall(r"^\|\s*`(GW\d{4})`\s*\|", doc, re.M))
    missing = sorted(set(_emitted_tags()) - rows)
    assert not missing, ("log tags without a '| `GWnnnn` | ...' row in "
                         "docs/log-tags.md: %s" % missing)


def test_no_stale_tag_in_docs():
    doc_tags = set(ANY_TAG_RE.findall(_read(DOCS / "log-tags.md")))
    stale = sorted(doc_tags - set(_emitted_tags()))
    assert not stale, ("docs/log-tags.md mentions tags that mod_gateway/*.c "
                       "no longer emits: %s" % stale)


# ---- environ ----------------------------------------------------------------

def test_every_environ_key_is_documented():
    doc = _read(DOCS / "environ.md")
    missing = sorted(k for k in _environ_keys() if "`%s`" % k not in doc)
    assert not missing, ("environ keys set in gw_environ.c / gw_adapter.c "
                         "but missing from docs/environ.md (as `KEY`): %s"
                         % missing)


@pytest.mark.parametrize("key", ["wsgi.version", "wsgi.input", "wsgi.errors",
                                 "wsgi.url_scheme", "mod_gateway.request_id"])
def test_parsers_find_known_keys(key):
    """Guards the regexes above: if the source is rewritten so that they
    stop matching, the tests must not pass by finding nothing."""
    assert key in _environ_keys()
