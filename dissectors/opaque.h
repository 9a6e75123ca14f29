/* Bytes hidden by TLS when no TLS dissector is registered: counted, not parsed. */
#ifndef MW_OPAQUE_H
#define MW_OPAQUE_H

#include "dissector.h"

extern const mw_dissector mw_opaque_dissector;

#endif
