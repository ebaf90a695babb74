"""Falcon: falcon.App() with resources, on_get/on_post, JSON media."""
import gwfw_common

gwfw_common.claim("falcon")

import falcon  # noqa: E402


class ThingsResource:
    def __init__(self):
        self.things = {}

    def on_get(self, req, resp, tid):
        resp.media = {"framework": "falcon", "tid": tid, "q": req.get_param("q"),
                      "path": req.path, "relative_uri": req.relative_uri,
                      "app": req.app, "uri": req.uri}

    def on_post(self, req, resp, tid):
        doc = req.get_media()
        resp.status = falcon.HTTP_201
        resp.media = {"tid": tid, "received": doc}


class StateResource:
    def on_get(self, req, resp):
        resp.media = gwfw_common.state(req.env)


app = falcon.App()
app.add_route("/things/{tid}", ThingsResource())
app.add_route("/state", StateResource())
application = app
