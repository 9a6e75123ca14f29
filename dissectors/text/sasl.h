/* SASL responses (RFC 4422) as they cross SMTP AUTH, IMAP AUTHENTICATE and POP3 AUTH.
 *
 * Extracts the user name a response names and tells whether it carried a secret. The
 * decoded bytes are wiped before returning: no password or token is ever kept. A user
 * name is taken only from a well-formed field and only when it cannot be the secret
 * (mw_sasl_user_ok); a response that is not one well-formed base64 token (two values on
 * one line, say) names no user and is taken to carry the secret. */
#ifndef MW_SASL_H
#define MW_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *user;          /* newly allocated, or NULL when this response names none */
    bool carries_secret; /* a password or bearer token crossed in this response */
} mw_sasl_info;

/* What the server's last challenge asked for (LOGIN: "Username:" or "Password:"). */
typedef enum { MW_SASL_ASKS_UNKNOWN, MW_SASL_ASKS_USER, MW_SASL_ASKS_SECRET } mw_sasl_asks;

/* A server challenge (base64, as sent after "334 " or "+ "). */
mw_sasl_asks mw_sasl_challenge(const uint8_t *b64, size_t len);

/* mech: mechanism name as the client sent it (any case); step: 0 for the first
 * response (initial response or the answer to the first challenge); asks: what the
 * challenge it answers asked for. */
mw_sasl_info mw_sasl_response(const char *mech, unsigned step, mw_sasl_asks asks,
                              const uint8_t *b64, size_t len);

/* Do responses of this mechanism reveal the secret itself (PLAIN, LOGIN, bearer tokens)? */
bool mw_sasl_mech_reveals_secret(const char *mech);

/* Can these bytes be kept as a user name: not empty, no NUL, no whitespace or control
 * byte, and not a base64 blob (which could be an encoded secret)? */
bool mw_sasl_user_ok(const uint8_t *p, size_t len);

#endif
