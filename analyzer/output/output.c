#include "output/output.h"

#include <errno.h>
#include <glib.h>
#include <unistd.h>

#include "output/outfile.h"
#include "output/record_json.h"
#include "output/text_writer.h"

struct mw_output {
    FILE *fp;
    bool json, quiet, verbose;
    bool flush_each;      /* live capture or a pipe: each record as it is written */
    bool no_records;      /* mw_output_records(o, false) */
    GString *buf;         /* reused for every record */
    mw_findings *findings;
    uint64_t sessions;
    uint64_t by_proto[MW_PROTO_POP3S + 1];
    uint64_t by_outcome[MW_OUT_ENCRYPTED + 1];
    struct {
        mw_session_cb cb;
        void *user;
    } sinks[MW_OUTPUT_MAX_SINKS];
    int nsinks;
    mw_record_cb record_cb; /* mw_output_set_record_sink */
    void *record_user;
    GString *record_buf;    /* its record when the output's own is not the same text */
    int error;            /* errno of the first failed write; nothing is written after it */
    mw_output_error_cb on_error;
    void *on_error_user;
    mw_rotor *rot;        /* -o FILE: rotation and SIGHUP reopen (outfile.h), or NULL */
};

mw_output *mw_output_new(FILE *fp, bool json, bool quiet, bool verbose)
{
    mw_output *o = g_new0(mw_output, 1);
    o->fp = fp;
    mw_output_stream_buffer(fp);
    o->verbose = verbose;
    o->json = json;
    o->quiet = quiet;
    o->buf = g_string_sized_new(4096);
    o->findings = mw_findings_new();
    return o;
}

void mw_output_stream_buffer(FILE *fp)
{
    /* stdio's default 4 KiB made one write(2) — and one pass through the seccomp filter —
     * for every 4 KiB of records (20,018 calls for the gateway bench's 82 MB). glibc takes
     * the size only with a buffer given, which must outlive the stream (stdout's lasts until
     * exit): one static buffer, for the one record stream of the process. A terminal keeps
     * its line buffering; live capture flushes each record anyway (flush_each). */
    static char buffer[MW_OUTPUT_BUFFER_BYTES];
    static bool given;
    if (given || isatty(fileno(fp)))
        return;
    given = setvbuf(fp, buffer, _IOFBF, sizeof buffer) == 0;
}

void mw_output_set_record_sink(mw_output *o, mw_record_cb cb, void *user)
{
    o->record_cb = cb;
    o->record_user = user;
}

/* The record sink gets the text --json writes; formatted once for both when they agree. */
static void record_sink(mw_output *o, const mw_session *s, bool formatted)
{
    if (!o->record_cb)
        return;
    if (formatted) {
        o->record_cb(s, o->buf->str, o->buf->len - 1, o->record_user); /* without '\n' */
        return;
    }
    if (!o->record_buf)
        o->record_buf = g_string_sized_new(4096);
    g_string_truncate(o->record_buf, 0);
    mw_record_json(o->record_buf, s);
    o->record_cb(s, o->record_buf->str, o->record_buf->len, o->record_user);
}

void mw_output_add_sink(mw_output *o, mw_session_cb cb, void *user)
{
    g_assert(o->nsinks < MW_OUTPUT_MAX_SINKS);
    o->sinks[o->nsinks].cb = cb;
    o->sinks[o->nsinks].user = user;
    o->nsinks++;
}

/* The first write error: kept, and told once (the run then stops reading). */
static void failed(mw_output *o)
{
    if (o->error)
        return;
    o->error = errno ? errno : EIO;
    if (o->on_error)
        o->on_error(o->error, o->on_error_user);
}

void mw_output_on_error(mw_output *o, mw_output_error_cb cb, void *user)
{
    o->on_error = cb;
    o->on_error_user = user;
}

int mw_output_error(mw_output *o)
{
    if (!o->error) {
        errno = 0;
        if (fflush(o->fp) != 0 || ferror(o->fp))
            failed(o);
    }
    return o->error;
}

void mw_output_session(const mw_session *s, void *output)
{
    mw_output *o = output;
    for (int i = 0; i < o->nsinks; i++)
        o->sinks[i].cb(s, o->sinks[i].user);
    o->sessions++;
    o->by_proto[s->protocol]++;
    o->by_outcome[s->outcome]++;
    if (!o->json)
        mw_findings_add(o->findings, s); /* the text summary's findings */
    bool same = o->json && !o->verbose && !o->no_records;
    if (!same)
        record_sink(o, s, false);
    if (o->no_records)
        return;
    g_string_truncate(o->buf, 0);
    if (o->json) {
        mw_record_json_ex(o->buf, s, o->verbose);
        g_string_append_c(o->buf, '\n');
        if (same)
            record_sink(o, s, true);
    } else {
        if (o->quiet && s->flags == 0 && !s->broken)
            return;
        mw_text_session_ex(o->buf, s, o->quiet);
        if (o->verbose)
            mw_text_transcript(o->buf, s);
    }
    if (o->error)
        return;
    /* between two records: each record whole in one file */
    if (o->rot && mw_rotor_due(o->rot, o->buf->len) && !mw_rotor_swap_stream(o->rot, o->fp)) {
        errno = EIO;
        failed(o);
        return;
    }
    errno = 0;
    bool ok = fwrite(o->buf->str, 1, o->buf->len, o->fp) == o->buf->len;
    if (ok)
        mw_rotor_wrote(o->rot, o->buf->len);
    /* a tail -f or a log shipper sees each record at once */
    if (ok && o->flush_each)
        ok = fflush(o->fp) == 0;
    if (!ok)
        failed(o);
}

