/* IMAP (RFC 9051, RFC 3501), STARTTLS and LOGINDISABLED (RFC 9051 6.2.1, 7.2.2; RFC 2595),
 * SASL-IR (RFC 4959), response codes (RFC 5530), IDLE (RFC 2177), COMPRESS (RFC 4978),
 * LITERAL+ (RFC 7888).
 *
 * Client lines are tagged commands; server lines are untagged data ("* ..."),
 * continuation requests ("+ ...") or tagged completions, which are matched to their
 * command by tag in a bounded table, so several commands may be in flight. A line that
 * ends in a literal "{n}" or "{n+}" is followed by n octets of data and then the rest
 * of the line (RFC 9051 section 4.3): those octets are skipped by count in either
 * direction, never buffered — except the user name of a LOGIN sent as a literal, which
 * is copied up to the record's cap. A LOGIN password, quoted, atom or literal, is never
 * copied anywhere. */
#include <glib.h>
#include <string.h>

#include "dissector.h"
#include "core/spares.h"
#include "text/reply_log.h"
#include "imap/imap.h"
#include "imap/imap_commands.h"
#include "imap/imap_responses.h"
#include "imap/imap_syntax.h"
#include "imap/imap_transcript.h"

/* ---------- the dissector ---------- */

/* After a gap or a mid-session start: is this plausibly the start of a line? */
static bool plausible_line_start(mw_dir dir, const uint8_t *p, size_t len)
{
    char tag[MW_TP_TAG_MAX], word[16];
    if (dir == MW_FROM_SERVER && len >= 2 && (p[0] == '*' || p[0] == '+') && p[1] == ' ')
        return true;
    size_t t = imap_take_tag(p, len, tag);
    if (t == 0)
        return false;
    size_t w = mw_tp_word(p + t + 1, len - t - 1, word, sizeof word);
    if (w == 0)
        return false;
    if (dir == MW_FROM_SERVER)
        return imap_status_of(word) != IS_OTHER;
    if (imap_verb(word, -1) >= 0)
        return true;
    return imap_other_verb(word);
}

static void *imap_new(mw_session *s, const mw_config *cfg)
{
    (void)cfg;
    imap_state *st = mw_spares_take(mw_spares_here(MW_SPARE_IMAP, sizeof *st, MW_STATE_SPARES));
    st->sess = s;
    imap_agg_reset(&st->agg);
    mw_cmdrec_attach(s, &mw_imap_dissector);
    return st;
}

static void imap_free(void *p)
{
    imap_state *st = p;
    if (!st)
        return;
    explicit_bzero(st->user_buf, sizeof st->user_buf);
    mw_secrets_free(&st->secrets);
    mw_tp_queue_free(&st->pending);
    mw_spares_give(mw_spares_here(MW_SPARE_IMAP, sizeof *st, MW_STATE_SPARES), st);
}

/* The last command sent is a STARTTLS still waiting for its reply. */
static bool awaits_starttls(imap_state *st)
{
    const mw_tp_cmd *c = st->pending.count ? mw_tp_at(&st->pending, st->pending.count - 1) : NULL;
    return c && c->kind == IC_STARTTLS;
}

