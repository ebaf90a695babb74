/*
 * gen_corpus.c -- writes the hand-made seeds of every fuzz target into
 * t/fuzz/corpus/<target>/seed-*.
 *
 * Not a fuzz target. The "realistic" wire seeds are not captured from a
 * socket: they are built with gw_wire's own encoders from what a browser
 * request and a typical WSGI response look like (an environ of 35 pairs as
 * gw_environ.c builds it, a response HEAD with the headers a framework
 * sends, DATA, END), i.e. exactly the bytes gw_proxy.c / gw_dserve.c write.
 * The edge seeds are raw bytes: every frame type valid, lengths of
 * 0xFFFFFFFF, counts larger than the frame, bad magic/version/type, the
 * wrong direction, empty and truncated streams.
 *
 * Wire seeds start with the control byte of wire_oracle.c (and whatever it
 * announces); the other targets' layouts are described in their files.
 *
 * Usage: gen_corpus CORPUS_DIR   (`make fuzz-seeds` runs it)
 * Sources: mod_gateway/gw_wire.c
 */
#include "gw_wire.h"
#include "../bytebuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *corpus_dir;

static void add_str(buf_t *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void mkdirs(const char *target)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s", corpus_dir, target);
    if (mkdir(corpus_dir, 0755) != 0 && errno != EEXIST) {
        perror(corpus_dir);
        exit(1);
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

static void write_seed(const char *target, const char *name, const void *data,
                       size_t n)
{
    char path[1024];
    FILE *fp;

    mkdirs(target);
    snprintf(path, sizeof(path), "%s/%s/seed-%s", corpus_dir, target, name);
    fp = fopen(path, "wb");
    if (fp == NULL || (n > 0 && fwrite(data, 1, n, fp) != n) ||
        fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
}

/* ---- encoders, failing loudly ------------------------------------------ */

static char enc[1 << 16];

static void put(buf_t *b, int rc, size_t w, const char *err, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "gen_corpus: encoding %s failed: %s\n", what,
                err ? err : "?");
        exit(1);
    }
    buf_add(b, enc, w);
}

static void e_hello(buf_t *b)
{
    static const unsigned char secret[32] = {
        0x3b, 0x91, 0x0e, 0xc4, 0x57, 0xa2, 0x6d, 0xf0, 0x18, 0x8c, 0x29,
        0xd3, 0x44, 0xbe, 0x71, 0x05, 0xea, 0x9f, 0x32, 0x6a, 0xc8, 0x13,
        0x7d, 0xb4, 0x00, 0xff, 0x5e, 0x86, 0x21, 0xcd, 0x4a, 0x97};
    size_t w = 0;
    const char *err = NULL;

    put(b, gw_wire_encode_hello(enc, sizeof(enc), secret, 32, &w, &err), w, err,
        "HELLO");
}

static void e_request(buf_t *b, const gw_wire_pair_t *p, size_t n,
                      const char *body)
{
    size_t w = 0;
    const char *err = NULL;

    put(b,
        gw_wire_encode_request(enc, sizeof(enc), p, n, body,
                               body ? strlen(body) : 0, NULL, &w, &err),
        w, err, "REQUEST");
}

static void e_head(buf_t *b, const char *status, const gw_wire_pair_t *h,
                   size_t n)
{
    size_t w = 0;
    const char *err = NULL;

    put(b,
        gw_wire_encode_head(enc, sizeof(enc), status, strlen(status), h, n,
                            NULL, &w, &err),
        w, err, "HEAD");
}

static void e_bytes(buf_t *b, int type, const char *data)
{
    size_t w = 0;
    const char *err = NULL;

    put(b,
        gw_wire_encode_bytes(enc, sizeof(enc), type, data, strlen(data), NULL,
                             &w, &err),
        w, err, "BODY/DATA");
}

static void e_empty(buf_t *b, int type)
{
    size_t w = 0;
    const char *err = NULL;

    put(b, gw_wire_encode_empty(enc, sizeof(enc), type, &w, &err), w, err,
        "empty frame");
}

static void e_read(buf_t *b, uint32_t want)
{
    size_t w = 0;
    const char *err = NULL;

    put(b, gw_wire_encode_read(enc, sizeof(enc), want, &w, &err), w, err,
        "READ");
}

static void e_file(buf_t *b, uint64_t off, uint64_t len)
{
    size_t w = 0;
    const char *err = NULL;

    put(b, gw_wire_encode_file(enc, sizeof(enc), off, len, &w, &err), w, err,
        "FILE");
}

static void e_error(buf_t *b, uint32_t code, const char *msg)
{
    size_t w = 0;
    const char *err = NULL;

    put(b,
        gw_wire_encode_error(enc, sizeof(enc), code, msg, strlen(msg), NULL, &w,
                             &err),
        w, err, "ERROR");
}

/* ---- realistic traffic ---------------------------------------------- */

#define P(k, v)                                                                \
    {                                                                          \
        k, sizeof(k) - 1, v, sizeof(v) - 1                                     \
    }

/* A Firefox GET as gw_environ.c turns it into a REQUEST. */
static const gw_wire_pair_t browser_get[] = {
    P("SERVER_SOFTWARE", "Apache/2.4.62 (Debian)"),
    P("SERVER_NAME", "www.example.org"),
    P("SERVER_ADDR", "192.0.2.10"),
    P("SERVER_PORT", "443"),
    P("SERVER_ADMIN", "webmaster@example.org"),
    P("SERVER_PROTOCOL", "HTTP/1.1"),
    P("REMOTE_ADDR", "198.51.100.23"),
    P("REMOTE_PORT", "53122"),
    P("REQUEST_SCHEME", "https"),
    P("REQUEST_METHOD", "GET"),
    P("REQUEST_URI", "/shop/cart/items?page=2&sort=price%20desc"),
    P("SCRIPT_FILENAME", "/srv/www/shop/app.wsgi"),
    P("SCRIPT_NAME", "/shop"),
    P("PATH_INFO", "/cart/items"),
    P("QUERY_STRING", "page=2&sort=price%20desc"),
    P("DOCUMENT_ROOT", "/srv/www/htdocs"),
    P("GATEWAY_INTERFACE", "CGI/1.1"),
    P("HTTPS", "on"),
    P("HTTP_HOST", "www.example.org"),
    P("HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) "
                         "Gecko/20100101 Firefox/128.0"),
    P("HTTP_ACCEPT", "text/html,application/xhtml+xml,application/xml;"
                     "q=0.9,image/avif,image/webp,*/*;q=0.8"),
    P("HTTP_ACCEPT_LANGUAGE", "en-GB,en;q=0.7,de;q=0.3"),
    P("HTTP_ACCEPT_ENCODING", "gzip, deflate, br, zstd"),
    P("HTTP_REFERER", "https://www.example.org/shop/"),
    P("HTTP_COOKIE", "sessionid=6f1c0e2b9a8d4c7e; csrftoken=Zq3xV9pL; "
                     "theme=dark"),
    P("HTTP_UPGRADE_INSECURE_REQUESTS", "1"),
    P("HTTP_SEC_FETCH_DEST", "document"),
    P("HTTP_SEC_FETCH_MODE", "navigate"),
    P("HTTP_SEC_FETCH_SITE", "same-origin"),
    P("HTTP_SEC_FETCH_USER", "?1"),
    P("HTTP_PRIORITY", "u=0, i"),
    P("wsgi.url_scheme", "https"),
    P("mod_gateway.process_group", "shop"),
    P("mod_gateway.application_group", "www.example.org|/shop"),
    P("mod_gateway.callable_object", "application"),
    P("mod_gateway.script_reloading", "1"),
    P("mod_gateway.version", "0.1.0"),
    P("mod_gateway.request_id", "Zz8kQ2zL3sAAAB2x1wIAAAAC"),
};
#define NGET (sizeof(browser_get) / sizeof(browser_get[0]))

/* A form POST: same shape, a body, CONTENT_* set. */
static const gw_wire_pair_t form_post[] = {
    P("SERVER_NAME", "www.example.org"),
    P("SERVER_PORT", "80"),
    P("SERVER_PROTOCOL", "HTTP/1.1"),
    P("REMOTE_ADDR", "2001:db8::17"),
    P("REQUEST_METHOD", "POST"),
    P("REQUEST_URI", "/blog/comments/"),
    P("SCRIPT_NAME", "/blog"),
    P("PATH_INFO", "/comments/"),
    P("QUERY_STRING", ""),
    P("CONTENT_TYPE", "application/x-www-form-urlencoded"),
    P("CONTENT_LENGTH", "61"),
    P("HTTP_HOST", "www.example.org"),
    P("HTTP_USER_AGENT", "curl/7.88.1"),
    P("HTTP_ACCEPT", "*/*"),
    P("HTTP_ORIGIN", "http://www.example.org"),
    P("wsgi.url_scheme", "http"),
    P("mod_gateway.process_group", "blog"),
    P("mod_gateway.request_id", "Zz8kQ2zL3sAAAB2x1wIAAAAD"),
};
#define NPOST (sizeof(form_post) / sizeof(form_post[0]))

static const gw_wire_pair_t html_headers[] = {
    P("Content-Type", "text/html; charset=utf-8"),
    P("Content-Length", "96"),
    P("Cache-Control", "private, max-age=0"),
    P("Set-Cookie", "sessionid=6f1c0e2b9a8d4c7e; HttpOnly; Path=/; "
                    "SameSite=Lax; Secure"),
    P("Set-Cookie", "csrftoken=Zq3xV9pL; Path=/; SameSite=Lax"),
    P("Vary", "Cookie, Accept-Encoding"),
    P("X-Frame-Options", "DENY"),
    P("X-Content-Type-Options", "nosniff"),
    P("Referrer-Policy", "same-origin"),
    P("Content-Security-Policy", "default-src 'self'"),
};
#define NHTML (sizeof(html_headers) / sizeof(html_headers[0]))

static const gw_wire_pair_t redirect_headers[] = {
    P("Location", "https://www.example.org/shop/login/?next=/shop/cart/"),
    P("Content-Type", "text/html; charset=utf-8"),
    P("Content-Length", "0"),
};

static const gw_wire_pair_t json_headers[] = {
    P("Content-Type", "application/json"),
    P("Transfer-Encoding", "chunked"), /* the child must drop it */
    P("Connection", "close"),
    P("X-Request-Id", "Zz8kQ2zL3sAAAB2x1wIAAAAD"),
};

/* ---- wire seeds -------------------------------------------------------- */

/* Control-byte prefixes (wire_oracle.c): byte by byte; a few split
 * sizes; small caps plus splits; a failing allocator. */
static void prefix(buf_t *b, int variant)
{
    static const unsigned char splits[] = {3, 0, 17, 201, 1, 64};
    static const unsigned char caps[] = {32, 16, 8, 8, 4, 12, 6};

    switch (variant) {
        case 0:
            buf_u8(b, 0x00);
            break;
        case 1:
            buf_u8(b, (unsigned)(sizeof(splits) << 2));
            buf_add(b, splits, sizeof(splits));
            break;
        case 2:
            buf_u8(b, (unsigned)((2 << 2) | 1));
            buf_add(b, caps, sizeof(caps));
            buf_u8(b, 5);
            buf_u8(b, 40);
            break;
        default:
            buf_u8(b, (unsigned)((1 << 2) | 2));
            buf_u8(b, 1);
            buf_u8(b, 7);
            break;
    }
}

static void wire_seed(const char *target, const char *name, const buf_t *s,
                      int variants)
{
    char nm[256];
    buf_t b = {0};
    int v;

    for (v = 0; v < variants; v++) {
        b.n = 0;
        prefix(&b, v);
        buf_add(&b, s->p, s->n);
        snprintf(nm, sizeof(nm), "%s%s%d", name, v ? "-v" : "", v);
        write_seed(target, v ? nm : name, b.p, b.n);
    }
    free(b.p);
}

static void daemon_seeds(void)
{
    const char *t = "fuzz_wire_daemon";
    buf_t s = {0};
    size_t i;

    /* realistic: a browser GET, a form POST with the body in pieces */
    e_hello(&s);
    e_request(&s, browser_get, NGET, NULL);
    e_empty(&s, GW_WIRE_T_BODY_END);
    wire_seed(t, "traffic-get", &s, 4);
    s.n = 0;
    e_request(&s, form_post, NPOST, "name=Ada+Lovelace&email=ada%40");
    e_bytes(&s, GW_WIRE_T_BODY, "example.org&comment=Nice+post%21");
    e_bytes(&s, GW_WIRE_T_BODY, "");
    e_empty(&s, GW_WIRE_T_BODY_END);
    wire_seed(t, "traffic-post", &s, 4);
    s.n = 0;
    e_request(&s, form_post, NPOST, NULL);
    e_empty(&s, GW_WIRE_T_ABORT);
    wire_seed(t, "traffic-abort", &s, 2);

    /* every type valid on its own */
    s.n = 0;
    e_hello(&s);
    e_request(&s, NULL, 0, NULL);
    e_request(&s, browser_get, 3, "body prefix");
    e_bytes(&s, GW_WIRE_T_BODY, "x");
    e_empty(&s, GW_WIRE_T_BODY_END);
    e_empty(&s, GW_WIRE_T_ABORT);
    wire_seed(t, "every-type", &s, 4);

    /* huge lengths, on each type */
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_REQUEST, 0xFFFFFFFFu);
    buf_u32(&s, 1);
    wire_seed(t, "huge-request", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_BODY, 0xFFFFFFFFu);
    add_str(&s, "data");
    wire_seed(t, "huge-body", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_HELLO, 0xFFFFFFFFu);
    wire_seed(t, "huge-hello", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_REQUEST, GW_WIRE_CAP_REQUEST);
    buf_u32(&s, 0);
    add_str(&s, "a request claiming the whole cap, truncated");
    wire_seed(t, "cap-request-truncated", &s, 2);

    /* counts larger than the frame, over the cap, pairs running past */
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_REQUEST, 4);
    buf_u32(&s, 0xFFFFFFFFu);
    wire_seed(t, "count-huge", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_REQUEST, 4 + 8 + 2);
    buf_u32(&s, 2);
    buf_u32(&s, 1);
    add_str(&s, "A");
    buf_u32(&s, 1);
    add_str(&s, "B");
    wire_seed(t, "count-over-frame", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_REQUEST, 4 + 8 * (GW_WIRE_CAP_REQUEST_PAIRS + 1));
    buf_u32(&s, GW_WIRE_CAP_REQUEST_PAIRS + 1);
    for (i = 0; i < GW_WIRE_CAP_REQUEST_PAIRS + 1; i++) {
        buf_u32(&s, 0);
        buf_u32(&s, 0);
    }
    wire_seed(t, "count-over-cap", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_REQUEST, 4 + 8 + 3);
    buf_u32(&s, 1);
    buf_u32(&s, 0); /* empty name */
    buf_u32(&s, 3);
    add_str(&s, "val");
    wire_seed(t, "empty-name", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_REQUEST, 4 + 4 + 1 + 4);
    buf_u32(&s, 1);
    buf_u32(&s, 1);
    add_str(&s, "K");
    buf_u32(&s, 0x7FFFFFFFu); /* value past the frame */
    e_empty(&s, GW_WIRE_T_BODY_END);
    wire_seed(t, "value-past-frame", &s, 1);

    /* bad headers */
    s.n = 0;
    add_str(&s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    wire_seed(t, "bad-magic-http", &s, 1);
    s.n = 0;
    buf_hdr(&s, 2, GW_WIRE_T_HELLO, 32);
    wire_seed(t, "bad-version", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, 0x00, 0);
    wire_seed(t, "bad-type-0", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, 0x06, 0);
    wire_seed(t, "bad-type-6", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_DATA, 3);
    add_str(&s, "abc");
    wire_seed(t, "wrong-direction", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_HELLO, 31);
    wire_seed(t, "hello-31", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_BODY_END, 1);
    buf_u8(&s, 0);
    wire_seed(t, "body-end-payload", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_REQUEST, 0);
    wire_seed(t, "request-empty", &s, 1);

    /* empty and truncated streams */
    s.n = 0;
    wire_seed(t, "empty", &s, 1);
    e_hello(&s);
    e_request(&s, browser_get, NGET, NULL);
    s.n -= 100;
    wire_seed(t, "truncated-payload", &s, 2);
    s.n = 0;
    e_bytes(&s, GW_WIRE_T_BODY, "a body cut short");
    s.n -= 5;
    wire_seed(t, "truncated-body", &s, 2);
    s.n = 0;
    add_str(&s, "GW\x01\x02\x00");
    wire_seed(t, "truncated-header", &s, 1);
    free(s.p);
}

