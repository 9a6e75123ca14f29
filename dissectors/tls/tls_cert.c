#include "tls/tls_cert.h"

#include "core/digest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib.h>
#include <pthread.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

static X509_STORE *trust_store;
static bool trust_tried;

/* True when dir holds c_rehash-style links (8 hex digits, '.', a digit): OpenSSL's
 * hashed-directory lookup can then find each issuer on its own. */
static bool dir_is_hashed(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return false;
    bool hashed = false;
    const char *n;
    while (!hashed && (n = g_dir_read_name(d)) != NULL) {
        size_t len = strlen(n);
        hashed = len >= 10 && n[8] == '.' && g_ascii_isdigit(n[9]);
        for (int i = 0; hashed && i < 8; i++)
            hashed = g_ascii_isxdigit(n[i]);
    }
    g_dir_close(d);
    return hashed;
}

/* The system trust store. With a hashed certificate directory (Debian's /etc/ssl/certs)
 * only that: issuers are read when a chain names them, instead of parsing the whole CA
 * bundle (some 150 certificates, a noticeable share of a short run) up front. Otherwise
 * the default CA bundle, loaded once, plus the directory. (X509_STORE_set_default_paths
 * in OpenSSL 3 also adds a store lookup that re-reads the whole certificate directory on
 * every issuer lookup.) */
static int load_default_trust(X509_STORE *st)
{
    const char *dir = X509_get_default_cert_dir();
    if (dir_is_hashed(dir) && X509_STORE_load_path(st, dir))
        return 1;
    int file_ok = X509_STORE_load_file(st, X509_get_default_cert_file());
    int dir_ok = X509_STORE_load_path(st, dir);
    ERR_clear_error();
    return file_ok || dir_ok;
}

/* The sandbox's trust lookup: the hashed directory read through a descriptor opened
 * before the filter (openat on it is all the sandbox allows), one issuer at a time as
 * OpenSSL's own hashed-directory lookup does. */
static int trust_dir_fd = -1;

static int fd_lookup(X509_LOOKUP *lu, X509_LOOKUP_TYPE type, const X509_NAME *name,
                     X509_OBJECT *ret)
{
    if (type != X509_LU_X509 || trust_dir_fd < 0)
        return 0;
    unsigned long h = X509_NAME_hash_ex(name, NULL, NULL, NULL);
    X509 *first = NULL;
    for (int i = 0; i < 100; i++) { /* HASH.0, HASH.1, ...: one per CA of that name hash */
        char fn[32];
        snprintf(fn, sizeof fn, "%08lx.%d", h, i);
        int fd = openat(trust_dir_fd, fn, O_RDONLY | O_CLOEXEC);
        FILE *fp = fd >= 0 ? fdopen(fd, "r") : NULL;
        if (!fp) {
            if (fd >= 0)
                close(fd);
            break;
        }
        X509 *x;
        while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
            if (X509_NAME_cmp(X509_get_subject_name(x), name) == 0) {
                X509_STORE_add_cert(X509_LOOKUP_get_store(lu), x);
                if (!first && X509_up_ref(x))
                    first = x;
            }
            X509_free(x);
        }
        fclose(fp);
    }
    ERR_clear_error();
    int ok = first && X509_OBJECT_set1_X509(ret, first);
    X509_free(first);
    return ok;
}

bool mw_tls_trust_preload(const char *ca_file, char **err)
{
    OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
    if (ca_file || trust_tried)
        return mw_tls_trust_init(ca_file, err);
    trust_tried = true;
    X509_STORE *st = X509_STORE_new();
    X509_LOOKUP_METHOD *m = X509_LOOKUP_meth_new("mailwire hashed directory");
    if (!st || !m || !X509_LOOKUP_meth_set_get_by_subject(m, fd_lookup) ||
        !X509_STORE_add_lookup(st, m)) {
        X509_STORE_free(st);
        X509_LOOKUP_meth_free(m);
        return true; /* no store: no judgement, as without the sandbox */
    }
    const char *dir = X509_get_default_cert_dir();
    if (dir_is_hashed(dir))
        trust_dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    else /* no hashed directory: the bundle, read now */
        X509_STORE_load_file(st, X509_get_default_cert_file());
    ERR_clear_error();
    trust_store = st; /* the method lives as long as the store: the whole run */
    return true;
}

int mw_tls_trust_dir_fd(void)
{
    return trust_dir_fd;
}

