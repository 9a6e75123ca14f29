/* postfix: what each smtpd / postscreen / cleanup / delivery-agent line means, as a table
 * (pattern → kind), and the SMTP refusal → flag rule shared with the Exchange log. A
 * server-side session is one smtpd process from "connect from" to "disconnect from"; the
 * queue ids it hands over are followed to their delivery. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "maillog/maillog_int.h"
#include "smtp/smtp_category.h"

/* Mirrors the SMTP dissector's judgement (dissectors/smtp/smtp_replies.c) for a refusal
 * known only from a log. */
int mw_log_smtp_reply_flag(const char *cmd, int code, const char *enh, const char *text)
{
    char low[MW_MAX_TEXT + 1];
    g_strlcpy(low, text ? text : "", sizeof low);
    for (char *c = low; *c; c++)
        *c = g_ascii_tolower(*c);
    bool tls_words = strstr(low, "tls") || strstr(low, "encryption");
    bool auth_words = strstr(low, "authenticat") || strstr(low, "auth ") ||
                      strstr(low, "login") || strstr(low, "logged in");
    bool access = code == 530 || !strcmp(enh, "5.7.0") || !strcmp(enh, "5.7.1") ||
                  !strcmp(enh, "4.7.0") || !strcmp(enh, "5.7.10") || !strcmp(enh, "5.7.11") ||
                  !strcmp(enh, "5.7.57");
    bool timeout_words = strstr(low, "timeout") || strstr(low, "timed out");
    if (code == 421 && (!strcmp(enh, "4.4.2") || timeout_words))
        return MW_FLAG_SERVER_TIMEOUT;
    if (code < 400)
        return -1;
    if (!g_ascii_strcasecmp(cmd, "AUTH"))
        return MW_FLAG_AUTH_FAILED;
    if (!g_ascii_strcasecmp(cmd, "STARTTLS"))
        return MW_FLAG_STARTTLS_REFUSED;
    if (access && tls_words && code >= 500)
        return MW_FLAG_TLS_REQUIRED;
    if (access && auth_words && !strstr(low, "relay") && code >= 500)
        return MW_FLAG_AUTH_REQUIRED;
    if (!g_ascii_strcasecmp(cmd, "RCPT"))
        return strstr(low, "relay") || !strcmp(mw_smtp_category(code, enh, text), "relay")
                   ? MW_FLAG_RELAY_DENIED
                   : MW_FLAG_RECIPIENT_REJECTED;
    if (!g_ascii_strcasecmp(cmd, "MAIL"))
        return MW_FLAG_SENDER_REJECTED;
    bool body = !g_ascii_strcasecmp(cmd, "DATA") || !g_ascii_strcasecmp(cmd, "BDAT") ||
                !g_ascii_strcasecmp(cmd, "END-OF-MESSAGE");
    /* not "554 5.5.1 no valid recipients" nor a 503 sequence error (SPEC.md) */
    if (body && code >= 500 && code != 503 && strcmp(enh, "5.5.1") != 0)
        return MW_FLAG_MESSAGE_REJECTED;
    return -1;
}

typedef enum {
    PF_CONNECT, PF_DISCONNECT, PF_REJECT, PF_SASL, PF_NOTE, PF_TLS_PROBLEM,
} pf_kind;

/* smtpd lines, matched in order: prefix (at the message start) or anywhere. */
static const struct {
    const char *pat;
    bool prefix;
    pf_kind kind;
    int flag;
} smtpd_tab[] = {
    { "connect from ", true, PF_CONNECT, -1 },
    { "disconnect from ", true, PF_DISCONNECT, -1 },
    { "NOQUEUE: reject: ", true, PF_REJECT, -1 },
    { "NOQUEUE: milter-reject: ", true, PF_REJECT, -1 },
    { "authentication failed", false, PF_SASL, MW_FLAG_AUTH_FAILED },
    { "lost connection after ", true, PF_NOTE, -1 },
    { "timeout after ", true, PF_NOTE, MW_FLAG_SERVER_TIMEOUT },
    { "TLS connection established from ", false, PF_NOTE, -1 },
    { "SSL_accept error from ", true, PF_NOTE, -1 },
    { "warning: TLS library problem: ", true, PF_TLS_PROBLEM, -1 },
    { "too many errors after ", true, PF_NOTE, -1 },
    { "improper command pipelining after ", true, PF_NOTE, -1 },
    { "warning: non-SMTP command from ", true, PF_NOTE, -1 },
};

/* OpenSSL's words for a handshake without a common version (or cipher). */
static bool tls_version_words(const char *msg)
{
    return strstr(msg, "unsupported protocol") || strstr(msg, "wrong version number") ||
           strstr(msg, "version too low") || strstr(msg, "no shared cipher") ||
           strstr(msg, "no protocols available");
}

