#include "core/session.h"

#include "core/identity.h"
#include "core/community_id.h"
#include "core/spares.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* "s" and the number in decimal, as "s%" G_GUINT64_FORMAT writes it (a printf per session
 * cost more than the rest of making the record). */
static void format_id(char id[24], uint64_t n)
{
    char digits[20];
    size_t k = 0;
    do
        digits[k++] = (char)('0' + n % 10);
    while ((n /= 10) > 0);
    id[0] = 's';
    for (size_t i = 0; i < k; i++)
        id[1 + i] = digits[k - 1 - i];
    id[1 + k] = '\0';
}

/* The blocks of freed records kept for the next ones made on the same thread
 * (mw_spares_here): a record and its rare part with the arena's room (more_new) each cost
 * a malloc and a free per session otherwise (the rare part's size is in glibc's slow large
 * bins). A record is freed where it was made: output/writer.c hands written ones back to
 * the analysis thread once written. */
static mw_spares *record_spares(void)
{
    return mw_spares_here(MW_SPARE_RECORD, sizeof(mw_session), MW_SESSION_SPARES);
}

/* The bytes of a rare part made with the arena's room (more_new). */
#define MORE_WITH_ARENA (sizeof(mw_session_more) + MW_ARENA_CHUNK_HEAD + MW_SESSION_ARENA_INLINE)

static mw_spares *more_spares(void)
{
    return mw_spares_here(MW_SPARE_MORE, MORE_WITH_ARENA, MW_SESSION_SPARES);
}

mw_session *mw_session_new(uint64_t seq_no)
{
    _Static_assert(sizeof ((mw_session *)0)->id >= 1 + 20 + 1, "s, 20 digits and the NUL");
    mw_session *s = mw_spares_take(record_spares());
    format_id(s->id, seq_no);
    s->input = mw_identity_input();
    return s;
}

/* The evidence of a finished record that raised no flag: one empty list for all of them,
 * never written to (count_evidence gives a record its own at its first flag) — a list made
 * per session cost more than the rest of its record. */
static mw_avec *no_evidence(void)
{
    static mw_avec none;
    return &none;
}

static bool own_evidence(const mw_session *s)
{
    return s->evidence && s->evidence != no_evidence();
}

static void free_part(mw_part *p)
{
    if (p->rec && p->free_record)
        p->free_record(p->rec);
    p->rec = NULL;
}

void mw_part_set(mw_part *p, const struct mw_dissector *owner, void *rec,
                 void (*free_record)(void *rec))
{
    free_part(p);
    p->rec = rec;
    p->owner = owner;
    p->free_record = free_record;
}

/* The rare part, with room for the arena's first chunk after it when `arena` (the arena is
 * what it is made for): most sessions then keep all their strings in it
 * (MW_SESSION_ARENA_INLINE) and cost no chunk of their own. Without, it stays small: a
 * record made for its times or its community id alone (every flow closed at the end of a
 * capture, all at once) does not carry an arena's room it will not use. */
static mw_session_more *more_new(mw_session *s, bool arena)
{
    _Static_assert(sizeof(mw_session_more) % MW_ARENA_ALIGN == 0, "the chunk is aligned");
    size_t room = arena ? MW_ARENA_CHUNK_HEAD + MW_SESSION_ARENA_INLINE : 0;
    mw_session_more *m = arena ? mw_spares_take_zeroing(more_spares(), sizeof *m)
                               : g_malloc0(sizeof *m); /* the room is zeroed as handed out */
    m->idle_at_end_us = -1;
    if (arena)
        mw_arena_init_in(&m->arena, m + 1, room);
    s->more = m;
    return m;
}

mw_session_more *mw_session_more_of(mw_session *s)
{
    return s->more ? s->more : more_new(s, false);
}

mw_arena *mw_session_arena(mw_session *s)
{
    return &(s->more ? s->more : more_new(s, true))->arena;
}

char *mw_session_strndup(mw_session *s, const char *p, size_t len)
{
    return mw_arena_strndup(mw_session_arena(s), p, len);
}

