/*
 * gw_wire.c -- L0: encoder and incremental decoder of the child <-> daemon
 * frame protocol. The layout is documented byte by byte in gw_wire.h.
 *
 * Pure C: no APR, no httpd, no Python, no logging, no global mutable state.
 * Runs in the Apache children and in the daemons. Errors are static strings.
 * All reads of a payload go through a bounded reader (reader_t), so nothing
 * past the frame is ever looked at (the mod_wsgi 6.0.5 regression read the
 * next frame's bytes as headers).
 */
#include "gw_wire.h"

#include <string.h>

/* Lengths on the wire are u32 and are used as size_t without a check:
 * refuse to build where that would narrow (mod_proxy_uwsgi CVE-2020-11984
 * was a length narrowed on its way into a size). */
#if SIZE_MAX < UINT32_MAX
#error "gw_wire needs a size_t of at least 32 bits"
#endif

enum { ST_HEADER, ST_PAYLOAD, ST_STREAM, ST_ERROR };

/* Internal result of one decoder step: the state changed, go on. */
#define STEP_CONTINUE 2

/* Each pair is at least two u32 lengths. */
#define PAIR_MIN 8

#define ERR_CAP "frame length over the cap of its type"
#define ERR_OOM "out of memory"
#define ERR_U32 "frame payload over 2^32-1 bytes"
#define ERR_ROOM "output buffer too small"
#define ERR_NAME "empty pair name"

typedef struct {
    int type;
    const char *name;
    int dir;
    int stream; /* BODY/DATA: delivered in chunks, never buffered */
    long fixed; /* exact payload length, or -1 for capped types */
    const char *fixed_err;
} type_info_t;

static const type_info_t type_table[] = {
    {GW_WIRE_T_HELLO, "HELLO", GW_WIRE_TO_DAEMON, 0, GW_WIRE_SECRET_LEN,
     "HELLO payload is not 32 bytes"},
    {GW_WIRE_T_REQUEST, "REQUEST", GW_WIRE_TO_DAEMON, 0, -1, NULL},
    {GW_WIRE_T_BODY, "BODY", GW_WIRE_TO_DAEMON, 1, -1, NULL},
    {GW_WIRE_T_BODY_END, "BODY_END", GW_WIRE_TO_DAEMON, 0, 0,
     "BODY_END has a payload"},
    {GW_WIRE_T_ABORT, "ABORT", GW_WIRE_TO_DAEMON, 0, 0, "ABORT has a payload"},
    {GW_WIRE_T_READ, "READ", GW_WIRE_TO_CHILD, 0, GW_WIRE_READ_LEN,
     "READ payload is not 4 bytes"},
    {GW_WIRE_T_HEAD, "HEAD", GW_WIRE_TO_CHILD, 0, -1, NULL},
    {GW_WIRE_T_DATA, "DATA", GW_WIRE_TO_CHILD, 1, -1, NULL},
    {GW_WIRE_T_FILE, "FILE", GW_WIRE_TO_CHILD, 0, GW_WIRE_FILE_LEN,
     "FILE payload is not 16 bytes"},
    {GW_WIRE_T_END, "END", GW_WIRE_TO_CHILD, 0, 0, "END has a payload"},
    {GW_WIRE_T_ERROR, "ERROR", GW_WIRE_TO_CHILD, 0, -1, NULL},
    {GW_WIRE_T_CLOSE, "CLOSE", GW_WIRE_TO_CHILD, 0, 0, "CLOSE has a payload"},
    {GW_WIRE_T_READY, "READY", GW_WIRE_TO_CHILD, 0, 0, "READY has a payload"},
};

#define NTYPES (sizeof(type_table) / sizeof(type_table[0]))

static const type_info_t *find_type(int type)
{
    size_t i;

    for (i = 0; i < NTYPES; i++) {
        if (type_table[i].type == type) {
            return &type_table[i];
        }
    }
    return NULL;
}

