/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sluice-credentials.h"
#include "sluice-limiter.h"
#include "sluice-target.h"

G_BEGIN_DECLS

/*
 * The S3 client: the only file that includes <curl/curl.h>. One SluiceS3Client per worker
 * thread; it keeps one CURL easy handle whose connections are reused between requests.
 * Requests are signed with AWS Signature V4 as libcurl implements it (CURLOPT_AWS_SIGV4),
 * with the payload's real SHA-256 in x-amz-content-sha256, which AWS and Ceph verify.
 *
 * Every failure is a SLUICE_ERROR whose message names the request, the server's code and
 * message and its request id, never a credential.
 */

typedef struct _SluiceS3Client SluiceS3Client;

typedef struct {
  gboolean  exists;
  guint64   size;
  char     *etag;          /* without quotes */
  char     *sha256;        /* x-amz-meta-sha256, or NULL */
} SluiceS3ObjectInfo;

typedef struct {
  const char   *key;
  const char   *content_type;
  const guint8 *body;
  gsize         len;
  const char   *sha256_hex;     /* of body */
  GStrv         meta;           /* "name=value" pairs for x-amz-meta-*, sanitised here */
  gboolean      if_none_match;  /* never replace an existing object (412 → PRECONDITION) */
} SluiceS3PutRequest;

typedef struct {
  guint    number;
  char    *etag;                /* without quotes */
  guint64  size;
} SluiceS3Part;

#define SLUICE_S3_MAX_PARTS      10000
#define SLUICE_S3_MIN_PART_SIZE  (5 * 1024 * 1024)

typedef gboolean (*SluiceS3PartFunc)   (guint       number,
                                        guint64     size,
                                        const char *etag,
                                        gpointer    user_data);
typedef gboolean (*SluiceS3UploadFunc) (const char *key,
                                        const char *upload_id,
                                        const char *initiated,
                                        gpointer    user_data);

/* One entry of a listing; returns FALSE to stop. */
typedef gboolean (*SluiceS3ListFunc) (const char *key,
                                      guint64     size,
                                      const char *etag,
                                      const char *last_modified,
                                      gpointer    user_data);

SluiceS3Client *sluice_s3_client_new            (const SluiceTarget         *target,
                                                 SluiceCredentialsProvider  *credentials);
void            sluice_s3_client_free           (SluiceS3Client             *self);
void            sluice_s3_client_set_cancellable (SluiceS3Client            *self,
                                                 GCancellable               *cancellable);
void            sluice_s3_client_set_rate_limit (SluiceS3Client             *self,
                                                 SluiceRateLimit            *rate);

gboolean        sluice_s3_client_check_bucket   (SluiceS3Client             *self,
                                                 GError                    **error);
gboolean        sluice_s3_client_create_bucket  (SluiceS3Client             *self,
                                                 GError                    **error);
gboolean        sluice_s3_client_put_object     (SluiceS3Client             *self,
                                                 const SluiceS3PutRequest   *request,
                                                 char                      **out_etag,
                                                 GError                    **error);
gboolean        sluice_s3_client_head_object    (SluiceS3Client             *self,
                                                 const char                 *key,
                                                 SluiceS3ObjectInfo         *out_info,
                                                 GError                    **error);
gboolean        sluice_s3_client_get_object     (SluiceS3Client             *self,
                                                 const char                 *key,
                                                 gsize                       max_bytes,
                                                 GBytes                    **out_body,
                                                 GError                    **error);
gboolean        sluice_s3_client_delete_object  (SluiceS3Client             *self,
                                                 const char                 *key,
                                                 GError                    **error);
gboolean        sluice_s3_client_list_objects   (SluiceS3Client             *self,
                                                 const char                 *prefix,
                                                 SluiceS3ListFunc            func,
                                                 gpointer                    user_data,
                                                 GError                    **error);

gboolean        sluice_s3_client_create_multipart   (SluiceS3Client           *self,
                                                     const SluiceS3PutRequest *request,
                                                     char                    **out_upload_id,
                                                     GError                  **error);
gboolean        sluice_s3_client_upload_part        (SluiceS3Client           *self,
                                                     const char               *key,
                                                     const char               *upload_id,
                                                     guint                     part_number,
                                                     const guint8             *data,
                                                     gsize                     len,
                                                     const char               *sha256_hex,
                                                     char                    **out_etag,
                                                     GError                  **error);
gboolean        sluice_s3_client_complete_multipart (SluiceS3Client           *self,
                                                     const char               *key,
                                                     const char               *upload_id,
                                                     const SluiceS3Part       *parts,
                                                     guint                     n_parts,
                                                     gboolean                  if_none_match,
                                                     char                    **out_etag,
                                                     GError                  **error);
gboolean        sluice_s3_client_abort_multipart    (SluiceS3Client           *self,
                                                     const char               *key,
                                                     const char               *upload_id,
                                                     GError                  **error);
gboolean        sluice_s3_client_list_parts         (SluiceS3Client           *self,
                                                     const char               *key,
                                                     const char               *upload_id,
                                                     SluiceS3PartFunc          func,
                                                     gpointer                  user_data,
                                                     GError                  **error);
gboolean        sluice_s3_client_list_uploads       (SluiceS3Client           *self,
                                                     const char               *prefix,
                                                     SluiceS3UploadFunc        func,
                                                     gpointer                  user_data,
                                                     GError                  **error);
gboolean        sluice_s3_client_copy_object        (SluiceS3Client           *self,
                                                     const char               *src_key,
                                                     const char               *dst_key,
                                                     gboolean                  if_none_match,
                                                     char                    **out_etag,
                                                     GError                  **error);
gboolean        sluice_s3_client_put_raw            (SluiceS3Client           *self,
                                                     const char               *key,
                                                     const guint8             *body,
                                                     gsize                     len,
                                                     const char               *payload_sha256,
                                                     const char               *content_md5,
                                                     gboolean                  if_none_match,
                                                     long                     *out_status,
                                                     GError                  **out_server_error,
                                                     GError                  **error);
void            sluice_s3_client_set_fixed_date     (SluiceS3Client           *self,
                                                     const char               *amz_date);
/* Exposed for tests: acknowledge_now () calls so far (TCP_QUICKACK). */
guint           _sluice_s3_client_get_acks          (SluiceS3Client           *self);
/* Exposed for tests: certificate stores read so far by this process (one per CA file). */
guint           _sluice_s3_client_cert_stores_read  (void);
/* Exposed for tests: TLS contexts so far whose record buffers stay with their connection. */
guint           _sluice_s3_client_tls_buffers_kept  (void);
char           *sluice_s3_presign                   (const SluiceTarget       *target,
                                                     const SluiceCredentials  *credentials,
                                                     const char               *key,
                                                     GDateTime                *when,
                                                     guint                     expires_seconds);
char           *sluice_s3_multipart_etag            (const SluiceS3Part       *parts,
                                                     guint                     n_parts);

void            sluice_s3_object_info_clear     (SluiceS3ObjectInfo         *info);

/* Exposed for tests: turns an S3 XML error body and HTTP status into a SLUICE_ERROR. */
void            sluice_s3_error_from_response   (GError                    **error,
                                                 const char                 *operation,
                                                 long                        http_status,
                                                 const char                 *body,
                                                 gsize                       body_len,
                                                 const char                 *request_id_header);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SluiceS3Client, sluice_s3_client_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SluiceS3ObjectInfo, sluice_s3_object_info_clear)

G_END_DECLS