const mw_session_more *mw_session_more_get(const mw_session *s)
{
    static const mw_session_more none = { .idle_at_end_us = -1 };
    return s->more ? s->more : &none;
}

void mw_session_community_id(mw_session *s)
{
    mw_session_more *m = mw_session_more_of(s);
    mw_community_id(&s->client, &s->server, m->community_id, sizeof m->community_id);
}

static void free_server_log(mw_server_log *l)
{
    if (!l)
        return;
    if (l->files)
        g_ptr_array_free(l->files, TRUE);
    for (guint i = 0; l->lines && i < l->lines->len; i++) {
        g_free(g_array_index(l->lines, mw_log_ref, i).file);
        g_free(g_array_index(l->lines, mw_log_ref, i).text);
    }
    if (l->lines)
        g_array_free(l->lines, TRUE);
    if (l->corroborated)
        g_ptr_array_free(l->corroborated, TRUE);
    g_free(l->queue_id), g_free(l->status), g_free(l->relay), g_free(l->dsn), g_free(l->text);
    g_free(l);
}

void mw_session_free(mw_session *s)
{
    if (!s)
        return;
    /* the evidence and its texts are in the arena */
    free_server_log(s->server_log);
    if (s->auth)
        g_free(s->auth->user); /* the struct is in the arena, the name can be replaced */
    free_part(&s->mail);
    free_part(&s->tls);
    if (s->transcript) {
        for (guint i = 0; i < s->transcript->len; i++)
            g_free(g_array_index(s->transcript, mw_event, i).text);
        g_array_free(s->transcript, TRUE);
    }
    g_free(s->decisive);
    if (s->more) { /* last: the parts' records may point into its arena */
        mw_arena_free(&s->more->arena);
        if (s->more->arena.head) /* its first chunk kept: made with the room (more_new) */
            mw_spares_give(more_spares(), s->more);
        else
            g_free(s->more);
    }
    mw_spares_give(record_spares(), s);
}

size_t mw_wire_len(const uint8_t *p, size_t len, size_t cap)
{
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    return len > cap ? cap : len;
}

char *mw_wire_strdup(const uint8_t *p, size_t len, size_t cap)
{
    return g_strndup((const char *)p, mw_wire_len(p, len, cap));
}

char *mw_session_wire_strdup(mw_session *s, const uint8_t *p, size_t len, size_t cap)
{
    return mw_arena_strndup(mw_session_arena(s), (const char *)p, mw_wire_len(p, len, cap));
}

/* Does fmt convert only with %s, %u and %%? Most evidence texts are such ("certificate %s is
 * self-signed"): they are joined here as vsnprintf would write them, without its cost
 * (some 900 instructions a call, paid by every TLS session with a certificate finding). */
static bool joined_format(const char *fmt)
{
    for (const char *p = fmt; (p = strchr(p, '%')) != NULL; p += 2)
        if (p[1] != 's' && p[1] != 'u' && p[1] != '%')
            return false;
    return true;
}

/* Up to len bytes of p at buf[n], the text capped at MW_MAX_TEXT bytes: the new length. */
static size_t join_bytes(char *buf, size_t n, const char *p, size_t len)
{
    size_t take = MIN(len, (size_t)MW_MAX_TEXT - n);
    memcpy(buf + n, p, take);
    return n + take;
}

/* fmt (a joined_format) written into buf as vsnprintf writes it, NULL strings as glibc's
 * "(null)"; the length, capped at MW_MAX_TEXT. */
static size_t joined_vprintf(char *buf, const char *fmt, va_list ap)
{
    size_t n = 0;
    for (const char *p = fmt; *p && n < MW_MAX_TEXT;) {
        const char *pct = strchr(p, '%');
        if (!pct) {
            n = join_bytes(buf, n, p, strlen(p));
            break;
        }
        n = join_bytes(buf, n, p, (size_t)(pct - p));
        if (pct[1] == 's') {
            const char *a = va_arg(ap, const char *);
            a = a ? a : "(null)";
            n = join_bytes(buf, n, a, strlen(a));
        } else if (pct[1] == 'u') {
            char digits[12]; /* UINT_MAX's 10, written from the end */
            size_t d = sizeof digits;
            unsigned v = va_arg(ap, unsigned);
            do
                digits[--d] = (char)('0' + v % 10);
            while (v /= 10);
            n = join_bytes(buf, n, digits + d, sizeof digits - d);
        } else {
            n = join_bytes(buf, n, "%", 1);
        }
        p = pct + 2;
    }
    buf[n] = '\0';
    return n;
}

