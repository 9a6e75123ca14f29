/* SMTP, submission and SMTPS (RFC 5321, 3207, 4954, 3030). */
#ifndef MW_SMTP_H
#define MW_SMTP_H

#include "dissector.h"

extern const mw_dissector mw_smtp_dissector;

#endif
