/* SMTP's part of the session record: its fields, and its JSON and text writers (the
 * record hooks of the SMTP dissector's table). */
#ifndef MW_SMTP_LOG_H
#define MW_SMTP_LOG_H

#include <glib.h>

#include "dissector.h"
#include "text/reply_log.h"

/* Recipients kept per session. */
#define MW_MAX_RCPT 1024

typedef struct {
    char *to;
    int code; /* 0: no reply seen */
} mw_rcpt;

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

/* The session's SMTP record, made on first use. */
mw_smtp_rec *mw_smtp_record(mw_session *s);
/* The session's SMTP record, NULL when it has none. */
const mw_smtp_rec *mw_smtp_of(const mw_session *s);

void mw_smtp_write_json(GString *out, const mw_session *s, const void *rec);
void mw_smtp_write_text(GString *out, const mw_session *s, const void *rec);
void mw_smtp_free_record(void *rec);

#endif
