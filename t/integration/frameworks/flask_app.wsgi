"""Flask: JSON, form POST, session cookie, multipart upload, streaming."""
import hashlib
import time

import gwfw_common

gwfw_common.claim("flask")

from flask import (Flask, Response, jsonify, request, session,  # noqa: E402
                   stream_with_context, url_for)

app = Flask(__name__)
app.secret_key = "gwfw-flask-test-key"


@app.route("/api/info")
def info():
    return jsonify(framework="flask", method=request.method,
                   path=request.path, script_root=request.script_root,
                   url=request.url, q=request.args.get("q"),
                   url_for=url_for("info", q="z"))


@app.route("/api/echo", methods=["POST"])
def echo():
    data = request.get_json()
    return jsonify(received=data, content_type=request.content_type), 201


@app.route("/form", methods=["POST"])
def form():
    return jsonify(name=request.form["name"],
                   tags=request.form.getlist("tag"),
                   method=request.method)


@app.route("/session/set", methods=["POST"])
def session_set():
    session["value"] = request.form["value"]
    session["count"] = session.get("count", 0) + 1
    return jsonify(stored=session["value"])


@app.route("/session/get")
def session_get():
    return jsonify(value=session.get("value"), count=session.get("count"))


@app.route("/upload", methods=["POST"])
def upload():
    f = request.files["file"]
    data = f.read()
    return jsonify(filename=f.filename, mimetype=f.mimetype, size=len(data),
                   sha256=hashlib.sha256(data).hexdigest(),
                   note=request.form.get("note"))


@app.route("/stream")
def stream():
    n = int(request.args.get("n", "3"))
    pause = float(request.args.get("pause", "0.3"))

    def gen():
        for i in range(n):
            if i:
                time.sleep(pause)
            # request is only usable here thanks to stream_with_context
            yield "item %d of %d for %s\n" % (i + 1, n, request.args.get("who"))

    return Response(stream_with_context(gen()), mimetype="text/plain")


@app.route("/state")
def state():
    return jsonify(gwfw_common.state(request.environ))


application = app
