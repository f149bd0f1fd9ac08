/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-s3-client"

#include "config.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sluice-buffer.h"
#include "sluice-error.h"
#include "sluice-limiter.h"
#include "sluice-s3-client.h"
#include "sluice-sanitize.h"
#include "sluice-sigv4.h"

/* SHA-256 of the empty string: the payload hash of GET, HEAD and DELETE. */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#define ERROR_BODY_MAX    (64 * 1024)
/* PUT bodies up to this size go to curl whole (perform ()); its own limit for "Expect:" */
#define SMALL_PUT_MAX     (1024 * 1024)
#define LIST_BODY_MAX     (8 * 1024 * 1024)
#define META_TOTAL_MAX    1800   /* S3 allows 2 KB of user metadata; keep a margin */
#define CONNECT_TIMEOUT_S 15
#define NO_PROGRESS_S     60

struct _SluiceS3Client {
  CURL                      *curl;
  char                      *fixed_date;   /* tests: sign as of this x-amz-date */
  SluiceRateLimit           *rate;         /* borrowed, may be NULL */
  struct curl_slist         *resolve;
  SluiceTarget              *target;       /* a copy, never changed */
  char                      *bucket_url;   /* sluice_target_bucket_url (target), made once */
  char                      *sigv4;        /* CURLOPT_AWS_SIGV4's provider:region:service */
  SluiceCredentialsProvider *credentials;  /* borrowed; outlives the client */
  GCancellable              *cancellable;
  gboolean                   tls_hook;     /* https, and curl on our OpenSSL: ssl_ctx_cb () */
  X509_STORE                *cert_store;   /* the process's, borrowed (shared_cert_store ()) */
  curl_socket_t              sock;         /* see sockopt_cb () */
  guint                      acks;         /* acknowledge_now () calls, for the tests */
  char                       errbuf[CURL_ERROR_SIZE];
};

typedef struct {
  const curl_socket_t *sock;  /* the client's connection, or CURL_SOCKET_BAD */
  guint    *acks;
  gboolean  no_body;          /* HEAD: a Content-Length, but no body follows */
  gboolean  interim;          /* the head being read is a 1xx */
  gboolean  chunked;
  GString  *body;
  gsize     max;
  gboolean  overflow;
  char     *etag;
  char     *request_id;
  char     *meta_sha256;
  guint64   content_length;
  gboolean  has_content_length;
} Response;

typedef struct {
  const guint8    *data;
  gsize            len;
  gsize            pos;
  SluiceRateLimit *rate;
} ReadContext;

static void
response_clear (Response *resp)
{
  if (resp->body != NULL)
    g_string_free (resp->body, TRUE);
  g_free (resp->etag);
  g_free (resp->request_id);
  g_free (resp->meta_sha256);
  memset (resp, 0, sizeof *resp);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Response, response_clear)

static gsize
write_cb (char   *ptr,
          size_t  size,
          size_t  nmemb,
          void   *user_data)
{
  Response *resp = user_data;
  gsize n = size * nmemb;

  if (resp->body->len + n > resp->max)
    {
      /* bounded: keep what fits, note that more came, and stop the transfer */
      resp->overflow = TRUE;
      return 0;
    }
  g_string_append_len (resp->body, ptr, n);
  return n;
}

static char *
header_value (const char *line,
              gsize       len,
              const char *name)
{
  gsize name_len = strlen (name);
  g_autofree char *value = NULL;

  if (len <= name_len + 1 || g_ascii_strncasecmp (line, name, name_len) != 0 ||
      line[name_len] != ':')
    return NULL;
  value = g_strndup (line + name_len + 1, len - name_len - 1);
  g_strstrip (value);
  return g_steal_pointer (&value);
}

/*
 * Acknowledges at once what the server has sent so far. A server that leaves Nagle's
 * algorithm on (Ceph RGW's beast does) writes an answer's head and its body as two small
 * segments and holds the second until the first is acknowledged; our kernel, seeing a
 * request-answer exchange, delays that ACK by 40 ms. An XML answer (an error, a listing,
 * CompleteMultipartUpload's) then took 44 ms instead of 4, and so did the capability probe's
 * checks, several of them in a row before the first upload (issue 5). Asked at the end of the
 * head, while its ACK is still pending, TCP_QUICKACK sends it now.
 *
 * Only for a head that something follows: a body, or the final answer after a "100
 * Continue". A PUT's answer is a head alone; its ACK rides on the next request, and forcing it
 * out cost a system call, a packet and the server's handling of that packet per file, ~1 % of
 * the client's CPU on small files (issue 5, stop 17).
 */
