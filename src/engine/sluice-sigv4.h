/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * AWS Signature Version 4, as the S3 documentation defines it. Requests are signed by libcurl
 * (CURLOPT_AWS_SIGV4); this is Sluice's own implementation for what curl does not do —
 * presigned URLs (query-string signing) — and the reference the tests hold curl's signatures
 * against, so a change of signing in another curl version is caught. Checked against AWS's
 * published examples (tests/sigv4).
 */

typedef struct {
  const char *method;          /* "GET" */
  const char *canonical_uri;   /* path, each segment already URI-encoded: "/test.txt" */
  const char *canonical_query; /* sorted, encoded "a=1&b=2", or "" */
  GStrv       headers;         /* "name:value" (names lower case), any order */
  const char *payload_hash;    /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
  const char *region;
  const char *service;         /* "s3" */
  const char *amz_date;        /* "20130524T000000Z" */
  const char *access_key;
  const char *secret_key;
} SluiceSigV4Request;

char *sluice_sigv4_canonical_request (const SluiceSigV4Request *request,
                                      char                    **out_signed_headers);
char *sluice_sigv4_string_to_sign    (const SluiceSigV4Request *request,
                                      const char               *canonical_request);
char *sluice_sigv4_signature         (const SluiceSigV4Request *request,
                                      const char               *string_to_sign);
char *sluice_sigv4_authorization     (const SluiceSigV4Request *request);

char *sluice_sigv4_presign           (const char  *method,
                                      const char  *scheme_host,    /* "https://b.s3.amazonaws.com" */
                                      const char  *host,           /* as sent in Host: */
                                      const char  *canonical_uri,
                                      const char  *region,
                                      const char  *access_key,
                                      const char  *secret_key,
                                      const char  *session_token,  /* or NULL */
                                      GDateTime   *when,
                                      guint        expires_seconds);

G_END_DECLS
