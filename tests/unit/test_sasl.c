/* SASL responses decoded on the stack when short, on the heap when long: the same users. */
#include <glib.h>
#include <string.h>

#include "text/sasl.h"

static mw_sasl_info plain(const char *authcid, size_t pass_len)
{
    GString *raw = g_string_new(NULL);
    g_string_append_c(raw, '\0'); /* no authzid */
    g_string_append(raw, authcid);
    g_string_append_c(raw, '\0');
    for (size_t i = 0; i < pass_len; i++)
        g_string_append_c(raw, 'p');
    char *b64 = g_base64_encode((const guchar *)raw->str, raw->len);
    mw_sasl_info info = mw_sasl_response("PLAIN", 0, MW_SASL_ASKS_UNKNOWN,
                                         (const uint8_t *)b64, strlen(b64));
    g_free(b64);
    g_string_free(raw, TRUE);
    return info;
}

static void test_plain_short_and_long(void)
{
    mw_sasl_info a = plain("alice", 8); /* decoded on the stack */
    g_assert_cmpstr(a.user, ==, "alice");
    g_assert_true(a.carries_secret);
    g_free(a.user);
    char *u = g_strnfill(300, 'u');
    mw_sasl_info b = plain(u, 4000); /* past the stack buffer: on the heap, wiped, freed */
    g_assert_cmpstr(b.user, ==, u);
    g_assert_true(b.carries_secret);
    g_free(b.user);
    g_free(u);
}

static void test_login_challenge(void)
{
    const char *pw = "UGFzc3dvcmQ6"; /* "Password:" */
    g_assert_cmpint(mw_sasl_challenge((const uint8_t *)pw, strlen(pw)), ==, MW_SASL_ASKS_SECRET);
    const char *us = "VXNlcm5hbWU6"; /* "Username:" */
    g_assert_cmpint(mw_sasl_challenge((const uint8_t *)us, strlen(us)), ==, MW_SASL_ASKS_USER);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sasl/plain_short_and_long", test_plain_short_and_long);
    g_test_add_func("/sasl/login_challenge", test_login_challenge);
    return g_test_run();
}
