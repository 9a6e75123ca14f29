/* Server logs joined to captured sessions (issue 14): postfix, dovecot and Exchange logs are
 * read first (they are small) into an index of server-side sessions; each captured session is
 * looked up in it when it closes, before it is written. The server saw in clear what TLS hides
 * from the capture: its verdict becomes the session's flags, with the log line as evidence.
 *
 * Not thread-safe: every call on the thread that closes sessions (the engine's). */
#ifndef MW_MAILLOG_H
#define MW_MAILLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/session.h"

/* Default tolerance between the capture host's clock and the server's (--log-skew). */
#define MW_LOG_SKEW_DEFAULT_S 2
/* Longest --log-skew accepted, seconds. */
#define MW_LOG_SKEW_MAX_S 3600
/* Lines held per server-side session (the rest are counted) — the bound on pending lines
 * (--log-max-lines, per session). */
#define MW_LOG_MAX_LINES_DEFAULT 200
/* Server-side sessions held in the index at most (--log-max-sessions); beyond it new
 * ones are counted, not kept. */
#define MW_LOG_MAX_SESSIONS_DEFAULT 1000000
/* Lines of one server-side session written into a record (SPEC.md: at most 50). */
#define MW_LOG_RECORD_LINES 50
/* Longest log line read; longer ones are cut and counted. */
#define MW_LOG_LINE_MAX 8192

/* Live (-i): a closed captured session waits this long for its server's lines before it
 * is joined and written (--log-grace SECONDS). */
#define MW_LOG_GRACE_DEFAULT_MS 2000
#define MW_LOG_GRACE_MAX_S 600
/* Live: server-log lines held in all, every server-side session and queue id together
 * (--log-max-pending); lines over it are counted and said, not kept. */
#define MW_LOG_MAX_PENDING_DEFAULT 200000
/* Live: followed logs at most (each holds its directory open for the sandbox). */
#define MW_LOG_MAX_FOLLOWED 4

typedef struct mw_maillog mw_maillog;

typedef struct {
    const char *tz;          /* --log-tz, NULL: the machine's zone */
    int skew_s;              /* --log-skew */
    unsigned max_lines;      /* per server-side session */
    unsigned max_sessions;
} mw_maillog_opts;

/* NULL with *err when the zone is unknown. */
mw_maillog *mw_maillog_new(const mw_maillog_opts *o, char **err);
/* Read one log file (plain or gzip). False with *err when it cannot be opened or read;
 * lines that are not understood are counted, never fatal. */
bool mw_maillog_read(mw_maillog *m, const char *path, char **err);
/* Live: follow path like tail -F (live/follow.h): lines already in it when the run starts
 * are skipped (they are older than the capture), a file that appears later, is renamed
 * away or truncated is read from its start. grace_ms: --log-grace (0: joined at once);
 * max_pending: --log-max-pending (0: the default). False with *err when the directory cannot be opened. */
bool mw_maillog_follow(mw_maillog *m, const char *path, unsigned grace_ms,
                       uint64_t max_pending, char **err);
/* The followed logs' directories, for the sandbox's read-only allow-list. */
size_t mw_maillog_dir_fds(const mw_maillog *m, int *fds, size_t max);
/* Where joined sessions go (the writer): mw_maillog_take hands them on to it. */
typedef void (*mw_maillog_release_cb)(mw_session *s, void *user);
void mw_maillog_on_release(mw_maillog *m, mw_maillog_release_cb cb, void *user);
/* A closed session: reading files, joined and released at once; live, after the grace. */
void mw_maillog_take(mw_maillog *m, mw_session *s);
/* Live, on the capture loop's timer (monotonic now): read what the logs gained, release
 * the sessions whose grace is over, forget server-side sessions that ended long ago. */
void mw_maillog_tick(mw_maillog *m, int64_t now_us);
/* End of the run: a last read (an unfinished last line too), every waiting session
 * joined and released. */
void mw_maillog_drain(mw_maillog *m);
/* Look the closing session up; on a join, add flags, evidence, server_log and delivery. */
void mw_maillog_join(mw_maillog *m, mw_session *s);
/* The end-of-run paragraph: lines read, joins, measured skew, ambiguity, server-side
 * sessions without captured packets. */
void mw_maillog_summary(const mw_maillog *m, FILE *fp);
void mw_maillog_free(mw_maillog *m);

/* For the record writer: ,"server_log":{...} and ,"delivery":{...} when there is one. */
#include <glib.h>
void mw_server_log_json(GString *out, const mw_server_log *l);
/* A log evidence entry's frame (null) and its source, file and line. */
void mw_server_log_evidence(GString *out, const mw_evidence *ev);

#endif
