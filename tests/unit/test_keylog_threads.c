/* Key log store from several threads at once (live --workers, issue 18): two threads look
 * secrets up (and refresh, as a worker does when a key is missing) while a third appends to
 * a followed key log and refreshes it. Every secret read must be whole (one line's value,
 * never half of an overwritten one), and every line written must be found in the end. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "tls/decrypt/keylog.h"

/* Client randoms written, in batches; each is logged twice (a first value, then a second
 * that overwrites it in place), so that a torn copy would show. */
#define N_RANDOMS 2000
#define BATCH 20

typedef struct {
    mw_keylog *kl;
    const char *path;
    gint writer_done;
    gint torn;   /* secrets read that were neither value */
    gint found;  /* look-ups that found a secret */
} shared;

static void pattern(unsigned seed, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)((seed + (unsigned)i * 7) & 0xff);
}

static void random_of(unsigned r, uint8_t out[MW_KEYLOG_RANDOM_LEN])
{
    pattern(r * 13 + 1, MW_KEYLOG_RANDOM_LEN, out);
    memcpy(out, &r, sizeof r); /* distinct for every r */
}

static void append_line(FILE *f, unsigned r, unsigned seed)
{
    uint8_t rnd[MW_KEYLOG_RANDOM_LEN], sec[48];
    random_of(r, rnd);
    pattern(seed, sizeof sec, sec);
    fputs("CLIENT_RANDOM ", f);
    for (size_t i = 0; i < sizeof rnd; i++)
        fprintf(f, "%02x", rnd[i]);
    fputc(' ', f);
    for (size_t i = 0; i < sizeof sec; i++)
        fprintf(f, "%02x", sec[i]);
    fputc('\n', f);
}

/* The first value of random r, and the one that overwrites it. */
static unsigned first_seed(unsigned r) { return 3 * r + 5; }
static unsigned second_seed(unsigned r) { return 3 * r + 200; }

static gpointer writer(gpointer data)
{
    shared *sh = data;
    for (unsigned r = 0; r < N_RANDOMS; r += BATCH) {
        FILE *f = fopen(sh->path, "a");
        g_assert_nonnull(f);
        for (unsigned i = r; i < r + BATCH; i++)
            append_line(f, i, first_seed(i));
        if (r >= BATCH) /* the batch before, overwritten */
            for (unsigned i = r - BATCH; i < r; i++)
                append_line(f, i, second_seed(i));
        fclose(f);
        mw_keylog_refresh(sh->kl);
        g_usleep(200);
    }
    FILE *f = fopen(sh->path, "a");
    for (unsigned i = N_RANDOMS - BATCH; i < N_RANDOMS; i++)
        append_line(f, i, second_seed(i));
    fclose(f);
    mw_keylog_refresh(sh->kl);
    g_atomic_int_set(&sh->writer_done, 1);
    return NULL;
}

static void check_one(shared *sh, unsigned r)
{
    uint8_t rnd[MW_KEYLOG_RANDOM_LEN], got[MW_KEYLOG_SECRET_MAX], a[48], b[48];
    size_t len = 0;
    random_of(r, rnd);
    if (!mw_keylog_copy(sh->kl, rnd, MW_KEYLOG_CLIENT_RANDOM, got, &len))
        return;
    g_atomic_int_inc(&sh->found);
    pattern(first_seed(r), sizeof a, a);
    pattern(second_seed(r), sizeof b, b);
    if (len != 48 || (memcmp(got, a, 48) != 0 && memcmp(got, b, 48) != 0))
        g_atomic_int_inc(&sh->torn);
}

static gpointer reader(gpointer data)
{
    shared *sh = data;
    unsigned pass = 0;
    while (!g_atomic_int_get(&sh->writer_done) || pass < 2) {
        if (g_atomic_int_get(&sh->writer_done))
            pass++;
        for (unsigned r = 0; r < N_RANDOMS; r++)
            check_one(sh, r);
        /* as a worker whose key is missing: a refresh of its own, the counters read */
        mw_keylog_refresh(sh->kl);
        g_assert_true(mw_keylog_may_grow(sh->kl));
        (void)mw_keylog_get_stats(sh->kl);
        g_ptr_array_unref(mw_keylog_take_messages(sh->kl));
    }
    return NULL;
}

static void test_two_readers_one_refresher(void)
{
    char *dir = g_dir_make_tmp("mw-keylog-threads-XXXXXX", NULL);
    g_assert_nonnull(dir);
    char *path = g_build_filename(dir, "live.keys", NULL);
    g_assert_true(g_file_set_contents(path, "", 0, NULL));
    shared sh = { .kl = mw_keylog_new(), .path = path };
    g_assert_true(mw_keylog_add_file(sh.kl, path, true));

    GThread *t[3] = { g_thread_new("reader-1", reader, &sh), g_thread_new("reader-2", reader, &sh),
                      g_thread_new("refresher", writer, &sh) };
    for (int i = 0; i < 3; i++)
        g_thread_join(t[i]);

    g_assert_cmpint(g_atomic_int_get(&sh.torn), ==, 0);
    g_assert_cmpint(g_atomic_int_get(&sh.found), >, 0);
    mw_keylog_stats st = mw_keylog_get_stats(sh.kl);
    g_assert_cmpuint(st.entries, ==, N_RANDOMS);
    g_assert_cmpuint(st.secrets, ==, N_RANDOMS);
    g_assert_cmpuint(st.duplicates, ==, N_RANDOMS);
    g_assert_cmpuint(st.malformed, ==, 0);
    for (unsigned r = 0; r < N_RANDOMS; r++) { /* every random, at its second value */
        uint8_t rnd[MW_KEYLOG_RANDOM_LEN], got[MW_KEYLOG_SECRET_MAX], want[48];
        size_t len = 0;
        random_of(r, rnd);
        pattern(second_seed(r), sizeof want, want);
        g_assert_true(mw_keylog_copy(sh.kl, rnd, MW_KEYLOG_CLIENT_RANDOM, got, &len));
        g_assert_cmpuint(len, ==, 48);
        g_assert_cmpmem(got, 48, want, 48);
    }
    mw_keylog_free(sh.kl);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keylog/threads/two-readers-one-refresher", test_two_readers_one_refresher);
    return g_test_run();
}
