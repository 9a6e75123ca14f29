/* The store's commands (store_cli.h): their options, and `query` itself. */
#include "store/store_cli.h"

#include <stdio.h>
#include <string.h>

#include "store/store_filter.h"
#include "store/store_record.h"

bool mw_store_cli_is_command(const char *arg)
{
    return strcmp(arg, "report") == 0 || strcmp(arg, "query") == 0;
}

typedef struct {
    bool json;
    GString *line;
    bool failed;
} query_run;

static void print_row(const char *record, const char *extra, void *user)
{
    query_run *q = user;
    g_string_truncate(q->line, 0);
    if (q->json)
        g_string_append(q->line, record);
    else
        mw_store_record_text(q->line, record, extra);
    g_string_append_c(q->line, '\n');
    if (fwrite(q->line->str, 1, q->line->len, stdout) != q->line->len)
        q->failed = true;
}

static int query(mw_store_db *db, const mw_store_filter *f, bool json)
{
    query_run q = { json, g_string_sized_new(4096), false };
    char *err = NULL;
    bool ok = mw_store_db_select(db, f, print_row, &q, &err);
    g_string_free(q.line, TRUE);
    if (fflush(stdout) != 0 || ferror(stdout))
        q.failed = true;
    if (!ok) {
        fprintf(stderr, "mailwire: query: %s\n", err);
        g_free(err);
        return 1;
    }
    if (q.failed) {
        fprintf(stderr, "mailwire: query: writing to stdout failed\n");
        return 1;
    }
    return 0;
}

int mw_store_cli(int argc, char **argv)
{
    bool is_report = strcmp(argv[0], "report") == 0;
    mw_filter_args a = { 0 };
    gchar *report_path = NULL;
    gboolean json = FALSE;
    GOptionEntry entries[MW_FILTER_ENTRIES + 2] = { { 0 } };
    mw_filter_entries(&a, entries);
    if (is_report)
        entries[MW_FILTER_ENTRIES] = (GOptionEntry){ "report", 0, 0, G_OPTION_ARG_FILENAME,
                                                     &report_path, "Incident report (.md or "
                                                     ".html)", "FILE" };
    else
        entries[MW_FILTER_ENTRIES] = (GOptionEntry){ "json", 0, 0, G_OPTION_ARG_NONE, &json,
                                                     "JSON Lines: the stored records", NULL };
    GOptionContext *ctx = g_option_context_new(is_report ? "- incident report from the "
                                               "session store" : "- sessions from the store");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *ge = NULL;
    char *err = NULL;
    mw_store_filter f;
    if (!g_option_context_parse(ctx, &argc, &argv, &ge)) {
        err = g_strdup_printf("%s (see mailwire %s --help)", ge->message, argv[0]);
        g_error_free(ge);
    } else if (argc > 1) {
        err = g_strdup_printf("unexpected argument '%s'", argv[1]);
    } else if (mw_filter_from_args(&a, g_get_real_time(), &f, &err) && is_report &&
               !report_path) {
        err = g_strdup("report: --report FILE.html or FILE.md is needed");
    }
    g_option_context_free(ctx);
    int status = 1;
    mw_store_db *db = NULL;
    if (!err)
        db = mw_store_db_open(a.db, false, &err);
    if (db)
        status = is_report ? mw_store_report(db, &f, report_path) : query(db, &f, json);
    if (err) {
        fprintf(stderr, "mailwire: %s\n", err);
        g_free(err);
    }
    mw_store_db_close(db);
    mw_filter_args_free(&a);
    g_free(report_path);
    return status;
}
