#include "parallel/stats.h"

bool mw_stats_add(mw_engine_stats *t, uint32_t *by_port, const mw_engine_stats *s)
{
    t->packets += s->packets;
    t->tcp_packets += s->tcp_packets;
    t->skipped += s->skipped;
    t->malformed += s->malformed;
    for (int r = 0; r < MW_DROP_COUNT; r++)
        t->not_decoded[r] += s->not_decoded[r];
    t->frag_datagrams += s->frag_datagrams;
    t->frag_fragments += s->frag_fragments;
    t->frag_overlaps += s->frag_overlaps;
    t->flows_ignored += s->flows_ignored;
    t->after_close += s->after_close;
    for (size_t port = 0; s->ignored_by_port && port < MW_STATS_PORTS; port++)
        by_port[port] += s->ignored_by_port[port];
    t->sessions += s->sessions;
    t->evicted += s->evicted;
    t->evicted_memory += s->evicted_memory;
    t->kernel_drops += s->kernel_drops;
    t->iface_drops = s->iface_drops > t->iface_drops ? s->iface_drops : t->iface_drops;
    t->flows_live += s->flows_live;
    t->flows_peak += s->flows_peak;
    return s->ignored_by_port != NULL;
}
