/* mailwire: find what went wrong in mail sessions, from a capture.
 * main reads top to bottom: parse the options (options.c), set up the engine, open every
 * input and output, run (live or files), write what was found, clean up. */
#include <glib.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "sandbox.h"
#include "output/outfile.h"
#include "input/capture.h"
#include "input/files/merge.h"
#include "core/config.h"
#include "engine/detect.h"
#include "engine/flow.h"
#include "input/live.h"
#include "input/live/pool.h"
#include "maillog/maillog.h"
#include "output/output.h"
#include "output/text_writer.h"
#include "input/progress.h"
#include "report/report.h"
#include "output/save_flagged.h"
#include "output/writer.h"
#include "parallel/files.h"
#include "core/identity.h"
#include "store/store.h"
#include "store/store_cli.h"
#include "tls/tls.h"
#include "tls/tls_cert.h"
#include "tls/decrypt/keylog.h"

/* Everything one run holds, opened in order and closed by run_close. */
typedef struct {
    const mw_options *opt;
    mw_capture **caps;
    char **files;          /* their names, in the order read (several: by first packet) */
    size_t nfiles;
    size_t cur;            /* the capture of the packet being analysed */
    mw_inputs *inputs;
    mw_report *rep;
    mw_saver *saver;
    FILE *out;
    mw_output *o;
    mw_engine *e;
    mw_parallel *par;      /* --threads: the analysis threads (NULL: on this thread) */
    mw_writer *writer;
    mw_progress *progress;
    mw_ports *ports;       /* --ports (the engine takes a copy) */
    mw_keylog *keylog;     /* --keylog and the captures' secrets: the run's one store */
    mw_store *store;       /* --db */
    bool live_failed;
    const char *stopped_in;  /* the capture file that could not be read, or NULL */
    mw_file_id *ids;      /* the inputs' identities: no output may overwrite one */
    size_t nids;
    FILE *write_fp;       /* -w, handed to the live capture */
    const char *out_name; /* for messages: the -o file or "standard output" */
    bool stdout_closed;   /* fd 1 was closed at start (now /dev/null) */
    mw_maillog *logs;     /* --maillog: the server logs, read before any packet */
    mw_rotor *out_rot, *write_rot; /* -o FILE and -w FILE: rotation, SIGHUP reopen */
    mw_live_pool *pool;   /* live --workers N: an engine per worker (e is the first) */
    GMutex out_lock;      /* ... their sessions are taken one at a time */
} run;

/* Per packet read from a file: the inputs' time ranges and the progress line. */
typedef struct {
    mw_inputs *inputs;
    mw_progress *progress;
    const char *name;
} observer;

static void observe_packet(void *user, const mw_capture *c, uint64_t frame, int64_t ts_us)
{
    observer *ob = user;
    mw_inputs_packet(ob->inputs, frame, ts_us);
    mw_progress_packet(ob->progress, c, ob->name);
}

/* Where an evidence frame is (core/identity.h): the packet being analysed, or with
 * several inputs the one whose packets read so far hold it (a flag raised at a session's
 * end about an earlier packet: connection_timeout, unanswered_command). The interface is
 * known for the packet being analysed only (its number and time: numbers restart per file). */
static void evidence_origin(void *user, uint64_t frame, int64_t ts_us,
                            const char *session_input, const char **input, const char **iface)
{
    const run *r = user;
    const mw_capture *c = r->caps[r->cur];
    bool current = mw_capture_frames(c) == frame &&
                   (r->nfiles < 2 || mw_capture_last_ts(c) == ts_us);
    if (current)
        *iface = mw_capture_iface_label(c);
    if (r->nfiles < 2)
        return;
    size_t i = current ? r->cur : mw_inputs_file_at(r->inputs, frame, ts_us, session_input);
    *input = mw_capture_name(r->caps[i < r->nfiles ? i : r->cur]);
}

/* One clear line on stderr; the message is owned and freed here. */
static int fail(char *msg)
{
    fprintf(stderr, "mailwire: %s\n", msg);
    g_free(msg);
    return 1;
}

