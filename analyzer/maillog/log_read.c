/* Reading a server log: plain or gzip (zlib reads both), line by line, each line redacted
 * before anything else sees it, its format detected, then offered to the per-server
 * tables. What no table knows is counted, never fatal. */
#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "maillog/maillog_int.h"

mw_maillog *mw_maillog_new(const mw_maillog_opts *o, char **err)
{
    GTimeZone *tz = o->tz ? g_time_zone_new_identifier(o->tz) : g_time_zone_new_local();
    if (!tz) {
        *err = g_strdup_printf("--log-tz %s: unknown time zone (use a name such as "
                               "Europe/Berlin, UTC or +01:00)", o->tz);
        return NULL;
    }
    mw_maillog *m = g_new0(mw_maillog, 1);
    m->tz = tz;
    m->skew_us = (int64_t)o->skew_s * G_USEC_PER_SEC;
    mw_logidx_init(&m->x, o->max_lines ? o->max_lines : MW_LOG_MAX_LINES_DEFAULT,
                   o->max_sessions ? o->max_sessions : MW_LOG_MAX_SESSIONS_DEFAULT);
    m->skews = g_array_new(FALSE, FALSE, sizeof(int64_t));
    m->cap_first_us = INT64_MAX;
    m->cap_last_us = INT64_MIN;
    return m;
}

void mw_maillog_line(mw_maillog *m, char *line, size_t len, uint32_t file, uint64_t no)
{
    static mw_logline l; /* large (a line buffer): one per process, read on one thread */
    m->lines++;
    len = mw_log_redact(line, len);
    if (len == 0 || line[0] == '#') { /* blank, or an Exchange header (#Fields: ...) */
        m->known += len != 0;
        return;
    }
    if (!mw_logline_parse(line, len, &l)) {
        m->unknown++;
        return;
    }
    m->by_fmt[l.fmt]++;
    char text[MW_MAX_TEXT + 1];
    const char *shown = line;
    if (l.fmt == MW_LF_JOURNAL_JSON) { /* kept as the syslog line it stands for */
        l.msg_len = mw_log_redact(l.buf, l.msg_len);
        if (l.pid >= 0)
            g_snprintf(text, sizeof text, "%s[%ld]: %s", l.prog, l.pid, l.buf);
        else
            g_snprintf(text, sizeof text, "%s: %s", l.prog, l.buf);
        shown = text;
    }
    mw_logpos pos = { file, no, &l.t, shown };
    if (mw_log_exchange(&m->x, &l, &pos) || mw_log_postfix(&m->x, &l, &pos) ||
        mw_log_dovecot(&m->x, &l, &pos))
        m->known++;
    else
        m->unknown++;
}

bool mw_maillog_read(mw_maillog *m, const char *path, char **err)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        *err = g_strdup_printf("--maillog %s: %s", path, g_strerror(errno ? errno : ENOENT));
        return false;
    }
    uint32_t file = m->x.files->len;
    g_ptr_array_add(m->x.files, g_strdup(path));
    static char buf[MW_LOG_LINE_MAX + 2];
    uint64_t no = 0;
    bool cutting = false; /* inside an over-long line: its rest is skipped */
    while (gzgets(gz, buf, sizeof buf)) {
        size_t len = strlen(buf);
        bool whole = len > 0 && buf[len - 1] == '\n';
        if (cutting) {
            cutting = !whole;
            continue;
        }
        no++;
        if (!whole && !gzeof(gz)) {
            m->cut++;
            cutting = true;
        }
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        mw_maillog_line(m, buf, len, file, no);
    }
    int zerr = 0;
    const char *msg = gzerror(gz, &zerr);
    bool ok = zerr == Z_OK || zerr == Z_BUF_ERROR; /* a truncated .gz: what was read stays */
    if (!ok)
        *err = g_strdup_printf("--maillog %s: %s", path, msg);
    gzclose(gz);
    return ok;
}
