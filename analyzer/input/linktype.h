/* Link layers: which libpcap link types we decode, and the frame down to the IP header. */
#ifndef MW_LINKTYPE_H
#define MW_LINKTYPE_H

#include "input/decode.h"

/* Is this libpcap link type (DLT_*) one we decode? */
bool mw_linktype_supported(int dlt);

/* Decode one captured frame of link type dlt. */
mw_decode_status mw_decode(int dlt, const uint8_t *frame, size_t caplen, mw_packet *out);

#endif
