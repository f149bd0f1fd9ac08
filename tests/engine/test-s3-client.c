/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-s3-client"

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sluice-error.h"
#include "sluice-limiter.h"
#include "sluice-s3-client.h"

/*
 * The S3 client offline: how server answers become SLUICE_ERROR causes and messages
 * (sluice_s3_error_from_response(), the one place where S3's codes are mapped), what happens
 * before any byte reaches a server, and whole requests against a canned HTTP server on
 * 127.0.0.1 that records what it was sent.
 */

static GError *
error_for (long        status,
           const char *body,
           const char *request_id_header)
{
  GError *error = NULL;

  sluice_s3_error_from_response (&error, "PUT s3://photos/a.jpg", status, body,
                                 body != NULL ? strlen (body) : 0, request_id_header);
  g_assert_nonnull (error);
  g_assert_true (error->domain == SLUICE_ERROR);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_null (strchr (error->message, '\n'));
  g_assert_null (strchr (error->message, '\r'));
  return error;
}

static char *
s3_error_body (const char *code,
               const char *message,
               const char *request_id)
{
  return g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<Error><Code>%s</Code><Message>%s</Message>"
                          "<Resource>/photos/a.jpg</Resource>"
                          "<RequestId>%s</RequestId><HostId>h0st</HostId></Error>",
                          code, message, request_id);
}

static void
test_codes (void)
{
  struct {
    const char  *s3;
    long         status;
    gint         expected;
  } cases[] = {
    { "NoSuchBucket", 404, SLUICE_ERROR_NO_SUCH_BUCKET },
    { "InvalidAccessKeyId", 403, SLUICE_ERROR_AUTH_ACCESS_KEY },
    { "InvalidToken", 400, SLUICE_ERROR_AUTH_ACCESS_KEY },
    { "SignatureDoesNotMatch", 403, SLUICE_ERROR_AUTH_SIGNATURE },
    { "AccessDenied", 403, SLUICE_ERROR_ACCESS_DENIED },
    { "AllAccessDisabled", 403, SLUICE_ERROR_ACCESS_DENIED },
    { "AccountProblem", 403, SLUICE_ERROR_ACCESS_DENIED },
    { "ExpiredToken", 400, SLUICE_ERROR_EXPIRED_TOKEN },
    { "TokenRefreshRequired", 400, SLUICE_ERROR_EXPIRED_TOKEN },
    { "RequestTimeTooSkewed", 403, SLUICE_ERROR_CLOCK_SKEW },
    { "BadDigest", 400, SLUICE_ERROR_BAD_DIGEST },
    { "XAmzContentSHA256Mismatch", 400, SLUICE_ERROR_BAD_DIGEST },
    { "InvalidDigest", 400, SLUICE_ERROR_BAD_DIGEST },
    { "SlowDown", 503, SLUICE_ERROR_THROTTLED },
    { "Throttling", 400, SLUICE_ERROR_THROTTLED },
    { "RequestLimitExceeded", 400, SLUICE_ERROR_THROTTLED },
    { "TooManyRequests", 429, SLUICE_ERROR_THROTTLED },
    { "InternalError", 500, SLUICE_ERROR_SERVER },
    { "ServiceUnavailable", 503, SLUICE_ERROR_SERVER },
    { "RequestTimeout", 400, SLUICE_ERROR_TIMEOUT },
    { "PreconditionFailed", 412, SLUICE_ERROR_PRECONDITION },
    { "EntityTooLarge", 400, SLUICE_ERROR_TOO_LARGE },
    { "KeyTooLongError", 400, SLUICE_ERROR_INVALID_KEY },
    { "InvalidBucketName", 400, SLUICE_ERROR_INVALID_ARGUMENT },
    { "InvalidArgument", 400, SLUICE_ERROR_INVALID_ARGUMENT },
    { "InvalidStorageClass", 400, SLUICE_ERROR_INVALID_ARGUMENT },
    { "NotImplemented", 501, SLUICE_ERROR_INVALID_ARGUMENT },
    { "NoSuchUpload", 404, SLUICE_ERROR_NO_SUCH_UPLOAD },
    { "InvalidPart", 400, SLUICE_ERROR_NO_SUCH_UPLOAD },
    { "NoSuchKey", 404, SLUICE_ERROR_NOT_FOUND },
    { "XMinioStorageFull", 507, SLUICE_ERROR_SERVER_FULL },
    { "InsufficientStorage", 507, SLUICE_ERROR_SERVER_FULL },
    { "QuotaExceeded", 403, SLUICE_ERROR_SERVER_FULL },
    { "StorageQuotaExceeded", 403, SLUICE_ERROR_SERVER_FULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *body = s3_error_body (cases[i].s3, "Something went wrong.", "tx0001");
      g_autoptr(GError) error = error_for (cases[i].status, body, NULL);

      g_test_message ("%s", cases[i].s3);
      g_assert_error (error, SLUICE_ERROR, cases[i].expected);
      g_assert_nonnull (strstr (error->message, cases[i].s3));
    }
}

static void
test_message_parts (void)
{
  g_autofree char *body = s3_error_body ("NoSuchBucket", "The specified bucket does not exist",
                                         "tx00000b9c5-0065-default");
  g_autoptr(GError) error = error_for (404, body, "header-id-ignored");

  /* operation, S3 code, S3 message, HTTP status and request id, in that order */
  g_assert_cmpstr (error->message, ==,
                   "PUT s3://photos/a.jpg: NoSuchBucket: The specified bucket does not exist "
                   "(HTTP 404, request id tx00000b9c5-0065-default)");
}

static void
test_request_id_from_header (void)
{
  g_autoptr(GError) with_header = NULL;
  g_autoptr(GError) without = NULL;
  const char *body = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";

  with_header = error_for (403, body, "4442587FB7D0A2F9");
  g_assert_error (with_header, SLUICE_ERROR, SLUICE_ERROR_ACCESS_DENIED);
  g_assert_cmpstr (with_header->message, ==,
                   "PUT s3://photos/a.jpg: AccessDenied: Access Denied "
                   "(HTTP 403, request id 4442587FB7D0A2F9)");

  without = error_for (403, body, NULL);
  g_assert_cmpstr (without->message, ==,
                   "PUT s3://photos/a.jpg: AccessDenied: Access Denied (HTTP 403)");
}

static void
test_empty_message (void)
{
  /* Ceph RGW sends empty messages: no dangling ": " */
  g_autoptr(GError) error = error_for (403, "<Error><Code>AccessDenied</Code><Message></Message>"
                                       "<RequestId>tx1</RequestId></Error>", NULL);

  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_ACCESS_DENIED);
  g_assert_cmpstr (error->message, ==,
                   "PUT s3://photos/a.jpg: AccessDenied (HTTP 403, request id tx1)");
}

