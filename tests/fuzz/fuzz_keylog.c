/* libFuzzer harness: the key log store. The input is parsed twice: whole, as a pcapng
 * Decryption Secrets Block would be (mw_keylog_add_buffer), and written to a followed
 * file in chunks with a refresh after each (sometimes truncating the file midway, as a
 * rotated live key log does). Every message must be free of anything like key material:
 * after its source name and line number, no run of 6 or more hex digits.
 *
 * Input: byte 0 = chunk size (1-256, at least 1/MAX_ROUNDS of the text: each chunk costs
 * a write and a refresh — open, fstat, two digests, reads, close — so 1-byte chunks of a
 * 2 KB input made every execution 2,000 refreshes long, and 32 rounds were still 56% of an
 * execution), byte 1 bit 0 = truncate after the first half, then the key log text. Build and run: see dissectors/tls/decrypt/README.md. */
#define _GNU_SOURCE /* memfd_create */
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls/decrypt/keylog.h"

#define MAX_ENTRIES_FUZZ 8 /* reachable within -max_len=2048 */
#define MAX_ROUNDS 8       /* write + refresh rounds an input */

static char path[64];
static int fd = -1; /* one memfd for the process, emptied per input */

static void check_messages(mw_keylog *kl, const char *source)
{
    GPtrArray *m = mw_keylog_take_messages(kl);
    size_t skip = strlen(source);
    for (guint i = 0; i < m->len; i++) {
        const char *s = g_ptr_array_index(m, i);
        if (strncmp(s, source, skip) != 0)
            abort();
        s += skip;
        if (strncmp(s, " line ", 6) == 0) { /* " line N: what" */
            s += 6;
            while (g_ascii_isdigit(*s))
                s++;
        }
        size_t run = 0;
        for (; *s; s++) {
            run = g_ascii_isxdigit(*s) ? run + 1 : 0;
            if (run >= 6)
                abort(); /* something of a line leaked into a message */
        }
    }
    g_ptr_array_unref(m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* The followed key log is a memfd, named by its /proc/self/fd link: the store opens,
     * stats and reads it as any regular file (openat on the directory it holds), without
     * creating, writing and unlinking a file on a disk every execution. */
    fd = memfd_create("mw-fuzz-keylog", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t chunk = (size_t)data[0] + 1;
    bool truncate_midway = data[1] & 1;
    data += 2;
    size -= 2;
    if (chunk < size / MAX_ROUNDS + 1)
        chunk = size / MAX_ROUNDS + 1;

    mw_keylog *kl = mw_keylog_new();
    mw_keylog_set_max_entries(kl, MAX_ENTRIES_FUZZ);
    mw_keylog_add_buffer(kl, "dsb", data, size);
    check_messages(kl, "dsb");
    mw_keylog_stats a = mw_keylog_get_stats(kl);
    if (a.entries > MAX_ENTRIES_FUZZ)
        abort();
    mw_keylog_free(kl);

    if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
        abort();
    kl = mw_keylog_new();
    mw_keylog_set_max_entries(kl, MAX_ENTRIES_FUZZ);
    mw_keylog_add_file(kl, path, true);
    for (size_t at = 0; at < size; at += chunk) {
        size_t n = size - at < chunk ? size - at : chunk;
        if (write(fd, data + at, n) != (ssize_t)n)
            break;
        if (truncate_midway && at < size / 2 && at + n >= size / 2) {
            if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
                break;
        }
        mw_keylog_refresh(kl);
        check_messages(kl, path);
    }
    mw_keylog_free(kl);
    return 0;
}
