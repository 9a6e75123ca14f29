/* TLS's part of the session record (mw_session.tls, beside the mail protocol's part since
 * a STARTTLS session has both): its fields, and its JSON and text writers (the record
 * hooks of the TLS dissector's table). */
#ifndef MW_TLS_LOG_H
#define MW_TLS_LOG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/session.h"

typedef struct {
    bool present;
    char level[12];
    char description[40];
    mw_dir from;
} mw_tls_alert;

typedef struct {
    bool present;
    /* subject, issuer and san are shared with the certificate cache (tls_cert.c) and the
     * other sessions that saw the same chain: subject and issuer are GRefStrings, san a
     * reference to a list no one changes once made. mw_tls_cert_clear drops them. */
    char *subject;
    char *issuer;
    GPtrArray *san;
    char not_before[40];
    char not_after[40];
    char sha256[65];
    bool self_signed;
    char key[32];       /* "RSA 2048", "EC 256" */
    char sig_alg[64];   /* "sha256WithRSAEncryption" */
} mw_tls_cert;

/* Drops the description's references (subject, issuer, SAN list). */
void mw_tls_cert_clear(mw_tls_cert *c);

/* Keys for a TLS session (SPEC.md tls.keys): no key log was given; a key log was given
 * but holds no secret for the session's client random; a secret was found. */
typedef enum { MW_TLS_KEYS_NONE_GIVEN, MW_TLS_KEYS_MISSING, MW_TLS_KEYS_FOUND } mw_tls_keys;

/* Versions a ClientHello offers that its record holds in place (a hello names a few; a
 * client listing more, old drafts of TLS 1.3 say, has its list moved to the heap). */
#define MW_TLS_CLIENT_VERSIONS_INLINE 6

/* Filled by the TLS dissector. */
typedef struct {
    /* The versions the client offered, static (or interned) strings such as "TLS1.3", in
     * offer order: mw_tls_client_versions(t)[0 .. n_client_versions). In cv_in up to
     * MW_TLS_CLIENT_VERSIONS_INLINE (no array made and freed per session), else cv_heap. */
    unsigned n_client_versions, cv_cap;
    const char **cv_heap;
    const char *cv_in[MW_TLS_CLIENT_VERSIONS_INLINE];
    const char *version;        /* negotiated, static string, or NULL */
    char cipher[64];
    char *sni;
    char *alpn;
    mw_tls_alert alert;
    mw_tls_cert cert;
    char ja3[33];
    char ja3s[33];
    char ja4[48];
    bool handshake_done;
    const char *hello_version;  /* the ClientHello's legacy_version field */
    const char *record_version; /* the record-layer version the ClientHello came in */
    bool hello_retry;           /* the server sent a HelloRetryRequest */
    bool sslv2_hello;           /* the ClientHello was in SSLv2 format */
    uint64_t app_records[2], app_bytes[2]; /* application data, skipped by length */
    mw_tls_keys keys;
    bool decrypted;             /* records of the session were decrypted with a key log */
    uint64_t decrypt_failed_frame[2]; /* tls_decrypt_failed: the record's end, by mw_dir; 0: none */
    uint64_t decrypted_records[2];
    int64_t last_record_us[2]; /* when each side's last record was seen (0: none) */
} mw_tls_rec;

/* The session's TLS record, made on first use. */
mw_tls_rec *mw_tls_record(mw_session *s);
/* The versions the client offered (n_client_versions of them). */
static inline const char *const *mw_tls_client_versions(const mw_tls_rec *t)
{
    return t->cv_heap ? (const char *const *)t->cv_heap : t->cv_in;
}
/* One more offered version at the end of the list. */
void mw_tls_client_version_add(mw_tls_rec *t, const char *name);
/* The session's TLS record, NULL when it has none (the report's accessor too). */
const mw_tls_rec *mw_tls_of(const mw_session *s);
/* The same, writable, for the TLS dissector's own files. */
static inline mw_tls_rec *mw_tls_of_mut(mw_session *s)
{
    return s->tls.rec;
}

void mw_tls_write_json(GString *out, const mw_session *s, const void *rec);
void mw_tls_write_text(GString *out, const mw_session *s, const void *rec);
void mw_tls_free_record(void *rec);

#endif
