/* The two formats that are not one syslog line: journalctl -o json (one JSON object per
 * line) and Exchange's SMTP receive protocol log (CSV); the secret redaction; the address
 * forms the tables read. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "maillog/maillog_int.h"

/* The string value of "key" in a flat JSON object, unescaped into out (cap bytes).
 * False when absent or not a string (journald writes binary MESSAGE as an array). */
static bool json_field(const char *line, const char *end, const char *key, char *out,
                       size_t cap)
{
    char pat[48];
    g_snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = g_strstr_len(line, end - line, pat);
    if (!p)
        return false;
    p += strlen(pat);
    while (p < end && *p == ' ')
        p++;
    if (p >= end || *p != '"')
        return false;
    size_t n = 0;
    for (p++; p < end && *p != '"' && n + 4 < cap; p++) {
        if (*p != '\\' || p + 1 >= end) {
            out[n++] = *p;
            continue;
        }
        p++;
        switch (*p) {
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case 'r': out[n++] = '\r'; break;
        case 'b': case 'f': out[n++] = ' '; break;
        case 'u': {
            if (end - p < 5)
                return false;
            char hex[5] = { p[1], p[2], p[3], p[4], 0 };
            gunichar c = (gunichar)strtoul(hex, NULL, 16);
            n += (size_t)g_unichar_to_utf8(c ? c : '?', out + n);
            p += 4;
            break;
        }
        default: out[n++] = *p;
        }
    }
    out[n] = '\0';
    return true;
}

bool mw_log_journal_json(const char *line, const char *end, mw_logline *o)
{
    char ts[32], pid[24];
    if (!json_field(line, end, "__REALTIME_TIMESTAMP", ts, sizeof ts) ||
        !json_field(line, end, "MESSAGE", o->buf, sizeof o->buf))
        return false;
    o->t.abs_us = g_ascii_strtoll(ts, NULL, 10);
    if (!json_field(line, end, "SYSLOG_IDENTIFIER", o->prog, sizeof o->prog))
        o->prog[0] = '\0';
    o->pid = json_field(line, end, "SYSLOG_PID", pid, sizeof pid) ||
                     json_field(line, end, "_PID", pid, sizeof pid)
                 ? strtol(pid, NULL, 10)
                 : -1;
    o->msg = o->buf;
    o->msg_len = strlen(o->buf);
    o->fmt = MW_LF_JOURNAL_JSON;
    return true;
}

/* One CSV field at *pp (quoted with "" as the escape, or bare) into out. */
static bool csv_field(const char **pp, const char *end, char *out, size_t cap)
{
    const char *p = *pp;
    size_t n = 0;
    if (p < end && *p == '"') {
        for (p++; p < end; p++) {
            if (*p == '"') {
                if (p + 1 < end && p[1] == '"')
                    p++;
                else {
                    p++;
                    break;
                }
            }
            if (n + 1 < cap)
                out[n++] = *p;
        }
    } else {
        for (; p < end && *p != ','; p++)
            if (n + 1 < cap)
                out[n++] = *p;
    }
    out[n] = '\0';
    if (p < end && *p != ',')
        return false;
    *pp = p < end ? p + 1 : end;
    return true;
}

/* date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,
 * data,context */
bool mw_log_exchange_csv(const char *line, const char *end, mw_logline *o)
{
    const char *p = line;
    char ts[40], seq[24];
    if (!csv_field(&p, end, ts, sizeof ts) ||
        !csv_field(&p, end, o->connector, sizeof o->connector) ||
        !csv_field(&p, end, o->session, sizeof o->session) ||
        !csv_field(&p, end, seq, sizeof seq) || !csv_field(&p, end, o->local, sizeof o->local) ||
        !csv_field(&p, end, o->remote, sizeof o->remote) ||
        !csv_field(&p, end, o->event, sizeof o->event) ||
        !csv_field(&p, end, o->buf, sizeof o->buf))
        return false;
    /* the information events ('*') put their text in the context field */
    if (!o->buf[0] && p < end)
        csv_field(&p, end, o->buf, sizeof o->buf);
    mw_logtime t = { 0 };
    o->t = t;
    /* the time parser of log_line.c wants a trailing space-free stamp: reuse via a line */
    if (!o->session[0] || !o->event[0] || !mw_log_iso_stamp(ts, &o->t))
        return false;
    g_strlcpy(o->prog, "exchange", sizeof o->prog);
    o->msg = o->buf;
    o->msg_len = strlen(o->buf);
    o->fmt = MW_LF_EXCHANGE;
    return true;
}

