#include "tls_fp.h"

#include <glib.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_names.h"

uint16_t mw_tls_client_max_version(const mw_tls_client_hello *h)
{
    uint16_t best = 0;
    for (size_t i = 0; i < h->versions.n; i++)
        if (mw_tls_version_rank(h->versions.v[i]) > mw_tls_version_rank(best))
            best = h->versions.v[i];
    return best ? best : h->legacy_version;
}

static void hex_digest(const EVP_MD *md, const char *s, size_t len, char *out, size_t hexlen)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (!EVP_Digest(s, len, d, &n, md, NULL))
        return;
    size_t k = 0;
    for (unsigned i = 0; i < n && k + 2 <= hexlen; i++, k += 2)
        snprintf(out + k, 3, "%02x", d[i]);
    out[k] = '\0';
}

static void dec_list(GString *g, const mw_u16_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        g_string_append_printf(g, "%s%u", i ? "-" : "", l->v[i]);
}

/* JA3: "SSLVersion,Ciphers,Extensions,EllipticCurves,EcPointFormats", decimal, '-'. */
void mw_tls_ja3(const mw_tls_client_hello *h, char out[33])
{
    GString *g = g_string_sized_new(512);
    g_string_append_printf(g, "%u,", h->legacy_version);
    dec_list(g, &h->ciphers);
    g_string_append_c(g, ',');
    dec_list(g, &h->exts);
    g_string_append_c(g, ',');
    dec_list(g, &h->groups);
    g_string_append_c(g, ',');
    dec_list(g, &h->formats);
    hex_digest(EVP_md5(), g->str, g->len, out, 32);
    g_string_free(g, TRUE);
}

/* JA3S: "SSLVersion,Cipher,Extensions". */
void mw_tls_ja3s(const mw_tls_server_hello *h, char out[33])
{
    GString *g = g_string_sized_new(128);
    g_string_append_printf(g, "%u,%u,", h->legacy_version, h->cipher);
    dec_list(g, &h->exts);
    hex_digest(EVP_md5(), g->str, g->len, out, 32);
    g_string_free(g, TRUE);
}

/* ---------- JA4 ---------- */

static const char *ja4_version(uint16_t v)
{
    static const struct {
        uint16_t v;
        const char *s;
    } t[] = {
        { 0x0304, "13" }, { 0x0303, "12" }, { 0x0302, "11" }, { 0x0301, "10" },
        { 0x0300, "s3" }, { 0x0002, "s2" }, { 0xfeff, "d1" }, { 0xfefd, "d2" },
        { 0xfefc, "d3" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
        if (t[i].v == v)
            return t[i].s;
    return "00";
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* First and last character of the first ALPN value; its hex form's first and last
 * nibble when either byte is not alphanumeric; "00" when there is none. */
static void ja4_alpn(const mw_tls_client_hello *h, char out[3])
{
    static const char hex[] = "0123456789abcdef";
    if (!h->alpn || h->alpn_len == 0) {
        memcpy(out, "00", 3);
        return;
    }
    uint8_t first = h->alpn[0], last = h->alpn[h->alpn_len - 1];
    if (is_alnum(first) && is_alnum(last)) {
        out[0] = (char)first;
        out[1] = (char)last;
    } else {
        out[0] = hex[first >> 4];
        out[1] = hex[last & 0xf];
    }
    out[2] = '\0';
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Comma-separated 4-digit lower-case hex of the list, sorted when asked, leaving out
 * SNI (0x0000) and ALPN (0x0010) when asked. */
static size_t hex_list(GString *g, const mw_u16_list *l, bool sort, bool drop_sni_alpn)
{
    uint16_t tmp[MW_TLS_MAX_LIST];
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!drop_sni_alpn || (l->v[i] != 0x0000 && l->v[i] != 0x0010))
            tmp[n++] = l->v[i];
    if (sort)
        qsort(tmp, n, sizeof tmp[0], cmp_u16);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(g, "%s%04x", i ? "," : "", tmp[i]);
    return n;
}

static void ja4_hash12(const GString *g, size_t items, char out[13])
{
    if (items == 0) {
        memcpy(out, "000000000000", 13);
        return;
    }
    char full[65];
    hex_digest(EVP_sha256(), g->str, g->len, full, 64);
    memcpy(out, full, 12);
    out[12] = '\0';
}

void mw_tls_ja4(const mw_tls_client_hello *h, char out[48])
{
    char alpn[3], b[13], c[13];
    /* the highest supported_versions value, else the hello's version */
    uint16_t v = h->versions.n ? 0 : h->legacy_version;
    for (size_t i = 0; i < h->versions.n; i++)
        if (h->versions.v[i] > v)
            v = h->versions.v[i];
    ja4_alpn(h, alpn);

    GString *g = g_string_sized_new(512);
    size_t nc = hex_list(g, &h->ciphers, true, false);
    ja4_hash12(g, nc, b);
    g_string_truncate(g, 0);
    size_t ne = hex_list(g, &h->exts, true, true);
    if (ne > 0 && h->sigalgs.n > 0) {
        g_string_append_c(g, '_');
        hex_list(g, &h->sigalgs, false, false);
    }
    ja4_hash12(g, ne, c);
    g_string_free(g, TRUE);

    size_t cc = h->ciphers.n > 99 ? 99 : h->ciphers.n;
    size_t ec = h->exts.n > 99 ? 99 : h->exts.n;
    snprintf(out, 48, "t%s%c%02zu%02zu%s_%s_%s", ja4_version(v), h->has_sni_ext ? 'd' : 'i',
             cc, ec, alpn, b, c);
}
