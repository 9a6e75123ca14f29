/* The per-session arena (core/arena.h): zeroed, aligned allocations; chunks made at first
 * use and doubling to MW_ARENA_CHUNK_MAX; a large allocation in a chunk of its own that
 * leaves the current chunk's room; everything freed in one go (ASan checks the rest); and
 * the session's own use of it (the rarely used part, the auth record). Also what makes a
 * record cheap: its id written without printf, flag texts capped as before, and the
 * evidence array a finished record without flags shares (and gives up at its first flag). */
#include <glib.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/session.h"

static void test_alloc_aligned_zeroed(void)
{
    mw_arena a = { 0 };
    size_t chunks;
    g_assert_cmpuint(mw_arena_bytes(&a, &chunks), ==, 0);
    g_assert_cmpuint(chunks, ==, 0);
    char *prev = NULL;
    for (size_t n = 1; n < 100; n++) {
        unsigned char *p = mw_arena_alloc0(&a, n);
        g_assert_cmpuint((uintptr_t)p % MW_ARENA_ALIGN, ==, 0);
        for (size_t i = 0; i < n; i++)
            g_assert_cmpuint(p[i], ==, 0);
        memset(p, 0xa5, n); /* whole: ASan says if it overlaps a chunk's end */
        g_assert_true((char *)p != prev);
        prev = (char *)p;
    }
    g_assert_cmpuint(mw_arena_bytes(&a, &chunks), >=, 99 * 50);
    g_assert_cmpuint(chunks, >, 1);
    mw_arena_free(&a);
    g_assert_null(a.head);
    mw_arena_free(&a); /* twice: harmless */
}

static void test_chunks_grow_and_big_alone(void)
{
    mw_arena a = { 0 };
    size_t chunks;
    char *s = mw_arena_strndup(&a, "EHLO\0hidden", 11);
    g_assert_cmpstr(s, ==, "EHLO");
    g_assert_cmpmem(s, 12, "EHLO\0hidden", 12);
    mw_arena_bytes(&a, &chunks);
    g_assert_cmpuint(chunks, ==, 1);
    /* a large one gets its own chunk; the small ones go on filling the first */
    void *big = mw_arena_alloc0(&a, MW_ARENA_CHUNK_MAX);
    memset(big, 1, MW_ARENA_CHUNK_MAX);
    mw_arena_bytes(&a, &chunks);
    g_assert_cmpuint(chunks, ==, 2);
    char *t = mw_arena_strndup(&a, "next", 4);
    mw_arena_bytes(&a, &chunks);
    g_assert_cmpuint(chunks, ==, 2);
    g_assert_true(t > s && t < s + MW_ARENA_FIRST_CHUNK);
    /* many: chunk sizes double, so the count stays logarithmic up to the cap */
    for (int i = 0; i < 1000; i++)
        mw_arena_alloc0(&a, 64);
    size_t bytes = mw_arena_bytes(&a, &chunks);
    g_assert_cmpuint(chunks, <, 2 + 20);
    g_assert_cmpuint(bytes, <, 64 * 1000 * 2 + MW_ARENA_CHUNK_MAX * 3);
    mw_arena_strndup(&a, NULL, 0);
    mw_arena_free(&a);
    /* bigger than the first chunk, yet under the own-chunk threshold: a fresh chunk that
     * holds it whole (ASan / valgrind see an overrun) */
    for (size_t n = MW_ARENA_FIRST_CHUNK - 8; n <= MW_ARENA_CHUNK_MAX / 4; n += 200) {
        mw_arena b = { 0 };
        mw_arena_alloc0(&b, 24);
        memset(mw_arena_alloc0(&b, n), 7, n);
        memset(mw_arena_alloc0(&b, n), 7, n);
        mw_arena_free(&b);
    }
}

static void test_session_parts_in_arena(void)
{
    mw_session *s = mw_session_new(1);
    g_assert_null(s->more);
    g_assert_cmpint(mw_session_more_get(s)->idle_at_end_us, ==, -1);
    /* made for the arena: the first chunk comes with the rare part, in its malloc */
    mw_arena *arena = mw_session_arena(s);
    mw_session_more *m = mw_session_more_of(s);
    g_assert_true(&m->arena == arena);
    g_assert_cmpint(m->idle_at_end_us, ==, -1);
    g_assert_true(mw_session_more_of(s) == m);
    size_t chunks;
    g_assert_cmpuint(mw_arena_bytes(&m->arena, &chunks), ==,
                     MW_ARENA_CHUNK_HEAD + MW_SESSION_ARENA_INLINE);
    g_assert_cmpuint(chunks, ==, 1);
    mw_auth_rec *auth = mw_session_auth(s);
    g_assert_true(mw_session_auth(s) == auth);
    g_assert_true((char *)auth > (char *)m && (char *)auth < (char *)(m + 1) + 1024);
    mw_arena_bytes(&m->arena, &chunks);
    g_assert_cmpuint(chunks, ==, 1);
    auth->user = g_strdup("first");
    g_free(auth->user); /* the name is on the heap: it can be replaced */
    auth->user = g_strdup("second");
    char *w = mw_session_wire_strdup(s, (const uint8_t *)"250 PIPELINING\r\n", 16, 8);
    g_assert_cmpstr(w, ==, "250 PIPE");
    g_assert_cmpuint(mw_wire_len((const uint8_t *)"x\r\n", 3, 10), ==, 1);
    mw_session_free(s);
}

