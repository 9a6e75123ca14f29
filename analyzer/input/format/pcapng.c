#include "input/format/pcapng.h"

#include <errno.h>
#include <glib.h>
#include <pcap/pcap.h>
#include <string.h>

#include "core/cursor.h"

__extension__ typedef unsigned __int128 mw_u128;

/* First block buffer; it grows to the largest block met, up to max_block. */
#define PCAPNG_INITIAL_BUFFER (64u * 1024)
#define SHB_MIN_LEN 28u /* header 8 + BOM 4 + versions 4 + section length 8 + trailer 4 */
#define OPT_ENDOFOPT 0
#define OPT_IF_NAME 2
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14

struct mw_pcapng {
    FILE *fp;
    mw_pcapng_opts opts;
    bool big;                 /* the current section is big-endian */
    uint8_t *buf;             /* the current block, header to trailer */
    size_t cap;
    uint64_t pos;             /* bytes of the file consumed */
    uint64_t block;           /* index of the next block */
    mw_pcapng_iface *ifaces;  /* the current section's interfaces */
    uint32_t nifaces, ifcap;
    int first_linktype;       /* of the first interface in the file, -1 before */
    bool mixed;
    int state;                /* 1 reading, 0 ended, -1 failed */
    bool truncated;
    bool held;                /* prime stopped at a packet: next returns it first */
    mw_pcapng_packet held_pkt;
    char *err;
    mw_pcapng_stats st;
};

/* ---- byte-order aware reads through the cursor ---- */

static bool get16(const mw_pcapng *r, mw_cursor *c, uint16_t *v)
{
    const uint8_t *b;
    if (!mw_cur_bytes(c, 2, &b))
        return false;
    *v = r->big ? (uint16_t)(b[0] << 8 | b[1]) : (uint16_t)(b[1] << 8 | b[0]);
    return true;
}

static bool get32(const mw_pcapng *r, mw_cursor *c, uint32_t *v)
{
    return r->big ? mw_cur_be32(c, v) : mw_cur_le32(c, v);
}

static bool get64(const mw_pcapng *r, mw_cursor *c, uint64_t *v)
{
    uint32_t a, b;
    mw_cursor t = *c;
    if (!get32(r, &t, &a) || !get32(r, &t, &b))
        return false;
    *c = t;
    *v = r->big ? ((uint64_t)a << 32 | b) : ((uint64_t)b << 32 | a);
    return true;
}

static int fail(mw_pcapng *r, char *msg)
{
    g_free(r->err);
    r->err = msg;
    r->state = -1;
    return -1;
}

static int fail_short_read(mw_pcapng *r, size_t want, size_t got)
{
    if (ferror(r->fp))
        return fail(r, g_strdup_printf("read error in block %" G_GUINT64_FORMAT ": %s",
                                       r->block, g_strerror(errno)));
    r->truncated = true;
    return fail(r, g_strdup_printf("truncated pcapng file; tried to read %zu bytes of block %"
                                   G_GUINT64_FORMAT " at byte %" G_GUINT64_FORMAT
                                   ", only got %zu", want, r->block, r->pos, got));
}

bool mw_pcapng_magic(const uint8_t *head, size_t len)
{
    return len >= 4 && head[0] == 0x0A && head[1] == 0x0D && head[2] == 0x0D && head[3] == 0x0A;
}

/* Read one whole block into r->buf; *body is its contents between the length fields.
 * 1: a block, 0: the file ended between blocks, -1: error. */