static uint32_t type_cap(const gw_wire_caps_t *caps, int type)
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

/* The one length rule, shared by the decoder (on the 8-byte header, before
 * any allocation) and the encoders (so we never send what the peer drops). */
static const char *check_len(const type_info_t *ti, size_t len,
                             const gw_wire_caps_t *caps)
{
    if (ti->fixed >= 0) {
        return len == (size_t)ti->fixed ? NULL : ti->fixed_err;
    }
    return len > type_cap(caps, ti->type) ? ERR_CAP : NULL;
}

void gw_wire_caps_default(gw_wire_caps_t *caps)
{
    caps->request = GW_WIRE_CAP_REQUEST;
    caps->head = GW_WIRE_CAP_HEAD;
    caps->body = GW_WIRE_CAP_BODY;
    caps->data = GW_WIRE_CAP_DATA;
    caps->error = GW_WIRE_CAP_ERROR;
    caps->request_pairs = GW_WIRE_CAP_REQUEST_PAIRS;
    caps->head_pairs = GW_WIRE_CAP_HEAD_PAIRS;
}

const char *gw_wire_type_name(int type)
{
    const type_info_t *ti = find_type(type);

    return ti ? ti->name : "UNKNOWN";
}

int gw_wire_type_direction(int type)
{
    const type_info_t *ti = find_type(type);

    return ti ? ti->dir : 0;
}

int gw_wire_error_status(uint32_t code)
{
    switch (code) {
        case GW_WIRE_ERR_APP:
            return 500;
        case GW_WIRE_ERR_UNAVAILABLE:
            return 503;
        case GW_WIRE_ERR_TIMEOUT:
            return 504;
        default:
            return 502;
    }
}

/* No early exit and volatile reads, so neither the loop nor the compiler
 * reveals through timing how many leading bytes of a guess were right. */
int gw_wire_secret_eq(const void *a, const void *b, size_t len)
{
    const volatile unsigned char *x = a;
    const volatile unsigned char *y = b;
    unsigned int diff = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        diff |= (unsigned int)(x[i] ^ y[i]);
    }
    /* diff is 0..255: (diff - 1) >> 8 has bit 0 set only for diff == 0 */
    return (int)(1u & ((diff - 1u) >> 8));
}

/* ---- byte order ------------------------------------------------------ */

static uint32_t get_u32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static uint64_t get_u64(const unsigned char *p)
{
    return ((uint64_t)get_u32(p) << 32) | get_u32(p + 4);
}

static char *put_u32(char *out, uint32_t v)
{
    unsigned char *p = (unsigned char *)out;

    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return out + 4;
}

static char *put_u64(char *out, uint64_t v)
{
    out = put_u32(out, (uint32_t)(v >> 32));
    return put_u32(out, (uint32_t)(v & 0xFFFFFFFFu));
}

/* memcpy with a NULL source is undefined even for 0 bytes. */
static char *put_bytes(char *out, const void *src, size_t n)
{
    if (n > 0) {
        memcpy(out, src, n);
    }
    return out + n;
}

/* ---- bounded reader over one payload ---------------------------------- */

typedef struct {
    const unsigned char *p;
    size_t left;
} reader_t;

static int rd_u32(reader_t *r, uint32_t *v)
{
    if (r->left < 4) {
        return -1;
    }
    *v = get_u32(r->p);
    r->p += 4;
    r->left -= 4;
    return 0;
}

static int rd_bytes(reader_t *r, uint32_t n, const char **out)
{
    if ((size_t)n > r->left) {
        return -1;
    }
    *out = (const char *)r->p;
    r->p += n;
    r->left -= n;
    return 0;
}

/* ---- decoder memory --------------------------------------------------- */

/* Buffers are reused from frame to frame and grow geometrically up to the
 * type's cap, so a pool-backed decoder allocates at most about 2 x cap over
 * a connection's life, however many frames it carries. */
