/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-cli"

#include "config.h"

#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sluice-engine.h"

/* Exit codes, a contract with scripts. */
enum {
  EXIT_DONE = 0,
  EXIT_SOME_FAILED = 1,
  EXIT_USAGE = 2,
  EXIT_INTERRUPTED = 3,
};

static GMutex output_mutex;
static gboolean progress_on_tty;
static gboolean progress_line_shown;

static void
clear_progress_line_locked (void)
{
  if (progress_line_shown)
    {
      fputs ("\r\033[K", stderr);
      progress_line_shown = FALSE;
    }
}

static void
print_error (const GError *error)
{
  g_mutex_lock (&output_mutex);
  clear_progress_line_locked ();
  if (error->domain == SLUICE_ERROR && error->code != SLUICE_ERROR_INVALID_ARGUMENT)
    g_printerr ("sluice-cli: %s\n  %s\n", sluice_error_describe (error->code), error->message);
  else
    g_printerr ("sluice-cli: %s\n", error->message);
  g_mutex_unlock (&output_mutex);
}

/* A run that had started and stopped for a passing reason (interrupted, disk full, the server
 * gone or out of space, credentials expired) is resumable: 3. Anything said before a file was
 * touched is a usage or configuration error: 2. */
static int
exit_code_for_error (const GError *error,
                     gboolean      started)
{
  if (g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_CANCELLED) ||
      g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_NO_SPACE) ||
      g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_SERVER_FULL))
    return EXIT_INTERRUPTED;
  if (started && sluice_error_is_retryable (error))
    return EXIT_INTERRUPTED;
  return EXIT_USAGE;
}

static char *
format_size (gint64 bytes)
{
  return g_format_size_full (MAX (bytes, 0), G_FORMAT_SIZE_DEFAULT);
}

/* ---- ingest ------------------------------------------------------------------------------- */

typedef struct {
  SluicePipeline        *pipeline;
  GMainLoop             *loop;
  GCancellable          *cancellable;
  SluicePipelineSummary  summary;
  GError                *error;
  guint                  interrupts;
  SluiceProgressMeter   *meter;
} IngestRun;

static void
file_failed (const char   *relpath,
             const GError *error,
             gpointer      user_data)
{
  g_autofree char *display = g_filename_display_name (relpath ? relpath : "");

  /* called from worker threads */
  g_mutex_lock (&output_mutex);
  clear_progress_line_locked ();
  if (strstr (error->message, display) != NULL || relpath == NULL)
    g_printerr (_("failed: %s\n"), error->message);
  else
    g_printerr (_("failed: %s: %s\n"), display, error->message);
  g_mutex_unlock (&output_mutex);
}

static void
file_warning (const char   *relpath,
              const GError *error,
              gpointer      user_data)
{
  g_autofree char *display = g_filename_display_name (relpath ? relpath : "");

  g_mutex_lock (&output_mutex);
  clear_progress_line_locked ();
  if (relpath == NULL)
    g_printerr (_("warning: %s\n"), error->message);
  else
    g_printerr (_("warning: %s: %s\n"), display, error->message);
  g_mutex_unlock (&output_mutex);
}

/* A time left, short: "45 s", "12 min", "2 h 05 min". */
static char *
format_time_left (double seconds)
{
  guint s = (guint) MIN (seconds + 0.5, 99.0 * 3600);
  guint m = (s + 30) / 60;

  if (s < 60)
    /* TRANSLATORS: seconds left, in the progress line */
    return g_strdup_printf (_("%u s"), s);
  if (m < 60)
    /* TRANSLATORS: minutes left, in the progress line */
    return g_strdup_printf (_("%u min"), m);
  /* TRANSLATORS: hours and minutes left, in the progress line */
  return g_strdup_printf (_("%u h %02u min"), m / 60, m % 60);
}

/* The terminal's width, or 0 when it does not say. */
static guint
terminal_columns (void)
{
  struct winsize ws;

  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &ws) == 0)
    return ws.ws_col;
  return 0;
}

/* The live line, most telling first (a narrow terminal cuts its end): what was found and
 * uploaded, how fast, how long still, and problems only when there are some. */
static gboolean
show_progress (gpointer user_data)
{
  IngestRun *run = user_data;
  SluiceProgress *progress = sluice_pipeline_get_progress (run->pipeline);
  SluiceProgressSnapshot s;
  g_autoptr(GString) line = g_string_new (NULL);
  g_autofree char *sent = NULL;
  g_autofree char *rate = NULL;
  gboolean walk_done = sluice_progress_walk_done (progress);
  SluiceProgressRates rates;
  gboolean rates_known = FALSE;
  guint columns;

  sluice_progress_snapshot (progress, &s);
  /* while the engine waits for the server, the standstill is not the run's speed */
  if (sluice_pipeline_is_paused (run->pipeline))
    sluice_progress_meter_reset (run->meter);
  else
    rates_known = sluice_progress_meter_update (run->meter, g_get_monotonic_time (), &s,
                                                walk_done, &rates);
  sent = format_size (s.bytes[SLUICE_STAGE_UPLOADED]);
  rate = format_size (rates_known ? (gint64) rates.bytes_per_s : 0);

  /* TRANSLATORS: the start of the live progress line; %s is "…" while the folder is still
   * being listed */
  g_string_printf (line, _("found %lld%s"), (long long) s.files[SLUICE_STAGE_FOUND],
                   walk_done ? "" : "…");
  /* TRANSLATORS: in the progress line: files uploaded (bytes, bytes per second recently) */
  g_string_append_printf (line, _(" · uploaded %lld (%s, %s/s)"),
                          (long long) s.files[SLUICE_STAGE_UPLOADED], sent, rate);
  if (rates_known)
    /* TRANSLATORS: in the progress line: files done per second, recently */
    g_string_append_printf (line, _(" · %.0f files/s"), rates.files_per_s);
  if (rates_known && rates.eta_seconds >= 0)
    {
      g_autofree char *left = format_time_left (rates.eta_seconds);

      /* TRANSLATORS: in the progress line: "· 12 min left" */
      g_string_append_printf (line, _(" · %s left"), left);
    }
  if (s.files[SLUICE_STAGE_SKIPPED] > 0)
    /* TRANSLATORS: in the progress line: files already in the bucket */
    g_string_append_printf (line, _(" · skipped %lld"), (long long) s.files[SLUICE_STAGE_SKIPPED]);
  if (s.files[SLUICE_STAGE_FAILED] > 0)
    /* TRANSLATORS: in the progress line */
    g_string_append_printf (line, _(" · failed %lld"), (long long) s.files[SLUICE_STAGE_FAILED]);
  /* a line wider than the terminal wraps, and "\r" no longer goes back to its start */
  columns = terminal_columns ();
  if (columns > 1 && g_utf8_strlen (line->str, -1) > (glong) columns - 1)
    g_string_truncate (line, g_utf8_offset_to_pointer (line->str, columns - 1) - line->str);

  g_mutex_lock (&output_mutex);
  fputs ("\r\033[K", stderr);
  fputs (line->str, stderr);
  progress_line_shown = TRUE;
  g_mutex_unlock (&output_mutex);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  IngestRun *run = user_data;

  run->interrupts++;
  if (run->interrupts > 1)
    {
      /* a second Ctrl+C: the user does not want to wait for in-flight requests */
      g_printerr ("\n");
      _exit (EXIT_INTERRUPTED);
    }
  g_mutex_lock (&output_mutex);
  clear_progress_line_locked ();
  g_printerr (_("Interrupted: finishing what is in flight… (press Ctrl+C again to quit at once)\n"));
  g_mutex_unlock (&output_mutex);
  g_cancellable_cancel (run->cancellable);
  return G_SOURCE_CONTINUE;
}

static void
on_run_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  IngestRun *run = user_data;

  sluice_pipeline_run_finish (run->pipeline, result, &run->summary, &run->error);
  g_main_loop_quit (run->loop);
}

static gboolean
is_ip_or_localhost (const char *host)
{
  return host == NULL || g_hostname_is_ip_address (host) || g_str_equal (host, "localhost");
}

