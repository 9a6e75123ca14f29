/* Pieces shared by the IMAP and POP3 dissectors (and open to SMTP): the table of
 * commands awaiting a reply, verb lookup by name table, bracketed response codes
 * (RFC 5530 for IMAP, RFC 2449 section 8 for POP3), failure records, the login
 * record, wording tests, the dot-terminated multi-line skipper and the end-of-session
 * judgements (no_greeting, unanswered_command). */
#ifndef MW_TEXTPROTO_H
#define MW_TEXTPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "text/reply_log.h"
#include "text/sasl.h"

/* Longest IMAP tag kept for matching; longer tags are compared on this prefix. */
#define MW_TP_TAG_MAX 32
/* Longest command name kept ("UID FETCH"). */
#define MW_TP_NAME_MAX 24

/* One command awaiting its reply. */
typedef struct {
    char tag[MW_TP_TAG_MAX];   /* IMAP tag; "" for POP3 */
    char name[MW_TP_NAME_MAX]; /* as shown in failures: "LOGIN", "UID FETCH" */
    int kind;                  /* the dissector's own command enum */
    bool has_arg;              /* the command had an argument (POP3 LIST/UIDL) */
    bool exempt;               /* never judged unanswered (LOGOUT, QUIT, IDLE, after a gap) */
    bool tls_flagged;          /* tls_required already raised for this login attempt */
    bool last;                 /* SMTP: BDAT ... LAST */
    unsigned aux;              /* the dissector's own number (SMTP: 1-based recipient index) */
    unsigned tx;               /* SMTP: the 1-based transaction it belongs to; 0: none */
    uint64_t end_off;          /* client stream offset just after the command (ACK check) */
    uint64_t frame;
    int64_t ts_us;
} mw_tp_cmd;

/* Bounded table of commands in flight, oldest first. */
typedef struct {
    mw_tp_cmd *q;          /* ring of cap entries, grown on demand */
    unsigned cap, head, count;
} mw_tp_queue;

/* Make room for one more in a ring buffer of `elem`-sized entries (doubling up to
 * MW_MAX_PENDING_CMDS); false when it is at the cap. Shared by every command queue. */
bool mw_ring_make_room(void **buf, unsigned *cap, unsigned *head, unsigned count, size_t elem);
void mw_tp_queue_free(mw_tp_queue *q);

/* Append; when full the oldest is dropped (and the anomaly noted) rather than grow. */
void mw_tp_push(mw_tp_queue *q, mw_session *s, const mw_tp_cmd *c);
/* Remove the oldest into *out. */
bool mw_tp_pop(mw_tp_queue *q, mw_tp_cmd *out);
/* Remove the oldest into *out if the server had received it when it sent the reply being
 * read (its end_off within what the reply's packet acknowledged): a reply cannot answer a
 * command lost from the capture. */
bool mw_tp_pop_answered(mw_tp_queue *q, const mw_ctx *ctx, mw_tp_cmd *out);
/* Remove the command with this tag into *out (IMAP: replies come in any order). */
bool mw_tp_take_tag(mw_tp_queue *q, const char *tag, mw_tp_cmd *out);
/* The i-th oldest, or NULL. */
mw_tp_cmd *mw_tp_at(mw_tp_queue *q, unsigned i);
void mw_tp_clear(mw_tp_queue *q);

/* Name table entry: a verb and the dissector's enum for it. */
typedef struct {
    const char *name;
    int kind;
} mw_tp_verb;

/* The word at p (letters, digits, '-', '='), upper-cased into out (cap bytes with NUL).
 * Returns its length on the wire, 0 when there is none. */
size_t mw_tp_word(const uint8_t *p, size_t len, char *out, size_t cap);
int mw_tp_lookup(const mw_tp_verb *tab, size_t n, const char *name, int dflt);
/* An unknown command word is kept as its name only when it looks like a verb (letters,
 * at most max of them); otherwise it becomes "?", so that a SASL response or password
 * read as a command after lost sync never reaches the record. */
void mw_tp_unknown_verb(char *name, size_t max);
/* Skip spaces; returns the new offset. */
size_t mw_tp_skip_sp(const uint8_t *p, size_t len, size_t off);

/* "[CODE args] text": the code atom (upper-cased, capped, "" when absent) and where the
 * text after "]" starts. Also gives the code's arguments (e.g. CAPABILITY's list). */
typedef struct {
    char code[32];
    const uint8_t *args;
    size_t args_len;
    const uint8_t *text;
    size_t text_len;
} mw_tp_resp;
void mw_tp_resp_code(const uint8_t *p, size_t len, mw_tp_resp *out);

/* Record a failure (IMAP NO/BAD, POP3 -ERR) in the protocol's command record. */
void mw_tp_failure(mw_session *s, const char *cmd, const char *status,
                   const char *code, const uint8_t *text, size_t tlen, const mw_ctx *ctx);
