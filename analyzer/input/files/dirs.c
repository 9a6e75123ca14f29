#include "input/files/dirs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "input/format/decompress.h"
#include "input/format/pcapng.h"

/* pcap (micro and nanosecond), both byte orders */
static bool pcap_magic(const uint8_t *h, size_t len)
{
    static const uint8_t m[4][4] = { { 0xa1, 0xb2, 0xc3, 0xd4 }, { 0xd4, 0xc3, 0xb2, 0xa1 },
                                     { 0xa1, 0xb2, 0x3c, 0x4d }, { 0x4d, 0x3c, 0xb2, 0xa1 } };
    for (int i = 0; len >= 4 && i < 4; i++)
        if (memcmp(h, m[i], 4) == 0)
            return true;
    return false;
}

bool mw_looks_like_capture(const char *path)
{
    FILE *raw = fopen(path, "rb");
    if (!raw)
        return false;
    mw_decompress_info info;
    char *err = NULL;
    FILE *fp = mw_decompress_open(raw, path, &info, &err);
    if (!fp) {
        g_free(err);
        fclose(raw);
        return false;
    }
    bool yes = pcap_magic(info.head, info.head_len) || mw_pcapng_magic(info.head, info.head_len);
    fclose(fp); /* raw itself, or the stream that owns it */
    return yes;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "skipped 2 sub-directories and 5 files that are not captures (README.md, a.keys, ...)" */
static char *skipped_note(const char *dir, unsigned dirs, GPtrArray *others)
{
    if (!dirs && !others->len)
        return NULL;
    GString *g = g_string_new(NULL);
    g_string_printf(g, "%s: skipped", dir);
    if (dirs)
        g_string_append_printf(g, " %u sub-director%s", dirs, dirs == 1 ? "y" : "ies");
    if (dirs && others->len)
        g_string_append(g, " and");
    if (others->len) {
        g_string_append_printf(g, " %u file%s that %s not captures (", others->len,
                               others->len == 1 ? "" : "s", others->len == 1 ? "is" : "are");
        for (guint i = 0; i < others->len && i < MW_DIRS_NOTE_NAMES; i++)
            g_string_append_printf(g, "%s%s", i ? ", " : "",
                                   (const char *)g_ptr_array_index(others, i));
        g_string_append(g, others->len > MW_DIRS_NOTE_NAMES ? ", ...)" : ")");
    }
    return g_string_free(g, FALSE);
}

bool mw_dir_captures(const char *dir, GPtrArray *files, char **note, char **err)
{
    GError *ge = NULL;
    GDir *d = g_dir_open(dir, 0, &ge);
    if (!d) {
        *err = g_strdup_printf("%s: cannot read the directory: %s", dir, ge->message);
        g_error_free(ge);
        return false;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while ((n = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(n));
    g_dir_close(d);
    g_ptr_array_sort(names, by_name);
    GPtrArray *others = g_ptr_array_new();
    unsigned subdirs = 0, found = 0;
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        char *path = g_build_filename(dir, name, NULL);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            subdirs++;
            g_free(path);
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && mw_looks_like_capture(path)) {
            g_ptr_array_add(files, path);
            found++;
        } else {
            g_ptr_array_add(others, (gpointer)name);
            g_free(path);
        }
    }
    *note = skipped_note(dir, subdirs, others);
    g_ptr_array_free(others, TRUE);
    g_ptr_array_free(names, TRUE);
    if (!found) {
        *err = g_strdup_printf("%s: no capture files in the directory", dir);
        g_free(*note);
        *note = NULL;
        return false;
    }
    return true;
}

char *mw_split_captures_filter(char **args, GPtrArray *files)
{
    size_t i = 0;
    if (args[i] && strcmp(args[i], "--") == 0)
        i++;
    struct stat st;
    for (; args[i] && stat(args[i], &st) == 0; i++)
        g_ptr_array_add(files, g_strdup(args[i]));
    if (args[i] && strcmp(args[i], "--") == 0)
        i++;
    return args[i] ? g_strjoinv(" ", args + i) : NULL;
}
