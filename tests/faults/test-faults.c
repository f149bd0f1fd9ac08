/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fault tests: sluice-cli ingests through sluice-fault-proxy.py, a proxy that drops, stalls,
 * throttles, refuses, expires credentials and kills the client on a schedule, in front of the
 * real test S3 server (Ceph RGW on 127.0.0.1). Every test checks the result from the server's
 * side (listing and ETags read directly from SLUICE_TEST_S3_ENDPOINT, not through the proxy)
 * and what was sent how often from the proxy's counts.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libexif/exif-data.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice-engine.h"

#define MiB (1024 * 1024)

/* Every ingest here sends files of 8 MiB or more in 5 MiB parts, so that multipart uploads
 * are exercised with files of tens of MiB rather than hundreds. */
#define MULTIPART_THRESHOLD (8 * MiB)
#define PART_SIZE           (5 * MiB)

static const char *endpoint;   /* the real server */
static const char *cli;
static char *shared_dir;       /* trees shared by several tests, removed at the end */

/* The CLI and the proxies die with the test: a failed assertion aborts it, and neither may
 * linger (holding the server, or the pipes meson reads). */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* ---- running the CLI ---------------------------------------------------------------------- */

typedef struct {
  int       status;     /* exit status, or -1 when a signal ended it */
  int       signal;     /* that signal, or 0 */
  gboolean  timed_out;  /* killed by the test after its time ran out */
  double    seconds;
  char     *out;
  char     *err;
} CliResult;

static void
cli_result_clear (CliResult *r)
{
  g_free (r->out);
  g_free (r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliResult, cli_result_clear)

/* Called about every 50 ms while the CLI runs (to act mid-run); returns FALSE to stop. */
typedef gboolean (*TickFunc) (gpointer user_data);

typedef struct {
  const char         *src;        /* default: the fixture's src/ */
  const char         *prefix;     /* default: "photos" */
  const char         *catalog;    /* default: the fixture's catalog */
  const char * const *extra;      /* more options */
  const char * const *env;        /* "NAME=VALUE" to set, "NAME" to unset */
  guint               timeout_s;  /* default 180 */
  TickFunc            tick;
  gpointer            tick_data;
  const char         *pid_file;   /* the CLI's PID goes there, for the proxy's kill-client */
} Ingest;

typedef struct {
  gboolean  done;
  char     *out;
  char     *err;
  GError   *error;
} Communicate;

static void
communicate_done (GObject      *source,
                  GAsyncResult *res,
                  gpointer      user_data)
{
  Communicate *c = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), res, &c->out, &c->err,
                                        &c->error);
  c->done = TRUE;
}

static gboolean
wake (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Waits for @p, bounded: after @timeout_s it is killed and the result says so. */
static void
cli_wait (GSubprocess *p,
          CliResult   *r,
          gint64       started,
          guint        timeout_s,
          TickFunc     tick,
          gpointer     tick_data)
{
  Communicate c = { 0 };
  gint64 deadline = started + (gint64) timeout_s * G_USEC_PER_SEC;
  gint64 next_tick = 0;
  guint waker = g_timeout_add (50, wake, NULL);

  g_subprocess_communicate_utf8_async (p, NULL, NULL, communicate_done, &c);
  while (!c.done)
    {
      g_main_context_iteration (NULL, TRUE);
      if (tick != NULL && !c.done && g_get_monotonic_time () >= next_tick)
        {
          next_tick = g_get_monotonic_time () + 50 * 1000;
          if (!tick (tick_data))
            tick = NULL;
        }
      if (!r->timed_out && g_get_monotonic_time () > deadline)
        {
          r->timed_out = TRUE;
          g_subprocess_send_signal (p, SIGKILL);
        }
    }
  g_source_remove (waker);
  g_assert_no_error (c.error);
  r->seconds = (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC;
  r->out = c.out;
  r->err = c.err;
  r->status = g_subprocess_get_if_exited (p) ? g_subprocess_get_exit_status (p) : -1;
  r->signal = g_subprocess_get_if_signaled (p) ? g_subprocess_get_term_sig (p) : 0;
  if (g_test_verbose ())
    g_printerr ("[exit %d, signal %d, %.1f s]\n%s%s", r->status, r->signal, r->seconds,
                r->out, r->err);
}

/* The exit status, and what the CLI said when it is not the one expected. */
static void
assert_exit (const CliResult *r,
             int              expected)
{
  if (r->status != expected)
    {
      gsize len = strlen (r->err);
      g_test_message ("exit %d (signal %d%s) after %.1f s; stdout: %s", r->status, r->signal,
                      r->timed_out ? ", timed out" : "", r->seconds, r->out);
      g_test_message ("stderr (end): %s", r->err + (len > 4000 ? len - 4000 : 0));
    }
  g_assert_false (r->timed_out);
  g_assert_cmpint (r->status, ==, expected);
}

static JsonObject *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* A summary member the engine must report; named in the log when it is missing (the fields
 * "retries", "throttled", "concurrency_min" and "paused_seconds" are new). */
static double
summary_number (JsonObject *summary,
                const char *name)
{
  if (!json_object_has_member (summary, name))
    g_test_message ("the --json summary has no \"%s\"", name);
  g_assert_true (json_object_has_member (summary, name));
  return json_object_get_double_member (summary, name);
}

static gint64
summary_files (JsonObject *summary,
               const char *stage)
{
  return json_object_get_int_member (json_object_get_object_member (summary, "files"), stage);
}

/* A run that ended well: exit 0, all of @files uploaded, none failed. Returns its --json
 * summary. */
static JsonObject *
assert_all_uploaded (const CliResult *r,
                     GPtrArray       *files)
{
  JsonObject *s;

  assert_exit (r, 0);
  s = parse_json (r->out);
  g_assert_cmpint (summary_files (s, "failed"), ==, 0);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, files->len);
  return s;
}

static gboolean
contains_ci (const char *haystack,
             const char *needle)
{
  g_autofree char *h = g_utf8_strdown (haystack, -1);
  g_autofree char *n = g_utf8_strdown (needle, -1);

  return strstr (h, n) != NULL;
}

/* ---- the proxy ------------------------------------------------------------------------------- */

typedef struct {
  GSubprocess *proc;
  char        *port_file;
  char        *stats_file;
  char        *pid_file;    /* the PID it kills for "kill-client" */
  char        *log_file;
  char        *endpoint;    /* http://127.0.0.1:PORT, what the CLI is pointed at */
} Proxy;

static void
proxy_free (Proxy *p)
{
  if (p->proc != NULL)
    {
      g_subprocess_send_signal (p->proc, SIGTERM);
      g_subprocess_wait (p->proc, NULL, NULL);
      g_object_unref (p->proc);
    }
  g_free (p->port_file);
  g_free (p->stats_file);
  g_free (p->pid_file);
  g_free (p->log_file);
  g_free (p->endpoint);
  g_free (p);
}

static Proxy *
proxy_start (const char *dir,
             const char *schedule)
{
  static guint counter;
  Proxy *p = g_new0 (Proxy, 1);
  g_autofree char *base = g_strdup_printf ("%s/proxy-%u", dir, ++counter);
  g_autoptr(GUri) uri = g_uri_parse (endpoint, G_URI_FLAGS_NONE, NULL);
  g_autofree char *upstream = g_strdup_printf ("127.0.0.1:%d", g_uri_get_port (uri));
  const char *python = g_getenv ("SLUICE_PYTHON3") ? g_getenv ("SLUICE_PYTHON3") : "python3";
  /* stdout is TAP's: the proxy prints nothing there, but make sure */
  g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GError) error = NULL;
  g_autofree char *port = NULL;

  p->port_file = g_strconcat (base, ".port", NULL);
  p->stats_file = g_strconcat (base, ".stats.json", NULL);
  p->pid_file = g_strconcat (base, ".client-pid", NULL);
  p->log_file = g_strconcat (base, ".log", NULL);
  g_subprocess_launcher_set_child_setup (l, die_with_parent, NULL, NULL);
  p->proc = g_subprocess_launcher_spawn (l, &error, python, g_getenv ("SLUICE_FAULT_PROXY"),
                                         "--listen", "127.0.0.1:0", "--upstream", upstream,
                                         "--port-file", p->port_file,
                                         "--stats-file", p->stats_file,
                                         "--kill-pid-file", p->pid_file,
                                         "--log", p->log_file, "--schedule", schedule, NULL);
  g_assert_no_error (error);
  for (int tries = 0; tries < 500 && !g_file_get_contents (p->port_file, &port, NULL, NULL);
       tries++)
    g_usleep (20 * 1000);
  g_assert_nonnull (port);
  p->endpoint = g_strdup_printf ("http://127.0.0.1:%d", atoi (port));
  return p;
}

