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

#endif
