/* Creating an output file without clobbering what it must not: never an input of the run
 * (same device and inode), never through a symbolic link to a regular file (a planted
 * link would redirect the write); a regular file that exists is truncated, as tcpdump -w
 * does. A link to a device or a pipe (/dev/stdout, /dev/null, a FIFO) is followed. */
#ifndef MW_OUTFILE_H
#define MW_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* A file the run reads, to refuse writing over it. */
typedef struct {
    dev_t dev;
    ino_t ino;
    const char *name;
} mw_file_id;

/* The identity of an open descriptor; false when fstat fails or it is not a regular file
 * (only regular files can be overwritten by mistake). */
bool mw_file_id_of(int fd, const char *name, mw_file_id *id);

/* Open path for writing. opt names the option in messages ("-o", "--report"). On failure
 * -1 with *err, one line (g_free it). */
int mw_outfile_open(const char *opt, const char *path, const mw_file_id *inputs, size_t ninputs,
                    char **err);

/* The same as a stdio stream ("w"). */
FILE *mw_outfile_fopen(const char *opt, const char *path, const mw_file_id *inputs,
                       size_t ninputs, char **err);

/* Flush fp and report its first error: 0, or an errno value. */
int mw_outfile_error(FILE *fp);


/* ---- rotation (issue 17): --rotate-size, --rotate-interval and SIGHUP, for -o and -w ----
 * The file being written keeps its name; at a rotation it is renamed to
 * NAME.YYYYMMDDTHHMMSSZ (UTC, when it was started; -0001, -0002 ... appended when that name is
 * taken: never over an existing file) and a new NAME is created as safely as the first
 * (O_CREAT|O_EXCL|O_NOFOLLOW, never an input). SIGHUP (logrotate's postrotate) reopens NAME:
 * created when it was renamed away, appended to when it is still there. Rotations happen
 * between records (between packets for -w): every record is whole in one file. The files
 * are reached through a descriptor of their directory, so a sandboxed run can rotate. */
#include <stdint.h>

#define MW_ROTATE_MIN_BYTES 1024       /* --rotate-size at least */
#define MW_ROTATE_MIN_INTERVAL_S 1     /* --rotate-interval at least */
#define MW_ROTATE_MAX_SUFFIX 9999      /* NAME.STAMP-NNNN tried up to this N */

/* "100M", "1G", "65536", "512k" (powers of 1024) → bytes; false with *err. */
bool mw_rotate_parse_size(const char *opt, const char *s, int64_t *bytes, char **err);
/* "3600", "90s", "30m", "1h", "1d" → microseconds; false with *err. */
bool mw_rotate_parse_duration(const char *opt, const char *s, int64_t *us, char **err);

typedef struct mw_rotor mw_rotor;

typedef struct {
    int64_t max_bytes;    /* 0: no size limit */
    int64_t interval_us;  /* 0: no interval */
    bool pcap;            /* -w: a reopened file must be empty (it gets its own header) */
} mw_rotate_opts;

/* For fd, just opened on path by mw_outfile_open. NULL with *err when path is not a
 * regular file and a size or interval was asked for, or its directory cannot be opened;
 * NULL without *err when there is nothing to do (not a regular file: no SIGHUP reopen). */
mw_rotor *mw_rotor_new(const char *opt, const char *path, int fd, const mw_rotate_opts *o,
                       const mw_file_id *inputs, size_t ninputs, char **err);
/* SIGHUP asks every rotor to reopen its file at its next write (installed once). */
void mw_rotor_catch_sighup(void);
/* About to write n bytes: is a rotation due (size, interval, SIGHUP)? */
bool mw_rotor_due(mw_rotor *r, size_t n);
/* Rotate or reopen. Returns the descriptor to write to from now on, or -1 with
 * mw_rotor_error set, or -2 when nothing changed (SIGHUP, and the name still holds the
 * current file). *fresh: the new file is empty (a pcap needs its header first). */
int mw_rotor_next(mw_rotor *r, bool *fresh);
/* A record of n bytes went to the current file. */
void mw_rotor_wrote(mw_rotor *r, size_t n);
/* A file header of n bytes (a pcap's): counted in its size, not a record. */
void mw_rotor_wrote_header(mw_rotor *r, size_t n);
/* For a stdio stream: flush, then put the next file under fp's own descriptor (dup3), so
 * every holder of fp writes to it. False with mw_rotor_error set. */
bool mw_rotor_swap_stream(mw_rotor *r, FILE *fp);
/* The one line that says why a rotation failed, or NULL. */
const char *mw_rotor_error(const mw_rotor *r);
/* The directory's descriptor (for the sandbox's allow-list). */
int mw_rotor_dir_fd(const mw_rotor *r);
uint64_t mw_rotor_count(const mw_rotor *r);
void mw_rotor_free(mw_rotor *r);

#endif
