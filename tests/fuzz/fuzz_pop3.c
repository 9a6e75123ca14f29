/* libFuzzer harness: the POP3 dissector (and TLS after STLS) over a scripted
 * two-direction stream; format in fuzz_stream.h. */
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const mw_proto protos[4] = { MW_PROTO_POP3, MW_PROTO_POP3, MW_PROTO_POP3,
                                        MW_PROTO_POP3 };
    return fuzz_stream_one("pop3", protos, data, size);
}
