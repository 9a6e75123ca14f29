#include "tls/tls_fp.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/digest.h"
#include "tls/tls_names.h"

uint16_t mw_tls_client_max_version(const mw_tls_client_hello *h)
{
    uint16_t best = 0;
    for (size_t i = 0; i < h->versions.n; i++)
        if (mw_tls_version_rank(h->versions.v[i]) > mw_tls_version_rank(best))
            best = h->versions.v[i];
    return best ? best : h->legacy_version;
}

/* The fingerprint strings are built in a fixed buffer on the stack: the longest, JA3 of
 * four full lists, is 4 * MW_TLS_MAX_LIST * 6 bytes. Formatting by hand: this runs for
 * every ClientHello. */
typedef struct {
    char b[4 * MW_TLS_MAX_LIST * 6 + 64];
    size_t len;
} fp_buf;

static void fp_char(fp_buf *f, char c)
{
    if (f->len < sizeof f->b)
        f->b[f->len++] = c;
}

static void fp_dec(fp_buf *f, unsigned v)
{
    char d[10];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        fp_char(f, d[--n]);
}

static void fp_hex4(fp_buf *f, uint16_t v)
{
    for (int shift = 12; shift >= 0; shift -= 4)
        fp_char(f, "0123456789abcdef"[(v >> shift) & 15]);
}

/* Lower-case hex of the digest of f, at most hexlen characters; "" on failure. */
static void hex_digest(mw_md md, const fp_buf *f, char *out, size_t hexlen)
{
    uint8_t d[MW_DIGEST_MAX];
    unsigned n = mw_digest(md, f->b, f->len, d);
    if (n * 2 > hexlen)
        n = (unsigned)(hexlen / 2);
    mw_hex(d, n, out);
}

static void dec_list(fp_buf *f, const mw_u16_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            fp_char(f, '-');
        fp_dec(f, l->v[i]);
    }
}

/* JA3: "SSLVersion,Ciphers,Extensions,EllipticCurves,EcPointFormats", decimal, '-'. */
void mw_tls_ja3(const mw_tls_client_hello *h, char out[33])
{
    fp_buf f;
    f.len = 0;
    fp_dec(&f, h->legacy_version);
    fp_char(&f, ',');
    dec_list(&f, &h->ciphers);
    fp_char(&f, ',');
    dec_list(&f, &h->exts);
    fp_char(&f, ',');
    dec_list(&f, &h->groups);
    fp_char(&f, ',');
    dec_list(&f, &h->formats);
    hex_digest(MW_MD5, &f, out, 32);
}

/* JA3S: "SSLVersion,Cipher,Extensions". */
void mw_tls_ja3s(const mw_tls_server_hello *h, char out[33])
{
    fp_buf f;
    f.len = 0;
    fp_dec(&f, h->legacy_version);
    fp_char(&f, ',');
    fp_dec(&f, h->cipher);
    fp_char(&f, ',');
    dec_list(&f, &h->exts);
    hex_digest(MW_MD5, &f, out, 32);
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

/* Insertion sort: the lists are short (tens of values), and qsort costs more in calls
 * than the sort itself. */
static void sort_u16(uint16_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint16_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* Comma-separated 4-digit lower-case hex of the list, sorted when asked, leaving out
 * SNI (0x0000) and ALPN (0x0010) when asked. */
static size_t hex_list(fp_buf *f, const mw_u16_list *l, bool sort, bool drop_sni_alpn)
{
    uint16_t tmp[MW_TLS_MAX_LIST];
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!drop_sni_alpn || (l->v[i] != 0x0000 && l->v[i] != 0x0010))
            tmp[n++] = l->v[i];
    if (sort)
        sort_u16(tmp, n);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fp_char(f, ',');
        fp_hex4(f, tmp[i]);
    }
    return n;
}

static void ja4_hash12(const fp_buf *f, size_t items, char out[13])
{
    if (items == 0) {
        memcpy(out, "000000000000", 13);
        return;
    }
    char full[65];
    hex_digest(MW_SHA256, f, full, 64);
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

    fp_buf f;
    f.len = 0;
    size_t nc = hex_list(&f, &h->ciphers, true, false);
    ja4_hash12(&f, nc, b);
    f.len = 0;
    size_t ne = hex_list(&f, &h->exts, true, true);
    if (ne > 0 && h->sigalgs.n > 0) {
        fp_char(&f, '_');
        hex_list(&f, &h->sigalgs, false, false);
    }
    ja4_hash12(&f, ne, c);

    size_t cc = h->ciphers.n > 99 ? 99 : h->ciphers.n;
    size_t ec = h->exts.n > 99 ? 99 : h->exts.n;
    snprintf(out, 48, "t%s%c%02zu%02zu%s_%s_%s", ja4_version(v), h->has_sni_ext ? 'd' : 'i',
             cc, ec, alpn, b, c);
}

/* ---------- the fingerprint cache ---------- */

