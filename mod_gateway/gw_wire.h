/*
 * gw_wire.h -- L0: the frame protocol between an Apache child and a daemon
 * process group (DESIGN.md section 5, RELIABILITY.md "Wire protocol").
 *
 * Pure C: no APR, no httpd, no Python, no logging, no global mutable state.
 * Used in both the Apache children (encode REQUEST..., decode READ/HEAD...)
 * and the daemons (the reverse). The daemon runs tenant code, so a decoder
 * in an Apache child treats every byte as hostile: each length is checked
 * against a per-type cap on the 8-byte header before anything is allocated
 * or buffered, every count against the bytes that remain, and no size is
 * ever narrowed silently (mod_proxy_uwsgi CVE-2020-11984).
 *
 * Frame layout (all integers big-endian, no padding, no NUL terminators)
 *
 *   byte 0      0x47 'G'  magic
 *   byte 1      0x57 'W'  magic
 *   byte 2      version   GW_WIRE_VERSION (1)
 *   byte 3      type      see the table below
 *   bytes 4-7   u32 len   payload length, excluding these 8 bytes
 *   bytes 8..   payload   exactly len bytes
 *
 *   type  name      dir  payload                          default cap
 *   0x01  HELLO     c>d  32-byte group secret              exactly 32
 *   0x02  REQUEST   c>d  u32 n, n x PAIR, body prefix      1 MiB, 4096 pairs
 *   0x03  BODY      c>d  request body bytes                1 MiB
 *   0x04  BODY_END  c>d  (empty): the request body ended   exactly 0
 *   0x05  ABORT     c>d  (empty): the client went away     exactly 0
 *   0x81  READ      d>c  u32 want (1..2^32-1)              exactly 4
 *   0x82  HEAD      d>c  u32 slen, status, u32 n, n x PAIR 256 KiB, 1024
 *   0x83  DATA      d>c  response body bytes               1 MiB
 *   0x84  FILE      d>c  u64 offset, u64 length            exactly 16
 *   0x85  END       d>c  (empty): the response is complete exactly 0
 *   0x86  ERROR     d>c  u32 code, message bytes           4 KiB
 *   0x87  CLOSE     d>c  (empty): not run; send it again   exactly 0
 *   0x88  READY     d>c  (empty): a daemon took the conn.  exactly 0
 *
 *   PAIR = u32 name_len, name (1.. bytes), u32 value_len, value (0.. bytes)
 *
 * The high bit of the type is the direction: 0 = child to daemon (c>d),
 * 1 = daemon to child (d>c). Type 0 and every other value are invalid.
 *  - HELLO is the first frame on a new connection; the daemon compares the
 *    secret with gw_wire_secret_eq() before it reads anything else.
 *  - REQUEST: after the n pairs (environ key, value), every remaining byte
 *    of the payload is the start of the request body, possibly none.
 *  - READ: the app wants up to `want` body bytes; the child answers with
 *    BODY frames totalling at most `want` bytes, or BODY_END. 0 is refused,
 *    as it could only be answered by nothing (a deadlock). A BODY that
 *    ends the body may be followed at once by BODY_END, unasked: it is the
 *    answer to the daemon's next READ (the child sends none after it), and
 *    a daemon that asks no more drops it before the next REQUEST. A child
 *    may also answer, right behind the REQUEST and in the same write, a
 *    READ of GW_WIRE_BODY_WINDOW bytes that was never sent, with body bytes
 *    that had already arrived; the REQUEST then says so (GW_BODY_KEY), and
 *    the daemon reads that answer before it asks for more, or drains it
 *    before the next REQUEST if the app never reads the body.
 *  - HEAD: the pair section must end exactly at the end of the payload.
 *    Status and headers are only framed here; their content is validated
 *    by gw_http.h in the child.
 *  - FILE: the fd travels as SCM_RIGHTS ancillary data on the sendmsg()
 *    that carries this frame's 24 bytes (one call, so the fd arrives with
 *    the frame's first byte). The receiver uses recvmsg() for every read,
 *    queues the fds it gets in order and gives the oldest to each FILE
 *    frame; this file never sees fds. offset, length and offset + length
 *    are all <= INT64_MAX (they become an off_t).
 *  - ERROR: the daemon failed the request before HEAD; code is one of
 *    GW_WIRE_ERR_* (gw_wire_error_status() maps it), message is for the log
 *    and is untrusted bytes (not NUL-terminated, may hold controls).
 *  - END ends a response; EOF without END is a truncation.
 *  - CLOSE: the daemon will not serve this connection again (it is
 *    recycling, stopping, or its script changed). Sent in place of a
 *    response, it promises that the REQUEST just written was not run and
 *    that none of its body was asked for, so the child may send it again on
 *    a new connection. EOF without CLOSE promises nothing, and a request is
 *    never retried after it (a retry must never run a POST twice).
 *  - READY: the first frame a daemon sends on a connection it accepted.
 *    The listening socket belongs to the Apache parent, so connect()
 *    succeeds even when no daemon runs; waiting for READY (within
 *    connect-timeout) before sending anything is how a child knows a
 *    daemon is there.
 * The decoder checks frames one by one, not their order: HELLO first and
 * once, READ before BODY, HEAD before DATA/FILE, END or ERROR last are the
 * caller's state machine.
 */