static size_t grow_to(size_t old, size_t need, size_t limit)
{
    size_t n = old > SIZE_MAX / 2 ? need : old * 2;

    if (n > limit) {
        n = limit;
    }
    return n > need ? n : need;
}

static int ensure_buf(gw_wire_decoder_t *dec)
{
    size_t n;
    char *p;

    if (dec->buf_cap >= dec->len) {
        return 0;
    }
    n = grow_to(dec->buf_cap, dec->len, type_cap(&dec->caps, dec->type));
    p = dec->alloc(dec->baton, n);
    if (p == NULL) {
        return -1;
    }
    dec->buf = p;
    dec->buf_cap = n;
    return 0;
}

static int ensure_pairs(gw_wire_decoder_t *dec, size_t n, size_t limit)
{
    size_t count;
    gw_wire_pair_t *p;

    if (dec->pairs_cap >= n) {
        return 0;
    }
    count = grow_to(dec->pairs_cap, n, limit);
    if (count > SIZE_MAX / sizeof(gw_wire_pair_t)) {
        return -1;
    }
    p = dec->alloc(dec->baton, count * sizeof(gw_wire_pair_t));
    if (p == NULL) {
        return -1;
    }
    dec->pairs = p;
    dec->pairs_cap = count;
    return 0;
}

/* ---- payload parsers -------------------------------------------------- */

static const char *parse_one_pair(reader_t *r, gw_wire_pair_t *pair)
{
    uint32_t n;

    if (rd_u32(r, &n) != 0) {
        return "pair name length runs past the frame";
    }
    if (n == 0) {
        return ERR_NAME;
    }
    if (rd_bytes(r, n, &pair->name) != 0) {
        return "pair name runs past the frame";
    }
    pair->name_len = n;
    if (rd_u32(r, &n) != 0) {
        return "pair value length runs past the frame";
    }
    if (rd_bytes(r, n, &pair->value) != 0) {
        return "pair value runs past the frame";
    }
    pair->value_len = n;
    return NULL;
}

/* A count is only a claim: before the pair array is allocated it must fit
 * both the cap and the bytes left, so a 12-byte frame cannot make us
 * allocate 2^32 pairs. */
static const char *parse_pairs(gw_wire_decoder_t *dec, reader_t *r,
                               uint32_t count, uint32_t max)
{
    const char *err;
    size_t i;

    if (count > max) {
        return "pair count over its cap";
    }
    if ((size_t)count > r->left / PAIR_MIN) {
        return "pair count exceeds the frame";
    }
    if (count > 0 && ensure_pairs(dec, count, max) != 0) {
        return ERR_OOM;
    }
    for (i = 0; i < count; i++) {
        err = parse_one_pair(r, &dec->pairs[i]);
        if (err != NULL) {
            return err;
        }
    }
    return NULL;
}

static const char *parse_request(gw_wire_decoder_t *dec, reader_t *r,
                                 gw_wire_frame_t *f)
{
    uint32_t count;
    const char *err;

    if (rd_u32(r, &count) != 0) {
        return "REQUEST payload too short for its pair count";
    }
    err = parse_pairs(dec, r, count, dec->caps.request_pairs);
    if (err != NULL) {
        return err;
    }
    f->u.request.pairs = count ? dec->pairs : NULL;
    f->u.request.npairs = count;
    /* the rest of the payload is the start of the request body */
    f->u.request.body = (const char *)r->p;
    f->u.request.body_len = r->left;
    return NULL;
}

static const char *parse_head(gw_wire_decoder_t *dec, reader_t *r,
                              gw_wire_frame_t *f)
{
    uint32_t slen, count;
    const char *err;

    if (rd_u32(r, &slen) != 0) {
        return "HEAD payload too short for its status length";
    }
    if (rd_bytes(r, slen, &f->u.head.status) != 0) {
        return "HEAD status line runs past the frame";
    }
    f->u.head.status_len = slen;
    if (rd_u32(r, &count) != 0) {
        return "HEAD payload too short for its header count";
    }
    err = parse_pairs(dec, r, count, dec->caps.head_pairs);
    if (err != NULL) {
        return err;
    }
    if (r->left != 0) {
        return "trailing bytes after the last HEAD header";
    }
    f->u.head.headers = count ? dec->pairs : NULL;
    f->u.head.nheaders = count;
    return NULL;
}