static void
acknowledge_now (Response *resp)
{
  int one = 1;

  if (resp->sock == NULL || *resp->sock == CURL_SOCKET_BAD)
    return;
  setsockopt (*resp->sock, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  if (resp->acks != NULL)
    (*resp->acks)++;
}

/* Whether the head just read is followed by more from the server (acknowledge_now ()). */
static gboolean
head_has_sequel (const Response *resp)
{
  if (resp->interim || resp->chunked)
    return TRUE;
  if (resp->no_body)
    return FALSE;
  /* without a length, the body runs to the end of the connection */
  return !resp->has_content_length || resp->content_length > 0;
}

/* The socket of the client's connection, for acknowledge_now (): curl tells the socket of a
 * transfer only once it is over. A client is one thread's, one transfer at a time, and keeps
 * one connection (two for a moment when the server closed the last one). */
static int
sockopt_cb (void          *user_data,
            curl_socket_t  sock,
            curlsocktype   purpose)
{
  SluiceS3Client *self = user_data;

  if (purpose == CURLSOCKTYPE_IPCXN)
    self->sock = sock;
  return CURL_SOCKOPT_OK;
}

#ifdef OPENSSL_VERSION_MAJOR
#define OUR_OPENSSL "OpenSSL/" G_STRINGIFY (OPENSSL_VERSION_MAJOR) "."
#else
#define OUR_OPENSSL "OpenSSL/1.1."   /* 1.1 has no OPENSSL_VERSION_MAJOR */
#endif

/* Whether libcurl speaks TLS through the libssl major version this program is linked with
 * (Debian's libcurl4 does; a libcurl on GnuTLS, or with another backend first, has no SSL_CTX
 * of ours to give). */
static gboolean
curl_uses_our_openssl (void)
{
  static gsize answer;

  if (g_once_init_enter (&answer))
    {
      const curl_version_info_data *info = curl_version_info (CURLVERSION_NOW);

      g_once_init_leave (&answer, info->ssl_version != NULL &&
                                  g_str_has_prefix (info->ssl_version, OUR_OPENSSL) ? 2 : 1);
    }
  return answer == 2;
}

/* The certificates a TLS connection trusts, read once for the whole process.
 *
 * curl reads its CA bundle (Debian: /etc/ssl/certs/ca-certificates.crt, ~145 certificates)
 * for every new connection, since a CA folder (its default CApath) is not cacheable and its
 * cache would be per client anyway: ~50 ms of CPU each with OpenSSL 3, 35 times in an
 * ingest of 3,000 files, 1.75 CPU-s (issue 5). So Sluice builds the store curl would build —
 * curl's default bundle and folder, and the target's --ca-file on top — once per version of
 * those files, gives curl no CA of its own to read, and hands each connection's context
 * the store (ssl_ctx_cb ()). The folder is only looked into on demand. NULL when a file cannot be
 * read: curl then reads it itself and says what is wrong with it. Stores live as long as the
 * process; a new version of a file gets a new one. */
static guint cert_stores_read;   /* atomic */

guint
_sluice_s3_client_cert_stores_read (void)
{
  return g_atomic_int_get (&cert_stores_read);
}

/* @path, and its version (modification time and size) when it can be looked at */
static void
append_file_version (GString    *key,
                     const char *path)
{
  GStatBuf st;

  g_string_append (key, path);
  if (g_stat (path, &st) == 0)
    g_string_append_printf (key, " %" G_GINT64_FORMAT ".%ld %" G_GINT64_FORMAT,
                            (gint64) st.st_mtim.tv_sec, (long) st.st_mtim.tv_nsec,
                            (gint64) st.st_size);
  g_string_append_c (key, '\n');
}

static X509_STORE *
shared_cert_store (const char *ca_file)
{
  static GMutex lock;
  static GHashTable *stores;   /* the files read and their versions → X509_STORE *, or NULL */
  const curl_version_info_data *info = curl_version_info (CURLVERSION_NOW);
  g_autoptr(GString) key = g_string_new (NULL);
  g_autoptr(GMutexLocker) locker = NULL;
  X509_STORE *store;
  gboolean ok = TRUE;

  /* a bundle updated (the system's) or replaced (--ca-file) while the app runs is read
   * again, by the next client */
  append_file_version (key, info->cainfo != NULL ? info->cainfo : X509_get_default_cert_file ());
  if (ca_file != NULL)
    append_file_version (key, ca_file);

  locker = g_mutex_locker_new (&lock);
  if (stores == NULL)
    stores = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (g_hash_table_lookup_extended (stores, key->str, NULL, (gpointer *) &store))
    return store;

  g_atomic_int_inc (&cert_stores_read);
  store = X509_STORE_new ();
  if (info->cainfo == NULL && info->capath == NULL)
    ok = X509_STORE_set_default_paths (store) == 1;
  if (ok && info->cainfo != NULL && g_file_test (info->cainfo, G_FILE_TEST_EXISTS))
    ok = X509_STORE_load_locations (store, info->cainfo, NULL) == 1;
  if (ok && info->capath != NULL && g_file_test (info->capath, G_FILE_TEST_IS_DIR))
    ok = X509_STORE_load_locations (store, NULL, info->capath) == 1;
  if (ok && ca_file != NULL)
    ok = X509_STORE_load_locations (store, ca_file, NULL) == 1;
  ERR_clear_error ();
  if (!ok)
    g_clear_pointer (&store, X509_STORE_free);
  g_hash_table_insert (stores, g_string_free (g_steal_pointer (&key), FALSE), store);
  return store;
}

/* connections whose context ssl_ctx_cb () left keeping its record buffers (tests) */
static guint tls_buffers_kept;   /* atomic */

guint
_sluice_s3_client_tls_buffers_kept (void)
{
  return g_atomic_int_get (&tls_buffers_kept);
}

/* Each TLS connection's context, before its handshake.
 *
 * The trusted certificates: the process's store (shared_cert_store ()), when perform () gave
 * one.
 *
 * The record buffers: curl asks OpenSSL to free a connection's record buffers whenever they
 * are empty (SSL_MODE_RELEASE_BUFFERS), so every request on a kept connection allocated them
 * again: ~17 KB for the request's records and as much for the answer's, two large malloc ()s
 * and free ()s that set glibc consolidating its heap, once per small file (issue 5). A client
 * keeps one connection: keeping its buffers is ~40 KB each, --jobs of them. */
static CURLcode
ssl_ctx_cb (CURL *curl,
            void *ssl_ctx,
            void *user_data)
{
  X509_STORE *store = user_data;

  if (store != NULL && X509_STORE_up_ref (store) == 1)
    SSL_CTX_set_cert_store ((SSL_CTX *) ssl_ctx, store);
  if ((SSL_CTX_clear_mode ((SSL_CTX *) ssl_ctx, SSL_MODE_RELEASE_BUFFERS) &
       SSL_MODE_RELEASE_BUFFERS) == 0)
    g_atomic_int_inc (&tls_buffers_kept);
  return CURLE_OK;
}

static int
closesocket_cb (void          *user_data,
                curl_socket_t  sock)
{
  SluiceS3Client *self = user_data;

  if (self->sock == sock)
    self->sock = CURL_SOCKET_BAD;
  return close (sock);
}

static gsize
header_cb (char   *buffer,
           size_t  size,
           size_t  nitems,
           void   *user_data)
{
  Response *resp = user_data;
  gsize len = size * nitems;
  char *value;

  if (len > 5 && memcmp (buffer, "HTTP/", 5) == 0)
    {
      /* a new head: "HTTP/1.1 100 Continue", then the final one */
      const char *code = memchr (buffer, ' ', len);

      resp->interim = code != NULL && code + 1 < buffer + len && code[1] == '1';
      resp->chunked = FALSE;
      resp->has_content_length = FALSE;
      resp->content_length = 0;
      return len;
    }
  if ((len == 2 && buffer[0] == '\r' && buffer[1] == '\n') || (len == 1 && buffer[0] == '\n'))
    {
      if (head_has_sequel (resp))
        acknowledge_now (resp);
      return len;
    }

  value = header_value (buffer, len, "ETag");
  if (value != NULL)
    {
      gsize vlen = strlen (value);
      if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"')
        {
          memmove (value, value + 1, vlen - 2);
          value[vlen - 2] = '\0';
        }
      g_free (resp->etag);
      resp->etag = value;
      return len;
    }
  value = header_value (buffer, len, "x-amz-request-id");
  if (value != NULL)
    {
      g_free (resp->request_id);
      resp->request_id = value;
      return len;
    }
  value = header_value (buffer, len, "x-amz-meta-sha256");
  if (value != NULL)
    {
      g_free (resp->meta_sha256);
      resp->meta_sha256 = value;
      return len;
    }
  value = header_value (buffer, len, "Content-Length");
  if (value != NULL)
    {
      resp->has_content_length = g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT64,
                                                             &resp->content_length, NULL);
      g_free (value);
      return len;
    }
  value = header_value (buffer, len, "Transfer-Encoding");
  if (value != NULL)
    {
      resp->chunked = g_ascii_strcasecmp (value, "identity") != 0;
      g_free (value);
    }
  return len;
}

static size_t
read_cb (char   *buffer,
         size_t  size,
         size_t  nitems,
         void   *user_data)
{
  ReadContext *ctx = user_data;
  gsize n = MIN (size * nitems, ctx->len - ctx->pos);

  /* --bwlimit: the body leaves no faster than the shared rate allows */
  if (ctx->rate != NULL && n > 0)
    sluice_rate_limit_consume (ctx->rate, n);
  memcpy (buffer, ctx->data + ctx->pos, n);
  ctx->pos += n;
  return n;
}

static int
seek_cb (void       *user_data,
         curl_off_t  offset,
         int         origin)
{
  ReadContext *ctx = user_data;

  if (origin != SEEK_SET || offset < 0 || (gsize) offset > ctx->len)
    return CURL_SEEKFUNC_CANTSEEK;
  ctx->pos = offset;
  return CURL_SEEKFUNC_OK;
}

static int
progress_cb (void       *user_data,
             curl_off_t  dltotal,
             curl_off_t  dlnow,
             curl_off_t  ultotal,
             curl_off_t  ulnow)
{
  SluiceS3Client *self = user_data;

  return g_cancellable_is_cancelled (self->cancellable) ? 1 : 0;
}

SluiceS3Client *
sluice_s3_client_new (const SluiceTarget        *target,
                      SluiceCredentialsProvider *credentials)
{
  SluiceS3Client *self;
  static gsize curl_initialized = 0;

  if (g_once_init_enter (&curl_initialized))
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&curl_initialized, 1);
    }

  self = g_new0 (SluiceS3Client, 1);
  self->curl = curl_easy_init ();
  self->sock = CURL_SOCKET_BAD;
  self->target = sluice_target_copy (target);
  /* per request these parsed the endpoint and formatted three strings: ~2 % of a worker's
   * CPU on small files */
  self->bucket_url = sluice_target_bucket_url (target);
  self->sigv4 = g_strdup_printf ("aws:amz:%s:s3", target->region);
  self->credentials = credentials;
  for (guint i = 0; target->resolve != NULL && target->resolve[i] != NULL; i++)
    self->resolve = curl_slist_append (self->resolve, target->resolve[i]);
  /* once per client, not per request (the CA file's stat and the stores' lock) */
  self->tls_hook = g_str_has_prefix (self->bucket_url, "https://") && curl_uses_our_openssl ();
  if (self->tls_hook && !target->insecure)
    self->cert_store = shared_cert_store (target->ca_file);
  return self;
}

/* sluice_target_object_url () of the client's target, without parsing the endpoint again */
static char *
object_url (SluiceS3Client *self,
            const char     *key)
{
  g_autofree char *encoded = sluice_uri_encode (key, TRUE);

  return g_strconcat (self->bucket_url, encoded, NULL);
}

void
sluice_s3_client_free (SluiceS3Client *self)
{
  if (self == NULL)
    return;
  curl_easy_cleanup (self->curl);
  g_free (self->fixed_date);
  curl_slist_free_all (self->resolve);
  sluice_target_free (self->target);
  g_free (self->bucket_url);
  g_free (self->sigv4);
  g_clear_object (&self->cancellable);
  g_free (self);
}

/* For tests that pin signatures: every request is signed as of @amz_date ("YYYYMMDDTHHMMSSZ")
 * instead of now. */
void
sluice_s3_client_set_fixed_date (SluiceS3Client *self,
                                 const char     *amz_date)
{
  g_free (self->fixed_date);
  self->fixed_date = g_strdup (amz_date);
}

