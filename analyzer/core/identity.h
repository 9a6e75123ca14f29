/* The record's identity fields, shared by the JSON record and the session store:
 * `uid` (unique across runs and sensors, the same for the same session read again from
 * the same input), `input` (the file as given, or iface:NAME live), `sensor` (--sensor
 * NAME, default the host name) and the endpoints as separate IP and port fields, which
 * log shippers index as IPs.
 *
 * The sensor and the current input are process-wide: main sets them before reading an
 * input, and each session takes the input current when it was created. */
#ifndef MW_IDENTITY_H
#define MW_IDENTITY_H

#include <glib.h>

#include "core/session.h"

/* "m", the start second (7 characters), 95 bits of XXH3 (19 characters); NUL */
#define MW_UID_LEN 27
#define MW_UID_SIZE (MW_UID_LEN + 1)

/* --sensor NAME; NULL: the host name. */
void mw_identity_set_sensor(const char *name);
const char *mw_identity_sensor(void);
/* The input sessions created from now on belong to: a file name ("-" is stdin) or, for a
 * live capture, the interface (stored as iface:NAME). The string is interned. */
void mw_identity_set_input(const char *name, gboolean live);
const char *mw_identity_input(void);
/* The same with a name already interned (cheap: the merge of files switches per packet). */
void mw_identity_use_input(const char *interned);

/* Where an evidence packet is: the input and the interface (interned; NULL each when the
 * record need not say: one input, one interface). Told by whoever reads the packets
 * (main); without it both are NULL. Called on the analysis thread when a flag is raised.
 * Per thread: each analysis thread sets its own (the sensor and the input are set once,
 * before any analysis thread starts, and only read after). */
typedef void (*mw_evidence_origin_fn)(void *user, uint64_t frame, int64_t ts_us,
                                      const char *session_input, const char **input,
                                      const char **iface);
void mw_identity_set_origin(mw_evidence_origin_fn fn, void *user);
/* session_input: the input the flagged session started in, the first place to look for a
 * frame that is not the packet being analysed (frames restart in every file). */
void mw_identity_origin(uint64_t frame, int64_t ts_us, const char *session_input,
                        const char **input, const char **iface);

/* The session's uid: its start second, then a hash of sensor, input, first packet (frame
 * and time) and 4-tuple. */
void mw_identity_uid(const mw_session *s, char out[MW_UID_SIZE]);
/* ,"uid":...,"input":...,"sensor":...,"client_ip":...,"client_port":N,"server_ip":...,
 * "server_port":N — appended to a record whose object is open. */
void mw_identity_json(GString *out, const mw_session *s);
/* The IP address alone, as text (inet_ntop); out holds at least 46 bytes. */
void mw_identity_ip(const mw_endpoint *ep, char *out, size_t size);

#endif
