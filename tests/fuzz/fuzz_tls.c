/* libFuzzer harness: the TLS dissector (records, handshake reassembly, certificates,
 * fingerprints) over a scripted two-direction stream; format in fuzz_stream.h. The
 * settings byte picks which implicit-TLS mail protocol the session is. */
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const mw_proto protos[4] = { MW_PROTO_SMTPS, MW_PROTO_IMAPS, MW_PROTO_POP3S,
                                        MW_PROTO_SMTPS };
    return fuzz_stream_one("tls", protos, data, size);
}