/* The rare part made for its fields alone carries no arena room; the arena then makes a
 * chunk of its own at its first use. */
static void test_more_without_arena(void)
{
    mw_session *s = mw_session_new(2);
    mw_session_more *m = mw_session_more_of(s);
    size_t chunks;
    g_assert_cmpuint(mw_arena_bytes(&m->arena, &chunks), ==, 0);
    g_assert_cmpuint(chunks, ==, 0);
    g_assert_cmpstr(mw_session_strndup(s, "abc", 3), ==, "abc");
    g_assert_true(mw_session_arena(s) == &m->arena);
    mw_arena_bytes(&m->arena, &chunks);
    g_assert_cmpuint(chunks, ==, 1);
    mw_session_free(s);
}

static void test_session_id(void)
{
    const uint64_t nums[] = { 0, 1, 9, 10, 99, 100, 4294967296u, 12345678901234567890u,
                              UINT64_MAX };
    for (size_t i = 0; i < G_N_ELEMENTS(nums); i++) {
        mw_session *s = mw_session_new(nums[i]);
        char want[32];
        g_snprintf(want, sizeof want, "s%" G_GUINT64_FORMAT, nums[i]);
        g_assert_cmpstr(s->id, ==, want);
        mw_session_free(s);
    }
}

static void test_flag_text_capped(void)
{
    mw_session *s = mw_session_new(1);
    char *longer = g_strnfill(MW_MAX_TEXT + 100, 'x');
    mw_session_flag(s, MW_FLAG_CAPTURE_GAP, 7, 8, "%s|%d", longer, 42);
    mw_session_flag(s, MW_FLAG_CAPTURE_GAP, 9, 10, "short %u", 5u);
    g_assert_cmpuint(s->evidence->len, ==, 2);
    const char *d0 = g_array_index(s->evidence, mw_evidence, 0).detail;
    g_assert_cmpuint(strlen(d0), ==, MW_MAX_TEXT);
    g_assert_true(strncmp(d0, longer, MW_MAX_TEXT) == 0);
    g_assert_cmpstr(g_array_index(s->evidence, mw_evidence, 1).detail, ==, "short 5");
    g_free(longer);
    mw_session_free(s);
}

/* Texts of %s, %u and %% only are joined without vsnprintf: the same bytes as printf
 * writes (a NULL string as "(null)", UINT_MAX, a literal %, the cap mid-argument). */
static void test_flag_joined_as_printf(void)
{
    mw_session *s = mw_session_new(1);
    char *longer = g_strnfill(MW_MAX_TEXT - 3, 'y');
    const char *none = NULL;
    mw_session_flag(s, MW_FLAG_CAPTURE_GAP, 1, 1, "a %s b %u%% c", "str", 0u);
    mw_session_flag(s, MW_FLAG_CAPTURE_GAP, 1, 1, "%s|%u", none, UINT_MAX);
    mw_session_flag(s, MW_FLAG_CAPTURE_GAP, 1, 1, "%s %s end", longer, "cut here");
    char *want[3] = { g_strdup("a str b 0% c"), g_strdup_printf("(null)|%u", UINT_MAX),
                      g_strdup_printf("%s %s end", longer, "cut here") };
    want[2][MW_MAX_TEXT] = '\0';
    g_assert_cmpuint(s->evidence->len, ==, 3);
    for (guint i = 0; i < 3; i++) {
        g_assert_cmpstr(g_array_index(s->evidence, mw_evidence, i).detail, ==, want[i]);
        g_free(want[i]);
    }
    g_free(longer);
    mw_session_free(s);
}

/* A first chunk given by its owner: used before any malloc, kept (emptied) by mw_arena_free,
 * and the chunks made after it freed. */
