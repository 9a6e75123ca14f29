#include "core/config.h"

#include <glib.h>

void mw_config_defaults(mw_config *c)
{
    c->ports = NULL;
    c->max_line = MW_DEFAULT_MAX_LINE;
    c->max_ooo_bytes = MW_DEFAULT_MAX_OOO_BYTES;
    c->max_flows = MW_DEFAULT_MAX_FLOWS;
    c->idle_timeout_us = (int64_t)MW_DEFAULT_IDLE_TIMEOUT_S * G_USEC_PER_SEC;
    c->max_frag_datagrams = MW_DEFAULT_MAX_FRAG_DATAGRAMS;
    c->max_frag_bytes = MW_DEFAULT_MAX_FRAG_BYTES;
    c->frag_timeout_us = (int64_t)MW_DEFAULT_FRAG_TIMEOUT_S * G_USEC_PER_SEC;
    c->max_bdat_chunk = MW_DEFAULT_MAX_BDAT_CHUNK;
    c->max_memory = 0;
    c->max_tls_handshake = MW_DEFAULT_MAX_TLS_HANDSHAKE;
    c->keep_transcript = false;
    c->keylog = NULL;
    c->tls_hold_records = MW_DEFAULT_TLS_HOLD_RECORDS;
    c->session_id_step = 1; /* s1, s2, ... */
}
