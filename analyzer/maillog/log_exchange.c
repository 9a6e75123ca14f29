/* Exchange's SMTP receive protocol log: one server-side session per connector + session id,
 * '+' connect, '-' disconnect, '<' a client command, '>' a server reply, '*' information
 * (TLS, authentication). The remote endpoint is the client's ip:port: it joins exactly. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "maillog/maillog_int.h"

static int judge_reply(mw_logsess *st, const char *data)
{
    int code = isdigit((unsigned char)data[0]) ? atoi(data) : 0;
    char enh[32] = "";
    const char *t = data + (code ? 3 : 0);
    while (*t == ' ')
        t++;
    if (isdigit((unsigned char)*t) && strchr(t, '.')) {
        size_t n = strcspn(t, " ");
        g_strlcpy(enh, t, MIN(sizeof enh, n + 1));
        t += n;
    }
    st->sasl = code == 334;
    return code >= 400 ? mw_log_smtp_reply_flag(st->cmd, code, enh, t) : -1;
}

bool mw_log_exchange(mw_logidx *x, const mw_logline *l, const mw_logpos *pos)
{
    if (l->fmt != MW_LF_EXCHANGE)
        return false;
    char key[200], ip[48];
    int port;
    g_snprintf(key, sizeof key, "exchange %s %s", l->connector, l->session);
    char ev = l->event[0];
    mw_logsess *ls = mw_logidx_open(x, key, MW_SRV_SMTP, false, pos);
    if (!ls && !(ls = mw_logidx_open(x, key, MW_SRV_SMTP, true, pos)))
        return true;
    if (mw_log_endpoint(l->remote, ip, sizeof ip, &port))
        mw_logsess_client(ls, ip, port);
    if (mw_log_endpoint(l->local, ip, sizeof ip, &port))
        mw_logsess_server(ls, ip, port);
    mw_logsess *st = ls; /* its last command and SASL state */
    int flag = -1;
    mw_logpos p = *pos;
    if (ev == '<') {
        if (st->sasl) { /* never keep a SASL response, whatever its form */
            p.text = "<,<SASL response redacted>";
            st->sasl = false;
        } else {
            size_t n = strcspn(l->msg, " :");
            g_strlcpy(st->cmd, l->msg, MIN(sizeof st->cmd, n + 1));
        }
    } else if (ev == '>') {
        flag = judge_reply(st, l->msg);
    } else if (ev == '*' && strstr(l->msg, "AUTH") && strstr(l->msg, "failed")) {
        flag = MW_FLAG_AUTH_FAILED; /* "Inbound AUTH LOGIN failed because of LogonDenied" */
    }
    mw_logsess_line(x, ls, &p, flag, l->msg);
    if (ev == '-') {
        mw_logsess_close(x, ls, key);
    }
    return true;
}
