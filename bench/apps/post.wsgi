"""bench workload `post100k`: read the whole request body in 64 KiB reads
and answer with the number of bytes read ("102400\n" for the benchmark;
the static twin htdocs/post.txt holds the same bytes)."""


def application(environ, start_response):
    stream = environ["wsgi.input"]
    n = 0
    while True:
        block = stream.read(65536)
        if not block:
            break
        n += len(block)
    body = b"%d\n" % n
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