/* "RCPT from host[ip]:port: 554 5.7.1 <x>: text; from=<..." → verb, code, enhanced, text. */
static int parse_reject(const char *r, char *verb, size_t vcap, char *detail, size_t dcap)
{
    size_t n = strcspn(r, " ");
    g_strlcpy(verb, r, MIN(vcap, n + 1));
    const char *rb = strstr(r, "]");
    const char *p = rb ? strstr(rb, ": ") : NULL;
    if (!p)
        return -1;
    p += 2;
    int code = isdigit((unsigned char)p[0]) ? atoi(p) : 0;
    char enh[32] = "";
    const char *t = p + (code ? 4 : 0);
    if (code && isdigit((unsigned char)*t)) {
        size_t el = strcspn(t, " ");
        g_strlcpy(enh, t, MIN(sizeof enh, el + 1));
        t += el + (t[el] == ' ');
    }
    const char *semi = strstr(t, "; from=");
    size_t tl = semi ? (size_t)(semi - t) : strlen(t);
    char text[MW_MAX_TEXT + 1];
    g_strlcpy(text, t, MIN(sizeof text, tl + 1));
    g_snprintf(detail, dcap, "%s: %.*s", verb, (int)(semi ? semi - p : (long)strlen(p)), p);
    return mw_log_smtp_reply_flag(verb, code, enh, text);
}

/* "ehlo=2 starttls=1 auth=0/1 commands=3/4": auth=N/M with N < M is a failed attempt. */
static bool auth_counts_failed(const char *msg)
{
    const char *a = strstr(msg, " auth=");
    int ok = 0, all = 0;
    return a && sscanf(a + 6, "%d/%d", &ok, &all) == 2 && ok < all;
}

static void smtpd_line(mw_logidx *x, const char *key, const char *msg, const mw_logpos *pos,
                       size_t k)
{
    char ip[48], detail[MW_MAX_TEXT + 1], verb[24];
    int port = -1, flag = smtpd_tab[k].flag;
    mw_logsess *ls = mw_logidx_open(x, key, MW_SRV_SMTP, smtpd_tab[k].kind == PF_CONNECT, pos);
    if (!ls)
        return;
    g_strlcpy(detail, msg, sizeof detail);
    switch (smtpd_tab[k].kind) {
    case PF_CONNECT:
        if (mw_log_client_at(msg + 13, ip, sizeof ip, &port))
            mw_logsess_client(ls, ip, port);
        break;
    case PF_REJECT:
        flag = parse_reject(strstr(msg, "reject: ") + 8, verb, sizeof verb, detail,
                            sizeof detail);
        break;
    case PF_TLS_PROBLEM:
        flag = tls_version_words(msg) ? MW_FLAG_TLS_VERSION_MISMATCH : -1;
        break;
    case PF_DISCONNECT: /* "mail=1 rcpt=0/1": a count N/M is a failed command */
        if (auth_counts_failed(msg))
            flag = MW_FLAG_AUTH_FAILED;
        ls->clean = !strchr(msg + 16, '/') && strstr(msg, " quit=1");
        break;
    default:
        break;
    }
    mw_logsess_line(x, ls, pos, flag, detail);
    if (smtpd_tab[k].kind == PF_DISCONNECT)
        mw_logsess_close(x, ls, key);
}

/* A postfix queue id followed by ": ": the short form is upper-case hex ("D8184A76434"),
 * the long form (enable_long_queue_ids) a base-52 without vowels — so "warning: " is none. */
static size_t queue_id(const char *msg, char *qid, size_t cap)
{
    size_t n = 0;
    bool hex = true, vowel = false;
    for (; isalnum((unsigned char)msg[n]); n++) {
        hex &= isdigit((unsigned char)msg[n]) || (msg[n] >= 'A' && msg[n] <= 'F');
        vowel |= strchr("aeiouAEIOU", msg[n]) != NULL;
    }
    if (!hex && vowel)
        return 0;
    if (n < 6 || n >= cap || msg[n] != ':' || msg[n + 1] != ' ' || !strncmp(msg, "NOQUEUE", 7))
        return 0;
    memcpy(qid, msg, n);
    qid[n] = '\0';
    return n + 2;
}

/* "key=value" up to ", " from a delivery line. */
static char *field(const char *msg, const char *key)
{
    const char *p = strstr(msg, key);
    if (!p)
        return NULL;
    p += strlen(key);
    return g_strndup(p, strcspn(p, ", "));
}

