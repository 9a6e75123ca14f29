/* The one static table of dissectors. A new protocol adds its line here. */
#include <string.h>

#include "dissector.h"
#include "registry.h"
#include "smtp/smtp.h"
#include "imap/imap.h"
#include "pop3/pop3.h"
#include "tls/tls.h"
#include "opaque.h"

const mw_dissector *const mw_dissectors[] = {
    &mw_smtp_dissector,
    &mw_imap_dissector,
    &mw_pop3_dissector,
    &mw_tls_dissector,
    &mw_opaque_dissector,
    NULL,
};

const mw_dissector *mw_dissector_by_name(const char *name)
{
    for (size_t i = 0; mw_dissectors[i]; i++)
        if (strcmp(mw_dissectors[i]->name, name) == 0)
            return mw_dissectors[i];
    return NULL;
}

int mw_dissector_slot(const mw_dissector *d)
{
    for (int i = 0; i < MW_MAX_DISSECTORS && mw_dissectors[i]; i++)
        if (mw_dissectors[i] == d)
            return i;
    return -1;
}

void *mw_ctx_engine_state_of(const mw_ctx *ctx, const mw_dissector *d)
{
    int slot = ctx->engine_slots && d ? mw_dissector_slot(d) : -1;
    return slot >= 0 ? ctx->engine_slots[slot] : NULL;
}

const mw_dissector *mw_dissector_for_tls(void)
{
    for (size_t i = 0; mw_dissectors[i]; i++)
        if (mw_dissectors[i]->tls)
            return mw_dissectors[i];
    return &mw_opaque_dissector;
}

bool mw_part_write_json(GString *out, const mw_session *s, const mw_part *p)
{
    if (!p->rec || !p->owner || !p->owner->write_json)
        return false;
    p->owner->write_json(out, s, p->rec);
    return true;
}

void mw_part_write_text(GString *out, const mw_session *s, const mw_part *p)
{
    if (p->rec && p->owner && p->owner->write_text)
        p->owner->write_text(out, s, p->rec);
}

void mw_part_write_text_findings(GString *out, const mw_session *s, const mw_part *p)
{
    if (p->rec && p->owner && p->owner->write_text_findings)
        p->owner->write_text_findings(out, s, p->rec);
    else
        mw_part_write_text(out, s, p);
}
