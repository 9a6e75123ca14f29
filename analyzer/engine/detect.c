#include "engine/detect.h"
#include "registry.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

struct mw_ports {
    mw_port_entry port[65536];
};

mw_ports *mw_ports_new(void)
{
    mw_ports *t = g_new0(mw_ports, 1);
    for (size_t i = 0; mw_dissectors[i]; i++) {
        const mw_dissector *d = mw_dissectors[i];
        for (const mw_port_proto *pp = d->ports; pp && pp->port; pp++) {
            /* implicit-TLS ports go to the TLS dissector whichever one that is */
            const mw_dissector *owner = d->tls ? mw_dissector_for_tls() : d;
            t->port[pp->port].dissector = owner;
            t->port[pp->port].proto = pp->proto;
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
                *d = t->port[pp->port].dissector;
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
        } else {
            t->port[port].dissector = d;
            t->port[port].proto = proto;
        }
    }
    g_strfreev(items);
    return ok;
}

const mw_port_entry *mw_ports_lookup(const mw_ports *t, uint16_t port)
{
    return t->port[port].dissector ? &t->port[port] : NULL;
}

size_t mw_ports_list(const mw_ports *t, uint16_t *out, size_t max)
{
    size_t n = 0;
    for (uint32_t p = 1; p < 65536 && n < max; p++)
        if (t->port[p].dissector)
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