#ifndef GW_WIRE_H
#define GW_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* The READ a child answers unasked behind a REQUEST (see READ above). */
#define GW_WIRE_BODY_WINDOW (128 * 1024)

#define GW_WIRE_MAGIC0 0x47 /* 'G' */
#define GW_WIRE_MAGIC1 0x57 /* 'W' */
#define GW_WIRE_VERSION 1
#define GW_WIRE_HEADER_LEN 8
#define GW_WIRE_SECRET_LEN 32
#define GW_WIRE_READ_LEN 4
#define GW_WIRE_FILE_LEN 16

/* Frame types: child -> daemon */
#define GW_WIRE_T_HELLO 0x01
#define GW_WIRE_T_REQUEST 0x02
#define GW_WIRE_T_BODY 0x03
#define GW_WIRE_T_BODY_END 0x04
#define GW_WIRE_T_ABORT 0x05
/* Frame types: daemon -> child */
#define GW_WIRE_T_READ 0x81
#define GW_WIRE_T_HEAD 0x82
#define GW_WIRE_T_DATA 0x83
#define GW_WIRE_T_FILE 0x84
#define GW_WIRE_T_END 0x85
#define GW_WIRE_T_ERROR 0x86
#define GW_WIRE_T_CLOSE 0x87
#define GW_WIRE_T_READY 0x88

/* Who reads: a decoder in the daemon accepts only child -> daemon types. */
#define GW_WIRE_TO_DAEMON 1
#define GW_WIRE_TO_CHILD 2

/* gw_wire_decoder_feed() results */
#define GW_WIRE_ERROR (-1)
#define GW_WIRE_NEED_MORE 0
#define GW_WIRE_FRAME 1

/* ERROR frame codes; see gw_wire_error_status() */
#define GW_WIRE_ERR_APP 1         /* the app failed before HEAD: 500 */
#define GW_WIRE_ERR_UNAVAILABLE 2 /* queue full / shutting down: 503 */
#define GW_WIRE_ERR_TIMEOUT 3     /* queue-timeout, request-timeout: 504 */

/* Default caps. 1 MiB frames keep a pool-backed buffer bounded while
 * giving a large-enough unit for one writev(); 256 KiB of response headers
 * is 32 x httpd's 8190-byte LimitRequestFieldSize; 4096 environ pairs is
 * 40 x LimitRequestFields (100) plus CGI variables and SetEnv. */
#define GW_WIRE_CAP_REQUEST (1024 * 1024)
#define GW_WIRE_CAP_HEAD (256 * 1024)
#define GW_WIRE_CAP_BODY (1024 * 1024)
#define GW_WIRE_CAP_DATA (1024 * 1024)
#define GW_WIRE_CAP_ERROR 4096
#define GW_WIRE_CAP_REQUEST_PAIRS 4096
#define GW_WIRE_CAP_HEAD_PAIRS 1024