/* The trust store and the port table, before anything is opened. */
static char *setup_detection(const mw_options *opt, run *r)
{
    /* in the sandbox no file can be read later: the trust store is read whole now */
    if (opt->ca_file || !opt->no_sandbox) {
        char *err = NULL;
        bool ok = opt->no_sandbox ? mw_tls_trust_init(opt->ca_file, &err)
                                  : mw_tls_trust_preload(opt->ca_file, &err);
        if (!ok)
            return err ? err : g_strdup_printf("--ca-file %s: cannot load", opt->ca_file);
    }
    r->ports = mw_ports_new();
    for (gchar **p = opt->port_specs; p && *p; p++) {
        char *err = NULL;
        if (!mw_ports_add(r->ports, *p, &err))
            return err;
    }
    return NULL;
}

/* What the key log store has to say (malformed lines by number, unreadable files): on
 * stderr, never a line's content. */
static void keylog_messages(mw_keylog *kl)
{
    GPtrArray *m = mw_keylog_take_messages(kl);
    for (guint i = 0; i < m->len; i++)
        fprintf(stderr, "mailwire: warning: key log %s\n", (const char *)g_ptr_array_index(m, i));
    g_ptr_array_unref(m);
}

/* The key log store, with every --keylog read now (the sandbox opens no file later; live,
 * each followed file's directory is held open for the re-reads). Reading files, a key log
 * that cannot be read stops the run; live, it may not exist yet. */
static char *open_keylogs(run *r)
{
    r->keylog = mw_keylog_new();
    if (!r->keylog)
        return g_strdup("--keylog: no random source for the key log store");
    bool live = r->opt->iface != NULL;
    for (gchar **k = r->opt->keylogs; k && *k; k++) {
        bool ok = mw_keylog_add_file(r->keylog, *k, live);
        if (!ok && !live) {
            g_ptr_array_unref(mw_keylog_take_messages(r->keylog));
            return g_strdup_printf("--keylog %s: cannot read the key log", *k);
        }
    }
    keylog_messages(r->keylog);
    return NULL;
}

/* A capture's Decryption Secrets Block, before the packets that follow it. */
static void on_secrets(void *user, const uint8_t *keylog, size_t len, uint64_t frames)
{
    run *r = user;
    if (r->par) /* every thread has analysed the packets before it, and waits */
        mw_parallel_barrier(r->par);
    char *src = g_strdup_printf("secrets block after packet %" G_GUINT64_FORMAT, frames);
    mw_keylog_add_buffer(r->keylog, src, keylog, len);
    g_free(src);
    keylog_messages(r->keylog);
}

/* --maillog: the server logs are small; read whole now (before the sandbox), into an
 * index each session is looked up in when it closes (take_joined). */
static char *open_logs(run *r)
{
    const mw_options *opt = r->opt;
    if (!opt->maillogs)
        return NULL;
    char *err = NULL;
    mw_maillog_opts lo = { opt->log_tz, opt->log_skew, (unsigned)opt->log_max_lines,
                           (unsigned)opt->log_max_sessions };
    if (!(r->logs = mw_maillog_new(&lo, &err)))
        return err;
    /* live: each log is followed as it grows (its directory held open for the sandbox) */
    unsigned grace_ms = (unsigned)(opt->log_grace * 1000 + 0.5);
    for (gchar **f = opt->maillogs; *f; f++)
        if (opt->iface ? !mw_maillog_follow(r->logs, *f, grace_ms,
                                            (uint64_t)opt->log_max_pending, &err)
                       : !mw_maillog_read(r->logs, *f, &err))
            return err;
    return NULL;
}

