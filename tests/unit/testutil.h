/* Test helpers: scripted two-way conversations fed to a dissector through the real
 * delivery path (mw_feeder), whole, byte by byte, and split at every offset, with each
 * piece placed against a guard page so that any over-read faults at once. */
#ifndef MW_TESTUTIL_H
#define MW_TESTUTIL_H

#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/feeder.h"
#include "output/output.h"
#include "output/record_json.h"
#include "dissector.h"
#include "output/text_writer.h"
#include "registry.h"

typedef struct {
    mw_dir dir;
    GByteArray *bytes;
} tu_chunk;

/* "C: EHLO x\nS: 250 ok\n" -> chunks, each line CRLF-terminated. A line "C+ text" appends
 * to the previous client chunk instead of starting a new one (pipelining); "S+" likewise. */
static inline GPtrArray *tu_script(const char *script)
{
    GPtrArray *chunks = g_ptr_array_new();
    gchar **lines = g_strsplit(script, "\n", -1);
    for (gchar **l = lines; *l; l++) {
        if (strlen(*l) < 3)
            continue;
        mw_dir d = (*l)[0] == 'C' ? MW_FROM_CLIENT : MW_FROM_SERVER;
        bool append = (*l)[1] == '+';
        const char *text = *l + 3;
        tu_chunk *c = NULL;
        if (append && chunks->len) {
            tu_chunk *last = g_ptr_array_index(chunks, chunks->len - 1);
            if (last->dir == d)
                c = last;
        }
        if (!c) {
            c = g_new0(tu_chunk, 1);
            c->dir = d;
            c->bytes = g_byte_array_new();
            g_ptr_array_add(chunks, c);
        }
        g_byte_array_append(c->bytes, (const guint8 *)text, (guint)strlen(text));
        g_byte_array_append(c->bytes, (const guint8 *)"\r\n", 2);
    }
    g_strfreev(lines);
    return chunks;
}

static inline void tu_add_raw(GPtrArray *chunks, mw_dir d, const void *p, size_t len)
{
    tu_chunk *c = g_new0(tu_chunk, 1);
    c->dir = d;
    c->bytes = g_byte_array_new();
    g_byte_array_append(c->bytes, p, (guint)len);
    g_ptr_array_add(chunks, c);
}

static inline void tu_free_script(GPtrArray *chunks)
{
    for (guint i = 0; i < chunks->len; i++) {
        tu_chunk *c = g_ptr_array_index(chunks, i);
        g_byte_array_free(c->bytes, TRUE);
        g_free(c);
    }
    g_ptr_array_free(chunks, TRUE);
}

/* Feed len bytes that end exactly at a PROT_NONE page. */
static inline void tu_feed_guarded(mw_feeder *f, mw_dir d, const uint8_t *p, size_t len,
                                   uint64_t frame)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t span = (len + page - 1) / page * page + page;
    if (len == 0)
        return;
    uint8_t *m = mmap(NULL, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    g_assert(m != MAP_FAILED);
    g_assert(mprotect(m + span, page, PROT_NONE) == 0);
    uint8_t *at = m + span - len;
    memcpy(at, p, len);
    mw_feeder_data(f, d, at, len, frame, (int64_t)frame * 1000);
    munmap(m, span + page);
}

typedef enum {
    TU_WHOLE,      /* each chunk in one piece */
    TU_BYTEWISE,   /* every byte on its own */
    TU_SPLIT,      /* chunk `split_chunk` cut at `split_at` */
} tu_mode;

typedef void (*tu_prep)(mw_session *s);

/* When set, tu_run keeps the session's transcript (as -v does), and tu_run_all_ways
 * asserts that the transcript, too, is the same however the input was cut. */
static bool tu_keep_transcript;
/* When set, tu_run's configuration carries this key log (TLS decryption tests). */
static struct mw_keylog *tu_keylog;

/* Run the conversation; returns the finished session (caller frees). */
static inline mw_session *tu_run(const char *dissector, mw_proto proto, GPtrArray *chunks,
                                 tu_mode mode, guint split_chunk, size_t split_at)
{
    static mw_config cfg;
    mw_config_defaults(&cfg);
    cfg.keylog = tu_keylog;
    mw_session *s = mw_session_new(1);
    if (tu_keep_transcript)
        mw_session_keep_transcript(s);
    s->protocol = proto;
    s->syn_seen = s->synack_seen = true;
    s->client.family = s->server.family = 4;
    const mw_dissector *d = mw_dissector_by_name(dissector);
    g_assert_nonnull(d);
    mw_feeder f;
    mw_feeder_init(&f, d, s, &cfg);
    uint64_t frame = 0;
    for (guint i = 0; i < chunks->len; i++) {
        tu_chunk *c = g_ptr_array_index(chunks, i);
        const uint8_t *p = c->bytes->data;
        size_t len = c->bytes->len;
        s->bytes[c->dir] += len;
        frame++;
        if (mode == TU_BYTEWISE) {
            for (size_t k = 0; k < len; k++)
                tu_feed_guarded(&f, c->dir, p + k, 1, frame);
        } else if (mode == TU_SPLIT && i == split_chunk && split_at < len) {
            tu_feed_guarded(&f, c->dir, p, split_at, frame);
            tu_feed_guarded(&f, c->dir, p + split_at, len - split_at, frame);
        } else {
            tu_feed_guarded(&f, c->dir, p, len, frame);
        }
    }
    s->close_reason = MW_CLOSE_FIN;
    mw_feeder_close(&f, frame + 1, (int64_t)(frame + 1) * 1000);
    mw_feeder_free(&f);
    mw_session_finish(s);
    return s;
}

static inline char *tu_json(const mw_session *s)
{
    GString *g = g_string_new(NULL);
    mw_record_json(g, s);
    return g_string_free(g, FALSE);
}

