/* Inside the server-log reader: one parsed line, the time it carries, and the calls between
 * the reader (log_read.c), the format detection (log_line.c), the per-server tables
 * (log_postfix.c, log_dovecot.c, log_exchange.c) and the index (log_index.c). */
#ifndef MW_MAILLOG_INT_H
#define MW_MAILLOG_INT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/flags.h"
#include "maillog/maillog.h"

typedef enum {
    MW_LF_UNKNOWN,
    MW_LF_RFC3164,      /* "Dec  1 07:55:10 host prog[pid]: msg", postfix's maillog_file too */
    MW_LF_DOVECOT,      /* dovecot log_path: "Dec 01 09:33:47 imap-login: Info: msg" */
    MW_LF_RFC5424,      /* "<22>1 2026-12-01T09:33:05.1+01:00 host app pid msgid - msg" */
    MW_LF_ISO,          /* rsyslog ISO 8601, journalctl -o short-iso-precise */
    MW_LF_JOURNAL_JSON, /* journalctl -o json */
    MW_LF_EXCHANGE,     /* Exchange SMTP receive protocol log (CSV) */
    MW_LF_COUNT
} mw_logfmt;

const char *mw_logfmt_name(mw_logfmt f);

/* A log time: absolute when the line had a year and a zone offset; else the wall clock in
 * --log-tz, resolved once the capture's year is known (RFC 3164 has no year). */
typedef struct {
    int64_t abs_us;  /* valid unless yearless or zoneless */
    bool yearless;   /* month/day/time only */
    bool zoneless;   /* a year, but no offset: wall clock in --log-tz */
    int16_t year;
    int8_t mon, day, hour, min, sec;
    int32_t usec;
} mw_logtime;

/* One line, split. Strings point into the line or into buf. */
typedef struct {
    mw_logfmt fmt;
    mw_logtime t;
    char prog[128];       /* "postfix/submission/smtpd", "imap-login", "auth" */
    long pid;             /* -1 when none */
    const char *msg;
    size_t msg_len;
    /* Exchange protocol log fields */
    char connector[128], session[64], local[64], remote[64], event[8];
    char buf[MW_LOG_LINE_MAX + 1];
} mw_logline;

/* Parse one line (without its newline). False: not a format we know. The parser reads no
 * byte past len; the tables read msg as a C string, so the reader NUL-terminates lines. */
bool mw_logline_parse(const char *line, size_t len, mw_logline *out);

/* An RFC 3339 time stamp alone (Exchange's date-time field). */
bool mw_log_iso_stamp(const char *s, mw_logtime *t);
/* The formats that are not one syslog line (log_fields.c). */
bool mw_log_journal_json(const char *line, const char *end, mw_logline *o);
bool mw_log_exchange_csv(const char *line, const char *end, mw_logline *o);

/* Redact secrets in place (password=, pass=, resp=, given password, AUTH blobs): the line
 * may shrink, never grow. Returns the new length. */
size_t mw_log_redact(char *line, size_t len);

/* ---- the index the tables fill (log_index.c) ---- */

typedef enum { MW_SRV_SMTP, MW_SRV_IMAP, MW_SRV_POP3 } mw_srv_kind;

typedef struct mw_logidx mw_logidx;
typedef struct mw_logsess mw_logsess;

/* Where the current line is: the tables pass it back with each call. */
typedef struct {
    uint32_t file;
    uint64_t line;
    const mw_logtime *t;
    const char *text;  /* the redacted line as read */
} mw_logpos;

/* A server-side session by key (postfix "prog[pid]", dovecot session=<id>, Exchange
 * connector+session id); create makes a new one (closing any open one with that key). */
mw_logsess *mw_logidx_open(mw_logidx *x, const char *key, mw_srv_kind kind, bool create,
                           const mw_logpos *pos);
void mw_logsess_close(mw_logidx *x, mw_logsess *ls, const char *key);
void mw_logsess_client(mw_logsess *ls, const char *ip, int port);
void mw_logsess_server(mw_logsess *ls, const char *ip, int port);
/* The session began this many seconds before pos (dovecot: "in 2 secs"). */
void mw_logsess_began_before(mw_logsess *ls, const mw_logpos *pos, int secs);
/* Keep the line; flag >= 0 makes it a verdict with detail (decisive lines first). */
void mw_logsess_line(mw_logidx *x, mw_logsess *ls, const mw_logpos *pos, int flag,
                     const char *detail);
/* postfix queue ids: this session handed the message to the queue; its delivery. */
void mw_logidx_qid_owner(mw_logidx *x, const char *qid, mw_logsess *ls);
void mw_logidx_qid_line(mw_logidx *x, const char *qid, const mw_logpos *pos, int flag,
                        const char *detail);
void mw_logidx_delivery(mw_logidx *x, const char *qid, const mw_logpos *pos,
                        const char *status, const char *relay, const char *dsn,
                        const char *text);

/* The tables: true when the line was theirs (known), false for lines they skip. */
bool mw_log_postfix(mw_logidx *x, const mw_logline *l, const mw_logpos *pos);
bool mw_log_dovecot(mw_logidx *x, const mw_logline *l, const mw_logpos *pos);
bool mw_log_exchange(mw_logidx *x, const mw_logline *l, const mw_logpos *pos);

