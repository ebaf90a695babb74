"""bench workload `big1m`: 1 MiB from a generator of 64 KiB chunks, with a
Content-Length (the static twin htdocs/big.bin holds the same bytes)."""

CHUNK = bytes(range(256)) * 256          # 64 KiB
COUNT = 16                               # 16 x 64 KiB = 1 MiB
HEADERS = [("Content-Type", "application/octet-stream"),
           ("Content-Length", str(len(CHUNK) * COUNT))]


def _chunks():
    for _ in range(COUNT):
        yield CHUNK


def application(environ, start_response):
    start_response("200 OK", list(HEADERS))
    return _chunks()
