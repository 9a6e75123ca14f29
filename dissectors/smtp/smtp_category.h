/* Category of an SMTP error reply (SPEC.md): from the RFC 3463 enhanced status code
 * first, the server's wording second, the basic reply code last. */
#ifndef MW_SMTP_CATEGORY_H
#define MW_SMTP_CATEGORY_H

#include <stddef.h>

/* enhanced: "5.7.1" or "" ; text: the reply text (any case). Returns a static name. */
const char *mw_smtp_category(int code, const char *enhanced, const char *text);
/* The same for a text already in ASCII lower case, len bytes (no NUL inside). */
const char *mw_smtp_category_lower(int code, const char *enhanced, const char *low, size_t len);

#endif
