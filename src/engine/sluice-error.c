/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-error"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "sluice-error.h"

G_DEFINE_QUARK (sluice-error-quark, sluice_error)

/**
 * sluice_error_is_retryable:
 *
 * Whether trying the same request again, after a pause, can succeed. Errors that name a
 * wrong configuration (key, secret, bucket, permission) or bad input are not retryable:
 * they fail the file at once with the server's reason.
 * Called from any thread.
 */
gboolean
sluice_error_is_retryable (const GError *error)
{
  if (error == NULL || error->domain != SLUICE_ERROR)
    return FALSE;

  switch ((SluiceError) error->code)
    {
    case SLUICE_ERROR_CONNECT:
    case SLUICE_ERROR_TIMEOUT:
    case SLUICE_ERROR_NETWORK:
    case SLUICE_ERROR_SERVER:
    case SLUICE_ERROR_THROTTLED:
    case SLUICE_ERROR_EXPIRED_TOKEN:
    case SLUICE_ERROR_SOURCE_CHANGED:
      return TRUE;

    case SLUICE_ERROR_FAILED:
    case SLUICE_ERROR_INVALID_ARGUMENT:
    case SLUICE_ERROR_CANCELLED:
    case SLUICE_ERROR_NO_CREDENTIALS:
    case SLUICE_ERROR_DNS:
    case SLUICE_ERROR_TLS:
    case SLUICE_ERROR_AUTH_ACCESS_KEY:
    case SLUICE_ERROR_AUTH_SIGNATURE:
    case SLUICE_ERROR_CLOCK_SKEW:
    case SLUICE_ERROR_NO_SUCH_BUCKET:
    case SLUICE_ERROR_ACCESS_DENIED:
    case SLUICE_ERROR_BAD_DIGEST:
    case SLUICE_ERROR_PRECONDITION:
    case SLUICE_ERROR_PROTOCOL:
    case SLUICE_ERROR_SOURCE_UNREADABLE:
    case SLUICE_ERROR_KEY_COLLISION:
    case SLUICE_ERROR_INVALID_KEY:
    case SLUICE_ERROR_PROBE_CRASHED:
    case SLUICE_ERROR_PROBE_TIMEOUT:
    case SLUICE_ERROR_PROBE_PROTOCOL:
    case SLUICE_ERROR_CATALOG:
    case SLUICE_ERROR_NO_SPACE:
    case SLUICE_ERROR_TOO_LARGE:
    case SLUICE_ERROR_NO_SUCH_UPLOAD:
    case SLUICE_ERROR_NOT_FOUND:
    case SLUICE_ERROR_SERVER_FULL:
    case SLUICE_ERROR_BUCKET_TAKEN:
    default:
      return FALSE;
    }
}

/**
 * sluice_error_describe:
 *
 * A plain-words explanation of a cause, for people: what happened and what to check.
 * The GError message carries the specifics (host, key, server code and request id).
 */
const char *
sluice_error_describe (SluiceError code)
{
  switch (code)
    {
    case SLUICE_ERROR_INVALID_ARGUMENT:
      return _("The settings are not valid.");
    case SLUICE_ERROR_CANCELLED:
      return _("The run was interrupted; run it again to continue where it stopped.");
    case SLUICE_ERROR_NO_CREDENTIALS:
      return _("No access key was found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
               "choose a profile from ~/.aws/credentials.");
    case SLUICE_ERROR_DNS:
      return _("The server's host name could not be found. Check the endpoint address.");
    case SLUICE_ERROR_CONNECT:
      return _("The server refused the connection or cannot be reached. Check the endpoint "
               "address and port, and that the server is running.");
    case SLUICE_ERROR_TLS:
      return _("The secure connection failed: the server's certificate is not trusted or the "
               "TLS handshake failed.");
    case SLUICE_ERROR_TIMEOUT:
      return _("The server stopped answering.");
    case SLUICE_ERROR_NETWORK:
      return _("The connection to the server broke off.");
    case SLUICE_ERROR_SERVER:
      return _("The server reported an internal error.");
    case SLUICE_ERROR_THROTTLED:
      return _("The server asked to slow down.");
    case SLUICE_ERROR_AUTH_ACCESS_KEY:
      return _("The server does not know this access key. Check the access key ID.");
    case SLUICE_ERROR_AUTH_SIGNATURE:
      return _("The server rejected the request signature: the secret key is wrong.");
    case SLUICE_ERROR_EXPIRED_TOKEN:
      return _("The temporary credentials have expired.");
    case SLUICE_ERROR_CLOCK_SKEW:
      return _("This computer's clock differs too much from the server's. Correct the time.");
    case SLUICE_ERROR_NO_SUCH_BUCKET:
      return _("The bucket does not exist. Check its name, or create it first.");
    case SLUICE_ERROR_ACCESS_DENIED:
      return _("The server denied access: these credentials may not do this in this bucket.");
    case SLUICE_ERROR_BAD_DIGEST:
      return _("The server received different bytes than were sent (checksum mismatch).");
    case SLUICE_ERROR_PRECONDITION:
      return _("The object already exists.");
    case SLUICE_ERROR_PROTOCOL:
      return _("The server sent an answer that could not be understood.");
    case SLUICE_ERROR_SOURCE_UNREADABLE:
      return _("The source file or folder could not be read.");
    case SLUICE_ERROR_SOURCE_CHANGED:
      return _("The file changed while it was being read.");
    case SLUICE_ERROR_KEY_COLLISION:
      return _("Another file already maps to the same object key.");
    case SLUICE_ERROR_INVALID_KEY:
      return _("The file name cannot be used as an object key.");
    case SLUICE_ERROR_PROBE_CRASHED:
      return _("The metadata reader crashed on this file.");
    case SLUICE_ERROR_PROBE_TIMEOUT:
      return _("The metadata reader made no progress on this file.");
    case SLUICE_ERROR_PROBE_PROTOCOL:
      return _("The metadata reader sent a malformed answer.");
    case SLUICE_ERROR_CATALOG:
      return _("The catalog database could not be written.");
    case SLUICE_ERROR_NO_SPACE:
      return _("The disk is full.");
    case SLUICE_ERROR_TOO_LARGE:
      return _("A size limit was exceeded.");
    case SLUICE_ERROR_NO_SUCH_UPLOAD:
      return _("The unfinished upload no longer exists on the server; it starts over.");
    case SLUICE_ERROR_NOT_FOUND:
      return _("The object does not exist.");
    case SLUICE_ERROR_SERVER_FULL:
      return _("The server has no room for more data: its storage is full or a quota is used "
               "up. Free space or raise the quota there, then run again to continue.");
    case SLUICE_ERROR_BUCKET_TAKEN:
      return _("Another account already has a bucket of this name: bucket names are shared "
               "by all users of the service. Choose another name.");
    case SLUICE_ERROR_FAILED:
    default:
      return _("The operation failed.");
    }
}

