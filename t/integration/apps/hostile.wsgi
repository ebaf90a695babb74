"""The hostile daemon (test_hostile_daemon.py): tenant code that writes
scripted raw frames onto the connection it is being served on, to show
that the Apache child treats whatever a daemon sends as hostile.

An impostor process cannot take a group's socket (the child checks that
SO_PEERCRED names the Apache parent, GW0411, and waits for READY from a
daemon), so the realistic hostile daemon is an application running inside
a real daemon process. It needs no help from the module to find its
connection: the daemon's I/O thread watches connections with epoll and
EPOLLONESHOT, and the one handed to a worker has fired its oneshot, so in
/proc/self/fdinfo/<epoll fd> its "tfd:" line shows an events mask without
EPOLLIN. A connection that fired but still waits in the queue has input
pending (its REQUEST, or the child's EOF); the one being served has none
(the REQUEST was read, a GET has no body). With threads=1 exactly one
socket is left.

Answers only in the daemon group "hostile" (processes=1 threads=1);
anywhere else (it is also mounted at /hostile like every app here) 404.

Query: case=NAME (see CASES), t=TOKEN, wait=1.
  case=ok   a plain answer: {"daemon_pid", "fd", "peer_pid"}, the peer
            being the Apache child that sent the request (SO_PEERCRED).
  wait=1    after its bytes, wait (at most WAIT_LIMIT) for the child to
            close the connection ("closed": seconds, or null). A child
            that received garbage must never reuse that connection.
After the script the app shuts its side down for writing, so the
daemon's own response to this request (DAEMON_OWN below) fails with EPIPE
and can never follow the scripted bytes, neither into this exchange nor
into a later request on a connection the child pooled. Then it records
{"closed": ...} in $GW_TMP/hostile-TOKEN: once that file exists, a
connection the child pooled after a complete answer reads as closed (the
child drops it and dials a new one), so a test sends its next request to
the group only then. (Sent earlier, on the pooled connection, it would
meet the EOF of that shutdown: a 502 the module is right to give, since
EOF without an answer is never retried.)
"""
import array
import fcntl
import json
import os
import re
import select
import socket
import stat
import struct
import time
import urllib.parse

GROUP = "hostile"
EPOLLIN = 0x1
EVENTPOLL = "anon_inode:[eventpoll]"     # an epoll fd in /proc/self/fd
SIOCOUTQ = 0x5411           # unread bytes of a Unix socket's send side
FIONREAD = 0x541B           # unread bytes on the receive side

T_REQUEST = 0x02
T_READ, T_HEAD, T_DATA, T_FILE = 0x81, 0x82, 0x83, 0x84
T_END, T_ERROR, T_CLOSE, T_READY = 0x85, 0x86, 0x87, 0x88
U32_MAX = 0xFFFFFFFF
INT64_MAX = 0x7FFFFFFFFFFFFFFF

DRIP_INTERVAL = 0.2         # one byte per 200 ms
DRIP_LIMIT = 12.0           # far past the test group's socket-timeout
WAIT_LIMIT = 6.0
DAEMON_OWN = b"DAEMON-OWN-RESPONSE: must never reach the client\n"


# ---- frames (gw_wire.h) ---------------------------------------------------

def frame(ftype, payload=b"", length=None, magic=b"GW", version=1):
    n = len(payload) if length is None else length
    return magic + bytes([version, ftype]) + struct.pack(">I", n) + payload


def pair(name, value, name_len=None, value_len=None):
    nl = len(name) if name_len is None else name_len
    vl = len(value) if value_len is None else value_len
    return struct.pack(">I", nl) + name + struct.pack(">I", vl) + value


def head_payload(status=b"200 OK", headers=(), count=None, slen=None):
    p = struct.pack(">I", len(status) if slen is None else slen) + status
    p += struct.pack(">I", len(headers) if count is None else count)
    return p + b"".join(pair(n, v) for n, v in headers)


def head(status=b"200 OK", headers=(), **kw):
    return frame(T_HEAD, head_payload(status, headers, **kw))


def data(body):
    return frame(T_DATA, body)


