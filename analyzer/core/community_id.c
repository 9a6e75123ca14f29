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
    unsigned dlen = mw_digest(MW_SHA1, buf, n, digest);
    /* "1:" and the base64 of the digest (EVP_EncodeBlock's, padded with '='), cut to
     * outlen as snprintf would: the record writer calls this once per session */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char text[2 + 4 * ((MW_DIGEST_MAX + 2) / 3) + 1], *t = text;
    *t++ = '1';
    *t++ = ':';
    unsigned i = 0;
    for (; i + 3 <= dlen; i += 3) { /* the whole groups, then the one cut short */
        uint32_t v = (uint32_t)digest[i] << 16 | (uint32_t)digest[i + 1] << 8 | digest[i + 2];
        *t++ = b64[v >> 18];
        *t++ = b64[(v >> 12) & 63];
        *t++ = b64[(v >> 6) & 63];
        *t++ = b64[v & 63];
    }
    if (i < dlen) {
        unsigned left = dlen - i;
        uint32_t v = (uint32_t)digest[i] << 16 | (left > 1 ? (uint32_t)digest[i + 1] << 8 : 0);
        *t++ = b64[v >> 18];
        *t++ = b64[(v >> 12) & 63];
        *t++ = left > 1 ? b64[(v >> 6) & 63] : '=';
        *t++ = '=';
    }
    if (!outlen)
        return;
    size_t tn = (size_t)(t - text);
    if (tn >= outlen)
        tn = outlen - 1;
    memcpy(out, text, tn);
    out[tn] = '\0';
}
