/* The session record: what one TCP connection of mail traffic did and what went wrong.
 *
 * Filled by the flow layer (addresses, times, counters) and by the dissectors (protocol
 * details, flags with evidence). Writers read it as const and keep nothing. Every string
 * in it came from the wire, was copied with a cap, and is escaped only on output. */
#ifndef MW_SESSION_H
#define MW_SESSION_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/flags.h"

/* Longest wire string kept in a record (reply text, address, user name). */
#define MW_MAX_TEXT 512
/* Evidence entries kept per flag; later occurrences are counted, not stored. */
#define MW_MAX_EVIDENCE_PER_FLAG 16
/* Error replies / failures kept per session. */
#define MW_MAX_REPLIES 256
/* Recipients kept per session. */
#define MW_MAX_RCPT 1024

typedef enum {
    MW_PROTO_UNKNOWN,
    MW_PROTO_SMTP,
    MW_PROTO_SUBMISSION,
    MW_PROTO_SMTPS,
    MW_PROTO_IMAP,
    MW_PROTO_IMAPS,
    MW_PROTO_POP3,
    MW_PROTO_POP3S,
} mw_proto;

typedef enum {
    MW_OUT_OK,
    MW_OUT_FAILED,
    MW_OUT_REJECTED,
    MW_OUT_INCOMPLETE,
    MW_OUT_ENCRYPTED,
} mw_outcome;

/* Direction of bytes: from the client, or from the server. */
typedef enum { MW_FROM_CLIENT = 0, MW_FROM_SERVER = 1 } mw_dir;

typedef enum {
    MW_CLOSE_NONE,      /* still open (end of capture) */
    MW_CLOSE_FIN,       /* orderly close */
    MW_CLOSE_RST,       /* reset */
    MW_CLOSE_IDLE,      /* idle timeout in packet time */
    MW_CLOSE_EVICTED,   /* pushed out by the live-session cap */
} mw_close_reason;

typedef struct {
    uint8_t family; /* 4 or 6 */
    uint8_t addr[16];
    uint16_t port;
} mw_endpoint;

typedef struct {
    mw_flag flag;
    uint64_t frame;
    int64_t ts_us;
    char *detail;
} mw_evidence;

typedef enum { MW_AUTH_UNKNOWN, MW_AUTH_SUCCESS, MW_AUTH_FAILURE } mw_auth_result;

typedef struct {
    char mechanism[32];
    char *user;         /* never a password or secret */
    mw_auth_result result;
    char code[16];      /* "535", "NO", "-ERR" */
} mw_auth_rec;

typedef struct {
    char *to;
    int code; /* 0: no reply seen */
} mw_rcpt;

/* One 4xx/5xx SMTP reply, or one IMAP NO/BAD, or one POP3 -ERR. */
typedef struct {
    char cmd[24];
    int code;            /* SMTP reply code; 0 for IMAP/POP3 */
    char status[8];      /* IMAP "NO"/"BAD", POP3 "-ERR" */
    char enhanced[32];   /* RFC 3463 code or IMAP/POP3 response code (RFC 5530, 2449) */
    const char *category;
    char *text;
    uint64_t frame;
    int64_t ts_us;
} mw_reply;

typedef struct {
    char *helo;
    char *mail_from;
    GArray *rcpt;       /* mw_rcpt */
    unsigned messages;  /* accepted messages */
    unsigned transactions;
    uint64_t message_bytes;
    GPtrArray *capabilities; /* EHLO keywords, owned strings */
    GArray *replies;    /* mw_reply, every 4xx/5xx */
} mw_smtp_rec;

/* IMAP and POP3: a count of commands and their failures. */
typedef struct {
    unsigned commands;
    GArray *failures; /* mw_reply */
} mw_cmd_rec;

typedef struct {
    bool present;
    char level[12];
    char description[40];
    mw_dir from;
} mw_tls_alert;

typedef struct {
    bool present;
    char *subject;
    char *issuer;
    GPtrArray *san;     /* owned strings */
    char not_before[40];
    char not_after[40];
    char sha256[65];
    bool self_signed;
    char key[32];       /* "RSA 2048", "EC 256" */
    char sig_alg[64];   /* "sha256WithRSAEncryption" */
} mw_tls_cert;

/* Free what a certificate description owns (subject, issuer, SAN list). */
void mw_tls_cert_clear(mw_tls_cert *c);

/* Keys for a TLS session (SPEC.md tls.keys): no key log was given; a key log was given
 * but holds no secret for the session's client random; a secret was found. */
typedef enum { MW_TLS_KEYS_NONE_GIVEN, MW_TLS_KEYS_MISSING, MW_TLS_KEYS_FOUND } mw_tls_keys;

/* Filled by the TLS dissector. */
typedef struct {
    GPtrArray *client_versions; /* static strings, e.g. "TLS1.3" */
    const char *version;        /* negotiated, static string, or NULL */
    char cipher[64];
    char *sni;
    char *alpn;
    mw_tls_alert alert;
    mw_tls_cert cert;
    char ja3[33];
    char ja3s[33];
    char ja4[48];
    bool handshake_done;
    const char *hello_version;  /* the ClientHello's legacy_version field */
    const char *record_version; /* the record-layer version the ClientHello came in */
    bool hello_retry;           /* the server sent a HelloRetryRequest */
    bool sslv2_hello;           /* the ClientHello was in SSLv2 format */
    uint64_t app_records[2], app_bytes[2]; /* application data, skipped by length */
    mw_tls_keys keys;
    bool decrypted;             /* records of the session were decrypted with a key log */
    uint64_t decrypt_failed_frame[2]; /* tls_decrypt_failed: the record's end, by mw_dir; 0: none */
    uint64_t decrypted_records[2];
    int64_t last_record_us[2]; /* when each side's last record was seen (0: none) */
} mw_tls_rec;

