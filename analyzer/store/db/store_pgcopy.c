/* The batch's rows as COPY data (store_pgcopy.h). */
#include "store/db/store_pgcopy.h"

#include <string.h>

#include "store/db/store_pgbin.h"

void mw_pg_copy_init(mw_pg_copy *c)
{
    memset(c, 0, sizeof *c);
    mw_store_fields_init(&c->fields);
    c->sessions = g_string_sized_new(1 << 17);
    c->findings = g_string_sized_new(1 << 16);
    c->tmp = g_string_sized_new(4096);
}

void mw_pg_copy_clear(mw_pg_copy *c)
{
    mw_store_fields_clear(&c->fields);
    if (c->sessions)
        g_string_free(c->sessions, TRUE);
    if (c->findings)
        g_string_free(c->findings, TRUE);
    if (c->tmp)
        g_string_free(c->tmp, TRUE);
    memset(c, 0, sizeof *c);
}

void mw_pg_json_text(GString *g, const char *s)
{
    const char *p = s, *hit;
    while ((hit = strstr(p, "\\u0000")) != NULL) {
        size_t slashes = 0;
        for (const char *q = hit; q > s && q[-1] == '\\'; q--)
            slashes++;
        g_string_append_len(g, p, hit - p);
        g_string_append(g, slashes % 2 == 0 ? "\\ufffd" : "\\u0000");
        p = hit + 6;
    }
    g_string_append(g, p);
}

/* COPY's text format: \\, \t, \n, \r escaped; a NUL (from \u0000, text cannot hold it)
 * stored as U+FFFD, as in the record. */
static void copy_text(GString *g, const char *s, size_t n)
{
    const char *end = s + n, *run = s;
    for (; s < end; s++) {
        const char *esc;
        switch (*s) {
        case '\\': esc = "\\\\"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\0': esc = "\xef\xbf\xbd"; break;
        default: continue;
        }
        g_string_append_len(g, run, s - run);
        g_string_append(g, esc);
        run = s + 1;
    }
    g_string_append_len(g, run, end - run);
}

static void copy_val(GString *g, const mw_sf_val *v, char sep)
{
    if (v->s)
        copy_text(g, v->s, v->n);
    else
        g_string_append(g, "\\N");
    g_string_append_c(g, sep);
}

static void copy_json(mw_pg_copy *c, GString *g, const char *json, char sep)
{
    if (!json) {
        g_string_append(g, "\\N");
    } else {
        g_string_truncate(c->tmp, 0);
        mw_pg_json_text(c->tmp, json);
        copy_text(g, c->tmp->str, c->tmp->len);
    }
    g_string_append_c(g, sep);
}

static void text_row(mw_pg_copy *c, const mw_store_row *r, int staged)
{
    mw_store_fields *f = &c->fields;
    GString *g = c->sessions;
    if (staged >= 0)
        g_string_append_printf(g, "%d\t", staged);
    const mw_sf_val *cols[13] = { &f->uid, &f->ts_start, &f->ts_end, &f->sensor, &f->input,
                                  &f->client_ip, &f->client_port, &f->server_ip,
                                  &f->server_port, &f->protocol, &f->outcome, &f->user,
                                  &f->tls_version };
    for (int i = 0; i < 13; i++)
        copy_val(g, cols[i], '\t');
    copy_json(c, g, r->record, '\t');
    copy_json(c, g, r->extra, '\n');
    for (guint k = 0; k < f->findings->len; k++) {
        const mw_sf_finding *fd = &g_array_index(f->findings, mw_sf_finding, k);
        g = c->findings;
        if (staged >= 0)
            g_string_append_printf(g, "%d\t", staged);
        copy_val(g, &f->uid, '\t');
        copy_val(g, &fd->flag, '\t');
        copy_val(g, &fd->frame, '\t');
        copy_val(g, &fd->ts, '\t');
        if (fd->source.s)
            copy_val(g, &fd->source, '\t');
        else
            g_string_append(g, "wire\t");
        copy_val(g, &fd->detail, '\n');
    }
}

static bool binary_row(mw_pg_copy *c, const mw_store_row *r, int staged)
{
    mw_store_fields *f = &c->fields;
    size_t at = c->findings->len;
    if (!mw_pgbin_session(c->sessions, f, r->record, r->extra, staged))
        return false;
    for (guint k = 0; k < f->findings->len; k++) {
        if (!mw_pgbin_finding(c->findings, f, &g_array_index(f->findings, mw_sf_finding, k),
                              staged)) {
            g_string_truncate(c->findings, at);
            return false;
        }
    }
    return true;
}

void mw_pg_copy_begin(mw_pg_copy *c, bool binary)
{
    g_string_truncate(c->sessions, 0);
    g_string_truncate(c->findings, 0);
    c->binary = binary;
    if (binary) {
        mw_pgbin_begin(c->sessions);
        mw_pgbin_begin(c->findings);
    }
}

mw_pgc_status mw_pg_copy_row(mw_pg_copy *c, const mw_store_row *r, int staged,
                             const char **why)
{
    *why = NULL;
    if (r->cols ? !mw_store_fields_unpack(&c->fields, r->cols, r->cols_len)
                : !mw_store_fields_parse(&c->fields, r->record, why)) {
        if (!*why)
            *why = "bad columns";
        return MW_PGC_MALFORMED;
    }
    size_t at = c->sessions->len;
    if (!c->binary)
        text_row(c, r, staged);
    else if (!binary_row(c, r, staged)) {
        g_string_truncate(c->sessions, at);
        return MW_PGC_UNENCODABLE;
    }
    return MW_PGC_OK;
}

void mw_pg_copy_end(mw_pg_copy *c)
{
    if (c->binary) {
        mw_pgbin_end(c->sessions);
        mw_pgbin_end(c->findings);
    }
}
