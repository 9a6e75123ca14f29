#include "text/lines.h"

#include <glib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#define MW_CONTAIN_SSE2 1 /* mw_bytes_contain's 16 starts at a time */
#endif

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

/* Byte pairs that may start a match, 16 starts at a time: OR 0x20 sends both cases of a
 * letter to its lower case (and a few other bytes together, which the full comparison
 * then rejects), so each candidate's first two bytes are checked in one step instead of
 * a memchr per occurrence of the first letter (capability lines repeat it often). */
bool mw_bytes_contain(const uint8_t *p, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    if (n > len)
        return false;
    const size_t last = len - n; /* the last start that leaves room for the needle */
    const uint8_t f0 = fold((uint8_t)needle[0]);
    size_t i = 0;
#ifdef MW_CONTAIN_SSE2
    if (n >= 2) {
        const __m128i bit = _mm_set1_epi8(0x20);
        const __m128i v0 = _mm_set1_epi8((char)(f0 | 0x20));
        const __m128i v1 = _mm_set1_epi8((char)(fold((uint8_t)needle[1]) | 0x20));
        /* the two loads end at p[i + 16]: inside the bytes while i + 17 <= len */
        for (; i <= last && i + 17 <= len; i += 16) {
            const __m128i *at = (const __m128i *)(const void *)(p + i);
            const __m128i *next = (const __m128i *)(const void *)(p + i + 1);
            __m128i a = _mm_or_si128(_mm_loadu_si128(at), bit);
            __m128i b = _mm_or_si128(_mm_loadu_si128(next), bit);
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_and_si128(_mm_cmpeq_epi8(a, v0), _mm_cmpeq_epi8(b, v1)));
            while (m) {
                size_t k = i + (size_t)__builtin_ctz(m);
                m &= m - 1;
                if (k > last)
                    return false; /* this and every later start leave too few bytes */
                if (same_folded(p + k, needle, n))
                    return true;
            }
        }
    }
#endif
    for (; i <= last; i++)
        if (fold(p[i]) == f0 && same_folded(p + i, needle, n))
            return true;
    return false;
}
