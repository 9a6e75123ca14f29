/* mailwire: find what went wrong in mail sessions, from a capture. */
#include <glib.h>
#include <stdio.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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
#include "tls/tls.h"
#include "tls/tls_cert.h"

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

int main(int argc, char **argv)
{
    gchar **files = NULL, **port_specs = NULL;
    gchar *output_path = NULL, *report = NULL, *iface = NULL, *user = NULL, *write_file = NULL;
    gboolean promisc = FALSE;
    gint buffer_mb = MW_DEFAULT_LIVE_BUFFER_MB, stats_interval = 0;
    gchar *ca_file = NULL, *save_dir = NULL;
    gboolean json = FALSE, quiet = FALSE, verbose = FALSE;
    gint64 max_line = MW_DEFAULT_MAX_LINE, max_ooo = MW_DEFAULT_MAX_OOO_BYTES;
    gint64 max_flows = MW_DEFAULT_MAX_FLOWS, idle = MW_DEFAULT_IDLE_TIMEOUT_S;

    GOptionEntry entries[] = {
        { "read", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &files,
          "Read a pcap or pcapng capture (repeatable; - for stdin)", "FILE" },
        { "interface", 'i', 0, G_OPTION_ARG_STRING, &iface,
          "Capture live on an interface (any BPF filter follows the options)", "IFACE" },
        { "user", 'Z', 0, G_OPTION_ARG_STRING, &user,
          "Live: drop privileges to USER once the capture is open", "USER" },
        { "write", 'w', 0, G_OPTION_ARG_FILENAME, &write_file,
          "Live: also save the captured packets to a pcap FILE", "FILE" },
        { "promisc", 0, 0, G_OPTION_ARG_NONE, &promisc, "Live: promiscuous mode (off by default)",
          NULL },
        { "buffer-size", 0, 0, G_OPTION_ARG_INT, &buffer_mb,
          "Live: kernel capture buffer in MiB (default 32)", "MIB" },
        { "stats", 0, 0, G_OPTION_ARG_INT, &stats_interval,
          "Live: capture counters on stderr every N seconds (also on SIGUSR1)", "N" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON Lines: one record per session", NULL },
        { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output_path, "Write the records to FILE",
          "FILE" },
        { "report", 0, 0, G_OPTION_ARG_FILENAME, &report, "Incident report (.md or .html)",
          "FILE" },
        { "save-flagged", 0, 0, G_OPTION_ARG_FILENAME, &save_dir,
          "Save the packets of each flagged session to DIR/<id>-<flag>.pcap", "DIR" },
        { "ports", 0, 0, G_OPTION_ARG_STRING_ARRAY, &port_specs,
          "Extra ports per protocol, e.g. smtp=2525,imap=1143", "PROTO=PORT,..." },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Text: only sessions with findings",
          NULL },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Transcript of each session", NULL },
        { "max-line", 0, 0, G_OPTION_ARG_INT64, &max_line,
          "Longest protocol line kept (default 8192)", "BYTES" },
        { "max-ooo-bytes", 0, 0, G_OPTION_ARG_INT64, &max_ooo,
          "Out-of-order bytes held per direction (default 262144)", "BYTES" },
        { "max-flows", 0, 0, G_OPTION_ARG_INT64, &max_flows,
          "Live sessions held at once (default 100000)", "N" },
        { "idle-timeout", 0, 0, G_OPTION_ARG_INT64, &idle,
          "Close a session silent this long, in packet time (default 1800)", "SECONDS" },
        { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
          "Trust only these CA certificates (PEM) for tls_cert_untrusted (default: the system "
          "store)", "FILE" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    GOptionContext *ctx = g_option_context_new("- mail traffic analyzer");
    g_option_context_set_summary(ctx, "Reads SMTP, submission, IMAP and POP3 sessions (and "
                                      "their TLS) from captures and says what went wrong.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    int status = 0;
    mw_capture **caps = NULL;
    mw_inputs *inputs = mw_inputs_new();
    mw_report *rep = NULL;
    mw_saver *saver = NULL;
    size_t nfiles = 0;
    FILE *out = stdout;
    bool parsed = g_option_context_parse(ctx, &argc, &argv, &gerr);
    g_option_context_free(ctx);
    if (!parsed) {
        status = fail(g_strdup_printf("%s (see mailwire --help)", gerr->message));
        g_error_free(gerr);
        goto done;
    }
    if (argc > 1 && !iface) {
        status = fail(g_strdup_printf("unexpected argument '%s' (captures are read with -r FILE)",
                                      argv[1]));
        goto done;
    }
    if (iface && files && files[0]) {
        status = fail(g_strdup("-i and -r do not go together: capture live or read files"));
        goto done;
    }
    if (!iface && (user || write_file || promisc || stats_interval)) {
        status = fail(g_strdup("-Z, -w, --promisc and --stats go with -i (live capture)"));
        goto done;
    }
    if (buffer_mb < 1 || stats_interval < 0) {
        status = fail(g_strdup("--buffer-size must be >= 1 MiB and --stats >= 0"));
        goto done;
    }
    if (!iface && (!files || !files[0])) {
        status = fail(g_strdup("no input: give a capture with -r FILE (see mailwire --help)"));
        goto done;
    }
    if (save_dir && iface) {
        status = fail(g_strdup("--save-flagged reads the capture files again: it does not go "
                               "with -i (use -w FILE, then -r FILE --save-flagged DIR)"));
        goto done;
    }
    for (gchar **f = files; save_dir && f && *f; f++) {
        if (strcmp(*f, "-") == 0) {
            status = fail(g_strdup("--save-flagged reads the capture files again: it does not "
                                   "go with -r - (stdin)"));
            goto done;
        }
    }
    if (max_line < 64 || max_ooo < 0 || max_flows < 1 || idle < 1) {
        status = fail(g_strdup("--max-line must be >= 64, --max-flows and --idle-timeout >= 1, "
                               "--max-ooo-bytes >= 0"));
        goto done;
    }

    mw_config cfg;
    mw_config_defaults(&cfg);
    cfg.max_line = (size_t)max_line;
    cfg.max_ooo_bytes = (size_t)max_ooo;
    cfg.max_flows = (size_t)max_flows;
    cfg.idle_timeout_us = idle * G_USEC_PER_SEC;
    cfg.keep_transcript = verbose || report; /* the report shows flagged sessions' lines */

    if (ca_file) {
        char *err = NULL;
        if (!mw_tls_trust_init(ca_file, &err)) {
            status = fail(err ? err : g_strdup_printf("--ca-file %s: cannot load", ca_file));
            goto done;
        }
    }
    mw_detect_init();
    for (gchar **p = port_specs; p && *p; p++) {
        char *err = NULL;
        if (!mw_detect_add_ports(*p, &err)) {
            status = fail(err);
            goto done;
        }
    }

    /* Open every input first: a bad file is reported before any output. */
    nfiles = iface ? 0 : g_strv_length(files);
    caps = g_new0(mw_capture *, nfiles);
    for (size_t i = 0; i < nfiles; i++) {
        char *err = NULL;
        caps[i] = mw_capture_open(files[i], &err);
        if (!caps[i]) {
            status = fail(err);
            goto done;
        }
    }
    if (output_path) {
        out = fopen(output_path, "w");
        if (!out) {
            out = stdout;
            status = fail(g_strdup_printf("%s: cannot write: %s", output_path, g_strerror(errno)));
            goto done;
        }
    }
    if (report) {
        char *err = NULL;
        rep = mw_report_new(report, inputs, &err);
        if (!rep) {
            status = fail(err);
            goto done;
        }
    }
    if (save_dir) {
        char *err = NULL;
        saver = mw_saver_new(save_dir, inputs, &err);
        if (!saver) {
            status = fail(err);
            goto done;
        }
    }
    mw_output *o = mw_output_new(out, json, quiet, verbose);
    bool streaming = iface != NULL;
    for (size_t i = 0; i < nfiles; i++)
        streaming = streaming || strcmp(files[i], "-") == 0;
    mw_output_flush_each(o, streaming);
    if (rep)
        mw_output_add_sink(o, mw_report_session, rep);
    if (saver)
        mw_output_add_sink(o, mw_saver_session, saver);
    mw_engine *e = mw_engine_new(&cfg, mw_output_session, o);
    /* Records are formatted and written on a second thread (writer.h). Not with --report
     * or --save-flagged: their sinks read the input bookkeeping that the analysis updates. */
    mw_writer *writer = NULL;
    if (!rep && !saver) {
        writer = mw_writer_start(mw_output_session, o);
        if (writer)
            mw_engine_hand_over(e, mw_writer_take, writer);
    }
    bool live_failed = false;
    mw_progress *progress = mw_progress_new(e);
    if (iface) {
        mw_inputs_begin(inputs, iface, -1);
        /* the rest of the command line is a BPF filter, as with tcpdump */
        char *filter = argc > 1 ? g_strjoinv(" ", argv + 1) : NULL;
        mw_live_opts lo = { iface, filter, buffer_mb, promisc, user, write_file, stats_interval };
        char *err = NULL;
        live_failed = !mw_live_run(&lo, e, &err);
        if (live_failed)
            status = fail(err);
        g_free(filter);
    }
    for (size_t i = 0; i < nfiles; i++) {
        char *err = NULL, *warn = NULL;
        observer ob = { inputs, progress, files[i] };
        mw_inputs_begin(inputs, files[i], mw_capture_dlt(caps[i]));
        /* per-file time ranges are for the report and --save-flagged; the progress line
         * only on a terminal: otherwise nothing to do per packet */
        if (rep || saver || progress)
            mw_capture_observe(caps[i], observe_packet, &ob);
        bool ok = mw_capture_run(caps[i], e, &err, &warn);
        mw_progress_clear(progress);
        if (warn) {
            fprintf(stderr, "mailwire: warning: %s\n", warn);
            g_free(warn);
        }
        if (!ok) {
            fprintf(stderr, "mailwire: %s\n", err);
            g_free(err);
            status = 1;
            break;
        }
    }
    /* Whatever sessions were read are written, even after an input error. */
    mw_engine_finish(e);
    mw_writer_stop(writer); /* every record written before the totals */
    char *live_name = iface ? g_strdup_printf("live capture on %s", iface) : NULL;
    mw_run_info info = { iface ? (const char *const *)&live_name : (const char *const *)files,
                         iface ? 1 : nfiles, mw_engine_stats_get(e) };
    mw_progress_free(progress);
    if (!live_failed || mw_engine_stats_get(e)->packets > 0) {
        mw_output_finish(o, &info);
        char *err = NULL;
        if (rep && !mw_report_write(rep, mw_engine_stats_get(e), iface, &err))
            status = fail(err);
    }
    if (saver) {
        unsigned written = 0;
        char *err = NULL, *note = NULL;
        if (!mw_saver_run(saver, &written, &note, &err))
            status = fail(err);
        if (note) {
            fprintf(stderr, "mailwire: warning: %s\n", note);
            g_free(note);
        }
    }
    g_free(live_name);
    mw_engine_free(e);
    mw_output_free(o);
    if (out != stdout && fclose(out) != 0)
        status = fail(g_strdup_printf("%s: write failed", output_path));
done:
    mw_report_free(rep);
    mw_saver_free(saver);
    mw_inputs_free(inputs);
    for (size_t i = 0; caps && i < nfiles; i++)
        mw_capture_close(caps[i]);
    g_free(caps);
    g_strfreev(files);
    g_strfreev(port_specs);
    g_free(output_path);
    g_free(report);
    g_free(iface);
    g_free(user);
    g_free(write_file);
    g_free(ca_file);
    g_free(save_dir);
    return status;
}
