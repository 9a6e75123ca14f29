#include "engine/detect.h"
#include "registry.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

/* Per server port a one-byte index into the few distinct (dissector, protocol) pairs
 * (0: none), not a 16-byte entry per port: the table is made and copied once per engine,
 * and 1 MiB of it was half of a small capture's run under the fuzzer. A pair is a
 * protocol of the registry, so MAX_PAIRS is never reached (mw_ports_add says so if it
 * were). */
#define MAX_PAIRS 255
struct mw_ports {
    uint8_t n;                          /* pairs used; entry[0] is the empty one */
    mw_port_entry entry[MAX_PAIRS + 1];
    uint8_t at[65536];
};

/* Serves port with d and proto; false when the pair table is full. */
static bool ports_set(mw_ports *t, uint16_t port, const mw_dissector *d, mw_proto proto)
{
    unsigned i = 1;
    while (i <= t->n && (t->entry[i].dissector != d || t->entry[i].proto != proto))
        i++;
    if (i > t->n) {
        if (t->n == MAX_PAIRS)
            return false;
        t->n++;
        t->entry[i].dissector = d;
        t->entry[i].proto = proto;
    }
    t->at[port] = (uint8_t)i;
    return true;
}

mw_ports *mw_ports_new(void)
{
    mw_ports *t = g_new0(mw_ports, 1);
    for (size_t i = 0; mw_dissectors[i]; i++) {
        const mw_dissector *d = mw_dissectors[i];
        for (const mw_port_proto *pp = d->ports; pp && pp->port; pp++) {
            /* implicit-TLS ports go to the TLS dissector whichever one that is */
            const mw_dissector *owner = d->tls ? mw_dissector_for_tls() : d;
            if (!ports_set(t, pp->port, owner, pp->proto))
                g_error("port table: more than %d dissector/protocol pairs", MAX_PAIRS);
        }
    }
    return t;
}

mw_ports *mw_ports_copy(const mw_ports *t)
{
    return g_memdup2(t, sizeof *t);
}

void mw_ports_free(mw_ports *t)
{
    g_free(t);
}

/* The dissector that serves a protocol name of SPEC.md, via the registry's ports. */
static bool proto_by_name(const mw_ports *t, const char *name, mw_proto *proto,
                          const mw_dissector **d)
{
    for (size_t i = 0; mw_dissectors[i]; i++) {
        for (const mw_port_proto *pp = mw_dissectors[i]->ports; pp && pp->port; pp++) {
            if (strcmp(mw_proto_name(pp->proto), name) == 0) {
                *proto = pp->proto;
                *d = t->entry[t->at[pp->port]].dissector;
                return true;
            }
        }
    }
    return false;
}

bool mw_ports_add(mw_ports *t, const char *spec, char **err)
{
    gchar **items = g_strsplit(spec, ",", -1);
    bool ok = true;
    for (gchar **it = items; *it && ok; it++) {
        gchar *item = g_strstrip(*it);
        if (!*item)
            continue;
        gchar *eq = strchr(item, '=');
        mw_proto proto;
        const mw_dissector *d;
        char *end = NULL;
        long port = eq ? strtol(eq + 1, &end, 10) : -1;
        if (!eq) {
            *err = g_strdup_printf("--ports: '%s' is not PROTOCOL=PORT", item);
            ok = false;
            break;
        }
        *eq = '\0';
        if (!proto_by_name(t, item, &proto, &d)) {
            *err = g_strdup_printf("--ports: unknown protocol '%s'", item);
            ok = false;
        } else if (!end || *end || port < 1 || port > 65535) {
            *err = g_strdup_printf("--ports: '%s' is not a port number (1-65535)", eq + 1);
            ok = false;
        } else if (!ports_set(t, (uint16_t)port, d, proto)) {
            *err = g_strdup_printf("--ports: more than %d dissector/protocol pairs", MAX_PAIRS);
            ok = false;
        }
    }
    g_strfreev(items);
    return ok;
}

const mw_port_entry *mw_ports_lookup(const mw_ports *t, uint16_t port)
{
    return t->at[port] ? &t->entry[t->at[port]] : NULL;
}

size_t mw_ports_list(const mw_ports *t, uint16_t *out, size_t max)
{
    size_t n = 0;
    for (uint32_t p = 1; p < 65536 && n < max; p++)
        if (t->at[p])
            out[n++] = (uint16_t)p;
    return n;
}

const mw_dissector *mw_detect_content(const uint8_t *p, size_t len, mw_proto *proto)
{
    for (size_t i = 0; mw_dissectors[i]; i++) {
        const mw_dissector *d = mw_dissectors[i];
        if (d->probe && d->probe(p, len)) {
            *proto = d->content_proto;
            return d;
        }
    }
    return NULL;
}

const mw_dissector *mw_detect_client_content(const uint8_t *p, size_t len, mw_proto *proto)
{
    for (size_t i = 0; mw_dissectors[i]; i++) {
        const mw_dissector *d = mw_dissectors[i];
        mw_proto hint = d->client_probe ? d->client_probe(p, len) : MW_PROTO_UNKNOWN;
        if (hint != MW_PROTO_UNKNOWN) {
            *proto = hint;
            return d;
        }
    }
    return NULL;
}
