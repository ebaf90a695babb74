/*
 * wire_oracle.c -- the body shared by fuzz_wire_daemon and fuzz_wire_child:
 * drives gw_wire's incremental decoder over one fuzz input and checks it.
 *
 * Not a target by itself; each fuzz_wire_*.c calls fuzz_wire_one() with its
 * direction. No mod_gateway code is changed or stubbed: gw_wire.c is linked
 * as it is built for the module.
 *
 * Input layout (all optional parts are read only when their bit is set, and
 * whatever is missing counts as zero):
 *
 *   byte 0       control: bit 0 = small caps follow, bit 1 = OOM byte
 *                follows, bits 2..7 = number of split bytes (0..63)
 *   7 bytes      (bit 0) caps: request, head, body, data, error as 8 x byte,
 *                then request_pairs, head_pairs as byte (0..255); without
 *                them the decoder and the encoders get NULL caps (defaults)
 *   1 byte       (bit 1) the allocator succeeds this many times, then fails
 *   n bytes      split bytes, used round-robin as piece lengths: 0 = an empty
 *                feed (NULL or "") then 1 byte, 1..200 = that many bytes,
 *                201..255 = (b - 200) x 128 bytes; no split bytes = byte by
 *                byte
 *   the rest     the byte stream on the socket
 *
 * Oracles (any failure prints a reason and aborts):
 *  - split invariance: the transcript (per frame: type, start, end, decoded
 *    fields, BODY/DATA chunks joined per frame; the error reason and the
 *    offset of the frame it happened in; at EOF the idle flag and the bytes
 *    of a partly received BODY/DATA frame) is identical whether the stream
 *    is fed whole or in the fuzzer's pieces, each piece a separate
 *    exact-size malloc so ASan sees any read past it. The byte count
 *    consumed with an error is not compared: the header check runs on what
 *    has arrived, so a bad magic byte fed whole is reported with the 8
 *    header bytes consumed and fed byte by byte with 1 or 2 (the header
 *    makes no promise there); it must lie inside the failing frame.
 *  - round trip: each frame re-encodes with gw_wire_encode_* (and
 *    gw_wire_encode_header, gw_wire_*_size) to exactly the bytes it was
 *    decoded from; the encoder refuses a buffer one byte short, a cap one
 *    byte lower, a pair cap one lower, and writes nothing past its buffer;
 *    it also refuses what the decoder refuses (an empty pair name, READ 0,
 *    a FILE range past INT64_MAX, a 31-byte secret) and the wrong type
 *    (an empty type to encode_bytes, BODY/DATA to encode_empty);
 *    gw_wire_secret_eq agrees with memcmp on each HELLO.
 *  - invariants: the type belongs to the direction; payload <= its cap or
 *    its exact size; pair counts <= caps; names non-empty; READ want > 0;
 *    FILE range <= INT64_MAX; every pointer handed out lies inside the
 *    frame's payload in the piece fed, or inside a decoder allocation; each
 *    allocation <= twice what the frame's claimed length can hold (so
 *    counts are checked against the bytes left before allocating) and <=
 *    the largest cap, all of them together a small multiple of it (memory
 *    does not grow with the stream); errors are sticky;
 *    gw_wire_decoder_idle() is 1 exactly at frame boundaries; after
 *    gw_wire_decoder_reset() the decoder decodes like a fresh one.
 *  - allocation failure: with a failing allocator the transcript is the
 *    normal one cut at a frame boundary, followed by "out of memory".
 */
#include "gw_wire.h"
#include "../bytebuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fuzz_wire_one(int direction, const uint8_t *data, size_t size);

/* ---- failing loudly ----------------------------------------------------- */

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "fuzz_wire oracle failed: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            die("%s:%d: %s", __FILE__, __LINE__, #cond);                       \
        }                                                                      \
    } while (0)

/* ---- a recording allocator with pool semantics ----------------------- */

typedef struct {
    unsigned char **blocks;
    size_t *sizes;
    size_t n;
    size_t room;
    size_t calls;
    long succeed; /* calls that succeed before every later one fails; -1 */
    size_t total;
    size_t largest;
    size_t refused;
} arena_t;

static int arena_holds(const arena_t *a, const void *p, size_t n)
{
    const unsigned char *c = p;
    size_t i;

    for (i = 0; i < a->n; i++) {
        if (c >= a->blocks[i] && n <= a->sizes[i] &&
            (size_t)(c - a->blocks[i]) <= a->sizes[i] - n) {
            return 1;
        }
    }
    return 0;
}