/* Secrets: the value after each of these is replaced by "***" up to a delimiter. */
static const char *const secret_keys[] = { "password=", "pass=", "passwd=", "resp=",
                                           "given password: ", "password: ", "PASS ",
                                           "AUTH PLAIN ", "AUTH LOGIN ", "AUTH XOAUTH2 ",
                                           "AUTHENTICATE PLAIN ", "LOGIN " };

static bool secret_delim(char c)
{
    return c == ' ' || c == '\t' || c == ',' || c == ')' || c == '>' || c == ';' || c == '"';
}

size_t mw_log_redact(char *line, size_t len)
{
    for (size_t k = 0; k < G_N_ELEMENTS(secret_keys); k++) {
        size_t kl = strlen(secret_keys[k]);
        for (size_t i = 0; i + kl <= len; i++) {
            /* lower-case keys are key=value forms (any case); upper-case ones are protocol
             * commands, matched exactly (not "Aborted login (auth failed") */
            bool any_case = g_ascii_islower(secret_keys[k][0]);
            if ((any_case ? g_ascii_strncasecmp(line + i, secret_keys[k], kl)
                          : strncmp(line + i, secret_keys[k], kl)) != 0)
                continue;
            /* "pass=" inside "bypass=" or "sasl_username" is no secret key */
            if (any_case && i > 0 && isalnum((unsigned char)line[i - 1]))
                continue;
            /* a command starts a field ("<,AUTH PLAIN x", "C: PASS x", "a1 LOGIN u p"), it
             * does not follow a word ("Inbound AUTH LOGIN failed because of ...") */
            if (!any_case && i > 0 && line[i - 1] != ',' && line[i - 1] != '\t' &&
                !(line[i - 1] == ' ' && (i < 2 || !isalpha((unsigned char)line[i - 2]))))
                continue;
            size_t v = i + kl, e = v;
            if (len - v >= 3 && memcmp(line + v, "***", 3) == 0)
                continue; /* already redacted by an earlier key */
            /* a quoted value ends at its closing quote; PASS/LOGIN take the rest */
            if (e < len && line[e] == '"')
                for (e++; e < len && line[e] != '"'; e++)
                    ;
            else if (!any_case) /* a command's argument: the rest of the line */
                e = len;
            else
                while (e < len && !secret_delim(line[e]))
                    e++;
            if (e < len && line[e] == '"')
                e++;
            if (e == v)
                continue;
            memmove(line + v + 3, line + e, len - e);
            memcpy(line + v, "***", 3);
            len = v + 3 + (len - e);
            line[len] = '\0';
            i = v + 2;
        }
    }
    return len;
}

bool mw_log_client_at(const char *p, char *ip, size_t ipcap, int *port)
{
    const char *lb = strchr(p, '['), *rb = lb ? strchr(lb, ']') : NULL;
    if (!rb || (size_t)(rb - lb - 1) >= ipcap || rb == lb + 1)
        return false;
    memcpy(ip, lb + 1, (size_t)(rb - lb - 1));
    ip[rb - lb - 1] = '\0';
    *port = rb[1] == ':' && isdigit((unsigned char)rb[2]) ? atoi(rb + 2) : -1;
    return true;
}

bool mw_log_endpoint(const char *p, char *ip, size_t ipcap, int *port)
{
    if (*p == '[')
        return mw_log_client_at(p, ip, ipcap, port);
    const char *colon = strrchr(p, ':');
    if (!colon || (size_t)(colon - p) >= ipcap || colon == p)
        return false;
    memcpy(ip, p, (size_t)(colon - p));
    ip[colon - p] = '\0';
    *port = atoi(colon + 1);
    return true;
}
