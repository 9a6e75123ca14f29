#define _GNU_SOURCE /* explicit_bzero, memrchr */
#include "text/sasl.h"

#include <glib.h>
#include <pthread.h>
#include <string.h>

#include "core/session.h"
#include "text/lines.h"

/* Largest SASL response decoded (OAuth bearer tokens run to a few KiB). */
#define MW_SASL_MAX_B64 16384
/* Shortest run of base64 characters taken for an encoded blob rather than a user name. */
#define MW_SASL_BLOB_MIN 8

static bool b64_char(uint8_t c)
{
    return g_ascii_isalnum(c) || c == '+' || c == '/';
}

/* A byte's classes for mw_sasl_user_ok, looked up once a byte instead of six tests. */
enum {
    UC_BAD = 1,   /* NUL, whitespace, control: not in a user name */
    UC_B64 = 2,   /* a base64 character (b64_char) */
    UC_UPPER = 4,
    UC_LOWER = 8,
    UC_DIGIT = 16,
    UC_SYM = 32,  /* '+' or '/' */
};

static uint8_t user_class(uint8_t c)
{
    if (c <= 0x20 || c == 0x7f)
        return UC_BAD;
    return (uint8_t)((b64_char(c) ? UC_B64 : 0) | (g_ascii_isupper(c) ? UC_UPPER : 0) |
                     (g_ascii_islower(c) ? UC_LOWER : 0) | (g_ascii_isdigit(c) ? UC_DIGIT : 0) |
                     (c == '+' || c == '/' ? UC_SYM : 0));
}

static uint8_t user_cls[256];

static void user_classes_build(void)
{
    for (unsigned c = 0; c < 256; c++)
        user_cls[c] = user_class((uint8_t)c);
}

/* Built once, by whichever analysis thread asks first: pthread_once, not g_once_init_enter
 * (its release is inside GLib, where ThreadSanitizer cannot see it). */
static const uint8_t *user_classes(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, user_classes_build);
    return user_cls;
}

bool mw_sasl_user_ok(const uint8_t *p, size_t len)
{
    if (len == 0 || len > MW_MAX_TEXT)
        return false;
    const uint8_t *cls = user_classes();
    bool b64 = true, pad = false;
    unsigned seen = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i], f = cls[c];
        if (f & UC_BAD)
            return false; /* NUL, whitespace, control: not a user name */
        if (c == '=' && i + 2 >= len && len >= 2)
            pad = true;
        else if (!(f & UC_B64) || pad)
            b64 = false;
        seen |= f;
    }
    /* "dXNlcg==", "U3dvcmRmaXNoLTQyeA": padding, '+'/'/', or mixed case with digits */
    const unsigned mixed = UC_UPPER | UC_LOWER | UC_DIGIT;
    if (b64 && len >= MW_SASL_BLOB_MIN && (pad || (seen & UC_SYM) || (seen & mixed) == mixed))
        return false;
    return true;
}

static char *dup_user(const char *p, size_t len)
{
    if (!mw_sasl_user_ok((const uint8_t *)p, len))
        return NULL;
    return mw_wire_strdup((const uint8_t *)p, len, MW_MAX_TEXT);
}

/* One well-formed base64 token (RFC 4648 section 4; padding may be left out)? */
static bool b64_token(const uint8_t *p, size_t len)
{
    size_t n = 0;
    while (n < len && b64_char(p[n]))
        n++;
    size_t pad = 0;
    while (n + pad < len && p[n + pad] == '=' && pad < 2)
        pad++;
    if (n + pad != len || n == 0)
        return false;
    return pad ? (n + pad) % 4 == 0 : n % 4 != 1;
}

bool mw_sasl_mech_reveals_secret(const char *mech)
{
    return g_ascii_strcasecmp(mech, "PLAIN") == 0 || g_ascii_strcasecmp(mech, "LOGIN") == 0 ||
           g_ascii_strcasecmp(mech, "XOAUTH2") == 0 ||
           g_ascii_strcasecmp(mech, "OAUTHBEARER") == 0;
}

/* Decoded tokens this long or shorter are kept on the caller's stack (every challenge; a
 * LOGIN user or password, a PLAIN triple): no malloc for them. */
#define SASL_STACK 512

/* Decode a base64 token into stack (SASL_STACK bytes) or, when longer, a new buffer: *cap
 * bytes, wiped (and freed) by the caller with wipe(). */
static guchar *decode(const uint8_t *b64, size_t len, size_t *n, size_t *cap, guchar *stack)
{
    *cap = len / 4 * 3 + 4;
    guchar *buf = *cap <= SASL_STACK ? stack : g_malloc(*cap);
    gint state = 0;
    guint save = 0;
    *n = g_base64_decode_step((const gchar *)b64, len, buf, &state, &save);
    return buf;
}

static void wipe(guchar *buf, size_t cap, const guchar *stack)
{
    explicit_bzero(buf, cap);
    if (buf != stack)
        g_free(buf);
}

