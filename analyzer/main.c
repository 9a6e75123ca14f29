/* mailwire: find what went wrong in mail sessions, from a capture. */
#include <glib.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "config.h"
#include "detect.h"
#include "flow.h"
#include "output.h"

static void die(const char *msg)
{
    fprintf(stderr, "mailwire: %s\n", msg);
    exit(1);
}

int main(int argc, char **argv)
{
    gchar **files = NULL, **port_specs = NULL;
    gchar *output_path = NULL, *report = NULL, *iface = NULL;
    gboolean json = FALSE, quiet = FALSE, verbose = FALSE;
    gint64 max_line = MW_DEFAULT_MAX_LINE, max_ooo = MW_DEFAULT_MAX_OOO_BYTES;
    gint64 max_flows = MW_DEFAULT_MAX_FLOWS, idle = MW_DEFAULT_IDLE_TIMEOUT_S;

    GOptionEntry entries[] = {
        { "read", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &files,
          "Read a pcap or pcapng capture (repeatable; - for stdin)", "FILE" },
        { "interface", 'i', 0, G_OPTION_ARG_STRING, &iface, "Capture live on an interface",
          "IFACE" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON Lines: one record per session", NULL },
        { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output_path, "Write the records to FILE",
          "FILE" },
        { "report", 0, 0, G_OPTION_ARG_FILENAME, &report, "Incident report (.md or .html)",
          "FILE" },
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
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    GOptionContext *ctx = g_option_context_new("- mail traffic analyzer");
    g_option_context_set_summary(ctx, "Reads SMTP, submission, IMAP and POP3 sessions (and "
                                      "their TLS) from captures and says what went wrong.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
        char *msg = g_strdup_printf("%s (see mailwire --help)", gerr->message);
        die(msg);
    }
    g_option_context_free(ctx);
    if (argc > 1 && !iface) {
        char *msg = g_strdup_printf("unexpected argument '%s' (captures are read with -r FILE)",
                                    argv[1]);
        die(msg);
    }
    if (iface)
        die("-i: live capture is not available in this build yet; record with tcpdump -w "
            "and read the file with -r");
    if (!files || !files[0])
        die("no input: give a capture with -r FILE (see mailwire --help)");
    if (report)
        die("--report: the incident report is not available in this build yet");
    (void)verbose;
    if (max_line < 64 || max_ooo < 0 || max_flows < 1 || idle < 1)
        die("--max-line must be >= 64, --max-flows and --idle-timeout >= 1, "
            "--max-ooo-bytes >= 0");

    mw_config cfg;
    mw_config_defaults(&cfg);
    cfg.max_line = (size_t)max_line;
    cfg.max_ooo_bytes = (size_t)max_ooo;
    cfg.max_flows = (size_t)max_flows;
    cfg.idle_timeout_us = idle * G_USEC_PER_SEC;

    mw_detect_init();
    for (gchar **p = port_specs; p && *p; p++) {
        char *err = NULL;
        if (!mw_detect_add_ports(*p, &err))
            die(err);
    }

    /* Open every input first: a bad file is reported before any output. */
    size_t nfiles = g_strv_length(files);
    mw_capture **caps = g_new0(mw_capture *, nfiles);
    for (size_t i = 0; i < nfiles; i++) {
        char *err = NULL;
        caps[i] = mw_capture_open(files[i], &err);
        if (!caps[i])
            die(err);
    }

    FILE *out = stdout;
    if (output_path) {
        out = fopen(output_path, "w");
        if (!out) {
            char *msg = g_strdup_printf("%s: cannot write: %s", output_path, g_strerror(errno));
            die(msg);
        }
    }
    mw_output *o = mw_output_new(out, json, quiet);
    mw_engine *e = mw_engine_new(&cfg, mw_output_session, o);
    int status = 0;
    for (size_t i = 0; i < nfiles; i++) {
        char *err = NULL, *warn = NULL;
        bool ok = mw_capture_run(caps[i], e, &err, &warn);
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
    mw_run_info info = { (const char *const *)files, nfiles, mw_engine_stats_get(e) };
    mw_output_finish(o, &info);
    mw_engine_free(e);
    mw_output_free(o);
    for (size_t i = 0; i < nfiles; i++)
        mw_capture_close(caps[i]);
    g_free(caps);
    if (out != stdout && fclose(out) != 0) {
        fprintf(stderr, "mailwire: %s: write failed\n", output_path);
        status = 1;
    }
    g_strfreev(files);
    g_strfreev(port_specs);
    g_free(output_path);
    return status;
}