/* Exposed for tests: how many answers' heads this client has acknowledged at once. */
guint
_sluice_s3_client_get_acks (SluiceS3Client *self)
{
  return self->acks;
}

/**
 * sluice_s3_presign:
 *
 * A presigned HTTPS (or HTTP) URL for GET of @key, valid @expires_seconds from @when: curl
 * signs requests but does not presign, so Sluice does it (sluice-sigv4.c).
 */
char *
sluice_s3_presign (const SluiceTarget      *target,
                   const SluiceCredentials *credentials,
                   const char              *key,
                   GDateTime               *when,
                   guint                    expires_seconds)
{
  g_autofree char *url = sluice_target_object_url (target, key);
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  g_autofree char *scheme_host = NULL;
  g_autofree char *host = NULL;
  int port;

  if (uri == NULL)
    return NULL;
  port = g_uri_get_port (uri);
  host = port > 0 ? g_strdup_printf ("%s:%d", g_uri_get_host (uri), port)
                  : g_strdup (g_uri_get_host (uri));
  scheme_host = g_strdup_printf ("%s://%s", g_uri_get_scheme (uri), host);
  return sluice_sigv4_presign ("GET", scheme_host, host, g_uri_get_path (uri), target->region,
                               credentials->access_key, credentials->secret_key,
                               credentials->session_token, when, expires_seconds);
}

/* Request bodies sent by this client count against @rate (shared by all clients). */
void
sluice_s3_client_set_rate_limit (SluiceS3Client  *self,
                                 SluiceRateLimit *rate)
{
  self->rate = rate;
}

void
sluice_s3_client_set_cancellable (SluiceS3Client *self,
                                  GCancellable   *cancellable)
{
  g_set_object (&self->cancellable, cancellable);
}

void
sluice_s3_object_info_clear (SluiceS3ObjectInfo *info)
{
  g_clear_pointer (&info->etag, g_free);
  g_clear_pointer (&info->sha256, g_free);
  memset (info, 0, sizeof *info);
}

/* ---- errors: CURLcode, HTTP status and S3 XML codes map to SluiceError here only ---------- */

typedef struct {
  GString *text;
  char    *code;
  char    *message;
  char    *request_id;
  int      depth;
} ErrorParse;

static void
error_start (GMarkupParseContext *context,
             const char          *element_name,
             const char         **attribute_names,
             const char         **attribute_values,
             gpointer             user_data,
             GError             **error)
{
  ErrorParse *p = user_data;

  p->depth++;
  g_string_truncate (p->text, 0);
}

static void
error_end (GMarkupParseContext *context,
           const char          *element_name,
           gpointer             user_data,
           GError             **error)
{
  ErrorParse *p = user_data;

  if (p->depth == 2)
    {
      char **slot = NULL;

      if (g_str_equal (element_name, "Code"))
        slot = &p->code;
      else if (g_str_equal (element_name, "Message"))
        slot = &p->message;
      else if (g_str_equal (element_name, "RequestId"))
        slot = &p->request_id;
      if (slot != NULL && *slot == NULL)
        *slot = sluice_sanitize_text (p->text->str, p->text->len, 512);
    }
  p->depth--;
}

static void
error_text (GMarkupParseContext *context,
            const char          *text,
            gsize                text_len,
            gpointer             user_data,
            GError             **error)
{
  ErrorParse *p = user_data;

  if (p->text->len + text_len < 4096)
    g_string_append_len (p->text, text, text_len);
}

static SluiceError
code_for_s3_error (const char *code,
                   long        status)
{
  static const struct {
    const char  *s3;
    SluiceError  code;
  } map[] = {
    { "NoSuchBucket", SLUICE_ERROR_NO_SUCH_BUCKET },
    { "InvalidAccessKeyId", SLUICE_ERROR_AUTH_ACCESS_KEY },
    { "SignatureDoesNotMatch", SLUICE_ERROR_AUTH_SIGNATURE },
    { "AccessDenied", SLUICE_ERROR_ACCESS_DENIED },
    { "AllAccessDisabled", SLUICE_ERROR_ACCESS_DENIED },
    { "AccountProblem", SLUICE_ERROR_ACCESS_DENIED },
    { "ExpiredToken", SLUICE_ERROR_EXPIRED_TOKEN },
    { "TokenRefreshRequired", SLUICE_ERROR_EXPIRED_TOKEN },
    { "InvalidToken", SLUICE_ERROR_AUTH_ACCESS_KEY },
    { "RequestTimeTooSkewed", SLUICE_ERROR_CLOCK_SKEW },
    { "BadDigest", SLUICE_ERROR_BAD_DIGEST },
    { "XAmzContentSHA256Mismatch", SLUICE_ERROR_BAD_DIGEST },
    { "InvalidDigest", SLUICE_ERROR_BAD_DIGEST },
    { "SlowDown", SLUICE_ERROR_THROTTLED },
    { "Throttling", SLUICE_ERROR_THROTTLED },
    { "RequestLimitExceeded", SLUICE_ERROR_THROTTLED },
    { "TooManyRequests", SLUICE_ERROR_THROTTLED },
    { "InternalError", SLUICE_ERROR_SERVER },
    { "ServiceUnavailable", SLUICE_ERROR_SERVER },
    { "RequestTimeout", SLUICE_ERROR_TIMEOUT },
    { "PreconditionFailed", SLUICE_ERROR_PRECONDITION },
    { "EntityTooLarge", SLUICE_ERROR_TOO_LARGE },
    { "KeyTooLongError", SLUICE_ERROR_INVALID_KEY },
    { "InvalidBucketName", SLUICE_ERROR_INVALID_ARGUMENT },
    { "InvalidLocationConstraint", SLUICE_ERROR_INVALID_ARGUMENT },
    { "IllegalLocationConstraintException", SLUICE_ERROR_INVALID_ARGUMENT },
    { "BucketAlreadyExists", SLUICE_ERROR_BUCKET_TAKEN },
    { "InvalidArgument", SLUICE_ERROR_INVALID_ARGUMENT },
    { "InvalidRequest", SLUICE_ERROR_INVALID_ARGUMENT },
    { "InvalidStorageClass", SLUICE_ERROR_INVALID_ARGUMENT },
    { "NotImplemented", SLUICE_ERROR_INVALID_ARGUMENT },
    { "KMS.NotFoundException", SLUICE_ERROR_INVALID_ARGUMENT },
    { "NoSuchUpload", SLUICE_ERROR_NO_SUCH_UPLOAD },
    { "NoSuchKey", SLUICE_ERROR_NOT_FOUND },
    { "InvalidPart", SLUICE_ERROR_NO_SUCH_UPLOAD },
    /* MinIO's full drives, WebDAV's and some gateways' 507, a user's or bucket's quota
     * (Ceph RGW, Wasabi, B2) */
    { "XMinioStorageFull", SLUICE_ERROR_SERVER_FULL },
    { "InsufficientStorage", SLUICE_ERROR_SERVER_FULL },
    { "QuotaExceeded", SLUICE_ERROR_SERVER_FULL },
    { "StorageQuotaExceeded", SLUICE_ERROR_SERVER_FULL },
  };

  for (guint i = 0; code != NULL && i < G_N_ELEMENTS (map); i++)
    if (g_str_equal (code, map[i].s3))
      return map[i].code;

  if (status == 429)
    return SLUICE_ERROR_THROTTLED;
  if (status == 503)
    return SLUICE_ERROR_THROTTLED;
  if (status == 507)
    return SLUICE_ERROR_SERVER_FULL;
  if (status >= 500)
    return SLUICE_ERROR_SERVER;
  if (status == 412)
    return SLUICE_ERROR_PRECONDITION;
  if (status == 403)
    return SLUICE_ERROR_ACCESS_DENIED;
  if (status == 401)
    return SLUICE_ERROR_AUTH_SIGNATURE;
  return SLUICE_ERROR_PROTOCOL;
}

