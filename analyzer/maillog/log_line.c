/* Which log format a line is in, and its time, program, pid and message: one parser per
 * format, tried in turn on each line (a file may mix them, e.g. after a syslog change). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "maillog/maillog_int.h"

const char *mw_logfmt_name(mw_logfmt f)
{
    static const char *const names[MW_LF_COUNT] = {
        [MW_LF_UNKNOWN] = "unknown",          [MW_LF_RFC3164] = "rfc3164",
        [MW_LF_DOVECOT] = "dovecot",          [MW_LF_RFC5424] = "rfc5424",
        [MW_LF_ISO] = "iso8601",              [MW_LF_JOURNAL_JSON] = "journal-json",
        [MW_LF_EXCHANGE] = "exchange",
    };
    return (unsigned)f < MW_LF_COUNT ? names[f] : "unknown";
}

/* n decimal digits at p → v. */
static bool digits(const char *p, const char *end, int n, int *v)
{
    if (end - p < n)
        return false;
    int r = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return false;
        r = r * 10 + (p[i] - '0');
    }
    *v = r;
    return true;
}

static int month_of(const char *p)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (strncmp(p, months + 3 * i, 3) == 0)
            return i + 1;
    return 0;
}

/* "Dec  1 07:55:10" / "Dec 01 07:55:10" (15 bytes), optionally ".123456". */
static const char *bsd_time(const char *p, const char *end, mw_logtime *t)
{
    int d, h, mi, s;
    if (end - p < 16 || !(t->mon = (int8_t)month_of(p)) || p[3] != ' ')
        return NULL;
    const char *q = p + 4;
    if (*q == ' ')
        q++, d = 0;
    if (!(digits(q, end, 2, &d) || digits(q, end, 1, &d)))
        return NULL;
    q += (q[1] >= '0' && q[1] <= '9') ? 2 : 1;
    if (*q++ != ' ' || !digits(q, end, 2, &h) || q[2] != ':' || !digits(q + 3, end, 2, &mi) ||
        q[5] != ':' || !digits(q + 6, end, 2, &s))
        return NULL;
    q += 8;
    t->usec = 0;
    if (q < end && *q == '.') {
        int n = 0, us = 0;
        for (q++; q < end && isdigit((unsigned char)*q); q++, n++)
            if (n < 6)
                us = us * 10 + (*q - '0');
        for (; n < 6; n++)
            us *= 10;
        t->usec = us;
    }
    t->day = (int8_t)d, t->hour = (int8_t)h, t->min = (int8_t)mi, t->sec = (int8_t)s;
    t->yearless = true;
    return q;
}

/* RFC 3339 / ISO 8601: 2026-12-01T09:33:05[.123456](Z|+01:00|+0100|nothing). */
static const char *iso_time(const char *p, const char *end, mw_logtime *t)
{
    int y, mo, d, h, mi, s;
    if (end - p < 19 || !digits(p, end, 4, &y) || p[4] != '-' || !digits(p + 5, end, 2, &mo) || p[7] != '-' ||
        !digits(p + 8, end, 2, &d) || (p[10] != 'T' && p[10] != ' ') ||
        !digits(p + 11, end, 2, &h) || p[13] != ':' || !digits(p + 14, end, 2, &mi) ||
        p[16] != ':' || !digits(p + 17, end, 2, &s))
        return NULL;
    const char *q = p + 19;
    int us = 0, n = 0;
    if (q < end && (*q == '.' || *q == ',')) {
        for (q++; q < end && isdigit((unsigned char)*q); q++, n++)
            if (n < 6)
                us = us * 10 + (*q - '0');
        for (; n < 6; n++)
            us *= 10;
    }
    t->year = (int16_t)y, t->mon = (int8_t)mo, t->day = (int8_t)d;
    t->hour = (int8_t)h, t->min = (int8_t)mi, t->sec = (int8_t)s, t->usec = us;
    int off_min = 0;
    if (q < end && *q == 'Z') {
        q++;
    } else if (q < end && (*q == '+' || *q == '-')) {
        int oh, om;
        int sign = *q == '-' ? -1 : 1;
        if (!digits(q + 1, end, 2, &oh))
            return NULL;
        const char *r = q + 3;
        if (r < end && *r == ':')
            r++;
        if (!digits(r, end, 2, &om))
            return NULL;
        off_min = sign * (oh * 60 + om);
        q = r + 2;
    } else {
        t->zoneless = true;
        return q;
    }
    GDateTime *dt = g_date_time_new_utc(y, mo, d, h, mi, s);
    if (!dt)
        return NULL;
    t->abs_us = (g_date_time_to_unix(dt) - (int64_t)off_min * 60) * G_USEC_PER_SEC + us;
    g_date_time_unref(dt);
    return q;
}

