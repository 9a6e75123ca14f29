/* The SMTP dissector's state, shared by its files: the command kinds, the client's mode,
 * the pending-command queue (text/'s, as IMAP and POP3 use it) and the reply being read. */
#ifndef MW_SMTP_STATE_H
#define MW_SMTP_STATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "dissector.h"
#include "nested.h"
#include "text/lines.h"
#include "text/sasl.h"
#include "text/secrets.h"
#include "text/textproto.h"
#include "text/tlsgate.h"
#include "smtp/smtp_log.h"

typedef enum {
    CMD_OTHER,
    CMD_HELO,
    CMD_EHLO,
    CMD_MAIL,
    CMD_RCPT,
    CMD_DATA,
    CMD_DATA_END, /* the end-of-data line: the final reply to DATA answers it */
    CMD_BDAT,
    CMD_BDAT_BAD,  /* a BDAT line that is not "BDAT <size> [LAST]": no chunk follows it */
    CMD_RSET,
    CMD_QUIT,
    CMD_AUTH,
    CMD_AUTH_RESP, /* a SASL response line after a 334 challenge */
    CMD_STARTTLS,
    CMD_AUTH_STRAY, /* a client line after a failed or cancelled AUTH: secret, judged by no one */
    CMD_NONE,      /* a reply no command asked for */
    CMD_COUNT
} smtp_cmd;

typedef enum {
    C_COMMAND,
    C_DATA_WAIT, /* DATA sent, 354 not seen yet */
    C_BODY,      /* message content up to the lone dot */
    C_BDAT,      /* skipping a BDAT chunk by count */
    C_AUTH,      /* lines are SASL responses */
} client_mode;

/* Longest SMTP verb kept as a command name. */
#define SMTP_VERB_MAX 16

typedef struct {
    mw_session *sess;
    mw_linestate line[2];
    bool resync[2];          /* after a gap or a mid-session start */
    uint64_t pos[2];         /* stream offset of the first byte of the current feed */
    uint64_t cur_end;        /* offset just after the client line being handled */

    client_mode mode;
    mw_dotblock body;        /* inside DATA: skipped to the lone dot, counted */
    uint64_t bdat_left;
    bool bdat_refused;       /* an invalid BDAT line was refused and no message was accepted
                              * since: the transaction broke (mw_session.broken at the end) */

    mw_tp_queue pending;     /* commands awaiting replies; kind is an smtp_cmd */

    /* transactions (smtp_tx.c) */
    unsigned cur_tx;         /* 1-based: the one the client's commands go to; 0: none */
    unsigned body_tx;        /* the one whose content is being sent */
    GString *hdr_line;       /* the header line being read (made on first use) */
    bool hdr_done;           /* the header block is over (or was scanned far enough) */
    bool hdr_overlong;       /* the current header line is past the cap: skipped */
    int hdr_last;            /* the header a continuation line adds to; -1: none */
    uint64_t hdr_seen;

    /* server reply being assembled (multi-line: "250-..." lines then "250 ...") */
    bool in_reply;
    int reply_code;          /* for a line without a code: its enhanced code's class x 100 */
    bool reply_codeless;     /* the reply had no code (kept as code null, invalid_reply) */
    char reply_enh[16];
    GString *reply_text;
    const char *reply_category; /* of the last error reply */
    unsigned reply_lines;
    bool reply_is_ehlo;

    /* AUTH exchange */
    char auth_mech[32];
    unsigned auth_step;
    mw_sasl_asks auth_asks;  /* what the last 334 challenge asked for */
    bool auth_failed;        /* AUTH just failed or was cancelled: stray lines are secret */
    mw_secrets *secrets;     /* the client's secrets, to redact server echoes */
    bool in_tls;             /* handed off: nothing more to parse */
    mw_tlsgate tls_gate;     /* STARTTLS accepted: does the client start TLS? */
    bool client_spoke;       /* the client's first bytes were looked at */
    bool client_tls;         /* ...and were a TLS ClientHello: the rest is not SMTP */
    mw_nested client_hello;  /* ...read by the TLS dissector (the record's tls object) */
} smtp_state;

smtp_state *smtp_state_new(mw_session *s);
void smtp_state_free(smtp_state *st);

/* Queue a command; it ends at the current client offset. */
void smtp_push(smtp_state *st, mw_tp_cmd *c);
/* A command with this kind and name, sent in the current packet. */
mw_tp_cmd smtp_cmd_at(smtp_cmd kind, const char *name, const mw_ctx *ctx);
/* The command a reply is filed under ("" for a reply no command asked for). */
const char *smtp_cmd_name(const mw_tp_cmd *c);

#endif
