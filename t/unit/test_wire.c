/*
 * test_wire.c -- CUnit suite for gw_wire (L0: the child <-> daemon frames).
 *
 * Oracles: round trip of every type field by field; split invariance (a
 * stream fed whole, cut at every byte, cut twice, byte by byte, must decode
 * to the same transcript); every decoder error, with an allocator that
 * counts calls to show that caps and counts are checked before allocation.
 * Every piece fed is a separate exact-size malloc, so ASan catches a read
 * past it.
 */
#include "../../mod_gateway/gw_wire.h"
#include "../bytebuf.h"

#include <CUnit/CUnit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a counting allocator (pool semantics: freed all at once) ---------- */

#define ARENA_MAX 256

typedef struct {
    void *blocks[ARENA_MAX];
    size_t nblocks;
    size_t calls;
    size_t bytes;
    int fail; /* return NULL from every call */
} arena_t;

static void *arena_alloc(void *baton, size_t size)
{
    arena_t *a = baton;
    void *p;

    a->calls++;
    a->bytes += size;
    if (a->fail || a->nblocks == ARENA_MAX) {
        return NULL;
    }
    /* exact size, so ASan sees a read past a frame-sized buffer */
    p = malloc(size ? size : 1);
    if (p != NULL) {
        a->blocks[a->nblocks++] = p;
    }
    return p;
}

static void arena_free(arena_t *a)
{
    size_t i;

    for (i = 0; i < a->nblocks; i++) {
        free(a->blocks[i]);
    }
    memset(a, 0, sizeof(*a));
}

/* ---- the decode driver and its transcript ------------------------------ */

typedef struct {
    gw_wire_decoder_t dec;
    arena_t arena;
    buf_t tr;        /* canonical transcript of the frames decoded */
    buf_t chunk;     /* BODY/DATA bytes of the frame in progress */
    int in_chunk;    /* a BODY/DATA frame is partly delivered */
    int frames;      /* complete frames (chunks counted once per frame) */
    int chunks_bad;  /* a first/last/length invariant broke */
    int rc;          /* last feed() result */
    const char *err; /* decoder error, if rc == GW_WIRE_ERROR */
} run_t;

static void tr_pairs(buf_t *t, const gw_wire_pair_t *p, size_t n)
{
    size_t i;

    buf_u32(t, (uint32_t)n);
    for (i = 0; i < n; i++) {
        buf_u32(t, (uint32_t)p[i].name_len);
        buf_add(t, p[i].name, p[i].name_len);
        buf_u32(t, (uint32_t)p[i].value_len);
        buf_add(t, p[i].value, p[i].value_len);
    }
}

/* BODY/DATA chunks are joined per frame; their flags must be coherent. */
static void tr_chunk(run_t *r, const gw_wire_frame_t *f)
{
    if (f->u.chunk.first != !r->in_chunk) {
        r->chunks_bad++;
    }
    if (!f->u.chunk.last && f->u.chunk.len == 0) {
        r->chunks_bad++; /* an empty chunk only for an empty frame */
    }
    r->in_chunk = 1;
    buf_add(&r->chunk, f->u.chunk.data, f->u.chunk.len);
    if (!f->u.chunk.last) {
        return;
    }
    if (r->chunk.n != f->u.chunk.frame_len) {
        r->chunks_bad++;
    }
    buf_u8(&r->tr, (unsigned)f->type);
    buf_u32(&r->tr, (uint32_t)r->chunk.n);
    buf_add(&r->tr, r->chunk.p, r->chunk.n);
    r->chunk.n = 0;
    r->in_chunk = 0;
    r->frames++;
}

static void tr_frame(run_t *r, const gw_wire_frame_t *f)
{
    buf_t *t = &r->tr;

    if (f->type == GW_WIRE_T_BODY || f->type == GW_WIRE_T_DATA) {
        tr_chunk(r, f);
        return;
    }
    r->frames++;
    buf_u8(t, (unsigned)f->type);
    switch (f->type) {
        case GW_WIRE_T_HELLO:
            buf_add(t, f->u.hello.secret, GW_WIRE_SECRET_LEN);
            break;
        case GW_WIRE_T_REQUEST:
            tr_pairs(t, f->u.request.pairs, f->u.request.npairs);
            buf_u32(t, (uint32_t)f->u.request.body_len);
            buf_add(t, f->u.request.body, f->u.request.body_len);
            break;
        case GW_WIRE_T_HEAD:
            buf_u32(t, (uint32_t)f->u.head.status_len);
            buf_add(t, f->u.head.status, f->u.head.status_len);
            tr_pairs(t, f->u.head.headers, f->u.head.nheaders);
            break;
        case GW_WIRE_T_READ:
            buf_u32(t, f->u.read.want);
            break;
        case GW_WIRE_T_FILE:
            buf_u64(t, f->u.file.offset);
            buf_u64(t, f->u.file.length);
            break;
        case GW_WIRE_T_ERROR:
            buf_u32(t, f->u.error.code);
            buf_u32(t, (uint32_t)f->u.error.message_len);
            buf_add(t, f->u.error.message, f->u.error.message_len);
            break;
        default:
            break;
    }
}

static void run_init(run_t *r, int direction, const gw_wire_caps_t *caps)
{
    memset(r, 0, sizeof(*r));
    CU_ASSERT_FATAL(gw_wire_decoder_init(&r->dec, direction, caps, arena_alloc,
                                         &r->arena) == 0);
}

static void run_free(run_t *r)
{
    arena_free(&r->arena);
    buf_free(&r->tr);
    buf_free(&r->chunk);
}

/* Feeds one piece (copied to its own exact-size block) until it is used
 * up. Returns 0 to go on, -1 once the decoder reported an error. */
static int run_feed(run_t *r, const unsigned char *src, size_t n)
{
    char *piece = malloc(n ? n : 1);
    size_t off = 0, used;
    gw_wire_frame_t f;

    CU_ASSERT_FATAL(piece != NULL);
    if (n > 0) {
        memcpy(piece, src, n);
    }
    for (;;) {
        r->rc = gw_wire_decoder_feed(&r->dec, piece + off, n - off, &used, &f);
        CU_ASSERT(used <= n - off);
        off += used;
        if (r->rc != GW_WIRE_FRAME) {
            break;
        }
        CU_ASSERT(used > 0); /* a frame always takes a byte: no livelock */
        tr_frame(r, &f);
        if (used == 0) {
            break;
        }
    }
    free(piece);
    if (r->rc == GW_WIRE_ERROR) {
        r->err = gw_wire_decoder_error(&r->dec);
        CU_ASSERT(r->err != NULL);
        return -1;
    }
    CU_ASSERT(r->rc == GW_WIRE_NEED_MORE);
    CU_ASSERT(off == n);
    return 0;
}

/* Decodes msg cut at the sorted offsets cuts[0..ncuts). */
static void run_cuts(run_t *r, const buf_t *msg, const size_t *cuts,
                     size_t ncuts)
{
    size_t i, from = 0, to;

    for (i = 0; i <= ncuts; i++) {
        to = i < ncuts ? cuts[i] : msg->n;
        if (run_feed(r, msg->p ? msg->p + from : NULL, to - from) != 0) {
            return;
        }
        from = to;
    }
}

/* Decodes msg whole into r (initialised here; caller frees). */
static void decode_whole(run_t *r, int dir, const gw_wire_caps_t *caps,
                         const buf_t *msg)
{
    run_init(r, dir, caps);
    run_cuts(r, msg, NULL, 0);
}