/* The text fmt makes, cut to MW_MAX_TEXT bytes, in buf (MW_MAX_TEXT + 1 bytes): its length
 * (g_strdup_vprintf grows a buffer for it, and the record keeps at most this much). */
static size_t capped_vprintf(char *buf, const char *fmt, va_list ap)
{
    if (joined_format(fmt))
        return joined_vprintf(buf, fmt, ap);
    int n = g_vsnprintf(buf, MW_MAX_TEXT + 1, fmt, ap);
    return n < 0 ? 0 : MIN((size_t)n, (size_t)MW_MAX_TEXT);
}

/* One more occurrence of f: is its evidence to be kept (the first MW_MAX_EVIDENCE_PER_FLAG)?
 * The count saturates: only "over the cap" is ever read. */
static bool count_evidence(mw_session *s, mw_flag f)
{
    _Static_assert(MW_MAX_EVIDENCE_PER_FLAG < UINT8_MAX, "evidence_count saturates above it");
    if (s->evidence_count[f] < UINT8_MAX)
        s->evidence_count[f]++;
    if (s->evidence_count[f] > MW_MAX_EVIDENCE_PER_FLAG)
        return false;
    if (!own_evidence(s)) /* in the arena: the entries are capped (above), never removed */
        s->evidence = mw_arena_alloc0(mw_session_arena(s), sizeof *s->evidence);
    return true;
}

/* A zeroed entry at the end of s's evidence (room for the few most sessions raise at the
 * first). */
static mw_evidence *push_evidence(mw_session *s)
{
    return mw_avec_push(mw_session_arena(s), s->evidence, sizeof(mw_evidence),
                        MW_EVIDENCE_USUAL);
}

/* Keep one piece of evidence (its texts in the session's arena). */
static void add_evidence(mw_session *s, mw_flag f, uint64_t frame, int64_t ts_us,
                         const char *detail, size_t len)
{
    char *text = mw_session_strndup(s, detail, MIN(len, (size_t)MW_MAX_TEXT));
    mw_evidence *e = push_evidence(s);
    e->flag = f, e->frame = frame, e->ts_us = ts_us, e->detail = text;
    mw_identity_origin(frame, ts_us, s->input, &e->input, &e->iface);
}

void mw_session_flag(mw_session *s, mw_flag f, uint64_t frame, int64_t ts_us, const char *fmt,
                     ...)
{
    if ((unsigned)f >= MW_FLAG_COUNT)
        return;
    s->flags |= 1u << f;
    if (!count_evidence(s, f))
        return;
    va_list ap;
    va_start(ap, fmt);
    char buf[MW_MAX_TEXT + 1];
    size_t n = capped_vprintf(buf, fmt, ap);
    va_end(ap);
    add_evidence(s, f, frame, ts_us, buf, n);
}

/* mw_session_flag with a detail already written: no printf (the text protocols raise
 * theirs with the server's line, on every refusal). Capped the same way. */
void mw_session_flag_text(mw_session *s, mw_flag f, uint64_t frame, int64_t ts_us,
                          const char *detail)
{
    mw_session_flag_textn(s, f, frame, ts_us, detail, strnlen(detail, MW_MAX_TEXT));
}

void mw_session_flag_textn(mw_session *s, mw_flag f, uint64_t frame, int64_t ts_us,
                           const char *detail, size_t len)
{
    if ((unsigned)f >= MW_FLAG_COUNT)
        return;
    s->flags |= 1u << f;
    if (!count_evidence(s, f))
        return;
    add_evidence(s, f, frame, ts_us, detail, len);
}

