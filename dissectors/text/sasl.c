#define _GNU_SOURCE /* explicit_bzero, memrchr */
#include "text/sasl.h"

#include <glib.h>
#include <string.h>

#include "core/session.h"

/* Largest SASL response decoded (OAuth bearer tokens run to a few KiB). */
#define MW_SASL_MAX_B64 16384

static char *dup_user(const char *p, size_t len)
{
    if (len == 0)
        return NULL;
    return mw_wire_strdup((const uint8_t *)p, len, MW_MAX_TEXT);
}

/* "key=value" inside a \x01- or ','-separated GS2/XOAUTH2 string. */
static char *find_kv(const char *s, size_t len, const char *key, char sep)
{
    size_t klen = strlen(key);
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != sep && s[j] != '\x01')
            j++;
        if (j - i > klen && memcmp(s + i, key, klen) == 0)
            return dup_user(s + i + klen, j - i - klen);
        i = j + 1;
    }
    return NULL;
}

bool mw_sasl_mech_reveals_secret(const char *mech)
{
    return g_ascii_strcasecmp(mech, "PLAIN") == 0 || g_ascii_strcasecmp(mech, "LOGIN") == 0 ||
           g_ascii_strcasecmp(mech, "XOAUTH2") == 0 ||
           g_ascii_strcasecmp(mech, "OAUTHBEARER") == 0;
}

mw_sasl_info mw_sasl_response(const char *mech, unsigned step, const uint8_t *b64, size_t len)
{
    mw_sasl_info info = { NULL, false };
    if (len == 0 || (len == 1 && b64[0] == '='))
        return info;
    if (len > MW_SASL_MAX_B64)
        len = MW_SASL_MAX_B64;
    guchar *buf = g_malloc(len / 4 * 3 + 4);
    gint state = 0;
    guint save = 0;
    size_t n = g_base64_decode_step((const gchar *)b64, len, buf, &state, &save);
    const char *d = (const char *)buf;

    if (g_ascii_strcasecmp(mech, "PLAIN") == 0) {
        /* RFC 4616: authzid NUL authcid NUL passwd */
        const char *nul1 = memchr(d, '\0', n);
        if (nul1) {
            const char *authcid = nul1 + 1;
            const char *nul2 = memchr(authcid, '\0', n - (size_t)(authcid - d));
            size_t alen = nul2 ? (size_t)(nul2 - authcid) : n - (size_t)(authcid - d);
            info.user = dup_user(authcid, alen);
            if (!info.user && nul1 > d)
                info.user = dup_user(d, (size_t)(nul1 - d));
        }
        info.carries_secret = true;
    } else if (g_ascii_strcasecmp(mech, "LOGIN") == 0) {
        /* draft-murchison-sasl-login: user name first, password second */
        if (step == 0)
            info.user = dup_user(d, n);
        else
            info.carries_secret = true;
    } else if (g_ascii_strcasecmp(mech, "CRAM-MD5") == 0) {
        /* RFC 2195: "user SP hexdigest" — the digest is not the password */
        const char *sp = n ? memrchr(d, ' ', n) : NULL;
        if (sp)
            info.user = dup_user(d, (size_t)(sp - d));
    } else if (g_ascii_strcasecmp(mech, "XOAUTH2") == 0) {
        info.user = find_kv(d, n, "user=", '\x01');
        info.carries_secret = true;
    } else if (g_ascii_strcasecmp(mech, "OAUTHBEARER") == 0) {
        /* RFC 7628: GS2 header "n,a=user," then \x01-separated key=values */
        info.user = find_kv(d, n, "a=", ',');
        info.carries_secret = true;
    } else if (g_ascii_strcasecmp(mech, "DIGEST-MD5") == 0) {
        const char *u = g_strstr_len(d, (gssize)n, "username=\"");
        if (u) {
            u += 10;
            const char *q = memchr(u, '"', n - (size_t)(u - d));
            if (q)
                info.user = dup_user(u, (size_t)(q - u));
        }
    }
    explicit_bzero(buf, len / 4 * 3 + 4);
    g_free(buf);
    /* A user name with control bytes is not a user name (e.g. a mis-decoded response). */
    if (info.user) {
        for (const char *c = info.user; *c; c++) {
            if ((unsigned char)*c < 0x20) {
                g_free(info.user);
                info.user = NULL;
                break;
            }
        }
    }
    return info;
}
