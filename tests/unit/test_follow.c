/* The tail -F follower (maillog/live/follow.h) and the live server-log join
 * (maillog/live/log_live.c): a file missing at start, lines that grow, a partial last line
 * without its newline, rotation by rename (the old file still read while its writer goes on),
 * truncation, over-long lines, lines already there at start skipped; then the live join: a
 * session waits its grace for lines appended after it closed, the pending-lines cap counts
 * what is over it. */
#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "maillog/live/follow.h"
#include "maillog/maillog_int.h"

typedef struct {
    GPtrArray *lines; /* "no:text" */
} got;

static void on_line(void *user, char *line, size_t len, uint64_t no)
{
    got *g = user;
    g_assert_cmpuint(strlen(line), ==, len);
    g_ptr_array_add(g->lines, g_strdup_printf("%" G_GUINT64_FORMAT ":%s", no, line));
}

static void append(const char *path, const char *text)
{
    FILE *fp = fopen(path, "a");
    g_assert_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

/* The lines handed since the last call, joined by '|'. */
static char *take(got *g)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < g->lines->len; i++)
        g_string_append_printf(s, "%s%s", i ? "|" : "", (char *)g_ptr_array_index(g->lines, i));
    g_ptr_array_set_size(g->lines, 0);
    return g_string_free(s, FALSE);
}

#define POLL_IS(f, g, want)                                                                  \
    do {                                                                                     \
        mw_follow_poll(f, on_line, g);                                                       \
        char *have_ = take(g);                                                               \
        g_assert_cmpstr(have_, ==, want);                                                    \
        g_free(have_);                                                                       \
    } while (0)

static void test_missing_grow_partial(void)
{
    char *dir = g_dir_make_tmp("follow-XXXXXX", NULL);
    char *path = g_build_filename(dir, "mail.log", NULL);
    char *err = NULL;
    got g = { g_ptr_array_new_with_free_func(g_free) };
    mw_follow *f = mw_follow_new(path, 64, true, &err);
    g_assert_nonnull(f);
    POLL_IS(f, &g, ""); /* not there yet: no error */
    append(path, "one\r\ntw");
    POLL_IS(f, &g, "1:one"); /* appeared later: from its start; "tw" waits */
    append(path, "o\nthree");
    POLL_IS(f, &g, "2:two");
    POLL_IS(f, &g, "");
    mw_follow_finish(f, on_line, &g); /* the run ends: the partial line as it is */
    char *last = take(&g);
    g_assert_cmpstr(last, ==, "3:three");
    g_free(last);
    g_assert_cmpuint(mw_follow_stats_get(f)->read_errors, ==, 0);
    mw_follow_free(f);
    /* a file that exists at start: what it holds is skipped */
    f = mw_follow_new(path, 64, true, &err);
    POLL_IS(f, &g, "");
    append(path, "\nfour\n");
    POLL_IS(f, &g, "1:|2:four");
    mw_follow_free(f);
    g_unlink(path);
    g_rmdir(dir);
    g_ptr_array_free(g.lines, TRUE);
    g_free(path);
    g_free(dir);
}

static void test_rename_truncate(void)
{
    char *dir = g_dir_make_tmp("follow-XXXXXX", NULL);
    char *path = g_build_filename(dir, "mail.log", NULL);
    char *old = g_strconcat(path, ".1", NULL);
    char *err = NULL;
    got g = { g_ptr_array_new_with_free_func(g_free) };
    append(path, "");
    mw_follow *f = mw_follow_new(path, 64, true, &err);
    append(path, "a\n");
    POLL_IS(f, &g, "1:a");
    /* logrotate: rename, the writer goes on in the old file until told, then a new file */
    g_assert_cmpint(g_rename(path, old), ==, 0);
    append(old, "b\n");
    POLL_IS(f, &g, "2:b"); /* no new file yet: the old one is still read */
    append(old, "c-part");
    append(path, "new1\n");
    POLL_IS(f, &g, "1:new1");
    append(old, "ial\n"); /* the writer had not switched yet: still read */
    append(path, "new2\n");
    POLL_IS(f, &g, "3:c-partial|2:new2");
    g_assert_cmpuint(mw_follow_stats_get(f)->renamed, ==, 1);
    /* copytruncate: the same file, shorter */
    FILE *fp = fopen(path, "w");
    fclose(fp);
    POLL_IS(f, &g, "");
    append(path, "t1\npart");
    POLL_IS(f, &g, "1:t1");
    g_assert_cmpuint(mw_follow_stats_get(f)->truncated, ==, 1);
    fp = fopen(path, "w"); /* truncated with a partial line pending: it is handed as is */
    fclose(fp);
    append(path, "x\n");
    POLL_IS(f, &g, "2:part|1:x");
    g_assert_cmpuint(mw_follow_stats_get(f)->truncated, ==, 2);
    mw_follow_free(f);
    g_unlink(path);
    g_unlink(old);
    g_rmdir(dir);
    g_ptr_array_free(g.lines, TRUE);
    g_free(old);
    g_free(path);
    g_free(dir);
}