/* Payloads of fixed-size types: their length was checked on the header. */
static const char *parse_fixed(const unsigned char *p, gw_wire_frame_t *f)
{
    switch (f->type) {
        case GW_WIRE_T_HELLO:
            f->u.hello.secret = p;
            return NULL;
        case GW_WIRE_T_READ:
            f->u.read.want = get_u32(p);
            return f->u.read.want ? NULL : "READ of zero bytes";
        case GW_WIRE_T_FILE:
            f->u.file.offset = get_u64(p);
            f->u.file.length = get_u64(p + 8);
            /* both become an off_t (signed 64) in the child */
            if (f->u.file.offset > (uint64_t)INT64_MAX ||
                f->u.file.length > (uint64_t)INT64_MAX - f->u.file.offset) {
                return "FILE range beyond INT64_MAX";
            }
            return NULL;
        default: /* BODY_END, ABORT, END, CLOSE, READY: empty */
            return NULL;
    }
}

static const char *parse_payload(gw_wire_decoder_t *dec, const char *p,
                                 gw_wire_frame_t *f)
{
    reader_t r;
    uint32_t code;

    r.p = (const unsigned char *)p;
    r.left = dec->len;
    f->type = dec->type;
    switch (dec->type) {
        case GW_WIRE_T_REQUEST:
            return parse_request(dec, &r, f);
        case GW_WIRE_T_HEAD:
            return parse_head(dec, &r, f);
        case GW_WIRE_T_ERROR:
            if (rd_u32(&r, &code) != 0) {
                return "ERROR payload too short for its code";
            }
            f->u.error.code = code;
            f->u.error.message = (const char *)r.p;
            f->u.error.message_len = r.left;
            return NULL;
        default:
            return parse_fixed(r.p, f);
    }
}

/* ---- decoder state machine ------------------------------------------- */

static int fail(gw_wire_decoder_t *dec, const char *err)
{
    dec->error = err;
    dec->state = ST_ERROR;
    return GW_WIRE_ERROR;
}

/* Checks whatever part of the header has arrived, so a peer that speaks
 * something else (an HTTP response, a stale protocol) is refused on its
 * first byte instead of after 8. */
static const char *check_header(const gw_wire_decoder_t *dec)
{
    const unsigned char *h = dec->hdr;
    const type_info_t *ti;

    if ((dec->hdr_have > 0 && h[0] != GW_WIRE_MAGIC0) ||
        (dec->hdr_have > 1 && h[1] != GW_WIRE_MAGIC1)) {
        return "bad magic: not a gateway frame";
    }
    if (dec->hdr_have > 2 && h[2] != GW_WIRE_VERSION) {
        return "unsupported protocol version";
    }
    if (dec->hdr_have < 4) {
        return NULL;
    }
    ti = find_type(h[3]);
    if (ti == NULL) {
        return "unknown frame type";
    }
    if (ti->dir != dec->direction) {
        return "frame type not accepted in this direction";
    }
    if (dec->hdr_have < GW_WIRE_HEADER_LEN) {
        return NULL;
    }
    return check_len(ti, get_u32(h + 4), &dec->caps);
}

static void yield_chunk(gw_wire_decoder_t *dec, const char *p, size_t n,
                        gw_wire_frame_t *f)
{
    f->type = dec->type;
    f->u.chunk.data = p;
    f->u.chunk.len = n;
    f->u.chunk.frame_len = dec->len;
    f->u.chunk.first = dec->chunk_first;
    dec->have += n;
    f->u.chunk.last = dec->have == dec->len;
    dec->chunk_first = 0;
    if (f->u.chunk.last) {
        dec->state = ST_HEADER;
    }
}

