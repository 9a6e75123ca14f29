#include "input/format/capfile.h"

#include <glib.h>
#include <stdio_ext.h>
#include <string.h>

#include "input/linktype.h"

typedef struct {
    uint8_t *bytes;
    size_t len;
    uint64_t frames;
} kept_secret;

struct mw_capfile {
    FILE *fp;              /* the file itself: its offset is the progress */
    FILE *stream;          /* fp, or fp decompressed */
    bool own_stream;       /* close it here (libpcap has not taken it) */
    mw_decompress_info z;
    mw_pcapng *ng;         /* pcapng files */
    int first_dlt;
    int iface;
    const char *iface_name;
    uint64_t frames;
    int64_t offset;        /* of the file, as of the latest MW_CAPFILE_OFFSET_EVERY packets */
    uint64_t unsupported;  /* pcapng packets on interfaces of link types not decoded */
    int unsupported_lt;    /* the first such link type */
    GArray *secrets;       /* kept_secret, wiped at close */
    size_t secrets_bytes;
    uint64_t secrets_dropped;
    mw_capfile_secrets_fn on_secrets;
    void *secrets_user;
};

static void kept_wipe(kept_secret *k)
{
    explicit_bzero(k->bytes, k->len);
    g_free(k->bytes);
}

/* From the pcapng reader, in file order: keep (within the cap) and hand to the hook. */
static void got_secrets(void *user, uint32_t type, const uint8_t *data, size_t len,
                        uint64_t block)
{
    mw_capfile *f = user;
    if (type != MW_PCAPNG_SECRETS_TLS) /* counted by the reader (dsb - dsb_tls) */
        return;
    if (f->on_secrets)
        f->on_secrets(f->secrets_user, data, len, f->frames);
    if (len > MW_CAPFILE_SECRETS_MAX - f->secrets_bytes) {
        f->secrets_dropped++;
        return;
    }
    kept_secret k = { g_memdup2(data, len), len, f->frames };
    g_array_append_val(f->secrets, k);
    f->secrets_bytes += len;
}

static void close_stream(mw_capfile *f)
{
    if (f->own_stream && f->stream && f->stream != stdin)
        fclose(f->stream);
    f->own_stream = false;
}

/* A pcapng file: the section header, then blocks up to the first interface. */
static bool open_pcapng(mw_capfile *f, const char *name, char **err)
{
    mw_pcapng_opts o = { .on_secrets = got_secrets, .user = f };
    char *why = NULL;
    f->ng = mw_pcapng_open(f->stream, &o, &why);
    if (!f->ng) {
        *err = g_strdup_printf("%s: not a pcap or pcapng capture (%s)", name, why);
        g_free(why);
        return false;
    }
    if (!mw_pcapng_prime(f->ng)) {
        *err = g_strdup_printf("%s: truncated or corrupt capture: %s", name,
                               mw_pcapng_error(f->ng));
        return false;
    }
    uint32_t n = mw_pcapng_iface_count(f->ng);
    if (n == 0) {
        *err = g_strdup_printf("%s: pcapng capture without an interface, so without packets",
                               name);
        return false;
    }
    /* The first interface mailwire decodes stands for the file (the first of all when
     * none is: the open then fails on it); the others' packets are counted if not. */
    f->first_dlt = mw_pcapng_iface_get(f->ng, 0)->dlt;
    for (uint32_t i = n; i-- > 0;)
        if (mw_linktype_supported(mw_pcapng_iface_get(f->ng, i)->dlt))
            f->first_dlt = mw_pcapng_iface_get(f->ng, i)->dlt;
    return true;
}

mw_capfile *mw_capfile_open(FILE *fp, const char *name, char **err)
{
    mw_capfile *f = g_new0(mw_capfile, 1);
    f->fp = fp;
    f->iface = -1;
    f->first_dlt = -1;
    f->offset = -1;
    f->secrets = g_array_new(FALSE, FALSE, sizeof(kept_secret));
    f->stream = mw_decompress_open(fp, name, &f->z, err);
    if (!f->stream) {
        f->stream = fp; /* still ours to close */
        f->own_stream = true;
        mw_capfile_close(f);
        return NULL;
    }
    f->own_stream = true;
    if (f->stream != fp) /* one thread reads it, as fp (capture.c) */
        __fsetlocking(f->stream, FSETLOCKING_BYCALLER);
    if (mw_pcapng_magic(f->z.head, f->z.head_len) && !open_pcapng(f, name, err)) {
        mw_capfile_close(f);
        return NULL;
    }
    return f;
}

bool mw_capfile_is_pcapng(const mw_capfile *f)
{
    return f->ng != NULL;
}

FILE *mw_capfile_stream(const mw_capfile *f)
{
    return f->stream;
}

void mw_capfile_handed_over(mw_capfile *f)
{
    f->own_stream = false;
}

mw_compress_kind mw_capfile_compression(const mw_capfile *f)
{
    return f->z.kind;
}

const uint8_t *mw_capfile_head(const mw_capfile *f, size_t *len)
{
    *len = f->z.head_len;
    return f->z.head;
}