/* Open every input first: a bad file is reported before any output. */
static char *open_inputs(run *r)
{
    r->nfiles = mw_options_nfiles(r->opt);
    char *too_many = mw_inputs_fd_budget(r->nfiles, r->opt->save_dir ? 2 : 1);
    if (too_many)
        return too_many;
    r->caps = g_new0(mw_capture *, r->nfiles);
    r->files = g_new0(char *, r->nfiles + 1);
    r->ids = g_new0(mw_file_id, r->nfiles);
    for (size_t i = 0; i < r->nfiles; i++) {
        char *err = NULL;
        r->files[i] = r->opt->files[i];
        r->caps[i] = mw_capture_open(r->opt->files[i], &err);
        if (!r->caps[i] || !mw_capture_set_filter(r->caps[i], r->opt->filter, &err))
            return err;
        if (mw_file_id_of(mw_capture_fd(r->caps[i]), r->opt->files[i], &r->ids[r->nids]))
            r->nids++;
    }
    if (r->nfiles > 1)
        mw_merge_order_by_time(r->caps, r->files, r->nfiles);
    return open_logs(r);
}

/* -o, --report, --save-flagged and -w: none may overwrite an input (outfile.h). */
static char *open_outputs(run *r)
{
    const mw_options *opt = r->opt;
    char *err = NULL;
    if (!mw_options_stdout(opt)) {
        r->out = mw_outfile_fopen("-o", opt->output_path, r->ids, r->nids, &err);
        if (!r->out) {
            r->out = stdout;
            return err;
        }
        r->out_name = opt->output_path;
        mw_rotate_opts ro = { opt->rotate_bytes, opt->rotate_interval_us, false };
        r->out_rot = mw_rotor_new("-o", opt->output_path, fileno(r->out), &ro, r->ids, r->nids,
                                  &err);
        if (err)
            return err;
    } else if (r->stdout_closed) {
        return g_strdup("standard output is closed: nowhere to write the records (use -o FILE)");
    }
    if (opt->report) {
        FILE *fp = mw_report_check_name(opt->report, &err)
                       ? mw_outfile_fopen("--report", opt->report, r->ids, r->nids, &err)
                       : NULL;
        if (!fp || !(r->rep = mw_report_new(opt->report, fp, r->inputs, &err)))
            return err;
        mw_report_set_filter(r->rep, opt->filter);
    }
    if (opt->save_dir && !(r->saver = mw_saver_new(opt->save_dir, r->inputs, &err)))
        return err;
    for (size_t i = 0; r->saver && i < r->nfiles; i++)
        if (!mw_saver_add_input(r->saver, r->files[i], &err))
            return err;
    if (opt->write_file &&
        !(r->write_fp = mw_outfile_fopen("-w", opt->write_file, r->ids, r->nids, &err)))
        return err;
    if (r->write_fp) {
        mw_rotate_opts wo = { opt->rotate_bytes, opt->rotate_interval_us, true };
        r->write_rot = mw_rotor_new("-w", opt->write_file, fileno(r->write_fp), &wo, r->ids,
                                    r->nids, &err);
        if (err)
            return err;
    }
    if (r->out_rot || r->write_rot) /* logrotate's postrotate: kill -HUP */
        mw_rotor_catch_sighup();
    mw_store_opts so = { opt->db, opt->db_spool, (int64_t)opt->db_spool_mb << 20, opt->db_batch,
                         opt->db_interval_ms, opt->db_retry };
    if (opt->db && !(r->store = mw_store_open(&so, &err)))
        return err;
    return NULL;
}

/* Told by the output, on the thread that wrote, that a record could not be written: stop
 * reading, there is no one to write for. */
static void on_output_error(int err, void *user)
{
    (void)err;
    (void)user;
    mw_capture_stop();
    mw_live_stop();
}

/* SIGINT/SIGTERM while reading files: stop reading, write every session (as live capture
 * does). A second signal ends the process at once (SA_RESETHAND). */
static void on_stop_signal(int sig)
{
    (void)sig;
    mw_capture_stop();
}

