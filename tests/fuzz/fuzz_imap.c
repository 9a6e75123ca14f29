/* libFuzzer harness: the IMAP dissector (and TLS after STARTTLS) over a scripted
 * two-direction stream; format in fuzz_stream.h. */
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const mw_proto protos[4] = { MW_PROTO_IMAP, MW_PROTO_IMAP, MW_PROTO_IMAP,
                                        MW_PROTO_IMAP };
    return fuzz_stream_one("imap", protos, data, size);
}