void
sluice_s3_error_from_response (GError     **error,
                               const char  *operation,
                               long         http_status,
                               const char  *body,
                               gsize        body_len,
                               const char  *request_id_header)
{
  static const GMarkupParser parser = { error_start, error_end, error_text, NULL, NULL };
  ErrorParse p = { 0 };
  g_autoptr(GMarkupParseContext) ctx = NULL;
  g_autofree char *request_id = NULL;
  GString *msg;
  SluiceError code;

  p.text = g_string_new (NULL);
  if (body != NULL && body_len > 0)
    {
      ctx = g_markup_parse_context_new (&parser, 0, &p, NULL);
      /* a body that is not XML (a proxy's HTML page) just leaves the fields empty */
      if (!g_markup_parse_context_parse (ctx, body, body_len, NULL) ||
          !g_markup_parse_context_end_parse (ctx, NULL))
        g_clear_pointer (&p.code, g_free);
    }

  code = code_for_s3_error (p.code, http_status);
  request_id = p.request_id != NULL ? g_strdup (p.request_id)
                                    : sluice_sanitize_text (request_id_header, -1, 128);

  msg = g_string_new (operation);
  g_string_append_printf (msg, ": %s", p.code != NULL ? p.code : "HTTP error");
  /* RGW sends empty messages; the plain words come from sluice_error_describe() */
  if (p.message != NULL)
    g_string_append_printf (msg, ": %s", p.message);
  g_string_append_printf (msg, " (HTTP %ld", http_status);
  if (request_id != NULL)
    g_string_append_printf (msg, ", request id %s", request_id);
  g_string_append_c (msg, ')');

  g_set_error_literal (error, SLUICE_ERROR, code, msg->str);
  g_string_free (msg, TRUE);
  g_string_free (p.text, TRUE);
  g_free (p.code);
  g_free (p.message);
  g_free (p.request_id);
}

static void
set_curl_error (SluiceS3Client  *self,
                GError         **error,
                const char      *operation,
                CURLcode         res)
{
  SluiceError code;
  const char *detail = self->errbuf[0] != '\0' ? self->errbuf : curl_easy_strerror (res);

  switch (res)
    {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      code = SLUICE_ERROR_DNS;
      break;
    case CURLE_COULDNT_CONNECT:
      code = SLUICE_ERROR_CONNECT;
      break;
    case CURLE_OPERATION_TIMEDOUT:
      code = SLUICE_ERROR_TIMEOUT;
      break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
      code = SLUICE_ERROR_TLS;
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      code = SLUICE_ERROR_CANCELLED;
      break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SEND_FAIL_REWIND:
      code = SLUICE_ERROR_NETWORK;
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      code = SLUICE_ERROR_INVALID_ARGUMENT;
      break;
    default:
      code = SLUICE_ERROR_FAILED;
      break;
    }
  /* curl's messages name hosts and ports, never the user:password we set separately */
  g_set_error (error, SLUICE_ERROR, code, "%s: %s", operation, detail);
}

/* ---- requests ---------------------------------------------------------------------------- */

static struct curl_slist *
append_header (struct curl_slist *list,
               const char        *name,
               const char        *value)
{
  g_autofree char *line = g_strdup_printf ("%s: %s", name, value);

  return curl_slist_append (list, line);
}

/* Whether @headers has @name (a "Name: value" line). */
static gboolean
has_header (const struct curl_slist *headers,
            const char              *name)
{
  gsize n = strlen (name);

  for (; headers != NULL; headers = headers->next)
    if (g_ascii_strncasecmp (headers->data, name, n) == 0 && headers->data[n] == ':')
      return TRUE;
  return FALSE;
}

/*
 * Performs one signed request. A non-2xx answer is turned into a SLUICE_ERROR here unless
 * @out_status is given, in which case the caller looks at the status (HEAD's 404).
 */
static gboolean
perform (SluiceS3Client     *self,
         const char         *method,
         const char         *url,
         const char         *operation,
         const char         *payload_sha256,
         struct curl_slist  *extra_headers,
         ReadContext        *upload,
         gsize               max_body,
         Response           *resp,
         long               *out_status,
         GError            **error)
{
  g_autoptr(SluiceCredentials) creds = NULL;
  struct curl_slist *headers = extra_headers;
  CURL *c = self->curl;
  CURLcode res;
  long status = 0;
  gboolean whole;

  creds = sluice_credentials_provider_get (self->credentials, error);
  if (creds == NULL)
    {
      curl_slist_free_all (extra_headers);   /* ours to free, as on every other path */
      return FALSE;
    }

  /* reset keeps the connection cache, DNS cache and TLS sessions: connections are reused */
  curl_easy_reset (c);
  self->errbuf[0] = '\0';
  resp->sock = &self->sock;
  resp->acks = &self->acks;
  resp->no_body = g_str_equal (method, "HEAD");
  resp->body = g_string_new (NULL);
  resp->max = max_body;

  /* A small body is handed to curl whole, as a POST's would be, and sent as a PUT: curl then
   * sends no "Expect: 100-continue" (it does for every PUT read through a callback, and an
   * empty "Expect:" cannot remove it: curl 7.88's SigV4 signs the header it drops). The
   * server's interim "100 Continue" and its final answer are two small segments; a server
   * that leaves Nagle on (Ceph RGW's beast, by default) holds the second until the first is
   * acknowledged, and our kernel delays that ACK: 40 ms on a PUT whose body had left before
   * the "100" came, a tenth of the small files (issue 5). A body under 64 KiB also goes out
   * in the headers' packet. --bwlimit needs the read callback, and so does an empty body (no
   * "Expect" is sent for it anyway). */
  whole = g_str_equal (method, "PUT") && upload->len > 0 && upload->len <= SMALL_PUT_MAX &&
          self->rate == NULL;
  /* a POST without one would get curl's form type */
  if (whole && !has_header (headers, "Content-Type"))
    headers = append_header (headers, "Content-Type", "application/octet-stream");

  headers = append_header (headers, "x-amz-content-sha256", payload_sha256);
  if (creds->session_token != NULL)
    headers = append_header (headers, "x-amz-security-token", creds->session_token);
  if (self->fixed_date != NULL)
    headers = append_header (headers, "x-amz-date", self->fixed_date);

  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_USERAGENT, "sluice/" PACKAGE_VERSION);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, self->errbuf);
  curl_easy_setopt (c, CURLOPT_AWS_SIGV4, self->sigv4);
  curl_easy_setopt (c, CURLOPT_USERNAME, creds->access_key);
  curl_easy_setopt (c, CURLOPT_PASSWORD, creds->secret_key);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, (long) CONNECT_TIMEOUT_S);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME,
                    (long) (self->target->stall_timeout_s > 0 ? self->target->stall_timeout_s
                                                              : NO_PROGRESS_S));
  curl_easy_setopt (c, CURLOPT_TCP_KEEPALIVE, 1L);
  /* no waiting for "100 Continue": it stalls every upload by a round trip or a second. The
   * usual cure, an empty "Expect:" header, cannot be used: curl's SigV4 signs it although it
   * is never sent, and the server then rejects the signature. */
  curl_easy_setopt (c, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, resp);
  curl_easy_setopt (c, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
  curl_easy_setopt (c, CURLOPT_SOCKOPTDATA, self);
  curl_easy_setopt (c, CURLOPT_CLOSESOCKETFUNCTION, closesocket_cb);
  curl_easy_setopt (c, CURLOPT_CLOSESOCKETDATA, self);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, resp);
  curl_easy_setopt (c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (c, CURLOPT_XFERINFOFUNCTION, progress_cb);
  curl_easy_setopt (c, CURLOPT_XFERINFODATA, self);
  /* SLUICE_DEBUG_HTTP=1 shows the exchange on stderr (headers only; the signature, never
   * the secret, appears in it) */
  if (g_getenv ("SLUICE_DEBUG_HTTP") != NULL)
    curl_easy_setopt (c, CURLOPT_VERBOSE, 1L);
  if (self->target->insecure)
    {
      curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  if (self->tls_hook)
    {
      curl_easy_setopt (c, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
      curl_easy_setopt (c, CURLOPT_SSL_CTX_DATA, self->cert_store);
    }
  if (self->cert_store != NULL)
    {
      /* nothing for curl to read: the context gets the store */
      curl_easy_setopt (c, CURLOPT_CAINFO, NULL);
      curl_easy_setopt (c, CURLOPT_CAPATH, NULL);
    }
  else if (self->target->ca_file != NULL)
    curl_easy_setopt (c, CURLOPT_CAINFO, self->target->ca_file);
  if (self->resolve != NULL)
    curl_easy_setopt (c, CURLOPT_RESOLVE, self->resolve);

  if (g_str_equal (method, "HEAD"))
    curl_easy_setopt (c, CURLOPT_NOBODY, 1L);
  else if (whole)
    {
      curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, "PUT");
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, upload->data);
      curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) upload->len);
    }
  else if (g_str_equal (method, "PUT"))
    {
      curl_easy_setopt (c, CURLOPT_UPLOAD, 1L);
      upload->rate = self->rate;
      curl_easy_setopt (c, CURLOPT_READFUNCTION, read_cb);
      curl_easy_setopt (c, CURLOPT_READDATA, upload);
      curl_easy_setopt (c, CURLOPT_SEEKFUNCTION, seek_cb);
      curl_easy_setopt (c, CURLOPT_SEEKDATA, upload);
      curl_easy_setopt (c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) upload->len);
    }
  else if (g_str_equal (method, "POST"))
    {
      /* the body is given whole; curl then sends Content-Length and no chunking */
      curl_easy_setopt (c, CURLOPT_POST, 1L);
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, upload->data);
      curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) upload->len);
    }
  else if (!g_str_equal (method, "GET"))
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);

  res = curl_easy_perform (c);

  /* the handle keeps pointers to these until the next reset: drop them now */
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt (c, CURLOPT_USERNAME, NULL);
  curl_easy_setopt (c, CURLOPT_PASSWORD, NULL);
  curl_slist_free_all (headers);

  if (res == CURLE_WRITE_ERROR && resp->overflow)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_TOO_LARGE,
                   "%s: the server's answer is larger than %" G_GSIZE_FORMAT " bytes",
                   operation, max_body);
      return FALSE;
    }
  if (res != CURLE_OK)
    {
      set_curl_error (self, error, operation, res);
      return FALSE;
    }

  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
  if (out_status != NULL)
    {
      *out_status = status;
      return TRUE;
    }
  if (status < 200 || status > 299)
    {
      sluice_s3_error_from_response (error, operation, status, resp->body->str, resp->body->len,
                                     resp->request_id);
      return FALSE;
    }
  return TRUE;
}