static void
print_summary_text (const SluicePipelineSummary *sum,
                    const char                  *target_uri,
                    gboolean                     dry_run)
{
  const SluiceProgressSnapshot *c = &sum->counts;
  g_autofree char *found = format_size (c->bytes[SLUICE_STAGE_FOUND]);
  g_autofree char *up = format_size (c->bytes[SLUICE_STAGE_UPLOADED]);
  g_autofree char *would = format_size (c->bytes[SLUICE_STAGE_READ]);
  g_autofree char *rate = format_size (sum->seconds > 0
                                       ? (gint64) (c->bytes[SLUICE_STAGE_UPLOADED] / sum->seconds)
                                       : 0);

  g_print (_("%lld files found (%s) in %.1f s\n"), (long long) c->files[SLUICE_STAGE_FOUND],
           found, sum->seconds);
  if (dry_run)
    {
      g_print (_("Dry run: would upload %lld files (%s) to %s; %lld already there and unchanged. "
                 "Nothing was sent.\n"),
               (long long) c->files[SLUICE_STAGE_READ], would, target_uri,
               (long long) c->files[SLUICE_STAGE_SKIPPED]);
      return;
    }
  if (c->files[SLUICE_STAGE_UPLOADED] == 0 && c->files[SLUICE_STAGE_FAILED] == 0 &&
      c->files[SLUICE_STAGE_SKIPPED] > 0)
    g_print (_("Nothing to upload: all %lld files are already in %s and unchanged.\n"),
             (long long) c->files[SLUICE_STAGE_SKIPPED], target_uri);
  g_print (_("  uploaded  %lld files, %s (%s/s)\n"),
           (long long) c->files[SLUICE_STAGE_UPLOADED], up, rate);
  g_print (_("  skipped   %lld files (already uploaded, unchanged)\n"),
           (long long) c->files[SLUICE_STAGE_SKIPPED]);
  g_print (_("  failed    %lld files\n"), (long long) c->files[SLUICE_STAGE_FAILED]);
  g_print (_("  metadata  %lld read, %lld with warnings, %lld where the reader failed "
             "(uploaded without metadata)\n"),
           (long long) c->files[SLUICE_STAGE_PROBED], (long long) c->files[SLUICE_STAGE_WARNINGS],
           (long long) c->files[SLUICE_STAGE_PROBE_FAILED]);
  if (sum->reconciled > 0)
    g_print (_("  %llu uploads interrupted last time were found complete on the server and not "
               "sent again\n"), (unsigned long long) sum->reconciled);
  if (sum->walk_problems > 0)
    g_print (_("  %u folders could not be read (see above)\n"), sum->walk_problems);
}

static void
print_summary_json (const SluicePipelineSummary *sum,
                    const char                  *source,
                    const char                  *target_uri,
                    int                          exit_code,
                    const GError                *error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, source);
  json_builder_set_member_name (b, "target");
  json_builder_add_string_value (b, target_uri);
  json_builder_set_member_name (b, "run_id");
  json_builder_add_int_value (b, sum->run_id);
  json_builder_set_member_name (b, "seconds");
  json_builder_add_double_value (b, sum->seconds);
  json_builder_set_member_name (b, "files");
  json_builder_begin_object (b);
  for (int i = 0; i < SLUICE_N_STAGES; i++)
    {
      json_builder_set_member_name (b, sluice_stage_name (i));
      json_builder_add_int_value (b, sum->counts.files[i]);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "bytes");
  json_builder_begin_object (b);
  for (int i = 0; i < SLUICE_N_STAGES; i++)
    {
      json_builder_set_member_name (b, sluice_stage_name (i));
      json_builder_add_int_value (b, sum->counts.bytes[i]);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "reconciled");
  json_builder_add_int_value (b, sum->reconciled);
  json_builder_set_member_name (b, "walk_problems");
  json_builder_add_int_value (b, sum->walk_problems);
  json_builder_set_member_name (b, "probe_restarts");
  json_builder_add_int_value (b, sum->probe_restarts);
  json_builder_set_member_name (b, "retries");
  json_builder_add_int_value (b, sum->retries);
  json_builder_set_member_name (b, "throttled");
  json_builder_add_int_value (b, sum->throttled);
  json_builder_set_member_name (b, "concurrency_min");
  json_builder_add_int_value (b, sum->concurrency_min);
  json_builder_set_member_name (b, "paused_seconds");
  json_builder_add_double_value (b, sum->paused_seconds);
  json_builder_set_member_name (b, "capabilities");
  {
    g_autoptr(JsonNode) caps = sum->capabilities ? json_from_string (sum->capabilities, NULL)
                                                 : NULL;
    if (caps != NULL)
      json_builder_add_value (b, g_steal_pointer (&caps));
    else
      json_builder_add_null_value (b);
  }
  json_builder_set_member_name (b, "exit_code");
  json_builder_add_int_value (b, exit_code);
  json_builder_set_member_name (b, "error");
  if (error != NULL)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "code");
      json_builder_add_string_value (b, error->domain == SLUICE_ERROR
                                        ? sluice_error_code_name (error->code) : "failed");
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, error->message);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

/* Target options shared by the commands that talk to S3. */
typedef struct {
  char     *endpoint;
  char     *region;
  char     *profile;
  char     *ca_file;
  GStrv     resolve;
  char     *saved;           /* --target NAME */
  char     *storage_class;
  char     *sse;
  char     *sse_kms_key_id;
  GStrv     tags;
  gboolean  acl_owner;
  gboolean  path_style;
  gboolean  virtual_hosted;
  gboolean  insecure;
  int       stall_timeout;
} TargetArgs;

static GOptionEntry *
target_entries (TargetArgs *t)
{
  GOptionEntry entries[] = {
    { "target", 0, 0, G_OPTION_ARG_STRING, &t->saved,
      N_("A target saved in the app (endpoint, bucket, prefix, options; the secret from the "
         "keyring); an s3:// address, if given too, replaces its bucket and prefix"), "NAME" },
    { "endpoint", 0, 0, G_OPTION_ARG_STRING, &t->endpoint,
      N_("S3 endpoint (default: AWS_ENDPOINT_URL, the profile's endpoint_url, or AWS)"), "URL" },
    { "region", 0, 0, G_OPTION_ARG_STRING, &t->region,
      N_("Region to sign for (default: AWS_REGION, the profile's region, or us-east-1)"), "R" },
    { "profile", 0, 0, G_OPTION_ARG_STRING, &t->profile,
      N_("Profile in ~/.aws/credentials and ~/.aws/config"), "NAME" },
    { "path-style", 0, 0, G_OPTION_ARG_NONE, &t->path_style,
      N_("Address the bucket in the path (http://host/bucket/key)"), NULL },
    { "virtual-hosted", 0, 0, G_OPTION_ARG_NONE, &t->virtual_hosted,
      N_("Address the bucket in the host name (http://bucket.host/key)"), NULL },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &t->ca_file,
      N_("Trust the certificates in this PEM file too (self-signed endpoints)"), "FILE" },
    { "insecure", 0, 0, G_OPTION_ARG_NONE, &t->insecure,
      N_("Do not verify the endpoint's TLS certificate (dangerous)"), NULL },
    { "storage-class", 0, 0, G_OPTION_ARG_STRING, &t->storage_class,
      N_("Storage class of new objects (STANDARD, STANDARD_IA, INTELLIGENT_TIERING, "
         "GLACIER_IR, DEEP_ARCHIVE, …)"), "CLASS" },
    { "sse", 0, 0, G_OPTION_ARG_STRING, &t->sse,
      N_("Server-side encryption: AES256 or aws:kms"), "ALGORITHM" },
    { "sse-kms-key-id", 0, 0, G_OPTION_ARG_STRING, &t->sse_kms_key_id,
      N_("KMS key for --sse aws:kms"), "ID" },
    { "tag", 0, 0, G_OPTION_ARG_STRING_ARRAY, &t->tags,
      N_("Tag new objects (repeatable)"), "KEY=VALUE" },
    { "acl-bucket-owner-full-control", 0, 0, G_OPTION_ARG_NONE, &t->acl_owner,
      N_("Give the bucket owner full control (buckets of another account)"), NULL },
    { "resolve", 0, 0, G_OPTION_ARG_STRING_ARRAY, &t->resolve,
      N_("Connect to ADDRESS for HOST:PORT, without DNS (as curl --resolve)"),
      "HOST:PORT:ADDRESS" },
    { "stall-timeout", 0, 0, G_OPTION_ARG_INT, &t->stall_timeout,
      N_("Seconds a request may go without moving a byte before it is tried again "
         "(default 60)"), "S" },
    { NULL }
  };
  return g_memdup2 (entries, sizeof entries);
}

static void
target_args_clear (TargetArgs *t)
{
  g_free (t->endpoint);
  g_free (t->region);
  g_free (t->profile);
  g_free (t->ca_file);
  g_free (t->saved);
  g_strfreev (t->resolve);
  g_free (t->storage_class);
  g_free (t->sse);
  g_free (t->sse_kms_key_id);
  g_strfreev (t->tags);
}

/* Builds the target from an s3:// URI and the options, asking the credential provider for
 * the region and endpoint the user did not give. */
