#include "core/community_id.h"

#include <string.h>

#include "core/digest.h"

static uint32_t be32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* memcmp's order (unsigned bytes, the first that differs decides) taken as big-endian
 * words, without the call: once per record */
static int endpoint_cmp(const mw_endpoint *a, const mw_endpoint *b, size_t alen)
{
    for (size_t i = 0; i < alen; i += 4) {
        uint32_t x = be32_at(a->addr + i), y = be32_at(b->addr + i);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return (a->port > b->port) - (a->port < b->port);
}

void mw_community_id(const mw_endpoint *a, const mw_endpoint *b, char *out, size_t outlen)
{
    size_t alen = a->family == 6 ? 16 : 4;
    /* the spec orders the pair so that either direction gives the same hash */
    if (endpoint_cmp(a, b, alen) > 0) {
        const mw_endpoint *t = a;
        a = b;
        b = t;
    }
    uint8_t buf[2 + 16 + 16 + 2 + 4];
    size_t n = 0;
    buf[n++] = 0; /* seed, 16-bit big-endian */
    buf[n++] = 0;
    memcpy(buf + n, a->addr, alen);
    n += alen;
    memcpy(buf + n, b->addr, alen);
    n += alen;
    buf[n++] = 6; /* TCP */
    buf[n++] = 0; /* padding */
    buf[n++] = (uint8_t)(a->port >> 8);
    buf[n++] = (uint8_t)a->port;
    buf[n++] = (uint8_t)(b->port >> 8);
    buf[n++] = (uint8_t)b->port;

    uint8_t digest[MW_DIGEST_MAX];
    mw_digest(MW_SHA1, buf, n, digest);
    /* "1:" and the base64 of the digest (EVP_EncodeBlock's, padded with '='), cut to
     * outlen as snprintf would: the record writer calls this once per session. SHA-1's 20
     * bytes (FIPS 180-4) are 6 groups of 3 and 2 left: each written out, not looped (a
     * loop counted at run time was some 35 instructions a group; issue 18). */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    _Static_assert(MW_SHA1_SIZE == 6 * 3 + 2, "6 whole groups and 2 bytes");
    char text[2 + 4 * ((MW_SHA1_SIZE + 2) / 3) + 1], *t = text;
    *t++ = '1';
    *t++ = ':';
    uint32_t v;
#define MW_B64_GROUP(i)                                                                    \
    (v = (uint32_t)digest[i] << 16 | (uint32_t)digest[(i) + 1] << 8 | digest[(i) + 2],      \
     t[0] = b64[v >> 18], t[1] = b64[(v >> 12) & 63], t[2] = b64[(v >> 6) & 63],            \
     t[3] = b64[v & 63], t += 4)
    MW_B64_GROUP(0), MW_B64_GROUP(3), MW_B64_GROUP(6);
    MW_B64_GROUP(9), MW_B64_GROUP(12), MW_B64_GROUP(15);
#undef MW_B64_GROUP
    v = (uint32_t)digest[18] << 16 | (uint32_t)digest[19] << 8;
    *t++ = b64[v >> 18];
    *t++ = b64[(v >> 12) & 63];
    *t++ = b64[(v >> 6) & 63];
    *t++ = '=';
    if (!outlen)
        return;
    size_t tn = (size_t)(t - text);
    if (tn >= outlen)
        tn = outlen - 1;
    memcpy(out, text, tn);
    out[tn] = '\0';
}