/* The transcript as text, one event a line: "C> text" / "S< text (+N us)"; with_frames
 * adds each event's frame and time in front ("#3 3000 "). "" when none is kept. */
static inline char *tu_transcript_ex(const mw_session *s, bool with_frames)
{
    GString *g = g_string_new(NULL);
    for (guint i = 0; s->transcript && i < s->transcript->len; i++) {
        const mw_event *e = &g_array_index(s->transcript, mw_event, i);
        if (with_frames)
            g_string_append_printf(g, "#%" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " ", e->frame,
                                   e->ts_us);
        g_string_append_printf(g, "%s %s", e->dir == MW_FROM_CLIENT ? "C>" : "S<", e->text);
        if (e->latency_us >= 0)
            g_string_append_printf(g, " (+%" G_GINT64_FORMAT " us)", e->latency_us);
        g_string_append_c(g, '\n');
    }
    if (s->transcript_dropped)
        g_string_append_printf(g, "... %u more\n", s->transcript_dropped);
    return g_string_free(g, FALSE);
}

static inline char *tu_transcript(const mw_session *s)
{
    return tu_transcript_ex(s, false);
}

/* The record, and with tu_keep_transcript the full transcript after it. */
static inline char *tu_json_and_transcript(const mw_session *s)
{
    char *j = tu_json(s);
    if (!tu_keep_transcript)
        return j;
    char *t = tu_transcript_ex(s, true);
    char *both = g_strconcat(j, "\n", t, NULL);
    g_free(j);
    g_free(t);
    return both;
}

/* Run whole, byte by byte and split at every offset of every chunk; assert that all
 * give the same record, and return the session of the whole run (caller frees). */
static inline mw_session *tu_run_all_ways(const char *dissector, mw_proto proto,
                                          GPtrArray *chunks)
{
    mw_session *whole = tu_run(dissector, proto, chunks, TU_WHOLE, 0, 0);
    char *want = tu_json_and_transcript(whole);
    mw_session *bw = tu_run(dissector, proto, chunks, TU_BYTEWISE, 0, 0);
    char *got = tu_json_and_transcript(bw);
    g_assert_cmpstr(got, ==, want);
    g_free(got);
    mw_session_free(bw);
    for (guint i = 0; i < chunks->len; i++) {
        tu_chunk *c = g_ptr_array_index(chunks, i);
        for (size_t k = 1; k < c->bytes->len; k++) {
            mw_session *sp = tu_run(dissector, proto, chunks, TU_SPLIT, i, k);
            got = tu_json_and_transcript(sp);
            if (strcmp(got, want) != 0)
                g_error("split of chunk %u at %zu differs:\n got %s\nwant %s", i, k, got, want);
            g_free(got);
            mw_session_free(sp);
        }
    }
    g_free(want);
    return whole;
}

/* The reply/failure whose text contains `needle`, or NULL. */
static inline const mw_evidence *tu_evidence(const mw_session *s, mw_flag f)
{
    for (guint i = 0; s->evidence && i < s->evidence->len; i++) {
        const mw_evidence *e = &g_array_index(s->evidence, mw_evidence, i);
        if (e->flag == f)
            return e;
    }
    return NULL;
}

/* Does any output of the session (JSON record, with the transcript when one is kept)
 * contain the string? */
static inline bool tu_json_contains(const mw_session *s, const char *needle)
{
    GString *g = g_string_new(NULL);
    mw_record_json_ex(g, s, true);
    bool found = strstr(g->str, needle) != NULL;
    g_string_free(g, TRUE);
    return found;
}

/* Run with the transcript kept (compared across every way of cutting the input), and
 * once without: the record must not depend on it. Frees the chunks. */
static inline mw_session *tu_run_with_transcript(const char *dissector, mw_proto proto,
                                                 GPtrArray *c)
{
    tu_keep_transcript = true;
    mw_session *s = tu_run_all_ways(dissector, proto, c);
    tu_keep_transcript = false;
    g_assert_nonnull(s->transcript);
    mw_session *plain = tu_run(dissector, proto, c, TU_WHOLE, 0, 0);
    g_assert_null(plain->transcript);
    char *a = tu_json(s), *b = tu_json(plain);
    g_assert_cmpstr(a, ==, b);
    g_free(a);
    g_free(b);
    mw_session_free(plain);
    tu_free_script(c);
    return s;
}

static inline void tu_assert_transcript(const mw_session *s, const char *want)
{
    char *got = tu_transcript(s);
    g_assert_cmpstr(got, ==, want);
    g_free(got);
}

/* The test passwords of the scripted conversations, plain and in base64. */
#define TU_PASSWORDS "Swordfish-42x", "U3dvcmRmaXNoLTQyeA", "Wrong-Pa55word", "V3JvbmctUGE1NXdvcmQ"

/* No output of the session (JSON record, with the transcript when one is kept; text
 * summary; -v transcript) contains any of the strings (a NULL-terminated list). */
static inline void tu_assert_no_secret(const mw_session *s, const char *const *secrets)
{
    GString *t = g_string_new(NULL);
    mw_text_session(t, s);
    mw_text_transcript(t, s);
    for (const char *const *p = secrets; *p; p++) {
        g_assert_false(tu_json_contains(s, *p));
        g_assert_null(strstr(t->str, *p));
    }
    g_string_free(t, TRUE);
}

/* tu_run_with_transcript (frees the chunks), then tu_assert_no_secret. */
static inline mw_session *tu_run_no_secret(const char *dissector, mw_proto proto, GPtrArray *c,
                                           const char *const *secrets)
{
    mw_session *s = tu_run_with_transcript(dissector, proto, c);
    tu_assert_no_secret(s, secrets);
    return s;
}

#endif
