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

bool mw_line_starts(const mw_line *l, const char *prefix)
{
    size_t n = strlen(prefix);
    return l->len >= n && g_ascii_strncasecmp((const char *)l->p, prefix, n) == 0;
}

bool mw_bytes_contain(const uint8_t *p, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    const uint8_t lo = (uint8_t)g_ascii_tolower(needle[0]), up = (uint8_t)g_ascii_toupper(needle[0]);
    for (size_t i = 0; i + n <= len; i++) {
        if ((p[i] == lo || p[i] == up) &&
            g_ascii_strncasecmp((const char *)p + i + 1, needle + 1, n - 1) == 0)
            return true;
    }
    return false;
}