static void child_seeds(void)
{
    const char *t = "fuzz_wire_child";
    static const char page[] =
        "<!doctype html>\n<html><head><title>Cart</title></head>\n"
        "<body><h1>2 items</h1></body></html>\n";
    buf_t s = {0};
    size_t i;

    /* realistic: a page in two DATA frames, a redirect, a streamed JSON
     * response with hop-by-hop headers, a file, an app error, a recycle;
     * a daemon's first frame on a connection is READY */
    e_empty(&s, GW_WIRE_T_READY);
    e_head(&s, "200 OK", html_headers, NHTML);
    e_bytes(&s, GW_WIRE_T_DATA, "<!doctype html>\n<html><head><title>");
    e_bytes(&s, GW_WIRE_T_DATA, page + 35);
    e_empty(&s, GW_WIRE_T_END);
    wire_seed(t, "traffic-page", &s, 4);
    s.n = 0;
    e_read(&s, 65536);
    e_head(&s, "302 Found", redirect_headers, 3);
    e_empty(&s, GW_WIRE_T_END);
    wire_seed(t, "traffic-redirect", &s, 2);
    s.n = 0;
    e_head(&s, "200 OK", json_headers, 4);
    for (i = 0; i < 4; i++) {
        e_bytes(&s, GW_WIRE_T_DATA, "{\"id\": 17, \"name\": \"widget\"}\n");
    }
    e_empty(&s, GW_WIRE_T_END);
    wire_seed(t, "traffic-stream", &s, 2);
    s.n = 0;
    e_head(&s, "200 OK", html_headers, 1);
    e_file(&s, 0, 1048576);
    e_empty(&s, GW_WIRE_T_END);
    wire_seed(t, "traffic-file", &s, 2);
    s.n = 0;
    e_error(&s, GW_WIRE_ERR_APP,
            "Traceback (most recent call last):\n  File \"app.wsgi\", "
            "line 12, in application\nZeroDivisionError: division by zero\n");
    wire_seed(t, "traffic-error", &s, 2);
    s.n = 0;
    e_empty(&s, GW_WIRE_T_READY);
    e_empty(&s, GW_WIRE_T_CLOSE);
    wire_seed(t, "traffic-close", &s, 1);

    /* every type valid */
    s.n = 0;
    e_read(&s, 1);
    e_read(&s, 0xFFFFFFFFu);
    e_head(&s, "204 ", NULL, 0);
    e_bytes(&s, GW_WIRE_T_DATA, "");
    e_bytes(&s, GW_WIRE_T_DATA, "d");
    e_file(&s, (uint64_t)INT64_MAX, 0);
    e_error(&s, GW_WIRE_ERR_TIMEOUT, "");
    e_error(&s, 99, "unknown code\r\n\0");
    e_empty(&s, GW_WIRE_T_END);
    e_empty(&s, GW_WIRE_T_CLOSE);
    e_empty(&s, GW_WIRE_T_READY);
    wire_seed(t, "every-type", &s, 4);

    /* huge lengths */
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_HEAD, 0xFFFFFFFFu);
    wire_seed(t, "huge-head", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_DATA, 0xFFFFFFFFu);
    add_str(&s, "data");
    wire_seed(t, "huge-data", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_ERROR, GW_WIRE_CAP_ERROR + 1);
    wire_seed(t, "error-over-cap", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_HEAD, GW_WIRE_CAP_HEAD);
    buf_u32(&s, 6);
    add_str(&s, "200 OK");
    wire_seed(t, "cap-head-truncated", &s, 2);

    /* HEAD's inner lengths */
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_HEAD, 8);
    buf_u32(&s, 0xFFFFFFFFu);
    buf_u32(&s, 0);
    wire_seed(t, "head-status-past", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_HEAD, 4 + 3 + 4);
    buf_u32(&s, 3);
    add_str(&s, "200");
    buf_u32(&s, 0xFFFFFFFFu);
    wire_seed(t, "head-count-huge", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_HEAD, 4 + 4 + 4 + 4);
    buf_u32(&s, 0);
    buf_u32(&s, 0);
    buf_u32(&s, 0xDEADBEEFu); /* trailing bytes */
    wire_seed(t, "head-trailing", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_HEAD, 4 + 4 + 8 * (GW_WIRE_CAP_HEAD_PAIRS + 1));
    buf_u32(&s, 0);
    buf_u32(&s, GW_WIRE_CAP_HEAD_PAIRS + 1);
    for (i = 0; i < GW_WIRE_CAP_HEAD_PAIRS + 1; i++) {
        buf_u32(&s, 1);
        add_str(&s, "X");
        buf_u32(&s, 0);
    }
    wire_seed(t, "head-count-over-cap", &s, 1);

    /* fixed sizes and values */
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_READ, 4);
    buf_u32(&s, 0);
    wire_seed(t, "read-zero", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_FILE, 16);
    buf_u32(&s, 0x7FFFFFFFu);
    buf_u32(&s, 0xFFFFFFFFu);
    buf_u32(&s, 0);
    buf_u32(&s, 1);
    wire_seed(t, "file-range-over", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_FILE, 15);
    wire_seed(t, "file-15", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_ERROR, 3);
    add_str(&s, "abc");
    wire_seed(t, "error-short", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_END, 4);
    wire_seed(t, "end-payload", &s, 1);

    /* bad headers, empty, truncated */
    s.n = 0;
    add_str(&s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhi");
    wire_seed(t, "bad-magic-http", &s, 1);
    s.n = 0;
    buf_hdr(&s, 0, GW_WIRE_T_END, 0);
    wire_seed(t, "bad-version", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, 0x89, 0);
    wire_seed(t, "bad-type-89", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_READY, 1);
    buf_u8(&s, 0);
    wire_seed(t, "ready-payload", &s, 1);
    s.n = 0;
    buf_hdr(&s, 1, GW_WIRE_T_REQUEST, 4);
    buf_u32(&s, 0);
    wire_seed(t, "wrong-direction", &s, 1);
    s.n = 0;
    wire_seed(t, "empty", &s, 1);
    e_head(&s, "200 OK", html_headers, NHTML);
    s.n -= 37;
    wire_seed(t, "truncated-head", &s, 2);
    s.n = 0;
    e_head(&s, "200 OK", NULL, 0);
    e_bytes(&s, GW_WIRE_T_DATA, page);
    s.n -= 40;
    wire_seed(t, "truncated-data", &s, 2);
    free(s.p);
}

