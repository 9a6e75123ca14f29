#include "tls/tls_names.h"

typedef struct {
    uint16_t id;
    const char *name;
} tok16;

static const char *tok_find(const tok16 *t, size_t n, uint16_t id)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].id == id)
            return t[i].name;
    return NULL;
}

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static const tok16 versions[] = {
    { MW_TLS_V_SSL2, "SSLv2" },   { MW_TLS_V_SSL3, "SSLv3" },   { MW_TLS_V_TLS10, "TLS1.0" },
    { MW_TLS_V_TLS11, "TLS1.1" }, { MW_TLS_V_TLS12, "TLS1.2" }, { MW_TLS_V_TLS13, "TLS1.3" },
};

/* draft-ietf-tls-tls13-NN sent 0x7fNN; named as Zeek ("TLSv13-draft18") and Arkime
 * ("TLSv1.3-draft-18") name them, in our spelling. Drafts past the table's end (none
 * was published) keep the bare name. */
#define D(n) "TLS1.3-draft" #n
static const char *const drafts[] = {
    D(0),  D(1),  D(2),  D(3),  D(4),  D(5),  D(6),  D(7),  D(8),  D(9),  D(10),
    D(11), D(12), D(13), D(14), D(15), D(16), D(17), D(18), D(19), D(20), D(21),
    D(22), D(23), D(24), D(25), D(26), D(27), D(28), D(29), D(30), D(31),
};
#undef D

const char *mw_tls_version_name(uint16_t v)
{
    if ((v >> 8) == 0x7f)
        return (v & 0xff) < N_ELEM(drafts) ? drafts[v & 0xff] : "TLS1.3-draft";
    return tok_find(versions, N_ELEM(versions), v);
}

/* The suites seen in practice (IANA TLS Cipher Suites registry), sorted by id: looked up
 * by halving (every ServerHello names one; a walk took some 300 instructions). */