/* The flag an SMTP refusal means (SPEC.md), for the command it answered: "RCPT", "MAIL",
 * "DATA", "END-OF-MESSAGE", "AUTH", "STARTTLS"...; -1 when none. */
int mw_log_smtp_reply_flag(const char *cmd, int code, const char *enhanced, const char *text);

/* Helpers for the tables: "host[ip]:port" or "host[ip]" at p → ip and port (-1). */
bool mw_log_client_at(const char *p, char *ip, size_t ipcap, int *port);
/* "1.2.3.4:25", "[v6]:25", "v6:port" (Exchange) → ip and port. */
bool mw_log_endpoint(const char *p, char *ip, size_t ipcap, int *port);

#endif

/* ---- what the index holds (log_index.c, read by log_join.c) ---- */

typedef struct {
    uint32_t file;
    uint64_t line;
    mw_logtime t;
    int64_t ts_us;   /* resolved */
    char *text;
    int flag;        /* a verdict line: the flag (else -1) and its detail */
    char *detail;
} mw_logref_int;

struct mw_logsess {
    mw_srv_kind kind;
    char client_ip[48], server_ip[48];
    int client_port, server_port; /* -1: not logged */
    mw_logtime t0, t1;            /* first and last line */
    int began_secs;               /* the session began this long before began_t */
    mw_logtime began_t;
    bool clean;                   /* the server logged a clean end (no failed command) */
    int64_t start_us, end_us;     /* resolved */
    GArray *lines;                /* mw_logref_int */
    unsigned dropped;             /* lines over the cap */
    GPtrArray *qids;              /* queue ids it handed over (owned) */
    char *label;                  /* "postfix/smtpd[123]", "imap-login session=<...>" */
    bool open, taken, ambiguous;
    char cmd[24];                 /* Exchange: the last client command, for its reply */
    bool sasl;                    /* Exchange: a 334 came last, a SASL response follows */
    /* the join's bookkeeping: touched since the join last looked (times to resolve again),
     * in the by-address index, the year its yearless times are in */
    bool touched, indexed, year_set;
    int year;
    int64_t seen_us;              /* live: when its last line was read (monotonic) */
    unsigned held;                /* lines it and its queue ids hold (live cap) */
};

typedef struct {
    mw_logsess *owner;
    GArray *lines;   /* mw_logref_int: the queue id's verdicts and delivery lines */
    int rank;        /* worst delivery so far: 0 none, 1 sent, 2 deferred, 3 bounced */
    char *status, *relay, *dsn, *text;
} mw_qidrec;

struct mw_logidx {
    GPtrArray *sessions;   /* mw_logsess*, in order of their first line */
    GHashTable *open;      /* key → mw_logsess* (borrowed) */
    GHashTable *qids;      /* queue id → mw_qidrec* */
    GPtrArray *files;      /* file names, by index */
    unsigned max_lines, max_sessions;
    uint64_t sessions_dropped, lines_dropped;
    GPtrArray *touched;    /* mw_logsess* changed since the join last looked, in order */
    /* live: lines held in all (every session and queue id) and the cap on them
     * (--log-max-pending; 0: none, reading files); lines over it, counted */
    uint64_t held, max_held, pending_dropped;
    int64_t now_us;        /* live: the time lines are read at (monotonic), for seen_us */
};

struct mw_maillog {
    mw_logidx x;
    GTimeZone *tz;
    int64_t skew_us;
    uint64_t lines, unknown, known, cut, by_fmt[MW_LF_COUNT];
    bool resolved;
    GHashTable *by_ip;     /* client ip → GPtrArray of mw_logsess* (after resolving) */
    /* join results */
    uint64_t joined_port, joined_time, ambiguous, looked_up;
    GArray *skews;         /* int64_t us, one per joined session */
    int64_t cap_first_us, cap_last_us; /* the captured sessions' span */
    int64_t ref_us;        /* the first captured session's start: the year of RFC 3164 */
    int ref_year;
    struct mw_maillog_live *live; /* -i: the followed logs and the grace queue (live/) */
    mw_maillog_release_cb release; /* where joined sessions go (mw_maillog_take) */
    void *release_user;
};

/* One line read (NUL-terminated, without its newline, writable), file and number as the
 * positions record them: the one path from a log line into the index (log_read.c). */
void mw_maillog_line(mw_maillog *m, char *line, size_t len, uint32_t file, uint64_t no);
/* Live: forget closed server-side sessions last seen before keep_before (monotonic), open
 * ones before open_before; their lines and queue ids go too (log_index.c). Returns how
 * many went. */
unsigned mw_logidx_evict(mw_logidx *x, int64_t keep_before, int64_t open_before);
/* Live: the followers' and the grace queue's paragraph of the summary (live/log_live.c). */
void mw_maillog_live_summary(const mw_maillog *m, FILE *fp);
void mw_maillog_live_free(mw_maillog *m);
/* Live, before the summary: what the join has not looked at yet, resolved and indexed. */
void mw_maillog_index(mw_maillog *m);
/* The join's index by client address, built again after an eviction (log_join.c). */
void mw_maillog_reindex(mw_maillog *m);

void mw_logidx_init(mw_logidx *x, unsigned max_lines, unsigned max_sessions);
void mw_logidx_clear(mw_logidx *x);
