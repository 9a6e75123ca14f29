/* What the report keeps of a run: a compact copy of each session, the findings with their
 * evidence frames, and the transcripts of the first flagged sessions. Shared by the
 * collector (report.c) and the writers (report_html.c, report_md.c, report_svg.c).
 * Every string here is already clean UTF-8 without control characters (see
 * mw_report_clean); writers still escape it for their format. */
#ifndef MW_REPORT_MODEL_H
#define MW_REPORT_MODEL_H

#include <glib.h>
#include <stdio.h>

#include "engine/conn_verdict.h"
#include "engine/flow.h"
#include "input/inputs.h"
#include "report/report.h"
#include "core/session.h"
#include "output/unseen.h"

/* Sessions kept for the table and timeline; later ones are only counted. */
#define MW_REPORT_MAX_SESSIONS 100000
/* Flagged sessions whose transcript and evidence are kept. */
#define MW_REPORT_MAX_TRANSCRIPTS 200
/* Bars drawn in the timeline (flagged sessions first). */
#define MW_REPORT_MAX_BARS 1000
/* Evidence frames listed per finding. */
#define MW_REPORT_REFS_PER_FLAG 40
/* Distinct clients / servers / users remembered per finding, and shown. */
#define MW_REPORT_SET_MAX 1000
#define MW_REPORT_LIST_SHOWN 8
/* Longest decisive line or user name kept per session (characters). */
#define MW_REPORT_TEXT_MAX 240

typedef struct {
    char id[24];
    uint32_t file;            /* input index */
    int64_t start_us, end_us;
    char *client, *server;    /* ip:port */
    char *user;               /* NULL when none */
    char *decisive;           /* the line that explains the outcome, NULL when none */
    uint64_t decisive_frame;  /* its frame when it is evidence, else 0 */
    mw_proto protocol;
    bool starttls;
    mw_outcome outcome;
    mw_flagset flags;
    uint64_t packets, bytes;
    int transcript;           /* index in mw_report.transcripts, -1 when not kept */
} mw_rsession;

typedef struct {
    mw_flag flag;
    uint64_t frame;
    int64_t ts_us;
    char *detail;
    uint32_t file;            /* input index of the frame (several inputs: the evidence's) */
    const char *iface;        /* its pcapng interface (interned), NULL when not said */
} mw_revidence;

typedef struct {
    char id[24];
    uint32_t file;
    char *title;              /* "smtp 10.0.0.1:5000 -> 10.0.0.2:25, rejected" */
    char *wireshark;          /* display filter for the TCP connection */
    char *tls;                /* TLS summary line, or NULL */
    char **mail;              /* the mail part's summary lines (SMTP: the session, then one
                               * line per transaction, issue 19), as the text output has them;
                               * NULL when the part wrote none */
    GArray *evidence;         /* mw_revidence */
    GArray *events;           /* mw_event (text owned) */
    unsigned events_dropped;
} mw_rtranscript;

typedef struct {
    char id[24];
    uint32_t file;
    uint64_t frame;
    const char *iface;        /* its pcapng interface (interned), NULL when not said */
    bool linked;              /* its session's transcript is in the report */
} mw_rref;

typedef struct {
    unsigned sessions;
    GHashTable *clients, *servers, *users; /* string sets, capped */
    GArray *refs;             /* mw_rref, the first MW_REPORT_REFS_PER_FLAG */
    unsigned refs_more;       /* evidence occurrences not listed */
    char *example;            /* the first evidence detail */
    unsigned advice[MW_ADVICE_COUNT];   /* sessions given each side-specific advice */
    char advice_id[MW_ADVICE_COUNT][24]; /* ...the first of them */
} mw_rfinding;

struct mw_report {
    char *path;
    bool html;
    FILE *fp;
    const mw_inputs *inputs;
    GArray *sessions;         /* mw_rsession */
    uint64_t sessions_total, sessions_dropped;
    GPtrArray *transcripts;   /* mw_rtranscript* */
    uint64_t transcripts_dropped; /* flagged sessions whose transcript was not kept */
    mw_rfinding findings[MW_FLAG_COUNT];
    mw_rfinding failed_unflagged; /* failed sessions that raised no flag: the findings
                                   * table's last row (refs: the sessions' first frames) */
    uint64_t by_proto_outcome[MW_PROTO_POP3S + 1][MW_OUT_ENCRYPTED + 1];
    int64_t first_us, last_us; /* sessions' span */
    mw_unseen *unseen;         /* sessions TLS kept from view */
    /* set at write time */
    const mw_engine_stats *stats;
    const char *live;
    char *filter;              /* the BPF filter of the run (mw_report_set_filter), or NULL */
};

#endif
