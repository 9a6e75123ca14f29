/* Cipher contexts (and CBC HMAC keys) kept across sessions, per thread and suite (decrypt.c's
 * decoders: README.md, "Contexts"). Depends on OpenSSL libcrypto and GLib only. */
#ifndef MW_TLS_CTX_POOL_H
#define MW_TLS_CTX_POOL_H

#include <openssl/evp.h>
#include <stdbool.h>

#include "tls/decrypt/hmac.h"
#include "tls/decrypt/suites.h"

/* Keeps cipher (and mac, NULL unless CBC: OPENSSL_malloc'd, wiped here) for a later decoder
 * of suite, or frees them when this thread's pool is full. */
void mw_tls_ctx_pool_put(const mw_tls_suite *suite, EVP_CIPHER_CTX *cipher, mw_hmac_key *mac);
/* A kept pair made for suite into *cipher and *mac; false when there is none. */
bool mw_tls_ctx_pool_take(const mw_tls_suite *suite, EVP_CIPHER_CTX **cipher,
                          mw_hmac_key **mac);

#endif
