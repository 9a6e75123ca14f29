/* dovecot: the login processes' lines (imap-login, pop3-login, submission-login) and the
 * auth process's, from its own log_path or through syslog. A server-side session is one
 * session=<id>; with login_log_format_elements carrying rip/rport/lip/lport it joins by
 * port. */
#include <stdlib.h>
#include <string.h>

#include "maillog/maillog_int.h"

/* What a login line says, in order of the first that matches. */
static const struct {
    const char *pat;
    int flag;
} login_tab[] = {
    { "SSL_accept() failed", -2 },            /* judged by its OpenSSL words below */
    { "(auth failed", MW_FLAG_AUTH_FAILED },
    { "Aborted login (auth failed", MW_FLAG_AUTH_FAILED },
    { "Disconnected: Inactivity", MW_FLAG_SERVER_TIMEOUT },
    { "Disconnected (inactivity", MW_FLAG_SERVER_TIMEOUT },
    { "Login: ", -1 },
    { "Aborted login", -1 },
    { "Disconnected", -1 },
};

static const struct {
    const char *service;
    mw_srv_kind kind;
} services[] = {
    { "imap-login", MW_SRV_IMAP }, { "pop3-login", MW_SRV_POP3 },
    { "submission-login", MW_SRV_SMTP }, { "imap", MW_SRV_IMAP },
    { "pop3", MW_SRV_POP3 }, { "submission", MW_SRV_SMTP }, { "auth", MW_SRV_IMAP },
};

/* "key=value" up to ", " or the end → out. */
static bool elem(const char *msg, const char *key, char *out, size_t cap)
{
    const char *p = strstr(msg, key);
    if (!p)
        return false;
    p += strlen(key);
    size_t n = strcspn(p, ", >");
    g_strlcpy(out, p, MIN(cap, n + 1));
    return n > 0;
}

static void endpoints(mw_logsess *ls, const char *msg)
{
    char ip[48], port[8];
    if (elem(msg, " rip=", ip, sizeof ip))
        mw_logsess_client(ls, ip, elem(msg, " rport=", port, sizeof port) ? atoi(port) : -1);
    if (elem(msg, " lip=", ip, sizeof ip))
        mw_logsess_server(ls, ip, elem(msg, " lport=", port, sizeof port) ? atoi(port) : -1);
}

/* The service a line is from, and its message without the "Info: " level. */
static bool service_of(const mw_logline *l, char *svc, size_t cap, const char **msg)
{
    const char *m = l->msg;
    if (!strcmp(l->prog, "dovecot")) { /* through syslog: "dovecot: imap-login: ..." */
        size_t n = strcspn(m, ":");
        if (!m[n])
            return false;
        g_strlcpy(svc, m, MIN(cap, n + 1));
        m += n + 1 + (m[n + 1] == ' ');
    } else {
        g_strlcpy(svc, l->prog, cap);
    }
    svc[strcspn(svc, "(<")] = '\0'; /* imap(alice)<pid><session> */
    static const char *const levels[] = { "Info: ", "Warning: ", "Error: ", "Fatal: ",
                                          "Panic: ", "Debug: " };
    for (size_t i = 0; i < G_N_ELEMENTS(levels); i++)
        if (g_str_has_prefix(m, levels[i]))
            m += strlen(levels[i]);
    *msg = m;
    return true;
}

static bool tls_version_words(const char *msg)
{
    return strstr(msg, "unsupported protocol") || strstr(msg, "wrong version number") ||
           strstr(msg, "version too low") || strstr(msg, "no shared cipher") ||
           strstr(msg, "no protocols available");
}

bool mw_log_dovecot(mw_logidx *x, const mw_logline *l, const mw_logpos *pos)
{
    char svc[64], sess[96], key[112];
    const char *msg;
    if (!service_of(l, svc, sizeof svc, &msg))
        return false;
    int k = -1;
    for (size_t i = 0; i < G_N_ELEMENTS(services) && k < 0; i++)
        if (!strcmp(svc, services[i].service))
            k = (int)i;
    if (k < 0)
        return false;
    /* the session id: session=<id>, or the auth process's passwd-file(user,ip,<id>) */
    const char *s = strstr(msg, "session=<");
    const char *a = s ? s + 9 : (strstr(msg, ",<") ? strstr(msg, ",<") + 2 : NULL);
    if (!a && !strcmp(svc, "auth"))
        return true; /* an auth line without a session id names no connection */
    g_strlcpy(sess, a ? a : "", MIN(sizeof sess, a ? strcspn(a, ">") + 1 : 1));
    if (sess[0])
        g_snprintf(key, sizeof key, "dovecot session=<%s>", sess);
    else
        g_snprintf(key, sizeof key, "dovecot %s line %" G_GUINT64_FORMAT, svc, pos->line);
    mw_logsess *ls = mw_logidx_open(x, key, services[k].kind, false, pos);
    if (!ls && !(ls = mw_logidx_open(x, key, services[k].kind, true, pos)))
        return true;
    if (strcmp(svc, "auth") != 0)
        ls->kind = services[k].kind;
    endpoints(ls, msg);
    int flag = -1;
    for (size_t i = 0; i < G_N_ELEMENTS(login_tab); i++) {
        if (strstr(msg, login_tab[i].pat)) {
            flag = login_tab[i].flag;
            break;
        }
    }
    if (flag == -2)
        flag = tls_version_words(msg) ? MW_FLAG_TLS_VERSION_MISMATCH : -1;
    const char *in = strstr(msg, " secs)");
    if (in) { /* "(auth failed, 1 attempts in 2 secs)": when the session began */
        const char *d = in;
        while (d > msg && d[-1] >= '0' && d[-1] <= '9')
            d--;
        mw_logsess_began_before(ls, pos, atoi(d));
    }
    if (g_str_has_prefix(msg, "Login: ") || strstr(msg, "Logged out"))
        ls->clean = true;
    char detail[MW_MAX_TEXT + 1];
    size_t dl = strcspn(msg, ":"); /* "Disconnected (auth failed, 1 attempts in 2 secs)" */
    const char *colon2 = strstr(msg, "): ");
    if (colon2)
        dl = (size_t)(colon2 - msg) + 1;
    g_strlcpy(detail, msg, MIN(sizeof detail, dl + 1));
    mw_logsess_line(x, ls, pos, flag, detail);
    return true;
}
