/* Community ID flow hash v1 (https://github.com/corelight/community-id-spec), so
 * records join Zeek's and Suricata's logs. */
#ifndef MW_COMMUNITY_ID_H
#define MW_COMMUNITY_ID_H

#include "core/session.h"

/* "1:" + base64(SHA-1(seed, addresses, proto 6, pad, ports)), seed 0. out: >= 40 bytes. */
void mw_community_id(const mw_endpoint *a, const mw_endpoint *b, char *out, size_t outlen);

#endif
