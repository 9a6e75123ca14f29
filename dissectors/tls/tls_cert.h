/* The server's certificate chain as seen in a TLS 1.2-or-earlier Certificate message
 * (RFC 5246 section 7.4.2), parsed and judged with OpenSSL at the packet's own time. */
#ifndef MW_TLS_CERT_H
#define MW_TLS_CERT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cursor.h"
#include "core/session.h"
#include "tls/tls.h"
#include "tls/tls_log.h"

/* Certificates of a chain looked at; the rest is ignored. */
#define MW_TLS_MAX_CHAIN 10
/* Subject alternative names kept per certificate. */
#define MW_TLS_MAX_SAN 64

typedef struct {
    bool parsed;          /* the leaf decoded */
    bool expired;         /* not_after before the packet's time */
    bool not_yet_valid;   /* not_before after it */
    bool self_signed;
    bool name_mismatch;   /* the SNI matches neither CN nor any SAN */
    bool untrusted;
    char untrusted_why[160];
} mw_tls_cert_verdict;

/* What depends only on a chain, kept per chain and day (tls_cert.c says what and why). One
 * per engine (the TLS dissector's engine state), so one per analysis thread: no lock. */
typedef struct mw_tls_cert_cache mw_tls_cert_cache;
mw_tls_cert_cache *mw_tls_cert_cache_new(void);
void mw_tls_cert_cache_free(mw_tls_cert_cache *c);

/* certs: the certificate_list body (after its 3-byte length). Fills rec (leaf) and v.
 * cache NULL: the chain is judged afresh (unit tests, a run without an engine). */
void mw_tls_cert_examine(mw_tls_cert_cache *cache, mw_cursor certs, const char *sni,
                         int64_t ts_us, mw_tls_cert *rec, mw_tls_cert_verdict *v);

/* Load the trust store for tls_cert_untrusted: the system default, or only the CAs of
 * ca_file. Call once at start-up; false with *err (a one-line message) on failure. */
bool mw_tls_trust_init(const char *ca_file, char **err);
/* The same for a run in the sandbox (sandbox.h), which opens no file by name: OpenSSL's
 * configuration read now, and the system store's hashed directory opened now and read
 * through that descriptor as issuers are looked up (mw_tls_trust_dir_fd). */
bool mw_tls_trust_preload(const char *ca_file, char **err);
/* The trust directory's descriptor, or -1. */
int mw_tls_trust_dir_fd(void);

#endif