def file_frame(offset, length):
    return frame(T_FILE, struct.pack(">QQ", offset, length))


def error(code, message):
    return frame(T_ERROR, struct.pack(">I", code) + message)


END = frame(T_END)
CT = (b"Content-Type", b"text/plain")


def clen(n):
    return (b"Content-Length", str(n).encode())


# ---- the connection -------------------------------------------------------

def serving_fd():
    """The fd of the connection this request is being served on."""
    found, busy = [], []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + name) != EVENTPOLL:
                continue
            with open("/proc/self/fdinfo/" + name) as f:
                info = f.read()
        except OSError:
            continue
        for m in re.finditer(r"^tfd:\s*(\d+)\s+events:\s*([0-9a-f]+)", info,
                             re.M):
            fd = int(m.group(1))
            if int(m.group(2), 16) & EPOLLIN:
                continue
            (found if is_quiet_socket(fd) else busy).append(fd)
    if not found and len(busy) == 1:
        found = busy    # a POST whose body came unasked behind its REQUEST
    if len(found) != 1:
        raise RuntimeError("expected one served connection, found %r "
                           "(is this a processes=1 threads=1 group?)" % found)
    return found[0]


def is_quiet_socket(fd):
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return False
    except OSError:
        return False
    p = select.poll()
    p.register(fd, select.POLLIN | select.POLLRDHUP)
    return not p.poll(0)


def peer_pid(fd):
    s = socket.socket(fileno=os.dup(fd))
    try:
        cred = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                            struct.calcsize("3i"))
        return struct.unpack("3i", cred)[0]
    finally:
        s.close()


class Wire:
    """Raw writes to the served connection. The child may close it at any
    moment (that is what the test wants); a write then fails with EPIPE
    (the daemon ignores SIGPIPE, and MSG_NOSIGNAL is used anyway) and the
    script stops writing."""

    def __init__(self, fd):
        self.fd = fd
        self.sock = socket.socket(fileno=os.dup(fd))
        self.sock.settimeout(WAIT_LIMIT)
        self.gone = False

    def send(self, buf, fds=()):
        if self.gone:
            return False
        try:
            if fds:
                n = self.sock.sendmsg(
                    [buf], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                             array.array("i", fds))], socket.MSG_NOSIGNAL)
                buf = buf[n:]
            if buf:
                self.sock.sendall(buf, socket.MSG_NOSIGNAL)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.gone = True
        return not self.gone

    def drip(self, buf):
        """One byte per DRIP_INTERVAL until the child hangs up (or
        DRIP_LIMIT, far longer than the child may wait)."""
        end = time.monotonic() + DRIP_LIMIT
        for i in range(len(buf)):
            if time.monotonic() > end or not self.send(buf[i:i + 1]) \
                    or self.wait_closed(DRIP_INTERVAL) is not None:
                return

    def drain(self):
        """Wait until the child has read everything sent so far, so the
        next bytes reach it in a later read."""
        end = time.monotonic() + WAIT_LIMIT
        buf = array.array("i", [0])
        while time.monotonic() < end:
            fcntl.ioctl(self.fd, SIOCOUTQ, buf, True)
            if buf[0] == 0:
                return
            time.sleep(0.005)

    def shut(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def wait_closed(self, limit=WAIT_LIMIT):
        """Seconds until the child closed its end, or None."""
        t0 = time.monotonic()
        p = select.poll()
        p.register(self.fd, select.POLLRDHUP)
        while True:
            left = limit - (time.monotonic() - t0)
            if left <= 0:
                return None
            ev = p.poll(left * 1000)
            if any(e & (select.POLLRDHUP | select.POLLHUP | select.POLLERR)
                   for _, e in ev):
                return round(time.monotonic() - t0, 3)

    def close(self):
        self.sock.close()


# ---- the scripts ------------------------------------------------------------

def bad_header(name, value):
    return lambda w: w.send(head(headers=[CT, (name, value)]) + data(b"x")
                            + END)


def bad_status(status):
    return lambda w: w.send(head(status, [CT]) + data(b"x") + END)


def hop_headers(w):
    w.send(head(headers=[CT, clen(5), (b"Connection", b"close"),
                         (b"Keep-Alive", b"timeout=1, max=1"),
                         (b"Upgrade", b"h2c"), (b"Proxy-Connection", b"close"),
                         (b"TE", b"trailers"), (b"Trailer", b"X-Late"),
                         (b"Transfer-Encoding", b"chunked"),
                         (b"X-Kept", b"yes")]) + data(b"hello") + END)


def file_pipe(w):
    """FILE with a pipe whose writer never writes: a child that sent it
    with sendfile()/read() would block on it for ever."""
    r, wr = os.pipe()
    try:
        w.send(head(headers=[CT, clen(10)]) + file_frame(0, 10) + END, [r])
        os.close(r)
        w.wait_closed()
    finally:
        os.close(wr)


def with_file(frames_after_fd):
    def script(w):
        fd = os.open(__file__, os.O_RDONLY)
        try:
            w.send(frames_after_fd, [fd])
        finally:
            os.close(fd)
    return script


def fd_flood(w):
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(40)]
    try:
        w.send(head(headers=[CT]) + data(b"x") + END, fds)
    finally:
        for fd in fds:
            os.close(fd)


