/* The index of server-side sessions the tables fill while the logs are read: sessions by
 * key while open, every one in order, queue ids with their delivery. Bounded: lines per
 * session and sessions in all are capped (maillog.h), what is over is counted. */
#include <string.h>

#include "maillog/maillog_int.h"

static void ref_clear(mw_logref_int *r)
{
    g_free(r->text);
    g_free(r->detail);
}

static void sess_free(gpointer p)
{
    mw_logsess *ls = p;
    for (guint i = 0; i < ls->lines->len; i++)
        ref_clear(&g_array_index(ls->lines, mw_logref_int, i));
    g_array_free(ls->lines, TRUE);
    g_ptr_array_free(ls->qids, TRUE);
    g_free(ls->label);
    g_free(ls);
}

static void qid_free(gpointer p)
{
    mw_qidrec *q = p;
    for (guint i = 0; i < q->lines->len; i++)
        ref_clear(&g_array_index(q->lines, mw_logref_int, i));
    g_array_free(q->lines, TRUE);
    g_free(q->status), g_free(q->relay), g_free(q->dsn), g_free(q->text);
    g_free(q);
}

void mw_logidx_init(mw_logidx *x, unsigned max_lines, unsigned max_sessions)
{
    memset(x, 0, sizeof *x);
    x->sessions = g_ptr_array_new_with_free_func(sess_free);
    x->open = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    x->qids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, qid_free);
    x->files = g_ptr_array_new_with_free_func(g_free);
    x->touched = g_ptr_array_new();
    x->max_lines = max_lines;
    x->max_sessions = max_sessions;
}

void mw_logidx_clear(mw_logidx *x)
{
    g_hash_table_destroy(x->open);
    g_hash_table_destroy(x->qids);
    g_ptr_array_free(x->sessions, TRUE);
    g_ptr_array_free(x->files, TRUE);
    g_ptr_array_free(x->touched, TRUE);
}

/* The join looks at it again (its times, its place in the index by address). */
static void touch(mw_logidx *x, mw_logsess *ls)
{
    ls->seen_us = x->now_us;
    if (ls->touched)
        return;
    ls->touched = true;
    g_ptr_array_add(x->touched, ls);
}

/* Live: room for one more line under --log-max-pending? Else it is counted. */
static bool room(mw_logidx *x, mw_logsess *owner)
{
    if (x->max_held && x->held >= x->max_held) {
        x->pending_dropped++;
        return false;
    }
    x->held++;
    if (owner)
        owner->held++;
    return true;
}

mw_logsess *mw_logidx_open(mw_logidx *x, const char *key, mw_srv_kind kind, bool create,
                           const mw_logpos *pos)
{
    mw_logsess *ls = g_hash_table_lookup(x->open, key);
    if (ls && !create)
        return ls;
    if (!create)
        return NULL;
    if (ls)
        mw_logsess_close(x, ls, key);
    if (x->sessions->len >= x->max_sessions) {
        x->sessions_dropped++;
        return NULL;
    }
    ls = g_new0(mw_logsess, 1);
    ls->kind = kind;
    ls->client_port = ls->server_port = -1;
    ls->lines = g_array_new(FALSE, FALSE, sizeof(mw_logref_int));
    ls->qids = g_ptr_array_new_with_free_func(g_free);
    ls->label = g_strdup(key);
    ls->t0 = ls->t1 = *pos->t;
    ls->open = true;
    g_ptr_array_add(x->sessions, ls);
    g_hash_table_insert(x->open, g_strdup(key), ls);
    touch(x, ls);
    return ls;
}

void mw_logsess_close(mw_logidx *x, mw_logsess *ls, const char *key)
{
    ls->open = false;
    if (g_hash_table_lookup(x->open, key) == ls)
        g_hash_table_remove(x->open, key);
}

void mw_logsess_client(mw_logsess *ls, const char *ip, int port)
{
    g_strlcpy(ls->client_ip, ip, sizeof ls->client_ip);
    if (port >= 0)
        ls->client_port = port;
}

void mw_logsess_server(mw_logsess *ls, const char *ip, int port)
{
    g_strlcpy(ls->server_ip, ip, sizeof ls->server_ip);
    if (port >= 0)
        ls->server_port = port;
}

void mw_logsess_began_before(mw_logsess *ls, const mw_logpos *pos, int secs)
{
    ls->began_secs = secs;
    ls->began_t = *pos->t;
}