bool mw_tls_trust_init(const char *ca_file, char **err)
{
    if (trust_tried)
        return trust_store != NULL;
    trust_tried = true;
    if (ca_file && !g_file_test(ca_file, G_FILE_TEST_IS_REGULAR)) {
        if (err)
            *err = g_strdup_printf("--ca-file %s: no such file", ca_file);
        return false;
    }
    X509_STORE *st = X509_STORE_new();
    if (!st)
        return false;
    int ok = ca_file ? X509_STORE_load_file(st, ca_file) : load_default_trust(st);
    if (!ok) {
        if (err) {
            unsigned long e = ERR_peek_last_error();
            *err = g_strdup_printf("--ca-file %s: cannot load CA certificates (%s)",
                                   ca_file ? ca_file : "(default)",
                                   e ? ERR_reason_error_string(e) : "no certificate found");
        }
        ERR_clear_error();
        X509_STORE_free(st);
        return false;
    }
    trust_store = st;
    return true;
}

/* The name as one RFC 2253 line, a GRefString (mw_tls_cert shares it). */
static char *name_oneline(const X509_NAME *n)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return NULL;
    X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253);
    char *data = NULL;
    long len = BIO_get_mem_data(b, &data);
    char *s = mw_wire_strdup((const uint8_t *)data, len > 0 ? (size_t)len : 0, MW_MAX_TEXT);
    BIO_free(b);
    char *shared = s ? g_ref_string_new(s) : NULL;
    g_free(s);
    return shared;
}

/* RFC 3339 UTC, e.g. 2024-01-01T00:00:00Z. */
static void asn1_time_rfc3339(const ASN1_TIME *t, char *out, size_t cap)
{
    struct tm tm;
    out[0] = '\0';
    if (t && ASN1_TIME_to_tm(t, &tm))
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void collect_san(X509 *x, mw_tls_cert *rec)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (!names)
        return;
    int n = sk_GENERAL_NAME_num(names);
    for (int i = 0; i < n && rec->san->len < MW_TLS_MAX_SAN; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type == GEN_DNS) {
            const ASN1_STRING *s = g->d.dNSName;
            g_ptr_array_add(rec->san, mw_wire_strdup(ASN1_STRING_get0_data(s),
                                                     (size_t)ASN1_STRING_length(s), 256));
        } else if (g->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *s = g->d.iPAddress;
            char buf[INET6_ADDRSTRLEN] = "";
            int len = ASN1_STRING_length(s);
            if (len == 4 || len == 16)
                inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), buf,
                          sizeof buf);
            if (buf[0])
                g_ptr_array_add(rec->san, g_strdup(buf));
        }
    }
    GENERAL_NAMES_free(names);
}

static void describe_key(X509 *x, mw_tls_cert *rec)
{
    static const struct {
        int id;
        const char *name;
    } kinds[] = {
        { EVP_PKEY_RSA, "RSA" },         { EVP_PKEY_RSA_PSS, "RSA-PSS" },
        { EVP_PKEY_EC, "EC" },           { EVP_PKEY_DSA, "DSA" },
        { EVP_PKEY_ED25519, "Ed25519" }, { EVP_PKEY_ED448, "Ed448" },
    };
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (pk) {
        const char *kind = "unknown";
        int id = EVP_PKEY_get_base_id(pk);
        for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++)
            if (kinds[i].id == id)
                kind = kinds[i].name;
        g_snprintf(rec->key, sizeof rec->key, "%s %d", kind, EVP_PKEY_get_bits(pk));
    }
    int nid = X509_get_signature_nid(x);
    const char *sig = nid != NID_undef ? OBJ_nid2ln(nid) : NULL;
    g_strlcpy(rec->sig_alg, sig ? sig : "", sizeof rec->sig_alg);
}

static void describe_leaf(X509 *x, mw_tls_cert *rec)
{
    rec->present = true;
    rec->subject = name_oneline(X509_get_subject_name(x));
    rec->issuer = name_oneline(X509_get_issuer_name(x));
    rec->san = g_ptr_array_new_with_free_func(g_free);
    collect_san(x, rec);
    asn1_time_rfc3339(X509_get0_notBefore(x), rec->not_before, sizeof rec->not_before);
    asn1_time_rfc3339(X509_get0_notAfter(x), rec->not_after, sizeof rec->not_after);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (X509_digest(x, EVP_sha256(), md, &n) && n * 2 < sizeof rec->sha256)
        mw_hex(md, n, rec->sha256);
    describe_key(x, rec);
    /* RFC 5280 6.1: self-issued, and its own key verifies its signature */
    EVP_PKEY *pk = X509_get0_pubkey(x);
    rec->self_signed = X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(x)) == 0 &&
                       pk && X509_verify(x, pk) == 1;
}