/**
 * sluice_error_code_name:
 *
 * A stable, untranslated identifier for a cause ("no-such-bucket"), for JSON output and
 * the catalog.
 */
const char *
sluice_error_code_name (SluiceError code)
{
  static const char *const names[] = {
    [SLUICE_ERROR_FAILED] = "failed",
    [SLUICE_ERROR_INVALID_ARGUMENT] = "invalid-argument",
    [SLUICE_ERROR_CANCELLED] = "cancelled",
    [SLUICE_ERROR_NO_CREDENTIALS] = "no-credentials",
    [SLUICE_ERROR_DNS] = "dns",
    [SLUICE_ERROR_CONNECT] = "connect",
    [SLUICE_ERROR_TLS] = "tls",
    [SLUICE_ERROR_TIMEOUT] = "timeout",
    [SLUICE_ERROR_NETWORK] = "network",
    [SLUICE_ERROR_SERVER] = "server",
    [SLUICE_ERROR_THROTTLED] = "throttled",
    [SLUICE_ERROR_AUTH_ACCESS_KEY] = "invalid-access-key",
    [SLUICE_ERROR_AUTH_SIGNATURE] = "signature-mismatch",
    [SLUICE_ERROR_EXPIRED_TOKEN] = "expired-token",
    [SLUICE_ERROR_CLOCK_SKEW] = "clock-skew",
    [SLUICE_ERROR_NO_SUCH_BUCKET] = "no-such-bucket",
    [SLUICE_ERROR_ACCESS_DENIED] = "access-denied",
    [SLUICE_ERROR_BAD_DIGEST] = "bad-digest",
    [SLUICE_ERROR_PRECONDITION] = "precondition-failed",
    [SLUICE_ERROR_PROTOCOL] = "protocol",
    [SLUICE_ERROR_SOURCE_UNREADABLE] = "source-unreadable",
    [SLUICE_ERROR_SOURCE_CHANGED] = "source-changed",
    [SLUICE_ERROR_KEY_COLLISION] = "key-collision",
    [SLUICE_ERROR_INVALID_KEY] = "invalid-key",
    [SLUICE_ERROR_PROBE_CRASHED] = "probe-crashed",
    [SLUICE_ERROR_PROBE_TIMEOUT] = "probe-timeout",
    [SLUICE_ERROR_PROBE_PROTOCOL] = "probe-protocol",
    [SLUICE_ERROR_CATALOG] = "catalog",
    [SLUICE_ERROR_NO_SPACE] = "no-space",
    [SLUICE_ERROR_TOO_LARGE] = "too-large",
    [SLUICE_ERROR_NO_SUCH_UPLOAD] = "no-such-upload",
    [SLUICE_ERROR_NOT_FOUND] = "not-found",
    [SLUICE_ERROR_SERVER_FULL] = "server-full",
    [SLUICE_ERROR_BUCKET_TAKEN] = "bucket-taken",
  };

  if ((guint) code >= G_N_ELEMENTS (names) || names[code] == NULL)
    return "failed";
  return names[code];
}