static int read_block(mw_pcapng *r, uint32_t *type, mw_cursor *body)
{
    size_t got = fread(r->buf, 1, 8, r->fp);
    if (got == 0 && !ferror(r->fp))
        return 0;
    if (got < 8)
        return fail_short_read(r, 8, got);
    size_t have = 8;
    if (mw_pcapng_magic(r->buf, 4)) { /* a section starts: its byte-order magic decides */
        got = fread(r->buf + 8, 1, 4, r->fp);
        if (got < 4)
            return fail_short_read(r, 12, 8 + got);
        static const uint8_t bom_be[4] = { 0x1A, 0x2B, 0x3C, 0x4D };
        static const uint8_t bom_le[4] = { 0x4D, 0x3C, 0x2B, 0x1A };
        if (memcmp(r->buf + 8, bom_be, 4) == 0)
            r->big = true;
        else if (memcmp(r->buf + 8, bom_le, 4) == 0)
            r->big = false;
        else
            return fail(r, g_strdup_printf("section header block %" G_GUINT64_FORMAT
                                           " has a bad byte-order magic", r->block));
        have = 12;
    }
    mw_cursor h = mw_cursor_make(r->buf, 8);
    uint32_t len;
    get32(r, &h, type);
    get32(r, &h, &len);
    if (len < 12 || len % 4 != 0 || (have == 12 && len < SHB_MIN_LEN))
        return fail(r, g_strdup_printf("block %" G_GUINT64_FORMAT " (type 0x%08x) has a bad "
                                       "length %u", r->block, *type, len));
    if (len > r->opts.max_block)
        return fail(r, g_strdup_printf("block %" G_GUINT64_FORMAT " (type 0x%08x) is %u "
                                       "bytes, more than the limit of %zu",
                                       r->block, *type, len, r->opts.max_block));
    if (len > r->cap) {
        r->buf = g_realloc(r->buf, len);
        r->cap = len;
    }
    got = fread(r->buf + have, 1, len - have, r->fp);
    if (got < len - have)
        return fail_short_read(r, len, have + got);
    mw_cursor t = mw_cursor_make(r->buf + len - 4, 4);
    uint32_t trail;
    get32(r, &t, &trail);
    if (trail != len)
        return fail(r, g_strdup_printf("block %" G_GUINT64_FORMAT " length %u and trailing "
                                       "length %u differ", r->block, len, trail));
    *body = mw_cursor_make(r->buf + 8, len - 12);
    r->pos += len;
    r->st.blocks++;
    return 1;
}

/* ---- blocks ---- */

static void drop_ifaces(mw_pcapng *r)
{
    for (uint32_t i = 0; i < r->nifaces; i++)
        g_free(r->ifaces[i].name);
    r->nifaces = 0;
}

static int on_shb(mw_pcapng *r, mw_cursor *c)
{
    uint16_t major, minor;
    uint64_t section_len; /* -1 (unknown) or a byte count; blocks are read in order anyway */
    if (!mw_cur_skip(c, 4) || !get16(r, c, &major) || !get16(r, c, &minor) ||
        !get64(r, c, &section_len))
        return fail(r, g_strdup("section header block too short"));
    if (major != 1)
        return fail(r, g_strdup_printf("unsupported pcapng version %u.%u", major, minor));
    drop_ifaces(r); /* interface numbers restart in every section */
    r->st.sections++;
    return 1;
}

static bool tsresol_of(uint8_t v, uint64_t *out)
{
    if (v & 0x80) {
        if ((v & 0x7F) > 63)
            return false;
        *out = (uint64_t)1 << (v & 0x7F);
        return true;
    }
    if (v > 19)
        return false;
    uint64_t x = 1;
    for (uint8_t i = 0; i < v; i++)
        x *= 10;
    *out = x;
    return true;
}

/* The options of an IDB: if_name, if_tsresol, if_tsoffset; others ignored. */
static int idb_options(mw_pcapng *r, mw_cursor *c, mw_pcapng_iface *ifp)
{
    while (c->left >= 4) {
        uint16_t code, len;
        mw_cursor v;
        get16(r, c, &code);
        get16(r, c, &len);
        if (code == OPT_ENDOFOPT)
            break;
        if (!mw_cur_sub(c, len, &v) || !mw_cur_skip(c, (4 - len % 4) % 4))
            return fail(r, g_strdup_printf("interface block %" G_GUINT64_FORMAT ": option %u "
                                           "longer than the block", r->block, code));
        if (code == OPT_IF_TSRESOL && len == 1) {
            if (!tsresol_of(v.p[0], &ifp->tsresol))
                return fail(r, g_strdup_printf("interface block %" G_GUINT64_FORMAT ": "
                                               "time resolution 0x%02x too fine",
                                               r->block, v.p[0]));
        } else if (code == OPT_IF_TSOFFSET && len == 8) {
            uint64_t off;
            get64(r, &v, &off);
            ifp->tsoffset = (int64_t)off;
        } else if (code == OPT_IF_NAME && len > 0 && !ifp->name) {
            size_t n = strnlen((const char *)v.p, len);
            ifp->name = g_strndup((const char *)v.p, MIN(n, MW_PCAPNG_NAME_MAX));
        }
    }
    return 1;
}

