#include "input/inputs.h"

#include <glib.h>
#include <string.h>

struct mw_inputs {
    GArray *files;         /* mw_input */
    GPtrArray *short_names;
    size_t current;
    size_t reached;        /* the highest input read so far (files merged by time) */
    bool merged;           /* every input open at once, read in time order */
};

mw_inputs *mw_inputs_new(void)
{
    mw_inputs *in = g_new0(mw_inputs, 1);
    in->files = g_array_new(FALSE, TRUE, sizeof(mw_input));
    in->short_names = g_ptr_array_new_with_free_func(g_free);
    return in;
}

void mw_inputs_free(mw_inputs *in)
{
    if (!in)
        return;
    for (guint i = 0; i < in->files->len; i++)
        g_free(g_array_index(in->files, mw_input, i).name);
    g_array_free(in->files, TRUE);
    g_ptr_array_free(in->short_names, TRUE);
    g_free(in);
}

void mw_inputs_begin(mw_inputs *in, const char *name, int dlt)
{
    mw_input f = { 0 };
    f.name = g_strdup(strcmp(name, "-") == 0 ? "(stdin)" : name);
    f.dlt = dlt;
    g_array_append_val(in->files, f);
    g_ptr_array_add(in->short_names, g_path_get_basename(f.name));
    in->current = in->files->len - 1;
    in->reached = in->current;
}

void mw_inputs_select(mw_inputs *in, size_t i)
{
    if (i >= in->files->len)
        return;
    in->current = i;
    if (i > in->reached || !in->merged)
        in->reached = i;
}

void mw_inputs_merged(mw_inputs *in)
{
    in->merged = true;
    in->current = in->reached = 0;
}

void mw_inputs_packet(mw_inputs *in, uint64_t frame, int64_t ts_us)
{
    if (in->files->len == 0)
        return;
    mw_input *f = &g_array_index(in->files, mw_input, in->current);
    if (f->frames == 0 || ts_us < f->first_ts_us)
        f->first_ts_us = ts_us;
    if (f->frames == 0 || ts_us > f->last_ts_us)
        f->last_ts_us = ts_us;
    f->frames = frame;
}

size_t mw_inputs_count(const mw_inputs *in)
{
    return in->files->len;
}

const mw_input *mw_inputs_get(const mw_inputs *in, size_t i)
{
    return i < in->files->len ? &g_array_index(in->files, mw_input, i) : NULL;
}

size_t mw_inputs_current(const mw_inputs *in)
{
    return in->merged ? in->reached : in->current;
}

/* Does input i hold a packet numbered frame at ts_us (as far as it was read)? */
static bool holds(const mw_input *f, uint64_t frame, int64_t ts_us)
{
    return f->frames >= frame && ts_us >= f->first_ts_us && ts_us <= f->last_ts_us;
}

size_t mw_inputs_file_at(const mw_inputs *in, uint64_t frame, int64_t ts_us, const char *prefer)
{
    size_t top = mw_inputs_current(in);
    for (size_t i = top + 1; prefer && in->files->len && i-- > 0;) {
        const mw_input *f = &g_array_index(in->files, mw_input, i);
        if (strcmp(f->name, prefer) == 0 && holds(f, frame, ts_us))
            return i;
    }
    for (size_t i = top + 1; in->files->len && i-- > 0;)
        if (holds(&g_array_index(in->files, mw_input, i), frame, ts_us))
            return i;
    return in->current;
}

size_t mw_inputs_file_of(const mw_inputs *in, const mw_session *s)
{
    if (in->files->len == 0)
        return 0;
    size_t top = mw_inputs_current(in);
    /* the input named by the session, when the name tells one file from the others */
    for (size_t i = top + 1; s->input && i-- > 0;) {
        const mw_input *f = &g_array_index(in->files, mw_input, i);
        if (strcmp(f->name, s->input) == 0 && holds(f, s->first_frame, s->ts_start_us))
            return i;
    }
    for (size_t i = top + 1; i-- > 0;)
        if (holds(&g_array_index(in->files, mw_input, i), s->first_frame, s->ts_start_us))
            return i;
    return in->current;
}

const char *mw_inputs_short_name(const mw_inputs *in, size_t i)
{
    return i < in->short_names->len ? g_ptr_array_index(in->short_names, i) : "";
}
