/* Output rotation (output/outfile.h): sizes and durations parsed, when a rotation is due,
 * the renamed name (start time, -NNNN when taken, never over a file), SIGHUP on a file still
 * there (nothing to do) and renamed away (created anew), -w's refusal of a non-empty other
 * file, a planted symbolic link refused. */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "output/outfile.h"

static void test_parse(void)
{
    int64_t v = 0;
    char *err = NULL;
    g_assert_true(mw_rotate_parse_size("--rotate-size", "100M", &v, &err));
    g_assert_cmpint(v, ==, 100LL << 20);
    g_assert_true(mw_rotate_parse_size("--rotate-size", "512k", &v, &err));
    g_assert_cmpint(v, ==, 512LL << 10);
    g_assert_true(mw_rotate_parse_size("--rotate-size", "1GiB", &v, &err));
    g_assert_cmpint(v, ==, 1LL << 30);
    g_assert_true(mw_rotate_parse_size("--rotate-size", "65536", &v, &err));
    g_assert_cmpint(v, ==, 65536);
    const char *bad[] = { "10", "", "x", "1T", "-5M", "5Mx", "99999999999999999999" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(mw_rotate_parse_size("--rotate-size", bad[i], &v, &err));
        g_assert_nonnull(strstr(err, "--rotate-size"));
        g_clear_pointer(&err, g_free);
    }
    g_assert_true(mw_rotate_parse_duration("--rotate-interval", "1h", &v, &err));
    g_assert_cmpint(v, ==, 3600LL * G_USEC_PER_SEC);
    g_assert_true(mw_rotate_parse_duration("--rotate-interval", "30m", &v, &err));
    g_assert_cmpint(v, ==, 1800LL * G_USEC_PER_SEC);
    g_assert_true(mw_rotate_parse_duration("--rotate-interval", "2d", &v, &err));
    g_assert_cmpint(v, ==, 2 * 86400LL * G_USEC_PER_SEC);
    g_assert_true(mw_rotate_parse_duration("--rotate-interval", "90", &v, &err));
    g_assert_cmpint(v, ==, 90LL * G_USEC_PER_SEC);
    g_assert_false(mw_rotate_parse_duration("--rotate-interval", "0", &v, &err));
    g_clear_pointer(&err, g_free);
    g_assert_false(mw_rotate_parse_duration("--rotate-interval", "1w", &v, &err));
    g_clear_pointer(&err, g_free);
}

static int entries(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    int n = 0;
    while (g_dir_read_name(d))
        n++;
    g_dir_close(d);
    return n;
}

static void rm_dir(char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, name, NULL);
        g_unlink(p);
        g_free(p);
    }
    g_dir_close(d);
    g_rmdir(dir);
    g_free(dir);
}

static void test_size_names(void)
{
    char *dir = g_dir_make_tmp("rotate-XXXXXX", NULL);
    char *path = g_build_filename(dir, "out.json", NULL);
    char *err = NULL;
    int fd = mw_outfile_open("-o", path, NULL, 0, &err);
    g_assert_cmpint(fd, >=, 0);
    mw_rotate_opts o = { 1024, 0, false };
    mw_rotor *r = mw_rotor_new("-o", path, fd, &o, NULL, 0, &err);
    g_assert_nonnull(r);
    g_assert_false(mw_rotor_due(r, 5000)); /* an empty file is never rotated */
    g_assert_cmpint(write(fd, "first\n", 6), ==, 6);
    mw_rotor_wrote(r, 6);
    g_assert_false(mw_rotor_due(r, 1018)); /* exactly the size: fits */
    g_assert_true(mw_rotor_due(r, 1019));
    /* the name it will get is taken already: -0001, and that file is left alone */
    for (int i = 0; i < 3; i++) {
        bool fresh = false;
        int nfd = mw_rotor_next(r, &fresh);
        g_assert_cmpint(nfd, >=, 0);
        g_assert_true(fresh);
        g_assert_cmpint(write(nfd, "x\n", 2), ==, 2);
        mw_rotor_wrote(r, 2);
        close(fd);
        fd = nfd;
    }
    g_assert_cmpuint(mw_rotor_count(r), ==, 3);
    g_assert_cmpint(entries(dir), ==, 4); /* three rotated files and out.json */
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    int suffixed = 0;
    while ((name = g_dir_read_name(d))) {
        g_assert_true(g_str_has_prefix(name, "out.json"));
        if (strlen(name) == strlen("out.json.20261201T120000Z-0001"))
            suffixed++;
        else
            g_assert_true(strlen(name) == strlen("out.json") ||
                          strlen(name) == strlen("out.json.20261201T120000Z"));
    }
    g_dir_close(d);
    g_assert_cmpint(suffixed, >=, 1); /* within one second: never over the first */
    /* a symbolic link planted under the name: refused, the target untouched */
    char *target = g_build_filename(dir, "target", NULL);
    g_file_set_contents(target, "precious", -1, NULL);
    char *moved = g_strconcat(path, ".moved", NULL);
    g_assert_cmpint(g_rename(path, moved), ==, 0);
    g_assert_cmpint(symlink(target, path), ==, 0);
    bool fresh;
    g_assert_true(mw_rotor_due(r, 5000));
    g_assert_cmpint(mw_rotor_next(r, &fresh), ==, -1);
    g_assert_nonnull(strstr(mw_rotor_error(r), "cannot rotate: a symbolic link took its name"));
    char *c = NULL;
    g_file_get_contents(target, &c, NULL, NULL);
    g_assert_cmpstr(c, ==, "precious");
    g_free(c);
    close(fd);
    mw_rotor_free(r);
    g_free(target);
    g_free(moved);
    g_free(path);
    rm_dir(dir);
}