static SluiceTarget *
make_target (const char                *uri,
             TargetArgs                *t,
             SluiceCredentialsProvider *creds,
             GError                   **error)
{
  g_autoptr(SluiceTarget) target = sluice_target_new ();
  g_autofree char *host = NULL;
  g_autofree char *region = NULL;
  g_autofree char *endpoint = NULL;

  if (!sluice_target_parse_uri (target, uri, error))
    return NULL;

  region = t->region ? g_strdup (t->region) : sluice_credentials_provider_get_region (creds);
  if (region != NULL)
    {
      g_free (target->region);
      target->region = g_steal_pointer (&region);
    }
  endpoint = t->endpoint ? g_strdup (t->endpoint) : sluice_credentials_provider_get_endpoint (creds);
  if (endpoint == NULL)
    endpoint = g_strdup_printf ("https://s3.%s.amazonaws.com", target->region);
  /* "https://host/" and "https://host" are the same endpoint */
  while (g_str_has_suffix (endpoint, "/"))
    endpoint[strlen (endpoint) - 1] = '\0';
  target->endpoint = g_steal_pointer (&endpoint);

  host = sluice_target_host (target);
  /* AWS and most providers prefer virtual-hosted; an IP address or localhost cannot be */
  target->path_style = t->path_style || (!t->virtual_hosted && is_ip_or_localhost (host));
  target->insecure = t->insecure;
  target->ca_file = g_strdup (t->ca_file);
  target->resolve = g_strdupv (t->resolve);
  target->storage_class = g_strdup (t->storage_class);
  target->sse = g_strdup (t->sse);
  target->sse_kms_key_id = g_strdup (t->sse_kms_key_id);
  target->tags = g_strdupv (t->tags);
  target->acl_owner_full_control = t->acl_owner;

  if (!sluice_target_validate (target, error))
    return NULL;
  return g_steal_pointer (&target);
}

/* Parses a command's options: -1 when the command may go on, else the exit status. */
static int
parse_command (GOptionContext *ctx,
               const char     *command,
               int            *argc,
               char         ***argv,
               int             want_argc)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      g_printerr ("sluice-cli %s: %s\n", command, error->message);
      return EXIT_USAGE;
    }
  if (*argc != want_argc)
    {
      g_autofree char *help = g_option_context_get_help (ctx, TRUE, NULL);
      g_printerr ("%s", help);
      return EXIT_USAGE;
    }
  return -1;
}

/* A target saved by the app (targets.ini; the secret from the keyring), the same the app
 * uses. @uri, when given, replaces its bucket and prefix. */
static SluiceTarget *
open_saved_target (const char                 *name,
                   const char                 *uri,
                   SluiceCredentialsProvider **out_creds,
                   GError                    **error)
{
  g_autoptr(SluiceTargetStore) store = sluice_target_store_new (NULL);
  g_autoptr(SluiceTarget) target = NULL;
  const SluiceSavedTarget *saved;

  if (!sluice_target_store_load (store, error))
    return NULL;
  saved = sluice_target_store_lookup (store, name);
  if (saved == NULL)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("There is no saved target named “%s” in %s"), name,
                   sluice_target_store_get_path (store));
      return NULL;
    }
  target = sluice_target_copy (saved->target);
  if (uri != NULL && !sluice_target_parse_uri (target, uri, error))
    return NULL;
  if (!sluice_target_validate (target, error))
    return NULL;
  *out_creds = sluice_saved_target_credentials_sync (saved, NULL, error);
  if (*out_creds == NULL)
    return NULL;
  return g_steal_pointer (&target);
}

/* The target an s3:// URI (or --target NAME) and the options name, with its credentials; the
 * options are used up. */
static SluiceTarget *
open_target (const char                 *uri,
             TargetArgs                 *targs,
             SluiceCredentialsProvider **out_creds,
             GError                    **error)
{
  SluiceTarget *target;

  if (targs->stall_timeout < 0)
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                           _("--stall-timeout cannot be negative"));
      target_args_clear (targs);
      return NULL;
    }
  if (targs->saved != NULL)
    target = open_saved_target (targs->saved, uri, out_creds, error);
  else
    {
      *out_creds = sluice_credentials_provider_new (targs->profile);
      target = make_target (uri, targs, *out_creds, error);
    }
  if (target != NULL)
    target->stall_timeout_s = (guint) targs->stall_timeout;
  target_args_clear (targs);
  return target;
}

