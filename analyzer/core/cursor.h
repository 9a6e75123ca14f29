/* Bounds-checked reads over untrusted bytes.
 *
 * A cursor is {ptr, remaining}. Every getter returns true on success and leaves the
 * cursor untouched on failure, so a parser can test each read and bail out cleanly on a
 * truncated or hostile input. Length-prefixed sub-cursors (get_sub_1/2/3) let a TLS or
 * IP parser descend into a nested structure without ever reading past its parent. */
#ifndef MW_CURSOR_H
#define MW_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p;
    size_t left;
} mw_cursor;

static inline mw_cursor mw_cursor_make(const uint8_t *p, size_t len)
{
    mw_cursor c = { p, len };
    return c;
}

static inline bool mw_cur_skip(mw_cursor *c, size_t n)
{
    if (c->left < n)
        return false;
    c->p += n;
    c->left -= n;
    return true;
}

static inline bool mw_cur_u8(mw_cursor *c, uint8_t *v)
{
    if (c->left < 1)
        return false;
    *v = c->p[0];
    c->p += 1;
    c->left -= 1;
    return true;
}

static inline bool mw_cur_be16(mw_cursor *c, uint16_t *v)
{
    if (c->left < 2)
        return false;
    *v = (uint16_t)((c->p[0] << 8) | c->p[1]);
    c->p += 2;
    c->left -= 2;
    return true;
}

static inline bool mw_cur_be24(mw_cursor *c, uint32_t *v)
{
    if (c->left < 3)
        return false;
    *v = ((uint32_t)c->p[0] << 16) | ((uint32_t)c->p[1] << 8) | c->p[2];
    c->p += 3;
    c->left -= 3;
    return true;
}

static inline bool mw_cur_be32(mw_cursor *c, uint32_t *v)
{
    if (c->left < 4)
        return false;
    *v = ((uint32_t)c->p[0] << 24) | ((uint32_t)c->p[1] << 16) | ((uint32_t)c->p[2] << 8) |
         c->p[3];
    c->p += 4;
    c->left -= 4;
    return true;
}

/* Little-endian / host-order 32-bit read (BSD loopback header is in the writer's order). */
static inline bool mw_cur_le32(mw_cursor *c, uint32_t *v)
{
    if (c->left < 4)
        return false;
    *v = ((uint32_t)c->p[3] << 24) | ((uint32_t)c->p[2] << 16) | ((uint32_t)c->p[1] << 8) |
         c->p[0];
    c->p += 4;
    c->left -= 4;
    return true;
}

/* Borrow n bytes: *out points into the buffer, valid as long as the buffer is. */
static inline bool mw_cur_bytes(mw_cursor *c, size_t n, const uint8_t **out)
{
    if (c->left < n)
        return false;
    *out = c->p;
    c->p += n;
    c->left -= n;
    return true;
}

/* Sub-cursor of exactly n bytes; the parent advances past it. */
static inline bool mw_cur_sub(mw_cursor *c, size_t n, mw_cursor *sub)
{
    if (c->left < n)
        return false;
    sub->p = c->p;
    sub->left = n;
    c->p += n;
    c->left -= n;
    return true;
}

/* Length-prefixed sub-cursors (1, 2 or 3 length bytes, big-endian). On failure neither
 * cursor moves. */
static inline bool mw_cur_sub_1(mw_cursor *c, mw_cursor *sub)
{
    mw_cursor t = *c;
    uint8_t n;
    if (!mw_cur_u8(&t, &n) || !mw_cur_sub(&t, n, sub))
        return false;
    *c = t;
    return true;
}

static inline bool mw_cur_sub_2(mw_cursor *c, mw_cursor *sub)
{
    mw_cursor t = *c;
    uint16_t n;
    if (!mw_cur_be16(&t, &n) || !mw_cur_sub(&t, n, sub))
        return false;
    *c = t;
    return true;
}

static inline bool mw_cur_sub_3(mw_cursor *c, mw_cursor *sub)
{
    mw_cursor t = *c;
    uint32_t n;
    if (!mw_cur_be24(&t, &n) || !mw_cur_sub(&t, n, sub))
        return false;
    *c = t;
    return true;
}

#endif
