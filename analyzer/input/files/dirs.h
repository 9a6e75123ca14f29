/* The captures of a command line: `-r DIR` reads every capture in DIR, and the arguments
 * after the options that name existing files are captures too (`mailwire -r *.pcap`),
 * the rest being the BPF filter, as tcpdump's expression. */
#ifndef MW_DIRS_H
#define MW_DIRS_H

#include <glib.h>
#include <stdbool.h>

/* Files of a directory shown by name in the note on what was skipped. */
#define MW_DIRS_NOTE_NAMES 3

/* Does the file start like a capture (pcap, pcap-ns or pcapng, also gzip/zstd/lz4
 * compressed, by the first bytes of its content)? */
bool mw_looks_like_capture(const char *path);

/* Append to files every capture in dir, sorted by name (strcmp), not descending into
 * sub-directories. What is skipped (sub-directories, files that are not captures) is
 * counted in *note, one line naming a few of them (g_free it; NULL when nothing was).
 * False with *err when dir cannot be read or holds no capture. */
bool mw_dir_captures(const char *dir, GPtrArray *files, char **note, char **err);

/* Of the arguments left after the options (args, NULL-terminated): those from the first
 * up to the first that is not an existing file or directory are captures (appended to
 * files); the rest, joined by spaces, is the filter (NULL when none). A "--" before the
 * captures or the filter is stepped over. */
char *mw_split_captures_filter(char **args, GPtrArray *files);

#endif