static void arena_free(arena_t *a)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        free(a->blocks[i]);
    }
    free(a->blocks);
    free(a->sizes);
    memset(a, 0, sizeof(*a));
}

/* ---- one decoding run ------------------------------------------------- */

typedef struct {
    int direction;
    const gw_wire_caps_t *caps;     /* the caps in force */
    const gw_wire_caps_t *caps_arg; /* what the API is given: NULL = defaults */
    const unsigned char *stream;    /* the whole stream, for round trips */
    size_t stream_len;
    gw_wire_decoder_t dec;
    arena_t arena;
    buf_t tr;     /* transcript */
    buf_t bounds; /* transcript length after each event, as u64 */
    buf_t chunk;  /* BODY/DATA bytes of the frame in progress */
    int in_chunk;
    int chunk_type;
    uint32_t chunk_frame_len;
    size_t frame_start; /* stream offset where the current frame began */
    size_t pos;         /* stream bytes consumed so far */
    const char *piece;  /* the piece being fed and its stream offset */
    size_t piece_len;
    size_t piece_at;
    const char *err; /* reason of the error, once there was one */
    size_t frames;
} run_t;

/* Every allocation is checked against the frame being decoded: at most
 * twice its payload (the reused buffer doubles) or twice the pair array
 * its length could hold, so a count is checked against the bytes that
 * remain before the pair array is allocated (a 12-byte frame must not
 * allocate 4096 pairs). */
static void *arena_alloc(void *baton, size_t size)
{
    run_t *r = baton;
    arena_t *a = &r->arena;
    const unsigned char *h = r->stream + r->frame_start;
    size_t claimed, bound;
    unsigned char *p;

    CHECK(r->frame_start + GW_WIRE_HEADER_LEN <= r->stream_len);
    claimed = ((size_t)h[4] << 24) | ((size_t)h[5] << 16) |
              ((size_t)h[6] << 8) | h[7];
    bound = 2 * claimed;
    if (2 * (claimed / 8) * sizeof(gw_wire_pair_t) > bound) {
        bound = 2 * (claimed / 8) * sizeof(gw_wire_pair_t);
    }
    if (size == 0 || size > bound) {
        die("decoder allocated %zu bytes for a %s frame of %zu bytes", size,
            gw_wire_type_name(h[3]), claimed);
    }
    a->calls++;
    if (a->succeed >= 0 && a->calls > (size_t)a->succeed) {
        a->refused++;
        return NULL;
    }
    if (a->n == a->room) {
        a->room = a->room ? a->room * 2 : 8;
        a->blocks = realloc(a->blocks, a->room * sizeof(*a->blocks));
        a->sizes = realloc(a->sizes, a->room * sizeof(*a->sizes));
        if (a->blocks == NULL || a->sizes == NULL) {
            abort();
        }
    }
    /* exact size, so ASan sees a write or read past a decoder buffer */
    p = malloc(size ? size : 1);
    if (p == NULL) {
        abort();
    }
    a->blocks[a->n] = p;
    a->sizes[a->n] = size;
    a->n++;
    a->total += size;
    if (size > a->largest) {
        a->largest = size;
    }
    return p;
}

static void run_init(run_t *r, int direction, const gw_wire_caps_t *caps,
                     int defaults, const unsigned char *stream, size_t len,
                     long succeed)
{
    memset(r, 0, sizeof(*r));
    r->direction = direction;
    r->caps = caps;
    r->caps_arg = defaults ? NULL : caps;
    r->stream = stream;
    r->stream_len = len;
    r->arena.succeed = succeed;
    if (gw_wire_decoder_init(&r->dec, direction, r->caps_arg, arena_alloc, r) !=
        0) {
        die("gw_wire_decoder_init refused a valid direction");
    }
}

/* Forgets the transcript, keeps the decoder and its allocations. */
static void run_restart(run_t *r)
{
    buf_free(&r->tr);
    buf_free(&r->bounds);
    buf_free(&r->chunk);
    r->in_chunk = 0;
    r->frame_start = 0;
    r->pos = 0;
    r->err = NULL;
    r->frames = 0;
}

static void run_free(run_t *r)
{
    arena_free(&r->arena);
    buf_free(&r->tr);
    buf_free(&r->bounds);
    buf_free(&r->chunk);
}