static int
cmd_ingest (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCredentialsProvider) creds = NULL;
  g_autoptr(SluicePipeline) pipeline = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autofree GOptionEntry *tentries = NULL;
  g_autofree char *target_uri = NULL;
  g_auto(GStrv) include = NULL;
  g_auto(GStrv) exclude = NULL;
  g_autofree char *catalog = NULL;
  TargetArgs targs = { 0 };
  SluicePipelineOptions opts;
  IngestRun run = { 0 };
  gboolean all_files = FALSE, hidden = FALSE, dry_run = FALSE, json = FALSE;
  gboolean no_meta_headers = FALSE, skip_probe_failed = FALSE;
  int jobs = 16, probes = (int) g_get_num_processors (), budget_mb = 64;
  int threshold_mb = 64, part_mb = 16, retries = 5, pause_timeout = 300;
  gboolean no_overwrite = FALSE, dedupe = FALSE;
  g_autofree char *bwlimit = NULL;
  g_autofree char *key_template = NULL;
  guint64 bwlimit_bytes = 0;
  guint timer = 0, sigint, sigterm;
  int exit_code;
  GOptionEntry entries[] = {
    { "catalog", 0, 0, G_OPTION_ARG_FILENAME, &catalog,
      N_("Catalog database (default: $XDG_DATA_HOME/sluice/catalog.db)"), "FILE" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, N_("Concurrent uploads (default 16)"), "N" },
    { "probes", 0, 0, G_OPTION_ARG_INT, &probes,
      N_("Metadata helper processes (default: number of CPUs)"), "N" },
    { "memory", 0, 0, G_OPTION_ARG_INT, &budget_mb,
      N_("File bytes held in memory at once, in MiB (default 64)"), "MIB" },
    { "multipart-threshold", 0, 0, G_OPTION_ARG_INT, &threshold_mb,
      N_("Upload files of this many MiB or more in parts (default 64)"), "MIB" },
    { "part-size", 0, 0, G_OPTION_ARG_INT, &part_mb,
      N_("Size of each part, in MiB (default 16, at least 5)"), "MIB" },
    { "retries", 0, 0, G_OPTION_ARG_INT, &retries,
      N_("Attempts per request when the server or the network fails (default 5)"), "N" },
    { "bwlimit", 0, 0, G_OPTION_ARG_STRING, &bwlimit,
      N_("Upload at most RATE per second in all (e.g. 500K, 10M, 1G: KiB, MiB, GiB)"), "RATE" },
    { "pause-timeout", 0, 0, G_OPTION_ARG_INT, &pause_timeout,
      N_("Seconds to wait for an unreachable server before stopping (default 300)"), "S" },
    { "key-template", 0, 0, G_OPTION_ARG_STRING, &key_template,
      N_("Object keys from a template: {path} (default), {year}/{month}/{day}, {camera}, "
         "{sha256}, {name}, {ext}"), "TEMPLATE" },
    { "dedupe", 0, 0, G_OPTION_ARG_NONE, &dedupe,
      N_("Content already in the bucket under another key is copied on the server, not sent"),
      NULL },
    { "no-overwrite", 0, 0, G_OPTION_ARG_NONE, &no_overwrite,
      N_("Never replace an object that exists already (it is skipped)"), NULL },
    { "include", 0, 0, G_OPTION_ARG_STRING_ARRAY, &include,
      N_("Also take files matching this glob (repeatable)"), "GLOB" },
    { "exclude", 0, 0, G_OPTION_ARG_STRING_ARRAY, &exclude,
      N_("Skip files and folders matching this glob (repeatable)"), "GLOB" },
    { "all-files", 0, 0, G_OPTION_ARG_NONE, &all_files,
      N_("Take every file, not only images, videos and sidecars"), NULL },
    { "hidden", 0, 0, G_OPTION_ARG_NONE, &hidden, N_("Take hidden files and folders too"), NULL },
    { "no-metadata-headers", 0, 0, G_OPTION_ARG_NONE, &no_meta_headers,
      N_("Do not copy EXIF fields into x-amz-meta-* headers"), NULL },
    { "skip-probe-failed", 0, 0, G_OPTION_ARG_NONE, &skip_probe_failed,
      N_("Do not upload files whose metadata could not be read"), NULL },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
      N_("Show what would be sent; send nothing"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON object at the end"), NULL },
    { NULL }
  };

  ctx = g_option_context_new (_("SOURCE_DIR s3://BUCKET[/PREFIX] — upload a folder and "
                                "catalog its metadata"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  tentries = target_entries (&targs);
  g_option_context_add_main_entries (ctx, tentries, GETTEXT_PACKAGE);
  g_option_context_set_description (ctx,
    _("The object key is PREFIX/path-relative-to-SOURCE_DIR. Files already uploaded and "
      "unchanged are skipped, so running the same command again continues an interrupted run.\n"
      "\n"
      "Exit status: 0 all done, 1 some files failed, 2 usage or configuration error, "
      "3 interrupted (run again to continue)."));

  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("sluice-cli ingest: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (argc != 3 && !(argc == 2 && targs.saved != NULL))
    {
      g_autofree char *help = g_option_context_get_help (ctx, TRUE, NULL);
      g_printerr ("%s", help);
      return EXIT_USAGE;
    }
  if (jobs < 1 || probes < 1 || budget_mb < 16 || retries < 1)
    {
      g_printerr (_("sluice-cli ingest: --jobs, --probes and --retries must be at least 1, "
                    "--memory at least 16\n"));
      return EXIT_USAGE;
    }
  if (bwlimit != NULL && !sluice_rate_parse (bwlimit, &bwlimit_bytes))
    {
      g_printerr (_("sluice-cli ingest: “%s” is not a rate; write it as 500K, 10M or 1G\n"),
                  bwlimit);
      return EXIT_USAGE;
    }
  if (pause_timeout < 0)
    {
      g_printerr (_("sluice-cli ingest: --pause-timeout cannot be negative\n"));
      return EXIT_USAGE;
    }
  if (part_mb < 5 || threshold_mb < part_mb)
    {
      g_printerr (_("sluice-cli ingest: --part-size must be at least 5 (S3's minimum) and "
                    "--multipart-threshold at least the part size\n"));
      return EXIT_USAGE;
    }

  sluice_pipeline_options_init (&opts);
  opts.target = open_target (argc == 3 ? argv[2] : NULL, &targs, &creds, &error);
  if (opts.target == NULL)
    {
      print_error (error);
      return EXIT_USAGE;
    }
  target_uri = sluice_target_to_uri (opts.target);
  opts.source = g_strdup (argv[1]);
  opts.credentials = creds;
  opts.catalog_path = g_strdup (catalog);
  opts.jobs = jobs;
  opts.probes = probes;
  opts.memory_budget = (guint64) budget_mb * 1024 * 1024;
  opts.walker.include = g_steal_pointer (&include);
  opts.walker.exclude = g_steal_pointer (&exclude);
  opts.walker.all_files = all_files;
  opts.walker.hidden = hidden;
  opts.dry_run = dry_run;
  opts.metadata_headers = !no_meta_headers;
  opts.skip_probe_failed = skip_probe_failed;
  opts.multipart_threshold = (guint64) threshold_mb * 1024 * 1024;
  opts.part_size = (guint64) part_mb * 1024 * 1024;
  opts.retries = retries;
  opts.no_overwrite = no_overwrite;
  opts.bwlimit = bwlimit_bytes;
  opts.pause_timeout_s = pause_timeout;
  opts.dedupe = dedupe;
  opts.key_template = g_steal_pointer (&key_template);

  pipeline = sluice_pipeline_new (&opts, &error);
  if (pipeline == NULL)
    {
      print_error (error);
      sluice_pipeline_options_clear (&opts);
      return EXIT_USAGE;
    }
  sluice_pipeline_set_file_func (pipeline, file_failed, file_warning, NULL);

  loop = g_main_loop_new (NULL, FALSE);
  cancellable = g_cancellable_new ();
  run.pipeline = pipeline;
  run.loop = loop;
  run.cancellable = cancellable;
  run.meter = sluice_progress_meter_new (5 * G_USEC_PER_SEC);

  sigint = g_unix_signal_add (SIGINT, on_signal, &run);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &run);
  progress_on_tty = isatty (STDERR_FILENO) && !json;
  if (progress_on_tty)
    timer = g_timeout_add (100, show_progress, &run);

  sluice_pipeline_run_async (pipeline, cancellable, on_run_done, &run);
  g_main_loop_run (loop);

  if (timer != 0)
    g_source_remove (timer);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_mutex_lock (&output_mutex);
  clear_progress_line_locked ();
  g_mutex_unlock (&output_mutex);

  if (run.error != NULL)
    exit_code = exit_code_for_error (run.error, run.summary.run_id != 0);
  else if (run.summary.counts.files[SLUICE_STAGE_FAILED] > 0 || run.summary.walk_problems > 0)
    exit_code = EXIT_SOME_FAILED;
  else
    exit_code = EXIT_DONE;

  if (json)
    print_summary_json (&run.summary, opts.source, target_uri, exit_code, run.error);
  else
    {
      if (run.error != NULL)
        print_error (run.error);
      if (run.summary.counts.files[SLUICE_STAGE_FOUND] > 0 || run.error == NULL)
        print_summary_text (&run.summary, target_uri, dry_run);
    }

  g_clear_error (&run.error);
  g_clear_pointer (&run.meter, sluice_progress_meter_free);
  sluice_pipeline_summary_clear (&run.summary);
  sluice_pipeline_options_clear (&opts);
  return exit_code;
}

/* ---- catalog export ------------------------------------------------------------------------ */

typedef struct {
  char     *camera;
  char     *lens;
  char     *since;
  char     *until;
  char     *state;
  char     *search;
  char     *sort;
  gint64    run;
  gboolean  has_gps;
  gboolean  no_gps;
  gboolean  descending;
} FilterArgs;

static const char *const sort_names[SLUICE_QUERY_N_SORTS] = {
  "ingest", "name", "date", "camera", "lens", "exposure", "iso", "focal-length", "size", "state",
  "key",
};

/* The browser's filters as options: no SQL from users, only values. */
static SluiceQuery *
query_from_filters (FilterArgs  *fa,
                    GError     **error)
{
  g_autoptr(SluiceQuery) query = sluice_query_new ();
  guint states = 0;

  if (fa->sort != NULL)
    {
      guint i;

      for (i = 0; i < SLUICE_QUERY_N_SORTS; i++)
        if (g_str_equal (fa->sort, sort_names[i]))
          break;
      if (i == SLUICE_QUERY_N_SORTS)
        {
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                       _("Unknown sort “%s”; use ingest, name, date, camera, lens, exposure, "
                         "iso, focal-length, size, state or key"), fa->sort);
          return NULL;
        }
      sluice_query_set_sort (query, i, fa->descending);
    }
  else
    sluice_query_set_sort (query, SLUICE_QUERY_SORT_INGEST, fa->descending);
  sluice_query_set_camera (query, fa->camera);
  sluice_query_set_lens (query, fa->lens);
  sluice_query_set_search (query, fa->search);
  if (!sluice_query_set_date_range (query, fa->since, fa->until, error))
    return NULL;
  if (fa->has_gps && fa->no_gps)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("--has-gps and --no-gps exclude each other"));
      return NULL;
    }
  sluice_query_set_gps (query, fa->has_gps ? SLUICE_QUERY_GPS_WITH :
                               fa->no_gps ? SLUICE_QUERY_GPS_WITHOUT : SLUICE_QUERY_GPS_ANY);
  if (fa->state != NULL && !sluice_query_states_from_string (fa->state, &states, error))
    return NULL;
  sluice_query_set_states (query, states);
  if (fa->run < 0)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("--run takes a run number (see the ingest summary)"));
      return NULL;
    }
  sluice_query_set_run (query, fa->run);
  return g_steal_pointer (&query);
}

static void
filter_args_clear (FilterArgs *fa)
{
  g_free (fa->camera);
  g_free (fa->lens);
  g_free (fa->since);
  g_free (fa->until);
  g_free (fa->state);
  g_free (fa->search);
  g_free (fa->sort);
}

#define MANIFEST_MAX_PUT (G_GUINT64_CONSTANT (5) * 1024 * 1024 * 1024)

