/* Command-line parsing (GLib's GOptionContext) and the checks that need more than one
 * option at a time. */
#include "options.h"

#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <pcap/pcap.h>

#include "input/files/dirs.h"
#include "input/live.h"
#include "maillog/maillog.h"
#include "output/outfile.h"
#include "parallel/parallel.h"
#include "store/store.h"

static void set_defaults(mw_options *o)
{
    memset(o, 0, sizeof *o);
    o->buffer_mb = MW_DEFAULT_LIVE_BUFFER_MB;
    o->workers = 1;
    o->max_line = MW_DEFAULT_MAX_LINE;
    o->max_ooo = MW_DEFAULT_MAX_OOO_BYTES;
    o->max_bdat_chunk = MW_DEFAULT_MAX_BDAT_CHUNK;
    o->max_flows = MW_DEFAULT_MAX_FLOWS;
    o->threads = -1;
    o->thread_hold = MW_PARALLEL_HOLD;
    o->idle = MW_DEFAULT_IDLE_TIMEOUT_S;
    o->max_frag_datagrams = MW_DEFAULT_MAX_FRAG_DATAGRAMS;
    o->max_frag_bytes = MW_DEFAULT_MAX_FRAG_BYTES;
    o->frag_timeout = MW_DEFAULT_FRAG_TIMEOUT_S;
    o->max_tls_hs = MW_DEFAULT_MAX_TLS_HANDSHAKE;
    o->log_skew = MW_LOG_SKEW_DEFAULT_S;
    o->log_max_lines = MW_LOG_MAX_LINES_DEFAULT;
    o->tls_hold_records = MW_DEFAULT_TLS_HOLD_RECORDS;
    o->log_max_sessions = MW_LOG_MAX_SESSIONS_DEFAULT;
    o->log_grace = MW_LOG_GRACE_DEFAULT_MS / 1000.0;
    o->log_max_pending = MW_LOG_MAX_PENDING_DEFAULT;
    o->db_batch = MW_STORE_DEFAULT_BATCH;
    o->db_interval_ms = MW_STORE_DEFAULT_INTERVAL_MS;
    o->db_spool_mb = MW_STORE_DEFAULT_SPOOL_MB;
    o->db_retry = MW_STORE_DEFAULT_RETRY_S;
}