static void end_event(run_t *r)
{
    buf_u64(&r->bounds, r->tr.n);
}

/* A pointer the decoder hands out lies inside the current frame's payload
 * in the piece being fed, or inside one of the decoder's allocations. */
static void check_ptr(const run_t *r, const void *p, size_t n)
{
    const char *c = p;
    size_t at;

    if (n == 0) {
        return;
    }
    CHECK(c != NULL);
    if (c >= r->piece && c < r->piece + r->piece_len) {
        CHECK(n <= r->piece_len - (size_t)(c - r->piece));
        at = r->piece_at + (size_t)(c - r->piece);
        CHECK(at >= r->frame_start + GW_WIRE_HEADER_LEN);
        CHECK(at + n <= r->pos);
        return;
    }
    CHECK(arena_holds(&r->arena, p, n));
}

static uint32_t cap_of(const gw_wire_caps_t *caps, int type)
{
    switch (type) {
        case GW_WIRE_T_REQUEST:
            return caps->request;
        case GW_WIRE_T_HEAD:
            return caps->head;
        case GW_WIRE_T_BODY:
            return caps->body;
        case GW_WIRE_T_DATA:
            return caps->data;
        case GW_WIRE_T_ERROR:
            return caps->error;
        default:
            return 0;
    }
}

static long fixed_len(int type)
{
    switch (type) {
        case GW_WIRE_T_HELLO:
            return GW_WIRE_SECRET_LEN;
        case GW_WIRE_T_READ:
            return GW_WIRE_READ_LEN;
        case GW_WIRE_T_FILE:
            return GW_WIRE_FILE_LEN;
        case GW_WIRE_T_BODY_END:
        case GW_WIRE_T_ABORT:
        case GW_WIRE_T_END:
        case GW_WIRE_T_CLOSE:
        case GW_WIRE_T_READY:
            return 0;
        default:
            return -1;
    }
}

static void set_cap(gw_wire_caps_t *caps, int type, uint32_t v)
{
    switch (type) {
        case GW_WIRE_T_REQUEST:
            caps->request = v;
            break;
        case GW_WIRE_T_HEAD:
            caps->head = v;
            break;
        case GW_WIRE_T_BODY:
            caps->body = v;
            break;
        case GW_WIRE_T_DATA:
            caps->data = v;
            break;
        case GW_WIRE_T_ERROR:
            caps->error = v;
            break;
        default:
            break;
    }
}

/* ---- the round-trip oracle ------------------------------------------- */

/* Encodes frame f (for BODY/DATA: the joined chunk bytes) into exactly
 * cap bytes with caps; returns the encoder's result. */
static int encode_frame(const gw_wire_frame_t *f, const buf_t *chunk, char *out,
                        size_t cap, const gw_wire_caps_t *caps, size_t *written,
                        const char **err)
{
    switch (f->type) {
        case GW_WIRE_T_HELLO:
            return gw_wire_encode_hello(out, cap, f->u.hello.secret,
                                        GW_WIRE_SECRET_LEN, written, err);
        case GW_WIRE_T_REQUEST:
            return gw_wire_encode_request(
                out, cap, f->u.request.pairs, f->u.request.npairs,
                f->u.request.body, f->u.request.body_len, caps, written, err);
        case GW_WIRE_T_HEAD:
            return gw_wire_encode_head(out, cap, f->u.head.status,
                                       f->u.head.status_len, f->u.head.headers,
                                       f->u.head.nheaders, caps, written, err);
        case GW_WIRE_T_BODY:
        case GW_WIRE_T_DATA:
            return gw_wire_encode_bytes(out, cap, f->type,
                                        (const char *)chunk->p, chunk->n, caps,
                                        written, err);
        case GW_WIRE_T_READ:
            return gw_wire_encode_read(out, cap, f->u.read.want, written, err);
        case GW_WIRE_T_FILE:
            return gw_wire_encode_file(out, cap, f->u.file.offset,
                                       f->u.file.length, written, err);
        case GW_WIRE_T_ERROR:
            return gw_wire_encode_error(
                out, cap, f->u.error.code, f->u.error.message,
                f->u.error.message_len, caps, written, err);
        default:
            return gw_wire_encode_empty(out, cap, f->type, written, err);
    }
}

