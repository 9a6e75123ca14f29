/* Shared body of the dissector harnesses: the input is a scripted two-direction byte
 * stream, fed through mw_feeder exactly as the engine and the unit tests feed it, then
 * closed and written with the JSON and text writers.
 *
 * Input format (all of it optional; a short input is just a short conversation):
 *   byte 0        settings: bit 0 keep a transcript (-v), bit 1 --max-line 64
 *                 (over-long lines come cheap), bits 2-3 pick the session's protocol
 *                 from FUZZ_PROTOS
 *   then records  op (1 byte), len (2 bytes, big endian), then len bytes of data
 *                 (fewer if the input ends first):
 *                 op bit 0    direction: 0 client, 1 server
 *                 op bit 6    the segment carries an ACK of everything the other side
 *                             sent so far (ctx->ack_known / peer_acked)
 *                 op & 0xF0 == 0xF0: not data but a gap of len bytes in that direction
 *                             (len 0: the stream starts mid-session); no data follows
 * Each data chunk is copied to a heap block of exactly its size so that ASan sees an
 * over-read past the end of a segment. make_seeds.py writes this format. */
#ifndef MW_FUZZ_STREAM_H
#define MW_FUZZ_STREAM_H

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "engine/feeder.h"
#include "output/output.h"
#include "output/record_json.h"
#include "dissector.h"
#include "output/text_writer.h"
#include "registry.h"

static int fuzz_stream_one(const char *dissector, const mw_proto protos[4], const uint8_t *data,
                           size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t settings = data[0];
    data++;
    size--;

    mw_config cfg;
    mw_config_defaults(&cfg);
    cfg.keep_transcript = settings & 1;
    if (settings & 2)
        cfg.max_line = 64;

    const mw_dissector *d = mw_dissector_by_name(dissector);
    if (!d)
        abort();
    mw_session *s = mw_session_new(1);
    if (cfg.keep_transcript)
        mw_session_keep_transcript(s);
    s->protocol = protos[(settings >> 2) & 3];
    s->syn_seen = s->synack_seen = true;
    s->client.family = s->server.family = 4;
    s->client.port = 40000;
    s->server.port = 25;

    mw_feeder f;
    mw_feeder_init(&f, d, s, &cfg);
    uint64_t frame = 0, sent[2] = { 0, 0 };
    while (size >= 3) {
        const uint8_t op = data[0];
        size_t len = (size_t)data[1] << 8 | data[2];
        data += 3;
        size -= 3;
        const mw_dir dir = (op & 1) ? MW_FROM_SERVER : MW_FROM_CLIENT;
        frame++;
        const int64_t ts = (int64_t)frame * 1000;
        if ((op & 0xF0) == 0xF0) {
            sent[dir] += len;
            mw_feeder_gap(&f, dir, len, frame, ts);
            continue;
        }
        if (len > size)
            len = size;
        uint8_t *chunk = malloc(len ? len : 1);
        memcpy(chunk, data, len);
        s->packets[dir]++;
        s->bytes[dir] += len;
        sent[dir] += len;
        mw_feeder_data_acked(&f, dir, chunk, len, frame, ts, op & 0x40, sent[!dir]);
        free(chunk);
        data += len;
        size -= len;
    }
    s->close_reason = MW_CLOSE_FIN;
    mw_feeder_close(&f, frame + 1, (int64_t)(frame + 1) * 1000);
    mw_feeder_free(&f);
    mw_session_finish(s);

    GString *out = g_string_new(NULL);
    mw_record_json_ex(out, s, true);
    g_string_append_c(out, '\n');
    mw_text_session(out, s);
    mw_text_transcript(out, s);
    g_string_free(out, TRUE);
    mw_session_free(s);
    return 0;
}

#endif