static void file_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The sandbox (sandbox.h), once every file of the run is open. */
static bool enter_sandbox(void *user, char **err)
{
    run *r = user;
    /* --db: the store reconnects to its database and creates spool files while the run
     * goes on, which the allow-list forbids; it runs without the sandbox for now */
    if (r->store)
        return true;
    mw_sandbox_allow s = { .save_dir_fd = r->saver ? mw_saver_dir_fd(r->saver) : -1,
                           .trust_dir_fd = mw_tls_trust_dir_fd(),
                           .out_dir_fds = { mw_rotor_dir_fd(r->out_rot),
                                            mw_rotor_dir_fd(r->write_rot) } };
    s.n_keylog_dirs = mw_keylog_dir_fds(r->keylog, s.keylog_dir_fds, MW_SANDBOX_MAX_DIRS);
    /* followed server logs are reopened read-only in their directories, as key logs are */
    s.n_keylog_dirs += mw_maillog_dir_fds(r->logs, s.keylog_dir_fds + s.n_keylog_dirs,
                                          MW_SANDBOX_MAX_DIRS - s.n_keylog_dirs);
    if (!r->opt->no_sandbox && !mw_sandbox_enter(&s, err))
        return false;
    if (r->opt->test_open) { /* tests/io.sh: a forbidden call, which must kill the process */
        int fd = open(r->opt->test_open, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd >= 0)
            close(fd);
    }
    return true;
}

/* --maillog: each closed session is joined to the server logs (live: after its grace),
 * then written. The one place the join happens: on the analysis thread, before the session
 * is handed on. */
static void take_joined(mw_session *s, void *user)
{
    run *r = user;
    mw_maillog_take(r->logs, s);
}

static void release_joined(mw_session *s, void *user)
{
    run *r = user;
    if (r->writer) {
        mw_writer_take(s, r->writer);
        return;
    }
    mw_session_community_id(s);
    mw_output_session(s, r->o);
    mw_session_free(s);
}

/* --workers: each worker's closed sessions, from its thread, taken one at a time. */
static void take_from_worker(mw_session *s, void *user)
{
    run *r = user;
    g_mutex_lock(&r->out_lock);
    r->logs ? take_joined(s, r) : release_joined(s, r);
    g_mutex_unlock(&r->out_lock);
}

/* --threads (parallel/parallel.h): each record comes back here in order, as from the
 * engine; where one thread analyses still, --thread-stats says why (parallel/files.h). */
static void start_parallel(run *r, const mw_config *cfg, bool streaming)
{
    unsigned n = mw_options_threads(r->opt);
    const char *why = mw_parallel_one_thread(n, r->opt->iface, streaming, r->nfiles, r->rep,
                                             r->saver);
    if (!why)
        r->par = mw_parallel_new(cfg, n, (size_t)r->opt->thread_hold,
                                 r->logs ? take_joined : release_joined, r);
    mw_parallel_free_written(r->par, r->logs ? NULL : r->writer); /* by their threads */
    if (why && *why && r->opt->thread_stats)
        fprintf(stderr, "mailwire: one analysis thread, not %u: not yet with %s\n", n, why);
}

/* The output, its sinks, the engine and the writer thread. */
static void start_engine(run *r, const mw_config *cfg)
{
    const mw_options *opt = r->opt;
    r->o = mw_output_new(r->out, opt->json, opt->quiet, opt->verbose);
    mw_output_rotate(r->o, r->out_rot);
    mw_text_local_time(opt->local_time);
    mw_text_several_inputs(r->nfiles > 1);
    bool streaming = opt->iface != NULL;
    for (size_t i = 0; i < r->nfiles; i++)
        streaming = streaming || strcmp(opt->files[i], "-") == 0;
    mw_output_flush_each(r->o, streaming);
    /* --db alone: the records go to the store, not to stdout */
    mw_output_records(r->o, !(r->store && !opt->json && !opt->output_path));
    if (r->store)
        mw_output_set_record_sink(r->o, mw_store_session, r->store);
    if (r->rep)
        mw_output_add_sink(r->o, mw_report_session, r->rep);
    if (r->saver)
        mw_output_add_sink(r->o, mw_saver_session, r->saver);
    mw_output_on_error(r->o, on_output_error, r);
    r->e = mw_engine_new(cfg, mw_output_session, r->o);
    /* Records are formatted and written on a second thread (writer.h). Not with --report
     * or --save-flagged: their sinks read the input bookkeeping that the analysis updates. */
    if (!r->rep && !r->saver) {
        r->writer = mw_writer_start(mw_output_session, streaming ? mw_output_flush : NULL, r->o);
        if (r->writer) {
            mw_engine_hand_over(r->e, mw_writer_take, r->writer);
            mw_output_flush_each(r->o, false); /* the writer flushes per batch */
        }
    }
    if (r->logs) {
        mw_maillog_on_release(r->logs, release_joined, r);
        mw_engine_hand_over(r->e, take_joined, r);
    }
    start_parallel(r, cfg, streaming);
    r->progress = mw_progress_new(r->e);
    if (r->par) /* the threads' counts */
        mw_progress_stats_from(r->progress, mw_parallel_progress, r->par);
}