static size_t frame_pairs(const gw_wire_frame_t *f)
{
    if (f->type == GW_WIRE_T_REQUEST) {
        return f->u.request.npairs;
    }
    return f->type == GW_WIRE_T_HEAD ? f->u.head.nheaders : 0;
}

/* Variants of a decoded frame that its decoder would refuse: the encoders
 * must refuse them too (gw_wire.h: "encoders refuse what the peer's
 * decoder would refuse"). */
static void check_refusals(const run_t *r, const gw_wire_frame_t *f)
{
    static const unsigned char other[GW_WIRE_SECRET_LEN] = {1};
    char out[64];
    gw_wire_pair_t *bad;
    size_t n = frame_pairs(f), w = 0, room;
    char *big;
    int is_req = f->type == GW_WIRE_T_REQUEST;

    switch (f->type) {
        case GW_WIRE_T_HELLO:
            /* the secret compare agrees with memcmp */
            CHECK(gw_wire_secret_eq(f->u.hello.secret, f->u.hello.secret,
                                    GW_WIRE_SECRET_LEN) == 1);
            CHECK(gw_wire_secret_eq(f->u.hello.secret, other,
                                    GW_WIRE_SECRET_LEN) ==
                  !memcmp(f->u.hello.secret, other, GW_WIRE_SECRET_LEN));
            CHECK(gw_wire_encode_hello(out, sizeof(out), f->u.hello.secret,
                                       GW_WIRE_SECRET_LEN - 1, &w, NULL) == -1);
            break;
        case GW_WIRE_T_READ:
            CHECK(gw_wire_encode_read(out, sizeof(out), 0, &w, NULL) == -1);
            break;
        case GW_WIRE_T_FILE:
            CHECK(
                gw_wire_encode_file(out, sizeof(out), f->u.file.offset,
                                    (uint64_t)INT64_MAX - f->u.file.offset + 1,
                                    &w, NULL) == -1);
            break;
        case GW_WIRE_T_BODY:
        case GW_WIRE_T_DATA:
            CHECK(gw_wire_encode_empty(out, sizeof(out), f->type, &w, NULL) ==
                  -1);
            break;
        default:
            if (fixed_len(f->type) == 0) {
                CHECK(gw_wire_encode_bytes(out, sizeof(out), f->type, "", 0,
                                           r->caps_arg, &w, NULL) == -1);
            }
            break;
    }
    if (n == 0) {
        return;
    }
    /* an empty pair name, with room enough for the frame */
    bad = malloc(n * sizeof(*bad));
    CHECK(bad != NULL);
    memcpy(bad, is_req ? f->u.request.pairs : f->u.head.headers,
           n * sizeof(*bad));
    bad[n - 1].name_len = 0;
    room = is_req ? gw_wire_request_size(bad, n, f->u.request.body_len)
                  : gw_wire_head_size(f->u.head.status_len, bad, n);
    big = malloc(room ? room : 1);
    CHECK(big != NULL);
    if (is_req) {
        CHECK(gw_wire_encode_request(big, room, bad, n, f->u.request.body,
                                     f->u.request.body_len, r->caps_arg, &w,
                                     NULL) == -1);
    }
    else {
        CHECK(gw_wire_encode_head(big, room, f->u.head.status,
                                  f->u.head.status_len, bad, n, r->caps_arg, &w,
                                  NULL) == -1);
    }
    free(big);
    free(bad);
}