def eof_after(buf):
    def script(w):
        w.send(buf)
        w.shut()
    return script


def garbage_after_data(w):
    w.send(head(headers=[CT]) + data(b"partial "))
    w.drain()
    w.send(b"HTTP/1.1 200 OK\r\n\r\nforged")


def error_after_data(w):
    w.send(head(headers=[CT]) + data(b"partial "))
    w.drain()
    w.send(error(1, b"late failure"))


def drip_data(w):
    w.send(head(headers=[CT, clen(1000)]) + frame(T_DATA, length=1000))
    w.drip(b"d" * 1000)


DRIP_HEAD = head(headers=[CT, (b"X-Padding", b"p" * 200)])
NAME_LEN_MAX = frame(T_HEAD, head_payload(count=1)
                     + struct.pack(">I", U32_MAX) + b"X-Name-Then-More")
VALUE_LEN_MAX = frame(T_HEAD, head_payload(count=1)
                      + pair(b"X-A", b"1", value_len=U32_MAX))
EMPTY_NAME = frame(T_HEAD, head_payload(count=1) + pair(b"", b"1"))

CASES = {
    # framing: refused on the 8-byte header or by the payload parser
    "http_text": lambda w: w.send(b"HTTP/1.1 200 OK\r\nContent-Length: 6"
                                  b"\r\n\r\nforged"),
    "bad_magic": lambda w: w.send(b"GX" + head(headers=[CT])[2:]),
    "bad_version": lambda w: w.send(frame(T_HEAD, head_payload(), version=2)),
    "unknown_type": lambda w: w.send(frame(0x99, b"")),
    "wrong_direction": lambda w: w.send(frame(T_REQUEST, b"\0\0\0\0")),
    "head_len_max": lambda w: w.send(frame(T_HEAD, length=U32_MAX)),
    "data_len_max": lambda w: w.send(head(headers=[CT])
                                     + frame(T_DATA, length=U32_MAX)),
    "error_len_max": lambda w: w.send(frame(T_ERROR, length=U32_MAX)),
    "read_len_max": lambda w: w.send(frame(T_READ, length=U32_MAX)),
    "head_1mib": lambda w: w.send(head(headers=[CT, (b"X-Big",
                                                     b"b" * (1 << 20))])),
    "count_over_frame": lambda w: w.send(head(headers=[CT], count=1000)),
    "count_over_cap": lambda w: w.send(head(headers=[CT], count=U32_MAX)),
    "too_many_headers": lambda w: w.send(head(headers=[
        (b"X-H%d" % i, b"v") for i in range(1025)])),
    "status_len_max": lambda w: w.send(head(headers=[CT], slen=U32_MAX)),
    "name_len_max": lambda w: w.send(NAME_LEN_MAX),
    "value_len_max": lambda w: w.send(VALUE_LEN_MAX),
    "empty_name": lambda w: w.send(EMPTY_NAME),
    "trailing_bytes": lambda w: w.send(frame(T_HEAD, head_payload() + b"zz")),
    "read_zero": lambda w: w.send(frame(T_READ, b"\0\0\0\0")),
    "error_short": lambda w: w.send(frame(T_ERROR, b"\0\0")),
    # status and headers: re-checked by gw_http in the child
    "status_crlf": bad_status(b"200 OK\r\nX-Injected: 1"),
    "status_nul": bad_status(b"200 O\0K"),
    "status_1xx": bad_status(b"100 Continue"),
    "status_digits": bad_status(b"2000 OK"),
    "name_too_long": bad_header(b"X-" + b"n" * 300, b"1"),
    "value_too_long": bad_header(b"X-Big", b"v" * 100000),
    "name_cr": bad_header(b"X-A\rB", b"1"),
    "name_lf": bad_header(b"X-A\nB", b"1"),
    "name_nul": bad_header(b"X-A\0B", b"1"),
    "name_ctl": bad_header(b"X-A\x01B", b"1"),
    "name_space": bad_header(b"X A", b"1"),
    "name_colon": bad_header(b"X-A:", b"1"),
    "value_cr": bad_header(b"X-A", b"a\rb"),
    "value_lf": bad_header(b"X-A", b"a\nb"),
    "value_crlf_inject": bad_header(b"X-A", b"a\r\nSet-Cookie: stolen=1"),
    "value_nul": bad_header(b"X-A", b"a\0b"),
    "value_ctl": bad_header(b"X-A", b"a\x1b[31mb"),
    "value_del": bad_header(b"X-A", b"a\x7fb"),
    "clen_bad": bad_header(b"Content-Length", b"12abc"),
    "clen_negative": bad_header(b"Content-Length", b"-1"),
    "clen_conflict": lambda w: w.send(head(headers=[CT, clen(5), clen(6)])
                                      + data(b"hello") + END),
    # frame order
    "data_before_head": lambda w: w.send(data(b"forged") + END),
    "end_before_head": lambda w: w.send(END),
    "second_head": lambda w: w.send(head(headers=[CT]) + head(headers=[CT])
                                    + END),
    "ready_mid": lambda w: w.send(frame(T_READY) + head(headers=[CT])
                                  + END),
    "close_mid": lambda w: w.send(head(headers=[CT]) + frame(T_CLOSE)),
    "error_unknown": lambda w: w.send(error(77, b"evil\r\nGW9999: forged "
                                           b"line\0\x1b[31m")),
    # file descriptors
    "file_no_fd": lambda w: w.send(head(headers=[CT, clen(10)])
                                   + file_frame(0, 10) + END),
    "file_pipe": file_pipe,
    "file_before_head": with_file(file_frame(0, 10) + END),
    "file_range": with_file(head(headers=[CT])
                            + file_frame(INT64_MAX, 2) + END),
    "fd_flood": fd_flood,
    # early close, drip-feed
    "eof_first": eof_after(b""),
    "eof_mid_frame": eof_after(head(headers=[CT])[:11]),
    "eof_after_head": eof_after(head(headers=[CT])),
    "drip_head": lambda w: w.drip(DRIP_HEAD),
    "close_first": lambda w: w.send(frame(T_CLOSE)),
    # a head went out first: the response is cut short
    "clen_short": lambda w: w.send(head(headers=[CT, clen(100)])
                                   + data(b"x" * 10) + END),
    "te_smuggle": lambda w: w.send(head(headers=[
        CT, clen(100), (b"Transfer-Encoding", b"chunked")])
        + data(b"5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n")
        + END),
    "eof_after_data": eof_after(head(headers=[CT]) + data(b"partial ")),
    "garbage_after_data": garbage_after_data,
    "error_after_data": error_after_data,
    "drip_data": drip_data,
    # complete answers, cleaned up by the child
    "te_chunked": lambda w: w.send(head(headers=[
        CT, clen(5), (b"Transfer-Encoding", b"chunked")]) + data(b"hello")
        + END),
    "te_no_clen": lambda w: w.send(head(headers=[
        CT, (b"Transfer-Encoding", b"gzip, chunked")]) + data(b"hello")
        + END),
    "hop_headers": hop_headers,
    "location_200": lambda w: w.send(head(headers=[
        CT, (b"Location", b"/simple")]) + data(b"the daemon's body") + END),
    "clen_long": lambda w: w.send(head(headers=[CT, clen(5)])
                                  + data(b"hello" + b"HTTP/1.1 200 OK\r\n"
                                         b"Content-Length: 6\r\n\r\nforged")
                                  + END),
}


