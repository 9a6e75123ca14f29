/* libFuzzer harness: the key log store. The input is parsed twice: whole, as a pcapng
 * Decryption Secrets Block would be (mw_keylog_add_buffer), and written to a followed
 * file in chunks with a refresh after each (sometimes truncating the file midway, as a
 * rotated live key log does). Every message must be free of anything like key material:
 * after its source name and line number, no run of 6 or more hex digits.
 *
 * Input: byte 0 = chunk size (1-256, at least 1/32 of the text: each chunk costs a write
 * and a refresh, so 1-byte chunks of a 2 KB input made every execution 2,000 system calls
 * long), byte 1 bit 0 = truncate after the first half, then the key log text. Build and run: see dissectors/tls/decrypt/README.md. */
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls/decrypt/keylog.h"

#define MAX_ENTRIES_FUZZ 8 /* reachable within -max_len=2048 */

static char path[64];

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
    snprintf(path, sizeof path, "/tmp/mw-fuzz-keylog-%ld.txt", (long)getpid());
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
    if (chunk < size / 32 + 1)
        chunk = size / 32 + 1; /* at most 32 refreshes an input */

    mw_keylog *kl = mw_keylog_new();
    mw_keylog_set_max_entries(kl, MAX_ENTRIES_FUZZ);
    mw_keylog_add_buffer(kl, "dsb", data, size);
    check_messages(kl, "dsb");
    mw_keylog_stats a = mw_keylog_get_stats(kl);
    if (a.entries > MAX_ENTRIES_FUZZ)
        abort();
    mw_keylog_free(kl);

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return 0;
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
    close(fd);
    mw_keylog_free(kl);
    unlink(path);
    return 0;
}
