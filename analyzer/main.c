/* mailwire: find what went wrong in mail sessions, from a capture.
 * main reads top to bottom: parse the options (options.c), set up the engine, open every
 * input and output, run (live or files), write what was found, clean up. */
#include <glib.h>
#include <stdio.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "input/capture.h"
#include "core/config.h"
#include "engine/detect.h"
#include "engine/flow.h"
#include "input/live.h"
#include "output/output.h"
#include "input/progress.h"
#include "report/report.h"
#include "output/save_flagged.h"
#include "output/writer.h"
#include "core/identity.h"
#include "store/store.h"
#include "store/store_cli.h"
#include "tls/tls.h"
#include "tls/tls_cert.h"

/* Everything one run holds, opened in order and closed by run_close. */
typedef struct {
    const mw_options *opt;
    mw_capture **caps;
    size_t nfiles;
    mw_inputs *inputs;
    mw_report *rep;
    mw_saver *saver;
    FILE *out;
    mw_output *o;
    mw_engine *e;
    mw_writer *writer;
    mw_progress *progress;
    mw_store *store;     /* --db */
    bool live_failed;
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

/* One clear line on stderr; the message is owned and freed here. */
static int fail(char *msg)
{
    fprintf(stderr, "mailwire: %s\n", msg);
    g_free(msg);
    return 1;
}

/* The trust store and the port table, before anything is opened. */
static char *setup_detection(const mw_options *opt)
{
    if (opt->ca_file) {
        char *err = NULL;
        if (!mw_tls_trust_init(opt->ca_file, &err))
            return err ? err : g_strdup_printf("--ca-file %s: cannot load", opt->ca_file);
    }
    mw_detect_init();
    for (gchar **p = opt->port_specs; p && *p; p++) {
        char *err = NULL;
        if (!mw_detect_add_ports(*p, &err))
            return err;
    }
    return NULL;
}

/* Open every input first: a bad file is reported before any output. */
static char *open_inputs(run *r)
{
    r->nfiles = mw_options_nfiles(r->opt);
    r->caps = g_new0(mw_capture *, r->nfiles);
    for (size_t i = 0; i < r->nfiles; i++) {
        char *err = NULL;
        r->caps[i] = mw_capture_open(r->opt->files[i], &err);
        if (!r->caps[i])
            return err;
    }
    return NULL;
}

/* -o, --report and --save-flagged. */
static char *open_outputs(run *r)
{
    const mw_options *opt = r->opt;
    char *err = NULL;
    if (opt->output_path) {
        r->out = fopen(opt->output_path, "w");
        if (!r->out) {
            r->out = stdout;
            return g_strdup_printf("%s: cannot write: %s", opt->output_path, g_strerror(errno));
        }
    }
    if (opt->report && !(r->rep = mw_report_new(opt->report, r->inputs, &err)))
        return err;
    if (opt->save_dir && !(r->saver = mw_saver_new(opt->save_dir, r->inputs, &err)))
        return err;
    mw_store_opts so = { opt->db, opt->db_spool, (int64_t)opt->db_spool_mb << 20, opt->db_batch,
                         opt->db_interval_ms, opt->db_retry };
    if (opt->db && !(r->store = mw_store_open(&so, &err)))
        return err;
    return NULL;
}

/* The output, its sinks, the engine and the writer thread. */
static void start_engine(run *r, const mw_config *cfg)
{
    const mw_options *opt = r->opt;
    r->o = mw_output_new(r->out, opt->json, opt->quiet, opt->verbose);
    bool streaming = opt->iface != NULL;
    for (size_t i = 0; i < r->nfiles; i++)
        streaming = streaming || strcmp(opt->files[i], "-") == 0;
    mw_output_flush_each(r->o, streaming);
    /* --db alone: the records go to the store, not to stdout */
    mw_output_records(r->o, !(r->store && !opt->json && !opt->output_path));
    if (r->store)
        mw_output_add_sink(r->o, mw_store_session, r->store);
    if (r->rep)
        mw_output_add_sink(r->o, mw_report_session, r->rep);
    if (r->saver)
        mw_output_add_sink(r->o, mw_saver_session, r->saver);
    r->e = mw_engine_new(cfg, mw_output_session, r->o);
    /* Records are formatted and written on a second thread (writer.h). Not with --report
     * or --save-flagged: their sinks read the input bookkeeping that the analysis updates. */
    if (!r->rep && !r->saver) {
        r->writer = mw_writer_start(mw_output_session, r->o);
        if (r->writer)
            mw_engine_hand_over(r->e, mw_writer_take, r->writer);
    }
    r->progress = mw_progress_new(r->e);
}

static int run_live(run *r)
{
    const mw_options *opt = r->opt;
    mw_inputs_begin(r->inputs, opt->iface, -1);
    mw_identity_set_input(opt->iface, TRUE);
    mw_live_opts lo = { opt->iface, opt->filter, opt->buffer_mb, opt->promisc, opt->user,
                        opt->write_file, opt->stats_interval };
    char *err = NULL;
    r->live_failed = !mw_live_run(&lo, r->e, &err);
    return r->live_failed ? fail(err) : 0;
}

/* Each file in turn; stops at the first that cannot be read. */
static int run_files(run *r)
{
    for (size_t i = 0; i < r->nfiles; i++) {
        const char *name = r->opt->files[i];
        char *err = NULL, *warn = NULL;
        observer ob = { r->inputs, r->progress, name };
        mw_inputs_begin(r->inputs, name, mw_capture_dlt(r->caps[i]));
        mw_identity_set_input(name, FALSE); /* the sessions' "input" */
        /* per-file time ranges are for the report and --save-flagged; the progress line
         * only on a terminal: otherwise nothing to do per packet */
        if (r->rep || r->saver || r->progress)
            mw_capture_observe(r->caps[i], observe_packet, &ob);
        bool ok = mw_capture_run(r->caps[i], r->e, &err, &warn);
        mw_progress_clear(r->progress);
        if (warn) {
            fprintf(stderr, "mailwire: warning: %s\n", warn);
            g_free(warn);
        }
        if (!ok)
            return fail(err);
    }
    return 0;
}

/* Whatever sessions were read are written, even after an input error; then the totals,
 * the report and the saved captures. */
static int finish(run *r)
{
    const mw_options *opt = r->opt;
    int status = 0;
    mw_engine_finish(r->e);
    mw_writer_stop(r->writer); /* every record written before the totals */
    r->writer = NULL;
    if (r->store && !mw_store_close(r->store, opt->quiet))
        status = 1; /* records dropped: said on stderr */
    r->store = NULL;
    char *live_name = opt->iface ? g_strdup_printf("live capture on %s", opt->iface) : NULL;
    mw_run_info info = { opt->iface ? (const char *const *)&live_name
                                    : (const char *const *)opt->files,
                         opt->iface ? 1 : r->nfiles, mw_engine_stats_get(r->e) };
    mw_progress_free(r->progress);
    r->progress = NULL;
    if (!r->live_failed || mw_engine_stats_get(r->e)->packets > 0) {
        mw_output_finish(r->o, &info);
        char *err = NULL;
        if (r->rep && !mw_report_write(r->rep, mw_engine_stats_get(r->e), opt->iface, &err))
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
    return status;
}

/* Closes what run opened; the status of closing -o FILE joins the run's. */
static int run_close(run *r, int status)
{
    mw_engine_free(r->e);
    mw_output_free(r->o);
    if (r->out && r->out != stdout && fclose(r->out) != 0)
        status = fail(g_strdup_printf("%s: write failed", r->opt->output_path));
    mw_report_free(r->rep);
    mw_saver_free(r->saver);
    mw_store_close(r->store, true); /* only when the run never started */
    mw_inputs_free(r->inputs);
    for (size_t i = 0; r->caps && i < r->nfiles; i++)
        mw_capture_close(r->caps[i]);
    g_free(r->caps);
    return status;
}

int main(int argc, char **argv)
{
    /* mailwire report --db / mailwire query --db: from the session store */
    if (argc > 1 && mw_store_cli_is_command(argv[1]))
        return mw_store_cli(argc - 1, argv + 1);
    mw_options opt;
    char *err = NULL;
    if (!mw_options_parse(argc, argv, &opt, &err))
        return fail(err);
    if (opt.version) {
        mw_options_print_version(stdout);
        mw_options_free(&opt);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
    }
    mw_identity_set_sensor(opt.sensor);
    mw_config cfg;
    mw_options_config(&opt, &cfg);
    run r = { .opt = &opt, .inputs = mw_inputs_new(), .out = stdout };
    int status = 0;
    if ((err = setup_detection(&opt)) || (err = open_inputs(&r)) || (err = open_outputs(&r))) {
        status = fail(err);
    } else {
        start_engine(&r, &cfg);
        status = opt.iface ? run_live(&r) : run_files(&r);
        int fin = finish(&r);
        status = status ? status : fin;
    }
    status = run_close(&r, status);
    mw_options_free(&opt);
    return status;
}