static mw_feed_result imap_feed(void *p, mw_dir dir, const uint8_t *data, size_t len,
                                const mw_ctx *ctx)
{
    imap_state *st = p;
    imap_side *sd = &st->side[dir];
    mw_feed_result r = { MW_FEED_OK, len };
    if (st->in_tls || st->compressed)
        return r;
    if (st->tls_gate.waiting &&
        mw_tlsgate_feed(&st->tls_gate, st->sess, dir, data, len,
                        st->side[MW_FROM_CLIENT].resync, ctx, &st->in_tls, &r))
        return r;
    if (sd->resync && len > 0 && sd->lit_left == 0) {
        if (!mw_tp_can_judge(data, len)) {
            r.status = MW_FEED_NEED_MORE;
            r.consumed = 0;
            return r;
        }
        sd->resync = false;
        if (!plausible_line_start(dir, data, len))
            sd->ls.discarding = true;
    }
    size_t off = 0;
    while (off < len) {
        if (sd->lit_left) {
            off += imap_skip_literal(st, dir, data + off, len - off);
            continue;
        }
        if (dir == MW_FROM_CLIENT && awaits_starttls(st) &&
            mw_tlsgate_early(&st->tls_gate, data + off, len - off)) {
            r.status = MW_FEED_NEED_MORE; /* a ClientHello before the OK: held for TLS */
            break;
        }
        mw_line l;
        size_t used;
        mw_line_status ls =
            mw_line_take(&sd->ls, data + off, len - off, ctx->cfg->max_line, &l, &used);
        off += used;
        if (ls == MW_LINE_MORE) {
            r.status = MW_FEED_NEED_MORE;
            break;
        }
        if (ls == MW_LINE_OVERLONG) {
            mw_session_anomaly(st->sess, MW_ANOM_LINE_TOO_LONG);
            sd->cont = false;
            continue;
        }
        if (dir == MW_FROM_CLIENT) {
            imap_client_line(st, &l, ctx);
        } else if (imap_server_line(st, &l, ctx)) {
            r = mw_tlsgate_agreed(&st->tls_gate, off, len, &st->in_tls);
            return r;
        }
        if (st->compressed) {
            off = len; /* the rest is deflate data (RFC 4978) */
            break;
        }
    }
    r.consumed = off;
    return r;
}

static void imap_gap(void *p, mw_dir dir, uint64_t missing, const mw_ctx *ctx)
{
    (void)ctx;
    imap_state *st = p;
    imap_side *sd = &st->side[dir];
    imap_flush_held(st);
    if (sd->lit_left && missing > 0 && missing < sd->lit_left) {
        /* the hole is inside a literal: skip the rest of it by count as before */
        sd->lit_left -= missing;
        sd->lit_done += missing;
        if (dir == MW_FROM_CLIENT)
            st->cur.lit_is_user = false;
        return;
    }
    sd->lit_left = 0;
    sd->cont = false;
    sd->resync = true;
    sd->ls.discarding = false;
    if (dir == MW_FROM_SERVER) {
        st->sess->greeted = true; /* the greeting may be in the hole */
        /* AUTHENTICATE's completion may be in the hole; SASL lines read as commands
         * afterwards have no tag and are ignored */
        st->auth_active = false;
        /* replies may be in the hole: what is pending cannot be judged unanswered */
        for (unsigned i = 0; i < st->pending.count; i++)
            mw_tp_at(&st->pending, i)->exempt = true;
    } else {
        memset(&st->cur, 0, sizeof st->cur);
        st->auth_active = false;
    }
}

static void imap_close(void *p, const mw_ctx *ctx)
{
    imap_state *st = p;
    imap_flush_held(st);
    mw_tp_close_line(st->sess, st->in_tls, &st->pending, ctx);
}

static bool imap_probe(const uint8_t *p, size_t len)
{
    return mw_tp_greets(p, len, "* OK");
}

static const mw_port_proto imap_ports[] = {
    { 143, MW_PROTO_IMAP },
    { 0, MW_PROTO_UNKNOWN },
};

/* Two copies of client bytes differed: inside a login, both are secret (text/secrets.h). */
static void imap_overlap(void *p, mw_dir dir, uint64_t off, const uint8_t *other, size_t len,
                       uint64_t first_frame, const mw_ctx *ctx)
{
    imap_state *st = p;
    (void)off;
    (void)ctx;
    mw_secrets_overlap_conflict(&st->secrets, st->sess, dir, other, len, first_frame,
                                st->auth_active || st->auth_failed);
}

const mw_dissector mw_imap_dissector = MW_TP_DISSECTOR(imap, MW_PROTO_IMAP);
