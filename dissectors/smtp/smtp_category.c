#include "smtp/smtp_category.h"

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* RFC 3463 subject.detail codes (class digit stripped) whose meaning is specific enough
 * to decide the category alone. Codes used by servers for many different refusals
 * (x.7.1 "delivery not authorized", x.7.0, x.0.0) are absent: the wording decides. */
static const struct {
    const char *code;
    const char *category;
} code_table[] = {
    { "1.0", "mailbox" },     { "1.1", "mailbox" },   { "1.2", "mailbox" },
    { "1.3", "mailbox" },     { "1.4", "mailbox" },   { "1.6", "mailbox" },
    { "1.7", "mailbox" },     { "1.8", "mailbox" },   { "1.10", "mailbox" },
    { "2.0", "mailbox" },     { "2.1", "mailbox" },   { "2.2", "mailbox" },
    { "2.3", "size" },        { "2.4", "mailbox" },   { "3.0", "system" },
    { "3.1", "system" },      { "3.2", "system" },    { "3.3", "system" },
    { "3.4", "size" },        { "3.5", "system" },    { "4.0", "system" },
    { "4.1", "system" },      { "4.2", "system" },    { "4.3", "system" },
    { "4.4", "system" },      { "4.5", "system" },    { "4.6", "system" },
    { "4.7", "system" },      { "5.0", "syntax" },    { "5.1", "syntax" },
    { "5.2", "syntax" },      { "5.3", "rate_limit" }, { "5.4", "syntax" },
    { "5.5", "syntax" },      { "5.6", "syntax" },    { "6.0", "other" },
    { "7.2", "policy" },      { "7.3", "policy" },    { "7.4", "tls" },
    { "7.5", "tls" },         { "7.7", "other" },     { "7.8", "auth" },
    { "7.9", "auth" },        { "7.10", "tls" },      { "7.11", "tls" },
    { "7.12", "auth" },       { "7.13", "auth" },     { "7.14", "auth" },
    { "7.15", "auth" },       { "7.20", "policy" },   { "7.21", "policy" },
    { "7.22", "policy" },     { "7.23", "policy" },   { "7.24", "policy" },
    { "7.25", "policy" },     { "7.26", "policy" },   { "7.27", "policy" },
    { "7.28", "rate_limit" }, { "7.29", "policy" },   { "7.30", "policy" },
    /* Microsoft 365 extended codes */
    { "7.606", "blocklist" }, { "7.708", "blocklist" }, { "7.750", "blocklist" },
    { "7.705", "rate_limit" },
};

/* Wording of common servers (postfix, Exchange/Outlook.com, Exim, Gmail), lower case,
 * most specific first. */
static const struct {
    const char *words;
    const char *category;
} wording_table[] = {
    { "relay", "relay" },
    { "greylist", "greylist" },
    { "graylist", "greylist" },
    { "grey-list", "greylist" },
    { "spamhaus", "blocklist" },
    { "spamcop", "blocklist" },
    { "barracuda", "blocklist" },
    { "blocklist", "blocklist" },
    { "blacklist", "blocklist" },
    { "block list", "blocklist" },
    { "dnsbl", "blocklist" },
    { "rbl", "blocklist" },
    { "banned sending ip", "blocklist" },
    { "blocked using", "blocklist" },
    { "listed at", "blocklist" },
    { "starttls", "tls" },
    { "tls", "tls" },
    { "encryption", "tls" },
    { "authentication", "auth" },
    { "authenticate", "auth" },
    { "auth ", "auth" },
    { "credentials", "auth" },
    { "not logged in", "auth" },
    { "rate limit", "rate_limit" },
    { "ratelimit", "rate_limit" },
    { "too many", "rate_limit" },
    { "unusual rate", "rate_limit" },
    { "throttl", "rate_limit" },
    { "try again later", "greylist" },
    { "user unknown", "mailbox" },
    { "unknown user", "mailbox" },
    { "does not exist", "mailbox" },
    { "no such user", "mailbox" },
    { "mailbox unavailable", "mailbox" },
    { "mailbox full", "mailbox" },
    { "quota", "mailbox" },
    { "too large", "size" },
    { "too big", "size" },
    { "size limit", "size" },
    { "exceeds", "size" },
    { "syntax", "syntax" },
    { "not recognized", "syntax" },
    { "unrecognized", "syntax" },
    { "bad sequence", "syntax" },
    { "need mail", "syntax" },
    { "need rcpt", "syntax" },
    { "spam", "policy" },
    { "policy", "policy" },
    { "denied", "policy" },
    { "rejected", "policy" },
    { "not permitted", "policy" },
    { "timeout", "system" },
    { "timed out", "system" },
    { "service not available", "system" },
    { "temporar", "system" },
};