/* live --workers N: the engine start_engine made gives way to N (input/live/pool.h). */
static void start_workers(run *r, const mw_config *cfg)
{
    r->pool = mw_live_pool_new(cfg, r->opt->workers, take_from_worker, r);
    mw_progress_free(r->progress);
    mw_engine_free(r->e);
    r->e = mw_live_pool_engines(r->pool)[0];
    r->progress = mw_progress_new(r->e);
}

/* The engines' counters: one engine's, or the analysis threads' or live workers' summed. */
static const mw_engine_stats *run_stats(const run *r)
{
    return r->pool ? mw_live_pool_stats(r->pool)
                   : r->par ? mw_parallel_stats(r->par) : mw_engine_stats_get(r->e);
}

/* The capture loop's timer: the followed server logs read, sessions past their grace on. */
static void live_tick(void *user, int64_t now_mono_us)
{
    run *r = user;
    g_mutex_lock(&r->out_lock); /* --workers: as the sessions the workers hand over */
    mw_maillog_tick(r->logs, now_mono_us);
    g_mutex_unlock(&r->out_lock);
}

static int run_live(run *r)
{
    const mw_options *opt = r->opt;
    mw_inputs_begin(r->inputs, opt->iface, -1);
    mw_identity_set_input(opt->iface, TRUE);
    mw_live_opts lo = { opt->iface, opt->filter, opt->buffer_mb, opt->promisc, opt->user,
                        opt->write_file, r->write_fp, r->write_rot, opt->stats_interval,
                        (uint64_t)opt->count, enter_sandbox, r,
                        r->logs ? live_tick : NULL, r, opt->workers,
                        r->pool ? mw_live_pool_engines(r->pool) : NULL };
    r->write_fp = NULL; /* the capture closes it */
    char *err = NULL;
    r->live_failed = !mw_live_run(&lo, r->e, &err);
    return r->live_failed ? fail(err) : 0;
}

static void merge_switch(void *user, size_t i)
{
    run *r = user;
    r->cur = i;
    mw_inputs_select(r->inputs, i);
    mw_identity_use_input(mw_capture_name(r->caps[i])); /* new sessions' "input" */
}

static void merge_warning(void *user, const char *msg)
{
    (void)user;
    fprintf(stderr, "mailwire: warning: %s\n", msg);
}

/* Several files, merged by packet time (input/files/merge.h). */
static int run_merged(run *r)
{
    observer *obs = g_new(observer, r->nfiles);
    mw_inputs_merged(r->inputs);
    for (size_t i = 0; i < r->nfiles; i++) {
        obs[i] = (observer){ r->inputs, r->progress, r->files[i] };
        mw_inputs_begin(r->inputs, r->files[i], mw_capture_dlt(r->caps[i]));
        /* the per-file time ranges also place the evidence of earlier frames */
        mw_capture_observe(r->caps[i], observe_packet, &obs[i]);
        mw_capture_on_secrets(r->caps[i], on_secrets, r);
    }
    mw_merge m = { r->caps, r->nfiles, r->e, (uint64_t)r->opt->count, merge_switch,
                   merge_warning, r };
    size_t failed = 0;
    char *err = NULL;
    bool ok = mw_merge_run(&m, &failed, &err);
    mw_progress_clear(r->progress);
    g_free(obs);
    if (!ok) {
        r->stopped_in = r->files[failed];
        return fail(err);
    }
    return 0;
}

/* Each file in turn; stops at the first that cannot be read, after -c COUNT packets, or
 * on a stop request. */
