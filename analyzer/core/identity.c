#include "core/identity.h"

#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "core/json.h"

static const char *sensor_name;  /* interned */
static const char *input_name;   /* interned; NULL before any input */

void mw_identity_set_sensor(const char *name)
{
    if (name && *name) {
        sensor_name = g_intern_string(name);
        return;
    }
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        g_strlcpy(host, "unknown", sizeof host);
    sensor_name = g_intern_string(host);
}

const char *mw_identity_sensor(void)
{
    if (!sensor_name)
        mw_identity_set_sensor(NULL);
    return sensor_name;
}

void mw_identity_set_input(const char *name, gboolean live)
{
    if (live) {
        char *s = g_strconcat("iface:", name, NULL);
        input_name = g_intern_string(s);
        g_free(s);
    } else {
        input_name = g_intern_string(strcmp(name, "-") == 0 ? "(stdin)" : name);
    }
}

const char *mw_identity_input(void)
{
    return input_name;
}

void mw_identity_use_input(const char *interned)
{
    input_name = interned;
}

/* Per thread: each analysis thread (analyzer/parallel/) has its own view of the packet
 * being analysed, so each sets its own. */
static _Thread_local mw_evidence_origin_fn origin_fn;
static _Thread_local void *origin_user;

void mw_identity_set_origin(mw_evidence_origin_fn fn, void *user)
{
    origin_fn = fn;
    origin_user = user;
}

void mw_identity_origin(uint64_t frame, int64_t ts_us, const char *session_input,
                        const char **input, const char **iface)
{
    *input = *iface = NULL;
    if (origin_fn)
        origin_fn(origin_user, frame, ts_us, session_input, input, iface);
}

static void hash_str(XXH3_state_t *st, const char *s)
{
    s = s ? s : "";
    XXH3_128bits_update(st, s, strlen(s) + 1); /* with the NUL: fields cannot run together */
}

/* family, address (16 bytes), port big-endian: 19 bytes at b */
static uint8_t *put_endpoint(uint8_t *b, const mw_endpoint *ep)
{
    b[0] = ep->family;
    memcpy(b + 1, ep->addr, 16);
    b[17] = (uint8_t)(ep->port >> 8);
    b[18] = (uint8_t)ep->port;
    return b + 19;
}

/* The hashed bytes: sensor and input with their NULs, first frame and start time, the
 * two endpoints. Hashed in one piece when they fit (the usual case), else streamed: the
 * same XXH3 value either way. */
#define MW_UID_INPUT_MAX 512
/* Per thread, the hashed bytes of the last sensor and input seen (both interned: the same
 * pointers, the same bytes), the record's own bytes written after them in place: a run
 * has one or a few, and their strlen and copies were a quarter of the uid (issue 18).
 * n 0: too long to hash in one piece, streamed. */
static _Thread_local struct {
    const char *sensor, *input;
    size_t n;
    uint8_t b[MW_UID_INPUT_MAX];
} uid_bytes;

static XXH128_hash_t uid_hash(const mw_session *s)
{
    const char *sensor = mw_identity_sensor(), *input = s->input ? s->input : "";
    uint64_t first[2] = { s->first_frame, (uint64_t)s->ts_start_us };
    uint8_t eps[38];
    if (sensor != uid_bytes.sensor || input != uid_bytes.input) {
        size_t ns = strlen(sensor) + 1, ni = strlen(input) + 1;
        uid_bytes.sensor = sensor;
        uid_bytes.input = input;
        uid_bytes.n = 0;
        if (ns + ni + sizeof first + sizeof eps <= MW_UID_INPUT_MAX) {
            memcpy(uid_bytes.b, sensor, ns);
            memcpy(uid_bytes.b + ns, input, ni);
            uid_bytes.n = ns + ni;
        }
    }
    if (uid_bytes.n) {
        uint8_t *p = uid_bytes.b + uid_bytes.n;
        memcpy(p, first, sizeof first);
        p += sizeof first;
        put_endpoint(put_endpoint(p, &s->client), &s->server);
        p += sizeof eps;
        return XXH3_128bits(uid_bytes.b, (size_t)(p - uid_bytes.b));
    }
    put_endpoint(put_endpoint(eps, &s->client), &s->server);
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_128bits_reset(&st);
    hash_str(&st, sensor);
    hash_str(&st, input);
    XXH3_128bits_update(&st, first, sizeof first);
    XXH3_128bits_update(&st, eps, sizeof eps);
    return XXH3_128bits_digest(&st);
}