/* "prog[pid]: msg" or "prog: msg" at p. */
static bool tag_msg(const char *p, const char *end, mw_logline *o)
{
    const char *colon = memchr(p, ':', (size_t)(end - p));
    if (!colon || colon == p || colon + 1 >= end || colon[1] != ' ')
        return false;
    const char *br = memchr(p, '[', (size_t)(colon - p));
    const char *pend = br ? br : colon;
    for (const char *c = p; c < pend; c++)
        if (*c == ' ')
            return false;
    size_t n = (size_t)(pend - p);
    if (n >= sizeof o->prog)
        return false;
    memcpy(o->prog, p, n);
    o->prog[n] = '\0';
    o->pid = br ? strtol(br + 1, NULL, 10) : -1;
    o->msg = colon + 2;
    o->msg_len = (size_t)(end - o->msg);
    return true;
}

static const char *skip_word(const char *p, const char *end)
{
    while (p < end && *p != ' ')
        p++;
    return p < end ? p + 1 : NULL;
}

/* BSD syslog, postfix maillog_file, dovecot log_path (no host: the first word ends in ':'). */
static bool parse_bsd(const char *line, const char *end, mw_logline *o)
{
    const char *p = bsd_time(line, end, &o->t);
    if (!p || p >= end || *p != ' ')
        return false;
    p++;
    const char *w = p;
    while (w < end && *w != ' ' && *w != ':' && *w != '[')
        w++;
    if (w < end && *w == ':' && w + 1 < end && w[1] == ' ') {
        o->fmt = MW_LF_DOVECOT;
        return tag_msg(p, end, o);
    }
    o->fmt = MW_LF_RFC3164;
    return (p = skip_word(p, end)) && tag_msg(p, end, o);
}

/* "<PRI>1 TS HOST APP PROCID MSGID SD MSG" */
static bool parse_5424(const char *line, const char *end, mw_logline *o)
{
    const char *p = line + 1;
    while (p < end && isdigit((unsigned char)*p))
        p++;
    if (p >= end - 3 || *p != '>' || p[1] != '1' || p[2] != ' ')
        return false;
    if (!(p = iso_time(p + 3, end, &o->t)) || p >= end || *p != ' ')
        return false;
    const char *host = p + 1, *app = host ? skip_word(host, end) : NULL;
    const char *pid = app ? skip_word(app, end) : NULL;
    const char *msgid = pid ? skip_word(pid, end) : NULL;
    const char *sd = msgid ? skip_word(msgid, end) : NULL;
    if (!sd || sd >= end)
        return false;
    size_t n = (size_t)(pid - 1 - app);
    if (n >= sizeof o->prog)
        return false;
    memcpy(o->prog, app, n);
    o->prog[n] = '\0';
    o->pid = *pid == '-' ? -1 : strtol(pid, NULL, 10);
    const char *m = sd;
    if (*m == '-') {
        m++;
    } else { /* structured data [id k="v" ...]...: skipped; a quoted ']' does not end it */
        while (m < end && *m == '[') {
            bool quoted = false;
            for (m++; m < end && (quoted || *m != ']'); m++) {
                if (*m == '\\' && m + 1 < end)
                    m++;
                else if (*m == '"')
                    quoted = !quoted;
            }
            m++;
        }
    }
    if (m < end && *m == ' ')
        m++;
    if (end - m >= 3 && (unsigned char)m[0] == 0xef && (unsigned char)m[1] == 0xbb)
        m += 3; /* BOM */
    o->msg = m < end ? m : end;
    o->msg_len = (size_t)(end - o->msg);
    o->fmt = MW_LF_RFC5424;
    return true;
}

static bool parse_iso(const char *line, const char *end, mw_logline *o)
{
    const char *p = iso_time(line, end, &o->t);
    if (!p || p >= end || *p != ' ' || !(p = skip_word(p + 1, end)))
        return false;
    o->fmt = MW_LF_ISO;
    return tag_msg(p, end, o);
}

bool mw_log_iso_stamp(const char *s, mw_logtime *t)
{
    const char *end = s + strlen(s);
    const char *q = iso_time(s, end, t);
    return q && q == end;
}

bool mw_logline_parse(const char *line, size_t len, mw_logline *o)
{
    const char *end = line + len;
    o->fmt = MW_LF_UNKNOWN;
    memset(&o->t, 0, sizeof o->t);
    o->prog[0] = '\0';
    o->pid = -1;
    o->msg = NULL;
    o->msg_len = 0;
    if (len < 16)
        return false;
    if (line[0] == '<')
        return parse_5424(line, end, o);
    if (line[0] == '{')
        return mw_log_journal_json(line, end, o);
    if (isdigit((unsigned char)line[0])) {
        if (parse_iso(line, end, o))
            return true;
        return mw_log_exchange_csv(line, end, o);
    }
    return parse_bsd(line, end, o);
}