/* Everything JA3 and JA4 read from a hello, serialised: its kind, the versions, SNI
 * presence, the ALPN bytes JA4 takes, then each list as its length and values. */
typedef struct {
    uint16_t w[8 + 6 * (MW_TLS_MAX_LIST + 1)];
    size_t n;
} fp_key;

static void key_list(fp_key *k, const mw_u16_list *l)
{
    k->w[k->n++] = (uint16_t)l->n;
    memcpy(k->w + k->n, l->v, l->n * sizeof l->v[0]);
    k->n += l->n;
}

static void make_fp_key(const mw_tls_client_hello *h, fp_key *k)
{
    k->n = 0;
    k->w[k->n++] = 1; /* a ClientHello's key (2: a ServerHello's) */
    k->w[k->n++] = h->legacy_version;
    k->w[k->n++] = h->has_sni_ext;
    k->w[k->n++] = h->alpn && h->alpn_len;
    k->w[k->n++] = (h->alpn && h->alpn_len) ? h->alpn[0] : 0;
    k->w[k->n++] = (h->alpn && h->alpn_len) ? h->alpn[h->alpn_len - 1] : 0;
    key_list(k, &h->ciphers);
    key_list(k, &h->exts);
    key_list(k, &h->groups);
    key_list(k, &h->formats);
    key_list(k, &h->sigalgs);
    key_list(k, &h->versions);
}

typedef struct {
    uint64_t hash;
    size_t n;         /* key length in 16-bit words; 0: an empty slot */
    uint16_t *key;
    char ja3[33], ja4[48]; /* a ServerHello's JA3S goes in ja3 */
} fp_slot;

/* Direct-mapped: a colliding hello takes the slot. Worst case MW_TLS_FP_CACHE keys of
 * 3 KB each. The seed is random: whoever sends hellos cannot aim them at one slot. */
struct mw_tls_fp_cache {
    fp_slot slot[MW_TLS_FP_CACHE];
    uint64_t seed;
};

mw_tls_fp_cache *mw_tls_fp_cache_new(void)
{
    mw_tls_fp_cache *c = g_new0(mw_tls_fp_cache, 1);
    c->seed = (uint64_t)g_random_int() << 32 | g_random_int() | 1;
    return c;
}

void mw_tls_fp_cache_free(mw_tls_fp_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < MW_TLS_FP_CACHE; i++)
        g_free(c->slot[i].key);
    g_free(c);
}

/* The slot for key k, and whether it already holds k's fingerprints. */
static fp_slot *fp_lookup(mw_tls_fp_cache *c, const fp_key *k, uint64_t *hash, bool *hit)
{
    const size_t bytes = k->n * sizeof k->w[0];
    *hash = XXH3_64bits_withSeed(k->w, bytes, c->seed);
    fp_slot *slot = &c->slot[*hash % MW_TLS_FP_CACHE];
    *hit = slot->n == k->n && slot->hash == *hash && memcmp(slot->key, k->w, bytes) == 0;
    return slot;
}

static void fp_store(fp_slot *slot, const fp_key *k, uint64_t hash, const char *ja3,
                     const char *ja4)
{
    g_free(slot->key);
    slot->key = g_memdup2(k->w, k->n * sizeof k->w[0]);
    slot->n = k->n;
    slot->hash = hash;
    g_strlcpy(slot->ja3, ja3, sizeof slot->ja3);
    g_strlcpy(slot->ja4, ja4, sizeof slot->ja4);
}

void mw_tls_client_fingerprints(mw_tls_fp_cache *c, const mw_tls_client_hello *h,
                                char ja3[33], char ja4[48])
{
    if (!c) {
        mw_tls_ja3(h, ja3);
        mw_tls_ja4(h, ja4);
        return;
    }
    fp_key k;
    make_fp_key(h, &k);
    uint64_t hash;
    bool hit;
    fp_slot *slot = fp_lookup(c, &k, &hash, &hit);
    if (hit) {
        memcpy(ja3, slot->ja3, sizeof slot->ja3);
        memcpy(ja4, slot->ja4, sizeof slot->ja4);
        return;
    }
    mw_tls_ja3(h, ja3);
    mw_tls_ja4(h, ja4);
    fp_store(slot, &k, hash, ja3, ja4);
}

void mw_tls_server_fingerprint(mw_tls_fp_cache *c, const mw_tls_server_hello *h,
                               char ja3s[33])
{
    if (!c) {
        mw_tls_ja3s(h, ja3s);
        return;
    }
    fp_key k;
    k.n = 0;
    k.w[k.n++] = 2; /* a ServerHello's key */
    k.w[k.n++] = h->legacy_version;
    k.w[k.n++] = h->cipher;
    key_list(&k, &h->exts);
    uint64_t hash;
    bool hit;
    fp_slot *slot = fp_lookup(c, &k, &hash, &hit);
    if (hit) {
        memcpy(ja3s, slot->ja3, sizeof slot->ja3);
        return;
    }
    mw_tls_ja3s(h, ja3s);
    fp_store(slot, &k, hash, ja3s, "");
}