/* Protocol anomalies worth a line in the record but not a finding of SPEC.md. */
typedef enum {
    MW_ANOM_LINE_TOO_LONG,   /* a line over --max-line was discarded */
    MW_ANOM_TOO_MANY_PENDING, /* more commands awaiting replies than are tracked */
    MW_ANOM_OOO_OVERFLOW,    /* out-of-order bytes over --max-ooo-bytes were given up */
    MW_ANOM_PAYLOAD_CUT,     /* packets cut by the capture's snaplen */
    MW_ANOM_TLS_MALFORMED,   /* a TLS record or handshake message that does not parse */
    MW_ANOM_BAD_LITERAL,     /* an IMAP literal count that is malformed or beyond any limit */
    MW_ANOM_COMPRESSED,      /* IMAP COMPRESS=DEFLATE: the rest is compressed, not parsed */
    MW_ANOM_TLS_DECRYPT_FAILED, /* a TLS record failed its tag/MAC check with the logged keys */
    MW_ANOM_COUNT
} mw_anomaly;

/* Transcript events kept per session (for -v and the report); later ones are counted. */
#define MW_MAX_TRANSCRIPT 400

/* One line of the protocol-aware transcript: a command, a reply, a TLS or body summary.
 * Text is redacted before it is stored: never a password, token or SASL response. */
typedef struct {
    int64_t ts_us;
    uint64_t frame;
    mw_dir dir;
    int64_t latency_us; /* for a reply: time since the command it answers; -1 otherwise */
    char *text;
} mw_event;

/* Reply latency: how long the server took to answer the client's commands. */
typedef struct {
    unsigned timed;          /* commands whose reply was seen */
    int64_t total_us;
    int64_t slowest_us;
    char slowest_cmd[24];
    uint64_t slowest_frame;  /* the reply's packet */
} mw_latency;

typedef struct mw_session {
    char id[24];
    int64_t ts_start_us, ts_end_us;
    mw_endpoint client, server;
    char community_id[40];
    mw_proto protocol;
    bool starttls;
    bool encrypted;      /* content after some point hidden by TLS */
    mw_tls_rec *tls;
    mw_auth_rec *auth;
    mw_outcome outcome;
    mw_flagset flags;
    uint32_t anomalies;  /* bit set of mw_anomaly */
    GArray *evidence;    /* mw_evidence */
    unsigned evidence_count[MW_FLAG_COUNT];
    uint64_t packets[2], bytes[2];
    mw_latency latency;
    GArray *transcript;      /* mw_event; NULL unless the run keeps transcripts */
    unsigned transcript_dropped;

    /* protocol details: the one matching `protocol` is set */
    mw_smtp_rec *smtp;
    mw_cmd_rec *imap;
    mw_cmd_rec *pop3;

    /* what the session's end looked like, for the outcome */
    mw_close_reason close_reason;
    bool syn_seen, synack_seen;
    int64_t fin_ts_us[2];  /* when each side sent FIN (0: not seen), by mw_dir */
    uint64_t fin_frame[2]; /* ...and in which packet */
    int64_t idle_at_end_us; /* still open when the input ended: silent for this long (-1: n/a) */
    bool greeted;        /* the server's greeting was seen */
    bool quit_seen;      /* orderly protocol goodbye (QUIT/LOGOUT answered) */
    uint64_t first_frame;
    const char *input;   /* the input it started in (core/identity.h), interned */
    char *decisive;      /* the line that best explains the outcome, for the text summary */
} mw_session;

mw_session *mw_session_new(uint64_t seq_no);
/* Fill community_id from the endpoints (when the session is written). */
void mw_session_community_id(mw_session *s);
void mw_session_free(mw_session *s);

/* Raise a flag with its evidence; detail is formatted and capped. */
void mw_session_flag(mw_session *s, mw_flag f, uint64_t frame, int64_t ts_us, const char *fmt,
                     ...) G_GNUC_PRINTF(5, 6);
static inline bool mw_session_has(const mw_session *s, mw_flag f)
{
    return (s->flags >> f) & 1u;
}
static inline void mw_session_anomaly(mw_session *s, mw_anomaly a)
{
    s->anomalies |= 1u << a;
}
const char *mw_anomaly_name(mw_anomaly a);
void mw_session_set_decisive(mw_session *s, const char *line, size_t len);

/* Keep a transcript for this session (set by the engine when -v or --report asks). */
void mw_session_keep_transcript(mw_session *s);
/* Add a transcript line (no-op when transcripts are off). The caller redacts. */
void mw_session_event(mw_session *s, mw_dir dir, uint64_t frame, int64_t ts_us,
                      int64_t latency_us, const char *fmt, ...) G_GNUC_PRINTF(6, 7);
/* A reply to `cmd` (sent at cmd_ts_us) arrived at reply_ts_us in `frame`. */
void mw_session_latency(mw_session *s, const char *cmd, int64_t cmd_ts_us, int64_t reply_ts_us,
                        uint64_t frame);

mw_auth_rec *mw_session_auth(mw_session *s);
mw_smtp_rec *mw_session_smtp(mw_session *s);
mw_cmd_rec *mw_session_cmdrec(mw_session *s, mw_proto p);
mw_tls_rec *mw_session_tls(mw_session *s);

/* Decide the outcome from flags and how the session ended. */
void mw_session_finish(mw_session *s);

const char *mw_proto_name(mw_proto p);
const char *mw_outcome_name(mw_outcome o);

/* Copy at most cap bytes of wire text, trimming a trailing CR/LF. */
char *mw_wire_strdup(const uint8_t *p, size_t len, size_t cap);

#endif
