/* The seccomp allow-list (sandbox.h). Generous where libpcap's live capture may need a
 * call on its already-open socket (poll, recvfrom, getsockopt, ioctl, mmap of the ring);
 * nothing that creates a descriptor from a name or an address. */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>

/* Allowed with any arguments. */
static const int ALLOWED[] = {
    /* descriptors already open */
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
    SCMP_SYS(pwrite64), SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(fstat),
    SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(dup3),
    SCMP_SYS(ioctl), SCMP_SYS(ftruncate), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
    /* waiting: pipes, the capture socket, libpcap's wake-up eventfd */
    SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
    SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
    /* live capture on the open socket */
    SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
    SCMP_SYS(getsockname),
    /* memory */
    SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    /* threads (clone below: threads only) */
    SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity), SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(membarrier),
    /* time, resources */
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getrusage),
    SCMP_SYS(getrandom), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    /* signals, the end */
    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack), SCMP_SYS(tgkill), SCMP_SYS(exit), SCMP_SYS(exit_group),
    SCMP_SYS(restart_syscall),
};

/* ASan/LSan and TSan builds (tests only): the sanitizer's runtime reads /proc/self/maps
 * and /proc/self/task, and LeakSanitizer stops the threads at exit from a tracer process.
 * Allowed there: read-only opens and what the tracer needs. Never in a release build. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MW_SANDBOX_SANITIZER 1
static const int SANITIZER_ALLOWED[] = {
    SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(waitid), SCMP_SYS(prctl),
    SCMP_SYS(getdents64), SCMP_SYS(getdents), SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getppid),
    SCMP_SYS(kill), SCMP_SYS(sched_getparam), SCMP_SYS(sched_getscheduler),
};
#endif

static int sanitizer_rules(scmp_filter_ctx ctx)
{
    int rc = 0;
#ifdef MW_SANDBOX_SANITIZER
    for (size_t i = 0; rc == 0 && i < G_N_ELEMENTS(SANITIZER_ALLOWED); i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SANITIZER_ALLOWED[i], 0);
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_RDONLY));
    if (rc == 0) /* the sanitizers' own open is the old open(2) */
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_RDONLY));
#else
    (void)ctx;
#endif
    return rc;
}

static int rules(scmp_filter_ctx ctx, const mw_sandbox_allow *a)
{
    int rc = sanitizer_rules(ctx);
    for (size_t i = 0; rc == 0 && i < G_N_ELEMENTS(ALLOWED); i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, ALLOWED[i], 0);
    /* new threads (the writer, the file reader), not processes */
#ifndef MW_SANDBOX_SANITIZER
    if (rc == 0)
#else
    if (0)
#endif
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    /* clone3 passes its flags in memory the filter cannot read: ENOSYS, and glibc falls
     * back to clone */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    /* an unwritten report is removed at the end: refused, not fatal */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unlink), 0);
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unlinkat), 0);
    /* glibc's malloc opens /proc/sys/vm/overcommit_memory (read-only, by name) the first
     * time a thread's heap shrinks: refused, it assumes the heap may not shrink and goes
     * on. Any other read-only open by name fails the same way; creating files still kills */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 2,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, (uint32_t)AT_FDCWD),
                              SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_RDONLY));
    /* --save-flagged creates its files in its directory, by descriptor */
    if (rc == 0 && a->save_dir_fd >= 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)a->save_dir_fd));
    /* issuers looked up in the trust directory, read-only */
    if (rc == 0 && a->trust_dir_fd >= 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 2,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)a->trust_dir_fd),
                              SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_RDONLY));
    /* a live key log read again as it grows, by name in its directory, read-only */
    for (size_t i = 0; rc == 0 && i < a->n_keylog_dirs; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 2,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)a->keylog_dir_fds[i]),
                              SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_RDONLY));
    /* -o / -w rotation: the next file created, the current one renamed aside, both in the
     * output's own directory (renameat2 with both descriptors that directory) */
    for (size_t i = 0; rc == 0 && i < 2; i++) {
        scmp_datum_t d = (scmp_datum_t)a->out_dir_fds[i];
        if (a->out_dir_fds[i] <= 0)
            continue;
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, SCMP_A0(SCMP_CMP_EQ, d));
        if (rc == 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(renameat2), 2,
                                  SCMP_A0(SCMP_CMP_EQ, d), SCMP_A2(SCMP_CMP_EQ, d));
        if (rc == 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(renameat), 2,
                                  SCMP_A0(SCMP_CMP_EQ, d), SCMP_A2(SCMP_CMP_EQ, d));
    }
    return rc;
}

/* Every build has the filter: the sanitizer builds add their runtime's calls (above), so
 * the tests run the ASan build sandboxed too and see a forbidden call killed there. */
bool mw_sandbox_available(void)
{
    return true;
}

bool mw_sandbox_enter(const mw_sandbox_allow *a, char **err)
{
    /* Loaded before the filter: what would otherwise be read from a file on first use
     * (the time zone, GLib's charset aliases for g_date_time_format). */
    tzset();
    const char *charset;
    g_get_charset(&charset);
    GDateTime *now = g_date_time_new_now_utc();
    g_free(g_date_time_format(now, "%Y-%m-%d %H:%M UTC"));
    g_date_time_unref(now);
    /* g_strerror converts each message to UTF-8 (iconv, which loads its modules from files)
     * and keeps it: every message now, for the error lines written later */
    for (int e = 1; e < 134; e++) {
        const char *volatile msg = g_strerror(e); /* G_GNUC_CONST: the call must stay */
        (void)msg;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        *err = g_strdup_printf("sandbox: PR_SET_NO_NEW_PRIVS: %s (--no-sandbox to run without)",
                               g_strerror(errno));
        return false;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    int rc = ctx ? rules(ctx, a) : -ENOMEM;
    /* every thread of the process, the writer started before this one included */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) {
        *err = g_strdup_printf("sandbox: cannot load the seccomp filter: %s (--no-sandbox to "
                               "run without)", g_strerror(-rc));
        return false;
    }
    return true;
}
