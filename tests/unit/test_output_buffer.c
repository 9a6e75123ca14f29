/* The record stream's stdio buffer (output.c, mw_output_stream_buffer): records reach the
 * file in MW_OUTPUT_BUFFER_BYTES writes, not stdio's default 4 KiB ones; once a process. */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "output/output.h"

/* A stream writing into a pipe whose read end does not block. */
static FILE *pipe_stream(int *rd)
{
    int fds[2];
    g_assert_cmpint(pipe(fds), ==, 0);
    g_assert_cmpint(fcntl(fds[0], F_SETFL, O_NONBLOCK), ==, 0);
    g_assert_cmpint(fcntl(fds[1], F_SETPIPE_SZ, 1 << 20), >=, 1 << 19); /* room for it all */
    *rd = fds[0];
    FILE *fp = fdopen(fds[1], "w");
    g_assert_nonnull(fp);
    return fp;
}

static size_t drain(int rd)
{
    static char buf[1 << 16];
    size_t total = 0;
    ssize_t n;
    while ((n = read(rd, buf, sizeof buf)) > 0)
        total += (size_t)n;
    g_assert_true(n == 0 || errno == EAGAIN);
    return total;
}

static void test_held_until_full(void)
{
    int rd, rd2;
    FILE *fp = pipe_stream(&rd), *fp2 = pipe_stream(&rd2);
    mw_output_stream_buffer(fp);
    mw_output_stream_buffer(fp2); /* the second stream keeps stdio's own buffer */
    static char block[100 * 1024];
    memset(block, 'r', sizeof block);
    g_assert_cmpuint(fwrite(block, 1, sizeof block, fp), ==, sizeof block);
    g_assert_cmpuint(fwrite(block, 1, sizeof block, fp2), ==, sizeof block);
    g_assert_cmpuint(drain(rd), ==, 0);             /* 100 KiB still in the 256 KiB buffer */
    g_assert_cmpuint(drain(rd2), >=, sizeof block - 8192); /* written as it came */
    g_assert_cmpuint(fwrite(block, 1, sizeof block, fp), ==, sizeof block);
    g_assert_cmpuint(fwrite(block, 1, sizeof block, fp), ==, sizeof block);
    size_t first = drain(rd); /* 300 KiB: the first buffer-full reached the pipe */
    g_assert_cmpuint(first, >=, MW_OUTPUT_BUFFER_BYTES - sizeof block);
    g_assert_cmpint(fflush(fp), ==, 0);
    g_assert_cmpuint(first + drain(rd), ==, 3 * sizeof block);
    fclose(fp);
    fclose(fp2);
    close(rd);
    close(rd2);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/output/stream_buffer/held_until_full", test_held_until_full);
    return g_test_run();
}