static const tok16 ciphers[] = {
    { 0x0000, "TLS_NULL_WITH_NULL_NULL" },
    { 0x0001, "TLS_RSA_WITH_NULL_MD5" },
    { 0x0002, "TLS_RSA_WITH_NULL_SHA" },
    { 0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5" },
    { 0x0004, "TLS_RSA_WITH_RC4_128_MD5" },
    { 0x0005, "TLS_RSA_WITH_RC4_128_SHA" },
    { 0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5" },
    { 0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA" },
    { 0x0009, "TLS_RSA_WITH_DES_CBC_SHA" },
    { 0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA" },
    { 0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA" },
    { 0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA" },
    { 0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA" },
    { 0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA" },
    { 0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA" },
    { 0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA" },
    { 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA" },
    { 0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA" },
    { 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA" },
    { 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
    { 0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA" },
    { 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA" },
    { 0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
    { 0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
    { 0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256" },
    { 0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA" },
    { 0x0044, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA" },
    { 0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA" },
    { 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256" },
    { 0x006a, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256" },
    { 0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256" },
    { 0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA" },
    { 0x0087, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA" },
    { 0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA" },
    { 0x008a, "TLS_PSK_WITH_RC4_128_SHA" },
    { 0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA" },
    { 0x008d, "TLS_PSK_WITH_AES_256_CBC_SHA" },
    { 0x0096, "TLS_RSA_WITH_SEED_CBC_SHA" },
    { 0x009a, "TLS_DHE_RSA_WITH_SEED_CBC_SHA" },
    { 0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
    { 0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
    { 0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
    { 0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
    { 0x00a2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256" },
    { 0x00a3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384" },
    { 0x00a8, "TLS_PSK_WITH_AES_128_GCM_SHA256" },
    { 0x00a9, "TLS_PSK_WITH_AES_256_GCM_SHA384" },
    { 0x00ba, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256" },
    { 0x00be, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256" },
    { 0x00c0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256" },
    { 0x00c4, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256" },
    { 0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" },
    { 0x1301, "TLS_AES_128_GCM_SHA256" },
    { 0x1302, "TLS_AES_256_GCM_SHA384" },
    { 0x1303, "TLS_CHACHA20_POLY1305_SHA256" },
    { 0x1304, "TLS_AES_128_CCM_SHA256" },
    { 0x1305, "TLS_AES_128_CCM_8_SHA256" },
    { 0x5600, "TLS_FALLBACK_SCSV" },
    { 0xc002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA" },
    { 0xc003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA" },
    { 0xc004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA" },
    { 0xc005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA" },
    { 0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA" },
    { 0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA" },
    { 0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
    { 0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
    { 0xc00c, "TLS_ECDH_RSA_WITH_RC4_128_SHA" },
    { 0xc00d, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA" },
    { 0xc00e, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA" },
    { 0xc00f, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA" },
    { 0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA" },
    { 0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA" },
    { 0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
    { 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
    { 0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" },
    { 0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
    { 0xc025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256" },
    { 0xc026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384" },
    { 0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
    { 0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
    { 0xc029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256" },
    { 0xc02a, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384" },
    { 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
    { 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
    { 0xc02d, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256" },
    { 0xc02e, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384" },
    { 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
    { 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
    { 0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256" },
    { 0xc032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384" },
    { 0xc09c, "TLS_RSA_WITH_AES_128_CCM" },
    { 0xc09d, "TLS_RSA_WITH_AES_256_CCM" },
    { 0xc09e, "TLS_DHE_RSA_WITH_AES_128_CCM" },
    { 0xc09f, "TLS_DHE_RSA_WITH_AES_256_CCM" },
    { 0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM" },
    { 0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM" },
    { 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
};

const char *mw_tls_cipher_name(uint16_t id)
{
    size_t lo = 0, hi = N_ELEM(ciphers); /* the id, if there, is in ciphers[lo, hi) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ciphers[mid].id == id)
            return ciphers[mid].name;
        if (ciphers[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* SSL 2.0 (draft-hickman-netscape-ssl-00, appendix C) cipher kinds. */
const char *mw_tls_sslv2_cipher_name(uint32_t id)
{
    static const struct {
        uint32_t id;
        const char *name;
    } t[] = {
        { 0x010080, "SSL_CK_RC4_128_WITH_MD5" },
        { 0x020080, "SSL_CK_RC4_128_EXPORT40_WITH_MD5" },
        { 0x030080, "SSL_CK_RC2_128_CBC_WITH_MD5" },
        { 0x040080, "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5" },
        { 0x050080, "SSL_CK_IDEA_128_CBC_WITH_MD5" },
        { 0x060040, "SSL_CK_DES_64_CBC_WITH_MD5" },
        { 0x0700c0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5" },
    };
    for (size_t i = 0; i < N_ELEM(t); i++)
        if (t[i].id == id)
            return t[i].name;
    return NULL;
}

static const tok16 alerts[] = {
    { 0, "close_notify" },
    { 10, "unexpected_message" },
    { 20, "bad_record_mac" },
    { 21, "decryption_failed" },
    { 22, "record_overflow" },
    { 30, "decompression_failure" },
    { 40, "handshake_failure" },
    { 41, "no_certificate" },
    { 42, "bad_certificate" },
    { 43, "unsupported_certificate" },
    { 44, "certificate_revoked" },
    { 45, "certificate_expired" },
    { 46, "certificate_unknown" },
    { 47, "illegal_parameter" },
    { 48, "unknown_ca" },
    { 49, "access_denied" },
    { 50, "decode_error" },
    { 51, "decrypt_error" },
    { 60, "export_restriction" },
    { 70, "protocol_version" },
    { 71, "insufficient_security" },
    { 80, "internal_error" },
    { 86, "inappropriate_fallback" },
    { 90, "user_canceled" },
    { 100, "no_renegotiation" },
    { 109, "missing_extension" },
    { 110, "unsupported_extension" },
    { 111, "certificate_unobtainable" },
    { 112, "unrecognized_name" },
    { 113, "bad_certificate_status_response" },
    { 114, "bad_certificate_hash_value" },
    { 115, "unknown_psk_identity" },
    { 116, "certificate_required" },
    { 120, "no_application_protocol" },
};

const char *mw_tls_alert_name(uint8_t desc)
{
    return tok_find(alerts, N_ELEM(alerts), desc);
}

const char *mw_tls_alert_level_name(uint8_t level)
{
    static const tok16 levels[] = { { 1, "warning" }, { 2, "fatal" } };
    return tok_find(levels, N_ELEM(levels), level);
}
