"""Allocates mb MiB (bytearray) and answers its pid; a MemoryError is left
to propagate (500). Used by test_daemon_options.py (memory-limit)."""
import json
import os
from urllib.parse import parse_qs


def application(environ, start_response):
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    buf = bytearray(int(qs.get("mb", ["1"])[0]) * 1024 * 1024)
    data = json.dumps({"pid": os.getpid(), "len": len(buf)}).encode()
    del buf
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]