void mw_session_flag_log(mw_session *s, mw_flag f, const char *file, uint64_t line,
                         int64_t ts_us, const char *detail)
{
    if ((unsigned)f >= MW_FLAG_COUNT)
        return;
    s->flags |= 1u << f;
    if (!count_evidence(s, f))
        return;
    mw_arena *a = mw_session_arena(s);
    mw_evidence e = { .flag = f, .ts_us = ts_us,
                      .detail = mw_arena_strdup_cap(a, detail, MW_MAX_TEXT),
                      .log_file = mw_arena_strdup_cap(a, file, SIZE_MAX), .log_line = line };
    *push_evidence(s) = e;
}

void mw_session_evidence_tx(mw_session *s, mw_flag f, unsigned tx)
{
    if ((unsigned)f >= MW_FLAG_COUNT || s->evidence_count[f] > MW_MAX_EVIDENCE_PER_FLAG ||
        !s->evidence)
        return; /* the latest one was counted, not kept */
    for (guint i = s->evidence->len; i-- > 0;) {
        mw_evidence *e = &g_array_index(s->evidence, mw_evidence, i);
        if (e->flag == f) {
            e->tx = tx;
            return;
        }
    }
}

void mw_session_set_decisive(mw_session *s, const char *line, size_t len)
{
    g_free(s->decisive);
    s->decisive = mw_wire_strdup((const uint8_t *)line, len, MW_MAX_TEXT);
}

void mw_session_keep_transcript(mw_session *s)
{
    if (!s->transcript)
        s->transcript = g_array_new(FALSE, FALSE, sizeof(mw_event));
}