/* ---- the other targets: a control byte (or two), then the string --------- */

static void text_seeds(const char *t, unsigned ctl, int two,
                       const char *const *v, size_t n)
{
    char name[32];
    buf_t b = {0};
    size_t i;

    for (i = 0; i < n; i++) {
        b.n = 0;
        buf_u8(&b, ctl);
        if (two) {
            buf_u8(&b, (unsigned)i);
        }
        add_str(&b, v[i]);
        snprintf(name, sizeof(name), "%02zu", i);
        write_seed(t, name, b.p, b.n);
    }
    free(b.p);
}

static void path_seeds(void)
{
    /* alias NUL uri */
    static const char *const v[][2] = {
        {"/app", "/app/x"},
        {"/app", "/apple"},
        {"/app/", "/app//x/y"},
        {"/", "/"},
        {"//a//b", "/a/b/c"},
        {"/a/b", "/a//b"},
        {"/app", "/app"},
        {"/app/", "/app"},
        {"/wsgi", "//wsgi/"},
        {"/x/", "/x/y/"},
        {"/\xc3\xa9t\xc3\xa9", "/\xc3\xa9t\xc3\xa9/ok"},
    };
    char name[32];
    buf_t b = {0};
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        b.n = 0;
        add_str(&b, v[i][0]);
        buf_u8(&b, 0);
        add_str(&b, v[i][1]);
        snprintf(name, sizeof(name), "%02zu", i);
        write_seed("fuzz_path", name, b.p, b.n);
    }
    free(b.p);
}