void mw_output_rotate(mw_output *o, struct mw_rotor *rot)
{
    o->rot = rot;
}

void mw_output_records(mw_output *o, bool on)
{
    o->no_records = !on;
}

void mw_output_flush(void *output)
{
    mw_output *o = output;
    if (o->error)
        return;
    errno = 0;
    if (fflush(o->fp) != 0)
        failed(o);
}

void mw_output_flush_each(mw_output *o, bool on)
{
    o->flush_each = on;
}

void mw_output_packet_notes(FILE *fp, const mw_engine_stats *st)
{
    GString *g = g_string_new(NULL);
    uint64_t n = mw_drops_format(g, st->not_decoded, false);
    if (n)
        fprintf(fp, "Not decoded: %" G_GUINT64_FORMAT " (%s)\n", n, g->str);
    if (st->frag_datagrams || st->frag_overlaps)
        fprintf(fp, "IP fragments: %" G_GUINT64_FORMAT " reassembled into %" G_GUINT64_FORMAT
                    " datagrams (%" G_GUINT64_FORMAT " with overlapping fragments)\n",
                st->frag_fragments, st->frag_datagrams, st->frag_overlaps);
    g_string_free(g, TRUE);
}

void mw_output_finish(mw_output *o, const mw_run_info *info)
{
    if (o->json || o->error) {
        mw_output_error(o);
        return;
    }
    FILE *fp = o->fp;
    fprintf(fp, "\n== Totals ==\n");
    fprintf(fp, "Input: ");
    for (size_t i = 0; i < info->nfiles; i++)
        fprintf(fp, "%s%s", i ? ", " : "", info->files[i]);
    fprintf(fp, "\n");
    if (info->filter && *info->filter) /* packets left out on purpose: say so */
        fprintf(fp, "Filter: %s (%" G_GUINT64_FORMAT " packet%s left out by it)\n", info->filter,
                info->stats->not_decoded[MW_DROP_FILTERED],
                info->stats->not_decoded[MW_DROP_FILTERED] == 1 ? "" : "s");
    if (info->stopped_in)
        fprintf(fp, "Note: stopped at %s, which could not be read (see the error): these "
                    "totals cover only what was read before it.\n", info->stopped_in);
    mw_text_zone(fp);
    fprintf(fp, "Packets: %" G_GUINT64_FORMAT " (TCP %" G_GUINT64_FORMAT ")\n",
            info->stats->packets, info->stats->tcp_packets);
    mw_output_packet_notes(fp, info->stats);
    fprintf(fp, "Sessions: %" G_GUINT64_FORMAT, o->sessions);
    const char *sep = " (";
    for (int p = 0; p <= MW_PROTO_POP3S; p++) {
        if (o->by_proto[p]) {
            fprintf(fp, "%s%s %" G_GUINT64_FORMAT, sep, mw_proto_name((mw_proto)p), o->by_proto[p]);
            sep = ", ";
        }
    }
    fprintf(fp, "%s\n", o->sessions ? ")" : "");
    fprintf(fp, "Outcomes:");
    for (int k = 0; k <= MW_OUT_ENCRYPTED; k++)
        if (o->by_outcome[k])
            fprintf(fp, " %s %" G_GUINT64_FORMAT, mw_outcome_name((mw_outcome)k), o->by_outcome[k]);
    fprintf(fp, "\n");
    if (info->stats->kernel_drops || info->stats->iface_drops)
        fprintf(fp, "Lost by the capture: %" G_GUINT64_FORMAT " packets (kernel), %"
                    G_GUINT64_FORMAT " (interface): mailwire fell behind, sessions near the "
                    "loss are incomplete; raise --buffer-size.\n",
                info->stats->kernel_drops, info->stats->iface_drops);
    if (info->stats->evicted > info->stats->evicted_memory)
        fprintf(fp, "Note: %" G_GUINT64_FORMAT " sessions were closed early to stay within "
                    "--max-flows.\n", info->stats->evicted - info->stats->evicted_memory);
    if (info->stats->evicted_memory)
        fprintf(fp, "Note: %" G_GUINT64_FORMAT " sessions were closed early to stay within "
                    "--max-memory.\n", info->stats->evicted_memory);
    if (info->stats->after_close)
        fprintf(fp, "Note: %" G_GUINT64_FORMAT " packets came after their connection had closed "
                    "(retransmissions, data after a reset): counted with it, no new session.\n",
                info->stats->after_close);
    if (o->sessions)
        mw_findings_print(o->findings, fp);
    else
        mw_text_no_mail(fp, info->stats);
    mw_output_error(o);
}

void mw_output_free(mw_output *o)
{
    if (!o)
        return;
    g_string_free(o->buf, TRUE);
    if (o->record_buf)
        g_string_free(o->record_buf, TRUE);
    mw_findings_free(o->findings);
    g_free(o);
}
