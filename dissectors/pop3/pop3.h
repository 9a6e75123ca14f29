/* POP3 (RFC 1939, 2595, 5034). */
#ifndef MW_POP3_H
#define MW_POP3_H

#include "dissector.h"

extern const mw_dissector mw_pop3_dissector;

#endif
