/* IMAP syntax (RFC 9051 section 9): verbs and statuses by name table, tags, and the
 * literals "{n}" / "{n+}" skipped by count in either direction. */
#ifndef MW_IMAP_SYNTAX_H
#define MW_IMAP_SYNTAX_H

#include "imap/imap_state.h"

/* The imap_cmd of a verb (upper case), or dflt. */
int imap_verb(const char *word, int dflt);
/* The imap_status of a status word (upper case), or IS_OTHER. */
int imap_status_of(const char *word);

/* The tag at p, copied (capped) into out; returns its length, 0 when none is followed by
 * a space. */
size_t imap_take_tag(const uint8_t *p, size_t len, char out[MW_TP_TAG_MAX]);

typedef enum { LIT_NONE, LIT_OK, LIT_BAD } lit_status;
/* Does the line end in a literal announcement "{" number ["+"] "}" (RFC 9051 4.3, RFC
 * 7888)? LIT_BAD for a brace group that is not a count within IMAP_LITERAL_MAX. */
lit_status imap_trailing_literal(const uint8_t *p, size_t len, uint64_t *count);
/* After a line: start skipping the literal it announces, if any. */
void imap_start_literal(imap_state *st, mw_dir dir, const uint8_t *p, size_t len);
/* Skip literal octets of `dir`; returns how many were taken. */
size_t imap_skip_literal(imap_state *st, mw_dir dir, const uint8_t *p, size_t len);

#endif
