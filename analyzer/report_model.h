/* What the report keeps of a run: a compact copy of each session, the findings with their
 * evidence frames, and the transcripts of the first flagged sessions. Shared by the
 * collector (report.c) and the writers (report_html.c, report_md.c, report_svg.c).
 * Every string here is already clean UTF-8 without control characters (see
 * mw_report_clean); writers still escape it for their format. */
#ifndef MW_REPORT_MODEL_H
#define MW_REPORT_MODEL_H

#include <glib.h>
#include <stdio.h>

#include "flow.h"
#include "inputs.h"
#include "report.h"
#include "session.h"

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
} mw_revidence;

typedef struct {
    char id[24];
    uint32_t file;
    char *title;              /* "smtp 10.0.0.1:5000 -> 10.0.0.2:25, rejected" */
    char *wireshark;          /* display filter for the TCP connection */
    char *tls;                /* TLS summary line, or NULL */
    GArray *evidence;         /* mw_revidence */
    GArray *events;           /* mw_event (text owned) */
    unsigned events_dropped;
} mw_rtranscript;

typedef struct {
    char id[24];
    uint32_t file;
    uint64_t frame;
    bool linked;              /* its session's transcript is in the report */
} mw_rref;

typedef struct {
    unsigned sessions;
    GHashTable *clients, *servers, *users; /* string sets, capped */
    GArray *refs;             /* mw_rref, the first MW_REPORT_REFS_PER_FLAG */
    unsigned refs_more;       /* evidence occurrences not listed */
    char *example;            /* the first evidence detail */
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
    uint64_t by_proto_outcome[MW_PROTO_POP3S + 1][MW_OUT_ENCRYPTED + 1];
    int64_t first_us, last_us; /* sessions' span */
    /* set at write time */
    const mw_engine_stats *stats;
    const char *live;
};

/* Clean wire text for any output: valid UTF-8 (invalid bytes as U+FFFD), control
 * characters as '.', at most max characters ("..." appended when cut). NULL stays NULL. */
char *mw_report_clean(const char *s, size_t max);
/* Append s escaped for HTML text and attribute values. */
void mw_html_escape(GString *out, const char *s);
/* A set of strings, sorted, the first MW_REPORT_LIST_SHOWN escaped by `escape`, then
 * "and N more" (noting when the set's own cap was reached). */
void mw_report_set_list(GString *g, GHashTable *set, void (*escape)(GString *, const char *));
/* Append s escaped for a Markdown table cell or paragraph. */
void mw_md_escape(GString *out, const char *s);
/* "2026-11-23 09:47:51.297" (UTC, milliseconds) */
void mw_report_time(GString *out, int64_t ts_us);
/* The input file's short name, for "frame 12 of x.pcap" (NULL for a single input). */
const char *mw_report_file_label(const struct mw_report *r, uint32_t file);
/* Outcome colour in the timeline and table. */
const char *mw_report_outcome_colour(mw_outcome o);

/* The timeline picture, an <svg> element. Writes the note about capped bars to *note
 * (g_free it) when not every session has a bar. */
void mw_report_svg(GString *out, const struct mw_report *r, char **note);

/* One format's pieces of the page; mw_report_write_page puts them in order. */
typedef struct {
    void (*opening)(GString *g);                   /* up to "Written by mailwire from " */
    void (*written_on)(GString *g, const char *when); /* " on <when>. ..." and after */
    void (*analysed)(GString *g, const struct mw_report *r);
    void (*findings)(GString *g, const struct mw_report *r);
    void (*timeline)(GString *g, const struct mw_report *r);
    void (*sessions)(GString *g, const struct mw_report *r, FILE *fp); /* may flush */
    void (*transcripts_heading)(GString *g, bool any);
    void (*transcript)(GString *g, const struct mw_report *r, const mw_rtranscript *t);
    void (*transcripts_dropped)(GString *g, uint64_t n);
    void (*closing)(GString *g);
} mw_report_format;

bool mw_report_write_page(const struct mw_report *r, FILE *fp, const mw_report_format *fmt);
/* Write g to fp once it is large (or when force), and empty it. */
void mw_report_flush(GString *g, FILE *fp, bool force);

bool mw_report_write_html(const struct mw_report *r, FILE *fp);
bool mw_report_write_md(const struct mw_report *r, FILE *fp);

#endif