/* The header is complete and valid: set up for the payload. Empty frames
 * are finished here. */
static int start_payload(gw_wire_decoder_t *dec, gw_wire_frame_t *f)
{
    const char *err;

    dec->type = dec->hdr[3];
    dec->len = get_u32(dec->hdr + 4);
    dec->hdr_have = 0;
    dec->have = 0;
    if (find_type(dec->type)->stream) {
        dec->state = ST_STREAM;
        dec->chunk_first = 1;
        if (dec->len == 0) {
            yield_chunk(dec, "", 0, f);
            return GW_WIRE_FRAME;
        }
        return STEP_CONTINUE;
    }
    if (dec->len > 0) {
        dec->state = ST_PAYLOAD;
        return STEP_CONTINUE;
    }
    err = parse_payload(dec, "", f);
    return err ? fail(dec, err) : GW_WIRE_FRAME;
}

static int feed_header(gw_wire_decoder_t *dec, const char *p, size_t avail,
                       size_t *used, gw_wire_frame_t *f)
{
    size_t n = GW_WIRE_HEADER_LEN - dec->hdr_have;
    const char *err;

    if (n > avail) {
        n = avail;
    }
    put_bytes((char *)dec->hdr + dec->hdr_have, p, n);
    dec->hdr_have += n;
    *used = n;
    err = check_header(dec);
    if (err != NULL) {
        return fail(dec, err);
    }
    if (dec->hdr_have < GW_WIRE_HEADER_LEN) {
        return GW_WIRE_NEED_MORE;
    }
    return start_payload(dec, f);
}

static int finish_payload(gw_wire_decoder_t *dec, const char *p,
                          gw_wire_frame_t *f)
{
    const char *err;

    dec->state = ST_HEADER;
    err = parse_payload(dec, p, f);
    return err ? fail(dec, err) : GW_WIRE_FRAME;
}

/* A payload that is all in the caller's buffer is parsed in place (no copy,
 * no allocation); only a split one is gathered in dec->buf. */
static int feed_payload(gw_wire_decoder_t *dec, const char *p, size_t avail,
                        size_t *used, gw_wire_frame_t *f)
{
    size_t n;

    if (dec->have == 0 && avail >= dec->len) {
        *used = dec->len;
        return finish_payload(dec, p, f);
    }
    if (avail == 0) {
        return GW_WIRE_NEED_MORE;
    }
    if (dec->have == 0 && ensure_buf(dec) != 0) {
        return fail(dec, ERR_OOM);
    }
    n = dec->len - dec->have;
    if (n > avail) {
        n = avail;
    }
    memcpy(dec->buf + dec->have, p, n);
    dec->have += n;
    *used = n;
    if (dec->have < dec->len) {
        return GW_WIRE_NEED_MORE;
    }
    return finish_payload(dec, dec->buf, f);
}

static int feed_stream(gw_wire_decoder_t *dec, const char *p, size_t avail,
                       size_t *used, gw_wire_frame_t *f)
{
    size_t n = dec->len - dec->have;

    if (avail == 0) {
        return GW_WIRE_NEED_MORE;
    }
    if (n > avail) {
        n = avail;
    }
    yield_chunk(dec, p, n, f);
    *used = n;
    return GW_WIRE_FRAME;
}

int gw_wire_decoder_init(gw_wire_decoder_t *dec, int direction,
                         const gw_wire_caps_t *caps, gw_wire_alloc_fn alloc,
                         void *baton)
{
    if (dec == NULL || alloc == NULL ||
        (direction != GW_WIRE_TO_DAEMON && direction != GW_WIRE_TO_CHILD)) {
        return -1;
    }
    memset(dec, 0, sizeof(*dec));
    dec->direction = direction;
    if (caps != NULL) {
        dec->caps = *caps;
    }
    else {
        gw_wire_caps_default(&dec->caps);
    }
    dec->alloc = alloc;
    dec->baton = baton;
    dec->state = ST_HEADER;
    return 0;
}

