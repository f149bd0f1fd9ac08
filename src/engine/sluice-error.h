/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SLUICE_ERROR (sluice_error_quark ())

/**
 * SluiceError:
 *
 * Every failure the engine reports, by cause. The UI and the CLI explain each one in plain
 * words (sluice_error_describe()); the retry logic asks sluice_error_is_retryable().
 * Keep the order stable: the catalog stores the numeric code next to the message.
 */
typedef enum {
  SLUICE_ERROR_FAILED,             /* anything else; not retryable */
  SLUICE_ERROR_INVALID_ARGUMENT,   /* bad URL, option, template: a usage error */
  SLUICE_ERROR_CANCELLED,          /* the run was cancelled or interrupted */
  SLUICE_ERROR_NO_CREDENTIALS,     /* no access key / secret found anywhere */
  SLUICE_ERROR_DNS,                /* host name could not be resolved */
  SLUICE_ERROR_CONNECT,            /* connection refused / host unreachable */
  SLUICE_ERROR_TLS,                /* certificate or handshake problem */
  SLUICE_ERROR_TIMEOUT,            /* no progress on the connection */
  SLUICE_ERROR_NETWORK,            /* connection reset, send/recv failure mid-request */
  SLUICE_ERROR_SERVER,             /* HTTP 500/502/503/504 */
  SLUICE_ERROR_THROTTLED,          /* 429, 503 SlowDown */
  SLUICE_ERROR_AUTH_ACCESS_KEY,    /* InvalidAccessKeyId: wrong access key */
  SLUICE_ERROR_AUTH_SIGNATURE,     /* SignatureDoesNotMatch: wrong secret */
  SLUICE_ERROR_EXPIRED_TOKEN,      /* ExpiredToken: ask the credential provider again */
  SLUICE_ERROR_CLOCK_SKEW,         /* RequestTimeTooSkewed */
  SLUICE_ERROR_NO_SUCH_BUCKET,
  SLUICE_ERROR_ACCESS_DENIED,
  SLUICE_ERROR_BAD_DIGEST,         /* payload hash / Content-MD5 mismatch */
  SLUICE_ERROR_PRECONDITION,       /* 412: the object exists (If-None-Match) */
  SLUICE_ERROR_PROTOCOL,           /* server answered something we cannot use */
  SLUICE_ERROR_SOURCE_UNREADABLE,  /* open/read of a source file or folder failed */
  SLUICE_ERROR_SOURCE_CHANGED,     /* the file changed while it was read: read again */
  SLUICE_ERROR_KEY_COLLISION,      /* two different files map to one object key */
  SLUICE_ERROR_INVALID_KEY,        /* file name cannot become an S3 key */
  SLUICE_ERROR_PROBE_CRASHED,
  SLUICE_ERROR_PROBE_TIMEOUT,
  SLUICE_ERROR_PROBE_PROTOCOL,     /* the helper sent a malformed frame */
  SLUICE_ERROR_CATALOG,            /* SQLite failed */
  SLUICE_ERROR_NO_SPACE,           /* disk full (catalog or buffers) */
  SLUICE_ERROR_TOO_LARGE,          /* over a bound: body, frame, key, buffer */
  SLUICE_ERROR_NO_SUCH_UPLOAD,     /* the multipart upload is gone (completed, aborted, expired) */
  SLUICE_ERROR_NOT_FOUND,          /* no such key */
  SLUICE_ERROR_SERVER_FULL,        /* 507, XMinioStorageFull, QuotaExceeded: no room there */
  SLUICE_ERROR_BUCKET_TAKEN,       /* BucketAlreadyExists: another account has the name */
} SluiceError;

GQuark       sluice_error_quark         (void);
gboolean     sluice_error_is_retryable  (const GError *error);
const char  *sluice_error_describe      (SluiceError code);
const char  *sluice_error_code_name     (SluiceError code);

G_END_DECLS
