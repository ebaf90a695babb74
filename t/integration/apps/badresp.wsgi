"""Wrong types and invalid responses; PATH_INFO picks the fault. When the
fault is in start_response, the outcome (RAISED Type: message / ACCEPTED)
goes to GW_TMP/sr-TOKEN and the exception propagates."""
import os

BAD_STATUS = ["200OK", "99 X", "600 X", "100 Continue", "200 OK\r\nX: y"]
HOP = {"Connection": "close", "Transfer-Encoding": "chunked",
       "Keep-Alive": "timeout=5", "Upgrade": "websocket"}


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    t = environ["QUERY_STRING"][2:]
    status, headers = "200 OK", [("Content-Type", "text/plain")]
    if path == "/str_item":
        start_response(status, headers)
        return ["a str, not bytes"]
    if path == "/str_result":
        start_response(status, headers)
        return "a str as the whole result"
    if path == "/bytes_name":
        headers.append((b"X-Bytes", "v"))
    elif path == "/nonlatin":
        headers.append(("X-Euro", "price \u20ac"))
    elif path == "/newline":
        headers.append(("X-Bad", "a\nInjected: yes"))
    elif path.startswith("/status/"):
        status = BAD_STATUS[int(path[len("/status/"):])]
    elif path.startswith("/hop/"):
        name = path[len("/hop/"):]
        headers.append((name, HOP[name]))
    marker = os.path.join(environ["GW_TMP"], "sr-" + t)
    try:
        start_response(status, headers)
    except Exception as e:
        with open(marker, "w") as f:
            f.write("RAISED %s: %s\n" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
        raise
    with open(marker, "w") as f:
        f.write("ACCEPTED\n")
    return [b"accepted"]
