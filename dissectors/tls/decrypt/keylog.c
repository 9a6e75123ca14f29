/* Key log store: NSS key log lines (RFC 9850 §2) parsed into a hash table keyed by client
 * random; file sources remembered so that a growing live key log is followed. */
#include "tls/decrypt/keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes read from a file at a time. */
#define READ_CHUNK 16384
/* Bytes before the read offset whose digest tells a rewritten file from a grown one. */
#define TAIL_CHECK_LEN 64
#define DIGEST_LEN 32
/* Fields looked at on a line: label, client random, secret, and one to see extras. */
#define MAX_FIELDS 4

typedef struct {
    uint32_t hash; /* of random, seeded per store */
    uint8_t random[MW_KEYLOG_RANDOM_LEN];
} kl_key;

typedef struct {
    kl_key key; /* first: the hash table's key points here */
    uint8_t len[MW_KEYLOG_N_KINDS];
    uint8_t secret[MW_KEYLOG_N_KINDS][MW_KEYLOG_SECRET_MAX];
} kl_entry;

/* Where lines come from, and the unfinished line between two reads. */
typedef struct {
    char *name;
    /* followed files: their directory, open, and the name in it, so that a sandboxed run
     * can still open the file again (openat on a descriptor it already holds) */
    int dir_fd;
    char *base;
    bool is_file, follow, stream; /* stream: a pipe, read once */
    bool have_pos;                /* dev, ino, offset, tail describe what was read */
    dev_t dev;
    ino_t ino;
    off_t offset;
    uint8_t tail[DIGEST_LEN];
    bool unreadable_said;
    uint64_t line_no;
    char line[MW_KEYLOG_MAX_LINE];
    size_t line_len;
    bool overlong; /* the current line passed MW_KEYLOG_MAX_LINE: skip to its end */
} kl_source;

/* Locking (live --workers: every worker looks up, and refreshes when a key is missing):
 * lookups and counters take the read lock; whatever changes the table, the sources or the
 * messages takes the write lock. added and grows are also read without it (atomics). */
struct mw_keylog {
    GRWLock lock;
    GHashTable *table; /* kl_key * -> kl_entry * (the same pointer) */
    uint64_t seed;
    unsigned max_entries;
    mw_keylog_stats st;
    GPtrArray *sources;  /* kl_source *: files */
    GPtrArray *messages; /* char *: not yet taken */
    unsigned named;      /* malformed lines named so far */
    gint added;          /* files and buffers given (any outcome) */
    gint grows;          /* a followed file is among the sources (mw_keylog_may_grow) */
    bool more_said;
};

static const char *const labels[MW_KEYLOG_N_KINDS] = {
    [MW_KEYLOG_CLIENT_RANDOM] = "CLIENT_RANDOM",
    [MW_KEYLOG_CLIENT_EARLY_TRAFFIC] = "CLIENT_EARLY_TRAFFIC_SECRET",
    [MW_KEYLOG_CLIENT_HANDSHAKE_TRAFFIC] = "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    [MW_KEYLOG_SERVER_HANDSHAKE_TRAFFIC] = "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    [MW_KEYLOG_CLIENT_TRAFFIC_0] = "CLIENT_TRAFFIC_SECRET_0",
    [MW_KEYLOG_SERVER_TRAFFIC_0] = "SERVER_TRAFFIC_SECRET_0",
};

/* Labels that decryption does not need: RFC 9850's exporter and ECH secrets, NSS's "RSA"
 * (pre-master secret by encrypted pre-master; CLIENT_RANDOM is logged beside it), and
 * OpenSSL 3's secrets after a KeyUpdate, which the decoder derives itself. */
static const char *const ignored_labels[] = {
    "EXPORTER_SECRET",         "EARLY_EXPORTER_SECRET",   "ECH_SECRET", "ECH_CONFIG", "RSA",
    "CLIENT_TRAFFIC_SECRET_N", "SERVER_TRAFFIC_SECRET_N",
};

