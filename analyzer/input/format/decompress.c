#define _GNU_SOURCE /* fopencookie */
#include "input/format/decompress.h"

#include <errno.h>
#include <glib.h>
#include <lz4frame.h>
#include <stdbool.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

struct mw_decomp {
    FILE *raw;
    bool close_raw;          /* not stdin */
    mw_compress_kind kind;
    char *name;
    uint8_t *in;             /* compressed input, in[pos..len) not yet decoded */
    size_t in_len, in_pos;
    bool raw_eof;
    bool mid;                /* inside a member / frame: the end of the file here is a cut */
    bool member_done;        /* gzip: a member ended, another may follow */
    uint8_t pend[MW_DECOMPRESS_HEAD]; /* content peeked at open, handed out first */
    size_t pend_len, pend_pos;
    z_stream z;
    ZSTD_DStream *zs;
    LZ4F_dctx *lz;
    char *err;               /* set once, then every read fails */
};

const char *mw_compress_name(mw_compress_kind k)
{
    switch (k) {
    case MW_COMPRESS_GZIP: return "gzip";
    case MW_COMPRESS_ZSTD: return "zstd";
    case MW_COMPRESS_LZ4: return "lz4";
    default: return "none";
    }
}

mw_compress_kind mw_compress_detect(const uint8_t *h, size_t len)
{
    if (len >= 2 && h[0] == 0x1f && h[1] == 0x8b)
        return MW_COMPRESS_GZIP;
    if (len >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd)
        return MW_COMPRESS_ZSTD;
    if (len >= 4 && h[0] == 0x04 && h[1] == 0x22 && h[2] == 0x4d && h[3] == 0x18)
        return MW_COMPRESS_LZ4;
    return MW_COMPRESS_NONE;
}

const char *mw_decompress_error(const mw_decomp *d)
{
    return d ? d->err : NULL;
}

static ssize_t failed(mw_decomp *d, char *why)
{
    if (!d->err)
        d->err = why;
    else
        g_free(why);
    errno = EIO;
    return -1;
}

/* One decoder call on the input at hand. Returns the bytes written to out, -1 on an error
 * (d->err set). Sets d->mid while a member or frame is open. */
static ssize_t decode_some(mw_decomp *d, uint8_t *out, size_t n)
{
    const uint8_t *src = d->in + d->in_pos;
    size_t avail = d->in_len - d->in_pos, produced = 0;
    if (d->kind == MW_COMPRESS_GZIP) {
        if (d->member_done) { /* concatenated members (`cat a.gz b.gz`, pigz, bgzip) */
            inflateReset(&d->z);
            d->member_done = false;
        }
        d->z.next_in = (Bytef *)src;
        d->z.avail_in = (uInt)MIN(avail, (size_t)UINT_MAX);
        d->z.next_out = out;
        d->z.avail_out = (uInt)MIN(n, (size_t)UINT_MAX);
        int rc = inflate(&d->z, Z_NO_FLUSH);
        d->in_pos += (size_t)(d->z.next_in - src);
        produced = (size_t)(d->z.next_out - out);
        if (rc == Z_STREAM_END) {
            d->member_done = true;
            d->mid = false;
        } else if (rc == Z_OK || rc == Z_BUF_ERROR) {
            d->mid = true;
        } else {
            return failed(d, g_strdup_printf("corrupt gzip data (%s)",
                                             d->z.msg ? d->z.msg : "inflate failed"));
        }
    } else if (d->kind == MW_COMPRESS_ZSTD) {
        ZSTD_inBuffer ib = { src, avail, 0 };
        ZSTD_outBuffer ob = { out, n, 0 };
        size_t rc = ZSTD_decompressStream(d->zs, &ob, &ib);
        if (ZSTD_isError(rc))
            return failed(d, g_strdup_printf("corrupt zstd data (%s)", ZSTD_getErrorName(rc)));
        d->in_pos += ib.pos;
        produced = ob.pos;
        d->mid = rc != 0; /* 0: a frame ended and is flushed */
    } else {
        size_t dst = n, used = avail;
        size_t rc = LZ4F_decompress(d->lz, out, &dst, src, &used, NULL);
        if (LZ4F_isError(rc))
            return failed(d, g_strdup_printf("corrupt lz4 data (%s)", LZ4F_getErrorName(rc)));
        d->in_pos += used;
        produced = dst;
        d->mid = rc != 0; /* 0: a frame ended; the context takes the next one */
    }
    return (ssize_t)produced;
}

/* Decompress into out until something is produced, the content ends (0) or fails (-1). */
static ssize_t decompress(mw_decomp *d, uint8_t *out, size_t n)
{
    for (;;) {
        if (d->in_pos == d->in_len && !d->raw_eof) {
            d->in_len = fread(d->in, 1, MW_DECOMPRESS_IN_BYTES, d->raw);
            d->in_pos = 0;
            if (d->in_len == 0) {
                if (ferror(d->raw))
                    return failed(d, g_strdup_printf("read error: %s", g_strerror(errno)));
                d->raw_eof = true;
            }
        }
        bool drained = d->in_pos == d->in_len;
        if (drained && d->raw_eof) {
            if (d->mid) { /* the decoder may still hold output: one more call, no input */
                ssize_t k = decode_some(d, out, n);
                if (k != 0)
                    return k;
                return failed(d, g_strdup_printf("%s data truncated: the file ends inside a "
                                                 "compressed block", mw_compress_name(d->kind)));
            }
            return 0;
        }
        size_t before = d->in_pos;
        ssize_t k = decode_some(d, out, n);
        if (k != 0)
            return k;
        if (d->in_pos == before) /* never spin on input a decoder will not take */
            return failed(d, g_strdup_printf("%s decoder stalled", mw_compress_name(d->kind)));
    }
}