static void add_ref(GArray *lines, const mw_logpos *pos, int flag, const char *detail)
{
    mw_logref_int r = { pos->file, pos->line, *pos->t, 0, g_strndup(pos->text, MW_MAX_TEXT),
                        flag, detail ? g_strndup(detail, MW_MAX_TEXT) : NULL };
    g_array_append_val(lines, r);
}

void mw_logsess_line(mw_logidx *x, mw_logsess *ls, const mw_logpos *pos, int flag,
                     const char *detail)
{
    ls->t1 = *pos->t;
    touch(x, ls);
    if (ls->lines->len >= x->max_lines) {
        ls->dropped++;
        x->lines_dropped++;
        return;
    }
    if (!room(x, ls))
        return;
    add_ref(ls->lines, pos, flag, detail);
}

static mw_qidrec *qid_get(mw_logidx *x, const char *qid)
{
    mw_qidrec *q = g_hash_table_lookup(x->qids, qid);
    if (!q) {
        q = g_new0(mw_qidrec, 1);
        q->lines = g_array_new(FALSE, FALSE, sizeof(mw_logref_int));
        g_hash_table_insert(x->qids, g_strdup(qid), q);
    }
    return q;
}

void mw_logidx_qid_owner(mw_logidx *x, const char *qid, mw_logsess *ls)
{
    mw_qidrec *q = qid_get(x, qid);
    q->owner = ls;
    g_ptr_array_add(ls->qids, g_strdup(qid));
    touch(x, ls);
}

void mw_logidx_qid_line(mw_logidx *x, const char *qid, const mw_logpos *pos, int flag,
                        const char *detail)
{
    mw_qidrec *q = g_hash_table_lookup(x->qids, qid);
    if (!q || q->lines->len >= x->max_lines) { /* a queue id no session of ours handed over */
        x->lines_dropped += q != NULL;
        return;
    }
    if (q->owner)
        touch(x, q->owner);
    if (!room(x, q->owner))
        return;
    add_ref(q->lines, pos, flag, detail);
}

void mw_logidx_delivery(mw_logidx *x, const char *qid, const mw_logpos *pos,
                        const char *status, const char *relay, const char *dsn,
                        const char *text)
{
    mw_qidrec *q = g_hash_table_lookup(x->qids, qid);
    if (!q)
        return;
    int rank = strcmp(status, "bounced") == 0 ? 3 : strcmp(status, "deferred") == 0 ? 2 : 1;
    mw_logidx_qid_line(x, qid, pos, -1, NULL);
    if (rank <= q->rank)
        return;
    q->rank = rank;
    g_free(q->status), g_free(q->relay), g_free(q->dsn), g_free(q->text);
    q->status = g_strdup(status);
    q->relay = relay ? g_strdup(relay) : NULL;
    q->dsn = dsn ? g_strdup(dsn) : NULL;
    q->text = text ? g_strndup(text, MW_MAX_TEXT) : NULL;
}

/* Live: what can no longer join a captured session goes (its lines, its queue ids). */
static bool stale(const mw_logsess *ls, int64_t keep_before, int64_t open_before)
{
    return ls->seen_us < (ls->open ? open_before : keep_before);
}

unsigned mw_logidx_evict(mw_logidx *x, int64_t keep_before, int64_t open_before)
{
    unsigned gone = 0;
    GPtrArray *kept = g_ptr_array_new_with_free_func(sess_free);
    GHashTableIter it;
    gpointer k, v;
    for (guint i = 0; i < x->sessions->len; i++) {
        mw_logsess *ls = g_ptr_array_index(x->sessions, i);
        if (!stale(ls, keep_before, open_before)) {
            g_ptr_array_add(kept, ls);
            continue;
        }
        for (guint q = 0; q < ls->qids->len; q++) {
            mw_qidrec *qr = g_hash_table_lookup(x->qids, g_ptr_array_index(ls->qids, q));
            if (qr && qr->owner == ls)
                g_hash_table_remove(x->qids, g_ptr_array_index(ls->qids, q));
        }
        g_hash_table_iter_init(&it, x->open);
        while (ls->open && g_hash_table_iter_next(&it, &k, &v))
            if (v == ls)
                g_hash_table_iter_remove(&it);
        if (ls->touched)
            g_ptr_array_remove(x->touched, ls);
        x->held -= MIN(x->held, ls->held);
        sess_free(ls);
        gone++;
    }
    g_ptr_array_set_free_func(x->sessions, NULL);
    g_ptr_array_free(x->sessions, TRUE);
    x->sessions = kept;
    return gone;
}