static void
test_status_fallback (void)
{
  struct {
    long         status;
    gint         expected;
  } cases[] = {
    { 429, SLUICE_ERROR_THROTTLED },
    { 503, SLUICE_ERROR_THROTTLED },
    { 500, SLUICE_ERROR_SERVER },
    { 502, SLUICE_ERROR_SERVER },
    { 504, SLUICE_ERROR_SERVER },
    { 412, SLUICE_ERROR_PRECONDITION },
    { 403, SLUICE_ERROR_ACCESS_DENIED },
    { 401, SLUICE_ERROR_AUTH_SIGNATURE },
    { 404, SLUICE_ERROR_PROTOCOL },
    { 400, SLUICE_ERROR_PROTOCOL },
    { 301, SLUICE_ERROR_PROTOCOL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) empty = error_for (cases[i].status, NULL, NULL);
      g_autoptr(GError) blank = error_for (cases[i].status, "", NULL);
      g_autofree char *expected = g_strdup_printf ("PUT s3://photos/a.jpg: HTTP error (HTTP %ld)",
                                                   cases[i].status);

      g_assert_error (empty, SLUICE_ERROR, cases[i].expected);
      g_assert_error (blank, SLUICE_ERROR, cases[i].expected);
      g_assert_cmpstr (empty->message, ==, expected);
    }
}

static void
test_unknown_code (void)
{
  g_autofree char *body = s3_error_body ("WeirdThing", "Odd", "tx9");
  g_autoptr(GError) client = error_for (400, body, NULL);
  g_autoptr(GError) server = error_for (500, body, NULL);

  /* an unknown code falls back on the status, and is still named in the message */
  g_assert_error (client, SLUICE_ERROR, SLUICE_ERROR_PROTOCOL);
  g_assert_error (server, SLUICE_ERROR, SLUICE_ERROR_SERVER);
  g_assert_nonnull (strstr (client->message, "WeirdThing: Odd"));
}

static void
test_not_xml (void)
{
  const char *bodies[] = {
    "<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>",
    "upstream connect error or disconnect/reset before headers",
    "<Error><Code>NoSuchBucket</Code>",            /* cut short */
    "<Error><Code>NoSuchBucket</Code></Mismatch>",  /* not well-formed */
    "\xff\xfe<\x00E\x00",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(GError) error = error_for (502, bodies[i], NULL);

      /* a proxy's page says nothing about S3: the status decides */
      g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SERVER);
      g_assert_true (g_str_has_prefix (error->message, "PUT s3://photos/a.jpg: HTTP error"));
      g_assert_nonnull (strstr (error->message, "(HTTP 502"));
      g_assert_null (strstr (error->message, "NoSuchBucket"));
    }

  /* a gateway out of space says 507 in its own words */
  {
    g_autoptr(GError) full = error_for (507, bodies[0], NULL);

    g_assert_error (full, SLUICE_ERROR, SLUICE_ERROR_SERVER_FULL);
    g_assert_false (sluice_error_is_retryable (full));
  }
}

static void
test_nested_code_ignored (void)
{
  /* only <Error>'s own children count, not a <Code> deeper down that comes first */
  const char *body = "<Error><Details><Code>AccessDenied</Code></Details>"
                     "<Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>";
  g_autoptr(GError) error = error_for (503, body, NULL);

  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_THROTTLED);
  g_assert_nonnull (strstr (error->message, "SlowDown: Reduce your request rate."));
  g_assert_null (strstr (error->message, "AccessDenied"));
}

static void
test_hostile_text (void)
{
  g_autofree char *huge = g_strnfill (100000, 'M');
  g_autofree char *body = g_strdup_printf ("<Error><Code>AccessDenied</Code>"
                                           "<Message>line1&#10;line2\t\x1b[31mred&#13;</Message>"
                                           "<RequestId>id&#10;X-Injected: 1</RequestId></Error>");
  g_autofree char *huge_body = g_strdup_printf ("<Error><Code>InternalError</Code>"
                                                "<Message>%s</Message></Error>", huge);
  g_autoptr(GError) error = error_for (403, body, NULL);
  g_autoptr(GError) bounded = error_for (500, huge_body, NULL);
  g_autoptr(GError) header = error_for (500, NULL, "hdr\r\nX-Evil: 1\x01");

  /* one line, no control characters: the message goes to logs, JSON and the catalog */
  for (const char *p = error->message; *p != '\0'; p++)
    g_assert_cmpint ((guchar) *p, >=, 0x20);
  g_assert_nonnull (strstr (error->message, "line1 line2 [31mred"));
  g_assert_nonnull (strstr (error->message, "request id id X-Injected: 1"));

  g_assert_error (bounded, SLUICE_ERROR, SLUICE_ERROR_SERVER);
  g_assert_cmpuint (strlen (bounded->message), <, 1024);

  for (const char *p = header->message; *p != '\0'; p++)
    g_assert_cmpint ((guchar) *p, >=, 0x20);
  g_assert_nonnull (strstr (header->message, "request id hdr X-Evil: 1)"));
}

static void
test_null_error (void)
{
  /* callers that do not want the error may pass NULL */
  sluice_s3_error_from_response (NULL, "GET", 500, "<Error/>", 8, NULL);
}

