"""Whether PyGILState_Ensure() would find this thread's current thread
state (test_interpreters.py): compares PyGILState_GetThisThreadState()
with PyThreadState_Get() through ctypes. When they differ, an extension
calling PyGILState_Ensure() here would wait for the GIL this thread
already holds (a deadlock), so it is not called."""
import ctypes
import json
import os
import threading

_api = ctypes.pythonapi
_api.PyGILState_GetThisThreadState.restype = ctypes.c_void_p
_api.PyThreadState_Get.restype = ctypes.c_void_p


def application(environ, start_response):
    this = _api.PyGILState_GetThisThreadState()
    cur = _api.PyThreadState_Get()
    doc = {"pid": os.getpid(), "tid": threading.get_ident(),
           "group": environ.get("mod_gateway.application_group"),
           "gilstate": this, "current": cur, "same": this == cur}
    data = json.dumps(doc).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]