void gw_wire_decoder_reset(gw_wire_decoder_t *dec)
{
    gw_wire_caps_t caps = dec->caps;

    gw_wire_decoder_init(dec, dec->direction, &caps, dec->alloc, dec->baton);
}

int gw_wire_decoder_feed(gw_wire_decoder_t *dec, const char *buf, size_t len,
                         size_t *consumed, gw_wire_frame_t *frame)
{
    size_t used, total = 0;
    int rc;

    memset(frame, 0, sizeof(*frame));
    if (buf == NULL) {
        buf = "";
        len = 0;
    }
    do {
        used = 0;
        switch (dec->state) {
            case ST_HEADER:
                rc = feed_header(dec, buf + total, len - total, &used, frame);
                break;
            case ST_PAYLOAD:
                rc = feed_payload(dec, buf + total, len - total, &used, frame);
                break;
            case ST_STREAM:
                rc = feed_stream(dec, buf + total, len - total, &used, frame);
                break;
            default:
                rc = GW_WIRE_ERROR;
        }
        total += used;
    } while (rc == STEP_CONTINUE);
    *consumed = total;
    return rc;
}

const char *gw_wire_decoder_error(const gw_wire_decoder_t *dec)
{
    return dec->state == ST_ERROR ? dec->error : NULL;
}

int gw_wire_decoder_idle(const gw_wire_decoder_t *dec)
{
    return dec->state == ST_HEADER && dec->hdr_have == 0;
}

/* ---- encoders --------------------------------------------------------- */

static int enc_fail(const char **err, const char *msg)
{
    if (err != NULL) {
        *err = msg;
    }
    return -1;
}

/* Adds n to a payload size that must stay <= 2^32-1, without wrapping. */
static int add_size(size_t *total, size_t n)
{
    if (n > UINT32_MAX || *total > UINT32_MAX - n) {
        return -1;
    }
    *total += n;
    return 0;
}

static int pairs_size(const gw_wire_pair_t *pairs, size_t n, size_t *total)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (add_size(total, PAIR_MIN) != 0 ||
            add_size(total, pairs[i].name_len) != 0 ||
            add_size(total, pairs[i].value_len) != 0) {
            return -1;
        }
    }
    return 0;
}

static size_t frame_size(size_t payload)
{
    return payload > SIZE_MAX - GW_WIRE_HEADER_LEN
               ? 0
               : payload + GW_WIRE_HEADER_LEN;
}

size_t gw_wire_request_size(const gw_wire_pair_t *pairs, size_t n,
                            size_t body_len)
{
    size_t total = 4;

    if (pairs_size(pairs, n, &total) != 0 || add_size(&total, body_len)) {
        return 0;
    }
    return frame_size(total);
}

size_t gw_wire_head_size(size_t status_len, const gw_wire_pair_t *headers,
                         size_t n)
{
    size_t total = 8;

    if (add_size(&total, status_len) != 0 ||
        pairs_size(headers, n, &total) != 0) {
        return 0;
    }
    return frame_size(total);
}

static const gw_wire_caps_t *caps_or_default(const gw_wire_caps_t *caps,
                                             gw_wire_caps_t *tmp)
{
    if (caps != NULL) {
        return caps;
    }
    gw_wire_caps_default(tmp);
    return tmp;
}

static const char *check_header_args(int type, size_t len,
                                     const gw_wire_caps_t *caps)
{
    const type_info_t *ti = find_type(type);

    return ti ? check_len(ti, len, caps) : "unknown frame type";
}

static char *put_header(char *out, int type, size_t len)
{
    out[0] = (char)GW_WIRE_MAGIC0;
    out[1] = (char)GW_WIRE_MAGIC1;
    out[2] = (char)GW_WIRE_VERSION;
    out[3] = (char)type;
    /* len <= a u32 cap or a fixed size: checked by check_len() */
    return put_u32(out + 4, (uint32_t)len);
}