static void round_trip(const run_t *r, const gw_wire_frame_t *f, size_t start,
                       size_t end)
{
    size_t flen = end - start, written = 0;
    const unsigned char *orig = r->stream + start;
    gw_wire_caps_t tighter;
    const char *err = NULL;
    char hdr[GW_WIRE_HEADER_LEN];
    char *out;
    int rc;

    CHECK(end <= r->stream_len && flen >= GW_WIRE_HEADER_LEN);
    out = malloc(flen);
    CHECK(out != NULL);
    rc = encode_frame(f, &r->chunk, out, flen, r->caps_arg, &written, &err);
    if (rc != 0) {
        die("%s frame at %zu (%zu bytes) decoded but does not re-encode: %s",
            gw_wire_type_name(f->type), start, flen, err ? err : "?");
    }
    CHECK(written == flen);
    if (memcmp(out, orig, flen) != 0) {
        die("%s frame at %zu re-encodes to different bytes",
            gw_wire_type_name(f->type), start);
    }
    free(out);

    CHECK(gw_wire_encode_header(hdr, f->type, flen - GW_WIRE_HEADER_LEN,
                                r->caps_arg, &err) == 0);
    CHECK(memcmp(hdr, orig, GW_WIRE_HEADER_LEN) == 0);
    if (f->type == GW_WIRE_T_REQUEST) {
        CHECK(gw_wire_request_size(f->u.request.pairs, f->u.request.npairs,
                                   f->u.request.body_len) == flen);
    }
    if (f->type == GW_WIRE_T_HEAD) {
        CHECK(gw_wire_head_size(f->u.head.status_len, f->u.head.headers,
                                f->u.head.nheaders) == flen);
    }

    /* one byte short: refused, nothing written past the buffer (ASan) */
    out = malloc(flen - 1 ? flen - 1 : 1);
    CHECK(out != NULL);
    err = NULL;
    CHECK(encode_frame(f, &r->chunk, out, flen - 1, r->caps_arg, &written,
                       &err) == -1);
    CHECK(err != NULL);
    free(out);

    /* the encoder refuses what a decoder with a lower cap would refuse */
    out = malloc(flen);
    CHECK(out != NULL);
    if (fixed_len(f->type) < 0 && flen > GW_WIRE_HEADER_LEN) {
        tighter = *r->caps;
        set_cap(&tighter, f->type, (uint32_t)(flen - GW_WIRE_HEADER_LEN - 1));
        CHECK(encode_frame(f, &r->chunk, out, flen, &tighter, &written, NULL) ==
              -1);
    }
    if (frame_pairs(f) > 0) {
        tighter = *r->caps;
        if (f->type == GW_WIRE_T_REQUEST) {
            tighter.request_pairs = (uint32_t)(frame_pairs(f) - 1);
        }
        else {
            tighter.head_pairs = (uint32_t)(frame_pairs(f) - 1);
        }
        CHECK(encode_frame(f, &r->chunk, out, flen, &tighter, &written, NULL) ==
              -1);
    }
    free(out);
    check_refusals(r, f);
}

/* ---- transcript ------------------------------------------------------- */

static void tr_pairs(run_t *r, const gw_wire_pair_t *p, size_t n, uint32_t max)
{
    size_t i;

    CHECK(n <= max);
    CHECK(n == 0 || p != NULL);
    buf_u64(&r->tr, n);
    for (i = 0; i < n; i++) {
        CHECK(p[i].name_len > 0);
        check_ptr(r, p[i].name, p[i].name_len);
        check_ptr(r, p[i].value, p[i].value_len);
        buf_u64(&r->tr, p[i].name_len);
        buf_add(&r->tr, p[i].name, p[i].name_len);
        buf_u64(&r->tr, p[i].value_len);
        buf_add(&r->tr, p[i].value, p[i].value_len);
    }
}

static void tr_fields(run_t *r, const gw_wire_frame_t *f, size_t payload)
{
    buf_t *t = &r->tr;

    switch (f->type) {
        case GW_WIRE_T_HELLO:
            check_ptr(r, f->u.hello.secret, GW_WIRE_SECRET_LEN);
            buf_add(t, f->u.hello.secret, GW_WIRE_SECRET_LEN);
            break;
        case GW_WIRE_T_REQUEST:
            tr_pairs(r, f->u.request.pairs, f->u.request.npairs,
                     r->caps->request_pairs);
            check_ptr(r, f->u.request.body, f->u.request.body_len);
            CHECK(f->u.request.body_len <= payload);
            buf_u64(t, f->u.request.body_len);
            buf_add(t, f->u.request.body, f->u.request.body_len);
            break;
        case GW_WIRE_T_HEAD:
            check_ptr(r, f->u.head.status, f->u.head.status_len);
            buf_u64(t, f->u.head.status_len);
            buf_add(t, f->u.head.status, f->u.head.status_len);
            tr_pairs(r, f->u.head.headers, f->u.head.nheaders,
                     r->caps->head_pairs);
            break;
        case GW_WIRE_T_READ:
            CHECK(f->u.read.want > 0);
            buf_u64(t, f->u.read.want);
            break;
        case GW_WIRE_T_FILE:
            CHECK(f->u.file.offset <= (uint64_t)INT64_MAX);
            CHECK(f->u.file.length <= (uint64_t)INT64_MAX - f->u.file.offset);
            buf_u64(t, f->u.file.offset);
            buf_u64(t, f->u.file.length);
            break;
        case GW_WIRE_T_ERROR:
            check_ptr(r, f->u.error.message, f->u.error.message_len);
            CHECK(f->u.error.message_len + 4 == payload);
            CHECK(gw_wire_error_status(f->u.error.code) >= 500 &&
                  gw_wire_error_status(f->u.error.code) <= 504);
            buf_u64(t, f->u.error.code);
            buf_u64(t, f->u.error.message_len);
            buf_add(t, f->u.error.message, f->u.error.message_len);
            break;
        default:
            break;
    }
}