static void test_borrowed_first_chunk(void)
{
    _Alignas(MW_ARENA_ALIGN) unsigned char buf[MW_ARENA_CHUNK_HEAD + 128];
    mw_arena a = { 0 };
    mw_arena_init_in(&a, buf, sizeof buf);
    size_t chunks;
    g_assert_cmpuint(mw_arena_bytes(&a, &chunks), ==, sizeof buf);
    char *s = mw_arena_strndup(&a, "abc", 3);
    g_assert_true((unsigned char *)s > buf && (unsigned char *)s < buf + sizeof buf);
    g_assert_cmpstr(s, ==, "abc");
    g_assert_null(mw_arena_strdup_cap(&a, NULL, 4));
    g_assert_cmpstr(mw_arena_strdup_cap(&a, "abcdef", 4), ==, "abcd");
    for (int i = 0; i < 40; i++) /* past the buffer: chunks of their own */
        memset(mw_arena_alloc(&a, 24), 1, 24);
    mw_arena_bytes(&a, &chunks);
    g_assert_cmpuint(chunks, >=, 2);
    mw_arena_free(&a); /* frees the later ones (ASan: no leak), keeps buf */
    g_assert_cmpuint(mw_arena_bytes(&a, &chunks), ==, sizeof buf);
    g_assert_cmpuint(chunks, ==, 1);
    unsigned char *z = mw_arena_alloc0(&a, 16);
    g_assert_true(z == buf + MW_ARENA_CHUNK_HEAD); /* empty again: from its start */
    for (int i = 0; i < 16; i++)
        g_assert_cmpuint(z[i], ==, 0);
    mw_arena_free(&a);
}

/* A detail whose length the caller knows: kept up to it (and the cap), no strlen. */
static void test_flag_textn(void)
{
    mw_session *s = mw_session_new(1);
    mw_session_flag_textn(s, MW_FLAG_AUTH_FAILED, 3, 4, "535 5.7.8 bad credentialsXXX", 25);
    char *longer = g_strnfill(MW_MAX_TEXT + 10, 'y');
    mw_session_flag_textn(s, MW_FLAG_AUTH_FAILED, 5, 6, longer, MW_MAX_TEXT + 10);
    mw_session_flag_log(s, MW_FLAG_RELAY_DENIED, "mail.log", 12, 7, "NOQUEUE: reject");
    g_assert_cmpuint(s->evidence->len, ==, 3);
    g_assert_cmpstr(g_array_index(s->evidence, mw_evidence, 0).detail, ==,
                    "535 5.7.8 bad credentials");
    g_assert_cmpuint(strlen(g_array_index(s->evidence, mw_evidence, 1).detail), ==, MW_MAX_TEXT);
    g_assert_cmpstr(g_array_index(s->evidence, mw_evidence, 2).log_file, ==, "mail.log");
    g_free(longer);
    mw_session_free(s); /* the texts go with the arena (ASan: no leak) */
}

static void test_shared_empty_evidence(void)
{
    mw_session *a = mw_session_new(1), *b = mw_session_new(2);
    mw_session_finish(a);
    mw_session_finish(b);
    g_assert_nonnull(a->evidence);
    g_assert_cmpuint(a->evidence->len, ==, 0);
    g_assert_true(a->evidence == b->evidence); /* one array for both */
    /* a flag after the finish (a joined server log) gets the record its own array */
    mw_session_flag_log(a, MW_FLAG_AUTH_FAILED, "mail.log", 3, 4, "auth failed");
    g_assert_true(a->evidence != b->evidence);
    g_assert_cmpuint(a->evidence->len, ==, 1);
    g_assert_cmpuint(b->evidence->len, ==, 0);
    mw_session_evidence_tx(b, MW_FLAG_AUTH_FAILED, 1); /* nothing to name: no write */
    mw_session_free(a);
    mw_session_free(b);
    mw_session *c = mw_session_new(3); /* the shared array outlives the records */
    mw_session_finish(c);
    g_assert_cmpuint(c->evidence->len, ==, 0);
    mw_session_free(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/arena/alloc_aligned_zeroed", test_alloc_aligned_zeroed);
    g_test_add_func("/arena/chunks_grow_big_alone", test_chunks_grow_and_big_alone);
    g_test_add_func("/arena/session_parts", test_session_parts_in_arena);
    g_test_add_func("/arena/session_id", test_session_id);
    g_test_add_func("/arena/more_without_arena", test_more_without_arena);
    g_test_add_func("/arena/flag_text_capped", test_flag_text_capped);
    g_test_add_func("/arena/shared_empty_evidence", test_shared_empty_evidence);
    g_test_add_func("/arena/borrowed_first_chunk", test_borrowed_first_chunk);
    g_test_add_func("/arena/flag_textn", test_flag_textn);
    g_test_add_func("/arena/flag_joined_as_printf", test_flag_joined_as_printf);
    return g_test_run();
}