int main(int argc, char **argv)
{
    static const char *const http[] = {
        "200 OK",
        "404 Not Found",
        "204 ",
        "599 x",
        "199 Early",
        "1000 OK",
        "200\tOK",
        "200  OK",
        "500 Internal Server Error\r\nX: y",
        "302 Found \xe2\x9c\x93",
        "Content-Type",
        "Set-Cookie",
        "X-Foo_Bar",
        "text/html; charset=utf-8",
        "a\tb",
        "a\x7f",
        "0",
        "00000000000000000001",
        "9223372036854775807",
        "9223372036854775808",
        "-1",
        "1,2",
        " 1",
        "Transfer-Encoding",
        "keep-alive",
        "Proxy-Connection",
        "TE",
    };
    static const char *const envname[] = {
        "Host",
        "User-Agent",
        "Accept-Language",
        "Content-Type",
        "content-length",
        "Proxy",
        "proxy-authorization",
        "Authorization",
        "X-Foo_Bar",
        "X Forwarded",
        "X-Forwarded-For",
        "CONTENT-TYPE-X",
        "Sec-Ch-Ua-Platform",
        "-",
        "HTTP_HOST",
    };
    static const char *const opts[] = {
        "processes=4",
        "30",
        "2.5s",
        "500ms",
        "0.0000009",
        "64k",
        "10M",
        "1G",
        "0022",
        "0777",
        "On",
        "off",
        "TRUE",
        "No",
        "-9223372036854775808",
        "9223372036854775807",
        "99999999999999999999",
        "threads=",
        "=x",
        "display-name=%{GROUP}",
        "Queue-Timeout=1",
        "1.",
        ".5",
        "1.5.5",
        "1e3",
        "-0",
        "+5",
        " 5",
        "08",
    };

    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus CORPUS_DIR\n");
        return 2;
    }
    corpus_dir = argv[1];
    daemon_seeds();
    child_seeds();
    text_seeds("fuzz_http", 0x00, 0, http, sizeof(http) / sizeof(http[0]));
    text_seeds("fuzz_envname", 0x00, 0, envname,
               sizeof(envname) / sizeof(envname[0]));
    text_seeds("fuzz_opts", 0x00, 1, opts, sizeof(opts) / sizeof(opts[0]));
    path_seeds();
    return 0;
}
