"""web.py: web.application(urls, globals()).wsgifunc()."""
import json

import gwfw_common

gwfw_common.claim("web")

import web  # noqa: E402

urls = (
    "/hello/(.+)", "Hello",
    "/submit", "Submit",
    "/state", "State",
)


class Hello:
    def GET(self, name):
        web.header("Content-Type", "text/plain; charset=utf-8")
        return "Hello %s from web.py (homepath=%s, path=%s, q=%s)\n" % (
            name, web.ctx.homepath, web.ctx.path, web.input(q=None).q)


class Submit:
    def POST(self):
        i = web.input(tag=[])
        web.header("Content-Type", "application/json")
        return json.dumps({"name": i.name, "tags": list(i.tag),
                           "method": web.ctx.method})


class State:
    def GET(self):
        web.header("Content-Type", "application/json")
        return json.dumps(gwfw_common.state(web.ctx.environ))


app = web.application(urls, globals())
application = app.wsgifunc()
