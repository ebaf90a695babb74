"""Pyramid: Configurator, JSON renderer, a route with a matchdict, POST."""
import gwfw_common

gwfw_common.claim("pyramid")

from pyramid.config import Configurator  # noqa: E402
from pyramid.response import Response  # noqa: E402


def info(request):
    return {"framework": "pyramid", "method": request.method,
            "path": request.path, "script_name": request.script_name,
            "path_info": request.path_info, "q": request.params.get("q"),
            "item_url": request.route_url("item", id="abc")}


def item(request):
    return {"id": request.matchdict["id"],
            "sub": request.matchdict.get("sub"),
            "route": request.matched_route.name}


def create(request):
    if request.content_type == "application/json":
        body = request.json_body
    else:
        body = dict(request.POST)
    request.response.status = 201
    return {"created": body, "method": request.method}


def text(request):
    return Response("plain pyramid text\n", content_type="text/plain")


def state(request):
    return gwfw_common.state(request.environ)


with Configurator() as config:
    config.add_route("info", "/api/info")
    config.add_route("item", "/items/{id}")
    config.add_route("subitem", "/items/{id}/{sub}")
    config.add_route("create", "/items", request_method="POST")
    config.add_route("text", "/text")
    config.add_route("state", "/state")
    config.add_view(info, route_name="info", renderer="json")
    config.add_view(item, route_name="item", renderer="json")
    config.add_view(item, route_name="subitem", renderer="json")
    config.add_view(create, route_name="create", renderer="json")
    config.add_view(text, route_name="text")
    config.add_view(state, route_name="state", renderer="json")
    application = config.make_wsgi_app()
