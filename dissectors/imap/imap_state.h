/* The IMAP dissector's state, shared by its files: command and status kinds, the framing
 * of each direction (literals), the command being read, the transcript's held events. */
#ifndef MW_IMAP_STATE_H
#define MW_IMAP_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "dissector.h"
#include "text/lines.h"
#include "text/sasl.h"
#include "text/secrets.h"
#include "text/textproto.h"
#include "text/tlsgate.h"

/* Largest literal accepted as such. RFC 3501 literal counts are 32-bit numbers; RFC 9051
 * allows 63 bits, but no server accepts an APPEND or sends a FETCH anywhere near 4 GiB.
 * A larger count is treated as malformed: noted, and the line taken as complete rather
 * than letting one hostile number swallow the rest of the session. */
#define IMAP_LITERAL_MAX UINT64_C(0xffffffff)

typedef enum {
    IC_OTHER,
    IC_CAPABILITY,
    IC_LOGIN,
    IC_AUTHENTICATE,
    IC_STARTTLS,
    IC_SELECT,
    IC_IDLE,
    IC_COMPRESS,
    IC_LOGOUT,
    IC_UID,
} imap_cmd;

typedef enum { IS_OTHER, IS_OK, IS_NO, IS_BAD, IS_PREAUTH, IS_BYE } imap_status;

/* Framing state of one direction. */
typedef struct {
    mw_linestate ls;
    bool resync;       /* after a gap: wait for a plausible line start */
    bool cont;         /* the next line continues the unit a literal interrupted */
    uint64_t lit_left; /* literal octets still to skip */
    uint64_t lit_done; /* octets of the current literal skipped so far */
} imap_side;

/* Untagged data responses kinds summarised per transcript event. */
#define AGG_KINDS 4

/* Untagged data responses (FETCH, EXISTS, LIST, ...) not shown yet: the transcript
 * summarises a run of them as one event instead of a line each. */
typedef struct {
    unsigned total;
    unsigned nkinds, other;
    char kind[AGG_KINDS][16];
    unsigned count[AGG_KINDS];
    int cur;            /* kind of the response being read (its literals), -1: other */
    uint64_t lit_bytes; /* literal octets the responses carried */
    bool lit_not_fetch; /* some literal came with a response other than FETCH */
    uint64_t frame;     /* where the run started */
    int64_t ts_us;
} imap_agg;

/* The client command being read, across its literals. */
typedef struct {
    char tag[MW_TP_TAG_MAX];
    int kind;
    unsigned argi;    /* LOGIN: arguments complete so far (0: user next, 1: password) */
    bool lit_is_user; /* the literal in flight is LOGIN's user name */
} imap_cur;

typedef struct {
    mw_session *sess;
    imap_side side[2];
    imap_cur cur;
    char user_buf[MW_MAX_TEXT];
    size_t user_len;
    mw_tp_queue pending;

    bool logindisabled;    /* the latest CAPABILITY listing has LOGINDISABLED */
    bool privacy_required; /* a [PRIVACYREQUIRED] response code was seen */

    bool auth_active;      /* AUTHENTICATE awaiting its completion: lines are SASL */
    char auth_tag[MW_TP_TAG_MAX];
    char auth_mech[32];
    unsigned auth_step;
    mw_sasl_asks auth_asks;   /* what the last "+ " challenge asked for */
    bool auth_failed;         /* a login just failed or was cancelled: stray lines are secret */
    mw_secrets *secrets;      /* the client's secrets, to redact server echoes */

    bool idle_active;
    bool compressed;       /* COMPRESS=DEFLATE in effect: nothing more is readable */
    bool in_tls;           /* handed off after STARTTLS */
    mw_tlsgate tls_gate;   /* STARTTLS accepted: does the client start TLS? */

    /* transcript (used only when the session keeps one) */
    imap_agg agg;
    bool login_due;        /* a LOGIN whose user name is a literal: shown once it is read */
    char login_tag[MW_TP_TAG_MAX];
    uint64_t login_frame, login_lit;
    int64_t login_ts;
    int64_t sasl_ts;       /* when the client last spoke in the AUTHENTICATE exchange */
} imap_state;

#endif