/* Payload caps of the variable-size types (fixed-size types are exact and
 * not tunable). Both ends should use the same values: encoders refuse what
 * the peer's decoder would refuse. */
typedef struct {
    uint32_t request;
    uint32_t head;
    uint32_t body;
    uint32_t data;
    uint32_t error;
    uint32_t request_pairs;
    uint32_t head_pairs;
} gw_wire_caps_t;

/* One environ entry or header; (ptr, len), never NUL-terminated. */
typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} gw_wire_pair_t;

/* Memory for the decoder. Returns NULL on failure. Never freed one by one:
 * pool semantics, the caller releases everything at once. */
typedef void *(*gw_wire_alloc_fn)(void *baton, size_t size);

/* One decoded frame. Which member of u is set depends on type. BODY and
 * DATA are delivered as chunks as their bytes arrive (see feed()). */
typedef struct {
    int type;
    union {
        struct {
            const unsigned char *secret; /* GW_WIRE_SECRET_LEN bytes */
        } hello;
        struct {
            const gw_wire_pair_t *pairs;
            size_t npairs;
            const char *body; /* body prefix */
            size_t body_len;
        } request;
        struct {
            const char *status;
            size_t status_len;
            const gw_wire_pair_t *headers;
            size_t nheaders;
        } head;
        struct {
            uint32_t want;
        } read;
        struct {
            uint64_t offset;
            uint64_t length;
        } file;
        struct {
            uint32_t code;
            const char *message;
            size_t message_len;
        } error;
        struct {
            const char *data;
            size_t len;
            uint32_t frame_len; /* payload length of the whole frame */
            int first;          /* first chunk of this frame */
            int last;           /* last chunk: the frame is complete */
        } chunk;                /* BODY and DATA */
    } u;
} gw_wire_frame_t;

/* Decoder state: allocate it anywhere, set it up with
 * gw_wire_decoder_init(); the fields are private. */
typedef struct {
    int direction;
    int state;
    gw_wire_caps_t caps;
    gw_wire_alloc_fn alloc;
    void *baton;
    const char *error;
    unsigned char hdr[GW_WIRE_HEADER_LEN];
    size_t hdr_have;
    int type;
    uint32_t len;
    int chunk_first;
    size_t have; /* payload bytes buffered (or streamed) so far */
    char *buf;   /* reused payload buffer for partial frames */
    size_t buf_cap;
    gw_wire_pair_t *pairs; /* reused pair array */
    size_t pairs_cap;
} gw_wire_decoder_t;

/* Fills caps with the GW_WIRE_CAP_* defaults. */
void gw_wire_caps_default(gw_wire_caps_t *caps);

/* "REQUEST", "DATA", ...; "UNKNOWN" for anything else. For logs. */
const char *gw_wire_type_name(int type);

/* GW_WIRE_TO_DAEMON, GW_WIRE_TO_CHILD, or 0 for an unknown type. */
int gw_wire_type_direction(int type);

/* HTTP status for an ERROR frame code: 500, 503, 504; 502 for a code this
 * build does not know (the daemon said something we cannot trust). */
int gw_wire_error_status(uint32_t code);

/* Constant-time equality of two len-byte secrets: the running time depends
 * on len only, never on where they differ. 1 if equal, 0 if not. */
int gw_wire_secret_eq(const void *a, const void *b, size_t len);

/* ---- decoding -------------------------------------------------------- */

/* direction: GW_WIRE_TO_DAEMON or GW_WIRE_TO_CHILD; caps NULL = defaults
 * (copied). Returns 0, or -1 for a bad direction or a NULL alloc. */
int gw_wire_decoder_init(gw_wire_decoder_t *dec, int direction,
                         const gw_wire_caps_t *caps, gw_wire_alloc_fn alloc,
                         void *baton);

/* Back to the state right after init (same direction, caps, allocator),
 * forgetting the reused buffers: use it when the allocator's memory was
 * released. Not needed between frames or between requests. */