/* Raise a flag whose evidence is a server line; it becomes the decisive line if none. */
void mw_tp_raise(mw_session *s, mw_flag f, const mw_ctx *ctx, const char *line);
/* Set the decisive line if none is set. */
void mw_tp_decisive(mw_session *s, const char *line);

/* The login record: a new attempt, its user (taken over), and its result. */
void mw_tp_auth_begin(mw_session *s, const char *mech);
void mw_tp_auth_user(mw_session *s, char *user);
void mw_tp_auth_result(mw_session *s, bool ok, const char *code);
/* One SASL response from the client (RFC 4422): the user it names, and cleartext_auth
 * when it carries a secret outside TLS. The secret itself is never kept. */
void mw_tp_sasl(mw_session *s, const char *mech, unsigned step, mw_sasl_asks asks,
                const uint8_t *b64, size_t len, const mw_ctx *ctx);
/* A password crossed the wire in this command: cleartext_auth unless under TLS. */
void mw_tp_cleartext(mw_session *s, const char *what, const mw_ctx *ctx);

/* After a gap: are there enough bytes (a line end, or a line's worth) to judge whether
 * they start a line? Until then the caller waits, so that the judgement does not depend
 * on how the stream was cut into segments. */
bool mw_tp_can_judge(const uint8_t *p, size_t len);

/* Server wording that says the session timed out for inactivity. */
bool mw_tp_timeout_words(const uint8_t *p, size_t len);
/* Server wording that says encryption is required first. */
bool mw_tp_tls_words(const uint8_t *p, size_t len);

/* A dot-terminated multi-line block (POP3 RFC 1939 section 3, SMTP DATA): skipped from
 * one line-starting dot to the next, never buffered (text/dotblock.c). */
typedef struct {
    bool line_start;  /* at the start of a line */
    bool count_lines; /* count the lines too (a transcript shows them; it costs a memchr
                       * per line instead of one per dot) */
    uint64_t bytes;   /* bytes skipped so far, terminator excluded */
    uint64_t lines;   /* complete lines skipped so far, terminator excluded (count_lines) */
} mw_dotblock;
typedef enum {
    MW_DOT_CONTINUE, /* consumed everything given; the block goes on */
    MW_DOT_NEED,     /* the tail might be the terminator: come back with more */
    MW_DOT_END,      /* the terminator line was consumed */
} mw_dot_status;
/* *used: bytes consumed (through the terminator on MW_DOT_END). */
mw_dot_status mw_dotblock_skip(mw_dotblock *b, const uint8_t *p, size_t len, size_t *used);

/* ---------- transcript (all no-ops unless the session keeps one) ---------- */

/* Longest piece of a wire line shown in a transcript event. */
#define MW_TP_EVENT_MAX 200

/* A wire line as a transcript event, capped at MW_TP_EVENT_MAX bytes. Only for lines
 * that can carry no secret (server replies, commands whose arguments are harmless). */
void mw_tp_event_line(mw_session *s, mw_dir dir, const mw_ctx *ctx, int64_t latency_us,
                      const uint8_t *p, size_t len);
/* The server greeting: its latency counts from the start of the connection. */
void mw_tp_greeting_event(mw_session *s, const mw_ctx *ctx, const uint8_t *p, size_t len);

/* Did the engine find no_greeting (the connection was up, closed, and the server never
 * spoke; engine/conn_verdict.c judges it before the dissector's close)? */
bool mw_tp_no_greeting(mw_session *s, const mw_ctx *ctx);
/* unanswered_command for a command sent at frame/ts_us. */
void mw_tp_unanswered(mw_session *s, const char *name, uint64_t frame, int64_t ts_us,
                      const mw_ctx *ctx);

/* End of session: no_greeting when the server never spoke, else unanswered_command for
 * the oldest command still waiting (not exempt) when the connection closed. A session
 * whose flags gave no decisive line gets its first failure as one. */
void mw_tp_close(mw_session *s, mw_tp_queue *q, const mw_ctx *ctx);
/* The same unless the session was handed to TLS (its end is TLS's to judge). */
void mw_tp_close_line(mw_session *s, bool in_tls, mw_tp_queue *q, const mw_ctx *ctx);

/* Does the server's first data start with this greeting ("* OK", "+OK")? */
bool mw_tp_greets(const uint8_t *p, size_t len, const char *greeting);

/* The dissector table of a line protocol built on this file that keeps a command record
 * (IMAP, POP3): the functions named p_new, p_free, p_feed, p_gap, p_close and p_probe,
 * the port table p_ports, and the command record's hooks (text/reply_log.h). */
#define MW_TP_DISSECTOR(p, proto)                                                          \
    {                                                                                      \
        .name = #p, .ports = p##_ports, .content_proto = (proto), .probe = p##_probe,     \
        .state_new = p##_new, .state_free = p##_free, .feed = p##_feed, .on_gap = p##_gap, \
        .on_close = p##_close, .on_overlap_conflict = p##_overlap, MW_CMDREC_HOOKS,        \
    }

#endif
