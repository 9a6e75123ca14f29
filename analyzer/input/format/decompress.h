/* Compressed captures (.gz, .zst, .lz4, as tshark reads them), recognised by their magic
 * bytes, never by the file name, and decompressed on read behind a stdio stream
 * (fopencookie), so libpcap (pcap_fopen_offline) and the pcapng reader read them as they
 * read a plain file. Streaming: memory is the decoders' own state and two fixed buffers
 * whatever the file expands to, so a decompression bomb costs time, not memory.
 *
 * The magic is peeked without losing it: on a seekable file by seeking back, on a pipe by
 * a stream that hands the peeked bytes back before the rest. */
#ifndef MW_DECOMPRESS_H
#define MW_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Compressed bytes read from the file at a time. */
#define MW_DECOMPRESS_IN_BYTES (128u * 1024)
/* stdio buffer of the decompressed stream (the size of each decoder call's output). */
#define MW_DECOMPRESS_OUT_BYTES (256u * 1024)
/* Largest zstd window accepted (2^27 = 128 MiB, zstd's own default limit; `zstd --long`
 * writes 2^27). A frame asking for more is refused. */
#define MW_ZSTD_WINDOW_LOG_MAX 27
/* Bytes of the content peeked at open (enough for any capture magic). */
#define MW_DECOMPRESS_HEAD 16

typedef enum {
    MW_COMPRESS_NONE,
    MW_COMPRESS_GZIP, /* 1f 8b; concatenated members are read one after another */
    MW_COMPRESS_ZSTD, /* 28 b5 2f fd; concatenated frames too */
    MW_COMPRESS_LZ4,  /* lz4 frame format 04 22 4d 18 (not the legacy format) */
} mw_compress_kind;

typedef struct mw_decomp mw_decomp;

typedef struct {
    mw_compress_kind kind;
    uint8_t head[MW_DECOMPRESS_HEAD]; /* the first bytes of the content, decompressed */
    size_t head_len;                  /* fewer than MW_DECOMPRESS_HEAD: the content is short */
    mw_decomp *state;                 /* the wrapper's state, NULL when raw came back as is */
} mw_decompress_info;

/* Wrap raw. Returns the stream to read the content from: raw itself when it is not
 * compressed (a seekable file rewound, a pipe with its first bytes pushed back, so that
 * its reads return what has arrived), else a new stream that owns raw (closing it closes
 * raw, except stdin). name is the file's name for messages. On failure (a read error, corrupt
 * compressed data at the start) returns NULL with *err set (g_free it) naming the file;
 * raw is then still the caller's. */
FILE *mw_decompress_open(FILE *raw, const char *name, mw_decompress_info *info, char **err);

/* Why the decompressing stream failed ("gzip data truncated: ..."), or NULL.
 * Valid until the stream is closed. A failed read on the stream returns an error (EIO),
 * which a reader of the stream reports; this says what happened. */
const char *mw_decompress_error(const mw_decomp *d);

/* "gzip", "zstd", "lz4", or "none". */
const char *mw_compress_name(mw_compress_kind k);

/* Which compression these first bytes announce. */
mw_compress_kind mw_compress_detect(const uint8_t *head, size_t len);

#endif
