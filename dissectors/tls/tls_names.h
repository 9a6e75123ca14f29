/* Value-to-name tables for TLS: protocol versions, cipher suites (IANA names), alert
 * levels and descriptions. */
#ifndef MW_TLS_NAMES_H
#define MW_TLS_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TLS 1.3 drafts (0x7fXX) count as TLS 1.3 when versions are compared. */
#define MW_TLS_V_SSL2 0x0002
#define MW_TLS_V_SSL3 0x0300
#define MW_TLS_V_TLS10 0x0301
#define MW_TLS_V_TLS11 0x0302
#define MW_TLS_V_TLS12 0x0303
#define MW_TLS_V_TLS13 0x0304

/* RFC 8701: 0x?A?A with both bytes equal. */
static inline bool mw_tls_is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* draft-ietf-tls-tls13-22 gave the ServerHello back its session id and compression
 * fields (and moved the version into supported_versions); drafts before it omit both. */
#define MW_TLS_DRAFT_LEGACY_SH 22

/* A version for comparisons: drafts of 1.3 map to 0x0304; unknown values to 0. Inline
 * range check (SSL 2.0, then SSL 3.0 to TLS 1.3 contiguous): it runs for every record. */
static inline uint16_t mw_tls_version_rank(uint16_t v)
{
    if ((v >> 8) == 0x7f)
        return MW_TLS_V_TLS13; /* draft-ietf-tls-tls13 versions */
    if (v == MW_TLS_V_SSL2 || (v >= MW_TLS_V_SSL3 && v <= MW_TLS_V_TLS13))
        return v;
    return 0;
}
/* "TLS1.2", "SSLv3", "TLS1.3-draft18", or NULL when unknown. Static strings. */
const char *mw_tls_version_name(uint16_t v);
/* IANA name of a cipher suite, or NULL when not in the table. */
const char *mw_tls_cipher_name(uint16_t id);
/* SSL 2.0 cipher kind (3 bytes), or NULL. */
const char *mw_tls_sslv2_cipher_name(uint32_t id);
/* Alert description (RFC 8446 section 6, RFC 5246 section 7.2), or NULL. */
const char *mw_tls_alert_name(uint8_t desc);
/* "warning", "fatal", or NULL. */
const char *mw_tls_alert_level_name(uint8_t level);

#endif