/* Uploads the manifest written to @path as @uri: mapped, not read into memory. */
static gboolean
upload_manifest (const char  *path,
                 const char  *uri,
                 TargetArgs  *targs,
                 gboolean     jsonl,
                 GError     **error)
{
  g_autoptr(SluiceCredentialsProvider) creds = NULL;
  g_autoptr(SluiceTarget) target = NULL;
  g_autoptr(GMappedFile) map = NULL;
  g_autofree char *etag = NULL;
  SluiceS3Client *s3;
  SluiceS3PutRequest req = { 0 };
  char sha[65];
  gboolean ok;

  target = open_target (uri, targs, &creds, error);
  memset (targs, 0, sizeof *targs);   /* used up (freed) by open_target () */
  if (target == NULL)
    return FALSE;
  if (target->prefix == NULL || *target->prefix == '\0' || g_str_has_suffix (target->prefix, "/"))
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("--upload needs the manifest's whole key: s3://BUCKET/KEY, e.g. "
                     "s3://photos/manifests/2024.csv"));
      return FALSE;
    }
  map = g_mapped_file_new (path, FALSE, error);
  if (map == NULL)
    return FALSE;
  if (g_mapped_file_get_length (map) > MANIFEST_MAX_PUT)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_TOO_LARGE,
                   _("The manifest is larger than 5 GiB, more than one upload can carry; write "
                     "it with -o and narrow the filters"));
      return FALSE;
    }
  req.key = target->prefix;
  req.content_type = jsonl ? "application/x-ndjson" : "text/csv; charset=utf-8";
  req.body = (const guint8 *) g_mapped_file_get_contents (map);
  req.len = g_mapped_file_get_length (map);
  sluice_sha256_hex (req.body != NULL ? req.body : (const guint8 *) "", req.len, sha);
  req.sha256_hex = sha;
  s3 = sluice_s3_client_new (target, creds);
  ok = sluice_s3_client_put_object (s3, &req, &etag, error);
  sluice_s3_client_free (s3);
  return ok;
}

static int
cmd_catalog (int    argc,
             char **argv)
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCatalog) catalog = NULL;
  g_autoptr(SluiceQuery) query = NULL;
  g_autoptr(GOutputStream) out = NULL;
  g_autoptr(GFileIOStream) tmp_io = NULL;
  g_autoptr(GFile) tmp = NULL;
  g_autofree GOptionEntry *tentries = NULL;
  g_autofree char *catalog_path = NULL;
  g_autofree char *format_name = NULL;
  g_autofree char *output = NULL;
  g_autofree char *upload = NULL;
  TargetArgs targs = { 0 };
  FilterArgs fa = { 0 };
  SluiceExportFormat format;
  guint64 rows = 0;
  gboolean filtered;
  GOptionEntry entries[] = {
    { "catalog", 0, 0, G_OPTION_ARG_FILENAME, &catalog_path,
      N_("Catalog database (default: $XDG_DATA_HOME/sluice/catalog.db)"), "FILE" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_name, N_("csv or jsonl (default csv)"),
      "FORMAT" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("Write to FILE instead of standard output"), "FILE" },
    { "upload", 0, 0, G_OPTION_ARG_STRING, &upload,
      N_("Upload the manifest to this key (with the target options, as ingest)"),
      "s3://BUCKET/KEY" },
    { "camera", 0, 0, G_OPTION_ARG_STRING, &fa.camera,
      N_("Only this camera (make and model, as the app shows it)"), "NAME" },
    { "lens", 0, 0, G_OPTION_ARG_STRING, &fa.lens, N_("Only this lens"), "NAME" },
    { "since", 0, 0, G_OPTION_ARG_STRING, &fa.since,
      N_("Only pictures taken on or after this day"), "YYYY-MM-DD" },
    { "until", 0, 0, G_OPTION_ARG_STRING, &fa.until,
      N_("Only pictures taken on or before this day"), "YYYY-MM-DD" },
    { "has-gps", 0, 0, G_OPTION_ARG_NONE, &fa.has_gps, N_("Only pictures with a GPS position"),
      NULL },
    { "no-gps", 0, 0, G_OPTION_ARG_NONE, &fa.no_gps, N_("Only pictures without a GPS position"),
      NULL },
    { "state", 0, 0, G_OPTION_ARG_STRING, &fa.state,
      N_("Only these states, comma-separated: uploaded, skipped, failed, pending, uploading"),
      "STATES" },
    { "run", 0, 0, G_OPTION_ARG_INT64, &fa.run,
      N_("Only what this run uploaded, skipped or failed"), "N" },
    { "search", 0, 0, G_OPTION_ARG_STRING, &fa.search,
      N_("Only rows whose path, camera or lens contain these words (\"a phrase\" in quotes)"),
      "WORDS" },
    { "sort", 0, 0, G_OPTION_ARG_STRING, &fa.sort,
      N_("Order: ingest (default), name, date, camera, lens, exposure, iso, focal-length, size, "
         "state, key"), "COLUMN" },
    { "descending", 0, 0, G_OPTION_ARG_NONE, &fa.descending, N_("Reverse the order"), NULL },
    { NULL }
  };

  ctx = g_option_context_new (_("export — write the catalog as a CSV or JSON Lines manifest"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  tentries = target_entries (&targs);
  g_option_context_add_main_entries (ctx, tentries, GETTEXT_PACKAGE);
  g_option_context_set_description (ctx,
    _("Columns: path, source, bucket, key, size, sha256, etag, state, warning, make, model, "
      "lens_model, datetime_original, subsec_time_original, offset_time_original, exposure_time, "
      "f_number, iso, focal_length, orientation, exif_width, exif_height, width, height, "
      "gps_latitude, gps_longitude, gps_altitude, has_thumbnail.\n"
      "Filters combine: every one given must hold. The target options (--endpoint, --profile, "
      "--target, …) are for --upload."));
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("sluice-cli catalog: %s\n", error->message);
      target_args_clear (&targs);
      filter_args_clear (&fa);
      return EXIT_USAGE;
    }
  if (argc != 2 || !g_str_equal (argv[1], "export"))
    {
      g_autofree char *help = g_option_context_get_help (ctx, TRUE, NULL);
      g_printerr ("%s", help);
      target_args_clear (&targs);
      filter_args_clear (&fa);
      return EXIT_USAGE;
    }
  filtered = fa.camera || fa.lens || fa.since || fa.until || fa.state || fa.search || fa.sort ||
             fa.run || fa.has_gps || fa.no_gps || fa.descending;
  query = query_from_filters (&fa, &error);
  filter_args_clear (&fa);
  if (query == NULL)
    {
      g_printerr ("sluice-cli catalog export: %s\n", error->message);
      target_args_clear (&targs);
      return EXIT_USAGE;
    }
  if (!sluice_export_format_from_string (format_name ? format_name : "csv", &format))
    {
      g_printerr (_("sluice-cli catalog export: unknown format “%s”; use csv or jsonl\n"),
                  format_name);
      target_args_clear (&targs);
      return EXIT_USAGE;
    }
  if (catalog_path == NULL)
    catalog_path = sluice_catalog_default_path ();
  if (!g_file_test (catalog_path, G_FILE_TEST_EXISTS))
    {
      g_printerr (_("sluice-cli catalog export: there is no catalog at %s\n"), catalog_path);
      target_args_clear (&targs);
      return EXIT_USAGE;
    }
  /* read-write only so that a catalog of an older schema is upgraded in place */
  catalog = sluice_catalog_open (catalog_path, FALSE, &error);
  if (catalog == NULL)
    {
      print_error (error);
      target_args_clear (&targs);
      return EXIT_USAGE;
    }

  if (upload != NULL && output == NULL)
    {
      /* streamed to a temporary file, then uploaded from it: never all in memory */
      tmp = g_file_new_tmp ("sluice-manifest-XXXXXX", &tmp_io, &error);
      if (tmp == NULL)
        {
          print_error (error);
          target_args_clear (&targs);
          return EXIT_USAGE;
        }
      out = g_object_ref (g_io_stream_get_output_stream (G_IO_STREAM (tmp_io)));
    }
  else if (output != NULL && !g_str_equal (output, "-"))
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (output);
      out = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error));
      if (out == NULL)
        {
          print_error (error);
          target_args_clear (&targs);
          return EXIT_USAGE;
        }
    }
  else
    out = g_unix_output_stream_new (STDOUT_FILENO, FALSE);

  if (!sluice_export_query (catalog, filtered ? query : NULL, format, out, &rows, NULL, &error) ||
      !g_output_stream_close (out, NULL, &error))
    {
      print_error (error);
      if (tmp != NULL)
        g_file_delete (tmp, NULL, NULL);
      target_args_clear (&targs);
      return EXIT_SOME_FAILED;
    }
  if (output != NULL && !g_str_equal (output, "-"))
    g_printerr (_("%llu rows written to %s\n"), (unsigned long long) rows, output);

  if (upload != NULL)
    {
      g_autofree char *local = tmp != NULL ? g_file_get_path (tmp) : g_strdup (output);
      gboolean ok;

      if (g_str_equal (local, "-"))
        {
          g_printerr (_("sluice-cli catalog export: --upload cannot send standard output; "
                        "give -o FILE or no -o\n"));
          target_args_clear (&targs);
          return EXIT_USAGE;
        }
      ok = upload_manifest (local, upload, &targs, format == SLUICE_EXPORT_JSONL, &error);
      if (tmp != NULL)
        g_file_delete (tmp, NULL, NULL);
      if (!ok)
        {
          print_error (error);
          return EXIT_SOME_FAILED;
        }
      g_printerr (_("%llu rows uploaded to %s\n"), (unsigned long long) rows, upload);
    }
  target_args_clear (&targs);
  return EXIT_DONE;
}

