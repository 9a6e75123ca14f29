#include "tls/tls_log.h"
#include "tls/tls.h"

#include <string.h>

#include "core/json.h"

mw_tls_rec *mw_tls_record(mw_session *s)
{
    if (!s->tls.rec) { /* made once, freed with the record: in its arena, which outlives it */
        mw_tls_rec *t = mw_arena_alloc0(mw_session_arena(s), sizeof *t);
        mw_part_attach(&s->tls, &mw_tls_dissector, t);
    }
    return s->tls.rec;
}

void mw_tls_client_version_add(mw_tls_rec *t, const char *name)
{
    if (!t->cv_heap && t->n_client_versions == MW_TLS_CLIENT_VERSIONS_INLINE) {
        t->cv_cap = 2 * MW_TLS_CLIENT_VERSIONS_INLINE;
        t->cv_heap = g_new(const char *, t->cv_cap);
        memcpy(t->cv_heap, t->cv_in, sizeof t->cv_in);
    } else if (t->cv_heap && t->n_client_versions == t->cv_cap) {
        t->cv_cap *= 2;
        t->cv_heap = g_renew(const char *, t->cv_heap, t->cv_cap);
    }
    (t->cv_heap ? t->cv_heap : t->cv_in)[t->n_client_versions++] = name;
}

const mw_tls_rec *mw_tls_of(const mw_session *s)
{
    return s->tls.rec;
}

void mw_tls_cert_clear(mw_tls_cert *c)
{
    if (c->subject)
        g_ref_string_release(c->subject);
    if (c->issuer)
        g_ref_string_release(c->issuer);
    if (c->san)
        g_ptr_array_unref(c->san);
    c->subject = c->issuer = NULL;
    c->san = NULL;
}

void mw_tls_free_record(void *p)
{
    mw_tls_rec *t = p;
    g_free(t->cv_heap);
    /* t, its sni and alpn are in the session's arena */
    mw_tls_cert_clear(&t->cert);
}

/* SPEC.md: decrypted, keys; and where decryption stopped, by direction (null: it did not) */
static void json_tls_keys(GString *out, const mw_tls_rec *t)
{
    static const char *const keys[] = { "none_given", "missing", "found" };
    mw_json_next_bool(out, "decrypted", t->decrypted);
    mw_json_next(out, "keys");
    mw_json_str(out, keys[t->keys <= MW_TLS_KEYS_FOUND ? t->keys : 0]);
    if (!t->decrypt_failed_frame[0] && !t->decrypt_failed_frame[1]) {
        mw_put_lit(out, ",\"decrypt_failed\":null");
        return;
    }
    mw_put_lit(out, ",\"decrypt_failed\":{");
    for (int d = 0; d < 2; d++) {
        mw_json_key(out, d ? "server_frame" : "client_frame");
        if (t->decrypt_failed_frame[d])
            mw_json_u64(out, t->decrypt_failed_frame[d]);
        else
            mw_put_lit(out, "null");
    }
    g_string_append_c(out, '}');
}

/* subject and issuer are GRefStrings made from C strings: their length is stored */
static void json_ref_str(GString *out, char *s)
{
    if (s)
        mw_json_strn(out, s, g_ref_string_length(s));
    else
        mw_put_lit(out, "null");
}

