/* `mailwire report --db`: the stored sessions that match, read back as sessions
 * (store_record.c) and handed to the run's own report code, which stays as it is. The
 * inputs table lists the inputs the sessions came from, each with the time span of its
 * stored sessions; the packet counts are what the stored records hold (a store keeps
 * sessions, not every packet). */
#include "store/store_record.h"

#include <string.h>

#include "input/inputs.h"
#include "output/outfile.h"
#include "report/report.h"
#include "report/report_model.h"

typedef struct {
    uint64_t last_frame;
    int64_t first_us, last_us;
    size_t index;
} input_span;

typedef struct {
    mw_report *rep;
    mw_inputs *seen;          /* inputs in the order of their first packet, for the report */
    GHashTable *spans;        /* interned input name -> input_span */
    GPtrArray *names;         /* in order */
    mw_engine_stats stats;
    char *err;
} report_run;

static uint64_t last_frame_of(const mw_session *s)
{
    uint64_t f = s->first_frame;
    for (guint i = 0; s->evidence && i < s->evidence->len; i++)
        f = MAX(f, g_array_index(s->evidence, mw_evidence, i).frame);
    for (guint i = 0; s->transcript && i < s->transcript->len; i++)
        f = MAX(f, g_array_index(s->transcript, mw_event, i).frame);
    return f;
}

/* The span of the session's input, made at its first session (the first pass). */
static input_span *span_of(report_run *rr, const mw_session *s)
{
    const char *name = s->input ? s->input : g_intern_string("(unknown input)");
    input_span *sp = g_hash_table_lookup(rr->spans, name);
    if (!sp) {
        sp = g_new0(input_span, 1);
        sp->first_us = s->ts_start_us;
        sp->last_us = s->ts_end_us;
        sp->index = rr->names->len;
        g_hash_table_insert(rr->spans, (gpointer)name, sp);
        g_ptr_array_add(rr->names, (gpointer)name);
    }
    sp->first_us = MIN(sp->first_us, s->ts_start_us);
    sp->last_us = MAX(sp->last_us, s->ts_end_us);
    return sp;
}

static void one_row(const char *record, const char *extra, void *user)
{
    report_run *rr = user;
    if (rr->err)
        return;
    mw_session *s = mw_store_record_session(record, extra, &rr->err);
    if (!s)
        return;
    if (!s->input)
        s->input = g_intern_string("(unknown input)");
    input_span *sp = span_of(rr, s);
    sp->last_frame = MAX(sp->last_frame, last_frame_of(s));
    /* the session's file is the one its evidence and transcript frames refer to */
    mw_inputs_select(rr->seen, sp->index);
    rr->stats.packets += s->packets[0] + s->packets[1];
    rr->stats.tcp_packets += s->packets[0] + s->packets[1];
    rr->stats.sessions++;
    mw_report_session(s, rr->rep);
    mw_session_free(s);
}

/* RFC 3339 as the record writes it; 0 when absent (as store_record.c reads it). */
static int64_t column_time(const char *t)
{
    int64_t us = 0;
    char *err = NULL;
    if (t && !mw_store_parse_time(t, 0, &us, &err))
        us = 0;
    g_free(err);
    return us;
}

/* First pass: each input's earliest session, so that the inputs are listed (and numbered)
 * in the order of their first packet, as a run that merges its files by time lists them
 * (input/merge.c), not in the order their sessions were stored. Only the input and time
 * columns are read: each record is parsed once, in the second pass. */
static void span_row(const char *input, const char *ts_start, const char *ts_end, void *user)
{
    report_run *rr = user;
    mw_session s = { .input = input ? g_intern_string(input) : NULL,
                     .ts_start_us = column_time(ts_start), .ts_end_us = column_time(ts_end) };
    span_of(rr, &s);
}

static gint by_first_packet(gconstpointer a, gconstpointer b, gpointer spans)
{
    const input_span *x = g_hash_table_lookup(spans, *(const char *const *)a);
    const input_span *y = g_hash_table_lookup(spans, *(const char *const *)b);
    if (x->first_us != y->first_us)
        return x->first_us < y->first_us ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static bool order_inputs(mw_store_db *db, const mw_store_filter *f, report_run *rr, char **err)
{
    if (!mw_store_db_spans(db, f, span_row, rr, err) || rr->err)
        return false;
    g_ptr_array_sort_with_data(rr->names, by_first_packet, rr->spans);
    for (guint i = 0; i < rr->names->len; i++) {
        const char *name = g_ptr_array_index(rr->names, i);
        ((input_span *)g_hash_table_lookup(rr->spans, name))->index = i;
        mw_inputs_begin(rr->seen, name, -1);
    }
    return true;
}

/* The inputs with their spans, in the same order, for the report's inputs table. */
static mw_inputs *final_inputs(report_run *rr)
{
    mw_inputs *in = mw_inputs_new();
    for (guint i = 0; i < rr->names->len; i++) {
        const char *name = g_ptr_array_index(rr->names, i);
        input_span *sp = g_hash_table_lookup(rr->spans, name);
        mw_inputs_begin(in, name, -1);
        mw_inputs_packet(in, MAX(sp->last_frame, 1), sp->first_us);
        mw_inputs_packet(in, MAX(sp->last_frame, 1), sp->last_us);
    }
    return in;
}

int mw_store_report(mw_store_db *db, const mw_store_filter *f, const char *path)
{
    report_run rr = { .seen = mw_inputs_new(),
                      .spans = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free),
                      .names = g_ptr_array_new() };
    char *err = NULL;
    FILE *fp = mw_report_check_name(path, &err)
                   ? mw_outfile_fopen("--report", path, NULL, 0, &err) : NULL;
    rr.rep = fp ? mw_report_new(path, fp, rr.seen, &err) : NULL;
    mw_inputs *done = NULL;
    if (rr.rep && order_inputs(db, f, &rr, &err) && mw_store_db_select(db, f, one_row, &rr, &err) &&
        !rr.err) {
        done = final_inputs(&rr);
        rr.rep->inputs = done; /* same inputs, same order, now with their spans */
        mw_report_write(rr.rep, &rr.stats, NULL, &err);
    }
    if (!err && rr.err)
        err = g_strdup(rr.err);
    mw_report_free(rr.rep);
    mw_inputs_free(rr.seen);
    mw_inputs_free(done);
    g_hash_table_destroy(rr.spans);
    g_ptr_array_free(rr.names, TRUE);
    g_free(rr.err);
    if (err) {
        fprintf(stderr, "mailwire: %s\n", err);
        g_free(err);
        return 1;
    }
    return 0;
}