/* ---- make-bucket ---------------------------------------------------------------------------- */

static int
cmd_make_bucket (int    argc,
                 char **argv)
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCredentialsProvider) creds = NULL;
  g_autoptr(SluiceTarget) target = NULL;
  g_autoptr(SluiceS3Client) s3 = NULL;
  g_autofree GOptionEntry *tentries = NULL;
  TargetArgs targs = { 0 };
  int exit_code;

  ctx = g_option_context_new (_("s3://BUCKET — create a bucket"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  tentries = target_entries (&targs);
  g_option_context_add_main_entries (ctx, tentries, GETTEXT_PACKAGE);
  exit_code = parse_command (ctx, "make-bucket", &argc, &argv, 2);
  if (exit_code >= 0)
    return exit_code;
  target = open_target (argv[1], &targs, &creds, &error);
  if (target == NULL)
    {
      print_error (error);
      return EXIT_USAGE;
    }
  s3 = sluice_s3_client_new (target, creds);
  if (!sluice_s3_client_create_bucket (s3, &error))
    {
      print_error (error);
      return EXIT_USAGE;
    }
  return EXIT_DONE;
}

/* ---- verify -------------------------------------------------------------------------------- */

typedef struct {
  gboolean    json;
  JsonArray  *problems;
} VerifyOutput;

static void
on_verify_problem (SluiceVerifyProblem problem,
                   const char         *key,
                   const char         *expected,
                   const char         *found,
                   gpointer            user_data)
{
  VerifyOutput *out = user_data;

  if (out->json)
    {
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "problem", sluice_verify_problem_name (problem));
      json_object_set_string_member (o, "key", key);
      json_object_set_string_member (o, "expected", expected);
      json_object_set_string_member (o, "found", found);
      json_array_add_object_element (out->problems, o);
      return;
    }
  switch (problem)
    {
    case SLUICE_VERIFY_MISSING:
      g_print (_("missing: %s\n"), key);
      break;
    case SLUICE_VERIFY_SIZE_MISMATCH:
      g_print (_("size differs: %s (catalog %s bytes, bucket %s bytes)\n"), key, expected, found);
      break;
    case SLUICE_VERIFY_ETAG_MISMATCH:
      g_print (_("ETag differs: %s (catalog %s, bucket %s)\n"), key, expected ? expected : "-",
               found);
      break;
    case SLUICE_VERIFY_EXTRA:
      g_print (_("not in the catalog: %s\n"), key);
      break;
    default:
      break;
    }
}

/* The target of an s3:// URI and the options, plus its id in the catalog (0 if unknown). */
static gboolean
open_target_and_catalog (const char                 *uri,
                         TargetArgs                 *targs,
                         const char                 *catalog_path,
                         gboolean                    need_catalog,
                         SluiceCredentialsProvider **out_creds,
                         SluiceTarget              **out_target,
                         SluiceCatalog             **out_catalog,
                         gint64                     *out_target_id,
                         GError                    **error)
{
  g_autofree char *path = catalog_path ? g_strdup (catalog_path) : sluice_catalog_default_path ();

  *out_target = open_target (uri, targs, out_creds, error);
  if (*out_target == NULL)
    return FALSE;
  *out_catalog = NULL;
  *out_target_id = 0;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      if (!need_catalog)
        return TRUE;
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("There is no catalog at %s"), path);
      return FALSE;
    }
  *out_catalog = sluice_catalog_open (path, TRUE, error);
  if (*out_catalog == NULL)
    return FALSE;
  *out_target_id = sluice_catalog_find_target (*out_catalog, (*out_target)->endpoint,
                                               (*out_target)->bucket, NULL);
  return TRUE;
}

static char *
key_prefix (const SluiceTarget *target)
{
  if (target->prefix == NULL || target->prefix[0] == '\0')
    return g_strdup ("");
  return g_strconcat (target->prefix, "/", NULL);
}

static int
cmd_verify (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCredentialsProvider) creds = NULL;
  g_autoptr(SluiceTarget) target = NULL;
  g_autoptr(SluiceCatalog) catalog = NULL;
  g_autoptr(SluiceS3Client) s3 = NULL;
  g_autofree GOptionEntry *tentries = NULL;
  g_autofree char *catalog_path = NULL;
  g_autofree char *prefix = NULL;
  TargetArgs targs = { 0 };
  SluiceVerifyReport report = { 0 };
  VerifyOutput out = { 0 };
  gboolean json = FALSE, ok;
  gint64 target_id = 0;
  int exit_code;
  GOptionEntry entries[] = {
    { "catalog", 0, 0, G_OPTION_ARG_FILENAME, &catalog_path,
      N_("Catalog database (default: $XDG_DATA_HOME/sluice/catalog.db)"), "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON object"), NULL },
    { NULL }
  };

  ctx = g_option_context_new (_("s3://BUCKET[/PREFIX] — compare the catalog with the bucket"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  tentries = target_entries (&targs);
  g_option_context_add_main_entries (ctx, tentries, GETTEXT_PACKAGE);
  g_option_context_set_description (ctx,
    _("Lists the bucket (1,000 keys per request) and reports objects the catalog has as uploaded "
      "that are missing or whose size or ETag differ, and objects the catalog does not know. "
      "Exit status 1 when anything is missing or differs."));
  exit_code = parse_command (ctx, "verify", &argc, &argv, 2);
  if (exit_code >= 0)
    return exit_code;

  ok = open_target_and_catalog (argv[1], &targs, catalog_path, TRUE, &creds, &target, &catalog,
                                &target_id, &error);
  if (!ok)
    {
      print_error (error);
      return EXIT_USAGE;
    }
  prefix = key_prefix (target);
  s3 = sluice_s3_client_new (target, creds);
  out.json = json;
  out.problems = json_array_new ();
  ok = sluice_verify_target (catalog, target_id, s3, prefix, on_verify_problem, &out, &report,
                             &error);
  if (!ok)
    {
      print_error (error);
      json_array_unref (out.problems);
      return EXIT_USAGE;
    }
  exit_code = report.missing + report.size_mismatch + report.etag_mismatch > 0 ? EXIT_SOME_FAILED
                                                                                : EXIT_DONE;
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *text = NULL;

      json_builder_begin_object (b);
#define MEMBER(name, value) \
      json_builder_set_member_name (b, name); json_builder_add_int_value (b, value);
      MEMBER ("checked", report.checked);
      MEMBER ("ok", report.ok);
      MEMBER ("missing", report.missing);
      MEMBER ("size_mismatch", report.size_mismatch);
      MEMBER ("etag_mismatch", report.etag_mismatch);
      MEMBER ("extra", report.extra);
      MEMBER ("exit_code", exit_code);
#undef MEMBER
      json_builder_set_member_name (b, "problems");
      json_builder_add_value (b, json_node_init_array (json_node_alloc (), out.problems));
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      json_generator_set_root (gen, root);
      text = json_generator_to_data (gen, NULL);
      g_print ("%s\n", text);
    }
  else
    {
      g_print (_("%llu objects checked: %llu match, %llu missing, %llu differ in size, "
                 "%llu differ in ETag; %llu in the bucket but not in the catalog\n"),
               (unsigned long long) report.checked, (unsigned long long) report.ok,
               (unsigned long long) report.missing, (unsigned long long) report.size_mismatch,
               (unsigned long long) report.etag_mismatch, (unsigned long long) report.extra);
      json_array_unref (out.problems);
    }
  return exit_code;
}

/* ---- cleanup ------------------------------------------------------------------------------- */

typedef struct {
  SluiceS3Client *s3;
  GHashTable     *known;
  gboolean        all;
  gboolean        dry_run;
  guint           aborted;
  guint           kept;
  guint           failed;
} Cleanup;

static gboolean
on_upload (const char *key,
           const char *upload_id,
           const char *initiated,
           gpointer    user_data)
{
  Cleanup *c = user_data;
  g_autoptr(GError) error = NULL;

  if (!c->all && c->known != NULL && g_hash_table_contains (c->known, upload_id))
    {
      g_print (_("kept (a later run continues it): %s, started %s\n"), key, initiated);
      c->kept++;
      return TRUE;
    }
  if (c->dry_run)
    {
      g_print (_("would abort: %s, started %s\n"), key, initiated);
      c->aborted++;
      return TRUE;
    }
  if (!sluice_s3_client_abort_multipart (c->s3, key, upload_id, &error))
    {
      print_error (error);
      c->failed++;
      return TRUE;
    }
  g_print (_("aborted: %s, started %s\n"), key, initiated);
  c->aborted++;
  return TRUE;
}