static int run_files(run *r)
{
    file_signals();
    char *err = NULL;
    if (!enter_sandbox(r, &err))
        return fail(err);
    mw_identity_set_origin(evidence_origin, r);
    if (r->nfiles > 1)
        return run_merged(r);
    uint64_t left = (uint64_t)r->opt->count;
    for (size_t i = 0; i < r->nfiles && !mw_capture_stopped(); i++) {
        const char *name = r->opt->files[i];
        char *warn = NULL;
        observer ob = { r->inputs, r->progress, name };
        mw_inputs_begin(r->inputs, name, mw_capture_dlt(r->caps[i]));
        mw_identity_set_input(name, FALSE); /* the sessions' "input" */
        /* per-file time ranges are for the report and --save-flagged; the progress line
         * only on a terminal: otherwise nothing to do per packet */
        if (r->rep || r->saver || r->progress)
            mw_capture_observe(r->caps[i], observe_packet, &ob);
        mw_capture_on_secrets(r->caps[i], on_secrets, r);
        if (r->par)
            mw_parallel_read(r->caps[i], r->par);
        mw_capture_limit(r->caps[i], left);
        bool ok = mw_capture_run(r->caps[i], r->e, &err, &warn);
        mw_progress_clear(r->progress);
        if (warn) {
            fprintf(stderr, "mailwire: warning: %s\n", warn);
            g_free(warn);
        }
        if (!ok) {
            r->stopped_in = name;
            return fail(err);
        }
        if (r->opt->count && (left -= mw_capture_frames(r->caps[i])) == 0)
            break;
    }
    return 0;
}

/* The records' destination after the run: 0, or 1 with one line naming it. A reader that
 * went away (EPIPE, SIGPIPE ignored) is a quiet exit 1: it chose to read no more. */
static int output_status(run *r)
{
    int e = mw_output_error(r->o);
    if (!e && r->out != stdout) {
        FILE *fp = r->out;
        r->out = NULL;
        e = fclose(fp) != 0 ? errno : 0;
    }
    if (!e)
        return 0;
    if (e == EPIPE && r->out_name == NULL)
        return 1;
    if (mw_rotor_error(r->out_rot)) /* says which step of the rotation failed */
        return fail(g_strdup(mw_rotor_error(r->out_rot)));
    return fail(g_strdup_printf("%s: cannot write: %s",
                                r->out_name ? r->out_name : "standard output", g_strerror(e)));
}

/* Whatever sessions were read are written, even after an input error; then the totals,
 * the report and the saved captures. */
static int finish(run *r)
{
    const mw_options *opt = r->opt;
    int status = 0;
    r->pool ? mw_live_pool_finish(r->pool) : mw_engine_finish(r->e); /* workers: stopped */
    mw_parallel_finish(r->par);
    if (r->logs) /* live: the sessions still in their grace, joined with what came */
        mw_maillog_drain(r->logs);
    mw_writer_stop(r->writer); /* every record written before the totals */
    r->writer = NULL;
    bool stored = !r->store || mw_store_close(r->store, opt->quiet); /* drops: on stderr */
    r->store = NULL;
    char *live_name = opt->iface ? g_strdup_printf("live capture on %s", opt->iface) : NULL;
    mw_run_info info = { opt->iface ? (const char *const *)&live_name
                                    : (const char *const *)r->files,
                         opt->iface ? 1 : r->nfiles, run_stats(r),
                         r->stopped_in, opt->filter };
    mw_progress_free(r->progress);
    r->progress = NULL;
    GString *lost = g_string_new(NULL);
    uint64_t n_lost = mw_drops_format(lost, info.stats->not_decoded, true);
    if (n_lost) /* what may have carried mail bytes but was not analysed */
        fprintf(stderr, "mailwire: warning: %" G_GUINT64_FORMAT " packets not decoded: %s\n",
                n_lost, lost->str);
    g_string_free(lost, TRUE);
    /* after an input error that left nothing read: no totals, no report, as if it worked */
    if ((!r->live_failed && !r->stopped_in) || run_stats(r)->packets > 0) {
        mw_output_finish(r->o, &info);
        if (r->logs && !(opt->json && opt->quiet)) /* after the totals; beside JSON records */
            mw_maillog_summary(r->logs, opt->json ? stderr : r->out);
        status = output_status(r);
        char *err = NULL;
        if (r->rep && !mw_report_write(r->rep, run_stats(r), opt->iface, &err))
            status = fail(err);
    }
    if (r->saver) {
        unsigned written = 0;
        char *err = NULL, *note = NULL;
        if (!mw_saver_run(r->saver, &written, &note, &err))
            status = fail(err);
        if (note) {
            fprintf(stderr, "mailwire: warning: %s\n", note);
            g_free(note);
        }
    }
    g_free(live_name);
    if (r->par)
        mw_parallel_report(r->par, opt->thread_stats, stderr);
    mw_live_loss_lines(run_stats(r));
    return status ? status : stored ? 0 : 1;
}

