/* A BPF filter on capture files (`mailwire -r f.pcap 'host 10.0.0.5 and port 587'`, as
 * tcpdump reads files): compiled once per link type (a pcapng file may hold several, read
 * by our own reader, so against a dead handle of each), matched with pcap_offline_filter.
 *
 * Why not pcap_setfilter on the files libpcap reads: libpcap then drops the packets that
 * do not match before we see them, and a savefile has no pcap_stats, so nothing could
 * count them; pcap_offline_filter is what libpcap runs for a savefile's filter, here with
 * every packet counted (MW_DROP_FILTERED). */
#ifndef MW_BPF_H
#define MW_BPF_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>

/* Link types compiled for per file (a pcapng with more link types than this: the packets
 * of the others do not match, and are counted as filtered). */
#define MW_BPF_LINKTYPES 8
/* Snapshot length the filter is compiled for on a dead handle (libpcap's largest). */
#define MW_BPF_SNAPLEN 262144

typedef struct mw_bpf mw_bpf;

mw_bpf *mw_bpf_new(const char *expr);
void mw_bpf_free(mw_bpf *b);

/* Compile for dlt: with p's pcap_compile when p is given (a file libpcap reads), else
 * against pcap_open_dead(dlt). False with *err: "bad filter 'EXPR': WHY" (g_free it). */
bool mw_bpf_prepare(mw_bpf *b, pcap_t *p, int dlt, char **err);

/* Does the packet pass? A link type not prepared yet is compiled now (the pcapng reader,
 * on the analysis thread); one the filter does not compile for passes nothing. After
 * mw_bpf_prepare for the only link type, safe on another thread (nothing is written). */
bool mw_bpf_match(mw_bpf *b, int dlt, const struct pcap_pkthdr *h, const uint8_t *data);

#endif
