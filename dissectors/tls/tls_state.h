/* The TLS dissector's state, shared by its layers (record, handshake, hellos): per
 * direction framing and the handshake so far, and small helpers over them. */
#ifndef MW_TLS_STATE_H
#define MW_TLS_STATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "dissector.h"
#include "nested.h"
#include "core/cursor.h"
#include "tls/decrypt/decrypt.h"
#include "tls/tls_cert.h"
#include "tls/tls_fp.h"
#include "tls/tls_names.h"

/* The longest a ClientHello or ServerHello can be by its own fields (version 2, random 32,
 * session id 1+32, suites 2+65534, compression 1+255, extensions 2+65535): a longer one is
 * malformed, whatever --max-tls-handshake allows. */
#define MW_TLS_HELLO_MAX 131396u
/* RFC 5246 6.2.3: a record body is at most 2^14 + 2048 bytes. */
#define MW_TLS_BODY_MAX (16384u + 2048u)
/* A whole record (MW_TLS_RECORD_MAX, core/config.h): its 5-byte header, the longest body. */
G_STATIC_ASSERT(MW_TLS_RECORD_MAX >= 5 + MW_TLS_BODY_MAX);
/* Bytes of a plain-text first line looked at before judging it. */
#define MW_TLS_PLAIN_PEEK 128

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23, CT_HEARTBEAT = 24 };
enum {
    HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_NEW_SESSION_TICKET = 4, HS_END_OF_EARLY_DATA = 5,
    HS_ENCRYPTED_EXTENSIONS = 8, HS_CERTIFICATE = 11, HS_CERTIFICATE_VERIFY = 15,
    HS_FINISHED = 20, HS_KEY_UPDATE = 24,
};
/* Record buffers (tls_dir.rec) an engine keeps for the next record that spans segments:
 * one is taken when such a record starts and given back, wiped, once it is read, so only
 * the directions inside one hold one (a few at a time, not one per session that ever had
 * one; MW_TLS_RECORD_MAX bytes each). */
#define MW_TLS_REC_SPARES 8
/* Live capture: the key log is read again, when a session's keys are not in it yet, at most
 * this often (wall clock). */
#define MW_TLS_KEYLOG_REFRESH_US (100 * 1000)

/* What the TLS dissector keeps across the sessions of one engine (ctx->engine_state,
 * mw_dissector.engine_new), one per engine and so per analysis thread: its caches, the
 * run's key log and the one plaintext buffer every decrypted record of every flow goes
 * through. Without an engine (unit tests, fuzzing) nothing is cached and a session makes
 * its own for decryption only (tls_dec_attach). */
typedef struct {
    mw_tls_fp_cache *fp;
    mw_tls_cert_cache *certs;
    struct mw_keylog *kl;
    const gint *kl_sources;  /* kl's source counter (NULL: no kl), set once: tls_dec_keyless */
    int64_t last_refresh_us; /* monotonic */
    size_t hold_cap;         /* records held per direction for late keys (inner/tls_hold.c) */
    uint8_t secret[48];      /* the last secret looked up (MW_KEYLOG_SECRET_MAX), wiped after use */
    uint8_t *rec_spare[MW_TLS_REC_SPARES]; /* wiped record buffers (tls_rec_take) */
    unsigned rec_spares;
    uint8_t plain[MW_TLS_MAX_CIPHERTEXT];
} tls_engine;

