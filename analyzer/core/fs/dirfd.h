/* The directory a file lives in, held open by descriptor: a file opened or created
 * relative to it (openat) is found again after the sandbox closes the file system to new
 * names, and after a rename of the file (logrotate). Used by the log follower
 * (maillog/live/follow.c) and output rotation (output/rotate.c). */
#ifndef MW_DIRFD_H
#define MW_DIRFD_H

/* The descriptor of path's directory, and in *base path's last component (g_free it).
 * On failure -1 with *err = "<doing>: directory DIR: <reason>" (doing: "--maillog
 * /var/log/mail.log: cannot follow"). */
int mw_dirfd_open(const char *path, const char *doing, char **base, char **err);

#endif