# ---- the request body -------------------------------------------------------

T_BODY, T_BODY_END = 0x03, 0x04
BODY_WANT = 65536


def read_frame(sock, timeout):
    """(type, payload) of the next frame the child sends, or None if none
    comes within timeout."""
    sock.settimeout(timeout)
    try:
        hdr = b""
        while len(hdr) < 8:
            got = sock.recv(8 - len(hdr))
            if not got:
                return None
            hdr += got
        n = struct.unpack(">I", hdr[4:8])[0]
        payload = b""
        while len(payload) < n:
            got = sock.recv(min(n - len(payload), 1 << 16))
            if not got:
                return None
            payload += got
        return hdr[3], payload
    except socket.timeout:
        return None
    finally:
        sock.settimeout(WAIT_LIMIT)


def read_answer(w):
    """What the child sends in answer to a READ: the sizes of its BODY
    frames, "end" for BODY_END (unasked or not), or [] if nothing comes
    within a second."""
    got = []
    while True:
        f = read_frame(w.sock, 1.0)
        if f is None:
            break
        got.append(len(f[1]) if f[0] == T_BODY else
                   "end" if f[0] == T_BODY_END else "type %#x" % f[0])
        if f[0] != T_BODY:
            break
    return got


def reply_json(w, obj):
    body = json.dumps(obj).encode()
    w.send(head(headers=[(b"Content-Type", b"application/json"),
                         clen(len(body))]) + data(body) + END)


