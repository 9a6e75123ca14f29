/* engine/spares.h: kept blocks come back zeroed, at most max are kept. */
#include <glib.h>
#include <string.h>

#include "core/spares.h"

static void test_reuse_zeroed(void)
{
    mw_spares sp;
    mw_spares_init(&sp, 64, 2);
    unsigned char *a = mw_spares_take(&sp);
    memset(a, 0xab, 64);
    mw_spares_give(&sp, a);
    g_assert_cmpuint(sp.n, ==, 1);
    unsigned char *b = mw_spares_take(&sp);
    g_assert_true(b == a); /* the kept block is handed out again */
    for (int i = 0; i < 64; i++)
        g_assert_cmpuint(b[i], ==, 0);
    g_assert_cmpuint(sp.n, ==, 0);
    mw_spares_give(&sp, b);
    mw_spares_free(&sp);
    g_assert_null(sp.head);
}

static void test_at_most_max(void)
{
    mw_spares sp;
    mw_spares_init(&sp, 1, 3); /* a block is at least a pointer */
    g_assert_cmpuint(sp.size, ==, sizeof(void *));
    void *p[5];
    for (int i = 0; i < 5; i++)
        p[i] = mw_spares_take(&sp);
    for (int i = 0; i < 5; i++)
        mw_spares_give(&sp, p[i]);
    g_assert_cmpuint(sp.n, ==, 3);
    mw_spares_give(&sp, NULL);
    g_assert_cmpuint(sp.n, ==, 3);
    mw_spares_free(&sp);
    g_assert_cmpuint(sp.n, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/spares/reuse_zeroed", test_reuse_zeroed);
    g_test_add_func("/spares/at_most_max", test_at_most_max);
    return g_test_run();
}