static char *
describe_op (const char *method,
             const char *bucket,
             const char *key)
{
  /* keys are already sanitised UTF-8; still, keep the message one line */
  g_autofree char *k = sluice_sanitize_text (key, -1, 300);

  if (k == NULL)
    return g_strdup_printf ("%s s3://%s", method, bucket);
  return g_strdup_printf ("%s s3://%s/%s", method, bucket, k);
}

/**
 * sluice_s3_client_check_bucket:
 *
 * Lists at most one key: that proves the endpoint, the credentials and the bucket at once,
 * and (unlike HEAD) the answer has a body that tells a wrong key from a wrong secret.
 * Called from a worker thread.
 */
gboolean
sluice_s3_client_check_bucket (SluiceS3Client *self,
                               GError        **error)
{
  g_auto(Response) resp = { 0 };
  const char *base = self->bucket_url;
  g_autofree char *url = g_strdup_printf ("%s?list-type=2&max-keys=1", base);
  g_autofree char *op = describe_op ("LIST", self->target->bucket, NULL);

  return perform (self, "GET", url, op, EMPTY_SHA256, NULL, NULL, ERROR_BODY_MAX, &resp, NULL,
                  error);
}

gboolean
sluice_s3_client_create_bucket (SluiceS3Client *self,
                                GError        **error)
{
  g_auto(Response) resp = { 0 };
  g_autofree char *url = g_strdup (self->bucket_url);
  g_autofree char *op = describe_op ("CREATE", self->target->bucket, NULL);
  g_autofree char *xml = NULL;
  const char *region = self->target->region;
  ReadContext upload = { (const guint8 *) "", 0, 0 };
  struct curl_slist *headers = NULL;
  const char *payload = EMPTY_SHA256;
  char sha[65];

  /* outside us-east-1 the region is named, as the AWS CLI and SDKs do: AWS's regional
   * endpoints refuse a bucket without it (IllegalLocationConstraintException), and Ceph RGW
   * checks it against its zone group */
  if (region != NULL && *region != '\0' && strcmp (region, "us-east-1") != 0)
    {
      xml = g_markup_printf_escaped ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com"
                                     "/doc/2006-03-01/\"><LocationConstraint>%s"
                                     "</LocationConstraint></CreateBucketConfiguration>",
                                     region);
      sluice_sha256_hex ((const guint8 *) xml, strlen (xml), sha);
      payload = sha;
      upload = (ReadContext) { (const guint8 *) xml, strlen (xml), 0 };
      headers = append_header (headers, "Content-Type", "application/xml");
    }
  return perform (self, "PUT", url, op, payload, headers, &upload, ERROR_BODY_MAX, &resp,
                  NULL, error);
}

/* Storage class, encryption, tags and ACL: on every request that makes an object. */
static struct curl_slist *
append_object_options (struct curl_slist  *headers,
                       const SluiceTarget *target)
{
  g_autofree char *tagging = sluice_target_tagging (target);

  if (target->storage_class != NULL)
    headers = append_header (headers, "x-amz-storage-class", target->storage_class);
  if (target->sse != NULL)
    headers = append_header (headers, "x-amz-server-side-encryption", target->sse);
  if (target->sse_kms_key_id != NULL)
    headers = append_header (headers, "x-amz-server-side-encryption-aws-kms-key-id",
                             target->sse_kms_key_id);
  if (tagging != NULL)
    headers = append_header (headers, "x-amz-tagging", tagging);
  if (target->acl_owner_full_control)
    headers = append_header (headers, "x-amz-acl", "bucket-owner-full-control");
  return headers;
}

static struct curl_slist *
append_meta (struct curl_slist *headers,
             GStrv              meta)
{
  gsize total = 0;

  for (guint i = 0; meta != NULL && meta[i] != NULL; i++)
    {
      const char *eq = strchr (meta[i], '=');
      g_autofree char *value = NULL;
      g_autofree char *line = NULL;
      int name_len;

      if (eq == NULL)
        continue;
      /* names are ours (lower-case ASCII); values come from EXIF and are hostile */
      name_len = (int) (eq - meta[i]);
      value = sluice_sanitize_header_value (eq + 1);
      if (value[0] == '\0')
        continue;
      total += name_len + strlen (value);
      if (total > META_TOTAL_MAX)
        break;
      line = g_strdup_printf ("x-amz-meta-%.*s: %s", name_len, meta[i], value);
      headers = curl_slist_append (headers, line);
    }
  return headers;
}

gboolean
sluice_s3_client_put_object (SluiceS3Client           *self,
                             const SluiceS3PutRequest *request,
                             char                    **out_etag,
                             GError                  **error)
{
  g_auto(Response) resp = { 0 };
  g_autofree char *url = object_url (self, request->key);
  g_autofree char *op = describe_op ("PUT", self->target->bucket, request->key);
  struct curl_slist *headers = NULL;
  ReadContext upload = { request->body, request->len, 0 };

  headers = append_header (headers, "Content-Type",
                           request->content_type ? request->content_type
                                                 : "application/octet-stream");
  headers = append_header (headers, "x-amz-meta-sha256", request->sha256_hex);
  headers = append_meta (headers, request->meta);
  headers = append_object_options (headers, self->target);
  if (request->if_none_match)
    headers = append_header (headers, "If-None-Match", "*");

  if (!perform (self, "PUT", url, op, request->sha256_hex, headers, &upload, ERROR_BODY_MAX,
                &resp, NULL, error))
    return FALSE;

  if (resp.etag == NULL)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROTOCOL, "%s: the answer has no ETag", op);
      return FALSE;
    }
  if (out_etag != NULL)
    *out_etag = g_steal_pointer (&resp.etag);
  return TRUE;
}

/**
 * sluice_s3_client_put_raw:
 *
 * A PUT for probing what a server checks: the payload hash header and Content-MD5 are sent as
 * given (possibly wrong on purpose). Returns FALSE only when no answer came; a non-2xx answer
 * is returned in @out_status and @out_server_error.
 */
gboolean
sluice_s3_client_put_raw (SluiceS3Client  *self,
                          const char      *key,
                          const guint8    *body,
                          gsize            len,
                          const char      *payload_sha256,
                          const char      *content_md5,
                          gboolean         if_none_match,
                          long            *out_status,
                          GError         **out_server_error,
                          GError         **error)
{
  g_auto(Response) resp = { 0 };
  g_autofree char *url = object_url (self, key);
  g_autofree char *op = describe_op ("PUT", self->target->bucket, key);
  struct curl_slist *headers = NULL;
  ReadContext upload = { body, len, 0 };

  headers = append_header (headers, "Content-Type", "application/octet-stream");
  headers = append_object_options (headers, self->target);
  if (content_md5 != NULL)
    headers = append_header (headers, "Content-MD5", content_md5);
  if (if_none_match)
    headers = append_header (headers, "If-None-Match", "*");
  if (!perform (self, "PUT", url, op, payload_sha256, headers, &upload, ERROR_BODY_MAX, &resp,
                out_status, error))
    return FALSE;
  if (*out_status < 200 || *out_status > 299)
    sluice_s3_error_from_response (out_server_error, op, *out_status, resp.body->str,
                                   resp.body->len, resp.request_id);
  return TRUE;
}