static int on_idb(mw_pcapng *r, mw_cursor *c)
{
    uint16_t linktype, reserved;
    uint32_t snaplen;
    if (!get16(r, c, &linktype) || !get16(r, c, &reserved) || !get32(r, c, &snaplen))
        return fail(r, g_strdup_printf("interface block %" G_GUINT64_FORMAT " too short",
                                       r->block));
    if (r->nifaces == MW_PCAPNG_MAX_IFACES)
        return fail(r, g_strdup_printf("more than %u interfaces in a section",
                                       MW_PCAPNG_MAX_IFACES));
    mw_pcapng_iface ifc = { .linktype = linktype, .dlt = mw_pcapng_linktype_to_dlt(linktype),
                            .snaplen = snaplen, .tsresol = 1000000 };
    if (idb_options(r, c, &ifc) < 0) {
        g_free(ifc.name);
        return -1;
    }
    if (r->nifaces == r->ifcap) {
        r->ifcap = r->ifcap ? r->ifcap * 2 : 4;
        r->ifaces = g_renew(mw_pcapng_iface, r->ifaces, r->ifcap);
    }
    r->ifaces[r->nifaces++] = ifc;
    r->st.interfaces++;
    if (r->first_linktype < 0)
        r->first_linktype = linktype;
    else if (r->first_linktype != linktype)
        r->mixed = true;
    return 1;
}

static void set_ts(const mw_pcapng_iface *ifp, uint64_t t, mw_pcapng_packet *out)
{
    /* libpcap's arithmetic: unsigned seconds plus the offset; the fraction scaled with
     * truncation (here to ns in 128 bits, so no resolution can overflow it). */
    uint64_t sec = t / ifp->tsresol + (uint64_t)ifp->tsoffset;
    uint64_t frac = t % ifp->tsresol;
    out->ts_sec = (int64_t)sec;
    out->ts_nsec = (uint32_t)((mw_u128)frac * 1000000000u / ifp->tsresol);
}

/* EPB, SPB and the obsolete PB. 1: *out is a packet; 2: the block was skipped. */
static int on_packet_block(mw_pcapng *r, uint32_t type, mw_cursor *c, mw_pcapng_packet *out)
{
    uint32_t iface = 0, hi = 0, lo = 0, caplen, origlen;
    bool ok;
    if (type == MW_PCAPNG_SPB) {
        ok = get32(r, c, &origlen);
        caplen = (uint32_t)MIN((size_t)origlen, c->left);
        if (ok && r->nifaces > 0 && r->ifaces[0].snaplen && caplen > r->ifaces[0].snaplen)
            caplen = r->ifaces[0].snaplen;
    } else if (type == MW_PCAPNG_PB) {
        uint16_t id, drops;
        ok = get16(r, c, &id) && get16(r, c, &drops) && get32(r, c, &hi) &&
             get32(r, c, &lo) && get32(r, c, &caplen) && get32(r, c, &origlen);
        iface = id;
    } else {
        ok = get32(r, c, &iface) && get32(r, c, &hi) && get32(r, c, &lo) &&
             get32(r, c, &caplen) && get32(r, c, &origlen);
    }
    if (!ok || !mw_cur_bytes(c, caplen, &out->data)) {
        r->st.malformed++;
        return 2;
    }
    if (iface >= r->nifaces) {
        r->st.no_iface++;
        return 2;
    }
    out->iface = iface;
    out->ifp = &r->ifaces[iface];
    out->caplen = caplen;
    out->origlen = origlen;
    out->block = r->block;
    set_ts(out->ifp, (uint64_t)hi << 32 | lo, out);
    if (type == MW_PCAPNG_EPB)
        r->st.epb++;
    else if (type == MW_PCAPNG_SPB)
        r->st.spb++;
    else
        r->st.pb++;
    return 1;
}

static void on_dsb(mw_pcapng *r, mw_cursor *c)
{
    uint32_t stype, len;
    const uint8_t *data;
    if (!get32(r, c, &stype) || !get32(r, c, &len) || !mw_cur_bytes(c, len, &data)) {
        r->st.malformed++;
        return;
    }
    r->st.dsb++;
    if (stype == MW_PCAPNG_SECRETS_TLS)
        r->st.dsb_tls++;
    if (r->opts.on_secrets)
        r->opts.on_secrets(r->opts.user, stype, data, len, r->block);
    explicit_bzero((void *)data, len); /* keys do not linger in the block buffer */
}

