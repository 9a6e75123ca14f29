/* Test helper: hex text (test vectors as the RFCs print them, spaces and line breaks
 * allowed) into bytes. */
#ifndef MW_TU_HEX_H
#define MW_TU_HEX_H

#include <glib.h>
#include <stdint.h>

static inline GByteArray *unhex(const char *s)
{
    GByteArray *b = g_byte_array_new();
    int hi = -1;
    for (; *s; s++) {
        if (!g_ascii_isxdigit(*s))
            continue;
        int v = g_ascii_xdigit_value(*s);
        if (hi < 0) {
            hi = v;
        } else {
            uint8_t x = (uint8_t)(hi << 4 | v);
            g_byte_array_append(b, &x, 1);
            hi = -1;
        }
    }
    g_assert_cmpint(hi, ==, -1);
    return b;
}

#endif
