/* SMTP, submission (RFC 5321, 6409), STARTTLS (RFC 3207), AUTH (RFC 4954),
 * PIPELINING (RFC 2920), CHUNKING/BDAT (RFC 3030), enhanced status codes (RFC 3463).
 *
 * Client lines are commands (smtp_commands.c); each is queued in a FIFO and the next
 * complete server reply (smtp_replies.c) answers the oldest (RFC 2920 section 3.1 keeps
 * replies in command order), so a 554 lands on the RCPT it refused however the client
 * pipelined. Message bodies (DATA up to the lone dot, BDAT by count) are skipped and
 * counted, never buffered. This file frames the two directions and ends the session. */
#include <glib.h>
#include <string.h>

#include "dissector.h"
#include "smtp/smtp.h"
#include "smtp/smtp_auth.h"
#include "smtp/smtp_commands.h"
#include "smtp/smtp_replies.h"
#include "smtp/smtp_state.h"
#include "smtp/smtp_tx.h"
#include "tls/tls.h"

static void *smtp_new(mw_session *s, const mw_config *cfg)
{
    return smtp_state_new(s);
}

static void smtp_free(void *p)
{
    smtp_state_free(p);
}

/* After a gap or a mid-session start: is this plausibly the start of a line? */
static bool plausible_line_start(mw_dir dir, const uint8_t *p, size_t len)
{
    if (dir == MW_FROM_SERVER)
        return smtp_looks_like_reply(p, len);
    return smtp_is_known_verb(p, len);
}

/* The client's first bytes: a client set to implicit TLS on a STARTTLS port (SPEC.md
 * tls_mode_mismatch)? False while too few bytes have come to tell. */
static bool first_client_bytes(smtp_state *st, const uint8_t *data, size_t len,
                               const mw_ctx *ctx)
{
    if (len < MW_TLS_PROBE_LEN && mw_tls_could_be_client_hello(data, len))
        return false;
    st->client_spoke = true;
    st->client_tls = mw_tls_looks_like_client_hello(data, len);
    if (st->client_tls)
        mw_session_flag(st->sess, MW_FLAG_TLS_MODE_MISMATCH, ctx->frame, ctx->ts_us,
                        "client sent a TLS ClientHello to port %u, where the server speaks "
                        "plain SMTP first (STARTTLS port)",
                        st->sess->server.port);
    return true;
}

/* Client bytes of a message body (DATA up to the lone dot, or a BDAT chunk): how many
 * were consumed; *need when the tail may be the terminator. */
static size_t body_bytes(smtp_state *st, const uint8_t *p, size_t len, uint64_t base_off,
                         bool *need, const mw_ctx *ctx)
{
    *need = false;
    if (st->mode == C_BDAT) {
        uint64_t take = len < st->bdat_left ? len : st->bdat_left;
        smtp_tx_body(st, p, (size_t)take);
        st->bdat_left -= take;
        if (st->bdat_left == 0)
            st->mode = C_COMMAND;
        return (size_t)take;
    }
    if (st->mode == C_DATA_WAIT)
        st->mode = C_BODY; /* body before the 354: the reply was lost or is late */
    size_t used;
    mw_dot_status ds = mw_dotblock_skip(&st->body, p, len, &used);
    smtp_tx_body(st, p, used);
    *need = ds == MW_DOT_NEED;
    if (ds == MW_DOT_END)
        smtp_end_of_data(st, base_off + used, ctx);
    return used;
}

static bool in_body(const smtp_state *st, mw_dir dir)
{
    return dir == MW_FROM_CLIENT &&
           (st->mode == C_BODY || st->mode == C_DATA_WAIT || st->mode == C_BDAT);
}

