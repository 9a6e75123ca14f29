/* The flag vocabulary of SPEC.md, defined once.
 *
 * Kept in alphabetical order so that walking the bit set yields the sorted list the
 * record requires. Each entry: enum suffix, stable name, plain-language cause and fix. */
#ifndef MW_FLAGS_H
#define MW_FLAGS_H

#include <stdint.h>

#define MW_FLAG_LIST(X)                                                                         \
    X(AUTH_FAILED, "auth_failed",                                                               \
      "The server refused the login: wrong or stale password (often after a password change "  \
      "or a device restored from backup), or the wrong username form (the full address is "    \
      "usually needed).")                                                                       \
    X(AUTH_REQUIRED, "auth_required",                                                           \
      "The server requires authentication before it accepts mail: switch on \"outgoing server " \
      "authentication\" in the client with the account's username and password.")              \
    X(CAPTURE_GAP, "capture_gap",                                                               \
      "Bytes are missing from the capture (lost packets, a snaplen cut, or the capture started " \
      "mid-session): findings near the gap may be incomplete. Capture with -s 0 closer to the " \
      "host; where the evidence says the kernel dropped packets, mailwire fell behind: raise "  \
      "--buffer-size.")                                                                         \
    X(CLEARTEXT_AUTH, "cleartext_auth",                                                         \
      "Credentials crossed the network without encryption: anyone on the path can read the "    \
      "password. Use STARTTLS (587/143/110) or implicit TLS (465/993/995), and have the "      \
      "server refuse logins before TLS.")                                                       \
    X(CONNECTION_REFUSED, "connection_refused",                                                 \
      "The server host answered the connection with a reset: nothing listens on that port. "   \
      "Check the server name and port in the client, and that the service is running.")        \
    X(CONNECTION_TIMEOUT, "connection_timeout",                                                 \
      "The connection attempts were never answered: a firewall drops them, the address is "     \
      "wrong, or the host is down. Check the server name, port and firewall rules.")            \
    X(MESSAGE_REJECTED, "message_rejected",                                                     \
      "The server refused the message itself (content, spam score, size or policy): read the " \
      "server's reply for the reason.")                                                         \
    X(NO_GREETING, "no_greeting",                                                               \
      "The connection opened but the server never sent its greeting: the service is hung or " \
      "overloaded, a firewall or proxy intercepts the port, or the client expects TLS where "   \
      "the server waits for plain text.")                                                       \
    X(RECIPIENT_REJECTED, "recipient_rejected",                                                 \
      "The server refused a recipient (unknown user, mailbox full or disabled, policy): check " \
      "the address for typos and the server's reply for the reason.")                          \
    X(RELAY_DENIED, "relay_denied",                                                             \
      "The client sent through a server that does not accept it for relaying: the outgoing "   \
      "(SMTP) server on the device has authentication switched off or points at the wrong "    \
      "server/port. Enable \"outgoing server authentication\" with the account's username and " \
      "password, or use the submission port 587 with STARTTLS (465 for implicit TLS).")         \
    X(SENDER_REJECTED, "sender_rejected",                                                       \
      "The server refused the sender address (MAIL FROM): the address is not allowed for this " \
      "login or domain, or the sender's domain fails a policy check.")                          \
    X(SERVER_TIMEOUT, "server_timeout",                                                         \
      "The server closed the session because the client was idle too long: a slow or stalled " \
      "client or network, or a server timeout set too short.")                                  \
    X(STARTTLS_REFUSED, "starttls_refused",                                                     \
      "The server answered STARTTLS/STLS with an error: TLS is not configured or broken on "   \
      "the server (certificate or key missing). Fix the server's TLS settings.")                \
    X(TLS_CERT_EXPIRED, "tls_cert_expired",                                                     \
      "The server's certificate had expired at the time of the session: renew the server "    \
      "certificate.")                                                                           \
    X(TLS_CERT_NAME_MISMATCH, "tls_cert_name_mismatch",                                         \
      "The certificate does not name the server the client asked for: use the host name the "  \
      "certificate is issued for, or add that name to the certificate.")                        \
    X(TLS_CERT_NOT_YET_VALID, "tls_cert_not_yet_valid",                                         \
      "The certificate was not yet valid at the time of the session: a wrong clock on the "    \
      "server or client, or a certificate installed too early.")                                \
    X(TLS_CERT_SELF_SIGNED, "tls_cert_self_signed",                                             \
      "The server presents a self-signed certificate: clients warn or refuse. Install a "      \
      "certificate from a trusted CA.")                                                         \
    X(TLS_CERT_UNTRUSTED, "tls_cert_untrusted",                                                 \
      "The certificate chain does not verify against the trusted CAs: an intermediate "        \
      "certificate is missing on the server, or the CA is not trusted by clients.")             \
    X(TLS_DEPRECATED_VERSION, "tls_deprecated_version",                                         \
      "One side supports only TLS 1.0/1.1 (or SSL); modern clients (Outlook for iOS/Android, " \
      "recent iOS Mail) refuse them: enable TLS 1.2+ on the server.")                           \
    X(TLS_HANDSHAKE_FAILED, "tls_handshake_failed",                                             \
      "The TLS handshake did not complete: read the alert and who sent it for the reason.")    \
    X(TLS_MODE_MISMATCH, "tls_mode_mismatch",                                                   \
      "The client's SSL setting does not match the port: use STARTTLS on 25/587/143/110, "     \
      "implicit SSL/TLS on 465/993/995.")                                                       \
    X(TLS_REQUIRED, "tls_required",                                                             \
      "The server demands encryption before login or mail: switch the client to STARTTLS (or " \
      "SSL/TLS on 465/993/995).")                                                               \
    X(TLS_VERSION_MISMATCH, "tls_version_mismatch",                                             \
      "Client and server share no TLS version: one side supports only TLS 1.0/1.1; modern "    \
      "clients (Outlook for iOS/Android, recent iOS Mail) refuse them: enable TLS 1.2+ on the " \
      "server.")                                                                                \
    X(UNANSWERED_COMMAND, "unanswered_command",                                                 \
      "The server never answered a command before the session ended: the server stalled or "  \
      "the connection broke; see which command and how long it waited.")

typedef enum {
#define MW_FLAG_ENUM(e, name, diag) MW_FLAG_##e,
    MW_FLAG_LIST(MW_FLAG_ENUM)
#undef MW_FLAG_ENUM
    MW_FLAG_COUNT
} mw_flag;

typedef uint32_t mw_flagset;
_Static_assert(MW_FLAG_COUNT <= 32, "flag set must fit in mw_flagset");

const char *mw_flag_name(mw_flag f);
const char *mw_flag_diagnosis(mw_flag f);

#endif