/* Checks that apply to every complete frame, then records it. */
static void tr_frame(run_t *r, const gw_wire_frame_t *f, const buf_t *body)
{
    size_t start = r->frame_start, end = r->pos;
    size_t payload = end - start - GW_WIRE_HEADER_LEN;
    long fixed = fixed_len(f->type);

    CHECK(end - start >= GW_WIRE_HEADER_LEN);
    CHECK(gw_wire_type_direction(f->type) == r->direction);
    CHECK(strcmp(gw_wire_type_name(f->type), "UNKNOWN") != 0);
    if (fixed >= 0) {
        CHECK(payload == (size_t)fixed);
    }
    else {
        CHECK(payload <= cap_of(r->caps, f->type));
    }
    buf_u8(&r->tr, 'F');
    buf_u8(&r->tr, (unsigned)f->type);
    buf_u64(&r->tr, start);
    buf_u64(&r->tr, end);
    if (body != NULL) {
        CHECK(body->n == payload);
        buf_add(&r->tr, body->p, body->n);
    }
    else {
        tr_fields(r, f, payload);
    }
    end_event(r);
    round_trip(r, f, start, end);
    r->frames++;
    r->frame_start = end;
}

static void tr_chunk(run_t *r, const gw_wire_frame_t *f)
{
    if (!r->in_chunk) {
        CHECK(f->u.chunk.first);
        r->in_chunk = 1;
        r->chunk_type = f->type;
        r->chunk_frame_len = f->u.chunk.frame_len;
        r->chunk.n = 0;
    }
    else {
        CHECK(!f->u.chunk.first);
        CHECK(f->type == r->chunk_type);
        CHECK(f->u.chunk.frame_len == r->chunk_frame_len);
    }
    /* one empty chunk only for an empty frame */
    CHECK(f->u.chunk.len > 0 || (f->u.chunk.last && r->chunk_frame_len == 0));
    check_ptr(r, f->u.chunk.data, f->u.chunk.len);
    buf_add(&r->chunk, f->u.chunk.data, f->u.chunk.len);
    CHECK(r->chunk.n <= r->chunk_frame_len);
    CHECK(!!f->u.chunk.last == (r->chunk.n == r->chunk_frame_len));
    if (f->u.chunk.last) {
        tr_frame(r, f, &r->chunk);
        r->in_chunk = 0;
    }
}

static void on_frame(run_t *r, const gw_wire_frame_t *f)
{
    if (f->type == GW_WIRE_T_BODY || f->type == GW_WIRE_T_DATA) {
        tr_chunk(r, f);
        return;
    }
    CHECK(!r->in_chunk);
    tr_frame(r, f, NULL);
}

static void on_error(run_t *r)
{
    const char *err = gw_wire_decoder_error(&r->dec);

    CHECK(err != NULL);
    CHECK(!r->in_chunk);
    CHECK(r->pos > r->frame_start);
    CHECK(!gw_wire_decoder_idle(&r->dec));
    r->err = err;
    buf_u8(&r->tr, 'E');
    buf_u64(&r->tr, r->frame_start);
    buf_add(&r->tr, err, strlen(err) + 1);
    end_event(r);
}

/* EOF: what is left half-received must be the same however it came. */
static void on_eof(run_t *r)
{
    int idle = gw_wire_decoder_idle(&r->dec);

    CHECK(r->pos == r->stream_len);
    CHECK(gw_wire_decoder_error(&r->dec) == NULL);
    CHECK(idle == (r->pos == r->frame_start && !r->in_chunk));
    buf_u8(&r->tr, 'Z');
    buf_u8(&r->tr, (unsigned)idle);
    buf_u64(&r->tr, r->frame_start);
    buf_u8(&r->tr, (unsigned)r->in_chunk);
    if (r->in_chunk) {
        buf_u8(&r->tr, (unsigned)r->chunk_type);
        buf_u64(&r->tr, r->chunk.n);
        buf_add(&r->tr, r->chunk.p, r->chunk.n);
    }
    end_event(r);
}

