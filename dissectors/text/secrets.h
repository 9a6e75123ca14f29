/* Client secrets a line protocol has seen, remembered (in its own state, wiped when it
 * ends) only to keep them out of every output: a server line that echoes one verbatim
 * ("<password> BAD ...", "-ERR unknown command <password>") is redacted before anything
 * reads it. Allocated on the first secret: a session without a login costs nothing. */
#ifndef MW_SECRETS_H
#define MW_SECRETS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "text/lines.h"

/* Secrets remembered per session (the latest ones; older ones are forgotten). */
#define MW_SECRETS_KEEP 8
/* Longest secret remembered (a longer line is remembered by its first bytes). */
#define MW_SECRET_MAX 256
/* Shortest secret looked for: shorter pieces would redact ordinary words. */
#define MW_SECRET_MIN 3

/* Replacement for an echoed secret in a server line. */
#define MW_SECRET_MARK "[redacted]"

typedef struct {
    /* each its own small allocation, of len bytes (one 2 KiB block cost more than the
     * session's other allocations together: past malloc's per-thread cache) */
    uint8_t *text[MW_SECRETS_KEEP];
    uint16_t len[MW_SECRETS_KEEP];
    unsigned next;
    bool overlap_suspect; /* a differing copy of client bytes held out of order was seen */
} mw_secrets;

/* Remember a secret client line: the whole line and each of its words. */
void mw_secrets_add(mw_secrets **s, const uint8_t *p, size_t len);
/* Copy of p with every remembered secret replaced by MW_SECRET_MARK, or NULL when the
 * line holds none (the common case: nothing is copied). Free with g_free. */
char *mw_secrets_redact(const mw_secrets *s, const uint8_t *p, size_t len, size_t *out_len);
/* Hand a server line to fn, redacted first when it echoes a remembered secret; returns
 * what fn returns. */
typedef bool (*mw_server_line_fn)(void *state, const mw_line *l, const mw_ctx *ctx);
bool mw_secrets_server_line(const mw_secrets *s, const mw_line *l, mw_server_line_fn fn,
                            void *state, const mw_ctx *ctx);
/* Two copies of client bytes differed (mw_dissector.on_overlap_conflict): inside an
 * authentication either copy may be the secret, and which one the server took is unknown.
 * in_auth: the dissector is inside (or just after) an authentication exchange; the copy
 * not delivered (other, when known) also counts as one when it starts like a login command.
 * Then its words are remembered as secrets (a server echo of them is redacted) and the
 * client's transcript lines since first_frame are redacted. Server bytes: nothing to do. */
void mw_secrets_overlap_conflict(mw_secrets **s, mw_session *sess, mw_dir dir,
                                 const uint8_t *other, size_t len, uint64_t first_frame,
                                 bool in_auth);
/* Wipe and free. */
void mw_secrets_free(mw_secrets **s);

#endif
