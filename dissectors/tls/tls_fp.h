/* What a ClientHello / ServerHello offered, parsed once, and the fingerprints computed
 * from it: JA3 and JA3S (Salesforce; MD5 of decimal lists) and JA4 (FoxIO, technical
 * details of JA4: "t" + version + d/i + counts + ALPN + two truncated SHA-256). */
#ifndef MW_TLS_FP_H
#define MW_TLS_FP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Entries kept per list of a hello; a longer list is cut (and the hello flagged). */
#define MW_TLS_MAX_LIST 256

typedef struct {
    uint16_t v[MW_TLS_MAX_LIST];
    size_t n;
} mw_u16_list;

/* GREASE values (RFC 8701) are already left out of every list. */
typedef struct {
    uint16_t record_version;
    uint16_t legacy_version;
    bool sslv2_format;
    mw_u16_list ciphers;
    mw_u16_list exts;       /* extension types in wire order */
    mw_u16_list groups;     /* supported_groups */
    mw_u16_list formats;    /* ec_point_formats (8-bit values) */
    mw_u16_list sigalgs;    /* signature_algorithms, wire order */
    mw_u16_list versions;   /* supported_versions, wire order */
    const uint8_t *sni;     /* first host_name, borrowed */
    size_t sni_len;
    bool has_sni_ext;
    const uint8_t *alpn;    /* first protocol name, borrowed */
    size_t alpn_len;
    bool truncated;         /* a list was longer than MW_TLS_MAX_LIST */
    bool broken;            /* a field did not parse: the fields before it are kept */
    const uint8_t *random;  /* 32 bytes, borrowed (NULL: SSLv2 format) */
} mw_tls_client_hello;

typedef struct {
    uint16_t legacy_version;
    uint16_t cipher;
    mw_u16_list exts;
    uint16_t selected_version; /* supported_versions, 0 if absent */
    bool hello_retry;
    bool broken;            /* the extensions did not parse: version and cipher are kept */
    const uint8_t *random;  /* 32 bytes, borrowed */
} mw_tls_server_hello;

/* The highest version the client offers (supported_versions first, RFC 8446 4.2.1). */
uint16_t mw_tls_client_max_version(const mw_tls_client_hello *h);

void mw_tls_ja3(const mw_tls_client_hello *h, char out[33]);
void mw_tls_ja3s(const mw_tls_server_hello *h, char out[33]);
void mw_tls_ja4(const mw_tls_client_hello *h, char out[48]);

/* The fingerprints of the last MW_TLS_FP_CACHE distinct hellos (a gateway sees the same
 * few client stacks over and over; this runs per session). One per engine (the TLS
 * dissector's engine state), so one per analysis thread: no lock. */
#define MW_TLS_FP_CACHE 512
typedef struct mw_tls_fp_cache mw_tls_fp_cache;
mw_tls_fp_cache *mw_tls_fp_cache_new(void);
void mw_tls_fp_cache_free(mw_tls_fp_cache *c);

/* JA3 and JA4 of a ClientHello, through cache c (NULL: computed, not cached). */
void mw_tls_client_fingerprints(mw_tls_fp_cache *c, const mw_tls_client_hello *h,
                                char ja3[33], char ja4[48]);
/* JA3S of a ServerHello, through the same cache. */
void mw_tls_server_fingerprint(mw_tls_fp_cache *c, const mw_tls_server_hello *h,
                               char ja3s[33]);

#endif
