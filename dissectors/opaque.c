/* The encrypted remainder of a session when no TLS dissector is registered: bytes are
 * counted and skipped, and the record says the content is hidden (outcome "encrypted"),
 * never a guess. */
#include <glib.h>

#include "dissector.h"
#include "opaque.h"

static void *opaque_new(mw_session *s, const mw_config *cfg)
{
    (void)cfg;
    return s;
}

static void opaque_free(void *st)
{
    (void)st;
}

static mw_feed_result opaque_feed(void *st, mw_dir dir, const uint8_t *p, size_t len,
                                  const mw_ctx *ctx)
{
    (void)dir;
    (void)p;
    (void)ctx;
    mw_session *s = st;
    s->encrypted = true; /* bytes we cannot read: say so, never guess */
    mw_feed_result r = { MW_FEED_OK, len };
    return r;
}

static void opaque_gap(void *st, mw_dir dir, uint64_t missing, const mw_ctx *ctx)
{
    (void)st;
    (void)dir;
    (void)missing;
    (void)ctx;
}

static void opaque_close(void *st, const mw_ctx *ctx)
{
    (void)st;
    (void)ctx;
}

static const mw_port_proto opaque_ports[] = {
    { 465, MW_PROTO_SMTPS },
    { 993, MW_PROTO_IMAPS },
    { 995, MW_PROTO_POP3S },
    { 0, MW_PROTO_UNKNOWN },
};

const mw_dissector mw_opaque_dissector = {
    .name = "opaque",
    .ports = opaque_ports,
    .content_proto = MW_PROTO_UNKNOWN,
    .tls = true,
    .probe = NULL,
    .state_new = opaque_new,
    .state_free = opaque_free,
    .feed = opaque_feed,
    .on_gap = opaque_gap,
    .on_close = opaque_close,
};