static void test_sighup(void)
{
    char *dir = g_dir_make_tmp("rotate-XXXXXX", NULL);
    char *path = g_build_filename(dir, "cap.pcap", NULL);
    char *err = NULL;
    int fd = mw_outfile_open("-w", path, NULL, 0, &err);
    mw_rotate_opts o = { 0, 0, true };
    mw_rotor *r = mw_rotor_new("-w", path, fd, &o, NULL, 0, &err);
    g_assert_nonnull(r);
    mw_rotor_catch_sighup();
    g_assert_cmpint(write(fd, "header+packet", 13), ==, 13);
    mw_rotor_wrote(r, 13);
    g_assert_false(mw_rotor_due(r, 100));
    raise(SIGHUP);
    g_assert_true(mw_rotor_due(r, 100));
    bool fresh = false;
    g_assert_cmpint(mw_rotor_next(r, &fresh), ==, -2); /* still there: written on */
    g_assert_false(mw_rotor_due(r, 100));
    /* logrotate renamed it: a new file of the name */
    char *moved = g_strconcat(path, ".1", NULL);
    g_assert_cmpint(g_rename(path, moved), ==, 0);
    raise(SIGHUP);
    g_assert_true(mw_rotor_due(r, 100));
    int nfd = mw_rotor_next(r, &fresh);
    g_assert_cmpint(nfd, >=, 0);
    g_assert_true(fresh);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    close(fd);
    close(nfd);
    /* someone else's non-empty file under the name: a pcap is not appended to */
    g_assert_cmpint(g_rename(path, moved), ==, 0);
    g_file_set_contents(path, "not ours", -1, NULL);
    raise(SIGHUP);
    g_assert_true(mw_rotor_due(r, 100));
    g_assert_cmpint(mw_rotor_next(r, &fresh), ==, -1);
    g_assert_nonnull(strstr(mw_rotor_error(r), "not empty"));
    mw_rotor_free(r);
    /* not a regular file: nothing to rotate, and a size asked for is refused */
    int dn = open("/dev/null", O_WRONLY);
    g_assert_null(mw_rotor_new("-o", "/dev/null", dn, &(mw_rotate_opts){ 0, 0, false }, NULL,
                               0, &err));
    g_assert_null(err);
    g_assert_null(mw_rotor_new("-o", "/dev/null", dn, &(mw_rotate_opts){ 4096, 0, false },
                               NULL, 0, &err));
    g_assert_nonnull(strstr(err, "need a regular file"));
    g_free(err);
    close(dn);
    g_free(moved);
    g_free(path);
    rm_dir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rotate/parse", test_parse);
    g_test_add_func("/rotate/size-names-link", test_size_names);
    g_test_add_func("/rotate/sighup", test_sighup);
    return g_test_run();
}
