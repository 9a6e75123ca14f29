/* A dissector inside another: the mail protocol carried by decrypted TLS records.
 *
 * The same streaming contract as the engine's feeder (engine/feeder.h) gives a dissector
 * on clear text: what it did not consume (an incomplete line) is kept per direction, up to
 * mw_config_pending_cap, and handed back with the next bytes, so the result does not
 * depend on how the plaintext was cut into records. No STARTTLS inside: a request to
 * upgrade ends that dissector's reading (nothing nests twice). */
#ifndef MW_NESTED_H
#define MW_NESTED_H

#include "dissector.h"

typedef struct {
    const mw_dissector *dis; /* NULL: not started */
    void *state;
    uint8_t *pend[2];        /* allocated once per direction, when first needed */
    size_t plen[2];
    bool dead[2];
} mw_nested;

/* Starts d with a fresh state on session s (its record is the session's, shared). */
void mw_nested_start(mw_nested *n, const mw_dissector *d, mw_session *s, const mw_config *cfg);
static inline bool mw_nested_started(const mw_nested *n)
{
    return n->dis != NULL;
}
void mw_nested_data(mw_nested *n, mw_dir dir, const uint8_t *p, size_t len, const mw_ctx *ctx);
/* `missing` plaintext bytes of dir were lost (unknown: pass 0). */
void mw_nested_gap(mw_nested *n, mw_dir dir, uint64_t missing, const mw_ctx *ctx);
void mw_nested_close(mw_nested *n, const mw_ctx *ctx);
void mw_nested_free(mw_nested *n);

#endif
