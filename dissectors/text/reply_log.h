/* The line protocols' part of the record: error replies (SMTP 4xx/5xx, IMAP NO/BAD, POP3
 * -ERR) and the command record IMAP and POP3 share (a count of commands and their
 * failures), with its JSON and text writers — the record hooks of both dissectors. */
#ifndef MW_REPLY_LOG_H
#define MW_REPLY_LOG_H

#include <glib.h>
#include <stdbool.h>

#include "dissector.h"

/* Error replies / failures kept per session. */
#define MW_MAX_REPLIES 256

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

/* A reply kept in a record's list (in the session's arena, as its text): a zeroed entry, or
 * NULL when the list has MW_MAX_REPLIES. */
mw_reply *mw_replies_add(mw_session *s, mw_avec *list);
/* [{"cmd":..,"code":..,"enhanced":..,"category":..,...}] for SMTP, else with "status". */
void mw_replies_json(GString *out, const mw_avec *a, bool smtp);

/* IMAP and POP3: a count of commands and their failures. */
typedef struct {
    const char *name;    /* "imap", "pop3": the record's key */
    unsigned commands;
    mw_avec failures;    /* mw_reply */
} mw_cmd_rec; /* in the session's arena, as its lists and texts */

/* Give the session its command record, owned by d (IMAP or POP3), keyed d->name. */
mw_cmd_rec *mw_cmdrec_attach(mw_session *s, const mw_dissector *d);
/* The session's command record, NULL when its mail part is not one. */
mw_cmd_rec *mw_cmdrec_of(const mw_session *s);

/* The record hooks of a command record (mw_dissector.write_json, write_text, free_record). */
void mw_cmdrec_write_json(GString *out, const mw_session *s, const void *rec);
void mw_cmdrec_write_text(GString *out, const mw_session *s, const void *rec);
void mw_cmdrec_free(void *rec); /* nothing to free: all is in the arena (it tells the kind) */
#define MW_CMDREC_HOOKS                                                                    \
    .write_json = mw_cmdrec_write_json, .write_text = mw_cmdrec_write_text,               \
    .free_record = mw_cmdrec_free

#endif