/* Feeds one piece until it is used up. Returns -1 once the decoder
 * failed. src NULL with n 0 feeds NULL (allowed by the API). */
static int feed_piece(run_t *r, const unsigned char *src, size_t n)
{
    char *piece = NULL;
    size_t off = 0, used;
    gw_wire_frame_t f;
    int rc;

    if (src != NULL) {
        piece = malloc(n ? n : 1);
        CHECK(piece != NULL);
        if (n > 0) {
            memcpy(piece, src, n);
        }
    }
    r->piece = piece;
    r->piece_len = n;
    r->piece_at = r->pos;
    for (;;) {
        used = (size_t)-1;
        rc = gw_wire_decoder_feed(&r->dec, piece ? piece + off : NULL, n - off,
                                  &used, &f);
        CHECK(used <= n - off);
        off += used;
        r->pos += used;
        if (rc != GW_WIRE_FRAME) {
            break;
        }
        CHECK(used > 0); /* a frame takes at least one byte: no livelock */
        on_frame(r, &f);
    }
    if (rc == GW_WIRE_ERROR) {
        on_error(r);
        /* sticky: nothing more is consumed, the reason does not change */
        CHECK(gw_wire_decoder_feed(&r->dec, piece ? piece + off : NULL, n - off,
                                   &used, &f) == GW_WIRE_ERROR);
        CHECK(used == 0);
        CHECK(gw_wire_decoder_error(&r->dec) == r->err);
        free(piece);
        return -1;
    }
    CHECK(rc == GW_WIRE_NEED_MORE);
    CHECK(off == n);
    CHECK(gw_wire_decoder_error(&r->dec) == NULL);
    free(piece);
    return 0;
}

/* ---- input layout ------------------------------------------------------ */

typedef struct {
    gw_wire_caps_t caps;
    int defaults; /* no caps byte: pass NULL caps (= the defaults) */
    long succeed; /* -1: the allocator never fails */
    const unsigned char *splits;
    size_t nsplits;
    const unsigned char *stream;
    size_t len;
} plan_t;

static unsigned char take(const uint8_t **p, size_t *left)
{
    unsigned char c = 0;

    if (*left > 0) {
        c = **p;
        (*p)++;
        (*left)--;
    }
    return c;
}

static void parse_plan(plan_t *pl, const uint8_t *data, size_t size)
{
    unsigned char ctl = take(&data, &size);
    size_t n;

    gw_wire_caps_default(&pl->caps);
    pl->defaults = !(ctl & 1);
    if (ctl & 1) {
        /* small caps, so the cap checks are reached by small inputs */
        pl->caps.request = 8u * take(&data, &size);
        pl->caps.head = 8u * take(&data, &size);
        pl->caps.body = 8u * take(&data, &size);
        pl->caps.data = 8u * take(&data, &size);
        pl->caps.error = 8u * take(&data, &size);
        pl->caps.request_pairs = take(&data, &size);
        pl->caps.head_pairs = take(&data, &size);
    }
    pl->succeed = -1;
    if (ctl & 2) {
        pl->succeed = take(&data, &size) % 8;
    }
    n = (size_t)(ctl >> 2);
    if (n > size) {
        n = size;
    }
    pl->splits = data;
    pl->nsplits = n;
    pl->stream = data + n;
    pl->len = size - n;
}

static void feed_split(run_t *r, const plan_t *pl)
{
    size_t off = 0, i = 0, n;
    unsigned char b;

    while (off < pl->len) {
        b = pl->nsplits ? pl->splits[i % pl->nsplits] : 1;
        if (b == 0) {
            if (feed_piece(r, (i & 1) ? NULL : pl->stream + off, 0) != 0) {
                return;
            }
            b = 1;
        }
        i++;
        n = b <= 200 ? b : (size_t)(b - 200) * 128;
        if (n > pl->len - off) {
            n = pl->len - off;
        }
        if (feed_piece(r, pl->stream + off, n) != 0) {
            return;
        }
        off += n;
    }
    on_eof(r);
}

static void feed_whole(run_t *r, const plan_t *pl)
{
    if (feed_piece(r, pl->stream, pl->len) == 0) {
        on_eof(r);
    }
}

