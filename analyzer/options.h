/* The command line: every option mailwire takes, parsed and checked in one place.
 * The run itself (main.c) only reads the result. */
#ifndef MW_OPTIONS_H
#define MW_OPTIONS_H

#include <glib.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"

/* The range of each numeric option; outside it the run stops with one line. */
#define MW_OPT_MAX_LINE_MAX (16 * 1024 * 1024)        /* --max-line, bytes */
#define MW_OPT_MAX_OOO_MAX (1024LL * 1024 * 1024)     /* --max-ooo-bytes */
#define MW_OPT_MAX_FLOWS_MAX 100000000LL              /* --max-flows */
#define MW_OPT_IDLE_MAX (10LL * 365 * 24 * 3600)      /* --idle-timeout: ten years */
#define MW_OPT_BUFFER_MB_MAX 2047                     /* --buffer-size: pcap takes an int of bytes */
#define MW_OPT_STATS_MAX (24 * 3600)                  /* --stats, seconds */
#define MW_OPT_COUNT_MAX 2147483647LL                 /* -c */
#define MW_OPT_FRAG_DATAGRAMS_MAX 10000000LL          /* --max-frag-datagrams */
#define MW_OPT_FRAG_BYTES_MAX (16LL * 1024 * 1024 * 1024) /* --max-frag-bytes */
#define MW_OPT_FRAG_TIMEOUT_MAX 3600LL                /* --frag-timeout, seconds */
#define MW_OPT_MAX_MEMORY_MIN (1LL * 1024 * 1024)     /* --max-memory, bytes */
#define MW_OPT_MAX_MEMORY_MAX (1LL << 50)
#define MW_OPT_TLS_HS_MIN (16LL * 1024)              /* --max-tls-handshake, bytes */
#define MW_OPT_TLS_HS_MAX (16LL * 1024 * 1024)       /* TLS's own limit: 2^24 - 1 */
#define MW_OPT_BDAT_CHUNK_MAX 4294967295LL            /* --max-bdat-chunk, bytes (< 2^32) */
#define MW_OPT_LOG_MAX_LINES_MAX 1000000              /* --log-max-lines, per session */
#define MW_OPT_TLS_HOLD_MAX 1024                      /* --tls-hold-records, per direction */
#define MW_OPT_LOG_MAX_SESSIONS_MAX 100000000LL       /* --log-max-sessions */
#define MW_OPT_LOG_MAX_PENDING_MAX 100000000LL        /* --log-max-pending, lines */

/* Fields keep GLib's types (gboolean, gint) because GOptionEntry writes them directly. */
typedef struct mw_options {
    gchar **files;          /* -r FILE, repeatable, and the captures after the options,
                             * directories expanded; NULL when none */
    gchar **port_specs;     /* --ports PROTO=PORT,... */
    gchar *output_path;     /* -o FILE */
    gchar *report;          /* --report FILE */
    gchar *save_dir;        /* --save-flagged DIR */
    gchar *ca_file;         /* --ca-file FILE */
    gchar **keylogs;        /* --keylog FILE, repeatable; NULL when none */
    gchar *iface;           /* -i IFACE */
    gchar *user;            /* -Z USER */
    gchar *write_file;      /* -w FILE */
    gchar *filter;          /* the words after the options (and the captures), joined: a
                             * BPF filter, live or on files */
    gchar **input_notes;    /* -r DIR: what was skipped in each, a line each (for stderr) */
    gboolean promisc, json, quiet, verbose, version;
    gboolean local_time;    /* --local-time: text times in the local time zone */
    gint buffer_mb, stats_interval;
    gint workers;           /* --workers N: live capture sockets and analysis threads */
    gint64 max_line, max_ooo, max_flows, idle;
    gint64 max_frag_datagrams, max_frag_bytes, frag_timeout, max_memory; /* 0: no --max-memory */
    gint64 max_bdat_chunk;  /* --max-bdat-chunk */
    gint64 count;           /* -c: stop after this many packets; 0: all */
    gint64 max_tls_hs;      /* --max-tls-handshake */
    gboolean no_sandbox;    /* --no-sandbox */
    gchar **maillogs;       /* --maillog FILE, repeatable (issue 14) */
    gchar *log_tz;          /* --log-tz ZONE; NULL: the machine's */
    gint log_skew;          /* --log-skew SECONDS */
    gint64 log_max_lines, log_max_sessions;
    gdouble log_grace;      /* live: --log-grace SECONDS */
    gint64 log_max_pending; /* live: --log-max-pending LINES */
    gchar *rotate_size, *rotate_interval; /* --rotate-size SIZE, --rotate-interval DURATION */
    gint64 rotate_bytes, rotate_interval_us;  /* ... parsed; 0: none */
    gint64 tls_hold_records; /* --tls-hold-records N */
    gchar *test_open;       /* hidden, for tests: try to open this file once sandboxed */
    /* the session store (store/store.h) and the record's sensor name */
    gchar *sensor, *db, *db_spool;
    gint db_batch, db_interval_ms, db_spool_mb;
    gdouble db_retry;
    gboolean db_transcripts;
    gint threads;           /* --threads N: analysis threads for files; -1: not given (the
                             * cores); 0: read
                             * and dispatch only (parallel/parallel.h) */
    gboolean thread_stats;  /* --thread-stats: segments per analysis thread, on stderr */
    gint thread_hold;       /* --thread-hold N: records a thread may have waiting in the merge */
} mw_options;

/* Parse and check argv. On failure returns false with *err, one line (g_free it); the
 * options are then freed already. */
bool mw_options_parse(int argc, char **argv, mw_options *o, char **err);

/* The engine settings the options describe. */
void mw_options_config(const mw_options *o, mw_config *cfg);

/* Records go to standard output: no -o, or -o -. */
bool mw_options_stdout(const mw_options *o);

/* --threads: the analysis threads to run (the cores online when not given), at most
 * MW_OPT_THREADS_MAX. */
#define MW_OPT_THREADS_MAX 64
unsigned mw_options_threads(const mw_options *o);
/* --thread-hold: at most this many records (parallel/parallel.h, MW_PARALLEL_HOLD). */
#define MW_OPT_THREAD_HOLD_MAX (1 << 24)

/* Number of -r files. */
size_t mw_options_nfiles(const mw_options *o);

void mw_options_free(mw_options *o);

/* --version: mailwire's version, then the libpcap, OpenSSL and GLib it runs with. */
void mw_options_print_version(FILE *fp);

#endif