gboolean
sluice_s3_client_head_object (SluiceS3Client     *self,
                              const char         *key,
                              SluiceS3ObjectInfo *out_info,
                              GError            **error)
{
  g_auto(Response) resp = { 0 };
  g_autofree char *url = object_url (self, key);
  g_autofree char *op = describe_op ("HEAD", self->target->bucket, key);
  long status = 0;

  memset (out_info, 0, sizeof *out_info);
  if (!perform (self, "HEAD", url, op, EMPTY_SHA256, NULL, NULL, ERROR_BODY_MAX, &resp, &status,
                error))
    return FALSE;

  if (status == 404)
    return TRUE;
  if (status < 200 || status > 299)
    {
      sluice_s3_error_from_response (error, op, status, NULL, 0, resp.request_id);
      return FALSE;
    }
  out_info->exists = TRUE;
  out_info->size = resp.content_length;
  out_info->etag = g_steal_pointer (&resp.etag);
  out_info->sha256 = g_steal_pointer (&resp.meta_sha256);
  return TRUE;
}

gboolean
sluice_s3_client_get_object (SluiceS3Client  *self,
                             const char      *key,
                             gsize            max_bytes,
                             GBytes         **out_body,
                             GError         **error)
{
  g_auto(Response) resp = { 0 };
  g_autofree char *url = object_url (self, key);
  g_autofree char *op = describe_op ("GET", self->target->bucket, key);
  gsize len;

  if (!perform (self, "GET", url, op, EMPTY_SHA256, NULL, NULL, max_bytes, &resp, NULL, error))
    return FALSE;
  len = resp.body->len;
  *out_body = g_bytes_new_take (g_string_free (g_steal_pointer (&resp.body), FALSE), len);
  return TRUE;
}

gboolean
sluice_s3_client_delete_object (SluiceS3Client *self,
                                const char     *key,
                                GError        **error)
{
  g_auto(Response) resp = { 0 };
  g_autofree char *url = object_url (self, key);
  g_autofree char *op = describe_op ("DELETE", self->target->bucket, key);

  return perform (self, "DELETE", url, op, EMPTY_SHA256, NULL, NULL, ERROR_BODY_MAX, &resp, NULL,
                  error);
}

/* ---- XML answers ------------------------------------------------------------------------------ */

/*
 * S3 answers are flat: a root element, some scalar children (IsTruncated, UploadId, ETag…) and
 * repeated records (Contents, Part, Upload) of scalar children. One parser serves them all:
 * scalars under the root land in @top, each record's children in a table passed to @func.
 */
typedef gboolean (*RecordFunc) (GHashTable *fields,
                                gpointer    user_data);

typedef struct {
  const char *record;       /* element name of a record, or NULL */
  RecordFunc  func;
  gpointer    user_data;
  GString    *text;
  GPtrArray  *stack;
  GHashTable *top;          /* root's scalar children */
  GHashTable *fields;       /* the current record's */
  char       *root;
  gboolean    stopped;
} XmlParse;

static void
xml_start (GMarkupParseContext *context,
           const char          *element_name,
           const char         **attribute_names,
           const char         **attribute_values,
           gpointer             user_data,
           GError             **error)
{
  XmlParse *p = user_data;

  if (p->stack->len == 0)
    p->root = g_strdup (element_name);
  if (p->stack->len > 16)
    {
      g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, "too deep");
      return;
    }
  g_ptr_array_add (p->stack, g_strdup (element_name));
  g_string_truncate (p->text, 0);
}

static void
xml_end (GMarkupParseContext *context,
         const char          *element_name,
         gpointer             user_data,
         GError             **error)
{
  XmlParse *p = user_data;
  guint depth = p->stack->len;   /* 1 = root */
  const char *parent = depth >= 2 ? g_ptr_array_index (p->stack, depth - 2) : "";

  if (depth == 2 && p->record != NULL && g_str_equal (element_name, p->record))
    {
      if (!p->stopped && !p->func (p->fields, p->user_data))
        p->stopped = TRUE;
      g_hash_table_remove_all (p->fields);
    }
  else if (depth == 2)
    g_hash_table_insert (p->top, g_strdup (element_name), g_strndup (p->text->str, p->text->len));
  else if (depth == 3 && p->record != NULL && g_str_equal (parent, p->record))
    g_hash_table_insert (p->fields, g_strdup (element_name),
                         g_strndup (p->text->str, p->text->len));

  g_ptr_array_remove_index (p->stack, depth - 1);
  g_string_truncate (p->text, 0);
}

static void
xml_text (GMarkupParseContext *context,
          const char          *text,
          gsize                text_len,
          gpointer             user_data,
          GError             **error)
{
  XmlParse *p = user_data;

  if (p->text->len + text_len > 4096)
    {
      g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                           "element text too long");
      return;
    }
  g_string_append_len (p->text, text, text_len);
}

static void
xml_parse_clear (XmlParse *p)
{
  if (p->text != NULL)
    g_string_free (g_steal_pointer (&p->text), TRUE);
  g_clear_pointer (&p->stack, g_ptr_array_unref);
  g_clear_pointer (&p->top, g_hash_table_unref);
  g_clear_pointer (&p->fields, g_hash_table_unref);
  g_clear_pointer (&p->root, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (XmlParse, xml_parse_clear)

static gboolean
xml_parse (XmlParse    *p,
           const char  *record,
           RecordFunc   func,
           gpointer     user_data,
           const char  *body,
           gsize        len,
           const char  *operation,
           GError     **error)
{
  static const GMarkupParser parser = { xml_start, xml_end, xml_text, NULL, NULL };
  g_autoptr(GMarkupParseContext) ctx = NULL;
  g_autoptr(GError) parse_error = NULL;

  p->record = record;
  p->func = func;
  p->user_data = user_data;
  p->text = g_string_new (NULL);
  p->stack = g_ptr_array_new_with_free_func (g_free);
  p->top = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  p->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  ctx = g_markup_parse_context_new (&parser, 0, p, NULL);
  if (!g_markup_parse_context_parse (ctx, body, len, &parse_error) ||
      !g_markup_parse_context_end_parse (ctx, &parse_error))
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROTOCOL,
                   "%s: the answer is not valid XML: %s", operation, parse_error->message);
      return FALSE;
    }
  return TRUE;
}

static const char *
field (GHashTable *fields,
       const char *name)
{
  return g_hash_table_lookup (fields, name);
}

static guint64
field_u64 (GHashTable *fields,
           const char *name)
{
  guint64 v = 0;
  const char *text = field (fields, name);

  if (text != NULL)
    g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &v, NULL);
  return v;
}

static char *
unquote_etag (const char *etag)
{
  g_autofree char *copy = g_strdup (etag ? etag : "");

  return g_strdup (g_strstrip (g_strdelimit (copy, "\"", ' ')));
}

/* ---- ListObjectsV2 ------------------------------------------------------------------------- */

typedef struct {
  SluiceS3ListFunc func;
  gpointer         user_data;
} ListObjectsData;

static gboolean
list_objects_record (GHashTable *fields,
                     gpointer    user_data)
{
  ListObjectsData *d = user_data;
  g_autofree char *etag = unquote_etag (field (fields, "ETag"));

  if (field (fields, "Key") == NULL)
    return TRUE;
  return d->func (field (fields, "Key"), field_u64 (fields, "Size"), etag,
                  field (fields, "LastModified") ? field (fields, "LastModified") : "",
                  d->user_data);
}

/**
 * sluice_s3_client_list_objects:
 *
 * Lists every key under @prefix, 1,000 per request (ListObjectsV2), calling @func for each.
 * Streaming: one page in memory at a time.
 */
