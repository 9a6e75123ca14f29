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
#include <string.h>

#include "core/arena.h"
#include "core/flags.h"

/* Longest wire string kept in a record (reply text, address, user name). */
#define MW_MAX_TEXT 512
/* Evidence entries kept per flag; later occurrences are counted, not stored. */
#define MW_MAX_EVIDENCE_PER_FLAG 16
/* Evidence entries a session's array has room for at its first flag (most raise one or two). */
#define MW_EVIDENCE_USUAL 4
/* The bytes of a session's arena made with its rare part (mw_session_more), in the same
 * block: a usual session's strings and small records fit (capabilities, envelope, auth,
 * evidence and its texts, the TLS record's 728 bytes); one that keeps more gets chunks of
 * its own. 1024 sent a TLS session with a few strings to a chunk of its own; the block is
 * reused (MW_SESSION_SPARES) with only its head zeroed, so its size costs nothing more. */
#define MW_SESSION_ARENA_INLINE 1536u
/* Freed records (and rare parts with the arena's room) kept per thread for the next ones:
 * the writer hands written records back in batches of at least its grab (256, output/
 * writer.c), which a smaller list would mostly free (64 kept gained nothing); at most some
 * 1 MB a thread. */
#define MW_SESSION_SPARES 512u

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
    MW_CLOSE_REUSED,    /* its 4-tuple was reused by a new connection (a new SYN) */
} mw_close_reason;

typedef struct {
    uint8_t family; /* 4 or 6 */
    uint8_t addr[16];
    uint16_t port;
} mw_endpoint;

/* Its texts are in the session's arena (mw_session_strndup): never g_free them. */
typedef struct {
    mw_flag flag;
    uint64_t frame;
    int64_t ts_us;
    char *detail;
    char *log_file;     /* evidence from a joined server log (frame 0): its file and line */
    uint64_t log_line;
    unsigned tx;        /* the protocol's 1-based transaction it came from (SMTP); 0: none */
    const char *input;  /* the packet's input, when the run has several; NULL: not said */
    const char *iface;  /* its pcapng interface, when its file has several; NULL: not said */
} mw_evidence;

/* One joined server-log line (redacted before it was kept). */
typedef struct {
    char *file;
    uint64_t line;
    int64_t ts_us;
    char *text;
} mw_log_ref;

/* What a joined server log said about the session (issue 14): record keys server_log and
 * delivery. Filled by analyzer/maillog when the session closes. */
typedef struct {
    GPtrArray *files;        /* owned names */
    const char *matched_by;  /* "port", "time"; NULL: refused (ambiguous) */
    unsigned candidates;     /* server-side sessions that matched when refused */
    GArray *lines;           /* mw_log_ref, decisive first */
    unsigned lines_dropped;
    GPtrArray *corroborated; /* static flag names the capture already showed */
    int64_t skew_us;         /* log time minus capture time at the session's start */
    char *queue_id, *status, *relay, *dsn, *text; /* delivery; queue_id NULL: none */
} mw_server_log;

typedef enum { MW_AUTH_UNKNOWN, MW_AUTH_SUCCESS, MW_AUTH_FAILURE } mw_auth_result;

typedef struct {
    char mechanism[32];
    char *user;         /* never a password or secret */
    mw_auth_result result;
    char code[16];      /* "535", "NO", "-ERR" */
} mw_auth_rec;

/* A protocol's part of the record (SMTP's envelope, IMAP's commands, the TLS handshake):
 * made, filled and read only in its dissector's folder (dissectors/<proto>/<proto>_log.c);
 * the rest of the program reaches it through the hooks of its owner's table
 * (mw_dissector.write_json / write_text, registry.h). free_record is the owner's hook,
 * kept here so that the record can be freed without knowing the dissectors. */
struct mw_dissector;
typedef struct {
    void *rec;                        /* NULL: no such part */
    const struct mw_dissector *owner;
    void (*free_record)(void *rec);
} mw_part;

