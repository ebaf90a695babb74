"""Paste: a URLMap of two prefixes, one a Cascade of two apps with
catch=(404,), the other an app under paste.lint; the whole map under
paste.lint too, so every request mod_gateway hands over is checked
(lint raises AssertionError on a violation; its WSGIWarnings are made
errors here)."""
import warnings

import gwfw_common

gwfw_common.claim("paste")

import paste.lint  # noqa: E402
from paste.cascade import Cascade  # noqa: E402
from paste.urlmap import URLMap  # noqa: E402

import gwfw_paste  # noqa: E402

warnings.simplefilter("error", paste.lint.WSGIWarning)

mapping = URLMap()
mapping["/cascade"] = Cascade([gwfw_paste.first, gwfw_paste.second], catch=(404,))
mapping["/echo"] = paste.lint.middleware(gwfw_paste.echo)
mapping["/state"] = gwfw_paste.state

application = paste.lint.middleware(mapping)
