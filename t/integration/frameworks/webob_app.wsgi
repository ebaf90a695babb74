"""WebOb: a webob.dec.wsgify app using Request and Response."""
import json

import gwfw_common

gwfw_common.claim("webob")

from webob import Response  # noqa: E402
from webob.dec import wsgify  # noqa: E402
from webob.exc import HTTPMethodNotAllowed, HTTPNotFound  # noqa: E402


@wsgify
def application(req):
    if req.path_info == "/query":
        return Response(json_body={
            "framework": "webob", "a": req.GET.get("a"),
            "b": req.GET.getall("b"), "script_name": req.script_name,
            "path_info": req.path_info, "application_url": req.application_url,
            "path_url": req.path_url})
    if req.path_info == "/post":
        if req.method != "POST":
            raise HTTPMethodNotAllowed()
        resp = Response(content_type="application/json", charset="utf-8")
        resp.text = json.dumps({"name": req.POST.get("name"),
                                "tags": req.POST.getall("tag"),
                                "content_length": req.content_length})
        resp.status = 201
        return resp
    if req.path_info == "/state":
        return Response(json_body=gwfw_common.state(req.environ))
    raise HTTPNotFound()
