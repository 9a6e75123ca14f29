/* Test helper: a conversation with a capture gap, then a line cut at every offset. The
 * record must be the same however the bytes after the gap were cut (issue 15 item 6). */
#ifndef MW_TU_GAP_H
#define MW_TU_GAP_H

#include "testutil.h"

/* Feed `before` whole, a gap of `missing` bytes in `dir`, then `line` in `dir` cut at
 * `cut` (0: one piece), then `after` whole. Returns the record (caller frees). */
static inline char *tu_gap_run(const char *dissector, mw_proto proto, const char *before,
                               mw_dir dir, uint64_t missing, const char *line, size_t cut,
                               const char *after)
{
    static mw_config cfg;
    mw_config_defaults(&cfg);
    mw_session *s = mw_session_new(1);
    s->protocol = proto;
    s->syn_seen = s->synack_seen = true;
    s->client.family = s->server.family = 4;
    mw_feeder f;
    mw_feeder_init(&f, mw_dissector_by_name(dissector), s, &cfg);
    GPtrArray *b = tu_script(before), *a = tu_script(after);
    uint64_t frame = 0;
    for (guint i = 0; i < b->len; i++) {
        tu_chunk *c = g_ptr_array_index(b, i);
        s->bytes[c->dir] += c->bytes->len;
        tu_feed_guarded(&f, c->dir, c->bytes->data, c->bytes->len, ++frame);
    }
    mw_feeder_gap(&f, dir, missing, ++frame, 0);
    size_t len = strlen(line);
    s->bytes[dir] += len;
    if (cut > 0 && cut < len) {
        tu_feed_guarded(&f, dir, (const uint8_t *)line, cut, ++frame);
        tu_feed_guarded(&f, dir, (const uint8_t *)line + cut, len - cut, frame);
    } else {
        tu_feed_guarded(&f, dir, (const uint8_t *)line, len, ++frame);
    }
    for (guint i = 0; i < a->len; i++) {
        tu_chunk *c = g_ptr_array_index(a, i);
        s->bytes[c->dir] += c->bytes->len;
        tu_feed_guarded(&f, c->dir, c->bytes->data, c->bytes->len, ++frame);
    }
    s->close_reason = MW_CLOSE_FIN;
    mw_feeder_close(&f, frame + 1, (int64_t)(frame + 1) * 1000);
    mw_feeder_free(&f);
    mw_session_finish(s);
    tu_free_script(b);
    tu_free_script(a);
    char *j = tu_json(s);
    mw_session_free(s);
    return j;
}

/* The record of the uncut run; asserts every cut gives the same one (caller frees). */
static inline char *tu_gap_all_cuts(const char *dissector, mw_proto proto, const char *before,
                                    mw_dir dir, const char *line, const char *after)
{
    char *want = tu_gap_run(dissector, proto, before, dir, 100, line, 0, after);
    for (size_t k = 1; k < strlen(line); k++) {
        char *got = tu_gap_run(dissector, proto, before, dir, 100, line, k, after);
        if (strcmp(got, want) != 0)
            g_error("gap, then the line cut at %zu differs:\n got %s\nwant %s", k, got, want);
        g_free(got);
    }
    return want;
}

#endif
