#include "output/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>

bool mw_file_id_of(int fd, const char *name, mw_file_id *id)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    *id = (mw_file_id){ st.st_dev, st.st_ino, name };
    return true;
}

/* A symbolic link is followed only to something that is not a regular file. */
static bool link_allowed(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

int mw_outfile_open(const char *opt, const char *path, const mw_file_id *inputs, size_t ninputs,
                    char **err)
{
    struct stat lst;
    bool is_link = lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode);
    if (is_link && !link_allowed(path)) {
        *err = g_strdup_printf("%s %s: is a symbolic link; not followed (name the file "
                               "itself)", opt, path);
        return -1;
    }
    /* No O_TRUNC yet: the file is checked first. O_NOFOLLOW closes the window between
     * lstat and open for a link planted meanwhile. */
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (is_link ? 0 : O_NOFOLLOW), 0644);
    if (fd < 0) {
        *err = g_strdup_printf("%s %s: cannot write: %s", opt, path,
                               errno == ELOOP ? "is a symbolic link; not followed"
                                              : g_strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        for (size_t i = 0; i < ninputs; i++) {
            if (inputs[i].dev == st.st_dev && inputs[i].ino == st.st_ino) {
                *err = g_strdup_printf("%s %s: is an input of this run (%s); not overwritten",
                                       opt, path, inputs[i].name);
                close(fd);
                return -1;
            }
        }
        if (ftruncate(fd, 0) != 0) {
            *err = g_strdup_printf("%s %s: cannot write: %s", opt, path, g_strerror(errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

FILE *mw_outfile_fopen(const char *opt, const char *path, const mw_file_id *inputs,
                       size_t ninputs, char **err)
{
    int fd = mw_outfile_open(opt, path, inputs, ninputs, err);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "w");
    if (!fp) {
        *err = g_strdup_printf("%s %s: cannot write: %s", opt, path, g_strerror(errno));
        close(fd);
    }
    return fp;
}

int mw_outfile_error(FILE *fp)
{
    errno = 0;
    if (fflush(fp) != 0 || ferror(fp))
        return errno ? errno : EIO;
    return 0;
}
