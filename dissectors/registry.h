/* The registry: the one table of dissectors; the engine reaches a protocol only here. */
#ifndef MW_REGISTRY_H
#define MW_REGISTRY_H

#include "dissector.h"

/* The registry: every dissector, in probe order. */
extern const mw_dissector *const mw_dissectors[];
const mw_dissector *mw_dissector_by_name(const char *name);
/* Dissectors in the registry (its slots: mw_dissector_slot). */
#define MW_MAX_DISSECTORS 16
/* d's position in the registry, or -1. */
int mw_dissector_slot(const mw_dissector *d);
/* d's per-engine state in ctx's engine (for a dissector read nested), NULL without one. */
void *mw_ctx_engine_state_of(const mw_ctx *ctx, const mw_dissector *d);
/* The dissector that takes a session over after STARTTLS/STLS or on an implicit-TLS
 * port: the first one flagged `tls` (the TLS dissector when there is one, else the
 * opaque one). */
const mw_dissector *mw_dissector_for_tls(void);

/* A part of the record written through its owner's hooks: the JSON key and value (false,
 * nothing written, when the session has no such part), and the text lines. */
bool mw_part_write_json(GString *out, const mw_session *s, const mw_part *p);
void mw_part_write_text(GString *out, const mw_session *s, const mw_part *p);
/* -q: the text lines of what has findings (the owner's write_text_findings, else all). */
void mw_part_write_text_findings(GString *out, const mw_session *s, const mw_part *p);

#endif
