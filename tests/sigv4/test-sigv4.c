/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SigV4, held against AWS's published examples (Amazon S3 API reference, "Signature
 * Calculations for the Authorization Header" and "Authenticating Requests: Using Query
 * Parameters": access key AKIAIOSFODNN7EXAMPLE, 24 May 2013, us-east-1, examplebucket), and
 * libcurl's signing pinned to it: a different curl (the Flatpak runtime's is newer than
 * Debian's 7.88) that canonicalises differently fails here, not against a server.
 */
#include "config.h"

#include <curl/curl.h>
#include <gio/gio.h>
#include <string.h>

#include "sluice-engine.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
check (const char *method,
       const char *uri,
       const char *query,
       char      **headers,
       const char *payload,
       const char *expected_signature)
{
  SluiceSigV4Request r = {
    .method = method, .canonical_uri = uri, .canonical_query = query, .headers = headers,
    .payload_hash = payload, .region = "us-east-1", .service = "s3",
    .amz_date = "20130524T000000Z", .access_key = AK, .secret_key = SK,
  };
  g_autofree char *auth = sluice_sigv4_authorization (&r);
  g_autofree char *tail = g_strdup_printf ("Signature=%s", expected_signature);

  g_assert_true (g_str_has_prefix (auth, "AWS4-HMAC-SHA256 Credential=" AK
                                         "/20130524/us-east-1/s3/aws4_request,SignedHeaders="));
  g_assert_true (g_str_has_suffix (auth, tail));
}

