/* libFuzzer harness: whole captures through the engine — libpcap's file reader, link
 * decoding (every supported DLT), IPv4/IPv6/TCP, the flow table, reassembly, detection,
 * every dissector and the writers.
 *
 * The input is a capture file (pcap or pcapng). In a classic pcap header the otherwise
 * unused sigfigs field (byte 12) picks the settings: bit 0 keeps transcripts (-v), bit 1
 * small caps (--max-flows 4, --max-ooo-bytes 2048, --max-line 64, --idle-timeout 1) so
 * that eviction, the out-of-order cap, over-long lines and idle closes come cheap; bit 2
 * clear reads it from memory (fmemopen) with each frame copied to a block of exactly its
 * caplen, so an over-read of a frame is an ASan report. pcapng inputs, and classic ones
 * with bit 2 set, go through mailwire's own reader instead (mw_capture_open +
 * mw_capture_run on a file in /dev/shm), so capture.c is fuzzed as it runs. Seeds: the
 * small captures of pcaps/ (make_seeds.py). */
#include <glib.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "input/capture.h"
#include "core/config.h"
#include "input/decode.h"
#include "engine/detect.h"
#include "engine/flow.h"
#include "output/output.h"
#include "output/record_json.h"
#include "input/linktype.h"
#include "output/text_writer.h"

static char file_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    snprintf(file_path, sizeof file_path, "/dev/shm/mw-fuzz-engine-%ld.pcap", (long)getpid());
    return 0;
}

/* mailwire's own path: the input as a capture file, read by mw_capture_run. */
static void run_capture_file(const uint8_t *data, size_t size, mw_engine *e)
{
    FILE *fp = fopen(file_path, "wb");
    if (!fp)
        abort();
    fwrite(data, 1, size, fp);
    fclose(fp);
    char *err = NULL, *warn = NULL;
    mw_capture *c = mw_capture_open(file_path, &err);
    unlink(file_path); /* open (or not): nothing left behind if the run crashes */
    if (c) {
        mw_capture_run(c, e, &err, &warn);
        mw_capture_close(c);
    }
    g_free(err);
    g_free(warn);
}

static void on_session(const mw_session *s, void *user)
{
    GString *out = user;
    g_string_truncate(out, 0);
    mw_record_json_ex(out, s, true);
    g_string_append_c(out, '\n');
    mw_text_session(out, s);
    mw_text_transcript(out, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 24)
        return 0;
    mw_config cfg;
    mw_config_defaults(&cfg);
    const uint32_t magic = (uint32_t)data[0] << 24 | data[1] << 16 | data[2] << 8 | data[3];
    const bool classic = magic == 0xa1b2c3d4 || magic == 0xd4c3b2a1 || magic == 0xa1b23c4d ||
                         magic == 0x4d3cb2a1;
    const uint8_t settings = classic ? data[12] : 0;
    cfg.keep_transcript = settings & 1;
    if (settings & 2) {
        cfg.max_flows = 4;
        cfg.max_ooo_bytes = 2048;
        cfg.max_line = 64;
        cfg.idle_timeout_us = 1000000;
    }

    if (!classic || (settings & 4)) {
        GString *out = g_string_new(NULL);
        mw_engine *e = mw_engine_new(&cfg, on_session, out);
        run_capture_file(data, size, e);
        mw_engine_finish(e);
        mw_engine_free(e);
        g_string_free(out, TRUE);
        return 0;
    }

    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp)
        return 0;
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO,
                                                         errbuf);
    if (!p) /* pcap_fopen_offline closes fp only on success */
    {
        fclose(fp);
        return 0;
    }
    const int dlt = pcap_datalink(p);
    if (!mw_linktype_supported(dlt)) {
        pcap_close(p);
        return 0;
    }
    GString *out = g_string_new(NULL);
    mw_engine *e = mw_engine_new(&cfg, on_session, out);
    mw_engine_new_file(e);
    struct pcap_pkthdr *h;
    const u_char *pkt;
    uint64_t frame = 0;
    while (pcap_next_ex(p, &h, &pkt) == 1) {
        frame++;
        /* A copy of exactly caplen bytes: an over-read of the frame is an ASan report. */
        uint8_t *copy = g_memdup2(pkt, h->caplen ? h->caplen : 1);
        mw_packet mp;
        mw_decode_status ds = mw_decode(dlt, copy, h->caplen, &mp);
        /* wrapping, as an unsanitised capture.c does; its own overflow is found on the
         * mw_capture_run path */
        const int64_t ts = (int64_t)((uint64_t)h->ts.tv_sec * G_USEC_PER_SEC +
                                     (uint64_t)h->ts.tv_usec);
        mw_engine_decoded(e, ds, &mp, frame, ts);
        g_free(copy);
    }
    mw_engine_finish(e);
    mw_engine_free(e);
    pcap_close(p);
    g_string_free(out, TRUE);
    return 0;
}