typedef struct {
    GByteArray *hs;      /* handshake bytes not yet forming a whole message */
    uint32_t hs_skip;    /* bytes still to skip of a message longer than the cap */
    uint16_t hs_record_version;
    uint64_t skip;       /* bytes of an opaque record still to skip */
    bool started;        /* the first bytes were judged */
    bool sslv2;          /* SSLv2 record framing */
    bool ccs;            /* sent ChangeCipherSpec */
    bool finished;       /* an encrypted handshake record (Finished) after its CCS */
    bool appdata;        /* sent application data (TLS 1.3: its encrypted flight too) */
    bool hs_broken;      /* the handshake layer gave up on this direction */
    bool lost;           /* out of sync (gap, garbage): the rest is skipped */
    bool midstream;      /* the capture started inside this direction: its first bytes
                          * are taken only when they open a hello record (tls_resync) */

    /* decryption (inner/tls_decrypt.c) */
    bool dec_wait;       /* keys for this direction's records were looked for, not found */
    bool dec_failed;     /* a record did not authenticate: the rest is not decrypted */
    bool fin_seen;       /* its Finished was decrypted */
    uint8_t epoch13;     /* TLS 1.3 keys in use: 0 none, 1 handshake, 2 application, 3 early */
    uint64_t epoch_records; /* protected records since this direction's keys changed */
    uint64_t opaque_records; /* protected records that were not decrypted */
    /* A protected record that spans segments is gathered in rec (tls.c: copied once, then
     * decrypted where it is) rather than left to the feeder. */
    uint8_t *rec;        /* MW_TLS_RECORD_MAX bytes while such a record is read (tls_rec_take) */
    size_t partial_have; /* an incomplete protected record: bytes of it in rec */
    size_t partial_len;  /* ...and its whole length, header included */
    bool key_update;     /* a KeyUpdate was decrypted: new keys after this record */
    bool early_end;      /* EndOfEarlyData was decrypted: handshake keys after this record */
    GByteArray *held;    /* protected records held until their keys are known (tls_hold.c) */
    uint32_t held_n;
    bool hold_over;      /* the hold cap was hit: this direction holds nothing more */
    uint64_t held_dropped; /* held records never decrypted (cap, close, keys refused) */
} tls_dir;

typedef struct {
    mw_session *sess;
    tls_dir d[2];
    bool plaintext;      /* not TLS at all (tls_mode_mismatch): nothing more to parse */
    /* The server greeted in clear (tls_mode_mismatch): its bytes go to the mail dissector
     * in `inner`, the client's are still read as TLS (a ClientHello is recorded). */
    bool clear_server;
    bool clear_client;   /* ...and the client answered in clear: its bytes go there too */
    bool client_hello, server_hello;
    uint16_t client_max; /* highest version the client offered */
    uint16_t selected;   /* version the server chose */
    bool tls13;          /* selected ranks TLS 1.3 (set with it, server_chose): is_tls13 */
    const char *stage;   /* the last cleartext handshake message, for evidence */
    bool done;

    /* transcript (used only when the session keeps one) */
    bool hello_pending;  /* a ClientHello awaits its ServerHello (or HelloRetryRequest) */
    int64_t hello_ts;    /* when it was sent */
    guint app_event[2];  /* 1 + index of the "[encrypted: ...]" event per direction; 0: none */

    /* decryption: what the hellos said, the keys, the mail protocol inside */
    uint8_t client_random[32], server_random[32];
    bool have_client_random, have_server_random;
    uint16_t suite;
    bool etm_client, etm_server; /* encrypt_then_mac (RFC 7366) in each hello */
    bool early_offered;  /* the ClientHello offered early_data (0-RTT) */
    bool early_pending;  /* 0-RTT records held until the server's EncryptedExtensions */
    bool keys_looked;    /* the key log was asked for this session */
    mw_tls_decoder *dec; /* NULL: no keys found (yet) */
    tls_engine *eng;     /* the engine's (ctx->engine_state), or own_eng without an engine */
    tls_engine *own_eng;
    mw_nested inner;     /* the mail dissector reading the decrypted application data */
    bool inner_failed;   /* no mail dissector serves the session's protocol */
    bool dec_now;        /* the handshake bytes being read were decrypted */
} tls_state;

static inline mw_tls_fp_cache *tls_fp_cache(const mw_ctx *ctx)
{
    const tls_engine *e = ctx->engine_state;
    return e ? e->fp : NULL;
}

static inline mw_tls_cert_cache *tls_cert_cache(const mw_ctx *ctx)
{
    const tls_engine *e = ctx->engine_state;
    return e ? e->certs : NULL;
}

static const char *const side_name[2] = { "client", "server" };

static inline mw_tls_rec *rec_of(tls_state *st)
{
    return mw_tls_record(st->sess);
}

static inline bool is_tls13(const tls_state *st)
{
    return st->tls13; /* read for every record: ranked once, when the server chose */
}

static inline const char *vname(uint16_t v)
{
    const char *n = mw_tls_version_name(v);
    return n ? n : "an unknown version";
}

/* The client's best offer is a known version below TLS 1.2. */
static inline bool offer_below_tls12(const tls_state *st)
{
    uint16_t rank = mw_tls_version_rank(st->client_max);
    return st->client_hello && rank && rank < MW_TLS_V_TLS12;
}

static inline void malformed(tls_state *st, tls_dir *d)
{
    mw_session_anomaly(st->sess, MW_ANOM_TLS_MALFORMED);
    d->hs_broken = true;
}

#endif