void mw_tls_write_json(GString *out, const mw_session *s, const void *rec)
{
    (void)s;
    const mw_tls_rec *t = rec;
    /* runs of keys and fixed values as one literal each (issue 18): the same bytes */
    mw_put_lit(out, ",\"tls\":{\"client_versions\":");
    mw_json_strv(out, mw_tls_client_versions(t), t->n_client_versions);
    mw_json_next(out, "version");
    mw_json_opt_str(out, t->version);
    mw_json_next(out, "cipher");
    mw_json_opt_buf(out, t->cipher);
    mw_json_next(out, "sni");
    mw_json_opt_str(out, t->sni);
    mw_json_next(out, "alpn");
    mw_json_opt_str(out, t->alpn);
    if (t->alert.present) {
        mw_put_lit(out, ",\"alert\":{\"level\":");
        mw_json_str(out, t->alert.level);
        mw_json_next(out, "description");
        mw_json_buf(out, t->alert.description);
        mw_json_next(out, "from");
        mw_json_str(out, t->alert.from == MW_FROM_CLIENT ? "client" : "server");
        g_string_append_c(out, '}');
    } else {
        mw_put_lit(out, ",\"alert\":null");
    }
    if (t->cert.present) {
        mw_put_lit(out, ",\"cert\":{\"subject\":");
        json_ref_str(out, t->cert.subject);
        mw_json_next(out, "issuer");
        json_ref_str(out, t->cert.issuer);
        mw_json_next(out, "san");
        mw_json_strlist(out, t->cert.san);
        mw_json_next(out, "not_before");
        mw_json_opt_buf(out, t->cert.not_before);
        mw_json_next(out, "not_after");
        mw_json_opt_buf(out, t->cert.not_after);
        mw_json_next(out, "sha256");
        mw_json_opt_buf(out, t->cert.sha256);
        mw_json_next_bool(out, "self_signed", t->cert.self_signed);
        mw_json_next(out, "key");
        mw_json_opt_str(out, t->cert.key);
        mw_json_next(out, "signature_algorithm");
        mw_json_opt_buf(out, t->cert.sig_alg);
        g_string_append_c(out, '}');
    } else {
        mw_put_lit(out, ",\"cert\":null");
    }
    mw_json_next(out, "ja3");
    mw_json_opt_buf(out, t->ja3);
    mw_json_next(out, "ja3s");
    mw_json_opt_buf(out, t->ja3s);
    mw_json_next(out, "ja4");
    mw_json_opt_buf(out, t->ja4);
    json_tls_keys(out, t);
    /* beyond SPEC.md: what the versions looked like on the wire, and the volume */
    mw_json_next(out, "hello_version");
    mw_json_opt_str(out, t->hello_version);
    mw_json_next(out, "record_version");
    mw_json_opt_str(out, t->record_version);
    mw_json_next_bool(out, "sslv2_hello", t->sslv2_hello);
    mw_json_next_bool(out, "hello_retry", t->hello_retry);
    mw_json_next_bool(out, "handshake_done", t->handshake_done);
    mw_put_lit(out, ",\"app_data\":{\"client\":{\"records\":");
    mw_json_u64(out, t->app_records[0]);
    mw_put_lit(out, ",\"bytes\":");
    mw_json_u64(out, t->app_bytes[0]);
    mw_put_lit(out, "},\"server\":{\"records\":");
    mw_json_u64(out, t->app_records[1]);
    mw_put_lit(out, ",\"bytes\":");
    mw_json_u64(out, t->app_bytes[1]);
    mw_put_lit(out, "}}}");
}

/* TLS in plain words: what each side offered and chose (the hello's legacy version and
 * the record version are shown apart from the negotiated one), the alert and who sent
 * it, and the certificate - or why it could not be seen. */
void mw_tls_write_text(GString *out, const mw_session *s, const void *rec)
{
    const mw_tls_rec *t = rec;
    g_string_append(out, "      tls: client offered ");
    for (unsigned i = 0; i < t->n_client_versions; i++)
        g_string_append_printf(out, "%s%s", i ? "," : "", mw_tls_client_versions(t)[i]);
    if (t->n_client_versions == 0)
        g_string_append(out, "(no ClientHello seen)");
    if (t->hello_version || t->record_version)
        g_string_append_printf(out, " (hello %s, record %s)",
                               t->hello_version ? t->hello_version : "?",
                               t->record_version ? t->record_version : "?");
    if (t->version)
        g_string_append_printf(out, "; negotiated %s %s", t->version, t->cipher);
    else
        g_string_append(out, "; nothing negotiated (no ServerHello)");
    if (t->sni) {
        g_string_append(out, "; sni ");
        mw_text_printable(out, t->sni);
    }
    if (t->alpn) {
        g_string_append(out, "; alpn ");
        mw_text_printable(out, t->alpn);
    }
    g_string_append_c(out, '\n');
    if (t->alert.present)
        g_string_append_printf(out, "      tls alert: %s %s from the %s\n", t->alert.level,
                               t->alert.description,
                               t->alert.from == MW_FROM_CLIENT ? "client" : "server");
    if (t->cert.present) {
        bool expired = mw_session_has(s, MW_FLAG_TLS_CERT_EXPIRED);
        g_string_append(out, "      certificate: ");
        mw_text_printable(out, t->cert.subject);
        g_string_append_printf(out, "  %s %.10s", expired ? "expired" : "expires",
                               t->cert.not_after);
        if (t->cert.self_signed) {
            g_string_append(out, "  (self-signed)");
        } else if (t->cert.issuer) {
            g_string_append(out, "  issuer ");
            mw_text_printable(out, t->cert.issuer);
        }
        g_string_append_c(out, '\n');
    } else if (t->version && strncmp(t->version, "TLS1.3", 6) == 0) { /* drafts too */
        g_string_append(out, "      certificate not observable (TLS 1.3 encrypts it)\n");
    }
}
