/* SMTP transactions: one per MAIL FROM, with its recipients, content, final reply, queue
 * id and identifying headers (issue 19). Commands are filed under the transaction that
 * was current when they were sent, so pipelined commands pair as the server saw them. */
#ifndef MW_SMTP_TX_H
#define MW_SMTP_TX_H

#include "smtp/smtp_state.h"

/* MAIL FROM: a new transaction; c->tx names it. arg: after the verb ("FROM:<a> SIZE=1"). */
void smtp_tx_mail(smtp_state *st, mw_tp_cmd *c, const uint8_t *arg, size_t arglen,
                  const mw_ctx *ctx);
/* RCPT TO kept as session recipient `index` (0-based): filed under the current one. */
void smtp_tx_rcpt(smtp_state *st, mw_tp_cmd *c, unsigned index);
/* DATA or BDAT: the content of the current transaction starts (or goes on). */
void smtp_tx_content(smtp_state *st, mw_tp_cmd *c, bool bdat, uint64_t chunk, bool last);
/* An invalid BDAT line: filed under the open transaction (no chunk follows it). */
void smtp_tx_bad_bdat(smtp_state *st, mw_tp_cmd *c);
/* Message bytes of the current content: counted, their headers looked at. */
void smtp_tx_body(smtp_state *st, const uint8_t *p, size_t len);
/* The end-of-data line was sent. */
void smtp_tx_data_end(smtp_state *st, mw_tp_cmd *c);
/* A complete reply to c: the transaction's result when it is final. */
void smtp_tx_reply(smtp_state *st, const mw_tp_cmd *c, const mw_ctx *ctx);
/* RSET or QUIT sent: what is not finished is aborted. */
void smtp_tx_abort(smtp_state *st);
/* The session ended: FIN/RST/idle abort what was not finished, the capture's end leaves
 * it unknown. */
void smtp_tx_close(smtp_state *st);
/* A finding raised by a reply to c: named in its transaction and its evidence. */
void smtp_tx_flag(smtp_state *st, const mw_tp_cmd *c, mw_flag f);

/* The queue id a server names in its final 2xx (postfix, Exchange, Exim, sendmail), or
 * NULL. */
char *smtp_queue_id(const char *text);

#endif
