#include "core/fs/dirfd.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>

int mw_dirfd_open(const char *path, const char *doing, char **base, char **err)
{
    char *dir = g_path_get_dirname(path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        *err = g_strdup_printf("%s: directory %s: %s", doing, dir, g_strerror(errno));
    else
        *base = g_path_get_basename(path);
    g_free(dir);
    return dfd;
}