void mw_identity_uid(const mw_session *s, char out[MW_UID_SIZE])
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    XXH128_hash_t h = uid_hash(s);
    /* The session's start second first, in an alphabet that sorts as it counts (base32hex,
     * 7 characters: until the year 3058), so uids of a run are nearly in order and a
     * database index takes them at its end instead of all over the file; then 19
     * characters (95 bits) of the hash. */
    static const char b32hex[] = "0123456789abcdefghijklmnopqrstuv";
    uint64_t sec = s->ts_start_us > 0 ? (uint64_t)s->ts_start_us / 1000000u : 0;
    out[0] = 'm';
    /* each character written out, not looped (a loop here cost some 10 instructions a
     * character at -O2, unrolled about 4; issue 18) */
#define MW_UID_SEC(i) out[1 + (i)] = b32hex[(sec >> (5 * (6 - (i)))) & 31]
    MW_UID_SEC(0), MW_UID_SEC(1), MW_UID_SEC(2), MW_UID_SEC(3);
    MW_UID_SEC(4), MW_UID_SEC(5), MW_UID_SEC(6);
#undef MW_UID_SEC
    /* character k the hash's bits 5k to 5k+4: the first 12 from the low half, the rest
     * from bit 60 on (each a shift by a constant, not the 128 bits shifted each time) */
    uint64_t lo = h.low64, rest = (h.low64 >> 60) | (h.high64 << 4);
#define MW_UID_LO(k) out[8 + (k)] = b32[(lo >> (5 * (k))) & 31]
#define MW_UID_REST(k) out[20 + (k)] = b32[(rest >> (5 * (k))) & 31]
    MW_UID_LO(0), MW_UID_LO(1), MW_UID_LO(2), MW_UID_LO(3), MW_UID_LO(4), MW_UID_LO(5);
    MW_UID_LO(6), MW_UID_LO(7), MW_UID_LO(8), MW_UID_LO(9), MW_UID_LO(10), MW_UID_LO(11);
    MW_UID_REST(0), MW_UID_REST(1), MW_UID_REST(2), MW_UID_REST(3);
    MW_UID_REST(4), MW_UID_REST(5), MW_UID_REST(6);
#undef MW_UID_LO
#undef MW_UID_REST
    out[MW_UID_LEN] = '\0';
}

void mw_identity_ip(const mw_endpoint *ep, char *out, size_t size)
{
    mw_format_ip(ep, out, size);
}

/* The JSON text of an interned string (the input, the sensor: never freed, one pointer per
 * text), kept per thread for the last one seen: the same pointer writes the same bytes,
 * and a run has one or a few, written for every record. In the thread's own fixed buffer
 * (nothing on the heap to free at the thread's end); a longer text is not kept. */
#define MW_ID_JSON_MEMO 256
typedef struct {
    const char *key;
    size_t n;
    char json[MW_ID_JSON_MEMO];
} id_json_memo;
static _Thread_local id_json_memo memo_input, memo_sensor;

static void json_interned(GString *out, const char *s, id_json_memo *m)
{
    if (s && s == m->key) {
        mw_put(out, m->json, m->n);
        return;
    }
    size_t at = out->len;
    mw_json_str(out, s);
    size_t n = out->len - at;
    if (s && n <= sizeof m->json) {
        memcpy(m->json, out->str + at, n);
        m->n = n;
        m->key = s;
    }
}

/* key (its opening quote included) and the address's text written in the buffer, then the
 * closing quote: an address's text is digits, hex letters, dots and colons, with nothing
 * to escape, so this is the bytes mw_json_strn would write, without its scan (issue 18) */
static void json_ip(GString *out, const char *key, size_t klen, const mw_endpoint *ep)
{
    char *d = mw_reserve(out, klen + MW_IP_TEXT_MAX + 1);
    memcpy(d, key, klen);
    d = mw_put_ip(d + klen, ep); /* at most 45 bytes: always fits INET6_ADDRSTRLEN */
    *d++ = '"';
    mw_commit(out, d);
}
#define JSON_IP(out, key, ep) json_ip((out), "" key, sizeof(key) - 1, (ep))

void mw_identity_json(GString *out, const mw_session *s)
{
    char uid[MW_UID_SIZE];
    mw_identity_uid(s, uid);
    mw_put_lit(out, ",\"uid\":\"");
    mw_put(out, uid, MW_UID_LEN);
    mw_put_lit(out, "\",\"input\":");
    json_interned(out, s->input, &memo_input);
    mw_put_lit(out, ",\"sensor\":");
    json_interned(out, mw_identity_sensor(), &memo_sensor);
    JSON_IP(out, ",\"client_ip\":\"", &s->client);
    mw_put_lit(out, ",\"client_port\":");
    mw_json_u64(out, s->client.port);
    JSON_IP(out, ",\"server_ip\":\"", &s->server);
    mw_put_lit(out, ",\"server_port\":");
    mw_json_u64(out, s->server.port);
}