/* Blocks until a packet (1), the end (0) or an error (-1). */
static int step(mw_pcapng *r, mw_pcapng_packet *out)
{
    if (r->state <= 0)
        return r->state;
    for (;;) {
        uint32_t type;
        mw_cursor body;
        int rc = read_block(r, &type, &body);
        if (rc <= 0) {
            if (rc == 0)
                r->state = 0;
            return rc;
        }
        int res = 0; /* what to return once the block is done: 0 read on */
        switch (type) {
        case MW_PCAPNG_SHB: rc = on_shb(r, &body); break;
        case MW_PCAPNG_IDB: rc = on_idb(r, &body); break;
        case MW_PCAPNG_EPB:
        case MW_PCAPNG_SPB:
        case MW_PCAPNG_PB:
            if (on_packet_block(r, type, &body, out) == 1)
                res = 1;
            break;
        case MW_PCAPNG_DSB: on_dsb(r, &body); break;
        case MW_PCAPNG_NRB: r->st.nrb++; break;
        case MW_PCAPNG_ISB: r->st.isb++; break;
        default: r->st.unknown++; break;
        }
        r->block++;
        if (rc < 0)
            return -1;
        if (res)
            return res;
    }
}

mw_pcapng *mw_pcapng_open(FILE *fp, const mw_pcapng_opts *opts, char **err)
{
    mw_pcapng *r = g_new0(mw_pcapng, 1);
    r->fp = fp;
    if (opts)
        r->opts = *opts;
    if (!r->opts.max_block)
        r->opts.max_block = MW_PCAPNG_MAX_BLOCK;
    r->opts.max_block = MAX(r->opts.max_block, SHB_MIN_LEN);
    r->cap = MAX(PCAPNG_INITIAL_BUFFER, SHB_MIN_LEN);
    r->buf = g_malloc(r->cap);
    r->first_linktype = -1;
    r->state = 1;
    uint32_t type;
    mw_cursor body;
    int rc = read_block(r, &type, &body);
    if (rc == 1 && type != MW_PCAPNG_SHB)
        rc = fail(r, g_strdup("not a pcapng file (no section header block first)"));
    if (rc == 0)
        rc = fail(r, g_strdup("empty file"));
    if (rc == 1) {
        rc = on_shb(r, &body);
        r->block++;
    }
    if (rc < 0) {
        *err = g_strdup(r->err);
        mw_pcapng_close(r);
        return NULL;
    }
    return r;
}

bool mw_pcapng_prime(mw_pcapng *r)
{
    if (r->held || r->st.epb + r->st.spb + r->st.pb > 0)
        return r->state >= 0;
    /* the block buffer holds the packet untouched until the next read */
    r->held = step(r, &r->held_pkt) == 1;
    return r->state >= 0;
}

int mw_pcapng_next(mw_pcapng *r, mw_pcapng_packet *out)
{
    if (r->held) {
        r->held = false;
        *out = r->held_pkt;
        return 1;
    }
    return step(r, out);
}

const char *mw_pcapng_error(const mw_pcapng *r)
{
    return r->err;
}

bool mw_pcapng_truncated(const mw_pcapng *r)
{
    return r->truncated;
}

const mw_pcapng_iface *mw_pcapng_iface_get(const mw_pcapng *r, uint32_t i)
{
    return i < r->nifaces ? &r->ifaces[i] : NULL;
}

uint32_t mw_pcapng_iface_count(const mw_pcapng *r)
{
    return r->nifaces;
}

bool mw_pcapng_mixed_linktypes(const mw_pcapng *r)
{
    return r->mixed;
}

const mw_pcapng_stats *mw_pcapng_stats_get(const mw_pcapng *r)
{
    return &r->st;
}

int mw_pcapng_linktype_to_dlt(int linktype)
{
    switch (linktype) {
    case 101: return DLT_RAW;  /* LINKTYPE_RAW: DLT_RAW is 12 or 14 depending on the OS */
    case 108: return DLT_LOOP; /* LINKTYPE_LOOP: DLT_LOOP is 12 on OpenBSD */
    default: return linktype;
    }
}

void mw_pcapng_close(mw_pcapng *r)
{
    if (!r)
        return;
    drop_ifaces(r);
    g_free(r->ifaces);
    g_free(r->buf);
    g_free(r->err);
    g_free(r);
}