/* The server-log join (--maillog ...) and the store (--sensor, --db ...) options. */
static void add_log_store_entries(GOptionContext *ctx, mw_options *o)
{
    GOptionEntry entries[] = {
        { "maillog", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->maillogs,
          "Join a server log (postfix, dovecot, Exchange protocol log; .gz too) to the "
          "sessions (repeatable)", "FILE" },
        { "log-tz", 0, 0, G_OPTION_ARG_STRING, &o->log_tz,
          "Time zone of server logs without one (default: the machine's)", "ZONE" },
        { "log-skew", 0, 0, G_OPTION_ARG_INT, &o->log_skew,
          "Clock difference tolerated between capture and server log (default 2)", "SECONDS" },
        { "log-max-lines", 0, 0, G_OPTION_ARG_INT64, &o->log_max_lines,
          "Server-log lines held per server-side session (default 200)", "N" },
        { "log-max-sessions", 0, 0, G_OPTION_ARG_INT64, &o->log_max_sessions,
          "Server-side sessions held from the logs (default 1000000)", "N" },
        { "log-grace", 0, 0, G_OPTION_ARG_DOUBLE, &o->log_grace,
          "Live: a closed session waits this long for its server-log lines (default 2)",
          "SECONDS" },
        { "log-max-pending", 0, 0, G_OPTION_ARG_INT64, &o->log_max_pending,
          "Live: server-log lines held in all; more are counted, not kept (default 200000)",
          "N" },
        { "sensor", 0, 0, G_OPTION_ARG_STRING, &o->sensor,
          "Name of this sensor in every record (default: the host name)", "NAME" },
        { "db", 0, 0, G_OPTION_ARG_STRING, &o->db,
          "Store every session in SQLite (PATH.sqlite) or PostgreSQL (postgresql://...)",
          "URL" },
        { "db-batch", 0, 0, G_OPTION_ARG_INT, &o->db_batch,
          "Records per database transaction (default 1000)", "N" },
        { "db-batch-interval", 0, 0, G_OPTION_ARG_INT, &o->db_interval_ms,
          "Longest a record waits for its transaction, ms (default 1000)", "MS" },
        { "db-spool", 0, 0, G_OPTION_ARG_FILENAME, &o->db_spool,
          "Keep records here while the database is unavailable (default "
          "/var/lib/mailwire/spool)", "DIR" },
        { "db-spool-max", 0, 0, G_OPTION_ARG_INT, &o->db_spool_mb,
          "Cap of the spool in MiB; past it records are dropped and counted (default 256)",
          "MIB" },
        { "db-transcripts", 0, 0, G_OPTION_ARG_NONE, &o->db_transcripts,
          "Also store the redacted transcripts of flagged sessions (for report --db)", NULL },
        { "db-retry", 0, 0, G_OPTION_ARG_DOUBLE, &o->db_retry,
          "Seconds between attempts to reach an unavailable database (default 5)", "SECONDS" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
}

/* The option table; the help text of each entry is what --help prints. */
/* The inputs: files, or a live capture and its settings (first in --help). */
static void add_input_entries(GOptionContext *ctx, mw_options *o)
{
    GOptionEntry entries[] = {
        { "read", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &o->files,
          "Read a pcap or pcapng capture, or every capture in a directory (repeatable; - "
          "for stdin). After the options, arguments naming existing files are captures "
          "too; the rest is a BPF filter. Several files are read merged by packet time",
          "FILE" },
        { "interface", 'i', 0, G_OPTION_ARG_STRING, &o->iface,
          "Capture live on an interface (any BPF filter follows the options)", "IFACE" },
        { "user", 'Z', 0, G_OPTION_ARG_STRING, &o->user,
          "Live: drop privileges to USER once the capture is open", "USER" },
        { "write", 'w', 0, G_OPTION_ARG_FILENAME, &o->write_file,
          "Live: also save the captured packets to a pcap FILE", "FILE" },
        { "promisc", 0, 0, G_OPTION_ARG_NONE, &o->promisc,
          "Live: promiscuous mode (off by default)", NULL },
        { "buffer-size", 0, 0, G_OPTION_ARG_INT, &o->buffer_mb,
          "Live: kernel capture buffer in MiB (default 32)", "MIB" },
        { "stats", 0, 0, G_OPTION_ARG_INT, &o->stats_interval,
          "Live: capture counters on stderr every N seconds (also on SIGUSR1)", "N" },
        { "workers", 0, 0, G_OPTION_ARG_INT, &o->workers,
          "Live: N capture sockets in one fanout group, each analysed on its own thread "
          "(default 1)", "N" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
}

static GOptionContext *new_context(mw_options *o)
{
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &o->json, "JSON Lines: one record per session",
          NULL },
        { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o->output_path,
          "Write the records to FILE", "FILE" },
        { "rotate-size", 0, 0, G_OPTION_ARG_STRING, &o->rotate_size,
          "-o/-w: start a new file when this one would pass SIZE (e.g. 100M); the full one "
          "is renamed FILE.YYYYMMDDTHHMMSSZ (UTC, its start). SIGHUP reopens FILE", "SIZE" },
        { "rotate-interval", 0, 0, G_OPTION_ARG_STRING, &o->rotate_interval,
          "-o/-w: start a new file every DURATION (e.g. 1h, 30m, 1d; at the next record)",
          "DURATION" },
        { "report", 0, 0, G_OPTION_ARG_FILENAME, &o->report, "Incident report (.md or .html)",
          "FILE" },
        { "save-flagged", 0, 0, G_OPTION_ARG_FILENAME, &o->save_dir,
          "Save the packets of each flagged session to DIR/<id>-<flag>.pcap", "DIR" },
        { "ports", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->port_specs,
          "Extra ports per protocol, e.g. smtp=2525,imap=1143", "PROTO=PORT,..." },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet, "Text: only sessions with findings",
          NULL },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &o->verbose, "Transcript of each session",
          NULL },
        { "local-time", 0, 0, G_OPTION_ARG_NONE, &o->local_time,
          "Text: times in the local time zone (default UTC)", NULL },
        { "max-line", 0, 0, G_OPTION_ARG_INT64, &o->max_line,
          "Longest protocol line kept (default 8192)", "BYTES" },
        { "max-ooo-bytes", 0, 0, G_OPTION_ARG_INT64, &o->max_ooo,
          "Out-of-order bytes held per direction (default 262144)", "BYTES" },
        { "max-bdat-chunk", 0, 0, G_OPTION_ARG_INT64, &o->max_bdat_chunk,
          "Largest SMTP BDAT chunk taken as one (default 1073741824)", "BYTES" },
        { "max-flows", 0, 0, G_OPTION_ARG_INT64, &o->max_flows,
          "Live sessions held at once (default 100000)", "N" },
        { "idle-timeout", 0, 0, G_OPTION_ARG_INT64, &o->idle,
          "Close a session silent this long, in packet time (default 1800)", "SECONDS" },
        { "max-memory", 0, 0, G_OPTION_ARG_INT64, &o->max_memory,
          "Bytes all sessions may hold; the least recently active go first (default: no "
          "limit)", "BYTES" },
        { "max-frag-datagrams", 0, 0, G_OPTION_ARG_INT64, &o->max_frag_datagrams,
          "IP datagrams reassembled from fragments at once (default 4096)", "N" },
        { "max-frag-bytes", 0, 0, G_OPTION_ARG_INT64, &o->max_frag_bytes,
          "Bytes held for IP fragment reassembly (default 16777216)", "BYTES" },
        { "frag-timeout", 0, 0, G_OPTION_ARG_INT64, &o->frag_timeout,
          "Give up on a fragmented datagram after this long, in packet time (default 30)",
          "SECONDS" },
        { "max-tls-handshake", 0, 0, G_OPTION_ARG_INT64, &o->max_tls_hs,
          "Bytes of a TLS handshake message held per direction; of a longer certificate "
          "chain the leaf is read, the rest skipped (default 1048576)", "BYTES" },
        { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &o->ca_file,
          "Trust only these CA certificates (PEM) for tls_cert_untrusted (default: the system "
          "store)", "FILE" },
        { "keylog", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->keylogs,
          "TLS key log (SSLKEYLOGFILE format) to decrypt sessions with (repeatable; live: "
          "read again as it grows)", "FILE" },
        { "tls-hold-records", 0, 0, G_OPTION_ARG_INT64, &o->tls_hold_records,
          "Live: TLS records held per direction until their keys reach the key log "
          "(default 32; 0: none)", "N" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    GOptionEntry tail[] = {
        { "version", 0, 0, G_OPTION_ARG_NONE, &o->version,
          "Print the version of mailwire and of the libpcap, OpenSSL and GLib it runs with", NULL },
        { "count", 'c', 0, G_OPTION_ARG_INT64, &o->count, "Stop after COUNT packets", "COUNT" },
        { "threads", 0, 0, G_OPTION_ARG_INT, &o->threads, "Files: analysis threads "
          "(default: the cores; 0: only read and hand over, to time the reader)", "N" },
        { "thread-hold", 0, 0, G_OPTION_ARG_INT, &o->thread_hold, "Files, several threads: "
          "records each thread may have closed and waiting for the others' (then it waits; "
          "counted in --max-memory)", "N" },
        { "thread-stats", 0, 0, G_OPTION_ARG_NONE, &o->thread_stats,
          "Files: the TCP segments each analysis thread took, on standard error", NULL },
        { "no-sandbox", 0, 0, G_OPTION_ARG_NONE, &o->no_sandbox,
          "Do not confine the run with seccomp once inputs and outputs are open", NULL },
        /* tests only (tests/io.sh): proves the sandbox kills a forbidden open */
        { "test-open-after-sandbox", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME,
          &o->test_open, "", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    GOptionContext *ctx = g_option_context_new("[FILE...] [BPF-FILTER] - mail traffic analyzer");
    g_option_context_set_summary(ctx, "Reads SMTP, submission, IMAP and POP3 sessions (and "
                                      "their TLS) from captures and says what went wrong.");
    /* one group, in this order in --help; each call copies its table */
    add_input_entries(ctx, o);
    g_option_context_add_main_entries(ctx, entries, NULL);
    add_log_store_entries(ctx, o);
    g_option_context_add_main_entries(ctx, tail, NULL);
    return ctx;
}

/* -r's files and the arguments after the options: directories expanded, trailing
 * captures appended, the rest the filter. NULL when fine. */
static char *gather_inputs(mw_options *o, char **rest)
{
    GPtrArray *given = g_ptr_array_new_with_free_func(g_free);
    for (gchar **f = o->files; f && *f; f++)
        g_ptr_array_add(given, g_strdup(*f));
    o->filter = mw_split_captures_filter(rest, given);
    GPtrArray *files = g_ptr_array_new();
    GPtrArray *notes = g_ptr_array_new();
    char *err = NULL;
    for (guint i = 0; !err && i < given->len; i++) {
        const char *f = g_ptr_array_index(given, i);
        char *note = NULL;
        if (strcmp(f, "-") != 0 && g_file_test(f, G_FILE_TEST_IS_DIR)) {
            if (mw_dir_captures(f, files, &note, &err) && note)
                g_ptr_array_add(notes, note);
        } else {
            g_ptr_array_add(files, g_strdup(f));
        }
    }
    g_ptr_array_free(given, TRUE);
    g_strfreev(o->files);
    g_ptr_array_add(files, NULL);
    o->files = (gchar **)g_ptr_array_free(files, FALSE);
    g_ptr_array_add(notes, NULL);
    o->input_notes = (gchar **)g_ptr_array_free(notes, FALSE);
    return err;
}

static bool has_stdin(const mw_options *o)
{
    for (gchar **f = o->files; f && *f; f++)
        if (strcmp(*f, "-") == 0)
            return true;
    return false;
}

/* NULL when lo <= v <= hi, else the line that says so. */
static char *range(const char *name, gint64 v, gint64 lo, gint64 hi, const char *unit)
{
    if (v >= lo && v <= hi)
        return NULL;
    return g_strdup_printf("%s must be from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT "%s%s "
                           "(got %" G_GINT64_FORMAT ")", name, lo, hi, *unit ? " " : "", unit,
                           v);
}

/* Every numeric option within its range (options.h), the first one out of it reported. */
static char *check_ranges(const mw_options *o)
{
    char *err = NULL;
    (void)((err = range("--max-line", o->max_line, 64, MW_OPT_MAX_LINE_MAX, "bytes")) ||
           (err = range("--max-ooo-bytes", o->max_ooo, 0, MW_OPT_MAX_OOO_MAX, "bytes")) ||
           (err = range("--max-bdat-chunk", o->max_bdat_chunk, 1, MW_OPT_BDAT_CHUNK_MAX,
                        "bytes")) ||
           (err = range("--max-flows", o->max_flows, 1, MW_OPT_MAX_FLOWS_MAX, "")) ||
           (err = range("--idle-timeout", o->idle, 1, MW_OPT_IDLE_MAX, "seconds")) ||
           (err = range("--buffer-size", o->buffer_mb, 1, MW_OPT_BUFFER_MB_MAX, "MiB")) ||
           (err = range("--stats", o->stats_interval, 0, MW_OPT_STATS_MAX, "seconds")) ||
           (err = range("--workers", o->workers, 1, MW_LIVE_MAX_WORKERS, "")) ||
           (err = range("-c", o->count, 0, MW_OPT_COUNT_MAX, "packets")) ||
           (o->threads != -1 &&
            (err = range("--threads", o->threads, 0, MW_OPT_THREADS_MAX, ""))) ||
           (err = range("--thread-hold", o->thread_hold, 1, MW_OPT_THREAD_HOLD_MAX,
                        "records")) ||
           (err = range("--max-frag-datagrams", o->max_frag_datagrams, 1,
                        MW_OPT_FRAG_DATAGRAMS_MAX, "")) ||
           (err = range("--max-frag-bytes", o->max_frag_bytes, 0, MW_OPT_FRAG_BYTES_MAX,
                        "bytes")) ||
           (err = range("--frag-timeout", o->frag_timeout, 1, MW_OPT_FRAG_TIMEOUT_MAX,
                        "seconds")) ||
           (o->max_memory && (err = range("--max-memory", o->max_memory, MW_OPT_MAX_MEMORY_MIN,
                                          MW_OPT_MAX_MEMORY_MAX, "bytes"))) ||
           (err = range("--max-tls-handshake", o->max_tls_hs, MW_OPT_TLS_HS_MIN,
                        MW_OPT_TLS_HS_MAX, "bytes")) ||
           (err = range("--log-skew", o->log_skew, 0, MW_LOG_SKEW_MAX_S, "seconds")) ||
           (err = range("--log-max-lines", o->log_max_lines, 1, MW_OPT_LOG_MAX_LINES_MAX, "")) ||
           (err = range("--log-max-sessions", o->log_max_sessions, 1,
                        MW_OPT_LOG_MAX_SESSIONS_MAX, "")) ||
           (err = range("--log-max-pending", o->log_max_pending, 1,
                        MW_OPT_LOG_MAX_PENDING_MAX, "lines")) ||
           (err = range("--tls-hold-records", o->tls_hold_records, 0, MW_OPT_TLS_HOLD_MAX, "")));
    return err;
}

/* The checks on the final list of files (directories expanded). */
static char *check_files(const mw_options *o)
{
    if (o->save_dir && has_stdin(o))
        return g_strdup("--save-flagged reads the capture files again: it does not "
                        "go with -r - (stdin)");
    return NULL;
}

/* Checks across options, after parsing; NULL when the combination is fine. The first
 * problem found is the one reported. */
static char *check(mw_options *o, int argc, char **argv)
{
    bool have_files = o->files && o->files[0];
    if (argc > 1 && !o->iface && !have_files)
        return g_strdup_printf("unexpected argument '%s' (captures are read with -r FILE)",
                               argv[1]);
    if (o->iface && have_files)
        return g_strdup("-i and -r do not go together: capture live or read files");
    if (!o->iface && (o->user || o->write_file || o->promisc || o->stats_interval))
        return g_strdup("-Z, -w, --promisc and --stats go with -i (live capture)");
    if (!o->iface && o->workers != 1)
        return g_strdup("--workers goes with -i (live capture)");
    if (!o->iface && !have_files)
        return g_strdup("no input: give a capture with -r FILE (see mailwire --help)");
    if (o->save_dir && o->iface)
        return g_strdup("--save-flagged reads the capture files again: it does not go "
                        "with -i (use -w FILE, then -r FILE --save-flagged DIR)");
    for (gchar **l = o->maillogs; o->iface && l && *l; l++)
        if (g_str_has_suffix(*l, ".gz"))
            return g_strdup_printf("--maillog %s: a compressed log does not grow; live (-i) "
                                   "follows the log being written (read rotated logs with "
                                   "-r FILE --maillog LOG.gz)", *l);
    if (o->maillogs && o->iface && g_strv_length(o->maillogs) > MW_LOG_MAX_FOLLOWED)
        return g_strdup_printf("--maillog: at most %d logs are followed live (-i)",
                               MW_LOG_MAX_FOLLOWED);
    if (!o->iface && (o->log_grace != MW_LOG_GRACE_DEFAULT_MS / 1000.0 ||
                      o->log_max_pending != MW_LOG_MAX_PENDING_DEFAULT))
        return g_strdup("--log-grace and --log-max-pending go with -i and --maillog (live)");
    if (o->log_grace < 0 || o->log_grace > MW_LOG_GRACE_MAX_S)
        return g_strdup_printf("--log-grace must be from 0 to %d seconds (got %g)",
                               MW_LOG_GRACE_MAX_S, o->log_grace);
    if ((o->rotate_size || o->rotate_interval) && mw_options_stdout(o) && !o->write_file)
        return g_strdup("--rotate-size and --rotate-interval rotate -o FILE and -w FILE: "
                        "give one of them");
    char *err = NULL;
    if ((o->rotate_size &&
         !mw_rotate_parse_size("--rotate-size", o->rotate_size, &o->rotate_bytes, &err)) ||
        (o->rotate_interval && !mw_rotate_parse_duration("--rotate-interval",
                                                         o->rotate_interval,
                                                         &o->rotate_interval_us, &err)))
        return err;
    if (o->db_batch < 1 || o->db_batch > 100000 || o->db_interval_ms < 1 ||
        o->db_spool_mb < 1 || o->db_retry < 0.01 || o->db_retry > 86400)
        return g_strdup("--db-batch must be 1-100000, --db-batch-interval and --db-spool-max "
                        ">= 1, --db-retry 0.01-86400");
    if ((o->db_transcripts || o->db_spool || o->db_retry != MW_STORE_DEFAULT_RETRY_S) && !o->db)
        return g_strdup("--db-transcripts, --db-spool and --db-retry go with --db");
    return check_ranges(o);
}

bool mw_options_parse(int argc, char **argv, mw_options *o, char **err)
{
    set_defaults(o);
    GOptionContext *ctx = new_context(o);
    GError *gerr = NULL;
    bool parsed = g_option_context_parse(ctx, &argc, &argv, &gerr);
    g_option_context_free(ctx);
    if (!parsed) {
        *err = g_strdup_printf("%s (see mailwire --help)", gerr->message);
        g_error_free(gerr);
    } else if (!o->version) { /* --version alone needs nothing else */
        *err = check(o, argc, argv);
        /* the rest of the command line: captures, then a BPF filter, as with tcpdump */
        if (!*err && o->iface && argc > 1)
            o->filter = g_strjoinv(" ", argv + 1);
        else if (!*err && !o->iface)
            *err = gather_inputs(o, argv + 1);
        if (!*err)
            *err = check_files(o);
    }
    if (*err) {
        mw_options_free(o);
        return false;
    }
    return true;
}

void mw_options_config(const mw_options *o, mw_config *cfg)
{
    mw_config_defaults(cfg);
    cfg->max_line = (size_t)o->max_line;
    cfg->max_ooo_bytes = (size_t)o->max_ooo;
    cfg->max_bdat_chunk = (uint32_t)o->max_bdat_chunk;
    cfg->max_flows = (size_t)o->max_flows;
    cfg->idle_timeout_us = o->idle * G_USEC_PER_SEC;
    cfg->max_frag_datagrams = (size_t)o->max_frag_datagrams;
    cfg->max_frag_bytes = (size_t)o->max_frag_bytes;
    cfg->frag_timeout_us = o->frag_timeout * G_USEC_PER_SEC;
    cfg->max_memory = (size_t)o->max_memory;
    cfg->max_tls_handshake = (size_t)o->max_tls_hs;
    cfg->tls_hold_records = (size_t)o->tls_hold_records;
    /* the report shows flagged sessions' lines */
    cfg->keep_transcript = o->verbose || o->report || o->db_transcripts;
}

bool mw_options_stdout(const mw_options *o)
{
    return !o->output_path || strcmp(o->output_path, "-") == 0;
}

unsigned mw_options_threads(const mw_options *o)
{
    if (o->threads >= 0)
        return (unsigned)o->threads;
    /* the cores (issue 18); the merge is bounded (--thread-hold, counted in --max-memory) */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1u : cores > MW_OPT_THREADS_MAX ? MW_OPT_THREADS_MAX : (unsigned)cores;
}

size_t mw_options_nfiles(const mw_options *o)
{
    return o->files ? g_strv_length(o->files) : 0;
}

void mw_options_free(mw_options *o)
{
    g_strfreev(o->files);
    g_strfreev(o->port_specs);
    g_free(o->output_path);
    g_free(o->report);
    g_free(o->save_dir);
    g_free(o->ca_file);
    g_strfreev(o->keylogs);
    g_free(o->iface);
    g_free(o->user);
    g_free(o->write_file);
    g_free(o->filter);
    g_strfreev(o->input_notes);
    g_free(o->sensor);
    g_free(o->db);
    g_free(o->db_spool);
    g_free(o->test_open);
    g_strfreev(o->maillogs);
    g_free(o->log_tz);
    g_free(o->rotate_size);
    g_free(o->rotate_interval);
    memset(o, 0, sizeof *o);
}

void mw_options_print_version(FILE *fp)
{
    fprintf(fp, "mailwire %s\n%s\n%s\nGLib %u.%u.%u\n", MW_VERSION, pcap_lib_version(),
            OpenSSL_version(OPENSSL_VERSION), glib_major_version, glib_minor_version,
            glib_micro_version);
}