/* Basic reply codes (RFC 5321 4.2.3) when neither code nor wording decided. */
static const struct {
    int code;
    const char *category;
} basic_table[] = {
    { 421, "system" }, { 450, "mailbox" }, { 451, "system" }, { 452, "system" },
    { 454, "tls" },    { 455, "syntax" },  { 500, "syntax" }, { 501, "syntax" },
    { 502, "syntax" }, { 503, "syntax" },  { 504, "syntax" }, { 521, "system" },
    { 530, "auth" },   { 534, "auth" },    { 535, "auth" },   { 538, "tls" },
    { 550, "mailbox" }, { 551, "mailbox" }, { 552, "size" },  { 553, "mailbox" },
    { 554, "policy" }, { 555, "syntax" },  { 556, "mailbox" },
};

/* Wording so specific that it outranks a generic enhanced code: postgrey answers
 * "450 4.2.0 ... Greylisted", blocklist hits come as 5.7.1 or 5.7.606. */
static bool decisive_wording(const char *category)
{
    return strcmp(category, "relay") == 0 || strcmp(category, "greylist") == 0 ||
           strcmp(category, "blocklist") == 0;
}

/* Wording: the first table entry the text contains. One pass over the text: each pair of
 * bytes picks (by a small hash) the entries that may start there, mostly none, and only
 * those are compared -- instead of a strstr per entry. */
#define WORDINGS G_N_ELEMENTS(wording_table)
_Static_assert(G_N_ELEMENTS(wording_table) <= 64, "a 64-bit mask holds the matches");

static inline unsigned pair_hash(uint8_t a, uint8_t b)
{
    return ((unsigned)a << 3 ^ b) & 0xffu;
}

typedef struct {
    uint64_t starts[256]; /* bit k: wording_table[k]'s first two bytes hash here */
    uint8_t len[G_N_ELEMENTS(wording_table)];
} wording_index;

static wording_index wording_idx;

static void wordings_build(void)
{
    for (size_t k = 0; k < WORDINGS; k++) {
        const char *w = wording_table[k].words;
        wording_idx.len[k] = (uint8_t)strlen(w);
        g_assert(wording_idx.len[k] >= 2); /* hashed by its first two bytes */
        wording_idx.starts[pair_hash((uint8_t)w[0], (uint8_t)w[1])] |= UINT64_C(1) << k;
    }
}

/* Built once, whichever analysis thread asks first: pthread_once, not g_once_init_enter,
 * whose release happens inside GLib where ThreadSanitizer cannot see it (a false race with
 * --threads 4). */
static const wording_index *wordings(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, wordings_build);
    return &wording_idx;
}

static const char *by_wording_lower(const char *low, size_t len)
{
    if (!low || len < 2)
        return NULL;
    const wording_index *w = wordings();
    const uint8_t *t = (const uint8_t *)low;
    uint64_t found = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        /* entries before the earliest found could still match later in the text */
        uint64_t m = w->starts[pair_hash(t[i], t[i + 1])] & ~found;
        while (m) {
            unsigned k = (unsigned)__builtin_ctzll(m);
            m &= m - 1;
            if (len - i >= w->len[k] && memcmp(t + i, wording_table[k].words, w->len[k]) == 0)
                found |= UINT64_C(1) << k;
        }
        if (found & 1)
            break; /* the first entry: nothing outranks it */
    }
    return found ? wording_table[__builtin_ctzll(found)].category : NULL;
}

const char *mw_smtp_category_lower(int code, const char *enhanced, const char *low, size_t len)
{
    const char *worded = by_wording_lower(low, len);
    if (worded && decisive_wording(worded))
        return worded;
    if (enhanced && enhanced[0] && enhanced[1] == '.') {
        const char *subject = enhanced + 2; /* strip "5." */
        for (size_t i = 0; i < G_N_ELEMENTS(code_table); i++)
            if (subject[0] == code_table[i].code[0] && strcmp(subject, code_table[i].code) == 0)
                return code_table[i].category;
    }
    if (worded)
        return worded;
    for (size_t i = 0; i < G_N_ELEMENTS(basic_table); i++)
        if (basic_table[i].code == code)
            return basic_table[i].category;
    return "other";
}

const char *mw_smtp_category(int code, const char *enhanced, const char *text)
{
    if (!text)
        return mw_smtp_category_lower(code, enhanced, NULL, 0);
    char *lower = g_ascii_strdown(text, -1);
    const char *cat = mw_smtp_category_lower(code, enhanced, lower, strlen(lower));
    g_free(lower);
    return cat;
}
