#include "input/files/bpf.h"

#include <glib.h>

typedef struct {
    int dlt;
    bool ok; /* compiled; false: the filter does not apply to this link type */
    struct bpf_program prog;
} compiled;

struct mw_bpf {
    char *expr;
    compiled lt[MW_BPF_LINKTYPES];
    unsigned n;
};

mw_bpf *mw_bpf_new(const char *expr)
{
    mw_bpf *b = g_new0(mw_bpf, 1);
    b->expr = g_strdup(expr);
    return b;
}

void mw_bpf_free(mw_bpf *b)
{
    if (!b)
        return;
    for (unsigned i = 0; i < b->n; i++)
        if (b->lt[i].ok)
            pcap_freecode(&b->lt[i].prog);
    g_free(b->expr);
    g_free(b);
}

static compiled *find(mw_bpf *b, int dlt)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->lt[i].dlt == dlt)
            return &b->lt[i];
    return NULL;
}

/* NULL when the table is full. */
static compiled *compile(mw_bpf *b, pcap_t *p, int dlt, char **err)
{
    if (b->n == MW_BPF_LINKTYPES)
        return NULL;
    compiled *c = &b->lt[b->n++];
    c->dlt = dlt;
    pcap_t *dead = p ? NULL : pcap_open_dead(dlt, MW_BPF_SNAPLEN);
    pcap_t *use = p ? p : dead;
    c->ok = use && pcap_compile(use, &c->prog, b->expr, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (!c->ok && err)
        *err = g_strdup_printf("bad filter '%s': %s", b->expr,
                               use ? pcap_geterr(use) : "no handle to compile it with");
    if (dead)
        pcap_close(dead);
    return c;
}

bool mw_bpf_prepare(mw_bpf *b, pcap_t *p, int dlt, char **err)
{
    compiled *c = find(b, dlt);
    if (!c)
        c = compile(b, p, dlt, err);
    else if (!c->ok)
        *err = g_strdup_printf("bad filter '%s': it does not compile for link type %d",
                               b->expr, dlt);
    if (!c) {
        *err = g_strdup_printf("bad filter '%s': more than %d link types", b->expr,
                               MW_BPF_LINKTYPES);
        return false;
    }
    return c->ok;
}

bool mw_bpf_match(mw_bpf *b, int dlt, const struct pcap_pkthdr *h, const uint8_t *data)
{
    compiled *c = find(b, dlt);
    if (!c)
        c = compile(b, NULL, dlt, NULL);
    return c && c->ok && pcap_offline_filter(&c->prog, h, data) != 0;
}
