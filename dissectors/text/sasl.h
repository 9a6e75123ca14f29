/* SASL responses (RFC 4422) as they cross SMTP AUTH, IMAP AUTHENTICATE and POP3 AUTH.
 *
 * Extracts the user name a response names and tells whether it carried a secret. The
 * decoded bytes are wiped before returning: no password or token is ever kept. */
#ifndef MW_SASL_H
#define MW_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *user;          /* newly allocated, or NULL when this response names none */
    bool carries_secret; /* a password or bearer token crossed in this response */
} mw_sasl_info;

/* mech: mechanism name as the client sent it (any case); step: 0 for the first
 * response (initial response or the answer to the first challenge). */
mw_sasl_info mw_sasl_response(const char *mech, unsigned step, const uint8_t *b64, size_t len);

/* Do responses of this mechanism reveal the secret itself (PLAIN, LOGIN, bearer tokens)? */
bool mw_sasl_mech_reveals_secret(const char *mech);

#endif