def body_probe(w):
    """Asks for the body with raw READ frames (the test sends the body
    0.3 s after the head, so none of it went behind the REQUEST) and
    reports how the child answered each."""
    time.sleep(1.0)
    answers = []
    for _ in range(3):
        if not w.send(frame(T_READ, struct.pack(">I", BODY_WANT))):
            break
        answers.append(read_answer(w))
    reply_json(w, {"answers": answers})


def body_early(w):
    """The body came with its request: the child sent it behind the
    REQUEST, unasked (up to 128 KiB), so before anything asked for it,
    more bytes wait on the connection than the daemon's reader took in;
    and wsgi.input still reads the whole body."""
    buf = array.array("i", [0])
    fcntl.ioctl(w.fd, FIONREAD, buf, True)
    reply_json(w, {"pending": buf[0],
                   "input": len(w.environ["wsgi.input"].read())})


CASES["body_probe"] = body_probe
CASES["body_early"] = body_early


# ---- the app ----------------------------------------------------------------

def record(environ, token, result):
    path = os.path.join(environ["GW_TMP"], "hostile-" + token)
    with open(path + ".tmp", "w") as f:
        f.write(json.dumps(result) + "\n")
    os.rename(path + ".tmp", path)


def reply(start_response, status, body, ctype="text/plain"):
    start_response(status, [("Content-Type", ctype),
                            ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    if environ.get("mod_gateway.process_group") != GROUP:
        return reply(start_response, "404 Not Found",
                     b"hostile.wsgi only runs in the daemon group 'hostile'\n")
    q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    case = q.get("case", ["ok"])[0]
    fd = serving_fd()
    if case == "ok":
        body = json.dumps({"daemon_pid": os.getpid(), "fd": fd,
                           "peer_pid": peer_pid(fd)}).encode()
        return reply(start_response, "200 OK", body, "application/json")
    if case not in CASES:
        return reply(start_response, "404 Not Found", b"no such case\n")
    w = Wire(fd)
    w.environ = environ
    try:
        CASES[case](w)
        closed = None
        if q.get("wait") == ["1"]:
            closed = 0 if w.gone else w.wait_closed()
        w.shut()
    finally:
        w.close()
    if "t" in q:
        record(environ, q["t"][0], {"closed": closed})
    return reply(start_response, "200 OK", DAEMON_OWN)