/* Closes what run opened; the status of closing -o FILE joins the run's. */
static int run_close(run *r, int status)
{
    mw_parallel_free(r->par);
    r->pool ? mw_live_pool_free(r->pool) : mw_engine_free(r->e);
    g_mutex_clear(&r->out_lock);
    mw_ports_free(r->ports);
    if (r->keylog)
        keylog_messages(r->keylog);
    mw_keylog_free(r->keylog);
    if (r->o && r->out && r->out != stdout && status == 0)
        status = output_status(r);
    mw_output_free(r->o);
    if (r->out && r->out != stdout)
        fclose(r->out);
    if (r->write_fp)
        fclose(r->write_fp);
    mw_report_free(r->rep);
    mw_saver_free(r->saver);
    mw_store_close(r->store, true); /* only when the run never started */
    mw_inputs_free(r->inputs);
    mw_maillog_free(r->logs);
    mw_rotor_free(r->out_rot);
    mw_rotor_free(r->write_rot);
    for (size_t i = 0; r->caps && i < r->nfiles; i++)
        mw_capture_close(r->caps[i]);
    g_free(r->caps);
    g_free(r->files);
    g_free(r->ids);
    return status;
}

/* A closed 0, 1 or 2 would be handed to the next file opened, and records or messages
 * would land in it: each is opened on /dev/null. True when 1 was closed. */
static bool guard_std_fds(void)
{
    bool out_closed = false;
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (nfd >= 0 && nfd != fd) { /* not expected: the lowest free number is fd */
            dup2(nfd, fd);
            close(nfd);
        }
        out_closed |= fd == 1;
    }
    return out_closed;
}

int main(int argc, char **argv)
{
    bool stdout_closed = guard_std_fds();
    /* mailwire report --db / mailwire query --db: from the session store */
    if (argc > 1 && mw_store_cli_is_command(argv[1]))
        return mw_store_cli(argc - 1, argv + 1);
    mw_options opt;
    char *err = NULL;
    if (!mw_options_parse(argc, argv, &opt, &err))
        return fail(err);
    for (gchar **n = opt.input_notes; n && *n; n++) /* -r DIR: what was not a capture */
        fprintf(stderr, "mailwire: note: %s\n", *n);
    if (opt.version) {
        mw_options_print_version(stdout);
        mw_options_free(&opt);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
    }
    mw_identity_set_sensor(opt.sensor);
    mw_config cfg;
    mw_options_config(&opt, &cfg);
    run r = { .opt = &opt, .inputs = mw_inputs_new(), .out = stdout,
              .stdout_closed = stdout_closed };
    g_mutex_init(&r.out_lock);
    int status = 0;
    if ((err = setup_detection(&opt, &r)) || (err = open_keylogs(&r)) ||
        (err = open_inputs(&r)) || (err = open_outputs(&r))) {
        status = fail(err);
    } else {
        cfg.ports = r.ports;
        cfg.keylog = r.keylog;
        start_engine(&r, &cfg);
        if (opt.iface && opt.workers > 1)
            start_workers(&r, &cfg);
        status = opt.iface ? run_live(&r) : run_files(&r);
        int fin = finish(&r);
        status = status ? status : fin;
    }
    status = run_close(&r, status);
    mw_options_free(&opt);
    return status;
}