static void test_long_lines(void)
{
    char *dir = g_dir_make_tmp("follow-XXXXXX", NULL);
    char *path = g_build_filename(dir, "mail.log", NULL);
    char *err = NULL;
    got g = { g_ptr_array_new_with_free_func(g_free) };
    mw_follow *f = mw_follow_new(path, 8, true, &err);
    append(path, "12345678\n123456789abc\nok\n");
    POLL_IS(f, &g, "1:12345678|2:12345678|3:ok");
    g_assert_cmpuint(mw_follow_stats_get(f)->cut, ==, 1);
    /* a long line over several polls */
    append(path, "abcdef");
    POLL_IS(f, &g, "");
    append(path, "ghijkl");
    POLL_IS(f, &g, "4:abcdefgh");
    append(path, "mnop\nend\n");
    POLL_IS(f, &g, "5:end");
    mw_follow_free(f);
    g_unlink(path);
    g_rmdir(dir);
    g_ptr_array_free(g.lines, TRUE);
    g_free(path);
    g_free(dir);
}

static void test_no_dir(void)
{
    char *err = NULL;
    g_assert_null(mw_follow_new("/nonexistent-dir-mw/mail.log", 64, true, &err));
    g_assert_nonnull(strstr(err, "cannot follow"));
    g_free(err);
}

/* ---- the live join ---- */

static int64_t at(const char *iso)
{
    GDateTime *d = g_date_time_new_from_iso8601(iso, NULL);
    int64_t us = g_date_time_to_unix(d) * G_USEC_PER_SEC + g_date_time_get_microsecond(d);
    g_date_time_unref(d);
    return us;
}

static void endpoint(mw_endpoint *ep, const char *ip, int port)
{
    ep->family = 4;
    g_assert_cmpint(inet_pton(AF_INET, ip, ep->addr), ==, 1);
    ep->port = (uint16_t)port;
}

static mw_session *sess(int cport, const char *start, const char *end)
{
    mw_session *s = mw_session_new(1);
    endpoint(&s->client, "127.0.0.41", cport);
    endpoint(&s->server, "127.0.0.1", 587);
    s->protocol = MW_PROTO_SUBMISSION;
    s->ts_start_us = at(start);
    s->ts_end_us = at(end);
    s->encrypted = true;
    s->close_reason = MW_CLOSE_FIN;
    mw_session_finish(s);
    return s;
}

static GPtrArray *released;

static void on_release(mw_session *s, void *user)
{
    g_ptr_array_add(released, s);
}

static const char *LINES =
    "Dec 01 09:32:58 mail postfix/submission/smtpd[8967]: connect from unknown[127.0.0.41]:%d\n"
    "Dec 01 09:33:00 mail postfix/submission/smtpd[8967]: warning: unknown[127.0.0.41]:%d: "
    "SASL PLAIN authentication failed: (reason unavailable), sasl_username=alice@example.test\n"
    "Dec 01 09:33:00 mail postfix/submission/smtpd[8967]: disconnect from "
    "unknown[127.0.0.41]:%d ehlo=2 starttls=1 auth=0/1 commands=3/4\n";

