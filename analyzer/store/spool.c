#include "store/spool.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

struct mw_spool {
    char *dir;
    int64_t cap, seg_size;
    GArray *segs;          /* guint64 sequence numbers, oldest first */
    guint64 next_seq;
    FILE *cur;             /* the segment being appended to, or NULL */
    int64_t cur_bytes, bytes;
    uint64_t appended, replayed, dropped;
};

static char *seg_path(const mw_spool *sp, guint64 seq)
{
    return g_strdup_printf("%s/seg-%016" G_GINT64_MODIFIER "x.spool", sp->dir, seq);
}

static gint cmp_seq(gconstpointer a, gconstpointer b)
{
    guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
    return x < y ? -1 : x > y;
}

/* The segments an earlier run left, oldest first. */
static void scan(mw_spool *sp)
{
    GDir *d = g_dir_open(sp->dir, 0, NULL);
    if (!d)
        return;
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        guint64 seq;
        char tail[8];
        if (sscanf(name, "seg-%16" G_GINT64_MODIFIER "x.%7s", &seq, tail) != 2 ||
            strcmp(tail, "spool") != 0)
            continue;
        char *p = seg_path(sp, seq);
        GStatBuf st;
        if (g_stat(p, &st) == 0) {
            g_array_append_val(sp->segs, seq);
            sp->bytes += st.st_size;
            if (seq >= sp->next_seq)
                sp->next_seq = seq + 1;
        }
        g_free(p);
    }
    g_dir_close(d);
    g_array_sort(sp->segs, cmp_seq);
}

mw_spool *mw_spool_open(const char *dir, int64_t cap_bytes)
{
    mw_spool *sp = g_new0(mw_spool, 1);
    sp->dir = g_strdup(dir);
    sp->cap = cap_bytes;
    sp->seg_size = MAX(cap_bytes / MW_SPOOL_SEGMENTS, MW_SPOOL_MIN_SEGMENT);
    sp->segs = g_array_new(FALSE, FALSE, sizeof(guint64));
    scan(sp);
    return sp;
}

const char *mw_spool_dir(const mw_spool *sp)
{
    return sp->dir;
}

bool mw_spool_empty(const mw_spool *sp)
{
    return sp->segs->len == 0;
}

static void close_cur(mw_spool *sp)
{
    if (sp->cur)
        fclose(sp->cur);
    sp->cur = NULL;
    sp->cur_bytes = 0;
}

static bool open_segment(mw_spool *sp)
{
    close_cur(sp);
    if (g_mkdir_with_parents(sp->dir, 0700) != 0)
        return false;
    char *p = seg_path(sp, sp->next_seq);
    sp->cur = fopen(p, "a");
    g_free(p);
    if (!sp->cur)
        return false;
    g_array_append_val(sp->segs, sp->next_seq);
    sp->next_seq++;
    return true;
}

bool mw_spool_append(mw_spool *sp, const mw_store_row *row)
{
    size_t rl = strlen(row->record), xl = row->extra ? strlen(row->extra) : 0;
    int64_t len = (int64_t)(rl + 1 + xl + 1);
    if (sp->bytes + len > sp->cap) { /* full: what is spooled stays, this one is dropped */
        sp->dropped++;
        return false;
    }
    if ((!sp->cur || sp->cur_bytes >= sp->seg_size) && !open_segment(sp)) {
        sp->dropped++;
        return false;
    }
    fwrite(row->record, 1, rl, sp->cur);
    fputc('\t', sp->cur);
    if (xl)
        fwrite(row->extra, 1, xl, sp->cur);
    if (fputc('\n', sp->cur) == EOF) {
        sp->dropped++;
        return false;
    }
    sp->cur_bytes += len;
    sp->bytes += len;
    sp->appended++;
    return true;
}

void mw_spool_flush(mw_spool *sp)
{
    if (sp->cur)
        fflush(sp->cur);
}

typedef struct {
    mw_store_row *rows;
    char **lines;
    size_t n;
} pending;

static void pending_clear(pending *p)
{
    for (size_t i = 0; i < p->n; i++)
        g_free(p->lines[i]);
    p->n = 0;
}

static bool pending_send(pending *p, mw_spool *sp, mw_spool_write_fn fn, void *user)
{
    bool ok = p->n == 0 || fn(p->rows, p->n, user) == MW_DB_OK;
    if (ok)
        sp->replayed += p->n;
    pending_clear(p);
    return ok;
}

/* One segment, in batches; true when all of it was stored. */
static bool replay_segment(mw_spool *sp, const char *path, pending *p, size_t batch,
                           mw_spool_write_fn fn, void *user)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return errno == ENOENT; /* already gone */
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool ok = true;
    while (ok && (len = getline(&line, &cap, fp)) > 0) {
        if (line[len - 1] != '\n') /* cut short by a crash: the record is incomplete */
            break;
        line[len - 1] = '\0';
        char *tab = strchr(line, '\t');
        if (tab)
            *tab = '\0';
        p->lines[p->n] = g_memdup2(line, (gsize)len); /* both parts, NUL at the tab */
        p->rows[p->n] = (mw_store_row){ p->lines[p->n],
                                        tab && tab[1] ? p->lines[p->n] + (tab - line) + 1 : NULL,
                                        NULL, 0 }; /* the columns: read out of the record */
        p->n++;
        if (p->n == batch)
            ok = pending_send(p, sp, fn, user);
    }
    ok = ok && pending_send(p, sp, fn, user);
    pending_clear(p);
    free(line);
    fclose(fp);
    return ok;
}

bool mw_spool_replay(mw_spool *sp, size_t batch, mw_spool_write_fn fn, void *user)
{
    close_cur(sp); /* new records go to a new segment, after these */
    pending p = { g_new(mw_store_row, batch), g_new(char *, batch), 0 };
    while (sp->segs->len > 0) {
        guint64 seq = g_array_index(sp->segs, guint64, 0);
        char *path = seg_path(sp, seq);
        GStatBuf st;
        int64_t size = g_stat(path, &st) == 0 ? st.st_size : 0;
        bool ok = replay_segment(sp, path, &p, batch, fn, user);
        if (ok) {
            g_unlink(path);
            sp->bytes -= size;
            g_array_remove_index(sp->segs, 0);
        }
        g_free(path);
        if (!ok)
            break;
    }
    if (sp->segs->len == 0)
        sp->bytes = 0;
    g_free(p.rows);
    g_free(p.lines);
    return sp->segs->len == 0;
}

uint64_t mw_spool_appended(const mw_spool *sp) { return sp->appended; }
uint64_t mw_spool_replayed(const mw_spool *sp) { return sp->replayed; }
uint64_t mw_spool_dropped(const mw_spool *sp) { return sp->dropped; }
int64_t mw_spool_bytes(const mw_spool *sp) { return sp->bytes; }

void mw_spool_free(mw_spool *sp)
{
    if (!sp)
        return;
    close_cur(sp);
    g_array_free(sp->segs, TRUE);
    g_free(sp->dir);
    g_free(sp);
}