/* Validity periods have their own flags: a chain is "untrusted" only for trust. */
static int ignore_time_errors(int ok, X509_STORE_CTX *c)
{
    if (!ok) {
        int e = X509_STORE_CTX_get_error(c);
        if (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID)
            return 1;
    }
    return ok;
}

/* The store made on first use (--no-sandbox without --ca-file): several analysis threads
 * (analyzer/parallel/) may get here at once; once made it is only read (OpenSSL locks the
 * store's own caches). */
static X509_STORE *trust_store_once(void)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* seen by TSan, as GMutex is not */
    pthread_mutex_lock(&lock);
    if (!trust_tried)
        mw_tls_trust_init(NULL, NULL);
    X509_STORE *st = trust_store;
    pthread_mutex_unlock(&lock);
    return st;
}

static void judge_trust(X509 *leaf, STACK_OF(X509) *rest, time_t when, mw_tls_cert_verdict *v)
{
    X509_STORE *trust = trust_store_once();
    if (!trust)
        return; /* no store: no judgement */
    X509_STORE_CTX *c = X509_STORE_CTX_new();
    if (!c || !X509_STORE_CTX_init(c, trust, leaf, rest)) {
        X509_STORE_CTX_free(c);
        return;
    }
    X509_STORE_CTX_set_verify_cb(c, ignore_time_errors);
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(c), when);
    if (X509_verify_cert(c) != 1) {
        v->untrusted = true;
        int e = X509_STORE_CTX_get_error(c);
        g_strlcpy(v->untrusted_why, X509_verify_cert_error_string(e), sizeof v->untrusted_why);
    }
    X509_STORE_CTX_free(c);
}

/* Gateways see the same few server certificates over and over: what depends only on the
 * chain (the decoded leaf, its description, its validity period, the trust verdict) is
 * kept per chain and day, so that each session pays a hash, a compare and three
 * references (the description's strings are shared, not copied) instead of DER decoding,
 * a signature check and a chain verification. Expiry and the name check
 * still use each session's own time and SNI (the answers for the last few SNIs are kept:
 * the clients of one server ask for one or two names). Bounded by entries and by chain bytes held;
 * over either, the cache starts over. */
#define MW_CERT_CACHE_MAX 4096
#define MW_CERT_CACHE_BYTES (16u << 20)
#define MW_CERT_SNI_KEPT 4

typedef struct {
    uint64_t hash;    /* XXH3 of the chain, seeded, with the day */
    int64_t day;
    size_t len;
    uint8_t *chain;   /* a copy: a hit is confirmed byte for byte */
    X509 *leaf;
    mw_tls_cert desc; /* describe_leaf(leaf), shared with each session's record */
    bool times_known; /* not_before/not_after below could be read */
    time_t not_before, not_after;
    bool untrusted;
    char why[sizeof(((mw_tls_cert_verdict *)0)->untrusted_why)];
    /* the last SNIs checked against leaf, and the answers; replaced round-robin */
    char *sni[MW_CERT_SNI_KEPT];
    bool sni_mismatch[MW_CERT_SNI_KEPT];
    unsigned sni_next;
} cert_entry;

struct mw_tls_cert_cache {
    GHashTable *entries; /* cert_entry, keyed by itself */
    size_t bytes;        /* chain bytes held */
    uint64_t seed;
};

static guint cert_entry_hash(gconstpointer p)
{
    return (guint)((const cert_entry *)p)->hash;
}

static gboolean cert_entry_equal(gconstpointer pa, gconstpointer pb)
{
    const cert_entry *a = pa, *b = pb;
    return a->hash == b->hash && a->day == b->day && a->len == b->len &&
           memcmp(a->chain, b->chain, a->len) == 0;
}

static void cert_entry_free(gpointer p)
{
    cert_entry *e = p;
    X509_free(e->leaf);
    g_free(e->chain);
    mw_tls_cert_clear(&e->desc);
    for (int i = 0; i < MW_CERT_SNI_KEPT; i++)
        g_free(e->sni[i]);
    g_free(e);
}

static bool asn1_time_posix(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return false;
    *out = timegm(&tm);
    return true;
}

mw_tls_cert_cache *mw_tls_cert_cache_new(void)
{
    mw_tls_cert_cache *c = g_new0(mw_tls_cert_cache, 1);
    c->entries = g_hash_table_new_full(cert_entry_hash, cert_entry_equal, NULL, cert_entry_free);
    c->seed = (uint64_t)g_random_int() << 32 | g_random_int();
    return c;
}

void mw_tls_cert_cache_free(mw_tls_cert_cache *c)
{
    if (!c)
        return;
    g_hash_table_destroy(c->entries);
    g_free(c);
}