int gw_wire_encode_header(char *out, int type, size_t len,
                          const gw_wire_caps_t *caps, const char **err)
{
    gw_wire_caps_t tmp;
    const char *msg;

    msg = check_header_args(type, len, caps_or_default(caps, &tmp));
    if (msg != NULL) {
        return enc_fail(err, msg);
    }
    put_header(out, type, len);
    return 0;
}

/* Everything the decoder checks about a pair section, checked before a
 * byte is written. */
static const char *check_pairs(const gw_wire_pair_t *pairs, size_t n,
                               uint32_t max)
{
    size_t i;

    if (n > max) {
        return "pair count over its cap";
    }
    for (i = 0; i < n; i++) {
        if (pairs[i].name_len == 0) {
            return ERR_NAME;
        }
    }
    return NULL;
}

/* Sizes were bounded by add_size(), so the u32 casts narrow nothing. */
static char *put_pairs(char *p, const gw_wire_pair_t *pairs, size_t n)
{
    size_t i;

    p = put_u32(p, (uint32_t)n);
    for (i = 0; i < n; i++) {
        p = put_u32(p, (uint32_t)pairs[i].name_len);
        p = put_bytes(p, pairs[i].name, pairs[i].name_len);
        p = put_u32(p, (uint32_t)pairs[i].value_len);
        p = put_bytes(p, pairs[i].value, pairs[i].value_len);
    }
    return p;
}

/* The common prologue: a frame of `need` bytes in all (0 = payload over
 * 2^32-1) must pass the header rules and fit the output buffer; only then
 * is the header written. Returns the payload position or NULL. */
static char *begin_frame(char *out, size_t cap, int type, size_t need,
                         const gw_wire_caps_t *caps, const char **err)
{
    const char *msg;

    if (need == 0) {
        enc_fail(err, ERR_U32);
        return NULL;
    }
    msg = check_header_args(type, need - GW_WIRE_HEADER_LEN, caps);
    if (msg == NULL && need > cap) {
        msg = ERR_ROOM;
    }
    if (msg != NULL) {
        enc_fail(err, msg);
        return NULL;
    }
    return put_header(out, type, need - GW_WIRE_HEADER_LEN);
}

int gw_wire_encode_hello(char *out, size_t cap, const void *secret,
                         size_t secret_len, size_t *written, const char **err)
{
    char *p;

    p = begin_frame(out, cap, GW_WIRE_T_HELLO, frame_size(secret_len), NULL,
                    err);
    if (p == NULL) {
        return -1;
    }
    put_bytes(p, secret, secret_len);
    *written = GW_WIRE_HEADER_LEN + secret_len;
    return 0;
}

int gw_wire_encode_request(char *out, size_t cap, const gw_wire_pair_t *pairs,
                           size_t n, const char *body, size_t body_len,
                           const gw_wire_caps_t *caps, size_t *written,
                           const char **err)
{
    gw_wire_caps_t tmp;
    size_t need = gw_wire_request_size(pairs, n, body_len);
    const char *msg;
    char *p;

    caps = caps_or_default(caps, &tmp);
    msg = check_pairs(pairs, n, caps->request_pairs);
    if (msg != NULL) {
        return enc_fail(err, msg);
    }
    p = begin_frame(out, cap, GW_WIRE_T_REQUEST, need, caps, err);
    if (p == NULL) {
        return -1;
    }
    p = put_pairs(p, pairs, n);
    put_bytes(p, body, body_len);
    *written = need;
    return 0;
}