static void test_live_join(void)
{
    char *dir = g_dir_make_tmp("follow-XXXXXX", NULL);
    char *path = g_build_filename(dir, "mail.log", NULL);
    char *err = NULL;
    mw_maillog_opts o = { "UTC", MW_LOG_SKEW_DEFAULT_S, 0, 0 };
    mw_maillog *m = mw_maillog_new(&o, &err);
    g_assert_true(mw_maillog_follow(m, path, 1000, 0, &err)); /* missing at start */
    released = g_ptr_array_new_with_free_func((GDestroyNotify)mw_session_free);
    mw_maillog_on_release(m, on_release, NULL);
    int64_t t0 = g_get_monotonic_time();
    mw_maillog_take(m, sess(44696, "2026-12-01T09:32:58.5Z", "2026-12-01T09:33:00.1Z"));
    mw_maillog_tick(m, t0 + 300000);
    g_assert_cmpuint(released->len, ==, 0); /* waits its grace */
    char *l = g_strdup_printf(LINES, 44696, 44696, 44696); /* the log line comes later */
    append(path, l);
    g_free(l);
    mw_maillog_tick(m, t0 + 600000);
    g_assert_cmpuint(released->len, ==, 0);
    mw_maillog_tick(m, t0 + 1100000);
    g_assert_cmpuint(released->len, ==, 1);
    mw_session *s = g_ptr_array_index(released, 0);
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_cmpstr(s->server_log->matched_by, ==, "port");
    g_assert_cmpuint(s->server_log->lines->len, ==, 3);
    /* rotated by rename: the next session's lines are in the new file */
    char *old = g_strconcat(path, ".1", NULL);
    g_assert_cmpint(g_rename(path, old), ==, 0);
    l = g_strdup_printf(LINES, 44700, 44700, 44700);
    append(path, l);
    g_free(l);
    mw_maillog_take(m, sess(44700, "2026-12-01T09:32:58.5Z", "2026-12-01T09:33:00.1Z"));
    mw_maillog_drain(m); /* the end of the run: joined with what is there */
    g_assert_cmpuint(released->len, ==, 2);
    s = g_ptr_array_index(released, 1);
    g_assert_true(mw_session_has(s, MW_FLAG_AUTH_FAILED));
    g_assert_cmpuint((unsigned)g_array_index(s->server_log->lines, mw_log_ref, 0).line, ==, 2);
    mw_maillog_free(m);
    g_ptr_array_set_size(released, 0);

    /* the cap on pending lines: over it, counted and said */
    m = mw_maillog_new(&o, &err);
    g_assert_true(mw_maillog_follow(m, path, 0, 4, &err));
    mw_maillog_on_release(m, on_release, NULL);
    l = g_strdup_printf(LINES, 1, 1, 1);
    append(path, l);
    append(path, l);
    g_free(l);
    mw_maillog_take(m, sess(1, "2026-12-01T09:32:58.5Z", "2026-12-01T09:33:00.1Z"));
    g_assert_cmpuint(m->x.held, ==, 4);
    g_assert_cmpuint(m->x.pending_dropped, ==, 2);
    char *buf = NULL;
    size_t blen = 0;
    FILE *fp = open_memstream(&buf, &blen);
    mw_maillog_summary(m, fp);
    fclose(fp);
    g_assert_nonnull(strstr(buf, "Not kept: 2 lines over --log-max-pending 4"));
    g_assert_nonnull(strstr(buf, "Followed "));
    free(buf);
    /* forgotten once no captured session can join them: the held lines go with them */
    g_assert_cmpuint(mw_logidx_evict(&m->x, G_MAXINT64, G_MAXINT64), ==, 2);
    mw_maillog_reindex(m);
    g_assert_cmpuint(m->x.held, ==, 0);
    g_assert_cmpuint(m->x.sessions->len, ==, 0);
    mw_maillog_free(m);
    g_ptr_array_free(released, TRUE);
    g_unlink(path);
    g_unlink(old);
    g_rmdir(dir);
    g_free(old);
    g_free(path);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/follow/missing-grow-partial", test_missing_grow_partial);
    g_test_add_func("/follow/rename-truncate", test_rename_truncate);
    g_test_add_func("/follow/long-lines", test_long_lines);
    g_test_add_func("/follow/no-dir", test_no_dir);
    g_test_add_func("/follow/live-join", test_live_join);
    return g_test_run();
}
