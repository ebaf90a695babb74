# Fault tests: importing this script keeps the GIL for 0.6 s of pure Python
# (no call that lets it go), then the app loops forever before
# start_response. While it loads, the daemon's GIL thread must wait for the
# GIL in this script's interpreter: Python 3.11 asks only threads of the
# waiter's own interpreter to drop the GIL, so a wait in any other one
# would last as long as the loop, and request-timeout could not interrupt.
import time

_until = time.monotonic() + 0.6
while time.monotonic() < _until:
    pass


def application(environ, start_response):
    n = 0
    while True:
        n += 1