static int
cmd_cleanup (int    argc,
             char **argv)
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCredentialsProvider) creds = NULL;
  g_autoptr(SluiceTarget) target = NULL;
  g_autoptr(SluiceCatalog) catalog = NULL;
  g_autoptr(SluiceS3Client) s3 = NULL;
  g_autoptr(GHashTable) known = NULL;
  g_autofree GOptionEntry *tentries = NULL;
  g_autofree char *catalog_path = NULL;
  g_autofree char *prefix = NULL;
  TargetArgs targs = { 0 };
  int exit_code;
  Cleanup c = { 0 };
  gboolean all = FALSE, dry_run = FALSE, ok;
  gint64 target_id = 0;
  GOptionEntry entries[] = {
    { "catalog", 0, 0, G_OPTION_ARG_FILENAME, &catalog_path,
      N_("Catalog database (default: $XDG_DATA_HOME/sluice/catalog.db)"), "FILE" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all,
      N_("Also abort uploads the catalog would continue"), NULL },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, N_("List only; abort nothing"), NULL },
    { NULL }
  };

  ctx = g_option_context_new (_("s3://BUCKET[/PREFIX] — abort unfinished multipart uploads"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  tentries = target_entries (&targs);
  g_option_context_add_main_entries (ctx, tentries, GETTEXT_PACKAGE);
  g_option_context_set_description (ctx,
    _("Unfinished multipart uploads are billed until they are aborted. This lists those under "
      "PREFIX and aborts the ones no catalog run can continue (with --all: every one)."));
  exit_code = parse_command (ctx, "cleanup", &argc, &argv, 2);
  if (exit_code >= 0)
    return exit_code;
  ok = open_target_and_catalog (argv[1], &targs, catalog_path, FALSE, &creds, &target, &catalog,
                                &target_id, &error);
  if (!ok)
    {
      print_error (error);
      return EXIT_USAGE;
    }
  if (catalog != NULL && target_id != 0)
    {
      known = sluice_catalog_known_upload_ids (catalog, target_id, &error);
      if (known == NULL)
        {
          print_error (error);
          return EXIT_USAGE;
        }
    }
  prefix = key_prefix (target);
  s3 = sluice_s3_client_new (target, creds);
  c.s3 = s3;
  c.known = known;
  c.all = all;
  c.dry_run = dry_run;
  if (!sluice_s3_client_list_uploads (s3, prefix, on_upload, &c, &error))
    {
      print_error (error);
      return EXIT_USAGE;
    }
  g_print (dry_run ? _("%u would be aborted, %u kept\n") : _("%u aborted, %u kept\n"),
           c.aborted, c.kept);
  return c.failed > 0 ? EXIT_SOME_FAILED : EXIT_DONE;
}

/* ---- probe ---------------------------------------------------------------------------------- */

static int
cmd_probe (int    argc,
           char **argv)
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCredentialsProvider) creds = NULL;
  g_autoptr(SluiceTarget) target = NULL;
  g_autoptr(SluiceS3Client) s3 = NULL;
  g_autoptr(SluiceCapabilities) caps = NULL;
  g_autofree GOptionEntry *tentries = NULL;
  g_autofree char *text = NULL;
  TargetArgs targs = { 0 };
  int exit_code;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON object"), NULL },
    { NULL }
  };

  ctx = g_option_context_new (_("s3://BUCKET[/PREFIX] — find out what the server checks and "
                                "supports"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  tentries = target_entries (&targs);
  g_option_context_add_main_entries (ctx, tentries, GETTEXT_PACKAGE);
  g_option_context_set_description (ctx,
    _("Writes a few small objects under PREFIX/.sluice-probe/ and deletes them again. "
      "Ingest does this once per target by itself."));
  exit_code = parse_command (ctx, "probe", &argc, &argv, 2);
  if (exit_code >= 0)
    return exit_code;
  target = open_target (argv[1], &targs, &creds, &error);
  if (target == NULL)
    {
      print_error (error);
      return EXIT_USAGE;
    }
  s3 = sluice_s3_client_new (target, creds);
  if (!sluice_s3_client_check_bucket (s3, &error) &&
      !g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_ACCESS_DENIED))
    {
      print_error (error);
      return EXIT_USAGE;
    }
  g_clear_error (&error);
  caps = sluice_capabilities_probe (target, creds, &error);
  if (caps == NULL)
    {
      print_error (error);
      return EXIT_USAGE;
    }
  text = json ? sluice_capabilities_to_json (caps) : sluice_capabilities_describe (caps);
  g_print (json ? "%s\n" : "%s", text);
  return EXIT_DONE;
}

/* ---- presign -------------------------------------------------------------------------------- */

static int
cmd_presign (int    argc,
             char **argv)
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SluiceCredentialsProvider) creds = NULL;
  g_autoptr(SluiceTarget) target = NULL;
  g_autoptr(SluiceCredentials) c = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree GOptionEntry *tentries = NULL;
  g_autofree char *url = NULL;
  TargetArgs targs = { 0 };
  int expires = 3600;
  int exit_code;
  GOptionEntry entries[] = {
    { "expires", 0, 0, G_OPTION_ARG_INT, &expires,
      N_("Seconds the URL stays valid (default 3600, at most 604800)"), "S" },
    { NULL }
  };

  ctx = g_option_context_new (_("s3://BUCKET/KEY — print a URL that downloads the object"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  tentries = target_entries (&targs);
  g_option_context_add_main_entries (ctx, tentries, GETTEXT_PACKAGE);
  exit_code = parse_command (ctx, "presign", &argc, &argv, 2);
  if (exit_code >= 0)
    return exit_code;
  if (expires < 1 || expires > 604800)
    {
      g_printerr (_("sluice-cli presign: --expires must be between 1 and 604800 seconds\n"));
      return EXIT_USAGE;
    }
  target = open_target (argv[1], &targs, &creds, &error);
  if (target == NULL)
    {
      print_error (error);
      return EXIT_USAGE;
    }
  c = sluice_credentials_provider_get (creds, &error);
  if (c == NULL)
    {
      print_error (error);
      return EXIT_USAGE;
    }
  /* the "prefix" of s3://bucket/key is the whole key here */
  url = sluice_s3_presign (target, c, target->prefix, now, expires);
  g_print ("%s\n", url);
  return EXIT_DONE;
}

/* ---- self-test ---------------------------------------------------------------------------- */

/* The smallest JPEG the helper reads EXIF from: SOI, an APP1 "Exif" segment whose IFD0 has
 * one entry, Make = "Sluice", and EOI. */
static const guint8 self_test_jpeg[] = {
  0xff, 0xd8,                                     /* SOI */
  0xff, 0xe1, 0x00, 0x29,                         /* APP1, 41 bytes with the length */
  'E', 'x', 'i', 'f', 0x00, 0x00,
  'I', 'I', 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00,   /* TIFF, little endian, IFD0 at 8 */
  0x01, 0x00,                                     /* one entry: */
  0x0f, 0x01, 0x02, 0x00, 0x07, 0x00, 0x00, 0x00, /*   Make, ASCII, 7 bytes, */
  0x1a, 0x00, 0x00, 0x00,                         /*   at offset 26 */
  0x00, 0x00, 0x00, 0x00,                         /* no next IFD */
  'S', 'l', 'u', 'i', 'c', 'e', 0x00,
  0xff, 0xd9,                                     /* EOI */
};

#if HAVE_HEIF
/* An 8 × 4 red HEIC (x265), stored to be shown turned a quarter (irot): 4 × 8. */
static const guint8 self_test_heic[] = {
  0x00, 0x00, 0x00, 0x1c, 0x66, 0x74, 0x79, 0x70, 0x68, 0x65, 0x69, 0x63, 0x00, 0x00,
  0x00, 0x00, 0x6d, 0x69, 0x66, 0x31, 0x68, 0x65, 0x69, 0x63, 0x6d, 0x69, 0x61, 0x66,
  0x00, 0x00, 0x01, 0x73, 0x6d, 0x65, 0x74, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x21, 0x68, 0x64, 0x6c, 0x72, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x70, 0x69, 0x63, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x70, 0x69, 0x74, 0x6d, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x22, 0x69, 0x6c, 0x6f, 0x63, 0x00, 0x00, 0x00,
  0x00, 0x44, 0x40, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x97, 0x00,
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x23, 0x69,
  0x69, 0x6e, 0x66, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x15, 0x69,
  0x6e, 0x66, 0x65, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x68, 0x76, 0x63,
  0x31, 0x00, 0x00, 0x00, 0x00, 0xf3, 0x69, 0x70, 0x72, 0x70, 0x00, 0x00, 0x00, 0xd3,
  0x69, 0x70, 0x63, 0x6f, 0x00, 0x00, 0x00, 0x76, 0x68, 0x76, 0x63, 0x43, 0x01, 0x03,
  0x70, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0xf0, 0x00, 0xfc,
  0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03, 0x20, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01,
  0x0c, 0x01, 0xff, 0xff, 0x03, 0x70, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03,
  0x00, 0x00, 0x03, 0x00, 0x1e, 0xba, 0x02, 0x40, 0x21, 0x00, 0x01, 0x00, 0x2a, 0x42,
  0x01, 0x01, 0x03, 0x70, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
  0x03, 0x00, 0x1e, 0xa0, 0x20, 0x81, 0x05, 0x96, 0xea, 0xae, 0x9a, 0xe6, 0xe0, 0x40,
  0x40, 0xc0, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x03, 0x00, 0x84, 0x22,
  0x00, 0x01, 0x00, 0x06, 0x44, 0x01, 0xc1, 0x73, 0xc1, 0x89, 0x00, 0x00, 0x00, 0x28,
  0x63, 0x6c, 0x61, 0x70, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
  0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xc8, 0x00, 0x00, 0x00, 0x02,
  0xff, 0xff, 0xff, 0xc4, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x69, 0x72,
  0x6f, 0x74, 0x03, 0x00, 0x00, 0x00, 0x14, 0x69, 0x73, 0x70, 0x65, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x10, 0x70,
  0x69, 0x78, 0x69, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08, 0x08, 0x08, 0x00, 0x00, 0x00,
  0x18, 0x69, 0x70, 0x6d, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
  0x01, 0x05, 0x81, 0x82, 0x03, 0x04, 0x85, 0x00, 0x00, 0x00, 0x3c, 0x6d, 0x64, 0x61,
  0x74, 0x00, 0x00, 0x00, 0x30, 0x28, 0x01, 0xaf, 0x13, 0x21, 0x66, 0x63, 0x40, 0xf8,
  0x10, 0xf7, 0x67, 0xff, 0xeb, 0xbc, 0x15, 0xff, 0x95, 0x6b, 0x3f, 0xf3, 0x37, 0xb1,
  0xe9, 0xce, 0xc8, 0x47, 0x40, 0xc0, 0xd2, 0x20, 0x80, 0x9b, 0x40, 0x48, 0x93, 0x5d,
  0x50, 0x0b, 0x16, 0x10, 0x80, 0x87, 0x76, 0xa5, 0x56, 0xdc, 0xf8,
};

/* The helper's decoders module (only thumbnail helpers load it) decodes the built-in HEIC. */
static gboolean
self_test_heif (const char  *helper,
                GError     **error)
{
  g_autoptr(SluiceProbePool) pool = NULL;
  g_autoptr(SluiceBuffer) buffer = NULL;
  g_autoptr(GBytes) pixels = NULL;
  guint width = 0, height = 0;
  gsize stride = 0;

  pool = sluice_probe_pool_new_for_thumbnails (helper, 1, SLUICE_PROBE_DEFAULT_TIMEOUT_MS,
                                               error);
  if (pool == NULL)
    return FALSE;
  buffer = sluice_buffer_new_from_data (self_test_heic, sizeof self_test_heic, error);
  if (buffer == NULL)
    return FALSE;
  pixels = sluice_probe_pool_thumbnail (pool, sluice_buffer_get_readonly_fd (buffer),
                                        buffer->len, 64, &width, &height, &stride, error);
  if (pixels == NULL)
    return FALSE;
  if (width != 4 || height != 8)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                   _("The helper decoded the test HEIC as %u × %u pixels instead of 4 × 8"),
                   width, height);
      return FALSE;
    }
  return TRUE;
}
#endif