int gw_wire_encode_head(char *out, size_t cap, const char *status,
                        size_t status_len, const gw_wire_pair_t *headers,
                        size_t n, const gw_wire_caps_t *caps, size_t *written,
                        const char **err)
{
    gw_wire_caps_t tmp;
    size_t need = gw_wire_head_size(status_len, headers, n);
    const char *msg;
    char *p;

    caps = caps_or_default(caps, &tmp);
    msg = check_pairs(headers, n, caps->head_pairs);
    if (msg != NULL) {
        return enc_fail(err, msg);
    }
    p = begin_frame(out, cap, GW_WIRE_T_HEAD, need, caps, err);
    if (p == NULL) {
        return -1;
    }
    p = put_u32(p, (uint32_t)status_len);
    p = put_bytes(p, status, status_len);
    put_pairs(p, headers, n);
    *written = need;
    return 0;
}

int gw_wire_encode_bytes(char *out, size_t cap, int type, const char *data,
                         size_t len, const gw_wire_caps_t *caps,
                         size_t *written, const char **err)
{
    gw_wire_caps_t tmp;
    char *p;

    if (type != GW_WIRE_T_BODY && type != GW_WIRE_T_DATA) {
        return enc_fail(err, "not a BODY or DATA frame type");
    }
    p = begin_frame(out, cap, type, frame_size(len),
                    caps_or_default(caps, &tmp), err);
    if (p == NULL) {
        return -1;
    }
    put_bytes(p, data, len);
    *written = GW_WIRE_HEADER_LEN + len;
    return 0;
}

int gw_wire_encode_empty(char *out, size_t cap, int type, size_t *written,
                         const char **err)
{
    if (type != GW_WIRE_T_BODY_END && type != GW_WIRE_T_ABORT &&
        type != GW_WIRE_T_END && type != GW_WIRE_T_CLOSE &&
        type != GW_WIRE_T_READY) {
        return enc_fail(err, "not an empty frame type");
    }
    if (begin_frame(out, cap, type, GW_WIRE_HEADER_LEN, NULL, err) == NULL) {
        return -1;
    }
    *written = GW_WIRE_HEADER_LEN;
    return 0;
}

int gw_wire_encode_read(char *out, size_t cap, uint32_t want, size_t *written,
                        const char **err)
{
    char *p;

    if (want == 0) {
        return enc_fail(err, "READ of zero bytes");
    }
    p = begin_frame(out, cap, GW_WIRE_T_READ,
                    GW_WIRE_HEADER_LEN + GW_WIRE_READ_LEN, NULL, err);
    if (p == NULL) {
        return -1;
    }
    put_u32(p, want);
    *written = GW_WIRE_HEADER_LEN + GW_WIRE_READ_LEN;
    return 0;
}

int gw_wire_encode_file(char *out, size_t cap, uint64_t offset, uint64_t length,
                        size_t *written, const char **err)
{
    char *p;

    if (offset > (uint64_t)INT64_MAX || length > (uint64_t)INT64_MAX - offset) {
        return enc_fail(err, "FILE range beyond INT64_MAX");
    }
    p = begin_frame(out, cap, GW_WIRE_T_FILE,
                    GW_WIRE_HEADER_LEN + GW_WIRE_FILE_LEN, NULL, err);
    if (p == NULL) {
        return -1;
    }
    put_u64(put_u64(p, offset), length);
    *written = GW_WIRE_HEADER_LEN + GW_WIRE_FILE_LEN;
    return 0;
}

int gw_wire_encode_error(char *out, size_t cap, uint32_t code,
                         const char *message, size_t message_len,
                         const gw_wire_caps_t *caps, size_t *written,
                         const char **err)
{
    gw_wire_caps_t tmp;
    size_t total = 4;
    char *p;

    if (add_size(&total, message_len) != 0) {
        return enc_fail(err, ERR_U32);
    }
    p = begin_frame(out, cap, GW_WIRE_T_ERROR, frame_size(total),
                    caps_or_default(caps, &tmp), err);
    if (p == NULL) {
        return -1;
    }
    p = put_u32(p, code);
    put_bytes(p, message, message_len);
    *written = GW_WIRE_HEADER_LEN + total;
    return 0;
}
