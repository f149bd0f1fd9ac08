/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-sigv4"

#include "config.h"

#include <string.h>

#include "sluice-hash.h"
#include "sluice-sigv4.h"
#include "sluice-target.h"

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Trims and collapses inner runs of spaces, as the canonical form wants header values. */
static char *
canonical_value (const char *value)
{
  GString *out = g_string_new (NULL);
  g_autofree char *trimmed = g_strstrip (g_strdup (value));

  for (const char *p = trimmed; *p != '\0'; p++)
    {
      if (*p == ' ' && out->len > 0 && out->str[out->len - 1] == ' ')
        continue;
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

char *
sluice_sigv4_canonical_request (const SluiceSigV4Request *request,
                                char                    **out_signed_headers)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) canonical_headers = g_string_new (NULL);
  g_autoptr(GString) signed_headers = g_string_new (NULL);

  for (guint i = 0; request->headers != NULL && request->headers[i] != NULL; i++)
    {
      const char *colon = strchr (request->headers[i], ':');
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (colon == NULL)
        continue;
      name = g_ascii_strdown (request->headers[i], colon - request->headers[i]);
      value = canonical_value (colon + 1);
      g_ptr_array_add (lines, g_strdup_printf ("%s:%s", name, value));
    }
  g_ptr_array_sort (lines, compare_names);
  for (guint i = 0; i < lines->len; i++)
    {
      const char *line = g_ptr_array_index (lines, i);
      g_string_append_printf (canonical_headers, "%s\n", line);
      g_string_append_len (signed_headers, line, strchr (line, ':') - line);
      if (i + 1 < lines->len)
        g_string_append_c (signed_headers, ';');
    }
  if (out_signed_headers != NULL)
    *out_signed_headers = g_strdup (signed_headers->str);

  return g_strdup_printf ("%s\n%s\n%s\n%s\n%s\n%s", request->method, request->canonical_uri,
                          request->canonical_query ? request->canonical_query : "",
                          canonical_headers->str, signed_headers->str, request->payload_hash);
}

static char *
scope (const SluiceSigV4Request *request)
{
  return g_strdup_printf ("%.8s/%s/%s/aws4_request", request->amz_date, request->region,
                          request->service);
}

char *
sluice_sigv4_string_to_sign (const SluiceSigV4Request *request,
                             const char               *canonical_request)
{
  g_autofree char *sc = scope (request);
  char hash[65];

  sluice_sha256_hex ((const guint8 *) canonical_request, strlen (canonical_request), hash);
  return g_strdup_printf ("AWS4-HMAC-SHA256\n%s\n%s\n%s", request->amz_date, sc, hash);
}

static void
hmac (const guint8 *key,
      gsize         key_len,
      const char   *data,
      guint8        out[32])
{
  g_autoptr(GHmac) h = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  gsize len = 32;

  g_hmac_update (h, (const guchar *) data, strlen (data));
  g_hmac_get_digest (h, out, &len);
}

char *
sluice_sigv4_signature (const SluiceSigV4Request *request,
                        const char               *string_to_sign)
{
  g_autofree char *secret = g_strconcat ("AWS4", request->secret_key, NULL);
  g_autofree char *date = g_strndup (request->amz_date, 8);
  guint8 k_date[32], k_region[32], k_service[32], k_signing[32], sig[32];
  GString *hex = g_string_sized_new (64);

  hmac ((const guint8 *) secret, strlen (secret), date, k_date);
  hmac (k_date, 32, request->region, k_region);
  hmac (k_region, 32, request->service, k_service);
  hmac (k_service, 32, "aws4_request", k_signing);
  hmac (k_signing, 32, string_to_sign, sig);
  explicit_bzero (k_signing, sizeof k_signing);
  explicit_bzero (secret, strlen (secret));

  for (int i = 0; i < 32; i++)
    g_string_append_printf (hex, "%02x", sig[i]);
  return g_string_free (hex, FALSE);
}

char *
sluice_sigv4_authorization (const SluiceSigV4Request *request)
{
  g_autofree char *signed_headers = NULL;
  g_autofree char *canonical = sluice_sigv4_canonical_request (request, &signed_headers);
  g_autofree char *sts = sluice_sigv4_string_to_sign (request, canonical);
  g_autofree char *signature = sluice_sigv4_signature (request, sts);
  g_autofree char *sc = scope (request);

  return g_strdup_printf ("AWS4-HMAC-SHA256 Credential=%s/%s,SignedHeaders=%s,Signature=%s",
                          request->access_key, sc, signed_headers, signature);
}

/**
 * sluice_sigv4_presign:
 *
 * A URL that lets whoever has it GET (or @method) the object until it expires, signed with
 * query parameters (X-Amz-*), payload UNSIGNED-PAYLOAD, host the only signed header.
 */
char *
sluice_sigv4_presign (const char *method,
                      const char *scheme_host,
                      const char *host,
                      const char *canonical_uri,
                      const char *region,
                      const char *access_key,
                      const char *secret_key,
                      const char *session_token,
                      GDateTime  *when,
                      guint       expires_seconds)
{
  g_autoptr(GDateTime) utc = g_date_time_to_utc (when);
  g_autofree char *amz_date = g_date_time_format (utc, "%Y%m%dT%H%M%SZ");
  g_autofree char *credential = NULL;
  g_autofree char *enc_credential = NULL;
  g_autofree char *host_header = g_strdup_printf ("host:%s", host);
  g_autoptr(GString) query = g_string_new (NULL);
  g_autofree char *canonical = NULL;
  g_autofree char *sts = NULL;
  g_autofree char *signature = NULL;
  char *headers[] = { host_header, NULL };
  SluiceSigV4Request request = {
    .method = method,
    .canonical_uri = canonical_uri,
    .headers = headers,
    .payload_hash = "UNSIGNED-PAYLOAD",
    .region = region,
    .service = "s3",
    .amz_date = amz_date,
    .access_key = access_key,
    .secret_key = secret_key,
  };

  credential = g_strdup_printf ("%s/%.8s/%s/s3/aws4_request", access_key, amz_date, region);
  enc_credential = sluice_uri_encode (credential, FALSE);

  /* parameters in byte order of their names, as the canonical query wants */
  g_string_append_printf (query, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s"
                                 "&X-Amz-Date=%s&X-Amz-Expires=%u",
                          enc_credential, amz_date, MIN (expires_seconds, 604800u));
  if (session_token != NULL)
    {
      g_autofree char *enc = sluice_uri_encode (session_token, FALSE);
      g_string_append_printf (query, "&X-Amz-Security-Token=%s", enc);
    }
  g_string_append (query, "&X-Amz-SignedHeaders=host");

  request.canonical_query = query->str;
  canonical = sluice_sigv4_canonical_request (&request, NULL);
  sts = sluice_sigv4_string_to_sign (&request, canonical);
  signature = sluice_sigv4_signature (&request, sts);
  return g_strdup_printf ("%s%s?%s&X-Amz-Signature=%s", scheme_host, canonical_uri, query->str,
                          signature);
}
