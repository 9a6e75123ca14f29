/* IMAP4rev1 (RFC 3501, 9051). */
#ifndef MW_IMAP_H
#define MW_IMAP_H

#include "dissector.h"

extern const mw_dissector mw_imap_dissector;

#endif
