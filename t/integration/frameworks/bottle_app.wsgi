"""Bottle: routes, request.json, request.forms, template-less responses."""
import gwfw_common

gwfw_common.claim("bottle")

import bottle  # noqa: E402

app = bottle.Bottle()


@app.route("/hello/<name>", name="hello")
def hello(name):
    bottle.response.content_type = "text/plain; charset=utf-8"
    bottle.response.set_header("X-Bottle", "yes")
    return "Hello %s from bottle\n" % name


@app.route("/api/info")
def info():
    # a dict is turned into JSON by bottle itself
    req = bottle.request
    return {"framework": "bottle", "method": req.method, "path": req.path,
            "script_name": req.script_name, "fullpath": req.fullpath,
            "q": req.query.get("q"), "url": req.url,
            "hello_url": app.get_url("hello", name="x")}


@app.post("/api/json")
def post_json():
    data = bottle.request.json
    if data is None:
        bottle.abort(400, "JSON expected")
    return {"received": data, "keys": sorted(data)}


@app.post("/form")
def post_form():
    f = bottle.request.forms
    return {"name": f.getunicode("name"), "tags": f.getall("tag")}


@app.route("/state")
def state():
    return gwfw_common.state(bottle.request.environ)


application = app
