/* Writers: JSON Lines or the readable text summary, to stdout or -o FILE. Records are
 * written (and flushed) as each session ends; totals and findings at the end. */
#ifndef MW_OUTPUT_H
#define MW_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "engine/flow.h"
#include "core/session.h"

typedef struct mw_output mw_output;

typedef struct {
    const char *const *files;
    size_t nfiles;
    const mw_engine_stats *stats;
    const char *stopped_in; /* the input that could not be read (the run stopped), or NULL */
    const char *filter;     /* the run's BPF filter, or NULL */
} mw_run_info;

mw_output *mw_output_new(FILE *fp, bool json, bool quiet, bool verbose);
/* The records' stdio buffer: one write(2) per this many bytes of output. */
#define MW_OUTPUT_BUFFER_BYTES (256 * 1024)
/* Gives fp (the process's record stream, before anything is written to it) a buffer of
 * MW_OUTPUT_BUFFER_BYTES; once a process, and not for a terminal (mw_output_new calls it). */
void mw_output_stream_buffer(FILE *fp);
/* Flush after every record (live capture, a pipe on stdin): a tail -f or a log shipper
 * then sees each session as it closes. Off, records go out in stdio's blocks. */
void mw_output_flush_each(mw_output *o, bool on);
/* What is buffered, to the file now (the writer thread's batched flush; void * for writer.h). */
void mw_output_flush(void *output);
/* Off: no per-session records (--db alone stores them instead); counts, findings and the
 * totals stay. On by default. */
void mw_output_records(mw_output *o, bool on);
/* -o FILE: rotate it between records (outfile.h; the caller keeps rot, NULL: none). */
struct mw_rotor;
void mw_output_rotate(mw_output *o, struct mw_rotor *rot);
/* Also hand each finished session to cb (the report, --save-flagged); at most
 * MW_OUTPUT_MAX_SINKS. */
#define MW_OUTPUT_MAX_SINKS 4
void mw_output_add_sink(mw_output *o, mw_session_cb cb, void *user);
/* Also hand each finished session to cb with its JSON record (what --json writes without
 * -v, no newline; valid during the call): the text --json already formatted, formatted
 * here only when the run writes no JSON of that form (the session store, store.h). One. */
typedef void (*mw_record_cb)(const mw_session *s, const char *json, size_t len, void *user);
void mw_output_set_record_sink(mw_output *o, mw_record_cb cb, void *user);
/* Engine callback: one finished session. */
void mw_output_session(const mw_session *s, void *output);
/* Told of the first write error (errno), on the thread that wrote; nothing more is
 * written after it. */
typedef void (*mw_output_error_cb)(int err, void *user);
void mw_output_on_error(mw_output *o, mw_output_error_cb cb, void *user);
/* Flush, and the errno of the first write that failed, or 0. */
int mw_output_error(mw_output *o);

/* End of run: the text summary (totals, findings with diagnosis). */
void mw_output_finish(mw_output *o, const mw_run_info *info);
/* The totals' lines on packets not decoded (by reason) and IP fragments, when any. */
void mw_output_packet_notes(FILE *fp, const mw_engine_stats *st);
void mw_output_free(mw_output *o);

#endif