static void
test_get_object (void)
{
  char *headers[] = { "host:examplebucket.s3.amazonaws.com", "range:bytes=0-9",
                      "x-amz-content-sha256:" EMPTY, "x-amz-date:20130524T000000Z", NULL };
  SluiceSigV4Request r = {
    .method = "GET", .canonical_uri = "/test.txt", .canonical_query = "", .headers = headers,
    .payload_hash = EMPTY, .region = "us-east-1", .service = "s3",
    .amz_date = "20130524T000000Z", .access_key = AK, .secret_key = SK,
  };
  g_autofree char *signed_headers = NULL;
  g_autofree char *canonical = sluice_sigv4_canonical_request (&r, &signed_headers);

  /* the canonical request exactly as the documentation prints it */
  g_assert_cmpstr (canonical, ==,
                   "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                   "x-amz-content-sha256:" EMPTY "\nx-amz-date:20130524T000000Z\n\n"
                   "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY);
  /* and the string to sign */
  {
    g_autofree char *sts = sluice_sigv4_string_to_sign (&r, canonical);

    g_assert_cmpstr (sts, ==,
                     "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                     "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  }
  check ("GET", "/test.txt", "", headers, EMPTY,
         "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

/* The canonical request of @r, checked against the documentation's text. */
static void
check_canonical (SluiceSigV4Request *r,
                 const char         *expected)
{
  g_autofree char *signed_headers = NULL;
  g_autofree char *canonical = sluice_sigv4_canonical_request (r, &signed_headers);

  g_assert_cmpstr (canonical, ==, expected);
}

static void
test_put_object (void)
{
  const char *payload = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
  char *headers[] = { "date:Fri, 24 May 2013 00:00:00 GMT", "host:examplebucket.s3.amazonaws.com",
                      "x-amz-date:20130524T000000Z", "x-amz-storage-class:REDUCED_REDUNDANCY",
                      (char *) "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
                      NULL };
  char body_hash[65];

  /* the example's body is "Welcome to Amazon S3." */
  sluice_sha256_hex ((const guint8 *) "Welcome to Amazon S3.", 21, body_hash);
  g_assert_cmpstr (body_hash, ==, payload);
  {
    SluiceSigV4Request r = {
      .method = "PUT", .canonical_uri = "/test%24file.text", .canonical_query = "",
      .headers = headers, .payload_hash = payload, .region = "us-east-1", .service = "s3",
      .amz_date = "20130524T000000Z", .access_key = AK, .secret_key = SK,
    };
    check_canonical (&r, "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
                         "host:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:"
                         "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
                         "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
                         "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
                         "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  }
  check ("PUT", "/test%24file.text", "", headers, payload,
         "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

static void
test_get_lifecycle (void)
{
  char *headers[] = { "host:examplebucket.s3.amazonaws.com", "x-amz-content-sha256:" EMPTY,
                      "x-amz-date:20130524T000000Z", NULL };

  SluiceSigV4Request r = {
    .method = "GET", .canonical_uri = "/", .canonical_query = "lifecycle=", .headers = headers,
    .payload_hash = EMPTY, .region = "us-east-1", .service = "s3",
    .amz_date = "20130524T000000Z", .access_key = AK, .secret_key = SK,
  };

  check_canonical (&r, "GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\n"
                       "x-amz-content-sha256:" EMPTY "\nx-amz-date:20130524T000000Z\n\n"
                       "host;x-amz-content-sha256;x-amz-date\n" EMPTY);
  check ("GET", "/", "lifecycle=", headers, EMPTY,
         "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

static void
test_list_objects (void)
{
  char *headers[] = { "host:examplebucket.s3.amazonaws.com", "x-amz-content-sha256:" EMPTY,
                      "x-amz-date:20130524T000000Z", NULL };

  SluiceSigV4Request r = {
    .method = "GET", .canonical_uri = "/", .canonical_query = "max-keys=2&prefix=J",
    .headers = headers, .payload_hash = EMPTY, .region = "us-east-1", .service = "s3",
    .amz_date = "20130524T000000Z", .access_key = AK, .secret_key = SK,
  };

  check_canonical (&r, "GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\n"
                       "x-amz-content-sha256:" EMPTY "\nx-amz-date:20130524T000000Z\n\n"
                       "host;x-amz-content-sha256;x-amz-date\n" EMPTY);
  check ("GET", "/", "max-keys=2&prefix=J", headers, EMPTY,
         "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

static void
test_presign (void)
{
  g_autoptr(GDateTime) when = g_date_time_new_utc (2013, 5, 24, 0, 0, 0);
  g_autofree char *url = sluice_sigv4_presign ("GET", "https://examplebucket.s3.amazonaws.com",
                                               "examplebucket.s3.amazonaws.com", "/test.txt",
                                               "us-east-1", AK, SK, NULL, when, 86400);

  g_assert_cmpstr (url, ==,
                   "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                   "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                   "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                   "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

/* ---- curl pinned: a tiny HTTP server that keeps the request's head ----------------------- */

typedef struct {
  GSocketListener *listener;
  guint16          port;
  char            *head;
} Capture;

static gpointer
serve_one (gpointer data)
{
  Capture *c = data;
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GString) head = g_string_new (NULL);
  GInputStream *in;
  GOutputStream *out;
  static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nETag: \"x\"\r\n\r\n";
  char buf[4096];

  conn = g_socket_listener_accept (c->listener, NULL, NULL, NULL);
  if (conn == NULL)
    return NULL;
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  while (strstr (head->str, "\r\n\r\n") == NULL && head->len < 65536)
    {
      gssize n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL);
      if (n <= 0)
        break;
      g_string_append_len (head, buf, n);
    }
  g_output_stream_write_all (out, reply, strlen (reply), NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  c->head = g_string_free (g_steal_pointer (&head), FALSE);
  return NULL;
}

static char *
header_of (const char *head,
           const char *name)
{
  g_auto(GStrv) lines = g_strsplit (head, "\r\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      gsize n = strlen (name);
      if (g_ascii_strncasecmp (lines[i], name, n) == 0 && lines[i][n] == ':')
        return g_strstrip (g_strdup (lines[i] + n + 1));
    }
  return NULL;
}

static void
test_curl_pinned (void)
{
  Capture c = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceTarget) target = sluice_target_new ();
  g_autoptr(SluiceCredentialsProvider) creds = sluice_credentials_provider_new (NULL);
  g_autoptr(SluiceS3Client) s3 = NULL;
  g_auto(SluiceS3ObjectInfo) info = { 0 };
  g_autofree char *host = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *ours = NULL;
  g_autofree char *host_header = NULL;
  GThread *thread;

  c.listener = g_socket_listener_new ();
  c.port = g_socket_listener_add_any_inet_port (c.listener, NULL, &error);
  g_assert_no_error (error);
  thread = g_thread_new ("capture", serve_one, &c);

  sluice_credentials_provider_set_explicit (creds, AK, SK, NULL);
  target->endpoint = g_strdup_printf ("http://127.0.0.1:%u", c.port);
  target->bucket = g_strdup ("examplebucket");
  target->path_style = TRUE;
  s3 = sluice_s3_client_new (target, creds);
  sluice_s3_client_set_fixed_date (s3, "20130524T000000Z");
  sluice_s3_client_head_object (s3, "photos/IMG 0001+x.JPG", &info, &error);
  g_assert_no_error (error);
  g_thread_join (thread);
  g_object_unref (c.listener);

  g_assert_nonnull (c.head);
  g_assert_true (g_str_has_prefix (c.head,
                                   "HEAD /examplebucket/photos/IMG%200001%2Bx.JPG HTTP/1.1\r\n"));
  auth = header_of (c.head, "Authorization");
  g_assert_nonnull (auth);

  /* what Sluice's own implementation says the same request must carry */
  host_header = g_strdup_printf ("host:127.0.0.1:%u", c.port);
  {
    char *headers[] = { host_header, "x-amz-content-sha256:" EMPTY,
                        "x-amz-date:20130524T000000Z", NULL };
    SluiceSigV4Request r = {
      .method = "HEAD", .canonical_uri = "/examplebucket/photos/IMG%200001%2Bx.JPG",
      .canonical_query = "", .headers = headers, .payload_hash = EMPTY, .region = "us-east-1",
      .service = "s3", .amz_date = "20130524T000000Z", .access_key = AK, .secret_key = SK,
    };
    ours = sluice_sigv4_authorization (&r);
  }
  /* curl writes ", " between the parts, the documentation ","; the parts must agree */
  {
    g_autofree char *curl_compact = g_strdup (auth);
    g_autoptr(GString) s = g_string_new (NULL);
    for (const char *p = curl_compact; *p != '\0'; p++)
      if (!(*p == ' ' && p > curl_compact && p[-1] == ','))
        g_string_append_c (s, *p);
    g_assert_cmpstr (s->str, ==, ours);
  }
  g_free (c.head);
}

/* libcurl itself on AWS's examples: the request the documentation signs, sent by curl with
 * CURLOPT_AWS_SIGV4 to the documentation's host (connected to a local capture server), must
 * carry the documentation's Authorization header, byte for byte but for curl's ", ". */
static char *
curl_authorization (const char  *method,
                    const char  *path,
                    const char **extra_headers,
                    const char  *body)
{
  Capture c = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *connect_to = NULL;
  g_autofree char *url = NULL;
  struct curl_slist *headers = NULL;
  struct curl_slist *connect = NULL;
  CURL *curl;
  CURLcode code;
  GThread *thread;
  char *auth;

  c.listener = g_socket_listener_new ();
  c.port = g_socket_listener_add_any_inet_port (c.listener, NULL, &error);
  g_assert_no_error (error);
  thread = g_thread_new ("capture", serve_one, &c);

  connect_to = g_strdup_printf ("examplebucket.s3.amazonaws.com:80:127.0.0.1:%u", c.port);
  connect = curl_slist_append (NULL, connect_to);
  url = g_strconcat ("http://examplebucket.s3.amazonaws.com", path, NULL);
  headers = curl_slist_append (headers, "x-amz-date: 20130524T000000Z");
  for (guint i = 0; extra_headers[i] != NULL; i++)
    headers = curl_slist_append (headers, extra_headers[i]);
  /* no "Accept:" / "Expect:" to remove curl's own: curl 7.88 signs such empty headers
   * although it does not send them (docs/DESIGN.md) */

  curl = curl_easy_init ();
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_CONNECT_TO, connect);
  curl_easy_setopt (curl, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
  curl_easy_setopt (curl, CURLOPT_USERPWD, AK ":" SK);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  if (body != NULL)
    {
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long) strlen (body));
    }
  code = curl_easy_perform (curl);
  g_assert_cmpint (code, ==, CURLE_OK);
  curl_easy_cleanup (curl);
  curl_slist_free_all (headers);
  curl_slist_free_all (connect);
  g_thread_join (thread);
  g_object_unref (c.listener);

  g_assert_nonnull (c.head);
  auth = header_of (c.head, "Authorization");
  g_assert_nonnull (auth);
  g_free (c.head);
  return auth;
}

static void
assert_same_authorization (const char *curls,
                           const char *documented)
{
  g_autoptr(GString) compact = g_string_new (NULL);

  for (const char *p = curls; *p != '\0'; p++)
    if (!(*p == ' ' && p > curls && p[-1] == ','))
      g_string_append_c (compact, *p);
  g_assert_cmpstr (compact->str, ==, documented);
}

static void
test_curl_aws_get_object (void)
{
  const char *headers[] = { "Range: bytes=0-9", "x-amz-content-sha256: " EMPTY, NULL };
  g_autofree char *auth = curl_authorization ("GET", "/test.txt", headers, NULL);

  g_test_message ("curl %s: %s", curl_version_info (CURLVERSION_NOW)->version, auth);
  assert_same_authorization (auth,
      "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void
test_curl_aws_list_objects (void)
{
  const char *headers[] = { "x-amz-content-sha256: " EMPTY, NULL };
  g_autofree char *auth = curl_authorization ("GET", "/?max-keys=2&prefix=J", headers, NULL);

  assert_same_authorization (auth,
      "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
      "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/sigv4/aws-example/get-object", test_get_object);
  g_test_add_func ("/engine/sigv4/aws-example/put-object", test_put_object);
  g_test_add_func ("/engine/sigv4/aws-example/get-lifecycle", test_get_lifecycle);
  g_test_add_func ("/engine/sigv4/aws-example/list-objects", test_list_objects);
  g_test_add_func ("/engine/sigv4/aws-example/presigned-url", test_presign);
  g_test_add_func ("/engine/sigv4/curl-pinned", test_curl_pinned);
  g_test_add_func ("/engine/sigv4/curl-aws-example/get-object", test_curl_aws_get_object);
  g_test_add_func ("/engine/sigv4/curl-aws-example/list-objects", test_curl_aws_list_objects);
  return g_test_run ();
}
