/*
 * t/bytebuf.h -- a growable byte buffer for building frames and
 * transcripts in the wire tests (t/unit/test_wire.c) and the fuzzing
 * tools (t/fuzz/gen_corpus.c, t/fuzz/wire_oracle.c). Integers go out
 * big-endian, as on the wire. Aborts when memory runs out.
 */
#ifndef GW_T_BYTEBUF_H
#define GW_T_BYTEBUF_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *p;
    size_t n;
    size_t cap;
} buf_t;

static inline void buf_add(buf_t *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL) {
            abort();
        }
    }
    if (n > 0) {
        memcpy(b->p + b->n, src, n);
    }
    b->n += n;
}

static inline void buf_u8(buf_t *b, unsigned v)
{
    unsigned char c = (unsigned char)v;

    buf_add(b, &c, 1);
}

static inline void buf_u32(buf_t *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};

    buf_add(b, c, 4);
}

static inline void buf_u64(buf_t *b, uint64_t v)
{
    buf_u32(b, (uint32_t)(v >> 32));
    buf_u32(b, (uint32_t)v);
}

static inline void buf_free(buf_t *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* A raw frame header with any version, type and length (malformed input
 * included). */
static inline void buf_hdr(buf_t *b, unsigned version, unsigned type,
                           uint32_t len)
{
    buf_u8(b, 'G');
    buf_u8(b, 'W');
    buf_u8(b, version);
    buf_u8(b, type);
    buf_u32(b, len);
}

#endif /* GW_T_BYTEBUF_H */
