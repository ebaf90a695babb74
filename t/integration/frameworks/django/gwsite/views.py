import os

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse

import gwfw_common


class MarkerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-GW-Django"] = str(os.getpid())
        return response


def info(request):
    return JsonResponse({
        "framework": "django",
        "method": request.method,
        "path": request.path,
        "path_info": request.path_info,
        "script_name": request.META.get("SCRIPT_NAME"),
        "script_prefix": get_script_prefix(),
        "reverse": reverse("info"),
        "q": request.GET.get("q"),
        "host": request.get_host(),
        "absolute": request.build_absolute_uri("/x"),
    })


def state(request):
    return JsonResponse(gwfw_common.state(request.META))


def form(request):
    if request.method == "POST":
        name = request.POST.get("name", "")
        messages.success(request, "saved %s" % name)
        return HttpResponse("form ok: %s\n" % name, content_type="text/plain")
    return render(request, "form.html", {})


def flash(request):
    # messages stored in the session by a POST, shown by a GET
    if request.method == "POST":
        messages.info(request, "flash:%s" % request.POST.get("text", ""))
        return redirect("flash")
    return HttpResponse("".join("%s\n" % m for m in messages.get_messages(request)),
                        content_type="text/plain")
