#include "text/lines.h"

#include <glib.h>
#include <string.h>

mw_line_status mw_line_take(mw_linestate *ls, const uint8_t *p, size_t len, size_t max_line,
                            mw_line *line, size_t *used)
{
    size_t off = 0;
    if (ls->discarding) {
        const uint8_t *nl = memchr(p, '\n', len);
        if (!nl) {
            *used = len;
            return MW_LINE_MORE;
        }
        off = (size_t)(nl - p) + 1;
        ls->discarding = false;
    }
    const uint8_t *nl = memchr(p + off, '\n', len - off);
    if (!nl) {
        if (len - off >= max_line) {
            ls->discarding = true;
            *used = len;
            return MW_LINE_OVERLONG;
        }
        *used = off;
        return MW_LINE_MORE;
    }
    size_t end = (size_t)(nl - p);
    *used = end + 1;
    if (end - off > max_line)
        return MW_LINE_OVERLONG;
    line->p = p + off;
    line->len = end - off;
    if (line->len > 0 && line->p[line->len - 1] == '\r')
        line->len--;
    return MW_LINE_OK;
}

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

bool mw_bytes_contain(const uint8_t *p, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    if (n > len)
        return false;
    const uint8_t first = fold((uint8_t)needle[0]);
    const size_t last = len - n;
    for (size_t i = 0; i <= last; i++)
        if (fold(p[i]) == first && same_folded(p + i + 1, needle + 1, n - 1))
            return true;
    return false;
}
