/* Least privilege once every file of the run is open: PR_SET_NO_NEW_PRIVS and a seccomp
 * filter (libseccomp) that allows what reading, analysing and writing need — read, write,
 * poll, memory, threads, time, signals — and kills the process (SIGSYS) on anything else:
 * no open of a new file, no socket, no exec. A parser bug can then only corrupt the
 * process's own output. --no-sandbox turns it off. */
#ifndef MW_SANDBOX_H
#define MW_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* Directories of followed key logs a sandboxed live run may open files in, at most. */
#define MW_SANDBOX_MAX_DIRS 8

typedef struct {
    int save_dir_fd; /* --save-flagged: openat relative to this descriptor; -1: none */
    int trust_dir_fd; /* the CA directory: read-only openat relative to it; -1: none */
    /* live --keylog: the key logs' directories, read-only openat relative to each */
    int keylog_dir_fds[MW_SANDBOX_MAX_DIRS];
    size_t n_keylog_dirs;
    /* -o and -w rotation: files created, opened and renamed in these directories (-1:
     * none) */
    int out_dir_fds[2];
} mw_sandbox_allow;

/* False with *err (one line) when the filter cannot be loaded. */
bool mw_sandbox_enter(const mw_sandbox_allow *a, char **err);

/* True: every build has the filter (sanitizer builds allow their runtime's calls, see
 * sandbox.c). */
bool mw_sandbox_available(void);

#endif
