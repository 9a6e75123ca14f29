/* Cipher-suite table for decryption (IANA TLS Cipher Suites registry). */
#include "tls/decrypt/suites.h"

#include <string.h>

#include "tls/decrypt/decrypt.h" /* mw_tls_dec_status */

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

/* TLS 1.3 (RFC 8446 §B.4): a 12-byte IV from HKDF, no explicit nonce. */
#define T13(id, name, mode, cipher, key, tag, hash) \
    { id, name, MW_TLS_KIND_AEAD, mode, cipher, key, 12, 0, tag, 0, NULL, 0, hash, true, false }
/* TLS 1.2 GCM (RFC 5288 §3) and CCM (RFC 6655 §3): 4-byte salt, 8-byte explicit nonce. */
#define GCM(id, name, key, hash) \
    { id, name, MW_TLS_KIND_AEAD, MW_TLS_MODE_GCM, key == 16 ? "AES-128-GCM" : "AES-256-GCM", \
      key, 4, 8, 16, 0, NULL, 0, hash, false, true }
#define CCM(id, name, key, tag) \
    { id, name, MW_TLS_KIND_AEAD, MW_TLS_MODE_CCM, key == 16 ? "AES-128-CCM" : "AES-256-CCM", \
      key, 4, 8, tag, 0, NULL, 0, "SHA256", false, true }
/* TLS 1.2 ChaCha20-Poly1305 (RFC 7905 §2): 12-byte IV XOR the sequence number. */
#define CHACHA(id, name) \
    { id, name, MW_TLS_KIND_AEAD, MW_TLS_MODE_CHACHA, "ChaCha20-Poly1305", 32, 12, 0, 16, 0, \
      NULL, 0, "SHA256", false, true }
/* CBC with HMAC. SHA-1 suites run on TLS 1.0-1.2 (the PRF of 1.2 is SHA-256 for them,
 * RFC 5246 §5); SHA-256/384 ones are TLS 1.2 only with that hash as PRF. */
#define CBC(id, name, cipher, key, block, mac, maclen, prf, only12) \
    { id, name, MW_TLS_KIND_CBC, MW_TLS_MODE_CBC, cipher, key, block, block, 0, block, mac, \
      maclen, prf, false, only12 }
#define AES_CBC(id, name, key, mac, maclen, prf, only12) \
    CBC(id, name, key == 16 ? "AES-128-CBC" : "AES-256-CBC", key, 16, mac, maclen, prf, only12)
#define DES3_CBC(id, name) CBC(id, name, "DES-EDE3-CBC", 24, 8, "SHA1", 20, "SHA256", false)
#define NOPE(id, name) \
    { id, name, MW_TLS_KIND_UNSUPPORTED, MW_TLS_MODE_NONE, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL, \
      false, false }