gboolean
sluice_s3_client_list_objects (SluiceS3Client   *self,
                               const char       *prefix,
                               SluiceS3ListFunc  func,
                               gpointer          user_data,
                               GError          **error)
{
  const char *base = self->bucket_url;
  g_autofree char *op = describe_op ("LIST", self->target->bucket, prefix);
  g_autofree char *token = NULL;
  ListObjectsData d = { func, user_data };

  do
    {
      g_auto(Response) resp = { 0 };
      g_auto(XmlParse) p = { 0 };
      g_autoptr(GString) url = g_string_new (base);

      /* SigV4 wants the query sorted by name, each value percent-encoded */
      g_string_append_c (url, '?');
      if (token != NULL)
        {
          g_autofree char *enc = sluice_uri_encode (token, FALSE);
          g_string_append_printf (url, "continuation-token=%s&", enc);
        }
      g_string_append (url, "list-type=2&max-keys=1000");
      if (prefix != NULL && prefix[0] != '\0')
        {
          g_autofree char *enc = sluice_uri_encode (prefix, FALSE);
          g_string_append_printf (url, "&prefix=%s", enc);
        }

      if (!perform (self, "GET", url->str, op, EMPTY_SHA256, NULL, NULL, LIST_BODY_MAX, &resp,
                    NULL, error))
        return FALSE;
      if (!xml_parse (&p, "Contents", list_objects_record, &d, resp.body->str, resp.body->len,
                      op, error))
        return FALSE;

      g_clear_pointer (&token, g_free);
      if (!p.stopped && g_strcmp0 (field (p.top, "IsTruncated"), "true") == 0)
        {
          token = g_strdup (field (p.top, "NextContinuationToken"));
          if (token == NULL || token[0] == '\0')
            {
              g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROTOCOL,
                           "%s: a truncated listing without a continuation token", op);
              return FALSE;
            }
        }
    }
  while (token != NULL);

  return TRUE;
}

/* ---- multipart ------------------------------------------------------------------------------ */

static char *
upload_url (SluiceS3Client *self,
            const char     *key,
            const char     *query)
{
  g_autofree char *url = object_url (self, key);

  return g_strdup_printf ("%s?%s", url, query);
}

/**
 * sluice_s3_client_create_multipart:
 *
 * Starts a multipart upload; content type, metadata and object options go here (parts carry
 * only bytes). Returns the upload id.
 */
gboolean
sluice_s3_client_create_multipart (SluiceS3Client           *self,
                                   const SluiceS3PutRequest *request,
                                   char                    **out_upload_id,
                                   GError                  **error)
{
  g_auto(Response) resp = { 0 };
  g_auto(XmlParse) p = { 0 };
  g_autofree char *url = upload_url (self, request->key, "uploads=");
  g_autofree char *op = describe_op ("CREATE-MULTIPART", self->target->bucket, request->key);
  struct curl_slist *headers = NULL;
  ReadContext body = { (const guint8 *) "", 0, 0 };
  const char *upload_id;

  headers = append_header (headers, "Content-Type",
                           request->content_type ? request->content_type
                                                 : "application/octet-stream");
  if (request->sha256_hex != NULL)
    headers = append_header (headers, "x-amz-meta-sha256", request->sha256_hex);
  headers = append_meta (headers, request->meta);
  headers = append_object_options (headers, self->target);

  if (!perform (self, "POST", url, op, EMPTY_SHA256, headers, &body, ERROR_BODY_MAX, &resp, NULL,
                error))
    return FALSE;
  if (!xml_parse (&p, NULL, NULL, NULL, resp.body->str, resp.body->len, op, error))
    return FALSE;
  upload_id = field (p.top, "UploadId");
  if (upload_id == NULL || upload_id[0] == '\0')
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROTOCOL, "%s: the answer has no UploadId",
                   op);
      return FALSE;
    }
  *out_upload_id = g_strdup (upload_id);
  return TRUE;
}

gboolean
sluice_s3_client_upload_part (SluiceS3Client  *self,
                              const char      *key,
                              const char      *upload_id,
                              guint            part_number,
                              const guint8    *data,
                              gsize            len,
                              const char      *sha256_hex,
                              char           **out_etag,
                              GError         **error)
{
  g_auto(Response) resp = { 0 };
  g_autofree char *enc_id = sluice_uri_encode (upload_id, FALSE);
  g_autofree char *query = g_strdup_printf ("partNumber=%u&uploadId=%s", part_number, enc_id);
  g_autofree char *url = upload_url (self, key, query);
  g_autofree char *op_base = describe_op ("PUT-PART", self->target->bucket, key);
  g_autofree char *op = g_strdup_printf ("%s (part %u)", op_base, part_number);
  ReadContext upload = { data, len, 0 };

  if (!perform (self, "PUT", url, op, sha256_hex, NULL, &upload, ERROR_BODY_MAX, &resp, NULL,
                error))
    return FALSE;
  if (resp.etag == NULL)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROTOCOL, "%s: the answer has no ETag", op);
      return FALSE;
    }
  *out_etag = g_steal_pointer (&resp.etag);
  return TRUE;
}

/**
 * sluice_s3_client_complete_multipart:
 *
 * Completes an upload from its parts (in part-number order). S3 may answer 200 with an
 * <Error> document when completion fails late: that is an error here too.
 */
gboolean
sluice_s3_client_complete_multipart (SluiceS3Client     *self,
                                     const char         *key,
                                     const char         *upload_id,
                                     const SluiceS3Part *parts,
                                     guint               n_parts,
                                     gboolean            if_none_match,
                                     char              **out_etag,
                                     GError            **error)
{
  g_auto(Response) resp = { 0 };
  g_auto(XmlParse) p = { 0 };
  g_autofree char *enc_id = sluice_uri_encode (upload_id, FALSE);
  g_autofree char *query = g_strdup_printf ("uploadId=%s", enc_id);
  g_autofree char *url = upload_url (self, key, query);
  g_autofree char *op = describe_op ("COMPLETE-MULTIPART", self->target->bucket, key);
  g_autoptr(GString) xml = g_string_new ("<CompleteMultipartUpload>");
  struct curl_slist *headers = NULL;
  char sha[65];
  ReadContext body;
  long status = 0;

  for (guint i = 0; i < n_parts; i++)
    g_string_append_printf (xml, "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>",
                            parts[i].number, parts[i].etag);
  g_string_append (xml, "</CompleteMultipartUpload>");
  sluice_sha256_hex ((const guint8 *) xml->str, xml->len, sha);

  headers = append_header (headers, "Content-Type", "application/xml");
  if (if_none_match)
    headers = append_header (headers, "If-None-Match", "*");
  body = (ReadContext) { (const guint8 *) xml->str, xml->len, 0 };

  if (!perform (self, "POST", url, op, sha, headers, &body, ERROR_BODY_MAX, &resp, &status,
                error))
    return FALSE;
  if (status < 200 || status > 299 || g_strstr_len (resp.body->str, resp.body->len, "<Error>"))
    {
      sluice_s3_error_from_response (error, op, status >= 200 && status <= 299 ? 500 : status,
                                     resp.body->str, resp.body->len, resp.request_id);
      return FALSE;
    }
  if (!xml_parse (&p, NULL, NULL, NULL, resp.body->str, resp.body->len, op, error))
    return FALSE;
  *out_etag = unquote_etag (field (p.top, "ETag"));
  if ((*out_etag)[0] == '\0')
    {
      /* Ceph RGW 16 answers with an empty <ETag/>: the object itself tells */
      g_auto(SluiceS3ObjectInfo) info = { 0 };

      g_clear_pointer (out_etag, g_free);
      if (!sluice_s3_client_head_object (self, key, &info, error))
        return FALSE;
      if (!info.exists || info.etag == NULL)
        {
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROTOCOL,
                       "%s: the answer has no ETag and the object is not there", op);
          return FALSE;
        }
      *out_etag = g_steal_pointer (&info.etag);
    }
  return TRUE;
}

/**
 * sluice_s3_client_copy_object:
 *
 * Makes @dst_key a server-side copy of @src_key in the same bucket (metadata copied, object
 * options applied): no byte of content travels. Like completion, a copy may answer 200 with an
 * <Error> document.
 */