int mw_capfile_first_dlt(const mw_capfile *f)
{
    return f->first_dlt;
}

int mw_capfile_next_pcapng(mw_capfile *f, struct pcap_pkthdr *h, const uint8_t **data,
                           int *dlt, int64_t *offset, char **why)
{
    mw_pcapng_packet pk;
    int rc = mw_pcapng_next(f->ng, &pk);
    if (rc < 0)
        *why = g_strdup(mw_decompress_error(f->z.state) ? mw_decompress_error(f->z.state)
                                                         : mw_pcapng_error(f->ng));
    if (rc != 1)
        return rc;
    if (f->frames % MW_CAPFILE_OFFSET_EVERY == 0) {
        long off = ftell(f->fp);
        f->offset = off < 0 ? -1 : (int64_t)off;
    }
    f->frames++;
    f->iface = (int)MIN(pk.iface, (uint32_t)INT32_MAX);
    f->iface_name = pk.ifp->name;
    *dlt = pk.ifp->dlt;
    if (!mw_linktype_supported(*dlt) && f->unsupported++ == 0)
        f->unsupported_lt = pk.ifp->linktype;
    /* libpcap's microseconds: the fraction truncated (pcapng.c) */
    *h = (struct pcap_pkthdr){ .caplen = pk.caplen, .len = pk.origlen };
    h->ts.tv_sec = (time_t)pk.ts_sec;
    h->ts.tv_usec = (suseconds_t)(pk.ts_nsec / 1000);
    *data = pk.data;
    *offset = f->offset;
    return 1;
}

int mw_capfile_run_pcapng(mw_capfile *f, mw_capfile_packet_fn fn, void *user, char **why)
{
    struct pcap_pkthdr h;
    const uint8_t *data;
    int dlt, rc;
    int64_t offset;
    while ((rc = mw_capfile_next_pcapng(f, &h, &data, &dlt, &offset, why)) == 1)
        if (!fn(user, &h, data, dlt, offset))
            return 0;
    return rc;
}

int mw_capfile_iface(const mw_capfile *f)
{
    return f->iface;
}

const char *mw_capfile_iface_name(const mw_capfile *f)
{
    return f->iface_name;
}

unsigned mw_capfile_iface_count(const mw_capfile *f)
{
    return f->ng ? mw_pcapng_iface_count(f->ng) : 1;
}

bool mw_capfile_mixed(const mw_capfile *f)
{
    return f->ng && mw_pcapng_mixed_linktypes(f->ng);
}

void mw_capfile_on_secrets(mw_capfile *f, mw_capfile_secrets_fn fn, void *user)
{
    f->on_secrets = fn;
    f->secrets_user = user;
    for (guint i = 0; fn && i < f->secrets->len; i++) {
        const kept_secret *k = &g_array_index(f->secrets, kept_secret, i);
        fn(user, k->bytes, k->len, k->frames);
    }
}

size_t mw_capfile_secrets_count(const mw_capfile *f)
{
    return f->secrets->len;
}

const char *mw_capfile_stream_error(const mw_capfile *f)
{
    return mw_decompress_error(f->z.state);
}

char *mw_capfile_skipped(const mw_capfile *f)
{
    if (!f->ng)
        return NULL;
    const mw_pcapng_stats *st = mw_pcapng_stats_get(f->ng);
    GString *s = g_string_new(NULL);
    if (f->unsupported)
        g_string_append_printf(s, ", %" G_GUINT64_FORMAT " packets on interfaces of link "
                               "type %d (not decoded)", f->unsupported, f->unsupported_lt);
    if (st->unknown)
        g_string_append_printf(s, ", %" G_GUINT64_FORMAT " blocks of unknown types",
                               st->unknown);
    if (st->malformed)
        g_string_append_printf(s, ", %" G_GUINT64_FORMAT " malformed blocks", st->malformed);
    if (st->no_iface)
        g_string_append_printf(s, ", %" G_GUINT64_FORMAT " packets on undeclared interfaces",
                               st->no_iface);
    if (st->dsb > st->dsb_tls)
        g_string_append_printf(s, ", %" G_GUINT64_FORMAT " secrets blocks not for TLS",
                               st->dsb - st->dsb_tls);
    if (f->secrets_dropped)
        g_string_append_printf(s, ", %" G_GUINT64_FORMAT " TLS secrets blocks over %u MiB",
                               f->secrets_dropped, MW_CAPFILE_SECRETS_MAX >> 20);
    if (s->len == 0) {
        g_string_free(s, TRUE);
        return NULL;
    }
    g_string_erase(s, 0, 2);
    g_string_prepend(s, "skipped ");
    return g_string_free(s, FALSE);
}

void mw_capfile_close(mw_capfile *f)
{
    if (!f)
        return;
    mw_pcapng_close(f->ng);
    close_stream(f);
    for (guint i = 0; i < f->secrets->len; i++)
        kept_wipe(&g_array_index(f->secrets, kept_secret, i));
    g_array_free(f->secrets, TRUE);
    g_free(f);
}