void mw_session_event(mw_session *s, mw_dir dir, uint64_t frame, int64_t ts_us,
                      int64_t latency_us, const char *fmt, ...)
{
    if (!s->transcript)
        return;
    if (s->transcript->len >= MW_MAX_TRANSCRIPT) {
        s->transcript_dropped++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char buf[MW_MAX_TEXT + 1];
    size_t n = capped_vprintf(buf, fmt, ap);
    va_end(ap);
    char *text = g_strndup(buf, n);
    mw_event e = { ts_us, frame, dir, latency_us, text };
    g_array_append_val(s->transcript, e);
}

void mw_session_latency(mw_session *s, const char *cmd, int64_t cmd_ts_us, int64_t reply_ts_us,
                        uint64_t frame)
{
    int64_t d = reply_ts_us - cmd_ts_us;
    if (d < 0)
        d = 0;
    /* a session with replies keeps strings too (a mail part, its replies): with the room */
    mw_latency *l = &(s->more ? s->more : more_new(s, true))->latency;
    l->timed++;
    l->total_us += d;
    if (d > l->slowest_us || l->timed == 1) {
        l->slowest_us = d;
        mw_strlcpy(l->slowest_cmd, cmd, sizeof l->slowest_cmd);
        l->slowest_frame = frame;
    }
}

mw_auth_rec *mw_session_auth(mw_session *s)
{
    if (!s->auth)
        s->auth = mw_arena_alloc0(mw_session_arena(s), sizeof *s->auth);
    return s->auth;
}

#define BIT(f) (1u << MW_FLAG_##f)

/* The server refused what the client asked for. */
static const mw_flagset rejected_flags = BIT(RELAY_DENIED) | BIT(RECIPIENT_REJECTED) |
                                         BIT(SENDER_REJECTED) | BIT(MESSAGE_REJECTED) |
                                         BIT(AUTH_FAILED) | BIT(AUTH_REQUIRED) |
                                         BIT(TLS_REQUIRED);
/* The session broke down before the protocol could finish. */
static const mw_flagset failed_flags =
    BIT(CONNECTION_REFUSED) | BIT(CONNECTION_TIMEOUT) | BIT(NO_GREETING) | BIT(SERVER_TIMEOUT) |
    BIT(STARTTLS_REFUSED) | BIT(TLS_HANDSHAKE_FAILED) | BIT(TLS_VERSION_MISMATCH) |
    BIT(TLS_MODE_MISMATCH) | BIT(UNANSWERED_COMMAND);

void mw_session_finish(mw_session *s)
{
    if (!s->evidence) /* readers of a finished record may count on the array */
        s->evidence = no_evidence();
    if (s->flags & rejected_flags)
        s->outcome = MW_OUT_REJECTED;
    else if ((s->flags & failed_flags) || s->broken)
        s->outcome = MW_OUT_FAILED;
    else if (s->encrypted)
        s->outcome = MW_OUT_ENCRYPTED;
    else if (!s->quit_seen &&
             (s->close_reason == MW_CLOSE_NONE || s->close_reason == MW_CLOSE_EVICTED ||
              s->close_reason == MW_CLOSE_IDLE || s->close_reason == MW_CLOSE_REUSED))
        s->outcome = MW_OUT_INCOMPLETE;
    else
        s->outcome = MW_OUT_OK;
}

const char *mw_proto_name(mw_proto p)
{
    static const char *const names[] = {
        [MW_PROTO_UNKNOWN] = "unknown", [MW_PROTO_SMTP] = "smtp",
        [MW_PROTO_SUBMISSION] = "submission", [MW_PROTO_SMTPS] = "smtps",
        [MW_PROTO_IMAP] = "imap",       [MW_PROTO_IMAPS] = "imaps",
        [MW_PROTO_POP3] = "pop3",       [MW_PROTO_POP3S] = "pop3s",
    };
    return (unsigned)p < G_N_ELEMENTS(names) ? names[p] : "unknown";
}

const char *mw_outcome_name(mw_outcome o)
{
    static const char *const names[] = {
        [MW_OUT_OK] = "ok",           [MW_OUT_FAILED] = "failed",
        [MW_OUT_REJECTED] = "rejected", [MW_OUT_INCOMPLETE] = "incomplete",
        [MW_OUT_ENCRYPTED] = "encrypted",
    };
    return (unsigned)o < G_N_ELEMENTS(names) ? names[o] : "ok";
}

const char *mw_anomaly_name(mw_anomaly a)
{
    static const char *const names[MW_ANOM_COUNT] = {
        [MW_ANOM_LINE_TOO_LONG] = "line_too_long",
        [MW_ANOM_TOO_MANY_PENDING] = "too_many_pending_commands",
        [MW_ANOM_OOO_OVERFLOW] = "out_of_order_overflow",
        [MW_ANOM_PAYLOAD_CUT] = "payload_cut_by_snaplen",
        [MW_ANOM_TLS_MALFORMED] = "tls_malformed",
        [MW_ANOM_BAD_LITERAL] = "bad_literal",
        [MW_ANOM_COMPRESSED] = "compressed_not_parsed",
        [MW_ANOM_FRAG_OVERLAP] = "fragment_overlap",
        [MW_ANOM_CONTINUES_EVICTED] = "continues_evicted",
        [MW_ANOM_TLS_DECRYPT_FAILED] = "tls_decrypt_failed",
        [MW_ANOM_SEGMENT_OVERLAP] = "segment_overlap",
        [MW_ANOM_TIME_BACKWARDS] = "time_went_backwards",
        [MW_ANOM_STARTTLS_NOT_USED] = "starttls_not_used",
        [MW_ANOM_BAD_BDAT] = "bad_bdat",
        [MW_ANOM_INVALID_REPLY] = "invalid_reply",
    };
    return (unsigned)a < MW_ANOM_COUNT ? names[a] : "?";
}

const char *mw_anomaly_diagnosis(mw_anomaly a)
{
    static const char *const texts[MW_ANOM_COUNT] = {
        [MW_ANOM_BAD_BDAT] =
            "The client sent a BDAT line that is not \"BDAT <size> [LAST]\" (RFC 3030), or "
            "announced a chunk larger than --max-bdat-chunk; the server refused it and the "
            "message was not sent (no message was accepted after it). A client or proxy bug "
            "in CHUNKING: update the client, or switch CHUNKING off on the server so that "
            "the client uses DATA.",
    };
    return (unsigned)a < MW_ANOM_COUNT ? texts[a] : NULL;
}
