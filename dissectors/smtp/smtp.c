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
#include "registry.h"
#include "smtp/smtp.h"
#include "smtp/smtp_auth.h"
#include "smtp/smtp_commands.h"
#include "smtp/smtp_replies.h"
#include "smtp/smtp_state.h"
#include "smtp/smtp_tx.h"
#include "tls/tls.h"
#include "tls/tls_log.h"

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
        mw_nested_start(&st->client_hello, mw_dissector_for_tls(), st->sess, ctx->cfg);
    if (st->client_tls)
        mw_session_flag(st->sess, MW_FLAG_TLS_MODE_MISMATCH, ctx->frame, ctx->ts_us,
                        "client sent a TLS ClientHello to port %u, where the server speaks "
                        "plain SMTP first (STARTTLS port)",
                        st->sess->server.port);
    return true;
}

/* The TLS the client sent to a plain-text server: read by the TLS dissector for the
 * record (versions, SNI, JA3/JA4), the client side only. Its end is not judged there (no
 * tls_handshake_failed: the server never spoke TLS; tls_mode_mismatch says why). The
 * context carries no ACK, as for any nested dissector, and the TLS dissector's state of
 * this engine (its fingerprint cache; without it the nested state made and wiped an
 * engine's 18 KB decryption buffer of its own for every such session). */
static void client_tls_bytes(smtp_state *st, const uint8_t *p, size_t len, const mw_ctx *ctx)
{
    mw_ctx ic = *ctx;
    ic.ack_known = false;
    ic.peer_acked = 0;
    ic.engine_state = mw_ctx_engine_state_of(ctx, st->client_hello.dis);
    if (!mw_nested_started(&st->client_hello))
        return;
    mw_nested_data(&st->client_hello, MW_FROM_CLIENT, p, len, &ic);
    /* the hello is what the record wants: the TLS state (and its decryption buffer) goes
     * once it is read, so that a flood of such connections costs no more than others */
    const mw_tls_rec *t = mw_tls_of(st->sess);
    if (t && t->hello_version)
        mw_nested_free(&st->client_hello);
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

/* The last command sent is a STARTTLS still waiting for its reply. */
static bool awaits_starttls(smtp_state *st)
{
    const mw_tp_cmd *c = st->pending.count ? mw_tp_at(&st->pending, st->pending.count - 1) : NULL;
    return c && c->kind == CMD_STARTTLS;
}

static mw_feed_result smtp_feed(void *p, mw_dir dir, const uint8_t *data, size_t len,
                                const mw_ctx *ctx)
{
    smtp_state *st = p;
    mw_feed_result r = { MW_FEED_OK, len };
    if (st->in_tls)
        return r;
    if (st->tls_gate.waiting && mw_tlsgate_feed(&st->tls_gate, st->sess, dir, data, len,
                                                st->resync[MW_FROM_CLIENT], ctx, &st->in_tls, &r))
        return r;
    if (dir == MW_FROM_CLIENT && !st->client_spoke && !first_client_bytes(st, data, len, ctx)) {
        r.status = MW_FEED_NEED_MORE;
        r.consumed = 0;
        return r;
    }
    if (dir == MW_FROM_CLIENT && st->client_tls) {
        client_tls_bytes(st, data, len, ctx);
        return r;
    }
    uint64_t base = st->pos[dir];
    if (st->resync[dir] && len > 0) {
        /* judge a line start on a line's worth, never on how the segment was cut */
        if (!mw_tp_can_judge(data, len)) {
            r.status = MW_FEED_NEED_MORE;
            r.consumed = 0;
            return r;
        }
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
        if (dir == MW_FROM_CLIENT && awaits_starttls(st) &&
            mw_tlsgate_early(&st->tls_gate, data + off, len - off)) {
            r.status = MW_FEED_NEED_MORE; /* a ClientHello before the 220: held for TLS */
            break;
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
            mw_smtp_record(st->sess); /* made at first use: the state goes, the record stays */
            r = mw_tlsgate_agreed(&st->tls_gate, off, len, &st->in_tls);
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
    if (dir == MW_FROM_CLIENT && st->client_tls)
        mw_nested_gap(&st->client_hello, dir, missing, ctx);
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
    if (st->bdat_refused)
        s->broken = true; /* the outcome is failed: a refused BDAT left no message sent */
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
    .write_text_findings = mw_smtp_write_text_findings,
    .free_record = mw_smtp_free_record,
    .on_overlap_conflict = smtp_overlap,
};