static cert_entry *cert_cache_get(mw_tls_cert_cache *cache, mw_cursor certs, int64_t day)
{
    cert_entry probe = { .day = day, .len = certs.left, .chain = (uint8_t *)certs.p };
    probe.hash = XXH3_64bits_withSeed(certs.p, certs.left, cache->seed ^ (uint64_t)day);
    cert_entry *e = g_hash_table_lookup(cache->entries, &probe);
    if (e)
        return e;
    if (g_hash_table_size(cache->entries) >= MW_CERT_CACHE_MAX ||
        cache->bytes + certs.left > MW_CERT_CACHE_BYTES) {
        g_hash_table_remove_all(cache->entries); /* bounded: start over */
        cache->bytes = 0;
    }
    X509 *leaf = NULL;
    STACK_OF(X509) *rest = sk_X509_new_null();
    mw_cursor one;
    for (int i = 0; i < MW_TLS_MAX_CHAIN && mw_cur_sub_3(&certs, &one); i++) {
        const unsigned char *der = one.p;
        X509 *x = d2i_X509(NULL, &der, (long)one.left);
        if (!x) {
            if (i == 0)
                break; /* an undecodable leaf: nothing to judge */
            continue;
        }
        if (i == 0)
            leaf = x;
        else if (!rest || !sk_X509_push(rest, x))
            X509_free(x);
    }
    e = g_new0(cert_entry, 1);
    *e = probe;
    e->chain = g_memdup2(probe.chain, probe.len ? probe.len : 1);
    e->leaf = leaf;
    if (leaf) {
        describe_leaf(leaf, &e->desc);
        e->times_known = asn1_time_posix(X509_get0_notBefore(leaf), &e->not_before) &&
                         asn1_time_posix(X509_get0_notAfter(leaf), &e->not_after);
        mw_tls_cert_verdict v;
        memset(&v, 0, sizeof v);
        judge_trust(leaf, rest, (time_t)(day * 86400 + 43200), &v);
        e->untrusted = v.untrusted;
        memcpy(e->why, v.untrusted_why, sizeof e->why);
    }
    sk_X509_pop_free(rest, X509_free);
    cache->bytes += e->len;
    g_hash_table_insert(cache->entries, e, e);
    return e;
}

/* The cached description into a session's record: its strings shared, not copied (a
 * chain seen by thousands of sessions is described once; the references are atomic, the
 * record is freed on the writer's thread). */
static void copy_description(const mw_tls_cert *from, mw_tls_cert *to)
{
    *to = *from;
    to->subject = from->subject ? g_ref_string_acquire(from->subject) : NULL;
    to->issuer = from->issuer ? g_ref_string_acquire(from->issuer) : NULL;
    to->san = g_ptr_array_ref(from->san);
}

static bool name_mismatch(cert_entry *e, const char *sni)
{
    for (int i = 0; i < MW_CERT_SNI_KEPT; i++)
        if (e->sni[i] && strcmp(e->sni[i], sni) == 0)
            return e->sni_mismatch[i];
    unsigned i = e->sni_next++ % MW_CERT_SNI_KEPT;
    g_free(e->sni[i]);
    e->sni[i] = g_strdup(sni);
    e->sni_mismatch[i] = X509_check_host(e->leaf, sni, strlen(sni),
                                         X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT |
                                             X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                                         NULL) == 0;
    return e->sni_mismatch[i];
}

void mw_tls_cert_examine(mw_tls_cert_cache *cache, mw_cursor certs, const char *sni,
                         int64_t ts_us, mw_tls_cert *rec, mw_tls_cert_verdict *v)
{
    memset(v, 0, sizeof *v);
    mw_tls_cert_cache *own = cache ? NULL : mw_tls_cert_cache_new();
    time_t when = (time_t)(ts_us / 1000000);
    cert_entry *e = cert_cache_get(cache ? cache : own, certs, (int64_t)when / 86400);
    X509 *leaf = e ? e->leaf : NULL;
    if (leaf) {
        v->parsed = true;
        copy_description(&e->desc, rec);
        v->self_signed = rec->self_signed;
        /* as X509_cmp_time: expired once notAfter <= the session's time */
        v->expired = e->times_known && e->not_after <= when;
        v->not_yet_valid = e->times_known && e->not_before > when;
        if (sni && *sni)
            v->name_mismatch = name_mismatch(e, sni);
        v->untrusted = e->untrusted;
        memcpy(v->untrusted_why, e->why, sizeof e->why);
    }
    mw_tls_cert_cache_free(own);
    /* a parse that failed leaves its errors on the thread's queue; clearing an empty one
     * still walks OpenSSL's per-thread state, so only when something is there */
    if (ERR_peek_error())
        ERR_clear_error();
}