/* Protocol anomalies worth a line in the record but not a finding of SPEC.md. */
typedef enum {
    MW_ANOM_LINE_TOO_LONG,   /* a line over --max-line was discarded */
    MW_ANOM_TOO_MANY_PENDING, /* more commands awaiting replies than are tracked */
    MW_ANOM_OOO_OVERFLOW,    /* out-of-order bytes over --max-ooo-bytes were given up */
    MW_ANOM_PAYLOAD_CUT,     /* packets cut by the capture's snaplen */
    MW_ANOM_TLS_MALFORMED,   /* a TLS record or handshake message that does not parse */
    MW_ANOM_BAD_LITERAL,     /* an IMAP literal count that is malformed or beyond any limit */
    MW_ANOM_COMPRESSED,      /* IMAP COMPRESS=DEFLATE: the rest is compressed, not parsed */
    MW_ANOM_FRAG_OVERLAP,    /* IP fragments overlapped with differing bytes (first kept) */
    MW_ANOM_CONTINUES_EVICTED, /* the rest of a flow whose session was evicted (`continues`) */
    MW_ANOM_TLS_DECRYPT_FAILED, /* a TLS record failed its tag/MAC check with the logged keys */
    MW_ANOM_SEGMENT_OVERLAP, /* TCP segments overlapped with differing bytes (first kept) */
    MW_ANOM_TIME_BACKWARDS,  /* a packet's timestamp is earlier than the session's before */
    MW_ANOM_STARTTLS_NOT_USED, /* the server agreed to STARTTLS/STLS; the client went on in clear */
    MW_ANOM_BAD_BDAT,        /* an SMTP BDAT line that is not "BDAT <size> [LAST]" (RFC 3030),
                              * or announces a chunk over --max-bdat-chunk: no chunk taken */
    MW_ANOM_INVALID_REPLY,   /* an SMTP reply line without a reply code, kept as the reply */
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

/* The parts of a record that most live flows never need (issue 12: what an open flow
 * costs): set at a FIN, a reply, the close or the output. Made on first write
 * (mw_session_more); read through mw_session_more_get, which gives the defaults while none
 * was made. */
typedef struct {
    char community_id[40];
    mw_latency latency;
    int64_t fin_ts_us[2];  /* when each side sent FIN (0: not seen), by mw_dir */
    uint64_t fin_frame[2]; /* ...and in which packet */
    int64_t idle_at_end_us; /* still open when the input ended: silent for this long (-1: n/a) */
    /* The flow's earlier record was evicted (--max-flows, --max-memory): its id, and this
     * record is the rest of the flow (anomaly continues_evicted). Empty otherwise. */
    char continues[24];
    /* What lives exactly as long as the record and is written once (`auth`, EHLO
     * capabilities): freed with it in one go (core/arena.h). Here, not in mw_session: a
     * live flow's record stays at its size (hostile.py's per-flow budget). */
    mw_arena arena;
    /* analysis in parallel (engine/flow.h mw_engine_index): the index of its latest packet,
     * which orders closes across threads; 0 with one thread (kept here, not in mw_session:
     * 8 more bytes put every record in the next malloc size class) */
    uint64_t last_index;
} mw_session_more;

/* Fields are ordered to leave no holes (issue 12: a flow that has shown one segment costs
 * well under 1 KB, and this record is part of it). */
typedef struct mw_session {
    char id[24];
    int64_t ts_start_us, ts_end_us;
    mw_endpoint client, server;
    mw_proto protocol;
    bool starttls;
    bool encrypted;      /* content after some point hidden by TLS */
    bool syn_seen, synack_seen; /* how the connection began (with the end, below) */
    bool greeted;        /* the server's greeting was seen */
    bool quit_seen;      /* orderly protocol goodbye (QUIT/LOGOUT answered) */
    bool broken;         /* the dialogue broke down in a way no flag names (an anomaly does:
                          * mw_anomaly_diagnosis): the outcome is failed, never ok */
    bool auth_offered;   /* set from a stored record (store_record.c): the server offered
                          * AUTH, which mw_conn_advice otherwise reads from the SMTP part */
    mw_outcome outcome;
    mw_close_reason close_reason; /* what the session's end looked like, for the outcome */
    uint32_t anomalies;  /* bit set of mw_anomaly */
    mw_part tls;         /* the TLS dissector's part: beside the mail part (STARTTLS has both) */
    mw_auth_rec *auth;
    mw_flagset flags;
    unsigned transcript_dropped; /* (with transcript, below) */
    mw_avec *evidence;   /* mw_evidence, in the arena (g_array_index reads it as a GArray);
                          * NULL until the first flag (mw_session_finish gives a record
                          * without one an empty list shared by all such records, so that
                          * a finished record always has it: read it, never write to it but
                          * through mw_session_flag / mw_session_flag_log) */
    /* occurrences of each flag, saturating at 255: only "over MW_MAX_EVIDENCE_PER_FLAG" is
     * ever read */
    uint8_t evidence_count[MW_FLAG_COUNT];
    uint64_t packets[2], bytes[2];
    GArray *transcript;      /* mw_event; NULL unless the run keeps transcripts */

    /* the mail protocol's part (SMTP, IMAP or POP3), owned by its dissector */
    mw_part mail;

    uint64_t first_frame;
    mw_session_more *more; /* NULL until one of its fields is set */
    const char *input;   /* the input it started in (core/identity.h), interned */
    char *decisive;      /* the line that best explains the outcome, for the text summary */
    mw_server_log *server_log; /* --maillog: NULL unless a server log was looked up */
} mw_session;

/* The session's rarely used part, made now if it was not. */
mw_session_more *mw_session_more_of(mw_session *s);
/* The session's arena (in its rare part): for what lives exactly as long as the record and
 * is written once — bounded in number by a cap, never replaced (core/arena.h). */
mw_arena *mw_session_arena(mw_session *s);
/* A NUL-terminated copy of len bytes at p in the session's arena (never g_free it). */
char *mw_session_strndup(mw_session *s, const char *p, size_t len);
/* ...for reading: the defaults (nothing set, idle_at_end_us -1) while none was made. */
const mw_session_more *mw_session_more_get(const mw_session *s);

mw_session *mw_session_new(uint64_t seq_no);
/* Fill community_id from the endpoints (when the session is written). */
void mw_session_community_id(mw_session *s);
void mw_session_free(mw_session *s);

/* Raise a flag with its evidence; detail is formatted and capped. */
void mw_session_flag(mw_session *s, mw_flag f, uint64_t frame, int64_t ts_us, const char *fmt,
                     ...) G_GNUC_PRINTF(5, 6);
/* The same with a ready detail (capped, not formatted). */
void mw_session_flag_text(mw_session *s, mw_flag f, uint64_t frame, int64_t ts_us,
                          const char *detail);
/* The same with the detail's length known (at most MW_MAX_TEXT of it is kept; no strlen). */
void mw_session_flag_textn(mw_session *s, mw_flag f, uint64_t frame, int64_t ts_us,
                           const char *detail, size_t len);
/* Name the transaction (1-based) the latest evidence of flag f came from. */
void mw_session_evidence_tx(mw_session *s, mw_flag f, unsigned tx);
/* g_strlcpy without its return value: src (NUL-terminated) into dst of size bytes (> 0),
 * cut to fit. By length, not g_strlcpy's byte loop: the record's short names and codes
 * (a command, a reply code, the slowest command) are copied for every reply. */
static inline void mw_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static inline bool mw_session_has(const mw_session *s, mw_flag f)
{
    return (s->flags >> f) & 1u;
}
static inline void mw_session_anomaly(mw_session *s, mw_anomaly a)
{
    s->anomalies |= 1u << a;
}
const char *mw_anomaly_name(mw_anomaly a);
/* Raise a flag from a joined server-log line (evidence frame null, source "log"). */
void mw_session_flag_log(mw_session *s, mw_flag f, const char *file, uint64_t line,
                         int64_t ts_us, const char *detail);
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

/* Give the part its record, owned by `owner` (freed with free_record). */
void mw_part_set(mw_part *p, const struct mw_dissector *owner, void *rec,
                 void (*free_record)(void *rec));

/* Decide the outcome from flags and how the session ended. */
void mw_session_finish(mw_session *s);

const char *mw_proto_name(mw_proto p);
/* What an anomaly that can break a session down (mw_session.broken) means and what to do,
 * in plain words; NULL for the others (oddities that leave the dialogue going). */
const char *mw_anomaly_diagnosis(mw_anomaly a);
const char *mw_outcome_name(mw_outcome o);

/* Copy at most cap bytes of wire text, trimming a trailing CR/LF. */
char *mw_wire_strdup(const uint8_t *p, size_t len, size_t cap);
/* The same copy in the session's arena, for a string kept until the record is freed and
 * never replaced (freed with the record: never g_free it). */
char *mw_session_wire_strdup(mw_session *s, const uint8_t *p, size_t len, size_t cap);
/* The bytes mw_wire_strdup would keep of p: len less a trailing CR/LF, at most cap. */
size_t mw_wire_len(const uint8_t *p, size_t len, size_t cap);

#endif