const char *mw_keylog_kind_label(mw_keylog_kind kind)
{
    return (unsigned)kind < MW_KEYLOG_N_KINDS ? labels[kind] : "?";
}

/* ---------- the table ---------- */

/* Client randoms come from the capture too (DSBs), so the hash is seeded per store:
 * a crafted file cannot line its randoms up in one bucket. */
static uint32_t random_hash(uint64_t seed, const uint8_t r[MW_KEYLOG_RANDOM_LEN])
{
    uint64_t h = seed;
    for (size_t i = 0; i < MW_KEYLOG_RANDOM_LEN; i += 8) {
        uint64_t w = 0;
        memcpy(&w, r + i, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    return (uint32_t)(h ^ (h >> 32));
}

static guint key_hash(gconstpointer k)
{
    return ((const kl_key *)k)->hash;
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(((const kl_key *)a)->random, ((const kl_key *)b)->random,
                  MW_KEYLOG_RANDOM_LEN) == 0;
}

static void entry_free(gpointer p)
{
    OPENSSL_cleanse(p, sizeof(kl_entry));
    g_free(p);
}

static void source_free(gpointer p)
{
    kl_source *src = p;
    if (src->dir_fd > 0)
        close(src->dir_fd);
    g_free(src->base);
    g_free(src->name);
    OPENSSL_cleanse(src, sizeof *src);
    g_free(src);
}

mw_keylog *mw_keylog_new(void)
{
    mw_keylog *kl = g_new0(mw_keylog, 1);
    /* seeded as the engine's other tables are (GLib's generator, from /dev/urandom):
     * RAND_bytes would set up OpenSSL's DRBG for these 8 bytes, ~3 ms of CPU */
    kl->seed = (uint64_t)g_random_int() << 32 | g_random_int();
    kl->max_entries = MW_KEYLOG_MAX_ENTRIES;
    kl->table = g_hash_table_new_full(key_hash, key_equal, NULL, entry_free);
    kl->sources = g_ptr_array_new_with_free_func(source_free);
    kl->messages = g_ptr_array_new_with_free_func(g_free);
    g_rw_lock_init(&kl->lock);
    return kl;
}

void mw_keylog_free(mw_keylog *kl)
{
    if (!kl)
        return;
    g_hash_table_destroy(kl->table);
    g_ptr_array_unref(kl->sources);
    g_ptr_array_unref(kl->messages);
    g_rw_lock_clear(&kl->lock);
    g_free(kl);
}

void mw_keylog_set_max_entries(mw_keylog *kl, unsigned max_entries)
{
    g_rw_lock_writer_lock(&kl->lock);
    kl->max_entries = max_entries < MW_KEYLOG_MAX_ENTRIES ? max_entries : MW_KEYLOG_MAX_ENTRIES;
    g_rw_lock_writer_unlock(&kl->lock);
}

/* The entry's secret of kind, or NULL; the caller holds the lock. */
static const uint8_t *lookup(const mw_keylog *kl, const uint8_t *client_random,
                             mw_keylog_kind kind, size_t *len)
{
    kl_key probe;
    probe.hash = random_hash(kl->seed, client_random);
    memcpy(probe.random, client_random, MW_KEYLOG_RANDOM_LEN);
    const kl_entry *e = g_hash_table_lookup(kl->table, &probe);
    if (!e || !e->len[kind])
        return NULL;
    if (len)
        *len = e->len[kind];
    return e->secret[kind];
}

const uint8_t *mw_keylog_find(const mw_keylog *kl,
                              const uint8_t client_random[MW_KEYLOG_RANDOM_LEN],
                              mw_keylog_kind kind, size_t *len)
{
    if (!kl || !client_random || (unsigned)kind >= MW_KEYLOG_N_KINDS)
        return NULL;
    mw_keylog *w = (mw_keylog *)kl; /* the lock only */
    g_rw_lock_reader_lock(&w->lock);
    const uint8_t *k = lookup(kl, client_random, kind, len);
    g_rw_lock_reader_unlock(&w->lock);
    return k;
}

bool mw_keylog_copy(const mw_keylog *kl, const uint8_t client_random[MW_KEYLOG_RANDOM_LEN],
                    mw_keylog_kind kind, uint8_t out[MW_KEYLOG_SECRET_MAX], size_t *len)
{
    if (!kl || !client_random || (unsigned)kind >= MW_KEYLOG_N_KINDS)
        return false;
    mw_keylog *w = (mw_keylog *)kl;
    size_t n = 0;
    g_rw_lock_reader_lock(&w->lock);
    const uint8_t *k = lookup(kl, client_random, kind, &n);
    if (k)
        memcpy(out, k, n);
    g_rw_lock_reader_unlock(&w->lock);
    if (k && len)
        *len = n;
    return k != NULL;
}

bool mw_keylog_has_any(const mw_keylog *kl, const uint8_t client_random[MW_KEYLOG_RANDOM_LEN])
{
    if (!kl || !client_random)
        return false;
    mw_keylog *w = (mw_keylog *)kl;
    kl_key probe;
    probe.hash = random_hash(kl->seed, client_random);
    memcpy(probe.random, client_random, MW_KEYLOG_RANDOM_LEN);
    bool any = false;
    g_rw_lock_reader_lock(&w->lock);
    const kl_entry *e = g_hash_table_lookup(kl->table, &probe);
    for (int k = 0; e && k < MW_KEYLOG_N_KINDS && !any; k++)
        any = e->len[k] != 0;
    g_rw_lock_reader_unlock(&w->lock);
    return any;
}

mw_keylog_stats mw_keylog_get_stats(const mw_keylog *kl)
{
    mw_keylog *w = (mw_keylog *)kl;
    g_rw_lock_reader_lock(&w->lock);
    mw_keylog_stats s = kl->st;
    s.entries = g_hash_table_size(kl->table);
    g_rw_lock_reader_unlock(&w->lock);
    return s;
}

GPtrArray *mw_keylog_take_messages(mw_keylog *kl)
{
    g_rw_lock_writer_lock(&kl->lock);
    GPtrArray *out = kl->messages;
    kl->messages = g_ptr_array_new_with_free_func(g_free);
    g_rw_lock_writer_unlock(&kl->lock);
    return out;
}

static void store(mw_keylog *kl, mw_keylog_kind kind, const uint8_t *random,
                  const uint8_t *secret, size_t len)
{
    kl_key probe;
    probe.hash = random_hash(kl->seed, random);
    memcpy(probe.random, random, MW_KEYLOG_RANDOM_LEN);
    kl_entry *e = g_hash_table_lookup(kl->table, &probe);
    if (!e) {
        if (g_hash_table_size(kl->table) >= kl->max_entries) {
            kl->st.dropped++;
            return;
        }
        e = g_new0(kl_entry, 1);
        e->key = probe;
        g_hash_table_add(kl->table, e);
    }
    if (e->len[kind])
        kl->st.duplicates++;
    else
        kl->st.secrets++;
    OPENSSL_cleanse(e->secret[kind], sizeof e->secret[kind]);
    memcpy(e->secret[kind], secret, len);
    e->len[kind] = (uint8_t)len;
}

/* ---------- lines ---------- */

static void say(mw_keylog *kl, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void say(mw_keylog *kl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(kl->messages, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

/* A malformed line: counted, and named while fewer than MW_KEYLOG_MAX_MESSAGES were.
 * what must not contain anything from the line but its label, when known. */
static void malformed(mw_keylog *kl, const kl_source *src, const char *what)
{
    kl->st.malformed++;
    if (kl->named < MW_KEYLOG_MAX_MESSAGES) {
        kl->named++;
        say(kl, "%s line %" PRIu64 ": %s", src->name, src->line_no, what);
    } else if (!kl->more_said) {
        kl->more_said = true;
        say(kl, "%s: further malformed key log lines are counted, not listed", src->name);
    }
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes a hex field into out (cap bytes). Returns the byte count, or -1 (not hex),
 * -2 (odd number of digits), -3 (longer than cap). */
static long unhex(const char *p, size_t n, uint8_t *out, size_t cap)
{
    for (size_t i = 0; i < n; i++)
        if (hex_digit(p[i]) < 0)
            return -1;
    if (n % 2)
        return -2;
    if (n / 2 > cap)
        return -3;
    for (size_t i = 0; i < n / 2; i++)
        out[i] = (uint8_t)(hex_digit(p[2 * i]) << 4 | hex_digit(p[2 * i + 1]));
    return (long)(n / 2);
}

/* Names a bad hex field: "client random" or "secret". */
static void bad_hex(mw_keylog *kl, const kl_source *src, const char *label, const char *field,
                    long r, size_t digits, size_t want)
{
    char what[160];
    if (r == -1)
        g_snprintf(what, sizeof what, "%s: %s is not hexadecimal", label, field);
    else if (r == -2)
        g_snprintf(what, sizeof what, "%s: %s has an odd number of hex digits", label, field);
    else
        g_snprintf(what, sizeof what, "%s: %s is %zu bytes, %s", label, field, digits / 2,
                   want == 0 ? "not 32 or 48" : want == 32 ? "not 32" : "not 48");
    malformed(kl, src, what);
}

static void parse_line(mw_keylog *kl, kl_source *src, char *line, size_t len)
{
    if (len && line[len - 1] == '\r')
        len--; /* CRLF */
    const char *f[MAX_FIELDS];
    size_t fl[MAX_FIELDS];
    size_t nf = 0, i = 0;
    while (i < len && nf < MAX_FIELDS) {
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == len)
            break;
        f[nf] = line + i;
        while (i < len && line[i] != ' ' && line[i] != '\t')
            i++;
        fl[nf] = (size_t)(line + i - f[nf]);
        nf++;
    }
    if (nf == 0 || f[0][0] == '#') {
        kl->st.ignored++;
        return;
    }
    int kind = -1;
    for (int k = 0; k < MW_KEYLOG_N_KINDS; k++)
        if (fl[0] == strlen(labels[k]) && memcmp(f[0], labels[k], fl[0]) == 0)
            kind = k;
    if (kind < 0) {
        for (size_t k = 0; k < G_N_ELEMENTS(ignored_labels); k++)
            if (fl[0] == strlen(ignored_labels[k]) &&
                memcmp(f[0], ignored_labels[k], fl[0]) == 0) {
                kl->st.ignored++;
                return;
            }
        malformed(kl, src, "unknown label");
        return;
    }
    const char *label = labels[kind];
    char what[160];
    if (nf < 3) {
        g_snprintf(what, sizeof what, "%s: missing %s", label,
                   nf == 1 ? "client random and secret" : "secret");
        malformed(kl, src, what);
        return;
    }
    if (nf > 3) {
        g_snprintf(what, sizeof what, "%s: unexpected text after the secret", label);
        malformed(kl, src, what);
        return;
    }
    uint8_t random[MW_KEYLOG_RANDOM_LEN], secret[MW_KEYLOG_SECRET_MAX];
    long r = unhex(f[1], fl[1], random, sizeof random);
    if (r != MW_KEYLOG_RANDOM_LEN) {
        bad_hex(kl, src, label, "client random", r < 0 ? r : -3, fl[1], 32);
        goto out;
    }
    long s = unhex(f[2], fl[2], secret, sizeof secret);
    bool tls12 = kind == MW_KEYLOG_CLIENT_RANDOM;
    if (s < 0 || (tls12 && s != 48) || (!tls12 && s != 32 && s != 48)) {
        bad_hex(kl, src, label, tls12 ? "master secret" : "secret", s < 0 ? s : -3, fl[2],
                tls12 ? 48 : 0);
        goto out;
    }
    store(kl, (mw_keylog_kind)kind, random, secret, (size_t)s);
out:
    OPENSSL_cleanse(random, sizeof random);
    OPENSSL_cleanse(secret, sizeof secret);
}

/* One whole line (its bytes in src->line) is done. */
static void end_line(mw_keylog *kl, kl_source *src)
{
    src->line_no++;
    kl->st.lines++;
    if (src->overlong) {
        char what[80];
        g_snprintf(what, sizeof what, "line longer than %d bytes", MW_KEYLOG_MAX_LINE);
        malformed(kl, src, what);
    } else {
        parse_line(kl, src, src->line, src->line_len);
    }
    OPENSSL_cleanse(src->line, src->line_len);
    src->line_len = 0;
    src->overlong = false;
}

/* Feeds bytes to src's line splitter; at_end: the input ends here, so does its last line. */
static void feed(mw_keylog *kl, kl_source *src, const char *p, size_t n, bool at_end)
{
    while (n) {
        const char *lf = memchr(p, '\n', n);
        size_t take = lf ? (size_t)(lf - p) : n;
        if (!src->overlong) {
            if (src->line_len + take > sizeof src->line) {
                src->overlong = true;
                OPENSSL_cleanse(src->line, src->line_len);
                src->line_len = 0;
            } else {
                memcpy(src->line + src->line_len, p, take);
                src->line_len += take;
            }
        }
        if (!lf)
            break;
        end_line(kl, src);
        p = lf + 1;
        n -= take + 1;
    }
    if (at_end && (src->line_len || src->overlong))
        end_line(kl, src);
}

void mw_keylog_add_buffer(mw_keylog *kl, const char *source, const void *data, size_t len)
{
    kl_source *src = g_new0(kl_source, 1);
    src->name = g_strdup(source ? source : "key log");
    g_rw_lock_writer_lock(&kl->lock);
    g_atomic_int_inc(&kl->added);
    feed(kl, src, data, len, true);
    g_rw_lock_writer_unlock(&kl->lock);
    source_free(src);
}

/* ---------- files ---------- */

/* Digest of the TAIL_CHECK_LEN bytes of fd before offset (fewer near the start). */
static bool tail_digest(int fd, off_t offset, uint8_t out[DIGEST_LEN])
{
    uint8_t buf[TAIL_CHECK_LEN];
    size_t n = offset < TAIL_CHECK_LEN ? (size_t)offset : TAIL_CHECK_LEN;
    ssize_t got = n ? pread(fd, buf, n, offset - (off_t)n) : 0;
    unsigned int dl = 0;
    bool ok = got == (ssize_t)n && EVP_Digest(buf, n, out, &dl, EVP_sha256(), NULL) == 1 &&
              dl == DIGEST_LEN;
    OPENSSL_cleanse(buf, sizeof buf);
    return ok;
}

/* Reads src from where it stopped (or from the start when the file is another one, or
 * shorter, or different before that point). Returns false when it cannot be opened. */
static bool source_read(mw_keylog *kl, kl_source *src)
{
    int fd = src->dir_fd > 0 ? openat(src->dir_fd, src->base, O_RDONLY | O_CLOEXEC)
                             : open(src->name, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        if (!src->unreadable_said)
            say(kl, "%s: cannot read the key log: %s", src->name, g_strerror(e));
        src->unreadable_said = true;
        return false;
    }
    src->unreadable_said = false;
    src->stream = !S_ISREG(sb.st_mode);
    if (src->have_pos && !src->stream) {
        uint8_t now[DIGEST_LEN];
        bool same = sb.st_dev == src->dev && sb.st_ino == src->ino &&
                    sb.st_size >= src->offset && tail_digest(fd, src->offset, now) &&
                    memcmp(now, src->tail, DIGEST_LEN) == 0;
        if (!same) { /* truncated, rotated or rewritten: from the start */
            src->offset = 0;
            src->line_no = 0;
            OPENSSL_cleanse(src->line, sizeof src->line);
            src->line_len = 0;
            src->overlong = false;
        }
    }
    if (!src->stream && lseek(fd, src->offset, SEEK_SET) != src->offset) {
        close(fd);
        return false;
    }
    char *buf = g_malloc(READ_CHUNK);
    size_t used = 0; /* bytes of buf ever filled: only those are wiped */
    for (;;) {
        ssize_t got = read(fd, buf, READ_CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if ((size_t)got > used)
            used = (size_t)got;
        feed(kl, src, buf, (size_t)got, false);
        src->offset += got;
    }
    OPENSSL_cleanse(buf, used);
    g_free(buf);
    if (!src->follow || src->stream)
        feed(kl, src, NULL, 0, true); /* the last line needs no newline */
    src->dev = sb.st_dev;
    src->ino = sb.st_ino;
    src->have_pos = !src->stream && tail_digest(fd, src->offset, src->tail);
    close(fd);
    return true;
}

/* Whether a followed file is among the sources, for mw_keylog_may_grow without the lock
 * (source_read learns whether a source is a pipe). The caller holds the write lock. */
static void note_grows(mw_keylog *kl)
{
    gint grows = 0;
    for (guint i = 0; i < kl->sources->len; i++) {
        const kl_source *src = g_ptr_array_index(kl->sources, i);
        if (src->follow && !src->stream)
            grows = 1;
    }
    g_atomic_int_set(&kl->grows, grows);
}

static bool add_file(mw_keylog *kl, const char *path, bool follow)
{
    for (guint i = 0; i < kl->sources->len; i++) {
        kl_source *src = g_ptr_array_index(kl->sources, i);
        if (strcmp(src->name, path) == 0)
            return src->follow ? source_read(kl, src) : true;
    }
    g_atomic_int_inc(&kl->added);
    kl_source *src = g_new0(kl_source, 1);
    src->name = g_strdup(path);
    src->is_file = true;
    src->follow = follow;
    if (follow) {
        char *dir = g_path_get_dirname(path);
        src->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        src->base = g_path_get_basename(path);
        g_free(dir);
    }
    g_ptr_array_add(kl->sources, src);
    return source_read(kl, src);
}

bool mw_keylog_add_file(mw_keylog *kl, const char *path, bool follow)
{
    g_rw_lock_writer_lock(&kl->lock);
    bool ok = add_file(kl, path, follow);
    note_grows(kl);
    g_rw_lock_writer_unlock(&kl->lock);
    return ok;
}

uint64_t mw_keylog_refresh(mw_keylog *kl)
{
    g_rw_lock_writer_lock(&kl->lock);
    uint64_t before = kl->st.secrets;
    for (guint i = 0; i < kl->sources->len; i++) {
        kl_source *src = g_ptr_array_index(kl->sources, i);
        if (src->follow && !src->stream)
            source_read(kl, src);
    }
    note_grows(kl);
    uint64_t added = kl->st.secrets - before;
    g_rw_lock_writer_unlock(&kl->lock);
    return added;
}

unsigned mw_keylog_sources(const mw_keylog *kl)
{
    return kl ? (unsigned)g_atomic_int_get(&kl->added) : 0;
}

const gint *mw_keylog_sources_counter(const mw_keylog *kl)
{
    return kl ? &kl->added : NULL;
}

bool mw_keylog_may_grow(const mw_keylog *kl)
{
    return kl && g_atomic_int_get(&kl->grows);
}

size_t mw_keylog_dir_fds(const mw_keylog *kl, int *fds, size_t max)
{
    if (!kl)
        return 0;
    mw_keylog *w = (mw_keylog *)kl;
    size_t n = 0;
    g_rw_lock_reader_lock(&w->lock);
    for (guint i = 0; i < kl->sources->len && n < max; i++) {
        const kl_source *src = g_ptr_array_index(kl->sources, i);
        if (src->follow && src->dir_fd > 0)
            fds[n++] = src->dir_fd;
    }
    g_rw_lock_reader_unlock(&w->lock);
    return n;
}
