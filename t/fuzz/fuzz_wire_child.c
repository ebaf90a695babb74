/*
 * fuzz_wire_child.c -- libFuzzer target: gw_wire's incremental decoder in
 * direction GW_WIRE_TO_CHILD (READ, HEAD, DATA, FILE, END, ERROR, CLOSE,
 * READY): what a daemon (tenant code, hostile) writes, as an Apache child
 * reads it.
 *
 * The input layout and the oracles (split invariance, round trip through
 * the encoders, caps and pointer bounds, allocation failure) are in
 * wire_oracle.c, shared with the other direction.
 *
 * Sources: mod_gateway/gw_wire.c t/fuzz/wire_oracle.c
 */
#include <stddef.h>
#include <stdint.h>

#include "gw_wire.h"

int fuzz_wire_one(int direction, const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_wire_one(GW_WIRE_TO_CHILD, data, size);
}