static mw_feed_result smtp_feed(void *p, mw_dir dir, const uint8_t *data, size_t len,
                                const mw_ctx *ctx)
{
    smtp_state *st = p;
    mw_feed_result r = { MW_FEED_OK, len };
    if (st->in_tls)
        return r;
    if (dir == MW_FROM_CLIENT && !st->client_spoke && !first_client_bytes(st, data, len, ctx)) {
        r.status = MW_FEED_NEED_MORE;
        r.consumed = 0;
        return r;
    }
    if (dir == MW_FROM_CLIENT && st->client_tls)
        return r;
    uint64_t base = st->pos[dir];
    if (st->resync[dir] && len > 0) {
        st->resync[dir] = false;
        if (!plausible_line_start(dir, data, len))
            st->line[dir].discarding = true;
    }
    size_t off = 0;
    while (off < len) {
        if (in_body(st, dir)) {
            bool need;
            off += body_bytes(st, data + off, len - off, base + off, &need, ctx);
            if (need) {
                r.status = MW_FEED_NEED_MORE;
                break;
            }
            continue;
        }
        mw_line l;
        size_t used;
        mw_line_status ls =
            mw_line_take(&st->line[dir], data + off, len - off, ctx->cfg->max_line, &l, &used);
        off += used;
        st->cur_end = base + off;
        if (ls == MW_LINE_MORE) {
            r.status = MW_FEED_NEED_MORE;
            break;
        }
        if (ls == MW_LINE_OVERLONG) {
            mw_session_anomaly(st->sess, MW_ANOM_LINE_TOO_LONG);
            if (dir == MW_FROM_CLIENT)
                smtp_overlong_command(st, ctx);
            continue;
        }
        if (dir == MW_FROM_CLIENT) {
            smtp_command(st, &l, ctx);
        } else if (smtp_server_line(st, &l, ctx)) {
            st->in_tls = true;
            mw_smtp_record(st->sess); /* made at first use: the state goes, the record stays */
            r.status = MW_FEED_UPGRADE_TLS;
            break;
        }
    }
    r.consumed = off;
    st->pos[dir] = base + off;
    return r;
}

static void smtp_gap(void *p, mw_dir dir, uint64_t missing, const mw_ctx *ctx)
{
    smtp_state *st = p;
    st->pos[dir] += missing;
    st->resync[dir] = true;
    st->line[dir].discarding = false;
    if (dir == MW_FROM_SERVER) {
        st->in_reply = false;
        st->sess->greeted = true; /* the greeting may be in the hole */
    } else if (st->mode == C_BDAT) {
        st->bdat_left = missing < st->bdat_left ? st->bdat_left - missing : 0;
        if (st->bdat_left == 0)
            st->mode = C_COMMAND;
        st->resync[dir] = false;
    } else if (st->mode == C_BODY) {
        st->body.line_start = false;
        st->resync[dir] = false;
    }
    /* Replies vanished: the queued commands would pair with the wrong ones. (Commands
     * lost on the client side are caught by the ACK check in mw_tp_pop_answered.) */
    if (dir == MW_FROM_SERVER)
        mw_tp_clear(&st->pending);
}

static void smtp_close(void *p, const mw_ctx *ctx)
{
    smtp_state *st = p;
    mw_session *s = st->sess;
    mw_smtp_record(s); /* made at first use: every SMTP session has one when it ends */
    smtp_tx_close(st);
    if (st->in_tls || mw_tp_no_greeting(s, ctx) || s->close_reason == MW_CLOSE_NONE ||
        s->close_reason == MW_CLOSE_EVICTED)
        return; /* (capture ended or record evicted: the reply may come later, unseen) */
    for (unsigned i = 0; i < st->pending.count; i++) {
        const mw_tp_cmd *c = mw_tp_at(&st->pending, i);
        if (c->kind == CMD_QUIT)
            continue;
        /* sent after the server had closed: the close, not silence, is the story */
        int64_t server_fin = mw_session_more_get(s)->fin_ts_us[MW_FROM_SERVER];
        if (server_fin && c->ts_us >= server_fin)
            continue;
        mw_tp_unanswered(s, smtp_cmd_name(c), c->frame, c->ts_us, ctx);
        break;
    }
}

static bool smtp_probe(const uint8_t *p, size_t len)
{
    return len >= 4 && memcmp(p, "220", 3) == 0 && (p[3] == ' ' || p[3] == '-');
}

/* Two copies of client bytes differed: inside an AUTH, both are secret (text/secrets.h). */
static void smtp_overlap(void *p, mw_dir dir, uint64_t off, const uint8_t *other, size_t len,
                         uint64_t first_frame, const mw_ctx *ctx)
{
    smtp_state *st = p;
    (void)off;
    (void)ctx;
    mw_secrets_overlap_conflict(&st->secrets, st->sess, dir, other, len, first_frame,
                                st->mode == C_AUTH || smtp_auth_window(st));
}

static const mw_port_proto smtp_ports[] = {
    { 25, MW_PROTO_SMTP },
    { 2525, MW_PROTO_SMTP },
    { 587, MW_PROTO_SUBMISSION },
    { 0, MW_PROTO_UNKNOWN },
};

const mw_dissector mw_smtp_dissector = {
    .name = "smtp",
    .ports = smtp_ports,
    .content_proto = MW_PROTO_SMTP,
    .probe = smtp_probe,
    .state_new = smtp_new,
    .state_free = smtp_free,
    .feed = smtp_feed,
    .on_gap = smtp_gap,
    .on_close = smtp_close,
    .write_json = mw_smtp_write_json,
    .write_text = mw_smtp_write_text,
    .free_record = mw_smtp_free_record,
    .on_overlap_conflict = smtp_overlap,
};