static const mw_tls_suite suites[] = {
    T13(0x1301, "TLS_AES_128_GCM_SHA256", MW_TLS_MODE_GCM, "AES-128-GCM", 16, 16, "SHA256"),
    T13(0x1302, "TLS_AES_256_GCM_SHA384", MW_TLS_MODE_GCM, "AES-256-GCM", 32, 16, "SHA384"),
    T13(0x1303, "TLS_CHACHA20_POLY1305_SHA256", MW_TLS_MODE_CHACHA, "ChaCha20-Poly1305", 32,
        16, "SHA256"),
    T13(0x1304, "TLS_AES_128_CCM_SHA256", MW_TLS_MODE_CCM, "AES-128-CCM", 16, 16, "SHA256"),
    T13(0x1305, "TLS_AES_128_CCM_8_SHA256", MW_TLS_MODE_CCM, "AES-128-CCM", 16, 8, "SHA256"),

    GCM(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", 16, "SHA256"),
    GCM(0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", 32, "SHA384"),
    GCM(0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", 16, "SHA256"),
    GCM(0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", 32, "SHA384"),
    GCM(0x00A2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", 16, "SHA256"),
    GCM(0x00A3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", 32, "SHA384"),
    GCM(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 16, "SHA256"),
    GCM(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 32, "SHA384"),
    GCM(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 16, "SHA256"),
    GCM(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 32, "SHA384"),

    CCM(0xC09C, "TLS_RSA_WITH_AES_128_CCM", 16, 16),
    CCM(0xC09D, "TLS_RSA_WITH_AES_256_CCM", 32, 16),
    CCM(0xC09E, "TLS_DHE_RSA_WITH_AES_128_CCM", 16, 16),
    CCM(0xC09F, "TLS_DHE_RSA_WITH_AES_256_CCM", 32, 16),
    CCM(0xC0A0, "TLS_RSA_WITH_AES_128_CCM_8", 16, 8),
    CCM(0xC0A1, "TLS_RSA_WITH_AES_256_CCM_8", 32, 8),
    CCM(0xC0A2, "TLS_DHE_RSA_WITH_AES_128_CCM_8", 16, 8),
    CCM(0xC0A3, "TLS_DHE_RSA_WITH_AES_256_CCM_8", 32, 8),
    CCM(0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", 16, 16),
    CCM(0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", 32, 16),
    CCM(0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", 16, 8),
    CCM(0xC0AF, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", 32, 8),

    CHACHA(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    CHACHA(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    CHACHA(0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),

    AES_CBC(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", 16, "SHA1", 20, "SHA256", false),
    AES_CBC(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", 16, "SHA1", 20, "SHA256", false),
    AES_CBC(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", 32, "SHA1", 20, "SHA256", false),
    AES_CBC(0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", 32, "SHA1", 20, "SHA256", false),
    AES_CBC(0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", 16, "SHA256", 32, "SHA256", true),
    AES_CBC(0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", 32, "SHA256", 32, "SHA256", true),
    AES_CBC(0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", 16, "SHA256", 32, "SHA256", true),
    AES_CBC(0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", 32, "SHA256", 32, "SHA256", true),
    AES_CBC(0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 16, "SHA1", 20, "SHA256", false),
    AES_CBC(0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 32, "SHA1", 20, "SHA256", false),
    AES_CBC(0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 16, "SHA1", 20, "SHA256", false),
    AES_CBC(0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 32, "SHA1", 20, "SHA256", false),
    AES_CBC(0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 16, "SHA256", 32, "SHA256", true),
    AES_CBC(0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", 32, "SHA384", 48, "SHA384", true),
    AES_CBC(0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 16, "SHA256", 32, "SHA256", true),
    AES_CBC(0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", 32, "SHA384", 48, "SHA384", true),
    DES3_CBC(0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    DES3_CBC(0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    DES3_CBC(0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),

    NOPE(0x0000, "TLS_NULL_WITH_NULL_NULL"),
    NOPE(0x0001, "TLS_RSA_WITH_NULL_MD5"),
    NOPE(0x0002, "TLS_RSA_WITH_NULL_SHA"),
    NOPE(0x0004, "TLS_RSA_WITH_RC4_128_MD5"),
    NOPE(0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
    NOPE(0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"),
};

const mw_tls_suite *mw_tls_suite_find(uint16_t id)
{
    for (size_t i = 0; i < N_ELEM(suites); i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

size_t mw_tls_hash_len(const char *name)
{
    if (!name)
        return 0;
    if (strcmp(name, "SHA256") == 0)
        return 32;
    if (strcmp(name, "SHA384") == 0)
        return 48;
    return 0;
}

/* A decryption status by name (decrypt.h), for counters and messages. */
const char *mw_tls_dec_status_name(mw_tls_dec_status s)
{
    static const char *const names[] = {
        [MW_TLS_DEC_OK] = "ok",
        [MW_TLS_DEC_AUTH_FAILED] = "auth_failed",
        [MW_TLS_DEC_TOO_LONG] = "too_long",
        [MW_TLS_DEC_UNSUPPORTED] = "unsupported",
        [MW_TLS_DEC_NO_KEYS] = "no_keys",
        [MW_TLS_DEC_MALFORMED] = "malformed",
        [MW_TLS_DEC_BAD_INPUT] = "bad_input",
    };
    if ((unsigned)s < sizeof names / sizeof names[0] && names[s])
        return names[s];
    return "unknown";
}
