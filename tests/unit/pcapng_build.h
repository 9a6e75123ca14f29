/* Building pcapng bytes block by block in a chosen byte order, for the reader's tests. */
#ifndef MW_PCAPNG_BUILD_H
#define MW_PCAPNG_BUILD_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "input/format/pcapng.h"

typedef struct {
    GByteArray *b;
    bool big;
} ng;

static void put(ng *n, uint64_t v, int bytes)
{
    uint8_t t[8];
    for (int i = 0; i < bytes; i++)
        t[n->big ? bytes - 1 - i : i] = (uint8_t)(v >> (8 * i));
    g_byte_array_append(n->b, t, (guint)bytes);
}

static void pad4(GByteArray *b)
{
    static const uint8_t z[3] = { 0 };
    g_byte_array_append(b, z, (4 - b->len % 4) % 4);
}

/* A block whose body is body (padded here). */
static void block(ng *n, uint32_t type, const GByteArray *body)
{
    uint32_t len = 12 + (uint32_t)((body->len + 3) & ~3u);
    put(n, type, 4);
    put(n, len, 4);
    g_byte_array_append(n->b, body->data, body->len);
    pad4(n->b);
    put(n, len, 4);
}

static ng body_of(const ng *n)
{
    ng x = { g_byte_array_new(), n->big };
    return x;
}

static void opt(ng *x, uint16_t code, const void *v, uint16_t len)
{
    put(x, code, 2);
    put(x, len, 2);
    g_byte_array_append(x->b, v, len);
    pad4(x->b);
}

static void shb(ng *n, bool big)
{
    n->big = big;
    ng x = body_of(n);
    put(&x, 0x1A2B3C4D, 4);
    put(&x, 1, 2);
    put(&x, 0, 2);
    put(&x, UINT64_MAX, 8); /* section length -1: not given */
    block(n, MW_PCAPNG_SHB, x.b);
    g_byte_array_free(x.b, TRUE);
}

/* tsresol < 0: no if_tsresol option */
static void idb(ng *n, uint16_t linktype, uint32_t snaplen, const char *name, int tsresol,
                int64_t tsoffset)
{
    ng x = body_of(n);
    put(&x, linktype, 2);
    put(&x, 0, 2);
    put(&x, snaplen, 4);
    if (name)
        opt(&x, 2, name, (uint16_t)strlen(name));
    if (tsresol >= 0) {
        uint8_t r = (uint8_t)tsresol;
        opt(&x, 9, &r, 1);
    }
    if (tsoffset) {
        ng o = body_of(n);
        put(&o, (uint64_t)tsoffset, 8);
        opt(&x, 14, o.b->data, 8);
        g_byte_array_free(o.b, TRUE);
    }
    opt(&x, 0, NULL, 0);
    block(n, MW_PCAPNG_IDB, x.b);
    g_byte_array_free(x.b, TRUE);
}

static void epb(ng *n, uint32_t iface, uint64_t ts, const char *data, uint32_t origlen)
{
    ng x = body_of(n);
    uint32_t len = (uint32_t)strlen(data);
    put(&x, iface, 4);
    put(&x, ts >> 32, 4);
    put(&x, ts & 0xffffffffu, 4);
    put(&x, len, 4);
    put(&x, origlen ? origlen : len, 4);
    g_byte_array_append(x.b, (const guint8 *)data, len);
    block(n, MW_PCAPNG_EPB, x.b);
    g_byte_array_free(x.b, TRUE);
}

static void spb(ng *n, const char *data)
{
    ng x = body_of(n);
    put(&x, strlen(data), 4);
    g_byte_array_append(x.b, (const guint8 *)data, (guint)strlen(data));
    block(n, MW_PCAPNG_SPB, x.b);
    g_byte_array_free(x.b, TRUE);
}

static void pb(ng *n, uint16_t iface, uint64_t ts, const char *data)
{
    ng x = body_of(n);
    uint32_t len = (uint32_t)strlen(data);
    put(&x, iface, 2);
    put(&x, 0, 2);
    put(&x, ts >> 32, 4);
    put(&x, ts & 0xffffffffu, 4);
    put(&x, len, 4);
    put(&x, len, 4);
    g_byte_array_append(x.b, (const guint8 *)data, len);
    block(n, MW_PCAPNG_PB, x.b);
    g_byte_array_free(x.b, TRUE);
}

static void dsb(ng *n, uint32_t type, const char *secrets)
{
    ng x = body_of(n);
    put(&x, type, 4);
    put(&x, strlen(secrets), 4);
    g_byte_array_append(x.b, (const guint8 *)secrets, (guint)strlen(secrets));
    block(n, MW_PCAPNG_DSB, x.b);
    g_byte_array_free(x.b, TRUE);
}

static void raw_block(ng *n, uint32_t type, const char *body)
{
    GByteArray *x = g_byte_array_new();
    g_byte_array_append(x, (const guint8 *)body, (guint)strlen(body));
    block(n, type, x);
    g_byte_array_free(x, TRUE);
}

#endif
