/* Following a growing log like `tail -F`: the file is re-read from where it was left on
 * every poll, reopened by name when it was renamed away (logrotate's default), read from the
 * start when it was truncated in place (copytruncate) or when it appears after the start.
 * Lines are handed over whole; an unfinished last line waits for its newline (or for the
 * file to be rotated away, or the end of the run). The file is reopened through a descriptor
 * of its directory, held from the start, so a sandboxed run (sandbox.h) can still do it.
 *
 * Not thread-safe: one thread polls. */
#ifndef MW_FOLLOW_H
#define MW_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes read per read() call. */
#define MW_FOLLOW_CHUNK 65536

typedef struct mw_follow mw_follow;

/* One line (NUL-terminated, without its newline, writable); no: its number in the file
 * generation it came from (1-based, restarts after a rotation or truncation). */
typedef void (*mw_follow_line_cb)(void *user, char *line, size_t len, uint64_t no);

typedef struct {
    uint64_t lines;        /* handed over */
    uint64_t renamed;      /* reopened after a rename (or a new file under the name) */
    uint64_t truncated;    /* read again from the start after a truncation */
    uint64_t cut;          /* lines longer than max_line: cut, the rest skipped */
    uint64_t read_errors;  /* open or read failures other than "not there yet" */
} mw_follow_stats;

/* Follow path. from_end: an existing file is read from its current end (what it holds is
 * older than the run); a file that appears later is always read from its start. NULL with
 * *err when the directory cannot be opened (the file itself may be missing). */
mw_follow *mw_follow_new(const char *path, size_t max_line, bool from_end, char **err);
/* Read what the file gained, reopening or rewinding as needed. Returns the lines handed. */
uint64_t mw_follow_poll(mw_follow *f, mw_follow_line_cb cb, void *user);
/* End of the run: a last poll, then an unfinished last line handed over as it is. */
uint64_t mw_follow_finish(mw_follow *f, mw_follow_line_cb cb, void *user);
const mw_follow_stats *mw_follow_stats_get(const mw_follow *f);
/* The directory descriptor (for the sandbox's allow-list). */
int mw_follow_dir_fd(const mw_follow *f);
const char *mw_follow_path(const mw_follow *f);
void mw_follow_free(mw_follow *f);

#endif
