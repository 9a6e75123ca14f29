/* The SQLite store's checkpoints on their own thread (store/db/store_ckpt.c): with the
 * writer's automatic checkpoints off, the pages its commits leave in the WAL reach the
 * database file all the same, and the WAL starts again at its beginning instead of
 * growing with every commit. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "store/db/store_ckpt.h"

#define PAGE 16384
#define ROWS_PER_COMMIT 40 /* each row about a page */
#define CKPT_PAGES 100
#define CKPT_MAX_PAGES 400

static gint64 file_size(const char *path)
{
    struct stat sb;
    return g_stat(path, &sb) == 0 ? (gint64)sb.st_size : 0;
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        g_error("%s: %s", sql, msg);
}

static void commit_rows(sqlite3 *db, sqlite3_stmt *ins, const char *blob)
{
    exec(db, "BEGIN IMMEDIATE");
    for (int i = 0; i < ROWS_PER_COMMIT; i++) {
        sqlite3_bind_text(ins, 1, blob, -1, SQLITE_STATIC);
        g_assert_cmpint(sqlite3_step(ins), ==, SQLITE_DONE);
        sqlite3_reset(ins);
    }
    exec(db, "COMMIT");
}

static void test_thread_checkpoints(void)
{
    char *dir = g_dir_make_tmp("mw-ckpt-XXXXXX", NULL);
    char *path = g_build_filename(dir, "t.sqlite", NULL);
    char *wal = g_strconcat(path, "-wal", NULL);
    sqlite3 *db;
    g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
    exec(db, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
             " CREATE TABLE t(x TEXT)");
    mw_sqlite_ckpt *c = mw_sqlite_ckpt_start(db, path, CKPT_PAGES, CKPT_MAX_PAGES);
    g_assert_nonnull(c);
    sqlite3_stmt *ins;
    g_assert_cmpint(sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?1)", -1, &ins, NULL), ==,
                    SQLITE_OK);
    char *blob = g_strnfill(PAGE - 200, 'x');
    /* past CKPT_PAGES, below the writer's own limit */
    int commits = CKPT_PAGES / ROWS_PER_COMMIT + 1;
    for (int i = 0; i < commits; i++)
        commit_rows(db, ins, blob);
    gint64 want = (gint64)commits * ROWS_PER_COMMIT * PAGE * 9 / 10;
    /* the thread copies the pages into the file (the writer does not: its automatic
     * checkpoints are off, and it is below CKPT_MAX_PAGES) */
    for (int i = 0; i < 200 && file_size(path) < want; i++)
        g_usleep(50000);
    g_assert_cmpint(file_size(path), >=, want);
    /* a writer that never pauses: the WAL starts again past CKPT_MAX_PAGES, it never
     * holds much more (a commit's pages, the one the writer copies itself) */
    int more = 3 * CKPT_MAX_PAGES / ROWS_PER_COMMIT;
    for (int i = 0; i < more; i++) {
        commit_rows(db, ins, blob);
        g_assert_cmpint(file_size(wal), <=, (gint64)(CKPT_MAX_PAGES + 3 * ROWS_PER_COMMIT) *
                                                (PAGE + 24) * 2);
    }
    mw_sqlite_ckpt_stop(c);
    sqlite3_finalize(ins);
    g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
    sqlite3 *check;
    g_assert_cmpint(sqlite3_open(path, &check), ==, SQLITE_OK);
    sqlite3_stmt *n;
    g_assert_cmpint(sqlite3_prepare_v2(check, "SELECT count(*) FROM t", -1, &n, NULL), ==,
                    SQLITE_OK);
    g_assert_cmpint(sqlite3_step(n), ==, SQLITE_ROW);
    g_assert_cmpint(sqlite3_column_int(n, 0), ==, (commits + more) * ROWS_PER_COMMIT);
    sqlite3_finalize(n);
    sqlite3_close(check);
    g_unlink(wal);
    g_unlink(path);
    g_rmdir(dir);
    g_free(blob);
    g_free(wal);
    g_free(path);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/store/ckpt/thread", test_thread_checkpoints);
    return g_test_run();
}