gboolean
sluice_s3_client_copy_object (SluiceS3Client  *self,
                              const char      *src_key,
                              const char      *dst_key,
                              gboolean         if_none_match,
                              char           **out_etag,
                              GError         **error)
{
  g_auto(Response) resp = { 0 };
  g_auto(XmlParse) p = { 0 };
  g_autofree char *url = object_url (self, dst_key);
  g_autofree char *op = describe_op ("COPY", self->target->bucket, dst_key);
  g_autofree char *enc_src = sluice_uri_encode (src_key, TRUE);
  g_autofree char *source = g_strdup_printf ("/%s/%s", self->target->bucket, enc_src);
  struct curl_slist *headers = NULL;
  ReadContext body = { (const guint8 *) "", 0, 0 };
  long status = 0;

  headers = append_header (headers, "x-amz-copy-source", source);
  headers = append_header (headers, "x-amz-metadata-directive", "COPY");
  headers = append_object_options (headers, self->target);
  if (self->target->tags != NULL && self->target->tags[0] != NULL)
    headers = append_header (headers, "x-amz-tagging-directive", "REPLACE");
  if (if_none_match)
    headers = append_header (headers, "If-None-Match", "*");

  if (!perform (self, "PUT", url, op, EMPTY_SHA256, headers, &body, ERROR_BODY_MAX, &resp,
                &status, error))
    return FALSE;
  if (status < 200 || status > 299 || g_strstr_len (resp.body->str, resp.body->len, "<Error>"))
    {
      sluice_s3_error_from_response (error, op, status >= 200 && status <= 299 ? 500 : status,
                                     resp.body->str, resp.body->len, resp.request_id);
      return FALSE;
    }
  if (!xml_parse (&p, NULL, NULL, NULL, resp.body->str, resp.body->len, op, error))
    return FALSE;
  if (out_etag != NULL)
    *out_etag = unquote_etag (field (p.top, "ETag"));
  return TRUE;
}

/* Aborting an upload that is already gone is not an error. */
gboolean
sluice_s3_client_abort_multipart (SluiceS3Client *self,
                                  const char     *key,
                                  const char     *upload_id,
                                  GError        **error)
{
  g_auto(Response) resp = { 0 };
  g_autofree char *enc_id = sluice_uri_encode (upload_id, FALSE);
  g_autofree char *query = g_strdup_printf ("uploadId=%s", enc_id);
  g_autofree char *url = upload_url (self, key, query);
  g_autofree char *op = describe_op ("ABORT-MULTIPART", self->target->bucket, key);
  long status = 0;

  if (!perform (self, "DELETE", url, op, EMPTY_SHA256, NULL, NULL, ERROR_BODY_MAX, &resp,
                &status, error))
    return FALSE;
  if ((status >= 200 && status <= 299) || status == 404)
    return TRUE;
  sluice_s3_error_from_response (error, op, status, resp.body->str, resp.body->len,
                                 resp.request_id);
  return FALSE;
}

typedef struct {
  SluiceS3PartFunc func;
  gpointer         user_data;
} ListPartsData;

static gboolean
list_parts_record (GHashTable *fields,
                   gpointer    user_data)
{
  ListPartsData *d = user_data;
  g_autofree char *etag = unquote_etag (field (fields, "ETag"));
  guint64 number = field_u64 (fields, "PartNumber");

  if (number == 0 || number > SLUICE_S3_MAX_PARTS)
    return TRUE;
  return d->func ((guint) number, field_u64 (fields, "Size"), etag, d->user_data);
}

/**
 * sluice_s3_client_list_parts:
 *
 * The parts the server holds for an upload. An upload that no longer exists (completed,
 * aborted, expired) is SLUICE_ERROR_NO_SUCH_UPLOAD.
 */
gboolean
sluice_s3_client_list_parts (SluiceS3Client   *self,
                             const char       *key,
                             const char       *upload_id,
                             SluiceS3PartFunc  func,
                             gpointer          user_data,
                             GError          **error)
{
  g_autofree char *enc_id = sluice_uri_encode (upload_id, FALSE);
  g_autofree char *op = describe_op ("LIST-PARTS", self->target->bucket, key);
  ListPartsData d = { func, user_data };
  guint64 marker = 0;
  gboolean more = TRUE;

  while (more)
    {
      g_auto(Response) resp = { 0 };
      g_auto(XmlParse) p = { 0 };
      g_autofree char *query = marker > 0
        ? g_strdup_printf ("max-parts=1000&part-number-marker=%" G_GUINT64_FORMAT "&uploadId=%s",
                           marker, enc_id)
        : g_strdup_printf ("max-parts=1000&uploadId=%s", enc_id);
      g_autofree char *url = upload_url (self, key, query);
      guint64 next;

      if (!perform (self, "GET", url, op, EMPTY_SHA256, NULL, NULL, LIST_BODY_MAX, &resp, NULL,
                    error))
        {
          /* Ceph RGW says NoSuchKey for an upload that was completed: it is gone all the same */
          if (error != NULL && g_error_matches (*error, SLUICE_ERROR, SLUICE_ERROR_NOT_FOUND))
            (*error)->code = SLUICE_ERROR_NO_SUCH_UPLOAD;
          return FALSE;
        }
      if (!xml_parse (&p, "Part", list_parts_record, &d, resp.body->str, resp.body->len, op,
                      error))
        return FALSE;
      next = field_u64 (p.top, "NextPartNumberMarker");
      more = !p.stopped && g_strcmp0 (field (p.top, "IsTruncated"), "true") == 0 && next > marker;
      marker = next;
    }
  return TRUE;
}

typedef struct {
  SluiceS3UploadFunc func;
  gpointer           user_data;
} ListUploadsData;

static gboolean
list_uploads_record (GHashTable *fields,
                     gpointer    user_data)
{
  ListUploadsData *d = user_data;

  if (field (fields, "Key") == NULL || field (fields, "UploadId") == NULL)
    return TRUE;
  return d->func (field (fields, "Key"), field (fields, "UploadId"),
                  field (fields, "Initiated") ? field (fields, "Initiated") : "", d->user_data);
}

/* Unfinished multipart uploads under @prefix (they cost storage until aborted). */
gboolean
sluice_s3_client_list_uploads (SluiceS3Client     *self,
                               const char         *prefix,
                               SluiceS3UploadFunc  func,
                               gpointer            user_data,
                               GError            **error)
{
  const char *base = self->bucket_url;
  g_autofree char *op = describe_op ("LIST-UPLOADS", self->target->bucket, prefix);
  g_autofree char *key_marker = NULL;
  g_autofree char *id_marker = NULL;
  ListUploadsData d = { func, user_data };
  gboolean more = TRUE;

  while (more)
    {
      g_auto(Response) resp = { 0 };
      g_auto(XmlParse) p = { 0 };
      g_autoptr(GString) url = g_string_new (base);
      g_autofree char *enc_prefix = sluice_uri_encode (prefix ? prefix : "", FALSE);

      g_string_append_c (url, '?');
      if (key_marker != NULL)
        {
          g_autofree char *enc = sluice_uri_encode (key_marker, FALSE);
          g_string_append_printf (url, "key-marker=%s&", enc);
        }
      g_string_append (url, "max-uploads=1000");
      if (enc_prefix[0] != '\0')
        g_string_append_printf (url, "&prefix=%s", enc_prefix);
      if (id_marker != NULL)
        {
          g_autofree char *enc = sluice_uri_encode (id_marker, FALSE);
          g_string_append_printf (url, "&upload-id-marker=%s", enc);
        }
      g_string_append (url, "&uploads=");

      if (!perform (self, "GET", url->str, op, EMPTY_SHA256, NULL, NULL, LIST_BODY_MAX, &resp,
                    NULL, error))
        return FALSE;
      if (!xml_parse (&p, "Upload", list_uploads_record, &d, resp.body->str, resp.body->len, op,
                      error))
        return FALSE;
      more = !p.stopped && g_strcmp0 (field (p.top, "IsTruncated"), "true") == 0 &&
             field (p.top, "NextKeyMarker") != NULL;
      g_free (key_marker);
      g_free (id_marker);
      key_marker = g_strdup (field (p.top, "NextKeyMarker"));
      id_marker = g_strdup (field (p.top, "NextUploadIdMarker"));
    }
  return TRUE;
}

/**
 * sluice_s3_multipart_etag:
 *
 * The ETag S3 gives a completed multipart object: the MD5 of the concatenated binary MD5s of
 * its parts, in hex, then "-N". Computed from the part ETags the server returned, it checks
 * the completed object without hashing the content with MD5 on the client.
 */
char *
sluice_s3_multipart_etag (const SluiceS3Part *parts,
                          guint               n_parts)
{
  g_autoptr(GChecksum) md5 = g_checksum_new (G_CHECKSUM_MD5);

  for (guint i = 0; i < n_parts; i++)
    {
      guint8 bin[16];
      const char *hex = parts[i].etag;

      if (hex == NULL || strlen (hex) != 32)
        return NULL;
      for (int j = 0; j < 16; j++)
        {
          int hi = g_ascii_xdigit_value (hex[2 * j]);
          int lo = g_ascii_xdigit_value (hex[2 * j + 1]);
          if (hi < 0 || lo < 0)
            return NULL;
          bin[j] = (hi << 4) | lo;
        }
      g_checksum_update (md5, bin, sizeof bin);
    }
  return g_strdup_printf ("%s-%u", g_checksum_get_string (md5), n_parts);
}