/* ---- comparing runs ------------------------------------------------------ */

static void dump(const char *what, const buf_t *t)
{
    size_t i;

    fprintf(stderr, "%s transcript (%zu bytes):", what, t->n);
    for (i = 0; i < t->n && i < 512; i++) {
        fprintf(stderr, "%s%02x", i % 32 ? "" : "\n  ", t->p[i]);
    }
    fprintf(stderr, "%s\n", t->n > 512 ? " ..." : "");
}

static int same_bytes(const buf_t *a, const buf_t *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

static void check_same(const run_t *a, const run_t *b, const char *what)
{
    if (!same_bytes(&a->tr, &b->tr)) {
        dump("whole", &a->tr);
        dump(what, &b->tr);
        die("split invariance: %s decode differs from the whole one", what);
    }
}

/* The failing-allocator run equals the normal one up to an event boundary
 * of the normal one, then says "out of memory". */
static void check_oom(const run_t *normal, const run_t *oom)
{
    size_t cut, i, nb;
    int found = 0;

    if (oom->arena.refused == 0 || oom->err == NULL ||
        strcmp(oom->err, "out of memory") != 0) {
        check_same(normal, oom, "failing-allocator");
        return;
    }
    nb = oom->bounds.n / 8;
    /* the error is the last event; what came before it must match */
    cut = 0;
    if (nb >= 2) {
        for (i = 0; i < 8; i++) {
            cut = (cut << 8) | oom->bounds.p[(nb - 2) * 8 + i];
        }
    }
    for (i = 0; i * 8 < normal->bounds.n && !found; i++) {
        size_t b = 0, k;

        for (k = 0; k < 8; k++) {
            b = (b << 8) | normal->bounds.p[i * 8 + k];
        }
        found = b == cut;
    }
    if (!(cut == 0 || found) || cut > normal->tr.n ||
        (cut > 0 && memcmp(normal->tr.p, oom->tr.p, cut) != 0)) {
        dump("normal", &normal->tr);
        dump("failing-allocator", &oom->tr);
        die("allocation failure changed the frames decoded before it");
    }
}

/* Memory is bounded by the caps, and does not grow with the stream. */
static void check_memory(const run_t *r)
{
    const gw_wire_caps_t *c = r->caps;
    size_t one = GW_WIRE_SECRET_LEN, pairs;

    if (r->direction == GW_WIRE_TO_DAEMON) {
        one = c->request > one ? c->request : one;
        pairs = (size_t)c->request_pairs * sizeof(gw_wire_pair_t);
    }
    else {
        one = c->head > one ? c->head : one;
        one = c->error > one ? c->error : one;
        pairs = (size_t)c->head_pairs * sizeof(gw_wire_pair_t);
    }
    one = pairs > one ? pairs : one;
    if (r->arena.largest > one || r->arena.total > 4 * one + 64) {
        die("decoder allocated %zu bytes in all, %zu at once (caps allow %zu)",
            r->arena.total, r->arena.largest, one);
    }
}

int fuzz_wire_one(int direction, const uint8_t *data, size_t size)
{
    plan_t pl;
    run_t whole, split, oom;

    if (data == NULL) {
        data = (const uint8_t *)"";
        size = 0;
    }
    parse_plan(&pl, data, size);

    run_init(&whole, direction, &pl.caps, pl.defaults, pl.stream, pl.len, -1);
    feed_whole(&whole, &pl);
    check_memory(&whole);

    run_init(&split, direction, &pl.caps, pl.defaults, pl.stream, pl.len, -1);
    feed_split(&split, &pl);
    check_same(&whole, &split, "split");
    check_memory(&split);

    if (pl.succeed >= 0) {
        run_init(&oom, direction, &pl.caps, pl.defaults, pl.stream, pl.len,
                 pl.succeed);
        feed_split(&oom, &pl);
        check_oom(&split, &oom);
        run_free(&oom);
    }

    /* reset forgets everything but direction, caps and allocator */
    gw_wire_decoder_reset(&split.dec);
    CHECK(gw_wire_decoder_idle(&split.dec));
    CHECK(gw_wire_decoder_error(&split.dec) == NULL);
    run_restart(&split);
    feed_whole(&split, &pl);
    check_same(&whole, &split, "after-reset");
    run_free(&split);
    run_free(&whole);
    return 0;
}