/* The proxy's counts now: it rewrites its stats file on SIGUSR1. */
static JsonObject *
proxy_stats (Proxy *p)
{
  g_autofree char *text = NULL;

  g_unlink (p->stats_file);
  g_subprocess_send_signal (p->proc, SIGUSR1);
  for (int tries = 0; tries < 500 && !g_file_get_contents (p->stats_file, &text, NULL, NULL);
       tries++)
    g_usleep (10 * 1000);
  g_assert_nonnull (text);
  return parse_json (text);
}

static gint64
member_int (JsonObject *o,
            const char *name)
{
  return o != NULL && json_object_has_member (o, name) ? json_object_get_int_member (o, name)
                                                       : 0;
}

static JsonObject *
member_object (JsonObject *o,
               const char *name)
{
  if (o == NULL || !json_object_has_member (o, name) ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, name)))
    return NULL;
  return json_object_get_object_member (o, name);
}

/* stats.faults[name] */
static gint64
faults_of (JsonObject *stats,
           const char *name)
{
  return member_int (member_object (stats, "faults"), name);
}

/* stats.objects[key] */
static JsonObject *
object_stats (JsonObject *stats,
              const char *key)
{
  return member_object (member_object (stats, "objects"), key);
}

/* Bytes that crossed the wire more than once: per attempt list, all but the largest. */
static gint64
resent_bytes (JsonArray *attempts)
{
  gint64 sum = 0, max = 0;

  if (attempts == NULL)
    return 0;
  for (guint i = 0; i < json_array_get_length (attempts); i++)
    {
      gint64 b = json_array_get_int_element (attempts, i);
      sum += b;
      max = MAX (max, b);
    }
  return sum - max;
}

/* ---- fixtures, trees, the server's side ------------------------------------------------------ */

typedef struct {
  SluiceCredentialsProvider *creds;
  SluiceS3Client            *s3;
  char                      *bucket;
  char                      *dir;      /* test folder: src/, catalog.db, the proxies' files */
  char                      *src;
  char                      *catalog;
  GPtrArray                 *proxies;  /* Proxy: stopped at the end */
  GPtrArray                 *files;    /* relative paths of what must arrive */
} Fixture;

static SluiceTarget *
target_for (const char *bucket)
{
  SluiceTarget *t = sluice_target_new ();

  t->endpoint = g_strdup (endpoint);
  t->bucket = g_strdup (bucket);
  g_free (t->region);
  t->region = g_strdup (g_getenv ("AWS_DEFAULT_REGION") ? g_getenv ("AWS_DEFAULT_REGION")
                                                         : "us-east-1");
  t->path_style = TRUE;
  return t;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(SluiceTarget) t = NULL;
  g_autoptr(GError) error = NULL;
  static guint counter;

  f->bucket = g_strdup_printf ("sluice-ft-%d-%u-%u", (int) getpid (), ++counter,
                               g_random_int_range (0, 100000));
  f->creds = sluice_credentials_provider_new (NULL);
  t = target_for (f->bucket);
  f->s3 = sluice_s3_client_new (t, f->creds);
  sluice_s3_client_create_bucket (f->s3, &error);
  g_assert_no_error (error);

  f->dir = g_dir_make_tmp ("sluice-ft-XXXXXX", &error);
  g_assert_no_error (error);
  f->src = g_build_filename (f->dir, "src", NULL);
  f->catalog = g_build_filename (f->dir, "catalog.db", NULL);
  g_mkdir (f->src, 0755);
  g_test_message ("test folder %s, bucket %s", f->dir, f->bucket);
  f->proxies = g_ptr_array_new_with_free_func ((GDestroyNotify) proxy_free);
  f->files = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_ptr_array_unref (f->proxies);
  g_ptr_array_unref (f->files);
  sluice_s3_client_free (f->s3);
  sluice_credentials_provider_free (f->creds);
  /* kept when the test failed (an assertion ends the program before this): the proxies'
   * logs, proxy-N.log, tell what happened */
  if (!g_test_failed ())
    {
      const char *argv[] = { "rm", "-rf", f->dir, NULL };
      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                    NULL, NULL);
    }
  g_free (f->bucket);
  g_free (f->dir);
  g_free (f->src);
  g_free (f->catalog);
}

static Proxy *
fixture_proxy (Fixture    *f,
               const char *schedule)
{
  Proxy *p = proxy_start (f->dir, schedule);

  g_ptr_array_add (f->proxies, p);
  return p;
}

/* Stops the proxy and returns its final counts. */
static JsonObject *
proxy_stop (Proxy *p)
{
  g_autofree char *text = NULL;

  g_unlink (p->stats_file);
  g_subprocess_send_signal (p->proc, SIGTERM);
  g_subprocess_wait (p->proc, NULL, NULL);
  g_clear_object (&p->proc);
  g_assert_true (g_file_get_contents (p->stats_file, &text, NULL, NULL));
  return parse_json (text);
}

