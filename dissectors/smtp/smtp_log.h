/* SMTP's part of the session record: its fields, and its JSON and text writers (the
 * record hooks of the SMTP dissector's table). */
#ifndef MW_SMTP_LOG_H
#define MW_SMTP_LOG_H

#include <glib.h>

#include "dissector.h"
#include "text/reply_log.h"

/* Recipients kept per session. */
#define MW_MAX_RCPT 1024

/* Transactions (MAIL FROM ... end of data) kept per session; later ones are counted. */
#define MW_MAX_TX 256
/* EHLO keywords kept per session (later ones are left out), and the bytes kept of each. */
#define MW_SMTP_MAX_CAPABILITIES 64
#define MW_SMTP_MAX_CAPABILITY 128
/* Longest header value kept (Message-ID, Subject, From, To, Date), bytes. */
#define MW_SMTP_HEADER_MAX 256
/* Header bytes of a message looked at for those headers; the rest is not scanned. */
#define MW_SMTP_HEADER_SCAN 65536

typedef struct {
    char *to;
    int code;             /* 0: no reply seen */
    char enhanced[16];
    const char *category; /* smtp_category.c; NULL until a reply is seen */
} mw_rcpt;

typedef enum {
    MW_TX_UNKNOWN,  /* no final reply seen (capture ended, reply lost) */
    MW_TX_ACCEPTED,
    MW_TX_REJECTED, /* 5xx to MAIL, DATA, BDAT or the end of data; or no recipient accepted */
    MW_TX_DEFERRED, /* 4xx there */
    MW_TX_ABORTED,  /* RSET, QUIT or the connection's close before the final reply */
} mw_tx_result;

/* The headers of a message that say which one it is. */
enum { MW_HDR_MESSAGE_ID, MW_HDR_SUBJECT, MW_HDR_FROM, MW_HDR_TO, MW_HDR_DATE, MW_HDR_COUNT };

/* One message: MAIL FROM, its recipients, its content, and what the server said. */
typedef struct {
    char *mail_from;
    char *size, *body, *ret, *envid; /* MAIL FROM parameters as written (RFC 1870, 6152, 3461) */
    bool smtputf8, requiretls;       /* RFC 6531, RFC 8689 */
    uint64_t mail_frame;
    /* guint: 0-based indices into mw_smtp_rec.rcpt, in the session's arena (each kept
     * recipient's index is pushed once, and moved once at most: by a nested MAIL) */
    mw_avec rcpt;
    unsigned rcpt_dropped;   /* recipients past MW_MAX_RCPT */
    const char *data;        /* "DATA", "BDAT", NULL: no content sent */
    unsigned chunks;         /* BDAT chunks, but those the server refused */
    uint64_t size_seen;      /* message bytes seen (a refused chunk's are not) */
    unsigned chunks_refused; /* BDAT chunks answered 4xx/5xx, and their bytes */
    uint64_t bytes_refused;
    bool sent;               /* the whole content went (end of data, BDAT LAST) */
    mw_tx_result result;
    bool final;              /* the final reply below was seen */
    int code;                /* the final reply (or the refusal that ended it) */
    char enhanced[16];
    char *text;
    uint64_t frame;
    char *queue_id;
    char *header[MW_HDR_COUNT]; /* NULL: not seen; else in hdr_block */
    char *hdr_block;         /* room for every header's value, made at the first one */
    uint16_t hdr_len[MW_HDR_COUNT];
    mw_flagset flags;        /* the findings raised by its replies */
} mw_smtp_tx;

/* Made in the session's arena, and so are its lists and the strings written once (the
 * first HELO and MAIL FROM, recipients, capabilities, reply texts): each is capped in number
 * (MW_MAX_RCPT, MW_MAX_REPLIES, MW_SMTP_MAX_CAPABILITIES, MW_MAX_TX) and never replaced.
 * A transaction's strings stay on the heap: a MAIL nested in an open one (answered 503) is
 * dropped again, as many times as a client repeats it. */
typedef struct {
    char *helo;         /* the first one */
    char *mail_from;    /* the first one */
    mw_avec rcpt;       /* mw_rcpt */
    unsigned messages;  /* accepted messages */
    mw_avec tx;         /* mw_smtp_tx, in the order MAIL FROM was sent */
    unsigned tx_dropped;
    uint64_t message_bytes;
    mw_avec capabilities; /* const char *: EHLO keywords */
    mw_avec replies;    /* mw_reply, every 4xx/5xx */
} mw_smtp_rec;

/* The session's SMTP record, made on first use. */
mw_smtp_rec *mw_smtp_record(mw_session *s);
/* The session's SMTP record, NULL when it has none. */
const mw_smtp_rec *mw_smtp_of(const mw_session *s);

/* The 1-based transaction i, or NULL. */
mw_smtp_tx *mw_smtp_tx_at(mw_smtp_rec *m, unsigned i);
const char *mw_smtp_tx_result_name(mw_tx_result r);
/* Free what a transaction holds (not the transaction itself). */
void mw_smtp_tx_clear(mw_smtp_tx *t);
/* Does the transaction have findings (flags raised by its replies)? -q shows only those. */
static inline bool mw_smtp_tx_has_findings(const mw_smtp_tx *t)
{
    return t->flags != 0;
}

void mw_smtp_write_json(GString *out, const mw_session *s, const void *rec);
void mw_smtp_write_text(GString *out, const mw_session *s, const void *rec);
/* -q: the same, with only the transactions that have findings. */
void mw_smtp_write_text_findings(GString *out, const mw_session *s, const void *rec);
void mw_smtp_free_record(void *rec);

#endif
