#include "parallel/files.h"

#include <glib.h>

static void to_threads(void *user, const mw_capture *c, mw_decode_status ds,
                       const mw_packet *pkt, uint64_t frame, int64_t ts_us)
{
    mw_parallel_decoded(user, ds, pkt, frame, ts_us, mw_capture_iface_label(c));
}

static void to_walk(void *user, const mw_capture *c, mw_prefetch_batch *b, uint64_t first)
{
    mw_parallel_take(user, b, first, mw_capture_iface_label(c));
}

static void new_file(void *user)
{
    mw_parallel_new_file(user);
}

const char *mw_parallel_one_thread(unsigned n, const char *iface, bool streaming,
                                   size_t nfiles, const void *report, const void *saver)
{
    return n == 1 || iface ? ""
           : streaming     ? "standard input or a pipe"
           : nfiles != 1   ? "several -r files"
           : report        ? "--report"
           : saver         ? "--save-flagged"
                           : NULL;
}

void mw_parallel_free_written(mw_parallel *p, mw_writer *w)
{
    if (p && w)
        mw_writer_on_written(w, mw_parallel_releaser(p), p);
}

void mw_parallel_read(mw_capture *c, mw_parallel *p)
{
    mw_capture_sink sink = { to_threads, new_file, p, mw_parallel_batch_begin,
                             mw_parallel_batch_end, mw_parallel_settle,
                             MW_PARALLEL_READER_BATCHES, mw_parallel_reads_here(p),
                             to_walk, mw_parallel_tcp_hash };
    mw_capture_set_sink(c, &sink);
}

void mw_parallel_report(const mw_parallel *p, bool per_thread, FILE *fp)
{
    uint64_t all = mw_parallel_segments(p);
    double secs = mw_parallel_seconds(p);
    if (mw_parallel_threads(p) == 0)
        fprintf(fp, "mailwire: --threads 0: %" G_GUINT64_FORMAT " TCP segments read and "
                    "handed over in %.3f s (%.0f per second), none analysed\n",
                all, secs, secs > 0 ? (double)all / secs : 0.0);
    for (unsigned i = 0; per_thread && i < mw_parallel_threads(p); i++) {
        uint64_t n = mw_parallel_thread_segments(p, i);
        fprintf(fp, "mailwire: analysis thread %u: %" G_GUINT64_FORMAT " TCP segments (%.1f%%), "
                    "at most %" G_GUINT64_FORMAT " of %zu records waiting in the merge\n",
                i + 1, n, all ? 100.0 * (double)n / (double)all : 0.0,
                mw_parallel_thread_held_peak(p, i), mw_parallel_hold(p));
    }
}
