/* The SQLite store's writes with the columns packed on the writer thread (store_cols.c's
 * form, built here by hand): the findings rows of a batch go several to an INSERT OR
 * IGNORE (no statement journal), all of them stored, in order; a finding without a flag
 * still refuses its batch (nothing of it stored), as a plain INSERT's NOT NULL did. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/db/store_fields.h"
#include "store/store_db.h"

#define ROWS 70 /* two statements of MW_SQLITE_FINDINGS_ROWS and a few one at a time */

static void pack_s(GString *g, const char *s)
{
    if (s)
        mw_sf_pack(g, MW_SF_STR, s, strlen(s));
    else
        mw_sf_pack(g, MW_SF_NULL, NULL, 0);
}

/* The 13 columns and one finding (flag may be NULL). */
static GString *packed(const char *uid, const char *flag, int frame)
{
    GString *g = g_string_new(NULL);
    const char *cols[13] = { uid, "2024-05-01T09:00:00.000000Z", "2024-05-01T09:00:01.000000Z",
                             "gw", NULL, "10.0.0.1", "5000", "10.0.0.2", "25", "smtp", "ok",
                             NULL, NULL };
    for (int i = 0; i < 13; i++) {
        if (i == 6 || i == 8)
            mw_sf_pack(g, MW_SF_NUM, cols[i], strlen(cols[i]));
        else
            pack_s(g, cols[i]);
    }
    mw_sf_pack_count(g, 1);
    char fr[16];
    g_snprintf(fr, sizeof fr, "%d", frame);
    pack_s(g, flag);
    mw_sf_pack(g, MW_SF_NUM, fr, strlen(fr));
    pack_s(g, "2024-05-01T09:00:00.500000Z");
    pack_s(g, NULL); /* source: 'wire' */
    pack_s(g, "why");
    return g;
}

static int count(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_findings_rows(void)
{
    char *dir = g_dir_make_tmp("mw-sqlite-XXXXXX", NULL);
    char *path = g_build_filename(dir, "s.sqlite", NULL);
    char *err = NULL;
    mw_store_db *db = mw_store_db_open(path, true, &err);
    g_assert_nonnull(db);
    mw_store_row rows[ROWS];
    GString *cols[ROWS];
    char *uids[ROWS];
    for (int i = 0; i < ROWS; i++) {
        uids[i] = g_strdup_printf("m%04d", i);
        cols[i] = packed(uids[i], i % 2 ? "auth_failed" : "relay_denied", i);
        rows[i] = (mw_store_row){ "{}", NULL, cols[i]->str, cols[i]->len };
    }
    g_assert_cmpint(mw_store_db_write(db, rows, ROWS, &err), ==, MW_DB_OK);
    g_assert_null(err);
    /* one a session, in the batch's order, every column */
    g_assert_cmpint(count(path, "SELECT count(*) FROM findings"), ==, ROWS);
    g_assert_cmpint(count(path, "SELECT count(*) FROM findings f JOIN sessions s USING (uid)"
                                " WHERE f.rowid = s.rowid AND f.frame = f.rowid - 1"
                                " AND f.flag = CASE f.frame % 2 WHEN 1 THEN 'auth_failed'"
                                " ELSE 'relay_denied' END AND f.source = 'wire'"
                                " AND f.ts = '2024-05-01T09:00:00.500000Z' AND f.detail = 'why'"),
                     ==, ROWS);
    /* a finding without a flag, among the rows of a multi-row INSERT: refused, and none of the batch stored */
    GString *more[ROWS];
    for (int i = 0; i < ROWS; i++) {
        g_free(uids[i]);
        uids[i] = g_strdup_printf("n%04d", i);
        more[i] = packed(uids[i], i == 5 ? NULL : "auth_failed", i);
        rows[i] = (mw_store_row){ "{}", NULL, more[i]->str, more[i]->len };
    }
    g_assert_cmpint(mw_store_db_write(db, rows, ROWS, &err), ==, MW_DB_REFUSED);
    g_assert_nonnull(err);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(count(path, "SELECT count(*) FROM sessions"), ==, ROWS);
    g_assert_cmpint(count(path, "SELECT count(*) FROM findings"), ==, ROWS);
    /* alone, the others are stored */
    g_assert_cmpint(mw_store_db_write(db, rows, 1, &err), ==, MW_DB_OK);
    g_assert_cmpint(count(path, "SELECT count(*) FROM findings"), ==, ROWS + 1);
    /* stored and new sessions in one multi-row INSERT: the new ones with their findings */
    GString *mix[ROWS];
    for (int i = 0; i < ROWS; i++) {
        g_free(uids[i]);
        uids[i] = g_strdup_printf(i % 2 ? "m%04d" : "p%04d", i);
        mix[i] = packed(uids[i], "auth_failed", 1000 + i);
        rows[i] = (mw_store_row){ "{}", NULL, mix[i]->str, mix[i]->len };
    }
    g_assert_cmpint(mw_store_db_write(db, rows, ROWS, &err), ==, MW_DB_OK);
    g_assert_cmpint(count(path, "SELECT count(*) FROM sessions"), ==, ROWS + 1 + ROWS / 2);
    g_assert_cmpint(count(path, "SELECT count(*) FROM findings WHERE frame >= 1000"), ==, ROWS / 2);
    g_assert_cmpint(count(path, "SELECT count(*) FROM findings f JOIN sessions s USING (uid)"
                                " WHERE f.frame >= 1000 AND s.uid LIKE 'p%'"
                                " AND f.frame = 1000 + CAST(substr(s.uid, 2) AS INTEGER)"),
                     ==, ROWS / 2);
    mw_store_db_close(db);
    for (int i = 0; i < ROWS; i++) {
        g_string_free(mix[i], TRUE);
        g_free(uids[i]);
        g_string_free(cols[i], TRUE);
        g_string_free(more[i], TRUE);
    }
    char *rm = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(rm), ==, 0);
    g_free(rm);
    g_free(path);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/store_sqlite/findings_rows", test_findings_rows);
    return g_test_run();
}