/* Checks what an installation needs without a server: the metadata helper this program finds
 * starts, greets with the protocol version, and reads EXIF from a built-in image; a helper
 * started for thumbnails decodes a built-in HEIC. */
static int
cmd_self_test (int    argc,
               char **argv)
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(SluiceProbePool) pool = NULL;
  g_autoptr(SluiceBuffer) buffer = NULL;
  g_autoptr(SluiceMetadata) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *helper = NULL;
  int exit_code;

  ctx = g_option_context_new (_("— check that the metadata helper of this installation works"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  exit_code = parse_command (ctx, "self-test", &argc, &argv, 1);
  if (exit_code >= 0)
    return exit_code;

  helper = sluice_probe_find_helper ();
  g_print ("sluice-cli %s\n", PACKAGE_VERSION);
  g_print (_("Metadata helper: %s\n"), helper);

  pool = sluice_probe_pool_new (helper, 1, SLUICE_PROBE_DEFAULT_TIMEOUT_MS, &error);
  if (pool != NULL)
    buffer = sluice_buffer_new_from_data (self_test_jpeg, sizeof self_test_jpeg, &error);
  if (buffer != NULL)
    meta = sluice_probe_pool_probe (pool, sluice_buffer_get_readonly_fd (buffer),
                                    "self-test.jpg", buffer->len, &error);
  if (meta != NULL && g_strcmp0 (meta->make, "Sluice") != 0)
    g_set_error (&error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                 _("The metadata helper read the camera make “%s” instead of “Sluice”"),
                 meta->make != NULL ? meta->make : "");
  if (error != NULL)
    {
      print_error (error);
      g_printerr (_("sluice-cli self-test: FAILED\n"));
      return EXIT_USAGE;
    }
  g_print (_("The metadata helper started and read EXIF from a test image: OK\n"));
#if HAVE_HEIF
  if (!self_test_heif (helper, &error))
    {
      print_error (error);
      g_printerr (_("sluice-cli self-test: FAILED\n"));
      return EXIT_USAGE;
    }
  g_print (_("The thumbnail helper decoded a test HEIC: OK\n"));
#else
  g_print (_("HEIC thumbnails: not built into this installation\n"));
#endif
  return EXIT_DONE;
}

/* ---- main -------------------------------------------------------------------------------- */

/* The translations: those this build compiled when the program runs from the build tree
 * (uninstalled), else the installed ones. */
static const char *
locale_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  if (exe != NULL && g_str_has_prefix (exe, BUILD_ROOT "/"))
    return PO_BUILDDIR;
  return LOCALEDIR;
}


static void
usage (void)
{
  g_printerr (_("Usage: sluice-cli COMMAND [OPTIONS]\n"
                "\n"
                "Commands:\n"
                "  ingest SOURCE_DIR s3://BUCKET[/PREFIX]   upload a folder, catalog its metadata\n"
                "  catalog export [--format csv|jsonl]      write the catalog (or a filtered part) as a\n"
                "                 [--camera …] [--upload …]  manifest; --help lists the filters\n"
                "  verify s3://BUCKET[/PREFIX]              compare the catalog with the bucket\n"
                "  cleanup s3://BUCKET[/PREFIX]             abort unfinished multipart uploads\n"
                "  probe s3://BUCKET[/PREFIX]               what the server checks and supports\n"
                "  presign s3://BUCKET/KEY                  a URL that downloads the object\n"
                "  make-bucket s3://BUCKET                  create a bucket\n"
                "  self-test                                check this installation's helper\n"
                "\n"
                "Run “sluice-cli COMMAND --help” for a command's options.\n"
                "Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], or a "
                "profile (--profile, AWS_PROFILE) in ~/.aws/credentials.\n"));
}

int
main (int   argc,
      char *argv[])
{
  const char *command;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, locale_dir ());
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2)
    {
      usage ();
      return EXIT_USAGE;
    }
  command = argv[1];
  if (g_str_equal (command, "--version") || g_str_equal (command, "version"))
    {
      g_print ("sluice-cli %s\n", PACKAGE_VERSION);
      return EXIT_DONE;
    }
  if (g_str_equal (command, "--help") || g_str_equal (command, "-h") ||
      g_str_equal (command, "help"))
    {
      usage ();
      return EXIT_DONE;
    }
  if (g_str_equal (command, "ingest"))
    return cmd_ingest (argc - 1, argv + 1);
  if (g_str_equal (command, "catalog"))
    return cmd_catalog (argc - 1, argv + 1);
  if (g_str_equal (command, "make-bucket"))
    return cmd_make_bucket (argc - 1, argv + 1);
  if (g_str_equal (command, "verify"))
    return cmd_verify (argc - 1, argv + 1);
  if (g_str_equal (command, "cleanup"))
    return cmd_cleanup (argc - 1, argv + 1);
  if (g_str_equal (command, "probe"))
    return cmd_probe (argc - 1, argv + 1);
  if (g_str_equal (command, "presign"))
    return cmd_presign (argc - 1, argv + 1);
  if (g_str_equal (command, "self-test"))
    return cmd_self_test (argc - 1, argv + 1);

  g_printerr (_("sluice-cli: unknown command “%s”\n\n"), command);
  usage ();
  return EXIT_USAGE;
}