mw_sasl_asks mw_sasl_challenge(const uint8_t *b64, size_t len)
{
    if (len == 0 || len > 256 || !b64_token(b64, len))
        return MW_SASL_ASKS_UNKNOWN;
    size_t n, cap;
    guchar stack[SASL_STACK];
    guchar *d = decode(b64, len, &n, &cap, stack);
    mw_sasl_asks asks = MW_SASL_ASKS_UNKNOWN;
    if (mw_bytes_contain(d, n, "pass"))
        asks = MW_SASL_ASKS_SECRET; /* "Password:" */
    else if (mw_bytes_contain(d, n, "user") || mw_bytes_contain(d, n, "name"))
        asks = MW_SASL_ASKS_USER;   /* "Username:", "User Name" */
    wipe(d, cap, stack);
    return asks;
}

/* RFC 4616: authzid NUL authcid NUL passwd — three fields, or no user. */
static char *plain_user(const char *d, size_t n)
{
    const char *nul1 = memchr(d, '\0', n);
    if (!nul1)
        return NULL;
    const char *authcid = nul1 + 1;
    const char *nul2 = memchr(authcid, '\0', n - (size_t)(authcid - d));
    if (!nul2)
        return NULL; /* "user\0pass": the second field would be the password */
    char *u = dup_user(authcid, (size_t)(nul2 - authcid));
    return u ? u : dup_user(d, (size_t)(nul1 - d));
}

/* RFC 7628: the GS2 header "n,a=user," up to the first \x01; the user only from there. */
static char *oauthbearer_user(const char *d, size_t n)
{
    const char *end = memchr(d, '\x01', n);
    if (!end)
        return NULL;
    size_t hlen = (size_t)(end - d);
    const char *c1 = memchr(d, ',', hlen);
    if (!c1)
        return NULL;
    const char *a = c1 + 1;
    size_t rest = hlen - (size_t)(a - d);
    const char *c2 = memchr(a, ',', rest);
    if (!c2 || rest < 2 || memcmp(a, "a=", 2) != 0)
        return NULL;
    return dup_user(a + 2, (size_t)(c2 - a) - 2);
}

/* "user=" {User} "\x01auth=Bearer " {token} "\x01\x01": the value must end at \x01. */
static char *xoauth2_user(const char *d, size_t n)
{
    if (n < 5 || memcmp(d, "user=", 5) != 0)
        return NULL;
    const char *end = memchr(d + 5, '\x01', n - 5);
    return end ? dup_user(d + 5, (size_t)(end - d) - 5) : NULL;
}

static void by_mechanism(mw_sasl_info *info, const char *mech, unsigned step, mw_sasl_asks asks,
                         const char *d, size_t n)
{
    if (g_ascii_strcasecmp(mech, "PLAIN") == 0) {
        info->user = plain_user(d, n);
        info->carries_secret = true;
    } else if (g_ascii_strcasecmp(mech, "LOGIN") == 0) {
        /* draft-murchison-sasl-login: user name first, password second — unless the
         * server's prompt says otherwise ("334 UGFzc3dvcmQ6" is "Password:") */
        bool user = asks == MW_SASL_ASKS_USER || (asks == MW_SASL_ASKS_UNKNOWN && step == 0);
        if (user)
            info->user = dup_user(d, n);
        else
            info->carries_secret = true;
    } else if (g_ascii_strcasecmp(mech, "CRAM-MD5") == 0) {
        /* RFC 2195: "user SP hexdigest" — the digest is not the password */
        const char *sp = n ? memrchr(d, ' ', n) : NULL;
        if (sp)
            info->user = dup_user(d, (size_t)(sp - d));
    } else if (g_ascii_strcasecmp(mech, "XOAUTH2") == 0) {
        info->user = xoauth2_user(d, n);
        info->carries_secret = true;
    } else if (g_ascii_strcasecmp(mech, "OAUTHBEARER") == 0) {
        info->user = oauthbearer_user(d, n);
        info->carries_secret = true;
    } else if (g_ascii_strcasecmp(mech, "DIGEST-MD5") == 0) {
        const char *u = g_strstr_len(d, (gssize)n, "username=\"");
        if (u) {
            u += 10;
            const char *q = memchr(u, '"', n - (size_t)(u - d));
            if (q)
                info->user = dup_user(u, (size_t)(q - u));
        }
    }
}

mw_sasl_info mw_sasl_response(const char *mech, unsigned step, mw_sasl_asks asks,
                              const uint8_t *b64, size_t len)
{
    mw_sasl_info info = { NULL, false };
    if (len == 0 || (len == 1 && b64[0] == '='))
        return info;
    if (len > MW_SASL_MAX_B64)
        len = MW_SASL_MAX_B64;
    if (!b64_token(b64, len)) {
        /* two values on one line, or not base64 at all: no user, and a secret may
         * well be in it */
        info.carries_secret = mw_sasl_mech_reveals_secret(mech);
        return info;
    }
    size_t n, cap;
    guchar stack[SASL_STACK];
    guchar *buf = decode(b64, len, &n, &cap, stack);
    by_mechanism(&info, mech, step, asks, (const char *)buf, n);
    wipe(buf, cap, stack);
    return info;
}
