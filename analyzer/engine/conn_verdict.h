/* Connection-level findings (SPEC.md): what the engine can tell from the TCP connection
 * itself, whatever the protocol — a SYN refused or never answered, a server that never
 * greeted, an implicit-TLS connection where nobody spoke. Judged once, when the session
 * closes, before its dissector's own close (whose judgements, e.g. unanswered_command,
 * may then see these flags). */
#ifndef MW_CONN_VERDICT_H
#define MW_CONN_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "dissector.h"

/* Who speaks first on this dissector's connections: a dissector with a greeting probe is
 * one whose server speaks first; a TLS dissector's client speaks first (ClientHello). */
typedef enum { MW_FIRST_ANY, MW_FIRST_SERVER, MW_FIRST_CLIENT } mw_first_speaker;
mw_first_speaker mw_conn_first_speaker(const mw_dissector *d);

/* A SYN unanswered this long (or sent twice) is a timed-out connection. */
#define MW_CONN_SYN_TIMEOUT_US (3 * (int64_t)1000000)
/* An implicit-TLS connection silent both ways this long before it closed: each side
 * waited for the other to speak first. */
#define MW_CONN_SILENT_US (2 * (int64_t)1000000)

/* The TCP facts only the flow table has. */
typedef struct {
    bool rst;            /* the connection ended with a RST ... */
    mw_dir rst_from;     /* ... sent by this side */
    unsigned syn_count;  /* SYNs the client sent (retransmissions included) */
    uint64_t first_frame;
    int64_t first_ts;
    int64_t now_us;      /* the engine's clock at close */
} mw_conn_tcp;

/* Flag what the connection shows. tcp NULL: only what the session record holds (its
 * handshake, byte counters, FIN times, close reason) — no refused/timeout judgement.
 * frame/ts_us: the packet that closed the session. */
void mw_conn_verdict(mw_session *s, const mw_dissector *d, const mw_conn_tcp *tcp,
                     uint64_t frame, int64_t ts_us);

/* Which side to fix, said beside a flag's diagnosis (core/flags.h keeps SPEC.md's text;
 * this adds one sentence from what the session itself showed: the hellos, who sent the
 * alert, what the server offered and the client used). */
typedef enum {
    MW_ADVICE_NONE,
    MW_ADVICE_TLS_CLIENT_OLD, /* the client offered only <= TLS 1.1, the server refused */
    MW_ADVICE_TLS_CLIENT_OLD_ACCEPTED, /* ...and the server accepted it */
    MW_ADVICE_TLS_SERVER_OLD, /* the client offered TLS 1.2+; the server chose <= TLS 1.1 */
    MW_ADVICE_AUTH_UNUSED,    /* relay refused; the server offered AUTH, the client never
                               * logged in */
    MW_ADVICE_COUNT
} mw_advice;

/* The advice for flag f of this finished session (MW_ADVICE_NONE: the flag's diagnosis
 * says all there is). */
mw_advice mw_conn_advice(const mw_session *s, mw_flag f);
/* The server's EHLO listed AUTH (RFC 4954 section 3), or a stored record says it did. */
bool mw_conn_auth_offered(const mw_session *s);
/* The sentence for an advice ("" for none). */
const char *mw_advice_text(mw_advice a);

#endif