static void queue_line(mw_logidx *x, const char *prog, const char *qid, const char *rest,
                       const mw_logpos *pos, mw_logsess *smtpd)
{
    char verb[24], detail[MW_MAX_TEXT + 1];
    if (smtpd && !strncmp(rest, "client=", 7)) {
        mw_logidx_qid_owner(x, qid, smtpd);
    } else if (!strncmp(rest, "reject: ", 8) || !strncmp(rest, "milter-reject: ", 15)) {
        const char *r = strstr(rest, "reject: ") + 8;
        int flag;
        if (!strncmp(r, "header ", 7) || !strncmp(r, "body ", 5)) {
            flag = MW_FLAG_MESSAGE_REJECTED; /* cleanup's header/body checks */
            const char *t = strrchr(r, ':');
            g_snprintf(detail, sizeof detail, "END-OF-MESSAGE:%s", t ? t : r);
        } else {
            flag = parse_reject(r, verb, sizeof verb, detail, sizeof detail);
        }
        mw_logidx_qid_line(x, qid, pos, flag, detail);
    } else if (strstr(rest, "status=") && strstr(rest, "to=<")) {
        char *status = field(rest, "status="), *relay = field(rest, "relay="),
             *dsn = field(rest, "dsn=");
        const char *paren = strstr(rest, "status=");
        paren = paren ? strchr(paren, '(') : NULL;
        char *text = paren ? g_strndup(paren + 1, strcspn(paren + 1, ")")) : NULL;
        mw_logidx_delivery(x, qid, pos, status, relay, dsn, text);
        g_free(status), g_free(relay), g_free(dsn), g_free(text);
    } else if (strstr(prog, "/bounce") || strstr(rest, "removed") || strstr(rest, "from=<")) {
        return; /* known, not the session's */
    }
}

/* postscreen: one pid for every client, so its sessions are keyed by the client. */
static bool postscreen_line(mw_logidx *x, const char *msg, const mw_logpos *pos)
{
    char ip[48], sip[48], key[80];
    int port = -1, sport = -1;
    const char *b = strchr(msg, '[');
    if (!b || !mw_log_client_at(b, ip, sizeof ip, &port))
        return false;
    g_snprintf(key, sizeof key, "postscreen %s:%d", ip, port);
    bool connect = !strncmp(msg, "CONNECT from ", 13);
    mw_logsess *ls = mw_logidx_open(x, key, MW_SRV_SMTP, connect, pos);
    if (!ls)
        return true;
    if (connect) {
        mw_logsess_client(ls, ip, port);
        const char *to = strstr(msg, " to [");
        if (to && mw_log_client_at(to, sip, sizeof sip, &sport))
            mw_logsess_server(ls, sip, sport);
    }
    char verb[24], detail[MW_MAX_TEXT + 1];
    int flag = -1;
    g_strlcpy(detail, msg, sizeof detail);
    if (!strncmp(msg, "NOQUEUE: reject: ", 17))
        flag = parse_reject(msg + 17, verb, sizeof verb, detail, sizeof detail);
    mw_logsess_line(x, ls, pos, flag, detail);
    if (!strncmp(msg, "DISCONNECT ", 11) || !strncmp(msg, "PASS ", 5))
        mw_logsess_close(x, ls, key);
    return true;
}

bool mw_log_postfix(mw_logidx *x, const mw_logline *l, const mw_logpos *pos)
{
    if (!strstr(l->prog, "postfix"))
        return false;
    char key[96], msg[MW_LOG_LINE_MAX + 1], qid[32];
    g_strlcpy(msg, l->msg, MIN(sizeof msg, l->msg_len + 1));
    g_snprintf(key, sizeof key, "%s[%ld]", l->prog, l->pid);
    bool smtpd = g_str_has_suffix(l->prog, "/smtpd");
    if (g_str_has_suffix(l->prog, "/postscreen"))
        return postscreen_line(x, msg, pos);
    if (g_str_has_suffix(l->prog, "/anvil"))
        return strstr(msg, "statistics:") != NULL; /* names a client, not a session */
    size_t q = queue_id(msg, qid, sizeof qid);
    if (q) {
        queue_line(x, l->prog, qid, msg + q, pos, smtpd ? mw_logidx_open(x, key, 0, false, pos)
                                                        : NULL);
        return true;
    }
    if (!smtpd)
        return true; /* qmgr, master... known, nothing of a session */
    for (size_t k = 0; k < G_N_ELEMENTS(smtpd_tab); k++) {
        bool hit = smtpd_tab[k].prefix ? !strncmp(msg, smtpd_tab[k].pat, strlen(smtpd_tab[k].pat))
                                       : strstr(msg, smtpd_tab[k].pat) != NULL;
        if (hit) {
            smtpd_line(x, key, msg, pos, k);
            return true;
        }
    }
    /* any other line of an open smtpd session is kept with it (context) */
    mw_logsess *ls = mw_logidx_open(x, key, MW_SRV_SMTP, false, pos);
    if (ls)
        mw_logsess_line(x, ls, pos, -1, NULL);
    return ls != NULL;
}