static ssize_t cookie_read(void *cookie, char *buf, size_t size)
{
    mw_decomp *d = cookie;
    if (d->err) {
        errno = EIO;
        return -1;
    }
    size_t n = MIN(size, d->pend_len - d->pend_pos);
    memcpy(buf, d->pend + d->pend_pos, n);
    d->pend_pos += n;
    if (n == size)
        return (ssize_t)n;
    if (d->kind == MW_COMPRESS_NONE) { /* a pipe: the peeked bytes, then the rest as is */
        size_t k = fread(buf + n, 1, size - n, d->raw);
        if (k == 0 && n == 0 && ferror(d->raw))
            return -1;
        return (ssize_t)(n + k);
    }
    ssize_t k = decompress(d, (uint8_t *)buf + n, size - n);
    if (k < 0)
        return n > 0 ? (ssize_t)n : -1; /* what came before the failure first */
    return (ssize_t)(n + (size_t)k);
}

static int cookie_close(void *cookie)
{
    mw_decomp *d = cookie;
    if (d->kind == MW_COMPRESS_GZIP)
        inflateEnd(&d->z);
    ZSTD_freeDStream(d->zs);
    if (d->lz)
        LZ4F_freeDecompressionContext(d->lz);
    if (d->close_raw)
        fclose(d->raw);
    g_free(d->in);
    g_free(d->name);
    g_free(d->err);
    g_free(d);
    return 0;
}

static bool decoder_init(mw_decomp *d)
{
    switch (d->kind) {
    case MW_COMPRESS_GZIP: return inflateInit2(&d->z, 15 + 16) == Z_OK; /* gzip wrapper only */
    case MW_COMPRESS_ZSTD:
        d->zs = ZSTD_createDStream();
        return d->zs && !ZSTD_isError(ZSTD_DCtx_setParameter(d->zs, ZSTD_d_windowLogMax,
                                                             MW_ZSTD_WINDOW_LOG_MAX));
    case MW_COMPRESS_LZ4:
        return !LZ4F_isError(LZ4F_createDecompressionContext(&d->lz, LZ4F_VERSION));
    default: return true;
    }
}

/* The peeked raw bytes become the decoder's first input; the content's first bytes are
 * decompressed now, to tell pcap from pcapng. */
static bool peek_content(mw_decomp *d, const uint8_t *magic, size_t mlen, char **err)
{
    if (d->kind == MW_COMPRESS_NONE) {
        memcpy(d->pend, magic, mlen);
        d->pend_len = mlen;
        return true;
    }
    d->in = g_malloc(MW_DECOMPRESS_IN_BYTES);
    memcpy(d->in, magic, mlen);
    d->in_len = mlen;
    while (d->pend_len < MW_DECOMPRESS_HEAD) {
        ssize_t k = decompress(d, d->pend + d->pend_len, MW_DECOMPRESS_HEAD - d->pend_len);
        if (k < 0) {
            *err = g_strdup_printf("%s: %s", d->name, d->err);
            return false;
        }
        if (k == 0)
            break;
        d->pend_len += (size_t)k;
    }
    return true;
}

FILE *mw_decompress_open(FILE *raw, const char *name, mw_decompress_info *info, char **err)
{
    memset(info, 0, sizeof *info);
    uint8_t magic[MW_DECOMPRESS_HEAD];
    long start = ftell(raw);
    size_t mlen = fread(magic, 1, sizeof magic, raw);
    if (mlen < sizeof magic && ferror(raw)) {
        *err = g_strdup_printf("%s: cannot read: %s", name, g_strerror(errno));
        return NULL;
    }
    info->kind = mw_compress_detect(magic, mlen);
    if (info->kind == MW_COMPRESS_NONE && start >= 0 && fseek(raw, start, SEEK_SET) == 0) {
        memcpy(info->head, magic, mlen);
        info->head_len = mlen;
        return raw; /* a plain file: read as it is */
    }
    /* A plain pipe: the peeked bytes pushed back (glibc keeps any number), and the stream
     * read as it is, so a pipe's reads still return what has arrived instead of waiting
     * for a wrapper's whole buffer (records of a slowly fed -r - come out at once). */
    if (info->kind == MW_COMPRESS_NONE) {
        bool back = true;
        for (size_t i = mlen; back && i-- > 0;)
            back = ungetc(magic[i], raw) != EOF;
        if (back) {
            memcpy(info->head, magic, mlen);
            info->head_len = mlen;
            return raw;
        }
        *err = g_strdup_printf("%s: cannot read: the first bytes could not be put back", name);
        return NULL;
    }
    mw_decomp *d = g_new0(mw_decomp, 1);
    d->raw = raw;
    d->close_raw = raw != stdin;
    d->kind = info->kind;
    d->name = g_strdup(name);
    if (!decoder_init(d)) {
        *err = g_strdup_printf("%s: cannot start the %s decoder", name, mw_compress_name(d->kind));
        d->close_raw = false;
        cookie_close(d);
        return NULL;
    }
    if (!peek_content(d, magic, mlen, err)) {
        d->close_raw = false;
        cookie_close(d);
        return NULL;
    }
    memcpy(info->head, d->pend, d->pend_len);
    info->head_len = d->pend_len;
    cookie_io_functions_t io = { .read = cookie_read, .close = cookie_close };
    FILE *f = fopencookie(d, "rb", io);
    if (!f) {
        *err = g_strdup_printf("%s: %s", name, g_strerror(errno));
        d->close_raw = false;
        cookie_close(d);
        return NULL;
    }
    setvbuf(f, NULL, _IOFBF, MW_DECOMPRESS_OUT_BYTES);
    info->state = d;
    return f;
}