void gw_wire_decoder_reset(gw_wire_decoder_t *dec);

/*
 * Consumes bytes from (buf, len), split anywhere, and stops at the first
 * complete frame. *consumed (always set) says how many bytes were used; on
 * GW_WIRE_FRAME call again with the rest (buf + *consumed), possibly none.
 *  - GW_WIRE_FRAME: *frame holds one frame; for BODY/DATA one chunk of it
 *    (one chunk per call, >= 1 byte, or one empty chunk for an empty frame).
 *  - GW_WIRE_NEED_MORE: every byte was consumed, no frame complete yet.
 *  - GW_WIRE_ERROR: the stream is corrupt or a cap was hit;
 *    gw_wire_decoder_error() says why. The error is sticky: the connection
 *    must be closed, the framing is lost.
 * Lifetime: frame pointers are valid until the next feed() or reset() on
 * this decoder AND while the bytes passed in buf are unchanged (they may
 * point into buf, or into the decoder's buffer when a frame arrived split).
 */
int gw_wire_decoder_feed(gw_wire_decoder_t *dec, const char *buf, size_t len,
                         size_t *consumed, gw_wire_frame_t *frame);

/* Static reason of the last GW_WIRE_ERROR, or NULL. */
const char *gw_wire_decoder_error(const gw_wire_decoder_t *dec);

/* 1 when no frame is partly received: EOF here is a clean framing end
 * (whether the response was complete is END's business), 0 mid-frame. */
int gw_wire_decoder_idle(const gw_wire_decoder_t *dec);

/* ---- encoding --------------------------------------------------------
 * Every encoder returns 0 and sets *written, or returns -1 with *err (may
 * be NULL) set to a static reason: unknown type, payload over the cap (NULL
 * caps = defaults) or over 2^32-1, output buffer too small, a value the
 * decoder would refuse. Nothing is narrowed: a size_t that does not fit in
 * a u32 is an error.
 */

/* The 8-byte header of a frame whose payload (len bytes) the caller sends
 * with writev(). len is checked against caps and fixed sizes. */
int gw_wire_encode_header(char *out, int type, size_t len,
                          const gw_wire_caps_t *caps, const char **err);

/* Whole-frame sizes including the header; 0 when the payload would not
 * fit in a u32. */
size_t gw_wire_request_size(const gw_wire_pair_t *pairs, size_t n,
                            size_t body_len);
size_t gw_wire_head_size(size_t status_len, const gw_wire_pair_t *headers,
                         size_t n);

int gw_wire_encode_hello(char *out, size_t cap, const void *secret,
                         size_t secret_len, size_t *written, const char **err);
int gw_wire_encode_request(char *out, size_t cap, const gw_wire_pair_t *pairs,
                           size_t n, const char *body, size_t body_len,
                           const gw_wire_caps_t *caps, size_t *written,
                           const char **err);
int gw_wire_encode_head(char *out, size_t cap, const char *status,
                        size_t status_len, const gw_wire_pair_t *headers,
                        size_t n, const gw_wire_caps_t *caps, size_t *written,
                        const char **err);
/* BODY or DATA with its bytes copied (else header + writev) */
int gw_wire_encode_bytes(char *out, size_t cap, int type, const char *data,
                         size_t len, const gw_wire_caps_t *caps,
                         size_t *written, const char **err);
/* BODY_END, ABORT or END */
int gw_wire_encode_empty(char *out, size_t cap, int type, size_t *written,
                         const char **err);
int gw_wire_encode_read(char *out, size_t cap, uint32_t want, size_t *written,
                        const char **err);
int gw_wire_encode_file(char *out, size_t cap, uint64_t offset, uint64_t length,
                        size_t *written, const char **err);
int gw_wire_encode_error(char *out, size_t cap, uint32_t code,
                         const char *message, size_t message_len,
                         const gw_wire_caps_t *caps, size_t *written,
                         const char **err);

#endif /* GW_WIRE_H */