/* Starts sluice-cli ingest through @p (path-style, --json, 5 MiB parts from 8 MiB). */
static GSubprocess *
ingest_spawn (Fixture      *f,
              Proxy        *p,
              const Ingest *o)
{
  g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;
  g_autofree char *uri = g_strdup_printf ("s3://%s/%s", f->bucket,
                                          o->prefix ? o->prefix : "photos");
  const char *base[] = { cli, "ingest", o->src ? o->src : f->src, uri, "--endpoint",
                         p->endpoint, "--catalog", o->catalog ? o->catalog : f->catalog,
                         "--json", "--multipart-threshold", "8", "--part-size", "5", NULL };

  for (guint i = 0; base[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (base[i]));
  for (guint i = 0; o->extra != NULL && o->extra[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (o->extra[i]));
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_set_child_setup (l, die_with_parent, NULL, NULL);
  for (guint i = 0; o->env != NULL && o->env[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (o->env[i], "=", 2);
      if (kv[1] == NULL)
        g_subprocess_launcher_unsetenv (l, kv[0]);
      else
        g_subprocess_launcher_setenv (l, kv[0], kv[1], TRUE);
    }

  proc = g_subprocess_launcher_spawnv (l, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  if (o->pid_file != NULL)
    {
      g_file_set_contents (o->pid_file, g_subprocess_get_identifier (proc), -1, &error);
      g_assert_no_error (error);
    }
  return proc;
}

static void
ingest (Fixture      *f,
        Proxy        *p,
        const Ingest *o,
        CliResult    *r)
{
  gint64 started = g_get_monotonic_time ();
  g_autoptr(GSubprocess) proc = ingest_spawn (f, p, o);

  cli_wait (proc, r, started, o->timeout_s ? o->timeout_s : 180, o->tick, o->tick_data);
}

/* A small but real JPEG (SOI, APP1 EXIF written by libexif, SOF0, filler, EOI). */
static GBytes *
make_jpeg (const char *make,
           const char *model,
           gsize       filler)
{
  ExifData *ed = exif_data_new ();
  unsigned char *exif = NULL;
  unsigned int exif_len = 0;
  GByteArray *out = g_byte_array_new ();
  static const guint8 soi[] = { 0xff, 0xd8 };
  static const guint8 eoi[] = { 0xff, 0xd9 };
  static const guint8 sof[] = { 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03,
                                0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01 };
  guint8 app1_hdr[4];
  const char *strings[2] = { make, model };
  const ExifTag tags[2] = { EXIF_TAG_MAKE, EXIF_TAG_MODEL };

  exif_data_set_byte_order (ed, EXIF_BYTE_ORDER_INTEL);
  for (int i = 0; i < 2; i++)
    {
      ExifEntry *e = exif_entry_new ();

      exif_content_add_entry (ed->ifd[EXIF_IFD_0], e);
      e->tag = tags[i];
      e->format = EXIF_FORMAT_ASCII;
      e->size = strlen (strings[i]) + 1;
      e->components = e->size;
      e->data = malloc (e->size);
      memcpy (e->data, strings[i], e->size);
      exif_entry_unref (e);
    }
  exif_data_save_data (ed, &exif, &exif_len);
  exif_data_unref (ed);

  g_byte_array_append (out, soi, 2);
  app1_hdr[0] = 0xff;
  app1_hdr[1] = 0xe1;
  app1_hdr[2] = (exif_len + 2) >> 8;
  app1_hdr[3] = (exif_len + 2) & 0xff;
  g_byte_array_append (out, app1_hdr, 4);
  g_byte_array_append (out, exif, exif_len);
  free (exif);
  g_byte_array_append (out, sof, sizeof sof);
  for (gsize i = 0; i < filler; i++)
    {
      guint8 b = g_random_int_range (0, 255);  /* no 0xff: no stray markers */
      g_byte_array_append (out, &b, 1);
    }
  g_byte_array_append (out, eoi, 2);
  return g_byte_array_free_to_bytes (out);
}

static void
write_bytes (const char *dir,
             const char *relpath,
             GBytes     *bytes)
{
  g_autofree char *path = g_build_filename (dir, relpath, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_mkdir_with_parents (parent, 0755);
  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
}

static void
write_random (const char *dir,
              const char *relpath,
              gsize       size)
{
  g_autofree guint8 *data = g_malloc (size);
  g_autoptr(GBytes) bytes = NULL;

  for (gsize i = 0; i < size; i += 4)
    {
      guint32 r = g_random_int ();
      memcpy (data + i, &r, MIN (4, size - i));
    }
  bytes = g_bytes_new_take (g_steal_pointer (&data), size);
  write_bytes (dir, relpath, bytes);
}

/* @n JPEGs of 10-70 KB as roll-NN/IMG_NNNN.JPG (numbered from 1), recorded in @files. */
static void
add_jpegs (const char *dir,
           GPtrArray  *files,
           guint       n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GBytes) jpeg = make_jpeg ("Canon", "Canon EOS 5D", 10000 + (i * 7919) % 60000);
      char *rel = g_strdup_printf ("roll-%02u/IMG_%04u.JPG", i / 50, i + 1);

      write_bytes (dir, rel, jpeg);
      g_ptr_array_add (files, rel);
    }
}

static void
add_random (const char *dir,
            GPtrArray  *files,
            const char *relpath,
            gsize       size)
{
  write_random (dir, relpath, size);
  g_ptr_array_add (files, g_strdup (relpath));
}

static char *
file_checksum (const char    *path,
               GChecksumType  type)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_compute_checksum_for_data (type, (const guchar *) data, len);
}

/* What S3 answers for a file sent in parts of @part bytes: md5 of the part md5s, "-N". */
static char *
expected_multipart_etag (const char *path,
                         gsize       part)
{
  g_autofree char *data = NULL;
  g_autoptr(GChecksum) outer = g_checksum_new (G_CHECKSUM_MD5);
  gsize len = 0, n = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  for (gsize off = 0; off < len; off += part, n++)
    {
      g_autoptr(GChecksum) md5 = g_checksum_new (G_CHECKSUM_MD5);
      guint8 digest[16];
      gsize dlen = sizeof digest;

      g_checksum_update (md5, (const guchar *) data + off, MIN (part, len - off));
      g_checksum_get_digest (md5, digest, &dlen);
      g_checksum_update (outer, digest, dlen);
    }
  return g_strdup_printf ("%s-%" G_GSIZE_FORMAT, g_checksum_get_string (outer), n);
}

static gboolean
collect (const char *key,
         guint64     size,
         const char *etag,
         const char *last_modified,
         gpointer    user_data)
{
  g_hash_table_insert (user_data, g_strdup (key), g_strdup (etag));
  return TRUE;
}

static gboolean
count_upload (const char *key,
              const char *upload_id,
              const char *initiated,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
  return TRUE;
}

static void
say_unexpected (const char *key,
                const char *etag,
                gpointer    user_data)
{
  g_test_message ("on the server but not expected: %s", key);
}

/* Read from the server itself: exactly the files of @files are under @prefix/, each with the
 * ETag its bytes must have (MD5, or md5-of-part-md5s-N for multipart) and, when sent whole,
 * our SHA-256 in its metadata; and no multipart upload is left unfinished there. */
static void
assert_server_has (Fixture    *f,
                   const char *src,
                   const char *prefix,
                   GPtrArray  *files)
{
  g_autoptr(GHashTable) etags = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *slash = g_strconcat (prefix, "/", NULL);
  g_autoptr(GError) error = NULL;
  guint uploads = 0;

  sluice_s3_client_list_objects (f->s3, slash, collect, etags, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < files->len; i++)
    {
      const char *rel = g_ptr_array_index (files, i);
      g_autofree char *key = g_strconcat (slash, rel, NULL);
      g_autofree char *path = g_build_filename (src, rel, NULL);
      g_autofree char *expected = NULL;
      struct stat st;

      g_assert_cmpint (g_stat (path, &st), ==, 0);
      if (!g_hash_table_contains (etags, key))
        g_test_message ("missing on the server: %s", key);
      if (st.st_size >= MULTIPART_THRESHOLD)
        expected = expected_multipart_etag (path, PART_SIZE);
      else
        {
          g_auto(SluiceS3ObjectInfo) info = { 0 };
          g_autofree char *sha = file_checksum (path, G_CHECKSUM_SHA256);

          expected = file_checksum (path, G_CHECKSUM_MD5);
          sluice_s3_client_head_object (f->s3, key, &info, &error);
          g_assert_no_error (error);
          g_assert_cmpstr (info.sha256, ==, sha);
        }
      g_assert_cmpstr (g_hash_table_lookup (etags, key), ==, expected);
      g_hash_table_remove (etags, key);
    }
  /* and nothing else (a leftover of the capability probe, say) */
  g_hash_table_foreach (etags, (GHFunc) say_unexpected, NULL);
  g_assert_cmpuint (g_hash_table_size (etags), ==, 0);

  sluice_s3_client_list_uploads (f->s3, slash, count_upload, &uploads, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uploads, ==, 0);
}

/* ---- /faults/retries ------------------------------------------------------------------------- */

/* Connections dropped mid-body, 500, 503 SlowDown and stalls, on a fixed schedule: the run
 * retries its way through and everything arrives intact. Also measures what the faults cost
 * against a clean run of the same tree through a proxy that passes everything. */
static void
test_retries (Fixture       *f,
              gconstpointer  data)
{
  const char *schedule =
    "{\"rules\": ["
    " {\"every\": 7, \"method\": \"PUT\", \"fault\": \"drop-mid-body\"},"
    " {\"every\": 5, \"fault\": \"status\", \"status\": 503, \"code\": \"SlowDown\"},"
    " {\"every\": 11, \"fault\": \"status\", \"status\": 500, \"code\": \"InternalError\"},"
    " {\"every\": 23, \"fault\": \"stall\", \"seconds\": 3}],"
    /* a request and its retries meet at most two faults: --retries 5 always gets through */
    " \"max_faults_per_request\": 2}";
  g_autofree char *clean_catalog = g_build_filename (f->dir, "clean.db", NULL);
  Proxy *clean = fixture_proxy (f, "{\"rules\": []}");
  Proxy *faulty = fixture_proxy (f, schedule);
  Ingest clean_run = { .prefix = "clean", .catalog = clean_catalog };
  Ingest faulty_run = { 0 };
  g_auto(CliResult) r0 = { 0 };
  g_auto(CliResult) r1 = { 0 };
  g_autoptr(JsonObject) s0 = NULL;
  g_autoptr(JsonObject) s1 = NULL;
  g_autoptr(JsonObject) st = NULL;
  gint64 drops, slowdowns, errors500, stalls, retries, faulted = 0;
  JsonObject *faulted_requests;
  g_autoptr(GList) faulted_names = NULL;

  add_jpegs (f->src, f->files, 60);
  add_random (f->src, f->files, "video/MVI_0001.MOV", 30 * MiB);

  ingest (f, clean, &clean_run, &r0);
  assert_exit (&r0, 0);
  s0 = parse_json (r0.out);
  g_assert_cmpint (summary_files (s0, "uploaded"), ==, f->files->len);

  ingest (f, faulty, &faulty_run, &r1);
  assert_exit (&r1, 0);
  s1 = parse_json (r1.out);
  g_assert_cmpint (summary_files (s1, "uploaded"), ==, f->files->len);
  g_assert_cmpint (summary_files (s1, "failed"), ==, 0);

  st = proxy_stop (faulty);
  drops = faults_of (st, "drop-mid-body");
  slowdowns = faults_of (st, "status:503:SlowDown");
  errors500 = faults_of (st, "status:500:InternalError");
  stalls = faults_of (st, "stall");
  retries = (gint64) summary_number (s1, "retries");
  /* the requests of the files that met a fault (the capability probe's own requests aside) */
  faulted_requests = member_object (st, "faulted_requests");
  faulted_names = faulted_requests ? json_object_get_members (faulted_requests) : NULL;
  for (GList *l = faulted_names; l != NULL; l = l->next)
    {
      JsonArray *got = json_object_get_array_member (faulted_requests, l->data);

      /* a request cut mid-body on a reused connection may be sent again by curl itself,
       * unseen by the engine; an error answer is always the engine's to retry */
      for (guint i = 0; i < json_array_get_length (got); i++)
        if (g_str_has_prefix (json_array_get_string_element (got, i), "status:"))
          {
            faulted += strstr (l->data, "/.sluice-probe/") == NULL;
            break;
          }
    }
  g_test_message ("faults injected: %" G_GINT64_FORMAT " dropped mid-body, %" G_GINT64_FORMAT
                  " x 503 SlowDown, %" G_GINT64_FORMAT " x 500, %" G_GINT64_FORMAT
                  " stalls of 3 s, in %" G_GINT64_FORMAT " requests; %" G_GINT64_FORMAT
                  " of the files' requests were answered with an error at least once",
                  drops, slowdowns, errors500, stalls, member_int (st, "requests"), faulted);
  g_test_message ("retries reported: %" G_GINT64_FORMAT "; clean run %.1f s, with faults %.1f s:"
                  " %.1f s lost", retries, r0.seconds, r1.seconds, r1.seconds - r0.seconds);
  g_assert_cmpint (drops, >, 0);
  g_assert_cmpint (slowdowns, >, 0);
  g_assert_cmpint (errors500, >, 0);
  g_assert_cmpint (stalls, >, 0);
  /* each of those was tried again (whether "retries" counts attempts or retried requests) */
  g_assert_cmpint (faulted, >, 0);
  g_assert_cmpint (retries, >=, faulted);

  assert_server_has (f, f->src, "photos", f->files);
  assert_server_has (f, f->src, "clean", f->files);
}

/* ---- /faults/not-retryable ------------------------------------------------------------------- */

/* 400 BadDigest cannot get better by trying again: that file fails at once, with the server's
 * code, and the others arrive. */
static void
test_not_retryable (Fixture       *f,
                    gconstpointer  data)
{
  Proxy *p = fixture_proxy (f, "{\"rules\": [{\"method\": \"PUT\", \"key_suffix\": "
                               "\"/IMG_0003.JPG\", \"fault\": \"status\", \"status\": 400, "
                               "\"code\": \"BadDigest\"}]}");
  Ingest run = { 0 };
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_autoptr(JsonObject) st = NULL;
  g_autoptr(GPtrArray) others = g_ptr_array_new ();

  add_jpegs (f->src, f->files, 10);
  ingest (f, p, &run, &r);
  assert_exit (&r, 1);
  s = parse_json (r.out);
  g_assert_cmpint (summary_files (s, "failed"), ==, 1);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, 9);
  g_assert_nonnull (strstr (r.err, "BadDigest"));
  g_assert_nonnull (strstr (r.err, "IMG_0003.JPG"));

  st = proxy_stop (p);
  g_assert_cmpint (member_int (object_stats (st, "photos/roll-00/IMG_0003.JPG"), "put"), ==, 1);
  g_assert_cmpint (faults_of (st, "status:400:BadDigest"), ==, 1);

  for (guint i = 0; i < f->files->len; i++)
    if (!g_str_has_suffix (g_ptr_array_index (f->files, i), "/IMG_0003.JPG"))
      g_ptr_array_add (others, g_ptr_array_index (f->files, i));
  assert_server_has (f, f->src, "photos", others);
}

/* ---- /faults/writes-held --------------------------------------------------------------------- */

/* A server that answers but holds every upload (RGW on a full Ceph cluster blocks writes
 * instead of refusing them): uploads time out (--stall-timeout), the run pauses, finds the
 * bucket answering and resumes once; when no upload gets through after that either, it stops
 * with exit 3 and says the server may be full, instead of pausing and resuming for ever, and
 * long before --pause-timeout. Once the server takes uploads, the same command finishes. */
static void
test_writes_held (Fixture       *f,
                  gconstpointer  data)
{
  Proxy *held = fixture_proxy (f, "{\"rules\": [{\"method\": \"PUT\", \"key_suffix\": "
                                  "\".JPG\", \"fault\": \"stall\", \"seconds\": 40}]}");
  Proxy *fine = fixture_proxy (f, "{\"rules\": []}");
  const char *extra[] = { "--stall-timeout", "2", "--retries", "2", "--pause-timeout", "600",
                          "--jobs", "4", NULL };
  Ingest run = { .extra = extra, .timeout_s = 240 };
  g_auto(CliResult) r1 = { 0 };
  g_auto(CliResult) r2 = { 0 };
  g_autoptr(JsonObject) s1 = NULL;
  g_autoptr(JsonObject) s2 = NULL;
  JsonObject *why;

  add_jpegs (f->src, f->files, 20);
  ingest (f, held, &run, &r1);
  assert_exit (&r1, 3);
  g_test_message ("stopped after %.1f s: %s", r1.seconds, r1.err);
  /* paused, resumed once, paused again and stopped */
  g_assert_true (contains_ci (r1.err, "resuming"));
  g_assert_true (contains_ci (r1.err, "uploads time out again"));
  s1 = parse_json (r1.out);
  why = json_object_get_object_member (s1, "error");
  g_assert_nonnull (why);
  g_assert_true (contains_ci (json_object_get_string_member (why, "message"),
                              "storage may be full"));
  /* curl's speed is an average over ~5 s: a stall is seen ~7 s after the body went; the
   * writes in flight at the resume get their retries before a new one counts (~50 s here),
   * and without the check the run would go on until it is killed */
  g_assert_cmpfloat (r1.seconds, <, 150);
  g_assert_cmpint (summary_files (s1, "uploaded"), ==, 0);

  ingest (f, fine, &run, &r2);
  assert_exit (&r2, 0);
  s2 = parse_json (r2.out);
  g_assert_cmpint (summary_files (s2, "failed"), ==, 0);
  assert_server_has (f, f->src, "photos", f->files);
}

/* ---- /faults/server-full --------------------------------------------------------------------- */

/* The server is out of space (MinIO's 507 XMinioStorageFull): the run stops at the first
 * refusal with exit 3 and says why (code server-full), instead of failing every file after
 * it; the same command later finishes the job, and only the refused file is sent again. */
static void
test_server_full (Fixture       *f,
                  gconstpointer  data)
{
  Proxy *p = fixture_proxy (f, "{\"rules\": [{\"method\": \"PUT\", \"after\": 30, "
                               "\"count\": 1, \"fault\": \"status\", \"status\": 507, "
                               "\"code\": \"XMinioStorageFull\", \"message\": \"Storage "
                               "backend has reached its minimum free drive threshold.\"}]}");
  const char *extra[] = { "--jobs", "4", NULL };
  Ingest run = { .extra = extra, .timeout_s = 120 };
  g_auto(CliResult) r1 = { 0 };
  g_auto(CliResult) r2 = { 0 };
  g_autoptr(JsonObject) s1 = NULL;
  g_autoptr(JsonObject) s2 = NULL;
  g_autoptr(JsonObject) st = NULL;
  JsonObject *why;
  gint64 refused, puts = 0;

  add_jpegs (f->src, f->files, 150);
  ingest (f, p, &run, &r1);
  assert_exit (&r1, 3);
  g_test_message ("stopped: %s", r1.err);
  g_assert_nonnull (strstr (r1.err, "XMinioStorageFull"));
  s1 = parse_json (r1.out);
  why = json_object_get_object_member (s1, "error");
  g_assert_nonnull (why);
  g_assert_cmpstr (json_object_get_string_member (why, "code"), ==, "server-full");
  g_assert_nonnull (strstr (json_object_get_string_member (why, "message"),
                            "minimum free drive threshold"));
  /* the refused file failed; those in flight beside it were sent or left to the next run,
   * and the rest were never tried */
  g_assert_cmpint (summary_files (s1, "failed"), ==, 1);
  g_assert_cmpint (summary_files (s1, "uploaded"), <, 149);

  ingest (f, p, &run, &r2);
  assert_exit (&r2, 0);
  s2 = parse_json (r2.out);
  g_assert_cmpint (summary_files (s2, "failed"), ==, 0);
  assert_server_has (f, f->src, "photos", f->files);

  st = proxy_stop (p);
  refused = faults_of (st, "status:507:XMinioStorageFull");
  g_assert_cmpint (refused, ==, 1);
  for (guint i = 0; i < f->files->len; i++)
    {
      g_autofree char *key = g_strconcat ("photos/", (char *) g_ptr_array_index (f->files, i),
                                          NULL);
      puts += member_int (object_stats (st, key), "put");
    }
  /* one PUT for each file, one more for the refused one, and at most one more for each of
   * the three others that could be in flight when the run stopped (cut off then, and sent
   * whole by the next run; one that had arrived is found there by a HEAD) */
  g_test_message ("PUTs: %" G_GINT64_FORMAT " for %u files", puts, f->files->len);
  g_assert_cmpint (puts, >=, (gint64) f->files->len + refused);
  g_assert_cmpint (puts, <=, (gint64) f->files->len + refused + 3);
}

/* ---- /faults/slowdown-aimd ------------------------------------------------------------------- */

/* A SlowDown storm (half of all requests for 3 s): the run lowers its concurrency instead of
 * hammering the server, and still completes. */
static void
test_slowdown_aimd (Fixture       *f,
                    gconstpointer  data)
{
  /* (at most three SlowDowns for one request: the storm is about the pace of the whole run,
   * and a request meeting five in a row, which --retries 5 would give up on, is not the
   * point here) */
  Proxy *p = fixture_proxy (f, "{\"rules\": [{\"after\": 20, \"for_seconds\": 3, "
                               "\"probability\": 0.5, \"fault\": \"status\", \"status\": 503, "
                               "\"code\": \"SlowDown\"}], \"max_faults_per_request\": 3}");
  const char *extra[] = { "--jobs", "16", NULL };
  Ingest run = { .extra = extra };
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_autoptr(JsonObject) st = NULL;
  gint64 throttled, concurrency_min, injected;

  add_jpegs (f->src, f->files, 300);
  ingest (f, p, &run, &r);
  assert_exit (&r, 0);
  s = parse_json (r.out);
  g_assert_cmpint (summary_files (s, "uploaded"), ==, f->files->len);
  assert_server_has (f, f->src, "photos", f->files);

  st = proxy_stop (p);
  injected = faults_of (st, "status:503:SlowDown");
  throttled = (gint64) summary_number (s, "throttled");
  concurrency_min = (gint64) summary_number (s, "concurrency_min");
  g_test_message ("SlowDown answers: %" G_GINT64_FORMAT " sent by the proxy, %" G_GINT64_FORMAT
                  " counted by the run; concurrency went down to %" G_GINT64_FORMAT
                  " of 16; at most %" G_GINT64_FORMAT " requests in flight; %.1f s",
                  injected, throttled, concurrency_min, member_int (st, "max_in_flight"),
                  r.seconds);
  g_assert_cmpint (injected, >, 0);
  g_assert_cmpint (throttled, >, 0);
  g_assert_cmpint (throttled, <=, injected);
  g_assert_cmpint (concurrency_min, >=, 1);
  g_assert_cmpint (concurrency_min, <, 16);
}

/* ---- /faults/server-down --------------------------------------------------------------------- */

/* The server goes away for 5 s mid-run: the run pauses, then carries on; no file fails. */
static void
test_server_down_pause (Fixture       *f,
                        gconstpointer  data)
{
  Proxy *p = fixture_proxy (f, "{\"rules\": [{\"after\": 40, \"fault\": \"down\", "
                               "\"for_seconds\": 5}]}");
  Ingest run = { 0 };
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_autoptr(JsonObject) st = NULL;
  double paused;

  add_jpegs (f->src, f->files, 150);
  add_random (f->src, f->files, "video/MVI_0001.MOV", 20 * MiB);
  ingest (f, p, &run, &r);
  s = assert_all_uploaded (&r, f->files);
  assert_server_has (f, f->src, "photos", f->files);

  st = proxy_stop (p);
  g_assert_cmpint (faults_of (st, "down"), ==, 1);
  paused = summary_number (s, "paused_seconds");
  g_test_message ("server down for 5 s: the run paused %.1f s and took %.1f s in all", paused,
                  r.seconds);
  g_assert_cmpfloat (paused, >, 0);
}

/* The answer to CreateMultipartUpload is lost (the server made the upload): the run asks
 * again, and the upload it never heard of is aborted, not left to be billed. */
static void
test_create_answer_lost (Fixture       *f,
                         gconstpointer  data)
{
  Proxy *p = fixture_proxy (f, "{\"rules\": [{\"method\": \"POST\", \"query\": \"uploads\", "
                               "\"key_contains\": \"video/\", \"times\": 1, "
                               "\"fault\": \"drop-response\"}]}");
  Ingest run = { 0 };
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_autoptr(JsonObject) st = NULL;

  add_jpegs (f->src, f->files, 10);
  add_random (f->src, f->files, "video/MVI_0002.MOV", 20 * MiB);
  ingest (f, p, &run, &r);
  s = assert_all_uploaded (&r, f->files);
  st = proxy_stop (p);
  g_assert_cmpint (faults_of (st, "drop-response"), ==, 1);
  /* every object as sent, and no unfinished upload left */
  assert_server_has (f, f->src, "photos", f->files);
}

static gboolean
parts_done_before (JsonObject *before,
                   const char *key)
{
  JsonObject *parts = member_object (object_stats (before, key), "parts");
  g_autoptr(GList) numbers = parts ? json_object_get_members (parts) : NULL;

  for (GList *l = numbers; l != NULL; l = l->next)
    if (member_int (member_object (parts, l->data), "ok") > 0)
      return TRUE;
  return FALSE;
}

static gboolean
was_in_flight (JsonArray  *in_flight,
               const char *key,
               const char *part)
{
  for (guint i = 0; in_flight != NULL && i < json_array_get_length (in_flight); i++)
    {
      JsonObject *r = json_array_get_object_element (in_flight, i);

      if (g_strcmp0 (json_object_get_string_member (r, "method"), "PUT") == 0 &&
          g_strcmp0 (json_object_get_string_member (r, "key"), key) == 0 &&
          g_strcmp0 (json_object_get_string_member (r, "part"), part) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Compares the proxy's counts after an interruption (@before) and after the rerun (@after):
 * nothing that the server had completed was sent again, except parts that were in flight at
 * the interruption (@in_flight); uploads with finished parts were continued, not started
 * over. Returns the bytes that crossed the wire twice. */
static gint64
assert_nothing_sent_twice (JsonObject *before,
                           JsonObject *after,
                           JsonArray  *in_flight)
{
  JsonObject *objects = member_object (after, "objects");
  g_autoptr(GList) keys = objects ? json_object_get_members (objects) : NULL;
  gint64 resent = 0;

  for (GList *k = keys; k != NULL; k = k->next)
    {
      const char *key = k->data;
      JsonObject *a = member_object (objects, key);
      JsonObject *b = object_stats (before, key);
      JsonObject *parts = member_object (a, "parts");
      g_autoptr(GList) numbers = parts ? json_object_get_members (parts) : NULL;

      /* the capability probe writes, overwrites (If-None-Match) and deletes its own objects */
      if (strstr (key, "/.sluice-probe/") != NULL)
        continue;
      resent += resent_bytes (json_object_get_array_member (a, "put_bytes"));
      /* no object completed twice */
      g_assert_cmpint (member_int (a, "put_ok"), <=, 1);
      g_assert_cmpint (member_int (a, "complete_ok"), <=, 1);
      /* what the server had in full was not sent again */
      if (member_int (b, "put_ok") > 0 && member_int (a, "put") != member_int (b, "put"))
        g_test_message ("%s: PUT again after the interruption", key);
      if (member_int (b, "put_ok") > 0)
        g_assert_cmpint (member_int (a, "put"), ==, member_int (b, "put"));
      if (member_int (b, "complete_ok") > 0)
        {
          g_assert_cmpint (member_int (a, "complete"), ==, member_int (b, "complete"));
          g_assert_cmpint (member_int (a, "create"), ==, member_int (b, "create"));
        }
      /* an upload that had finished parts was continued */
      if (parts_done_before (before, key))
        g_assert_cmpint (member_int (a, "create"), ==, member_int (b, "create"));

      for (GList *n = numbers; n != NULL; n = n->next)
        {
          JsonObject *pa = member_object (parts, n->data);
          JsonObject *pb = member_object (member_object (b, "parts"), n->data);
          JsonArray *attempts = json_object_get_array_member (pa, "bytes");

          if (resent_bytes (attempts) > 0)
            {
              g_autoptr(GString) list = g_string_new (NULL);

              for (guint i = 0; i < json_array_get_length (attempts); i++)
                g_string_append_printf (list, " %" G_GINT64_FORMAT,
                                        json_array_get_int_element (attempts, i));
              g_test_message ("%s part %s sent %u times (bytes:%s; %s at the kill)", key,
                              (const char *) n->data, json_array_get_length (attempts),
                              list->str, member_int (pb, "ok") > 0 ? "complete" : "incomplete");
            }
          resent += resent_bytes (attempts);
          if (member_int (pb, "ok") > 0 && member_int (pa, "sent") > member_int (pb, "sent"))
            {
              if (!was_in_flight (in_flight, key, n->data))
                g_test_message ("%s part %s: finished before the interruption, sent again",
                                key, (const char *) n->data);
              g_assert_true (was_in_flight (in_flight, key, n->data));
            }
        }
    }
  return resent;
}

/* The server is unreachable for longer than --pause-timeout: the run gives up with exit 3 and
 * says why; the same command later finishes the job without sending anything twice. */
static void
test_server_down_too_long (Fixture       *f,
                           gconstpointer  data)
{
  Proxy *p = fixture_proxy (f, "{\"rules\": [{\"after\": 60, \"fault\": \"down\", "
                               "\"for_seconds\": 20}]}");
  const char *extra[] = { "--pause-timeout", "2", "--jobs", "4", NULL };
  Ingest run = { .extra = extra, .timeout_s = 120 };
  g_auto(CliResult) r1 = { 0 };
  g_auto(CliResult) r2 = { 0 };
  g_autoptr(JsonObject) before = NULL;
  g_autoptr(JsonObject) after = NULL;
  g_autoptr(JsonObject) s1 = NULL;
  g_autoptr(JsonObject) s2 = NULL;
  gint64 resent;

  add_jpegs (f->src, f->files, 150);
  add_random (f->src, f->files, "video/MVI_0001.MOV", 12 * MiB);
  add_random (f->src, f->files, "video/PXL_0002.MP4", 17 * MiB);
  ingest (f, p, &run, &r1);
  assert_exit (&r1, 3);
  g_test_message ("gave up after %.1f s: %s", r1.seconds, r1.err);
  g_assert_true (contains_ci (r1.err, "reach"));
  /* it gave up while the server was still away, not after */
  g_assert_cmpfloat (r1.seconds, <, 20);
  s1 = parse_json (r1.out);
  g_test_message ("files counted as failed in the interrupted run: %" G_GINT64_FORMAT,
                  summary_files (s1, "failed"));

  /* wait for the server to come back (the outage is over when the proxy logs its window) */
  for (int tries = 0; tries < 300; tries++)
    {
      g_clear_pointer (&before, json_object_unref);
      before = proxy_stats (p);
      if (json_array_get_length (json_object_get_array_member (before, "down_windows")) > 0)
        break;
      g_usleep (100 * 1000);
    }
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (before,
                                                                         "down_windows")), ==, 1);

  ingest (f, p, &run, &r2);
  assert_exit (&r2, 0);
  s2 = parse_json (r2.out);
  g_assert_cmpint (summary_files (s2, "failed"), ==, 0);
  assert_server_has (f, f->src, "photos", f->files);

  after = proxy_stop (p);
  /* the requests cut by the outage are the ones that were in flight: they may go again */
  resent = assert_nothing_sent_twice (before, after, NULL);
  g_test_message ("bytes sent twice across the outage: %" G_GINT64_FORMAT, resent);
}

/* ---- /faults/expired-token ------------------------------------------------------------------- */

typedef struct {
  Proxy      *proxy;
  const char *creds_file;
  gboolean    rotated;
  gint64      seen_expired;
} Rotation;

static void
write_credentials (const char *path,
                   const char *session_token)
{
  g_autofree char *text = g_strdup_printf ("[default]\naws_access_key_id = %s\n"
                                           "aws_secret_access_key = %s\n"
                                           "aws_session_token = %s\n",
                                           g_getenv ("AWS_ACCESS_KEY_ID"),
                                           g_getenv ("AWS_SECRET_ACCESS_KEY"), session_token);
  g_autoptr(GError) error = NULL;

  /* written whole and renamed into place, as credential helpers do */
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

/* As soon as the server starts answering ExpiredToken, new credentials appear in the file. */
static gboolean
rotate_when_expired (gpointer user_data)
{
  Rotation *rot = user_data;
  g_autoptr(JsonObject) st = proxy_stats (rot->proxy);

  rot->seen_expired = faults_of (st, "status:400:ExpiredToken");
  if (rot->seen_expired == 0)
    return TRUE;
  write_credentials (rot->creds_file, "sluice-session-2");
  rot->rotated = TRUE;
  return FALSE;
}

/* The session token in ~/.aws/credentials expires mid-run (the proxy answers ExpiredToken to
 * every request signed with it, from the 31st on) and a fresh one is written to the file: the
 * run reads the file again and carries on with the new token. */
static void
test_expired_token_refreshed (Fixture       *f,
                              gconstpointer  data)
{
  Proxy *p = fixture_proxy (f, "{\"rules\": ["
                               " {\"fault\": \"count\", \"name\": \"session-2\", \"header\": "
                               "  {\"x-amz-security-token\": \"sluice-session-2\"}},"
                               " {\"after\": 30, \"header\": "
                               "  {\"x-amz-security-token\": \"sluice-session-1\"}, "
                               "  \"fault\": \"status\", \"status\": 400, "
                               "  \"code\": \"ExpiredToken\"}]}");
  g_autofree char *creds_file = g_build_filename (f->dir, "credentials", NULL);
  g_autofree char *creds_env = g_strconcat ("AWS_SHARED_CREDENTIALS_FILE=", creds_file, NULL);
  g_autofree char *config_env = g_strconcat ("AWS_CONFIG_FILE=", f->dir, "/no-config", NULL);
  const char *env[] = { creds_env, config_env, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                        "AWS_SESSION_TOKEN", "AWS_PROFILE", NULL };
  Rotation rot = { .proxy = p, .creds_file = creds_file };
  Ingest run = { .env = env, .tick = rotate_when_expired, .tick_data = &rot,
                 .timeout_s = 180 };
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_autoptr(JsonObject) st = NULL;

  write_credentials (creds_file, "sluice-session-1");
  add_jpegs (f->src, f->files, 80);
  ingest (f, p, &run, &r);
  s = assert_all_uploaded (&r, f->files);
  g_assert_true (rot.rotated);
  assert_server_has (f, f->src, "photos", f->files);

  st = proxy_stop (p);
  g_test_message ("ExpiredToken answers: %" G_GINT64_FORMAT "; requests with the new token: %"
                  G_GINT64_FORMAT, faults_of (st, "status:400:ExpiredToken"),
                  faults_of (st, "count:session-2"));
  g_assert_cmpint (faults_of (st, "status:400:ExpiredToken"), >, 0);
  g_assert_cmpint (faults_of (st, "count:session-2"), >, 0);
}

/* Credentials that stay expired: the run waits --pause-timeout, then exits 3 and says so. */
static void
test_expired_token_forever (Fixture       *f,
                            gconstpointer  data)
{
  Proxy *p = fixture_proxy (f, "{\"rules\": [{\"after\": 20, \"fault\": \"status\", "
                               "\"status\": 400, \"code\": \"ExpiredToken\"}]}");
  const char *extra[] = { "--pause-timeout", "2", NULL };
  Ingest run = { .extra = extra, .timeout_s = 120 };
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) st = NULL;

  add_jpegs (f->src, f->files, 80);
  ingest (f, p, &run, &r);
  assert_exit (&r, 3);
  g_test_message ("gave up after %.1f s: %s", r.seconds, r.err);
  g_assert_true (contains_ci (r.err, "expired"));
  g_assert_true (contains_ci (r.err, "credentials"));

  st = proxy_stop (p);
  /* it paused: not one request per remaining file, each failing */
  g_assert_cmpint (faults_of (st, "status:400:ExpiredToken"), <, 60);
}

/* ---- /faults/kill-points --------------------------------------------------------------------- */

/*
 * The kill tests, on a tree like `../shared/tools/make-corpus.sh --big --big-mb 40
 * --big-count 2 12 DIR 3` makes (12 photos and two videos), generated here instead: no
 * ImageMagick or exiftool needed, and seconds rather than a minute. The videos are 40 MiB,
 * 8 parts of 5 MiB each; --jobs 4.
 */
static GPtrArray *kill_tree_files;

static const char *
kill_tree (void)
{
  static char *dir;

  if (dir == NULL)
    {
      dir = g_build_filename (shared_dir, "kill-tree", NULL);
      kill_tree_files = g_ptr_array_new_with_free_func (g_free);
      add_jpegs (dir, kill_tree_files, 12);
      add_random (dir, kill_tree_files, "video/MVI_0001.MOV", 40 * MiB);
      add_random (dir, kill_tree_files, "video/PXL_0002.MP4", 40 * MiB);
    }
  return dir;
}

typedef enum {
  AT_START,         /* nothing was sent yet */
  IN_A_PART,        /* the part that triggered it was being sent, with another one */
  AFTER_A_PART,     /* the part that triggered it was complete on the server */
  AFTER_AN_OBJECT,  /* the object that triggered it was complete on the server */
} KillWhen;

typedef struct {
  const char *name;
  const char *rule;       /* the proxy's kill-client rule */
  KillWhen    when;       /* checked from the proxy's counts: the kill came where it should */
} KillPoint;

static const KillPoint kill_points[] = {
  /* during listing: the first request, before the server has seen anything */
  { "listing", "{\"nth\": 1, \"fault\": \"kill-client\"}", AT_START },
  /* mid-part: halfway through the body of a video's part while another part is in flight,
   * after three parts went through; what was under way is cut where it was, as when the
   * machine goes away (otherwise the socket buffers would deliver whole parts) */
  { "mid-part", "{\"method\": \"PUT\", \"part\": true, \"key_contains\": \"/video/\", "
                "\"after\": 3, \"when\": \"mid-body\", \"min_in_flight\": 2, \"cut\": \"all\", "
                "\"fault\": \"kill-client\"}", IN_A_PART },
  /* between parts: 0.3 s after the 4th part's answer reached the client */
  { "between-parts", "{\"method\": \"PUT\", \"part\": true, \"key_contains\": \"/video/\", "
                     "\"nth\": 4, \"when\": \"after-response\", \"delay\": 0.3, "
                     "\"fault\": \"kill-client\"}", AFTER_A_PART },
  /* a whole PUT succeeded on the server; the client dies before it hears so (so before its
   * catalog can know) */
  { "put-before-commit", "{\"method\": \"PUT\", \"part\": false, \"key_suffix\": "
                         "\"/IMG_0003.JPG\", \"when\": \"before-response\", "
                         "\"fault\": \"kill-client\"}", AFTER_AN_OBJECT },
  /* the same for a video's CompleteMultipartUpload: the object is whole on the server */
  { "complete-before-commit", "{\"method\": \"POST\", \"query\": \"uploadId\", "
                              "\"key_contains\": \"/video/\", \"when\": \"before-response\", "
                              "\"fault\": \"kill-client\"}", AFTER_AN_OBJECT },
  /* in the middle of the endpoint capability probe (its own multipart upload has just been
   * completed): after the rerun nothing of it may be left in the bucket */
  { "probe", "{\"method\": \"POST\", \"query\": \"uploadId\", \"key_contains\": "
             "\"/.sluice-probe/\", \"when\": \"before-response\", \"fault\": \"kill-client\"}",
    AFTER_AN_OBJECT },
};

static void
test_kill_point (Fixture       *f,
                 gconstpointer  data)
{
  const KillPoint *kp = data;
  const char *src = kill_tree ();
  g_autofree char *schedule = g_strdup_printf ("{\"rules\": [%s]}", kp->rule);
  Proxy *p = fixture_proxy (f, schedule);
  const char *extra[] = { "--jobs", "4", NULL };
  Ingest run = { .src = src, .extra = extra, .pid_file = p->pid_file, .timeout_s = 180 };
  g_auto(CliResult) r1 = { 0 };
  g_auto(CliResult) r2 = { 0 };
  g_autoptr(JsonObject) before = NULL;
  g_autoptr(JsonObject) after = NULL;
  g_autoptr(JsonObject) s2 = NULL;
  JsonArray *kills;
  JsonArray *in_flight;
  JsonObject *trigger;
  const char *key, *part;
  guint parts_in_flight = 0, parts_done = 0;
  gint64 resent;

  ingest (f, p, &run, &r1);
  g_assert_false (r1.timed_out);
  if (r1.signal != SIGKILL)
    g_test_message ("the kill point was not reached: exit %d\n%s", r1.status, r1.err);
  g_assert_cmpint (r1.signal, ==, SIGKILL);

  /* let the server finish what it had received, so that the counts are final */
  g_usleep (500 * 1000);
  before = proxy_stats (p);
  kills = json_object_get_array_member (before, "kills");
  g_assert_cmpuint (json_array_get_length (kills), ==, 1);
  in_flight = json_object_get_array_member (json_array_get_object_element (kills, 0),
                                            "in_flight");
  trigger = json_object_get_object_member (json_array_get_object_element (kills, 0), "trigger");
  key = json_object_get_string_member (trigger, "key");
  part = json_object_get_string_member (trigger, "part");
  for (guint i = 0; i < json_array_get_length (in_flight); i++)
    parts_in_flight += !json_object_get_null_member (json_array_get_object_element (in_flight, i),
                                                     "part");
  for (guint i = 0; i < kill_tree_files->len; i++)
    {
      g_autofree char *k = g_strconcat ("photos/", g_ptr_array_index (kill_tree_files, i), NULL);
      JsonObject *parts = member_object (object_stats (before, k), "parts");
      g_autoptr(GList) numbers = parts ? json_object_get_members (parts) : NULL;

      for (GList *n = numbers; n != NULL; n = n->next)
        parts_done += member_int (member_object (parts, n->data), "ok") > 0;
    }
  switch (kp->when)
    {
    case AT_START:
      g_assert_cmpint (member_int (before, "body_bytes"), ==, 0);
      break;
    case IN_A_PART:
      g_assert_nonnull (part);
      g_assert_true (was_in_flight (in_flight, key, part));
      g_assert_cmpuint (parts_in_flight, >=, 2);
      break;
    case AFTER_A_PART:
      g_assert_nonnull (part);
      g_assert_cmpint (member_int (member_object (member_object (object_stats (before, key),
                                                                 "parts"), part), "ok"), ==, 1);
      break;
    case AFTER_AN_OBJECT:
      g_assert_cmpint (member_int (object_stats (before, key),
                                   g_str_equal (json_object_get_string_member (trigger, "method"),
                                                "POST") ? "complete_ok" : "put_ok"), ==, 1);
      break;
    }

  run.pid_file = NULL;
  ingest (f, p, &run, &r2);
  assert_exit (&r2, 0);
  s2 = parse_json (r2.out);
  g_assert_cmpint (summary_files (s2, "failed"), ==, 0);
  assert_server_has (f, src, "photos", kill_tree_files);

  after = proxy_stop (p);
  resent = assert_nothing_sent_twice (before, after, in_flight);
  g_test_message ("kill point %s: at %s%s%s, %u requests in flight (%u parts), %u parts "
                  "finished before; bytes sent twice: %" G_GINT64_FORMAT " (%.1f MiB); "
                  "rerun %.1f s", kp->name, key ? key : "(no key)", part ? " part " : "",
                  part ? part : "", json_array_get_length (in_flight), parts_in_flight,
                  parts_done, resent, resent / (double) MiB, r2.seconds);
}

/* ---- /faults/bwlimit ------------------------------------------------------------------------- */

/* --bwlimit 4M holds the rate across all workers to 4 MiB/s ± 10 %, measured at the proxy
 * over the request bodies of the photos (from the first body byte to the last). */
static void
test_bwlimit (Fixture       *f,
              gconstpointer  data)
{
  Proxy *p = fixture_proxy (f, "{\"rules\": []}");
  const char *extra[] = { "--bwlimit", "4M", "--jobs", "4", NULL };
  Ingest run = { .extra = extra, .timeout_s = 120 };
  g_auto(CliResult) r = { 0 };
  g_autoptr(JsonObject) st = NULL;
  JsonObject *objects;
  double first = G_MAXDOUBLE, last = 0, rate;
  gint64 bytes = 0;

  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *rel = g_strdup_printf ("clips/clip-%02u.MOV", i);
      add_random (f->src, f->files, rel, 3 * MiB);
    }
  ingest (f, p, &run, &r);
  assert_exit (&r, 0);
  assert_server_has (f, f->src, "photos", f->files);

  st = proxy_stop (p);
  objects = member_object (st, "objects");
  for (guint i = 0; i < f->files->len; i++)
    {
      g_autofree char *key = g_strconcat ("photos/", g_ptr_array_index (f->files, i), NULL);
      JsonObject *o = member_object (objects, key);
      JsonArray *attempts;

      g_assert_nonnull (o);
      attempts = json_object_get_array_member (o, "put_bytes");
      for (guint j = 0; j < json_array_get_length (attempts); j++)
        bytes += json_array_get_int_element (attempts, j);
      first = MIN (first, json_object_get_double_member (o, "first_body_at"));
      last = MAX (last, json_object_get_double_member (o, "last_body_at"));
    }
  g_assert_cmpint (bytes, >=, 24 * MiB);
  g_assert_cmpfloat (last, >, first);
  rate = bytes / (last - first) / MiB;
  g_test_message ("--bwlimit 4M: %.1f MiB in %.2f s at the proxy: %.2f MiB/s (run %.1f s)",
                  bytes / (double) MiB, last - first, rate, r.seconds);
  g_assert_cmpfloat (rate, >=, 4 * 0.9);
  g_assert_cmpfloat (rate, <=, 4 * 1.1);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  endpoint = g_getenv ("SLUICE_TEST_S3_ENDPOINT");
  cli = g_getenv ("SLUICE_CLI");
  if (endpoint == NULL || cli == NULL || g_getenv ("SLUICE_FAULT_PROXY") == NULL)
    {
      g_printerr ("run through tests/s3/sluice-test-s3.sh run (meson test does this): "
                  "SLUICE_TEST_S3_ENDPOINT, SLUICE_CLI and SLUICE_FAULT_PROXY must be set\n");
      return 1;
    }
  shared_dir = g_dir_make_tmp ("sluice-ft-shared-XXXXXX", &error);
  g_assert_no_error (error);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/faults/retries", test_retries);
  ADD ("/faults/not-retryable", test_not_retryable);
  ADD ("/faults/server-full", test_server_full);
  ADD ("/faults/writes-held", test_writes_held);
  ADD ("/faults/slowdown-aimd", test_slowdown_aimd);
  ADD ("/faults/server-down/pause", test_server_down_pause);
  ADD ("/faults/create-answer-lost", test_create_answer_lost);
  ADD ("/faults/server-down/too-long", test_server_down_too_long);
  ADD ("/faults/expired-token/refreshed", test_expired_token_refreshed);
  ADD ("/faults/expired-token/forever", test_expired_token_forever);
  for (guint i = 0; i < G_N_ELEMENTS (kill_points); i++)
    {
      g_autofree char *path = g_strdup_printf ("/faults/kill-points/%s", kill_points[i].name);
      g_test_add (path, Fixture, &kill_points[i], fixture_set_up, test_kill_point,
                  fixture_tear_down);
    }
  ADD ("/faults/bwlimit", test_bwlimit);
#undef ADD

  status = g_test_run ();
  {
    const char *rm[] = { "rm", "-rf", shared_dir, NULL };
    g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                  NULL);
  }
  g_free (shared_dir);
  g_clear_pointer (&kill_tree_files, g_ptr_array_unref);
  return status;
}