/* 1 if a run matches the reference: same frames, same end, same error. */
static int same_run(const run_t *a, const run_t *b)
{
    return a->rc == b->rc && a->frames == b->frames && a->tr.n == b->tr.n &&
           (a->tr.n == 0 || memcmp(a->tr.p, b->tr.p, a->tr.n) == 0) &&
           a->err == b->err && a->chunks_bad == 0 && b->chunks_bad == 0 &&
           a->in_chunk == b->in_chunk;
}

/* The split-invariance oracle: every single cut, byte by byte and (for
 * streams up to max3 bytes) every pair of cuts decode like the whole. */
static void check_splits(int dir, const buf_t *msg, size_t max3)
{
    run_t whole, r;
    size_t cuts[2], i, j;
    int bad = 0;

    decode_whole(&whole, dir, NULL, msg);
    for (i = 0; i <= msg->n; i++) {
        cuts[0] = i;
        run_init(&r, dir, NULL);
        run_cuts(&r, msg, cuts, 1);
        bad += !same_run(&whole, &r);
        run_free(&r);
    }
    run_init(&r, dir, NULL);
    for (i = 0; i < msg->n && run_feed(&r, msg->p + i, 1) == 0; i++) {
    }
    bad += !same_run(&whole, &r);
    run_free(&r);
    for (i = 0; msg->n <= max3 && i <= msg->n; i++) {
        for (j = i; j <= msg->n; j++) {
            cuts[0] = i;
            cuts[1] = j;
            run_init(&r, dir, NULL);
            run_cuts(&r, msg, cuts, 2);
            bad += !same_run(&whole, &r);
            run_free(&r);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    run_free(&whole);
}

/* ---- encoding helpers --------------------------------------------------- */

static const unsigned char secret32[GW_WIRE_SECRET_LEN] = {
    0x00, 0x01, 0x02, 0x03, 0xfc, 0xfd, 0xfe, 0xff, 0x10, 0x20, 0x30,
    0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0,
    0xf0, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87,
};

static const gw_wire_pair_t env[] = {
    {"REQUEST_METHOD", 14, "POST", 4},
    {"PATH_INFO", 9, "/a\0b", 4}, /* an embedded NUL survives */
    {"QUERY_STRING", 12, "", 0},
    {"HTTP_X", 6, "\xff\x80 v", 4},
};
#define NENV (sizeof(env) / sizeof(env[0]))

static const gw_wire_pair_t hdrs[] = {
    {"Content-Type", 12, "text/plain", 10},
    {"Set-Cookie", 10, "a=1", 3},
    {"Set-Cookie", 10, "", 0},
};
#define NHDRS (sizeof(hdrs) / sizeof(hdrs[0]))

/* Appends one encoded frame to b, asserting the encoder succeeded and
 * wrote exactly what its size function promised. */
static char encbuf[4096];

static void add_enc(buf_t *b, int rc, const size_t *written)
{
    /* written is read here, after the encoder ran: passing its value
     * would read it in unspecified order with the call */
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    buf_add(b, encbuf, *written);
}

static void enc_request(buf_t *b, size_t n, const char *body, size_t blen)
{
    size_t w = 0;
    const char *err = NULL;
    int rc = gw_wire_encode_request(encbuf, sizeof(encbuf), env, n, body, blen,
                                    NULL, &w, &err);

    CU_ASSERT_EQUAL(w, gw_wire_request_size(env, n, blen));
    add_enc(b, rc, &w);
}

static void enc_head(buf_t *b, const char *status, size_t n)
{
    size_t w = 0;
    int rc = gw_wire_encode_head(encbuf, sizeof(encbuf), status, strlen(status),
                                 hdrs, n, NULL, &w, NULL);

    CU_ASSERT_EQUAL(w, gw_wire_head_size(strlen(status), hdrs, n));
    add_enc(b, rc, &w);
}

static void enc_bytes(buf_t *b, int type, const char *data, size_t len)
{
    size_t w = 0;

    add_enc(b,
            gw_wire_encode_bytes(encbuf, sizeof(encbuf), type, data, len, NULL,
                                 &w, NULL),
            &w);
}

static void enc_empty(buf_t *b, int type)
{
    size_t w = 0;

    add_enc(b, gw_wire_encode_empty(encbuf, sizeof(encbuf), type, &w, NULL),
            &w);
}

/* A child -> daemon stream holding every c>d type. */
static void stream_to_daemon(buf_t *b)
{
    size_t w = 0;

    add_enc(
        b, gw_wire_encode_hello(encbuf, sizeof(encbuf), secret32, 32, &w, NULL),
        &w);
    enc_request(b, NENV, "abc", 3);
    enc_request(b, 0, NULL, 0);
    enc_bytes(b, GW_WIRE_T_BODY, "hello body", 10);
    enc_bytes(b, GW_WIRE_T_BODY, NULL, 0);
    enc_empty(b, GW_WIRE_T_BODY_END);
    enc_empty(b, GW_WIRE_T_ABORT);
}

/* A daemon -> child stream holding every d>c type. */
static void stream_to_child(buf_t *b)
{
    size_t w = 0;

    add_enc(b, gw_wire_encode_read(encbuf, sizeof(encbuf), 65536, &w, NULL),
            &w);
    enc_head(b, "200 OK", NHDRS);
    enc_head(b, "204 ", 0);
    enc_bytes(b, GW_WIRE_T_DATA, "0123456789abcdef", 16);
    enc_bytes(b, GW_WIRE_T_DATA, NULL, 0);
    add_enc(b,
            gw_wire_encode_file(encbuf, sizeof(encbuf), 4096, (uint64_t)1 << 40,
                                &w, NULL),
            &w);
    add_enc(b,
            gw_wire_encode_error(encbuf, sizeof(encbuf), 3, "late", 4, NULL, &w,
                                 NULL),
            &w);
    enc_empty(b, GW_WIRE_T_END);
}

/* Decodes b whole expecting exactly one frame; copies it to *f. */
static void decode_one(int dir, const buf_t *b, gw_wire_decoder_t *dec,
                       arena_t *a, gw_wire_frame_t *f)
{
    size_t used = 0, used2 = 0;
    gw_wire_frame_t f2;

    CU_ASSERT_FATAL(gw_wire_decoder_init(dec, dir, NULL, arena_alloc, a) == 0);
    CU_ASSERT_EQUAL_FATAL(
        gw_wire_decoder_feed(dec, (const char *)b->p, b->n, &used, f),
        GW_WIRE_FRAME);
    CU_ASSERT_EQUAL(used, b->n);
    CU_ASSERT(gw_wire_decoder_idle(dec));
    CU_ASSERT_EQUAL(gw_wire_decoder_feed(dec, NULL, 0, &used2, &f2),
                    GW_WIRE_NEED_MORE);
    CU_ASSERT_EQUAL(used2, 0);
}

#define MEMEQ(p, q, n) (memcmp((p), (q), (n)) == 0)

static int pairs_eq(const gw_wire_pair_t *a, const gw_wire_pair_t *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (a[i].name_len != b[i].name_len ||
            a[i].value_len != b[i].value_len ||
            !MEMEQ(a[i].name, b[i].name, a[i].name_len) ||
            (a[i].value_len &&
             !MEMEQ(a[i].value, b[i].value, a[i].value_len))) {
            return 0;
        }
    }
    return 1;
}

/* ---- round trips -------------------------------------------------------- */

static void test_roundtrip_hello(void)
{
    buf_t b = {0};
    gw_wire_decoder_t dec;
    gw_wire_frame_t f;
    arena_t a = {0};
    size_t w = 0;

    add_enc(
        &b,
        gw_wire_encode_hello(encbuf, sizeof(encbuf), secret32, 32, &w, NULL),
        &w);
    CU_ASSERT_EQUAL(b.n, 8 + 32);
    CU_ASSERT(MEMEQ(b.p, "GW\x01\x01\x00\x00\x00\x20", 8));
    decode_one(GW_WIRE_TO_DAEMON, &b, &dec, &a, &f);
    CU_ASSERT_EQUAL(f.type, GW_WIRE_T_HELLO);
    CU_ASSERT(MEMEQ(f.u.hello.secret, secret32, 32));
    CU_ASSERT(gw_wire_secret_eq(f.u.hello.secret, secret32, 32));
    CU_ASSERT_EQUAL(a.calls, 0); /* whole frame at hand: parsed in place */
    buf_free(&b);
    arena_free(&a);
}

static void test_roundtrip_request(void)
{
    buf_t b = {0};
    gw_wire_decoder_t dec;
    gw_wire_frame_t f;
    arena_t a = {0};

    enc_request(&b, NENV, "body\0prefix", 11);
    decode_one(GW_WIRE_TO_DAEMON, &b, &dec, &a, &f);
    CU_ASSERT_EQUAL(f.type, GW_WIRE_T_REQUEST);
    CU_ASSERT_EQUAL_FATAL(f.u.request.npairs, NENV);
    CU_ASSERT(pairs_eq(f.u.request.pairs, env, NENV));
    CU_ASSERT_EQUAL(f.u.request.body_len, 11);
    CU_ASSERT(MEMEQ(f.u.request.body, "body\0prefix", 11));
    CU_ASSERT_EQUAL(a.calls, 1); /* the pair array only */
    buf_free(&b);
    arena_free(&a);

    /* no pairs, no body: the smallest REQUEST is its 4-byte count */
    enc_request(&b, 0, NULL, 0);
    CU_ASSERT_EQUAL(b.n, 12);
    decode_one(GW_WIRE_TO_DAEMON, &b, &dec, &a, &f);
    CU_ASSERT_EQUAL(f.type, GW_WIRE_T_REQUEST);
    CU_ASSERT_EQUAL(f.u.request.npairs, 0);
    CU_ASSERT_PTR_NULL(f.u.request.pairs);
    CU_ASSERT_EQUAL(f.u.request.body_len, 0);
    CU_ASSERT_EQUAL(a.calls, 0);
    buf_free(&b);
    arena_free(&a);
}

static void test_roundtrip_head(void)
{
    buf_t b = {0};
    gw_wire_decoder_t dec;
    gw_wire_frame_t f;
    arena_t a = {0};

    enc_head(&b, "404 Not Found", NHDRS);
    decode_one(GW_WIRE_TO_CHILD, &b, &dec, &a, &f);
    CU_ASSERT_EQUAL(f.type, GW_WIRE_T_HEAD);
    CU_ASSERT_EQUAL(f.u.head.status_len, 13);
    CU_ASSERT(MEMEQ(f.u.head.status, "404 Not Found", 13));
    CU_ASSERT_EQUAL_FATAL(f.u.head.nheaders, NHDRS);
    CU_ASSERT(pairs_eq(f.u.head.headers, hdrs, NHDRS));
    buf_free(&b);
    arena_free(&a);

    enc_head(&b, "", 0); /* framing allows it; gw_http refuses it later */
    decode_one(GW_WIRE_TO_CHILD, &b, &dec, &a, &f);
    CU_ASSERT_EQUAL(f.type, GW_WIRE_T_HEAD);
    CU_ASSERT_EQUAL(f.u.head.status_len, 0);
    CU_ASSERT_EQUAL(f.u.head.nheaders, 0);
    buf_free(&b);
    arena_free(&a);
}

static void test_roundtrip_fixed(void)
{
    buf_t b = {0};
    gw_wire_decoder_t dec;
    gw_wire_frame_t f;
    arena_t a = {0};
    size_t w = 0;
    uint64_t big = (uint64_t)INT64_MAX;

    add_enc(&b, gw_wire_encode_read(encbuf, 12, 0xFFFFFFFFu, &w, NULL), &w);
    decode_one(GW_WIRE_TO_CHILD, &b, &dec, &a, &f);
    CU_ASSERT_EQUAL(f.type, GW_WIRE_T_READ);
    CU_ASSERT_EQUAL(f.u.read.want, 0xFFFFFFFFu);
    buf_free(&b);

    add_enc(&b, gw_wire_encode_file(encbuf, 24, big - 10, 10, &w, NULL), &w);
    CU_ASSERT(MEMEQ(b.p, "GW\x01\x84\x00\x00\x00\x10", 8));
    decode_one(GW_WIRE_TO_CHILD, &b, &dec, &a, &f);
    CU_ASSERT_EQUAL(f.type, GW_WIRE_T_FILE);
    CU_ASSERT(f.u.file.offset == big - 10);
    CU_ASSERT(f.u.file.length == 10);
    buf_free(&b);

    add_enc(&b,
            gw_wire_encode_error(encbuf, sizeof(encbuf), 2, "busy\n", 5, NULL,
                                 &w, NULL),
            &w);
    decode_one(GW_WIRE_TO_CHILD, &b, &dec, &a, &f);
    CU_ASSERT_EQUAL(f.type, GW_WIRE_T_ERROR);
    CU_ASSERT_EQUAL(f.u.error.code, 2);
    CU_ASSERT_EQUAL(f.u.error.message_len, 5);
    CU_ASSERT(MEMEQ(f.u.error.message, "busy\n", 5));
    buf_free(&b);
    CU_ASSERT_EQUAL(a.calls, 0);
    arena_free(&a);
}

static void test_roundtrip_empty_and_bytes(void)
{
    static const int empties[] = {GW_WIRE_T_BODY_END, GW_WIRE_T_ABORT,
                                  GW_WIRE_T_END, GW_WIRE_T_CLOSE,
                                  GW_WIRE_T_READY};
    buf_t b = {0};
    gw_wire_decoder_t dec;
    gw_wire_frame_t f;
    arena_t a = {0};
    size_t i;
    int dir;

    for (i = 0; i < 5; i++) {
        enc_empty(&b, empties[i]);
        CU_ASSERT_EQUAL(b.n, 8);
        dir = gw_wire_type_direction(empties[i]);
        decode_one(dir, &b, &dec, &a, &f);
        CU_ASSERT_EQUAL(f.type, empties[i]);
        buf_free(&b);
    }
    for (i = 0; i < 2; i++) {
        int type = i ? GW_WIRE_T_DATA : GW_WIRE_T_BODY;

        enc_bytes(&b, type, "xy\0z", 4);
        decode_one(gw_wire_type_direction(type), &b, &dec, &a, &f);
        CU_ASSERT_EQUAL(f.type, type);
        CU_ASSERT_EQUAL(f.u.chunk.len, 4);
        CU_ASSERT_EQUAL(f.u.chunk.frame_len, 4);
        CU_ASSERT(f.u.chunk.first && f.u.chunk.last);
        CU_ASSERT(MEMEQ(f.u.chunk.data, "xy\0z", 4));
        buf_free(&b);

        enc_bytes(&b, type, NULL, 0); /* an empty frame: one empty chunk */
        decode_one(gw_wire_type_direction(type), &b, &dec, &a, &f);
        CU_ASSERT_EQUAL(f.type, type);
        CU_ASSERT_EQUAL(f.u.chunk.len, 0);
        CU_ASSERT(f.u.chunk.first && f.u.chunk.last);
        buf_free(&b);
    }
    CU_ASSERT_EQUAL(a.calls, 0);
    arena_free(&a);
}

/* Header + payload pieces (the writev path) decode like a whole encode. */
static void test_header_writev(void)
{
    buf_t whole = {0}, pieces = {0};
    char hdr[GW_WIRE_HEADER_LEN];
    const char *err = NULL;

    enc_bytes(&whole, GW_WIRE_T_DATA, "payload!", 8);
    CU_ASSERT_EQUAL(gw_wire_encode_header(hdr, GW_WIRE_T_DATA, 8, NULL, &err),
                    0);
    buf_add(&pieces, hdr, sizeof(hdr));
    buf_add(&pieces, "payload!", 8);
    CU_ASSERT_EQUAL_FATAL(whole.n, pieces.n);
    CU_ASSERT(MEMEQ(whole.p, pieces.p, whole.n));
    CU_ASSERT_EQUAL(gw_wire_encode_header(hdr, GW_WIRE_T_END, 0, NULL, &err),
                    0);
    CU_ASSERT(MEMEQ(hdr, "GW\x01\x85\0\0\0\0", 8));
    buf_free(&whole);
    buf_free(&pieces);
}

/* ---- split invariance --------------------------------------------------- */

static void test_split_each_frame(void)
{
    buf_t all = {0}, one = {0};
    run_t r;
    size_t off = 0, len;
    int dir;

    /* cut each frame out of the two streams and split it everywhere */
    for (dir = GW_WIRE_TO_DAEMON; dir <= GW_WIRE_TO_CHILD; dir++) {
        if (dir == GW_WIRE_TO_DAEMON) {
            stream_to_daemon(&all);
        }
        else {
            stream_to_child(&all);
        }
        for (off = 0; off < all.n; off += len) {
            len = 8 + (((size_t)all.p[off + 4] << 24) |
                       ((size_t)all.p[off + 5] << 16) |
                       ((size_t)all.p[off + 6] << 8) | all.p[off + 7]);
            one.n = 0;
            buf_add(&one, all.p + off, len);
            decode_whole(&r, dir, NULL, &one);
            CU_ASSERT_EQUAL(r.frames, 1);
            CU_ASSERT_EQUAL(r.rc, GW_WIRE_NEED_MORE);
            run_free(&r);
            check_splits(dir, &one, 64);
        }
        buf_free(&all);
    }
    buf_free(&one);
}

static void test_split_streams(void)
{
    buf_t b = {0};
    run_t r;

    stream_to_daemon(&b);
    decode_whole(&r, GW_WIRE_TO_DAEMON, NULL, &b);
    CU_ASSERT_EQUAL(r.frames, 7);
    CU_ASSERT_EQUAL(r.rc, GW_WIRE_NEED_MORE);
    CU_ASSERT(gw_wire_decoder_idle(&r.dec));
    run_free(&r);
    check_splits(GW_WIRE_TO_DAEMON, &b, 400);
    buf_free(&b);

    stream_to_child(&b);
    decode_whole(&r, GW_WIRE_TO_CHILD, NULL, &b);
    CU_ASSERT_EQUAL(r.frames, 8);
    CU_ASSERT_EQUAL(r.rc, GW_WIRE_NEED_MORE);
    run_free(&r);
    check_splits(GW_WIRE_TO_CHILD, &b, 400);
    buf_free(&b);
}

/* A bad frame gives the same frames before it and the same error, however
 * the stream is cut. */
static void test_split_errors(void)
{
    buf_t b = {0};
    run_t r;

    stream_to_child(&b);
    buf_hdr(&b, 1, GW_WIRE_T_HEAD, 12);
    buf_u32(&b, 0);
    buf_u32(&b, 0);
    buf_u32(&b, 0xDEADBEEF); /* trailing junk */
    enc_empty(&b, GW_WIRE_T_END);
    decode_whole(&r, GW_WIRE_TO_CHILD, NULL, &b);
    CU_ASSERT_EQUAL(r.rc, GW_WIRE_ERROR);
    CU_ASSERT_EQUAL(r.frames, 8);
    run_free(&r);
    check_splits(GW_WIRE_TO_CHILD, &b, 0);
    buf_free(&b);
}

/* A DATA frame at the 1 MiB cap, fed in 4 KiB reads: chunks straight from
 * the caller's buffer, nothing buffered, nothing allocated. */
static void test_large_data_streams(void)
{
    size_t len = GW_WIRE_CAP_DATA, off, chunks = 0, got = 0;
    char *frame = malloc(len + 8);
    gw_wire_decoder_t dec;
    gw_wire_frame_t f;
    arena_t a = {0};
    size_t used, i, n;
    int rc, bad = 0;

    CU_ASSERT_FATAL(frame != NULL);
    for (i = 0; i < len; i++) {
        frame[8 + i] = (char)(i * 7);
    }
    CU_ASSERT_FATAL(
        gw_wire_encode_header(frame, GW_WIRE_T_DATA, len, NULL, NULL) == 0);
    gw_wire_decoder_init(&dec, GW_WIRE_TO_CHILD, NULL, arena_alloc, &a);
    for (off = 0; off < len + 8; off += n) {
        n = len + 8 - off < 4096 ? len + 8 - off : 4096;
        for (i = 0; i < n; i += used) {
            rc = gw_wire_decoder_feed(&dec, frame + off + i, n - i, &used, &f);
            if (rc != GW_WIRE_FRAME) {
                bad += rc != GW_WIRE_NEED_MORE || i + used != n;
                break;
            }
            /* zero-copy: the chunk is the last bytes this call used */
            bad += f.u.chunk.data != frame + off + i + used - f.u.chunk.len;
            bad += f.u.chunk.first != (chunks == 0);
            bad += f.u.chunk.last != (got + f.u.chunk.len == len);
            got += f.u.chunk.len;
            chunks++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(got, len);
    CU_ASSERT_EQUAL(chunks, 257); /* 4088, 255 x 4096, 8 */
    CU_ASSERT_EQUAL(a.calls, 0);
    CU_ASSERT(gw_wire_decoder_idle(&dec));
    free(frame);
}

/* Split frames are gathered in buffers reused from frame to frame: 1000
 * split REQUESTs cost a bounded number of allocations. */
static void test_buffers_reused(void)
{
    buf_t b = {0};
    run_t r;
    size_t cut = 20; /* inside the payload: it must be gathered */
    int i;

    enc_request(&b, NENV, "abc", 3);
    run_init(&r, GW_WIRE_TO_DAEMON, NULL);
    for (i = 0; i < 1000; i++) {
        run_cuts(&r, &b, &cut, 1);
    }
    CU_ASSERT_EQUAL(r.rc, GW_WIRE_NEED_MORE);
    CU_ASSERT_EQUAL(r.frames, 1000);
    CU_ASSERT_EQUAL(r.arena.calls, 2); /* one payload buffer, one array */
    run_free(&r);
    buf_free(&b);
}

/* ---- errors ------------------------------------------------------------- */

/* Decodes msg whole; asserts an error whose reason contains `want`, and
 * returns the allocator calls made. */
static size_t expect_error(int dir, const gw_wire_caps_t *caps,
                           const buf_t *msg, const char *want)
{
    run_t r;
    size_t calls;

    decode_whole(&r, dir, caps, msg);
    CU_ASSERT_EQUAL(r.rc, GW_WIRE_ERROR);
    CU_ASSERT_EQUAL(r.frames, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.err);
    if (strstr(r.err, want) == NULL) {
        printf("\n  got \"%s\", wanted \"%s\"\n", r.err, want);
        CU_FAIL("wrong error reason");
    }
    calls = r.arena.calls;
    run_free(&r);
    return calls;
}

static void test_bad_magic(void)
{
    buf_t b = {0};
    size_t i;

    /* each magic byte is refused the moment it arrives */
    for (i = 0; i < 2; i++) {
        b.n = 0;
        buf_hdr(&b, 1, GW_WIRE_T_END, 0);
        b.p[i] ^= 0x20; /* "gW", "Gw" */
        CU_ASSERT_EQUAL(expect_error(GW_WIRE_TO_CHILD, NULL, &b, "bad magic"),
                        0);
        b.n = i + 1;
        CU_ASSERT_EQUAL(expect_error(GW_WIRE_TO_CHILD, NULL, &b, "bad magic"),
                        0);
    }
    b.n = 0;
    buf_add(&b, "HTTP/1.1 200 OK\r\n", 17); /* a peer speaking HTTP */
    expect_error(GW_WIRE_TO_CHILD, NULL, &b, "bad magic");
    buf_free(&b);
}

static void test_bad_version(void)
{
    static const unsigned versions[] = {0, 2, 0x81, 0xFF};
    buf_t b = {0};
    size_t i;

    for (i = 0; i < 4; i++) {
        b.n = 0;
        buf_hdr(&b, versions[i], GW_WIRE_T_END, 0);
        CU_ASSERT_EQUAL(expect_error(GW_WIRE_TO_CHILD, NULL, &b, "version"), 0);
        b.n = 3; /* refused on the version byte alone */
        expect_error(GW_WIRE_TO_CHILD, NULL, &b, "version");
    }
    buf_free(&b);
}

static void test_unknown_type(void)
{
    static const unsigned types[] = {0x00, 0x06, 0x7F, 0x80, 0x89, 0xFF};
    buf_t b = {0};
    size_t i;
    int dir;

    for (i = 0; i < 6; i++) {
        CU_ASSERT_STRING_EQUAL(gw_wire_type_name((int)types[i]), "UNKNOWN");
        for (dir = GW_WIRE_TO_DAEMON; dir <= GW_WIRE_TO_CHILD; dir++) {
            b.n = 0;
            buf_hdr(&b, 1, types[i], 0);
            CU_ASSERT_EQUAL(expect_error(dir, NULL, &b, "unknown frame type"),
                            0);
        }
    }
    buf_free(&b);
}

static void test_wrong_direction(void)
{
    static const int to_daemon[] = {GW_WIRE_T_HELLO, GW_WIRE_T_REQUEST,
                                    GW_WIRE_T_BODY, GW_WIRE_T_BODY_END,
                                    GW_WIRE_T_ABORT};
    static const int to_child[] = {GW_WIRE_T_READ, GW_WIRE_T_HEAD,
                                   GW_WIRE_T_DATA, GW_WIRE_T_FILE,
                                   GW_WIRE_T_END,  GW_WIRE_T_ERROR,
                                   GW_WIRE_T_CLOSE, GW_WIRE_T_READY};
    buf_t b = {0};
    size_t i;

    for (i = 0; i < 5; i++) {
        b.n = 0;
        buf_hdr(&b, 1, (unsigned)to_daemon[i], 0);
        expect_error(GW_WIRE_TO_CHILD, NULL, &b, "direction");
        b.n = 4;
        expect_error(GW_WIRE_TO_CHILD, NULL, &b, "direction");
    }
    for (i = 0; i < 8; i++) {
        b.n = 0;
        buf_hdr(&b, 1, (unsigned)to_child[i], 0);
        expect_error(GW_WIRE_TO_DAEMON, NULL, &b, "direction");
    }
    buf_free(&b);
}

/* An oversize length is refused on the 8-byte header alone, before any
 * byte of payload arrives and with no allocation at all. */
static void test_over_cap(void)
{
    static const int capped[] = {GW_WIRE_T_REQUEST, GW_WIRE_T_BODY,
                                 GW_WIRE_T_HEAD, GW_WIRE_T_DATA,
                                 GW_WIRE_T_ERROR};
    static const uint32_t defcap[] = {GW_WIRE_CAP_REQUEST, GW_WIRE_CAP_BODY,
                                      GW_WIRE_CAP_HEAD, GW_WIRE_CAP_DATA,
                                      GW_WIRE_CAP_ERROR};
    gw_wire_caps_t small;
    buf_t b = {0};
    run_t r;
    size_t i;
    int dir;

    for (i = 0; i < 5; i++) {
        dir = gw_wire_type_direction(capped[i]);
        b.n = 0;
        buf_hdr(&b, 1, (unsigned)capped[i], defcap[i] + 1);
        CU_ASSERT_EQUAL(expect_error(dir, NULL, &b, "over the cap"), 0);
        b.n = 0;
        buf_hdr(&b, 1, (unsigned)capped[i], 0xFFFFFFFFu);
        CU_ASSERT_EQUAL(expect_error(dir, NULL, &b, "over the cap"), 0);
        /* exactly the cap passes the header check: waits for payload */
        b.n = 0;
        buf_hdr(&b, 1, (unsigned)capped[i], defcap[i]);
        decode_whole(&r, dir, NULL, &b);
        CU_ASSERT_EQUAL(r.rc, GW_WIRE_NEED_MORE);
        CU_ASSERT_EQUAL(r.arena.calls, 0);
        CU_ASSERT_FALSE(gw_wire_decoder_idle(&r.dec));
        run_free(&r);
    }
    /* tuned caps are honoured */
    gw_wire_caps_default(&small);
    small.data = 100;
    b.n = 0;
    buf_hdr(&b, 1, GW_WIRE_T_DATA, 101);
    CU_ASSERT_EQUAL(expect_error(GW_WIRE_TO_CHILD, &small, &b, "cap"), 0);
    buf_free(&b);
}

/* Fixed-size types: any other length is refused on the header. */
static void test_fixed_sizes(void)
{
    static const struct {
        int type;
        uint32_t len;
        const char *err;
    } cases[] = {
        {GW_WIRE_T_HELLO, 0, "HELLO"},
        {GW_WIRE_T_HELLO, 31, "HELLO"},
        {GW_WIRE_T_HELLO, 33, "HELLO"},
        {GW_WIRE_T_HELLO, 0xFFFFFFFF, "HELLO"},
        {GW_WIRE_T_READ, 0, "READ"},
        {GW_WIRE_T_READ, 3, "READ"},
        {GW_WIRE_T_READ, 5, "READ"},
        {GW_WIRE_T_FILE, 15, "FILE"},
        {GW_WIRE_T_FILE, 17, "FILE"},
        {GW_WIRE_T_FILE, 0, "FILE"},
        {GW_WIRE_T_END, 1, "END"},
        {GW_WIRE_T_BODY_END, 1, "BODY_END"},
        {GW_WIRE_T_ABORT, 0xFFFFFFFF, "ABORT"},
    };
    buf_t b = {0};
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        b.n = 0;
        buf_hdr(&b, 1, (unsigned)cases[i].type, cases[i].len);
        CU_ASSERT_EQUAL(expect_error(gw_wire_type_direction(cases[i].type),
                                     NULL, &b, cases[i].err),
                        0);
    }
    buf_free(&b);
}

static void test_read_file_values(void)
{
    buf_t b = {0};

    buf_hdr(&b, 1, GW_WIRE_T_READ, 4);
    buf_u32(&b, 0);
    expect_error(GW_WIRE_TO_CHILD, NULL, &b, "READ of zero bytes");

    b.n = 0;
    buf_hdr(&b, 1, GW_WIRE_T_FILE, 16);
    buf_u64(&b, (uint64_t)INT64_MAX + 1);
    buf_u64(&b, 0);
    expect_error(GW_WIRE_TO_CHILD, NULL, &b, "INT64_MAX");

    b.n = 0; /* each fits, the end does not */
    buf_hdr(&b, 1, GW_WIRE_T_FILE, 16);
    buf_u64(&b, (uint64_t)INT64_MAX - 5);
    buf_u64(&b, 6);
    expect_error(GW_WIRE_TO_CHILD, NULL, &b, "INT64_MAX");

    b.n = 0;
    buf_hdr(&b, 1, GW_WIRE_T_ERROR, 3);
    buf_add(&b, "abc", 3);
    expect_error(GW_WIRE_TO_CHILD, NULL, &b, "ERROR payload too short");
    buf_free(&b);
}

/* A count is a claim: checked against the bytes left before the pair array
 * is allocated, so no allocation happens for a lying count. */
static void test_request_counts(void)
{
    buf_t b = {0};
    run_t r;
    size_t cut = 10;

    buf_hdr(&b, 1, GW_WIRE_T_REQUEST, 4);
    buf_u32(&b, 0xFFFFFFFFu);
    CU_ASSERT_EQUAL(expect_error(GW_WIRE_TO_DAEMON, NULL, &b, "pair count"), 0);

    b.n = 0; /* 2 pairs need >= 16 bytes; 15 follow */
    buf_hdr(&b, 1, GW_WIRE_T_REQUEST, 4 + 15);
    buf_u32(&b, 2);
    buf_add(&b, "\0\0\0\1a\0\0\0\0\0\0\0\1b\0", 15);
    CU_ASSERT_EQUAL(expect_error(GW_WIRE_TO_DAEMON, NULL, &b,
                                 "pair count exceeds the frame"),
                    0);
    /* split, so the payload is gathered: still no pair array */
    run_init(&r, GW_WIRE_TO_DAEMON, NULL);
    run_cuts(&r, &b, &cut, 1);
    CU_ASSERT_EQUAL(r.rc, GW_WIRE_ERROR);
    CU_ASSERT_EQUAL(r.arena.calls, 1);
    CU_ASSERT_EQUAL(r.arena.bytes, 19); /* exactly the payload */
    run_free(&r);

    b.n = 0; /* over the pair cap, though the bytes are there */
    buf_hdr(&b, 1, GW_WIRE_T_REQUEST, 4 + 8 * 4097);
    buf_u32(&b, 4097);
    while (b.n < 12 + 8 * 4097) {
        buf_u32(&b, 0);
    }
    CU_ASSERT_EQUAL(
        expect_error(GW_WIRE_TO_DAEMON, NULL, &b, "pair count over its cap"),
        0);

    b.n = 0; /* shorter than its own count field */
    buf_hdr(&b, 1, GW_WIRE_T_REQUEST, 3);
    buf_add(&b, "\0\0\0", 3);
    expect_error(GW_WIRE_TO_DAEMON, NULL, &b, "too short");
    buf_free(&b);
}

/* A REQUEST frame of one pair: name length nlen followed by `have` name
 * bytes, a value length vlen if with_vlen, then pad bytes. */
static void bad_pair(uint32_t nlen, size_t have, int with_vlen, uint32_t vlen,
                     size_t pad, const char *want)
{
    buf_t b = {0}, payload = {0};
    size_t i;

    buf_u32(&payload, 1);
    buf_u32(&payload, nlen);
    for (i = 0; i < have; i++) {
        buf_u8(&payload, 'k');
    }
    if (with_vlen) {
        buf_u32(&payload, vlen);
    }
    for (i = 0; i < pad; i++) {
        buf_u8(&payload, 'v');
    }
    buf_hdr(&b, 1, GW_WIRE_T_REQUEST, (uint32_t)payload.n);
    buf_add(&b, payload.p, payload.n);
    expect_error(GW_WIRE_TO_DAEMON, NULL, &b, want);
    check_splits(GW_WIRE_TO_DAEMON, &b, 0);
    buf_free(&b);
    buf_free(&payload);
}

/* Each case passes the count check (8 bytes per pair) and then lies. */
static void test_pair_lengths(void)
{
    bad_pair(5, 3, 0, 0, 1, "pair name runs past"); /* 5 claimed, 4 left */
    bad_pair(0xFFFFFFFF, 4, 0, 0, 0, "pair name runs past");
    bad_pair(2, 2, 0, 0, 2, "pair value length runs past");
    bad_pair(1, 1, 1, 4, 3, "pair value runs past");
    bad_pair(1, 1, 1, 0xFFFFFFFF, 8, "pair value runs past");
    bad_pair(0, 0, 1, 0, 0, "empty pair name");
}

static void head_payload(buf_t *b, const char *status, uint32_t slen,
                         uint32_t count)
{
    buf_u32(b, slen);
    buf_add(b, status, strlen(status));
    buf_u32(b, count);
}

static void expect_head_error(const buf_t *payload, const char *want)
{
    buf_t b = {0};

    buf_hdr(&b, 1, GW_WIRE_T_HEAD, (uint32_t)payload->n);
    buf_add(&b, payload->p, payload->n);
    expect_error(GW_WIRE_TO_CHILD, NULL, &b, want);
    buf_free(&b);
}

static void test_head_errors(void)
{
    buf_t p = {0};

    head_payload(&p, "200 OK", 6, 0);
    buf_u8(&p, 0); /* one byte after the last header */
    expect_head_error(&p, "trailing bytes");

    p.n = 0;
    head_payload(&p, "200 OK", 6, 1);
    buf_u32(&p, 1);
    buf_add(&p, "X", 1);
    buf_u32(&p, 1);
    buf_add(&p, "yZZ", 3); /* the value is 1 byte: 2 bytes of junk */
    expect_head_error(&p, "trailing bytes");

    p.n = 0; /* the status runs into the count: 6 + 4 + 1 > 10 */
    head_payload(&p, "200 OK", 11, 0);
    expect_head_error(&p, "status line runs past");

    p.n = 0;
    head_payload(&p, "200 OK", 6, 0xFFFFFFFF);
    expect_head_error(&p, "pair count");

    p.n = 0;
    head_payload(&p, "200 OK", 6, 1025); /* over the 1024 default */
    expect_head_error(&p, "pair count over its cap");

    p.n = 0;
    buf_u32(&p, 0);
    buf_add(&p, "\0\0", 2); /* no room for the count */
    expect_head_error(&p, "header count");

    p.n = 0;
    buf_add(&p, "\0\0", 2);
    expect_head_error(&p, "status length");
    buf_free(&p);
}

/* Every strict prefix of a frame: need-more, never a complete frame (a
 * DATA/BODY prefix may yield chunks, never the last one). */
static void test_truncated(void)
{
    buf_t all = {0}, one = {0};
    run_t r;
    size_t off, len, k;
    int dir, bad = 0;

    for (dir = GW_WIRE_TO_DAEMON; dir <= GW_WIRE_TO_CHILD; dir++) {
        all.n = 0;
        if (dir == GW_WIRE_TO_DAEMON) {
            stream_to_daemon(&all);
        }
        else {
            stream_to_child(&all);
        }
        for (off = 0; off < all.n; off += len) {
            len = 8 + (((size_t)all.p[off + 6] << 8) | all.p[off + 7]);
            for (k = 0; k < len; k++) {
                one.n = 0;
                buf_add(&one, all.p + off, k);
                decode_whole(&r, dir, NULL, &one);
                bad += r.rc != GW_WIRE_NEED_MORE || r.frames != 0;
                bad += gw_wire_decoder_idle(&r.dec) != (k == 0);
                run_free(&r);
            }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    buf_free(&all);
    buf_free(&one);
}

/* Errors are sticky; reset() starts over. */
static void test_sticky_and_reset(void)
{
    buf_t bad = {0}, good = {0};
    gw_wire_decoder_t dec;
    gw_wire_frame_t f;
    arena_t a = {0};
    size_t used = 99;
    const char *err;

    buf_hdr(&bad, 1, 0x42, 0);
    enc_empty(&good, GW_WIRE_T_END);
    gw_wire_decoder_init(&dec, GW_WIRE_TO_CHILD, NULL, arena_alloc, &a);
    CU_ASSERT_PTR_NULL(gw_wire_decoder_error(&dec));
    CU_ASSERT_EQUAL(gw_wire_decoder_feed(&dec, (char *)bad.p, bad.n, &used, &f),
                    GW_WIRE_ERROR);
    err = gw_wire_decoder_error(&dec);
    CU_ASSERT_PTR_NOT_NULL(err);
    CU_ASSERT_EQUAL(
        gw_wire_decoder_feed(&dec, (char *)good.p, good.n, &used, &f),
        GW_WIRE_ERROR);
    CU_ASSERT_EQUAL(used, 0);
    CU_ASSERT_PTR_EQUAL(gw_wire_decoder_error(&dec), err);
    CU_ASSERT_FALSE(gw_wire_decoder_idle(&dec));
    gw_wire_decoder_reset(&dec);
    CU_ASSERT_PTR_NULL(gw_wire_decoder_error(&dec));
    CU_ASSERT_EQUAL(
        gw_wire_decoder_feed(&dec, (char *)good.p, good.n, &used, &f),
        GW_WIRE_FRAME);
    CU_ASSERT_EQUAL(f.type, GW_WIRE_T_END);
    buf_free(&bad);
    buf_free(&good);
    arena_free(&a);
}

static void test_out_of_memory(void)
{
    buf_t b = {0};
    run_t r;
    size_t cut = 9;

    enc_request(&b, NENV, NULL, 0);
    run_init(&r, GW_WIRE_TO_DAEMON, NULL); /* whole: the pair array fails */
    r.arena.fail = 1;
    run_cuts(&r, &b, NULL, 0);
    CU_ASSERT_EQUAL(r.rc, GW_WIRE_ERROR);
    CU_ASSERT_STRING_EQUAL(r.err, "out of memory");
    run_free(&r);
    run_init(&r, GW_WIRE_TO_DAEMON, NULL); /* split: the buffer fails */
    r.arena.fail = 1;
    run_cuts(&r, &b, &cut, 1);
    CU_ASSERT_EQUAL(r.rc, GW_WIRE_ERROR);
    CU_ASSERT_STRING_EQUAL(r.err, "out of memory");
    CU_ASSERT_EQUAL(r.arena.calls, 1);
    run_free(&r);
    buf_free(&b);
}

static void test_decoder_init(void)
{
    gw_wire_decoder_t dec;
    arena_t a = {0};

    CU_ASSERT_EQUAL(gw_wire_decoder_init(&dec, 0, NULL, arena_alloc, &a), -1);
    CU_ASSERT_EQUAL(gw_wire_decoder_init(&dec, 3, NULL, arena_alloc, &a), -1);
    CU_ASSERT_EQUAL(
        gw_wire_decoder_init(&dec, GW_WIRE_TO_CHILD, NULL, NULL, &a), -1);
    CU_ASSERT_EQUAL(
        gw_wire_decoder_init(&dec, GW_WIRE_TO_CHILD, NULL, arena_alloc, NULL),
        0);
    CU_ASSERT(gw_wire_decoder_idle(&dec));
}

/* ---- encoders refuse rather than narrow --------------------------------- */

/* Every encoder must leave bytes past cap alone when it refuses. */
static int guard_intact(const char *out, size_t from, size_t to)
{
    size_t i;

    for (i = from; i < to; i++) {
        if (out[i] != '#') {
            return 0;
        }
    }
    return 1;
}

/* Encodes with every output size below what is needed (refused, nothing
 * written) and then exactly that (accepted). which: 0 HELLO, 1 END,
 * 2 REQUEST, 3 HEAD, 4 FILE, 5 READ, 6 ERROR, 7 DATA. */
static int encode_some(int which, char *out, size_t cap, size_t *w)
{
    switch (which) {
        case 0:
            return gw_wire_encode_hello(out, cap, secret32, 32, w, NULL);
        case 1:
            return gw_wire_encode_empty(out, cap, GW_WIRE_T_END, w, NULL);
        case 2:
            return gw_wire_encode_request(out, cap, env, NENV, "b", 1, NULL, w,
                                          NULL);
        case 3:
            return gw_wire_encode_head(out, cap, "200 OK", 6, hdrs, NHDRS, NULL,
                                       w, NULL);
        case 4:
            return gw_wire_encode_file(out, cap, 1, 2, w, NULL);
        case 5:
            return gw_wire_encode_read(out, cap, 1, w, NULL);
        case 6:
            return gw_wire_encode_error(out, cap, 1, "m", 1, NULL, w, NULL);
        default:
            return gw_wire_encode_bytes(out, cap, GW_WIRE_T_DATA, "d", 1, NULL,
                                        w, NULL);
    }
}

static void test_encode_room(void)
{
    static const size_t need[] = {40, 8, 0, 0, 24, 12, 13, 9};
    char out[256];
    size_t cap, w, want;
    int which, bad = 0;

    for (which = 0; which < 8; which++) {
        want = need[which];
        if (which == 2) {
            want = gw_wire_request_size(env, NENV, 1);
        }
        else if (which == 3) {
            want = gw_wire_head_size(6, hdrs, NHDRS);
        }
        for (cap = 0; cap < want; cap++) {
            memset(out, '#', sizeof(out));
            bad += encode_some(which, out, cap, &w) != -1;
            bad += !guard_intact(out, 0, sizeof(out));
        }
        memset(out, '#', sizeof(out));
        w = 0;
        bad += encode_some(which, out, want, &w) != 0 || w != want;
        bad += !guard_intact(out, want, sizeof(out));
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_encode_refusals(void)
{
    gw_wire_pair_t p[2] = {{"A", 1, "b", 1}, {"", 0, "x", 1}};
    gw_wire_caps_t caps;
    char hdr[8];
    size_t w = 0;
    const char *err = NULL;

    gw_wire_caps_default(&caps);
    CU_ASSERT_EQUAL(gw_wire_encode_header(hdr, 0x42, 0, NULL, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "unknown frame type");
    CU_ASSERT_EQUAL(gw_wire_encode_header(hdr, GW_WIRE_T_DATA,
                                          GW_WIRE_CAP_DATA + 1, NULL, &err),
                    -1);
    CU_ASSERT_EQUAL(gw_wire_encode_header(hdr, GW_WIRE_T_DATA, GW_WIRE_CAP_DATA,
                                          NULL, &err),
                    0);
    CU_ASSERT_EQUAL(gw_wire_encode_header(hdr, GW_WIRE_T_READ, 5, NULL, &err),
                    -1);
    caps.data = 0xFFFFFFFFu; /* the widest cap still refuses 2^32 */
    CU_ASSERT_EQUAL(gw_wire_encode_header(hdr, GW_WIRE_T_DATA,
                                          (size_t)0xFFFFFFFFu, &caps, &err),
                    0);
    CU_ASSERT(MEMEQ(hdr + 4, "\xff\xff\xff\xff", 4));
    CU_ASSERT_EQUAL(
        gw_wire_encode_header(hdr, GW_WIRE_T_DATA, SIZE_MAX, &caps, &err), -1);
    CU_ASSERT_EQUAL(
        gw_wire_encode_hello(encbuf, sizeof(encbuf), secret32, 31, &w, &err),
        -1);
    CU_ASSERT_EQUAL(gw_wire_encode_read(encbuf, sizeof(encbuf), 0, &w, &err),
                    -1);
    CU_ASSERT_EQUAL(gw_wire_encode_file(encbuf, sizeof(encbuf),
                                        (uint64_t)INT64_MAX, 1, &w, &err),
                    -1);
    CU_ASSERT_EQUAL(gw_wire_encode_request(encbuf, sizeof(encbuf), p, 2, NULL,
                                           0, NULL, &w, &err),
                    -1);
    CU_ASSERT_STRING_EQUAL(err, "empty pair name");
    caps.head_pairs = 1;
    CU_ASSERT_EQUAL(gw_wire_encode_head(encbuf, sizeof(encbuf), "200 OK", 6,
                                        hdrs, 2, &caps, &w, &err),
                    -1);
    CU_ASSERT_STRING_EQUAL(err, "pair count over its cap");
    caps.error = 10; /* 4 + 7 > 10 */
    CU_ASSERT_EQUAL(gw_wire_encode_error(encbuf, sizeof(encbuf), 1, "1234567",
                                         7, &caps, &w, &err),
                    -1);
    CU_ASSERT_EQUAL(gw_wire_encode_bytes(encbuf, sizeof(encbuf), GW_WIRE_T_HEAD,
                                         "x", 1, NULL, &w, &err),
                    -1);
    CU_ASSERT_EQUAL(
        gw_wire_encode_empty(encbuf, sizeof(encbuf), GW_WIRE_T_DATA, &w, &err),
        -1);
    /* a NULL err is allowed */
    CU_ASSERT_EQUAL(gw_wire_encode_read(encbuf, sizeof(encbuf), 0, &w, NULL),
                    -1);
}

/* Size functions: 0 when the payload would not fit a u32, never a wrap. */
static void test_sizes(void)
{
    gw_wire_pair_t p = {"k", 1, "v", 1};
    gw_wire_pair_t huge = {"k", SIZE_MAX, "v", 1};
    gw_wire_pair_t wrap = {"k", 0xFFFFFFF8u, "v", 0xFFFFFFF8u};

    CU_ASSERT_EQUAL(gw_wire_request_size(NULL, 0, 0), 12);
    CU_ASSERT_EQUAL(gw_wire_request_size(&p, 1, 3), 8 + 4 + 10 + 3);
    CU_ASSERT_EQUAL(gw_wire_request_size(NULL, 0, 0xFFFFFFFFu - 4),
                    8 + (size_t)0xFFFFFFFFu);
    CU_ASSERT_EQUAL(gw_wire_request_size(NULL, 0, 0xFFFFFFFFu - 3), 0);
    CU_ASSERT_EQUAL(gw_wire_request_size(NULL, 0, SIZE_MAX), 0);
    CU_ASSERT_EQUAL(gw_wire_request_size(&huge, 1, 0), 0);
    CU_ASSERT_EQUAL(gw_wire_request_size(&wrap, 1, 0), 0);
    CU_ASSERT_EQUAL(gw_wire_head_size(6, NULL, 0), 8 + 8 + 6);
    CU_ASSERT_EQUAL(gw_wire_head_size(6, &p, 1), 8 + 8 + 6 + 10);
    CU_ASSERT_EQUAL(gw_wire_head_size(SIZE_MAX, NULL, 0), 0);
    CU_ASSERT_EQUAL(gw_wire_head_size(0xFFFFFFFFu - 7, NULL, 0), 0);
    CU_ASSERT_EQUAL(gw_wire_head_size(0xFFFFFFFFu - 8, NULL, 0),
                    8 + (size_t)0xFFFFFFFFu);
}

/* ---- helpers ------------------------------------------------------------ */

static void test_secret_eq(void)
{
    unsigned char a[GW_WIRE_SECRET_LEN], b[GW_WIRE_SECRET_LEN];
    size_t i;
    int bit, bad = 0;

    memcpy(a, secret32, sizeof(a));
    memcpy(b, secret32, sizeof(b));
    CU_ASSERT_EQUAL(gw_wire_secret_eq(a, b, sizeof(a)), 1);
    CU_ASSERT_EQUAL(gw_wire_secret_eq(a, b, 0), 1);
    for (i = 0; i < sizeof(a); i++) { /* every single-bit difference */
        for (bit = 0; bit < 8; bit++) {
            b[i] ^= (unsigned char)(1u << bit);
            bad += gw_wire_secret_eq(a, b, sizeof(a)) != 0;
            bad += gw_wire_secret_eq(b, a, sizeof(a)) != 0;
            bad += gw_wire_secret_eq(a, b, i) != 1; /* before it: equal */
            b[i] ^= (unsigned char)(1u << bit);
        }
    }
    memset(a, 0, sizeof(a));
    memset(b, 0xFF, sizeof(b));
    bad += gw_wire_secret_eq(a, b, sizeof(a)) != 0;
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_names_and_status(void)
{
    CU_ASSERT_STRING_EQUAL(gw_wire_type_name(GW_WIRE_T_HELLO), "HELLO");
    CU_ASSERT_STRING_EQUAL(gw_wire_type_name(GW_WIRE_T_REQUEST), "REQUEST");
    CU_ASSERT_STRING_EQUAL(gw_wire_type_name(GW_WIRE_T_BODY_END), "BODY_END");
    CU_ASSERT_STRING_EQUAL(gw_wire_type_name(GW_WIRE_T_FILE), "FILE");
    CU_ASSERT_STRING_EQUAL(gw_wire_type_name(GW_WIRE_T_ERROR), "ERROR");
    CU_ASSERT_STRING_EQUAL(gw_wire_type_name(-1), "UNKNOWN");
    CU_ASSERT_EQUAL(gw_wire_type_direction(GW_WIRE_T_ABORT), GW_WIRE_TO_DAEMON);
    CU_ASSERT_EQUAL(gw_wire_type_direction(GW_WIRE_T_END), GW_WIRE_TO_CHILD);
    CU_ASSERT_EQUAL(gw_wire_type_direction(0), 0);
    CU_ASSERT_EQUAL(gw_wire_error_status(GW_WIRE_ERR_APP), 500);
    CU_ASSERT_EQUAL(gw_wire_error_status(GW_WIRE_ERR_UNAVAILABLE), 503);
    CU_ASSERT_EQUAL(gw_wire_error_status(GW_WIRE_ERR_TIMEOUT), 504);
    CU_ASSERT_EQUAL(gw_wire_error_status(0), 502);
    CU_ASSERT_EQUAL(gw_wire_error_status(0xFFFFFFFFu), 502);
}

static CU_TestInfo tests[] = {
    {"roundtrip HELLO", test_roundtrip_hello},
    {"roundtrip REQUEST", test_roundtrip_request},
    {"roundtrip HEAD", test_roundtrip_head},
    {"roundtrip READ FILE ERROR", test_roundtrip_fixed},
    {"roundtrip empty, BODY, DATA", test_roundtrip_empty_and_bytes},
    {"header for writev", test_header_writev},
    {"split: each frame at every cut", test_split_each_frame},
    {"split: streams, 1/2 cuts, bytewise", test_split_streams},
    {"split: error after frames", test_split_errors},
    {"large DATA streams, no alloc", test_large_data_streams},
    {"buffers reused", test_buffers_reused},
    {"bad magic", test_bad_magic},
    {"bad version", test_bad_version},
    {"unknown type", test_unknown_type},
    {"wrong direction", test_wrong_direction},
    {"over cap on header, no alloc", test_over_cap},
    {"fixed sizes", test_fixed_sizes},
    {"READ zero, FILE range, ERROR short", test_read_file_values},
    {"REQUEST counts before alloc", test_request_counts},
    {"pair lengths past frame", test_pair_lengths},
    {"HEAD errors", test_head_errors},
    {"truncated frames", test_truncated},
    {"sticky error, reset", test_sticky_and_reset},
    {"out of memory", test_out_of_memory},
    {"decoder init", test_decoder_init},
    {"encoders: output room", test_encode_room},
    {"encoders: refusals", test_encode_refusals},
    {"size functions", test_sizes},
    {"secret_eq", test_secret_eq},
    {"names and status", test_names_and_status},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "wire"
#include "unit.h"