static void
test_no_credentials_before_network (void)
{
  g_autoptr(SluiceTarget) target = sluice_target_new ();
  g_autoptr(SluiceCredentialsProvider) creds = NULL;
  g_autoptr(SluiceS3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (g_get_user_config_dir (), "none", NULL);

  g_unsetenv ("AWS_ACCESS_KEY_ID");
  g_unsetenv ("AWS_SECRET_ACCESS_KEY");
  g_unsetenv ("AWS_PROFILE");
  g_setenv ("AWS_SHARED_CREDENTIALS_FILE", missing, TRUE);
  g_setenv ("AWS_CONFIG_FILE", missing, TRUE);

  /* port 9 (discard) on loopback: nothing is sent, credentials are looked up first */
  target->endpoint = g_strdup ("http://127.0.0.1:9");
  target->bucket = g_strdup ("photos");
  target->path_style = TRUE;
  creds = sluice_credentials_provider_new (NULL);
  client = sluice_s3_client_new (target, creds);

  g_assert_false (sluice_s3_client_check_bucket (client, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_CREDENTIALS);
}

static void
test_connect_refused (void)
{
  g_autoptr(SluiceTarget) target = sluice_target_new ();
  g_autoptr(SluiceCredentialsProvider) creds = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceS3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  guint16 port;

  /* straight to the port, whatever proxy the environment names */
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("all_proxy");
  g_unsetenv ("ALL_PROXY");

  /* a port that is certainly closed: bound but never listening */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  target->endpoint = g_strdup_printf ("http://127.0.0.1:%u", port);
  target->bucket = g_strdup ("photos");
  target->path_style = TRUE;
  sluice_credentials_provider_set_explicit (creds, "AKIDEXAMPLE", "s3cr3t-V4lue", NULL);
  client = sluice_s3_client_new (target, creds);

  g_assert_false (sluice_s3_client_check_bucket (client, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_CONNECT);
  g_assert_true (g_str_has_prefix (error->message, "LIST s3://photos: "));
  g_assert_null (strstr (error->message, "s3cr3t-V4lue"));
  g_assert_true (sluice_error_is_retryable (error));
}

/* ---- a canned HTTP server ------------------------------------------------------------------ */

typedef struct {
  char       *method;
  char       *target;    /* path and query, as sent */
  GHashTable *headers;   /* lower-case name → value */
  GBytes     *body;
} Request;

static void
request_free (Request *r)
{
  g_free (r->method);
  g_free (r->target);
  g_hash_table_unref (r->headers);
  g_bytes_unref (r->body);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Request, request_free)

typedef struct {
  char  *raw;        /* the whole answer, status line to body */
  guint  delay_ms;   /* before answering */
} Answer;

typedef struct {
  int          listener;
  guint16      port;
  GThread     *thread;
  GAsyncQueue *answers;    /* Answer * */
  GAsyncQueue *requests;   /* Request * */
} Server;

/* Reads one request; NULL at the end of the connection. Bounded, like everything else. */
static Request *
read_request (int fd)
{
  g_autoptr(GString) head = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) first = NULL;
  Request *r;
  guint64 length = 0;
  char c;

  while (!g_str_has_suffix (head->str, "\r\n\r\n"))
    {
      if (recv (fd, &c, 1, 0) != 1 || head->len > 64 * 1024)
        return NULL;
      g_string_append_c (head, c);
    }
  g_string_truncate (head, head->len - 4);
  lines = g_strsplit (head->str, "\r\n", -1);
  first = g_strsplit (lines[0], " ", 3);
  g_assert_cmpuint (g_strv_length (first), ==, 3);

  r = g_new0 (Request, 1);
  r->method = g_strdup (first[0]);
  r->target = g_strdup (first[1]);
  r->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      const char *colon = strchr (lines[i], ':');
      g_autofree char *name = NULL;

      g_assert_nonnull (colon);
      name = g_ascii_strdown (lines[i], colon - lines[i]);
      g_hash_table_insert (r->headers, g_steal_pointer (&name), g_strstrip (g_strdup (colon + 1)));
    }
  if (g_hash_table_contains (r->headers, "content-length"))
    g_assert_true (g_ascii_string_to_unsigned (g_hash_table_lookup (r->headers, "content-length"),
                                               10, 0, 2 * 1024 * 1024, &length, NULL));
  {
    guint8 *body = g_malloc (MAX (length, 1));
    gsize done = 0;

    while (done < length)
      {
        gssize n = recv (fd, body + done, length - done, 0);
        g_assert_cmpint (n, >, 0);
        done += n;
      }
    r->body = g_bytes_new_take (body, length);
  }
  return r;
}

static gpointer
server_thread (gpointer user_data)
{
  Server *server = user_data;

  for (;;)
    {
      int fd = accept (server->listener, NULL, NULL);
      Request *r;

      if (fd < 0)
        return NULL;   /* the listener was shut down */
      /* one request per connection: every answer says "Connection: close" */
      r = read_request (fd);
      if (r != NULL)
        {
          Answer *a = g_async_queue_timeout_pop (server->answers, 5 * G_USEC_PER_SEC);

          g_async_queue_push (server->requests, r);
          if (a != NULL)
            {
              struct pollfd pfd = { fd, POLLIN, 0 };

              /* a slow server; it gives up when the client hangs up (as a cancelled one does) */
              if (a->delay_ms > 0)
                poll (&pfd, 1, a->delay_ms);
              send (fd, a->raw, strlen (a->raw), MSG_NOSIGNAL);
              g_free (a->raw);
              g_free (a);
            }
        }
      close (fd);
    }
}

static void
server_start (Server *server)
{
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;

  server->listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (server->listener, >=, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (server->listener, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (server->listener, 8), ==, 0);
  g_assert_cmpint (getsockname (server->listener, (struct sockaddr *) &addr, &len), ==, 0);
  server->port = ntohs (addr.sin_port);
  server->answers = g_async_queue_new ();
  server->requests = g_async_queue_new_full ((GDestroyNotify) request_free);
  server->thread = g_thread_new ("http", server_thread, server);
}

static void
server_stop (Server *server)
{
  shutdown (server->listener, SHUT_RDWR);
  g_thread_join (server->thread);
  close (server->listener);
  g_async_queue_unref (server->answers);
  g_async_queue_unref (server->requests);
}

/* Queues an answer: status line, extra header lines ("Name: value\r\n"...), body. The
 * Content-Length is the body's unless the headers give one (a HEAD answer). */
static void
server_answer (Server     *server,
               guint       delay_ms,
               const char *status,
               const char *headers,
               const char *body)
{
  Answer *a = g_new0 (Answer, 1);

  a->delay_ms = delay_ms;
  if (headers != NULL && strstr (headers, "Content-Length:") != NULL)
    a->raw = g_strdup_printf ("HTTP/1.1 %s\r\n%sConnection: close\r\n\r\n%s",
                              status, headers, body);
  else
    a->raw = g_strdup_printf ("HTTP/1.1 %s\r\n%sContent-Length: %" G_GSIZE_FORMAT "\r\n"
                              "Connection: close\r\n\r\n%s",
                              status, headers != NULL ? headers : "", strlen (body), body);
  g_async_queue_push (server->answers, a);
}

static Request *
server_request (Server *server)
{
  Request *r = g_async_queue_timeout_pop (server->requests, 5 * G_USEC_PER_SEC);

  g_assert_nonnull (r);
  return r;
}

static const char *
header (Request    *r,
        const char *name)
{
  return g_hash_table_lookup (r->headers, name);
}

typedef struct {
  Server                     server;
  SluiceTarget              *target;
  SluiceCredentialsProvider *credentials;
  SluiceS3Client            *client;
} Fixture;

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET"

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("all_proxy");
  g_unsetenv ("ALL_PROXY");
  g_unsetenv ("SLUICE_DEBUG_HTTP");

  server_start (&f->server);
  f->target = sluice_target_new ();
  f->target->endpoint = g_strdup_printf ("http://127.0.0.1:%u", f->server.port);
  f->target->bucket = g_strdup ("photos");
  f->target->path_style = TRUE;
  g_free (f->target->region);
  f->target->region = g_strdup ("eu-test-1");
  f->credentials = sluice_credentials_provider_new (NULL);
  sluice_credentials_provider_set_explicit (f->credentials, "AKIDTEST", SECRET,
                                            GPOINTER_TO_INT (data) ? "session-token-1" : NULL);
  f->client = sluice_s3_client_new (f->target, f->credentials);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_pointer (&f->client, sluice_s3_client_free);
  server_stop (&f->server);
  sluice_target_free (f->target);
  sluice_credentials_provider_free (f->credentials);
}

static void
assert_signed (Request    *r,
               const char *payload_sha256)
{
  const char *auth = header (r, "authorization");
  GHashTableIter iter;
  gpointer value;

  /* SigV4 with our key id, the target's region and the real payload hash; never the secret */
  g_assert_nonnull (auth);
  g_assert_true (g_str_has_prefix (auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
  g_assert_nonnull (strstr (auth, "/eu-test-1/s3/aws4_request"));
  g_assert_nonnull (strstr (auth, "x-amz-content-sha256"));
  g_assert_cmpstr (header (r, "x-amz-content-sha256"), ==, payload_sha256);
  g_assert_nonnull (header (r, "x-amz-date"));
  g_hash_table_iter_init (&iter, r->headers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_assert_null (strstr (value, SECRET));
  g_assert_cmpstr (header (r, "user-agent"), ==, "sluice/" PACKAGE_VERSION);
}

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* a one-byte object, "x", and its SHA-256 */
#define X_PUT(key) { (key), NULL, (const guint8 *) "x", 1, \
                     "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", NULL }

static void
test_put_object (Fixture       *f,
                 gconstpointer  data)
{
  static const char body[] = "JPEG bytes";
  g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, body, -1);
  const char *meta[] = { "make=Canon", "model=Caf\xc3\xa9 Cam", "empty=", "lens=\r\n", NULL };
  SluiceS3PutRequest put = { "dir/a b+c.jpg", "image/jpeg", (const guint8 *) body,
                             strlen (body), sha, (GStrv) meta };
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r = NULL;
  g_autofree char *etag = NULL;

  server_answer (&f->server, 0, "200 OK", "ETag: \"9b2cf535f27731c974343645a3985328\"\r\n", "");
  g_assert_true (sluice_s3_client_put_object (f->client, &put, &etag, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (etag, ==, "9b2cf535f27731c974343645a3985328");

  r = server_request (&f->server);
  g_assert_cmpstr (r->method, ==, "PUT");
  g_assert_cmpstr (r->target, ==, "/photos/dir/a%20b%2Bc.jpg");
  g_assert_cmpmem (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body), body,
                   strlen (body));
  assert_signed (r, sha);
  g_assert_cmpstr (header (r, "content-type"), ==, "image/jpeg");
  g_assert_cmpstr (header (r, "x-amz-meta-sha256"), ==, sha);
  /* metadata headers: ASCII as is, anything else as an encoded word, empty ones left out */
  g_assert_cmpstr (header (r, "x-amz-meta-make"), ==, "Canon");
  g_assert_true (g_str_has_prefix (header (r, "x-amz-meta-model"), "=?UTF-8?B?"));
  g_assert_null (header (r, "x-amz-meta-empty"));
  g_assert_null (header (r, "x-amz-meta-lens"));
  g_assert_null (header (r, "x-amz-security-token"));
  /* a small body goes whole, without "Expect: 100-continue" (perform () says why) */
  g_assert_null (header (r, "expect"));
  g_assert_cmpstr (header (r, "content-length"), ==, "10");
}

/* A body over 1 MiB, or any body under --bwlimit, is read through the callback (and curl asks
 * for "100 Continue", not waiting for it): the bytes that arrive are the same. */
static void
test_put_large_and_limited (Fixture       *f,
                            gconstpointer  data)
{
  gsize sizes[] = { 1024 * 1024 + 1, 100 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree guint8 *body = g_malloc (sizes[i]);
      g_autofree char *sha = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(Request) r = NULL;
      g_autoptr(SluiceRateLimit) rate = NULL;
      SluiceS3PutRequest put = { "big.mov", "video/quicktime", NULL, sizes[i], NULL, NULL };

      for (gsize j = 0; j < sizes[i]; j++)
        body[j] = (guint8) (j * 7 + i);
      sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, body, sizes[i]);
      put.body = body;
      put.sha256_hex = sha;
      if (sizes[i] < 1024 * 1024)
        {
          rate = sluice_rate_limit_new (1024 * 1024 * 1024);
          sluice_s3_client_set_rate_limit (f->client, rate);
        }
      server_answer (&f->server, 0, "200 OK", "ETag: \"e\"\r\n", "");
      g_assert_true (sluice_s3_client_put_object (f->client, &put, NULL, &error));
      g_assert_no_error (error);
      sluice_s3_client_set_rate_limit (f->client, NULL);

      r = server_request (&f->server);
      g_assert_cmpstr (r->method, ==, "PUT");
      g_assert_cmpstr (header (r, "expect"), ==, "100-continue");
      g_assert_cmpmem (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body), body,
                       sizes[i]);
      assert_signed (r, sha);
    }
}

static void
test_session_token (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r = NULL;

  server_answer (&f->server, 0, "204 No Content", NULL, "");
  g_assert_true (sluice_s3_client_delete_object (f->client, "a.jpg", &error));
  g_assert_no_error (error);
  r = server_request (&f->server);
  g_assert_cmpstr (r->method, ==, "DELETE");
  g_assert_cmpstr (r->target, ==, "/photos/a.jpg");
  g_assert_cmpstr (header (r, "x-amz-security-token"), ==, "session-token-1");
  assert_signed (r, EMPTY_SHA);
}

static void
test_put_without_etag (Fixture       *f,
                       gconstpointer  data)
{
  SluiceS3PutRequest put = X_PUT ("a.jpg");
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r = NULL;

  server_answer (&f->server, 0, "200 OK", NULL, "");
  g_assert_false (sluice_s3_client_put_object (f->client, &put, NULL, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROTOCOL);
  r = server_request (&f->server);
  g_assert_cmpstr (header (r, "content-type"), ==, "application/octet-stream");
}

static void
test_put_error (Fixture       *f,
                gconstpointer  data)
{
  SluiceS3PutRequest put = X_PUT ("a.jpg");
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r = NULL;

  server_answer (&f->server, 0, "403 Forbidden", "x-amz-request-id: REQ123\r\n",
                 "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
                 "calculated does not match</Message></Error>");
  g_assert_false (sluice_s3_client_put_object (f->client, &put, NULL, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_AUTH_SIGNATURE);
  g_assert_cmpstr (error->message, ==,
                   "PUT s3://photos/a.jpg: SignatureDoesNotMatch: The request signature we "
                   "calculated does not match (HTTP 403, request id REQ123)");
  g_assert_null (strstr (error->message, SECRET));
  r = server_request (&f->server);
}

/* TCP_QUICKACK (acknowledge_now ()) only for a head that more follows: a body, or the final
 * answer after an interim one. A PUT's bare "200 OK" is left to the delayed ACK, which rides on
 * the next request: forcing it cost a system call and a packet per file. */
static void
test_quickack_only_with_sequel (Fixture       *f,
                                gconstpointer  data)
{
  SluiceS3PutRequest put = X_PUT ("a.jpg");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_auto(SluiceS3ObjectInfo) info = { 0 };
  g_autoptr(Request) r1 = NULL;
  g_autoptr(Request) r2 = NULL;
  g_autoptr(Request) r3 = NULL;
  g_autoptr(Request) r4 = NULL;
  g_autoptr(Request) r5 = NULL;

  g_assert_cmpuint (_sluice_s3_client_get_acks (f->client), ==, 0);

  /* a head alone ("Content-Length: 0"): nothing to hurry */
  server_answer (&f->server, 0, "200 OK", "ETag: \"e1\"\r\n", "");
  g_assert_true (sluice_s3_client_put_object (f->client, &put, NULL, &error));
  g_assert_no_error (error);
  r1 = server_request (&f->server);
  g_assert_cmpuint (_sluice_s3_client_get_acks (f->client), ==, 0);

  /* HEAD: a length, but no body follows */
  server_answer (&f->server, 0, "200 OK", "ETag: \"e1\"\r\nContent-Length: 123456\r\n", "");
  g_assert_true (sluice_s3_client_head_object (f->client, "a.jpg", &info, &error));
  g_assert_no_error (error);
  g_assert_true (info.exists);
  r2 = server_request (&f->server);
  g_assert_cmpuint (_sluice_s3_client_get_acks (f->client), ==, 0);

  /* a body: acknowledged once, at the end of the head */
  server_answer (&f->server, 0, "200 OK", NULL, "manifest contents");
  g_assert_true (sluice_s3_client_get_object (f->client, "m.csv", 1024, &body, &error));
  g_assert_no_error (error);
  r3 = server_request (&f->server);
  g_assert_cmpuint (_sluice_s3_client_get_acks (f->client), ==, 1);

  /* an error's XML is a body too */
  server_answer (&f->server, 0, "403 Forbidden", NULL,
                 "<Error><Code>AccessDenied</Code><Message>no</Message></Error>");
  g_assert_false (sluice_s3_client_put_object (f->client, &put, NULL, &error));
  g_clear_error (&error);
  r4 = server_request (&f->server);
  g_assert_cmpuint (_sluice_s3_client_get_acks (f->client), ==, 2);

  /* "100 Continue" is followed by the final answer: its head is acknowledged, the final
   * bare one is not */
  server_answer (&f->server, 0, "100 Continue\r\n\r\nHTTP/1.1 200 OK", "ETag: \"e2\"\r\n", "");
  g_assert_true (sluice_s3_client_put_object (f->client, &put, NULL, &error));
  g_assert_no_error (error);
  r5 = server_request (&f->server);
  g_assert_cmpuint (_sluice_s3_client_get_acks (f->client), ==, 3);
}

static void
test_throttled (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r = NULL;

  server_answer (&f->server, 0, "503 Slow Down", NULL,
                 "<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                 "</Message><RequestId>R1</RequestId></Error>");
  g_assert_false (sluice_s3_client_delete_object (f->client, "a.jpg", &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_THROTTLED);
  g_assert_true (sluice_error_is_retryable (error));
  r = server_request (&f->server);
}

static void
test_head_object (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceS3ObjectInfo) missing = { 0 };
  g_auto(SluiceS3ObjectInfo) found = { 0 };
  g_autoptr(Request) r1 = NULL;
  g_autoptr(Request) r2 = NULL;

  /* HEAD answers have no body: a 404 is simply "not there" */
  server_answer (&f->server, 0, "404 Not Found", NULL, "");
  g_assert_true (sluice_s3_client_head_object (f->client, "nope.jpg", &missing, &error));
  g_assert_no_error (error);
  g_assert_false (missing.exists);
  r1 = server_request (&f->server);
  g_assert_cmpstr (r1->method, ==, "HEAD");
  assert_signed (r1, EMPTY_SHA);

  server_answer (&f->server, 0, "200 OK",
                 "ETag: \"abc\"\r\nx-amz-meta-sha256: 0123abcd\r\nContent-Length: 123456\r\n",
                 "");
  g_assert_true (sluice_s3_client_head_object (f->client, "there.jpg", &found, &error));
  g_assert_no_error (error);
  g_assert_true (found.exists);
  g_assert_cmpuint (found.size, ==, 123456);
  g_assert_cmpstr (found.etag, ==, "abc");
  g_assert_cmpstr (found.sha256, ==, "0123abcd");
  r2 = server_request (&f->server);
  g_assert_cmpstr (r2->target, ==, "/photos/there.jpg");
}

static void
test_head_denied (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SluiceS3ObjectInfo) info = { 0 };
  g_autoptr(Request) r = NULL;

  server_answer (&f->server, 0, "403 Forbidden", "x-amz-request-id: HEADREQ\r\n", "");
  g_assert_false (sluice_s3_client_head_object (f->client, "a.jpg", &info, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_ACCESS_DENIED);
  g_assert_nonnull (strstr (error->message, "request id HEADREQ"));
  r = server_request (&f->server);
}

static void
test_get_object (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) none = NULL;
  g_autoptr(Request) r1 = NULL;
  g_autoptr(Request) r2 = NULL;

  server_answer (&f->server, 0, "200 OK", NULL, "manifest contents");
  g_assert_true (sluice_s3_client_get_object (f->client, "m.csv", 1024, &body, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "manifest contents",
                   17);
  r1 = server_request (&f->server);
  g_assert_cmpstr (r1->method, ==, "GET");

  /* bounded: a body over the limit is an error, not a bigger buffer */
  server_answer (&f->server, 0, "200 OK", NULL, "manifest contents");
  g_assert_false (sluice_s3_client_get_object (f->client, "m.csv", 8, &none, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_TOO_LARGE);
  g_assert_null (none);
  r2 = server_request (&f->server);
}

static void
test_check_bucket (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r1 = NULL;
  g_autoptr(Request) r2 = NULL;

  server_answer (&f->server, 0, "200 OK", NULL,
                 "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  g_assert_true (sluice_s3_client_check_bucket (f->client, &error));
  g_assert_no_error (error);
  r1 = server_request (&f->server);
  g_assert_cmpstr (r1->method, ==, "GET");
  g_assert_cmpstr (r1->target, ==, "/photos/?list-type=2&max-keys=1");

  server_answer (&f->server, 0, "404 Not Found", NULL,
                 "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist"
                 "</Message><BucketName>photos</BucketName></Error>");
  g_assert_false (sluice_s3_client_check_bucket (f->client, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_SUCH_BUCKET);
  g_assert_true (g_str_has_prefix (error->message, "LIST s3://photos: NoSuchBucket"));
  r2 = server_request (&f->server);
}

static void
test_create_bucket (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r = NULL;

  static const char expected[] =
    "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<LocationConstraint>eu-test-1</LocationConstraint></CreateBucketConfiguration>";
  g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, expected, -1);
  g_autoptr(SluiceS3Client) east = NULL;
  g_autoptr(Request) r2 = NULL;

  /* outside us-east-1 the region is named, signed with the body's hash */
  server_answer (&f->server, 0, "200 OK", NULL, "");
  g_assert_true (sluice_s3_client_create_bucket (f->client, &error));
  g_assert_no_error (error);
  r = server_request (&f->server);
  g_assert_cmpstr (r->method, ==, "PUT");
  g_assert_cmpstr (r->target, ==, "/photos/");
  g_assert_cmpmem (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body), expected,
                   strlen (expected));
  g_assert_cmpstr (header (r, "x-amz-content-sha256"), ==, sha);
  g_assert_cmpstr (header (r, "content-type"), ==, "application/xml");

  /* in us-east-1, no body */
  g_free (f->target->region);
  f->target->region = g_strdup ("us-east-1");
  east = sluice_s3_client_new (f->target, f->credentials);
  server_answer (&f->server, 0, "200 OK", NULL, "");
  g_assert_true (sluice_s3_client_create_bucket (east, &error));
  g_assert_no_error (error);
  r2 = server_request (&f->server);
  g_assert_cmpuint (g_bytes_get_size (r2->body), ==, 0);

  /* a name another account has: said in plain words */
  server_answer (&f->server, 0, "409 Conflict", NULL,
                 "<Error><Code>BucketAlreadyExists</Code><Message>The requested bucket name is "
                 "not available.</Message></Error>");
  g_assert_false (sluice_s3_client_create_bucket (f->client, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_BUCKET_TAKEN);
  g_clear_pointer (&r, request_free);
  r = server_request (&f->server);
}

typedef struct {
  GPtrArray *keys;
  guint      stop_after;
} Listing;

static gboolean
on_entry (const char *key,
          guint64     size,
          const char *etag,
          const char *last_modified,
          gpointer    user_data)
{
  Listing *l = user_data;

  g_ptr_array_add (l->keys, g_strdup_printf ("%s|%" G_GUINT64_FORMAT "|%s|%s", key, size, etag,
                                             last_modified));
  return l->stop_after == 0 || l->keys->len < l->stop_after;
}

static void
test_list_pages (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  Listing l = { keys, 0 };
  g_autoptr(Request) r1 = NULL;
  g_autoptr(Request) r2 = NULL;

  server_answer (&f->server, 0, "200 OK", NULL,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<ListBucketResult><IsTruncated>true</IsTruncated>"
                 "<Contents><Key>p/a.jpg</Key><LastModified>2024-01-01T00:00:00.000Z"
                 "</LastModified><ETag>&quot;e1&quot;</ETag><Size>10</Size></Contents>"
                 "<Contents><Key>p/b &amp; c.jpg</Key><ETag>\"e2\"</ETag><Size>20</Size>"
                 "</Contents>"
                 "<NextContinuationToken>tok/+=</NextContinuationToken></ListBucketResult>");
  server_answer (&f->server, 0, "200 OK", NULL,
                 "<ListBucketResult><IsTruncated>false</IsTruncated>"
                 "<Contents><Key>p/z.jpg</Key><Size>30</Size></Contents></ListBucketResult>");

  g_assert_true (sluice_s3_client_list_objects (f->client, "p/", on_entry, &l, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (keys->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (keys, 0), ==, "p/a.jpg|10|e1|2024-01-01T00:00:00.000Z");
  g_assert_cmpstr (g_ptr_array_index (keys, 1), ==, "p/b & c.jpg|20|e2|");
  g_assert_cmpstr (g_ptr_array_index (keys, 2), ==, "p/z.jpg|30||");

  /* the query sorted by name and encoded, as SigV4 signs it; the token carried over */
  r1 = server_request (&f->server);
  g_assert_cmpstr (r1->target, ==, "/photos/?list-type=2&max-keys=1000&prefix=p%2F");
  r2 = server_request (&f->server);
  g_assert_cmpstr (r2->target, ==,
                   "/photos/?continuation-token=tok%2F%2B%3D&list-type=2&max-keys=1000"
                   "&prefix=p%2F");
}

static void
test_list_stop (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  Listing l = { keys, 1 };
  g_autoptr(Request) r = NULL;

  server_answer (&f->server, 0, "200 OK", NULL,
                 "<ListBucketResult><IsTruncated>true</IsTruncated>"
                 "<Contents><Key>a</Key><Size>1</Size></Contents>"
                 "<Contents><Key>b</Key><Size>2</Size></Contents>"
                 "<NextContinuationToken>t</NextContinuationToken></ListBucketResult>");
  /* the callback says stop: no more entries, no second page */
  g_assert_true (sluice_s3_client_list_objects (f->client, NULL, on_entry, &l, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (keys->len, ==, 1);
  r = server_request (&f->server);
  g_assert_cmpstr (r->target, ==, "/photos/?list-type=2&max-keys=1000");
  g_assert_null (g_async_queue_try_pop (f->server.requests));
}

static void
test_list_malformed (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  Listing l = { keys, 0 };
  g_autoptr(Request) r1 = NULL;
  g_autoptr(Request) r2 = NULL;

  server_answer (&f->server, 0, "200 OK", NULL, "<ListBucketResult><Contents><Key>a");
  g_assert_false (sluice_s3_client_list_objects (f->client, NULL, on_entry, &l, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROTOCOL);
  g_clear_error (&error);
  r1 = server_request (&f->server);

  /* "more to come" without saying where: an error, not an endless loop or a silent stop */
  server_answer (&f->server, 0, "200 OK", NULL,
                 "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  g_assert_false (sluice_s3_client_list_objects (f->client, NULL, on_entry, &l, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROTOCOL);
  r2 = server_request (&f->server);
}

static gpointer
cancel_later (gpointer user_data)
{
  g_usleep (200 * G_TIME_SPAN_MILLISECOND);
  g_cancellable_cancel (user_data);
  return NULL;
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r = NULL;
  GThread *thread;
  gint64 start = g_get_monotonic_time ();

  /* a server that takes its time; the run is cancelled meanwhile */
  server_answer (&f->server, 20000, "204 No Content", NULL, "");
  sluice_s3_client_set_cancellable (f->client, cancellable);
  thread = g_thread_new ("cancel", cancel_later, cancellable);
  g_assert_false (sluice_s3_client_delete_object (f->client, "a.jpg", &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_thread_join (thread);
  r = server_request (&f->server);
}

/* ---- multipart ---------------------------------------------------------------------------- */

static void
test_multipart_create (Fixture       *f,
                       gconstpointer  data)
{
  SluiceS3PutRequest put = { "big.mov", "video/quicktime", NULL, 0, NULL, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r = NULL;
  g_autoptr(Request) r2 = NULL;
  g_autofree char *upload_id = NULL;

  server_answer (&f->server, 0, "200 OK", NULL,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<InitiateMultipartUploadResult><Bucket>photos</Bucket><Key>big.mov</Key>"
                 "<UploadId>2~abc/def+</UploadId></InitiateMultipartUploadResult>");
  g_assert_true (sluice_s3_client_create_multipart (f->client, &put, &upload_id, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (upload_id, ==, "2~abc/def+");
  r = server_request (&f->server);
  g_assert_cmpstr (r->method, ==, "POST");
  g_assert_cmpstr (r->target, ==, "/photos/big.mov?uploads=");
  g_assert_cmpstr (header (r, "content-type"), ==, "video/quicktime");
  assert_signed (r, EMPTY_SHA);

  /* an answer without an upload id cannot be used */
  g_clear_pointer (&upload_id, g_free);
  server_answer (&f->server, 0, "200 OK", NULL,
                 "<InitiateMultipartUploadResult><Key>big.mov</Key>"
                 "</InitiateMultipartUploadResult>");
  g_assert_false (sluice_s3_client_create_multipart (f->client, &put, &upload_id, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROTOCOL);
  g_assert_null (upload_id);
  r2 = server_request (&f->server);
}

static void
test_multipart_upload_part (Fixture       *f,
                            gconstpointer  data)
{
  static const char part[] = "part one bytes";
  g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, part, -1);
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r = NULL;
  g_autofree char *etag = NULL;

  server_answer (&f->server, 0, "200 OK", "ETag: \"b54357faf0632cce46e942fa68356b38\"\r\n", "");
  g_assert_true (sluice_s3_client_upload_part (f->client, "big.mov", "2~abc/def+", 1,
                                               (const guint8 *) part, strlen (part), sha, &etag,
                                               &error));
  g_assert_no_error (error);
  g_assert_cmpstr (etag, ==, "b54357faf0632cce46e942fa68356b38");
  r = server_request (&f->server);
  g_assert_cmpstr (r->method, ==, "PUT");
  /* the query sorted by name, the upload id encoded */
  g_assert_cmpstr (r->target, ==, "/photos/big.mov?partNumber=1&uploadId=2~abc%2Fdef%2B");
  g_assert_cmpmem (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body), part,
                   strlen (part));
  assert_signed (r, sha);
}

static void
test_multipart_complete (Fixture       *f,
                         gconstpointer  data)
{
  SluiceS3Part parts[] = {
    { 1, "b54357faf0632cce46e942fa68356b38", 5 * 1024 * 1024 },
    { 2, "0cc175b9c0f1b6a831c399e269772661", 17 },
  };
  const char *expected_body =
    "<CompleteMultipartUpload>"
    "<Part><PartNumber>1</PartNumber><ETag>\"b54357faf0632cce46e942fa68356b38\"</ETag></Part>"
    "<Part><PartNumber>2</PartNumber><ETag>\"0cc175b9c0f1b6a831c399e269772661\"</ETag></Part>"
    "</CompleteMultipartUpload>";
  g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, expected_body, -1);
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r = NULL;
  g_autofree char *etag = NULL;

  server_answer (&f->server, 0, "200 OK", NULL,
                 "<CompleteMultipartUploadResult><Key>big.mov</Key>"
                 "<ETag>&quot;3858f62230ac3c915f300c664312c11f-2&quot;</ETag>"
                 "</CompleteMultipartUploadResult>");
  g_assert_true (sluice_s3_client_complete_multipart (f->client, "big.mov", "u1", parts, 2, TRUE,
                                                      &etag, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (etag, ==, "3858f62230ac3c915f300c664312c11f-2");

  r = server_request (&f->server);
  g_assert_cmpstr (r->method, ==, "POST");
  g_assert_cmpstr (r->target, ==, "/photos/big.mov?uploadId=u1");
  g_assert_cmpmem (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body), expected_body,
                   strlen (expected_body));
  g_assert_cmpstr (header (r, "content-type"), ==, "application/xml");
  /* --no-overwrite: the server refuses to replace an existing object */
  g_assert_cmpstr (header (r, "if-none-match"), ==, "*");
  assert_signed (r, sha);
}

static void
test_multipart_complete_late_error (Fixture       *f,
                                    gconstpointer  data)
{
  SluiceS3Part parts[] = { { 1, "b54357faf0632cce46e942fa68356b38", 1 } };
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r = NULL;
  g_autofree char *etag = NULL;

  /* S3 may answer 200 and then an error document, after a long wait */
  server_answer (&f->server, 0, "200 OK", NULL,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n"
                 "<Error><Code>InternalError</Code><Message>We encountered an internal error. "
                 "Please try again.</Message><RequestId>LATE1</RequestId></Error>");
  g_assert_false (sluice_s3_client_complete_multipart (f->client, "big.mov", "u1", parts, 1,
                                                       FALSE, &etag, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_SERVER);
  g_assert_nonnull (strstr (error->message, "request id LATE1"));
  g_assert_true (sluice_error_is_retryable (error));
  r = server_request (&f->server);
  g_assert_null (header (r, "if-none-match"));
}

static void
test_multipart_complete_empty_etag (Fixture       *f,
                                    gconstpointer  data)
{
  SluiceS3Part parts[] = { { 1, "b54357faf0632cce46e942fa68356b38", 1 } };
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r1 = NULL;
  g_autoptr(Request) r2 = NULL;
  g_autofree char *etag = NULL;

  /* Ceph RGW 16 completes with an empty <ETag/>: the object is asked instead */
  server_answer (&f->server, 0, "200 OK", NULL,
                 "<CompleteMultipartUploadResult><ETag/></CompleteMultipartUploadResult>");
  server_answer (&f->server, 0, "200 OK", "ETag: \"feed-1\"\r\nContent-Length: 1\r\n", "");
  g_assert_true (sluice_s3_client_complete_multipart (f->client, "big.mov", "u1", parts, 1,
                                                      FALSE, &etag, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (etag, ==, "feed-1");
  r1 = server_request (&f->server);
  r2 = server_request (&f->server);
  g_assert_cmpstr (r2->method, ==, "HEAD");
  g_assert_cmpstr (r2->target, ==, "/photos/big.mov");
}

static void
test_multipart_abort (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Request) r1 = NULL;
  g_autoptr(Request) r2 = NULL;
  g_autoptr(Request) r3 = NULL;

  server_answer (&f->server, 0, "204 No Content", NULL, "");
  g_assert_true (sluice_s3_client_abort_multipart (f->client, "big.mov", "u/1", &error));
  g_assert_no_error (error);
  r1 = server_request (&f->server);
  g_assert_cmpstr (r1->method, ==, "DELETE");
  g_assert_cmpstr (r1->target, ==, "/photos/big.mov?uploadId=u%2F1");

  /* already gone is what abort wanted */
  server_answer (&f->server, 0, "404 Not Found", NULL,
                 "<Error><Code>NoSuchUpload</Code></Error>");
  g_assert_true (sluice_s3_client_abort_multipart (f->client, "big.mov", "u/1", &error));
  g_assert_no_error (error);
  r2 = server_request (&f->server);

  server_answer (&f->server, 0, "403 Forbidden", NULL,
                 "<Error><Code>AccessDenied</Code><Message>no</Message></Error>");
  g_assert_false (sluice_s3_client_abort_multipart (f->client, "big.mov", "u/1", &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_ACCESS_DENIED);
  r3 = server_request (&f->server);
}

static gboolean
on_part (guint       number,
         guint64     size,
         const char *etag,
         gpointer    user_data)
{
  g_ptr_array_add (user_data, g_strdup_printf ("%u|%" G_GUINT64_FORMAT "|%s", number, size,
                                               etag));
  return TRUE;
}

static void
test_multipart_list_parts (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(Request) r1 = NULL;
  g_autoptr(Request) r2 = NULL;
  g_autoptr(Request) r3 = NULL;

  server_answer (&f->server, 0, "200 OK", NULL,
                 "<ListPartsResult><IsTruncated>true</IsTruncated>"
                 "<NextPartNumberMarker>1</NextPartNumberMarker>"
                 "<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag><Size>5242880</Size></Part>"
                 "</ListPartsResult>");
  server_answer (&f->server, 0, "200 OK", NULL,
                 "<ListPartsResult><IsTruncated>false</IsTruncated>"
                 "<Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag><Size>17</Size></Part>"
                 "<Part><PartNumber>0</PartNumber><ETag>\"bogus\"</ETag><Size>1</Size></Part>"
                 "</ListPartsResult>");
  g_assert_true (sluice_s3_client_list_parts (f->client, "big.mov", "u1", on_part, parts,
                                              &error));
  g_assert_no_error (error);
  /* a part number out of range is not reported */
  g_assert_cmpuint (parts->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (parts, 0), ==, "1|5242880|e1");
  g_assert_cmpstr (g_ptr_array_index (parts, 1), ==, "2|17|e2");
  r1 = server_request (&f->server);
  g_assert_cmpstr (r1->target, ==, "/photos/big.mov?max-parts=1000&uploadId=u1");
  r2 = server_request (&f->server);
  g_assert_cmpstr (r2->target, ==,
                   "/photos/big.mov?max-parts=1000&part-number-marker=1&uploadId=u1");

  server_answer (&f->server, 0, "404 Not Found", NULL,
                 "<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist."
                 "</Message></Error>");
  g_assert_false (sluice_s3_client_list_parts (f->client, "big.mov", "u1", on_part, parts,
                                               &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_NO_SUCH_UPLOAD);
  r3 = server_request (&f->server);
}

static void
test_multipart_etag (void)
{
  const char *md5s[] = { "b54357faf0632cce46e942fa68356b38", "0CC175B9C0F1B6A831C399E269772661" };
  SluiceS3Part parts[] = { { 1, (char *) md5s[0], 0 }, { 2, (char *) md5s[1], 0 } };
  SluiceS3Part bad_hex[] = { { 1, "zz4357faf0632cce46e942fa68356b38", 0 } };
  SluiceS3Part short_etag[] = { { 1, "b54357faf0632cce", 0 } };
  SluiceS3Part no_etag[] = { { 1, NULL, 0 } };
  g_autoptr(GChecksum) md5 = g_checksum_new (G_CHECKSUM_MD5);
  g_autofree char *expected = NULL;
  g_autofree char *etag = NULL;
  g_autofree char *bad = NULL;

  /* what S3 computes: MD5 over the parts' binary MD5s, then "-" and the number of parts */
  for (guint i = 0; i < G_N_ELEMENTS (md5s); i++)
    for (int j = 0; j < 16; j++)
      {
        guint8 byte = g_ascii_xdigit_value (md5s[i][2 * j]) << 4 |
                      g_ascii_xdigit_value (md5s[i][2 * j + 1]);
        g_checksum_update (md5, &byte, 1);
      }
  expected = g_strdup_printf ("%s-2", g_checksum_get_string (md5));
  etag = sluice_s3_multipart_etag (parts, 2);
  g_assert_cmpstr (etag, ==, expected);

  bad = sluice_s3_multipart_etag (bad_hex, 1);
  g_assert_null (bad);
  bad = sluice_s3_multipart_etag (short_etag, 1);
  g_assert_null (bad);
  bad = sluice_s3_multipart_etag (no_etag, 1);
  g_assert_null (bad);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/s3-client/error/codes", test_codes);
  g_test_add_func ("/engine/s3-client/error/message-parts", test_message_parts);
  g_test_add_func ("/engine/s3-client/error/request-id-from-header", test_request_id_from_header);
  g_test_add_func ("/engine/s3-client/error/empty-message", test_empty_message);
  g_test_add_func ("/engine/s3-client/error/status-fallback", test_status_fallback);
  g_test_add_func ("/engine/s3-client/error/unknown-code", test_unknown_code);
  g_test_add_func ("/engine/s3-client/error/not-xml", test_not_xml);
  g_test_add_func ("/engine/s3-client/error/nested-code-ignored", test_nested_code_ignored);
  g_test_add_func ("/engine/s3-client/error/hostile-text", test_hostile_text);
  g_test_add_func ("/engine/s3-client/error/null-error", test_null_error);
  g_test_add_func ("/engine/s3-client/no-credentials-before-network",
                   test_no_credentials_before_network);
  g_test_add_func ("/engine/s3-client/connect-refused", test_connect_refused);
  g_test_add_func ("/engine/s3-client/multipart/etag", test_multipart_etag);
#define ADD(path, fn, token) \
  g_test_add ("/engine/s3-client/" path, Fixture, GINT_TO_POINTER (token), fixture_set_up, fn, \
              fixture_tear_down)
  ADD ("put-object", test_put_object, FALSE);
  ADD ("put-large-and-limited", test_put_large_and_limited, FALSE);
  ADD ("session-token", test_session_token, TRUE);
  ADD ("put-without-etag", test_put_without_etag, FALSE);
  ADD ("put-error", test_put_error, FALSE);
  ADD ("quickack-only-with-sequel", test_quickack_only_with_sequel, FALSE);
  ADD ("throttled", test_throttled, FALSE);
  ADD ("head-object", test_head_object, FALSE);
  ADD ("head-denied", test_head_denied, FALSE);
  ADD ("get-object", test_get_object, FALSE);
  ADD ("check-bucket", test_check_bucket, FALSE);
  ADD ("create-bucket", test_create_bucket, FALSE);
  ADD ("list-pages", test_list_pages, FALSE);
  ADD ("list-stop", test_list_stop, FALSE);
  ADD ("list-malformed", test_list_malformed, FALSE);
  ADD ("cancel", test_cancel, FALSE);
  ADD ("multipart/create", test_multipart_create, FALSE);
  ADD ("multipart/upload-part", test_multipart_upload_part, FALSE);
  ADD ("multipart/complete", test_multipart_complete, FALSE);
  ADD ("multipart/complete-late-error", test_multipart_complete_late_error, FALSE);
  ADD ("multipart/complete-empty-etag", test_multipart_complete_empty_etag, FALSE);
  ADD ("multipart/abort", test_multipart_abort, FALSE);
  ADD ("multipart/list-parts", test_multipart_list_parts, FALSE);
#undef ADD

  return g_test_run ();
}
