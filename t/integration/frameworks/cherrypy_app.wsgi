"""CherryPy: two applications mounted with cherrypy.tree.mount, served by
cherrypy.tree (the engine is never started)."""
import gwfw_common

gwfw_common.claim("cherrypy")

import cherrypy  # noqa: E402

cherrypy.config.update({"engine.autoreload.on": False, "checker.on": False,
                        "log.screen": False, "environment": "embedded"})


class Root:
    @cherrypy.expose
    def index(self):
        return "cherrypy root\n"

    @cherrypy.expose
    def hello(self, name="world"):
        cherrypy.response.headers["Content-Type"] = "text/plain"
        return "Hello %s from cherrypy (script_name=%s, path_info=%s)\n" % (
            name, cherrypy.request.script_name, cherrypy.request.path_info)

    @cherrypy.expose
    @cherrypy.tools.json_out()
    def submit(self, **kw):
        if cherrypy.request.method != "POST":
            raise cherrypy.HTTPError(405)
        body = cherrypy.request.body
        return {"fields": kw, "method": cherrypy.request.method,
                "content_type": str(body.content_type)}

    @cherrypy.expose
    @cherrypy.tools.json_out()
    def state(self):
        return gwfw_common.state(cherrypy.request.wsgi_environ)


class Api:
    @cherrypy.expose
    @cherrypy.tools.json_out()
    @cherrypy.tools.json_in()
    def echo(self):
        return {"received": cherrypy.request.json, "app": "api",
                "script_name": cherrypy.request.script_name}


# SCRIPT_NAME is /cherrypy: cherrypy.tree finds the app by the full path,
# so the mount points include it.
cherrypy.tree.mount(Root(), "/cherrypy")
cherrypy.tree.mount(Api(), "/cherrypy/api")

application = cherrypy.tree
