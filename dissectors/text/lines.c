#include "text/lines.h"

#include <glib.h>
#include <string.h>

/* ASCII lower case without a call (g_ascii_tolower is a function: these loops run for
 * every byte of some lines) */
static inline uint8_t fold(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool same_folded(const uint8_t *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fold(p[i]) != fold((uint8_t)s[i]))
            return false;
    return true;
}

bool mw_line_starts(const mw_line *l, const char *prefix)
{
    size_t n = strlen(prefix);
    return l->len >= n && same_folded(l->p, prefix, n);
}

/* The next start of a match in [from, end): the first byte in either case, found by
 * memchr (much faster than a byte loop on long capability lines). */
static const uint8_t *next_first(const uint8_t *from, const uint8_t *end, uint8_t lo, uint8_t up,
                                 const uint8_t **a, const uint8_t **b)
{
    if (*a && *a < from)
        *a = memchr(from, lo, (size_t)(end - from));
    if (*b && *b < from)
        *b = memchr(from, up, (size_t)(end - from));
    if (!*a)
        return *b;
    if (!*b)
        return *a;
    return *a < *b ? *a : *b;
}

bool mw_bytes_contain(const uint8_t *p, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    if (n > len)
        return false;
    const uint8_t lo = fold((uint8_t)needle[0]);
    const uint8_t up = lo >= 'a' && lo <= 'z' ? (uint8_t)(lo - 32) : lo;
    const uint8_t *end = p + (len - n) + 1; /* starts past it leave too few bytes */
    const uint8_t *a = memchr(p, lo, (size_t)(end - p));
    const uint8_t *b = up != lo ? memchr(p, up, (size_t)(end - p)) : NULL;
    for (const uint8_t *c = p; (c = next_first(c, end, lo, up, &a, &b)) != NULL; c++)
        if (same_folded(c + 1, needle + 1, n - 1))
            return true;
    return false;
}
