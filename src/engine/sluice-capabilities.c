/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-capabilities"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "sluice-capabilities.h"
#include "sluice-error.h"
#include "sluice-hash.h"
#include "sluice-s3-client.h"

static SluiceCapabilities *
capabilities_new (void)
{
  SluiceCapabilities *self = g_new0 (SluiceCapabilities, 1);

  self->notes = g_ptr_array_new_with_free_func (g_free);
  return self;
}

void
sluice_capabilities_free (SluiceCapabilities *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->notes, g_ptr_array_unref);
  g_free (self);
}

static gboolean
denied (const GError *error)
{
  return g_error_matches (error, SLUICE_ERROR, SLUICE_ERROR_ACCESS_DENIED);
}

static void
note_to (GPtrArray    *notes,
         const char   *what,
         const GError *error)
{
  g_ptr_array_add (notes, g_strdup_printf (_("%s: not tested (%s)"), what,
                                           error ? error->message : _("not allowed")));
}

static void
note (SluiceCapabilities *self,
      const char         *what,
      const GError       *error)
{
  note_to (self->notes, what, error);
}

static char *
md5_base64 (const guint8 *data,
            gsize         len)
{
  g_autoptr(GChecksum) md5 = g_checksum_new (G_CHECKSUM_MD5);
  guint8 digest[16];
  gsize dlen = sizeof digest;

  g_checksum_update (md5, data, len);
  g_checksum_get_digest (md5, digest, &dlen);
  return g_base64_encode (digest, dlen);
}

/* The probe's own requests meet the same weather as any other: a few tries with backoff for
 * what can pass on a second try. */
#define PROBE_TRIES 5

static void
pause_before (guint attempt)
{
  g_usleep ((200 << MIN (attempt, 5)) * 1000 + g_random_int_range (0, 100000));
}

static gboolean
put_raw_retrying (SluiceS3Client *s3,
                  const char     *key,
                  const guint8   *body,
                  gsize           len,
                  const char     *payload_sha256,
                  const char     *content_md5,
                  gboolean        if_none_match,
                  long           *out_status,
                  GError        **out_server_error,
                  GError        **error)
{
  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(GError) transport = NULL;

      g_clear_error (out_server_error);
      if (!sluice_s3_client_put_raw (s3, key, body, len, payload_sha256, content_md5,
                                     if_none_match, out_status, out_server_error, &transport))
        {
          if (attempt < PROBE_TRIES && sluice_error_is_retryable (transport))
            {
              pause_before (attempt);
              continue;
            }
          g_propagate_error (error, g_steal_pointer (&transport));
          return FALSE;
        }
      if (*out_server_error != NULL && sluice_error_is_retryable (*out_server_error) &&
          attempt < PROBE_TRIES)
        {
          pause_before (attempt);
          continue;
        }
      return TRUE;
    }
}

static gboolean
delete_retrying (SluiceS3Client *s3,
                 const char     *key,
                 GError        **error)
{
  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(GError) local = NULL;

      if (sluice_s3_client_delete_object (s3, key, &local))
        return TRUE;
      if (attempt >= PROBE_TRIES || !sluice_error_is_retryable (local))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      pause_before (attempt);
    }
}

static void
abort_retrying (SluiceS3Client *s3,
                const char     *key,
                const char     *upload_id)
{
  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(GError) local = NULL;

      if (sluice_s3_client_abort_multipart (s3, key, upload_id, &local) ||
          attempt >= PROBE_TRIES || !sluice_error_is_retryable (local))
        return;
      pause_before (attempt);
    }
}

typedef struct {
  SluiceS3Client *s3;
  const char     *keep;   /* this probe's own keys start with it: they are not leftovers */
} Leftovers;

static gboolean
delete_leftover (const char *key,
                 guint64     size,
                 const char *etag,
                 const char *last_modified,
                 gpointer    user_data)
{
  Leftovers *l = user_data;

  if (!g_str_has_prefix (key, l->keep))
    delete_retrying (l->s3, key, NULL);
  return TRUE;
}

static gboolean
abort_leftover (const char *key,
                const char *upload_id,
                const char *initiated,
                gpointer    user_data)
{
  Leftovers *l = user_data;

  if (!g_str_has_prefix (key, l->keep))
    sluice_s3_client_abort_multipart (l->s3, key, upload_id, NULL);
  return TRUE;
}

/* A probe interrupted by a crash left its objects behind: the next probe removes them (all
 * under @probe_root but this probe's own, under @keep). */
static void
remove_leftovers (SluiceS3Client *s3,
                  const char     *probe_root,
                  const char     *keep)
{
  Leftovers l = { s3, keep };

  sluice_s3_client_list_uploads (s3, probe_root, abort_leftover, &l, NULL);
  sluice_s3_client_list_objects (s3, probe_root, delete_leftover, &l, NULL);
}

/* The checks that need no object of their own to exist first: they run beside the others, on
 * a connection of their own (the probe is ten requests in a row otherwise; on a server that
 * leaves Nagle on, those whose answer has a body take 44 ms each, issue 5). */
typedef struct {
  const SluiceTarget        *target;
  SluiceCredentialsProvider *credentials;
  const char                *probe_root;
  const char                *base;
  const char                *key_b;
  const char                *sha;
  SluiceCap                  verifies_payload_hash;
  SluiceCap                  verifies_content_md5;
  GPtrArray                 *notes;   /* char * */
} Side;

static const char probe_body[] = "sluice capability probe\n";

static gpointer
side_checks (gpointer data)
{
  Side *side = data;
  g_autoptr(SluiceS3Client) s3 = sluice_s3_client_new (side->target, side->credentials);
  g_autoptr(GError) server = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *md5 = NULL;
  const char *wrong = "0000000000000000000000000000000000000000000000000000000000000000";
  long status = 0;

  remove_leftovers (s3, side->probe_root, side->base);

  /* a wrong payload hash must be refused: that is the integrity check Sluice relies on */
  if (!put_raw_retrying (s3, side->key_b, (const guint8 *) probe_body, sizeof probe_body - 1,
                         wrong, NULL, FALSE, &status, &server, &local))
    note_to (side->notes, _("payload hash"), local);
  else if (server == NULL)
    side->verifies_payload_hash = SLUICE_CAP_NO;
  else if (g_error_matches (server, SLUICE_ERROR, SLUICE_ERROR_BAD_DIGEST) ||
           g_error_matches (server, SLUICE_ERROR, SLUICE_ERROR_AUTH_SIGNATURE) ||
           status == 400)
    side->verifies_payload_hash = SLUICE_CAP_YES;
  else
    note_to (side->notes, _("payload hash"), server);

  /* a wrong Content-MD5 */
  g_clear_error (&server);
  g_clear_error (&local);
  md5 = md5_base64 ((const guint8 *) "something else", 14);
  if (!put_raw_retrying (s3, side->key_b, (const guint8 *) probe_body, sizeof probe_body - 1,
                         side->sha, md5, FALSE, &status, &server, &local))
    note_to (side->notes, _("Content-MD5"), local);
  else
    side->verifies_content_md5 = server != NULL ? SLUICE_CAP_YES : SLUICE_CAP_NO;
  return NULL;
}

/**
 * sluice_capabilities_probe:
 *
 * Tries the server. Returns NULL with an error only when the probe could not write at all
 * (the object options are rejected, or no PUT is allowed): that is a configuration problem.
 * Blocks: call it from a worker thread.
 */
SluiceCapabilities *
sluice_capabilities_probe (const SluiceTarget        *target,
                           SluiceCredentialsProvider *credentials,
                           GError                   **error)
{
  g_autoptr(SluiceCapabilities) self = capabilities_new ();
  g_autoptr(SluiceS3Client) s3 = sluice_s3_client_new (target, credentials);
  g_autoptr(GError) server = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *base = NULL;
  g_autofree char *probe_root = NULL;
  g_autofree char *key_a = NULL;
  g_autofree char *key_b = NULL;
  g_autofree char *upload_id = NULL;
  g_autoptr(GPtrArray) side_notes = g_ptr_array_new_with_free_func (g_free);
  Side side = { 0 };
  GThread *side_thread;
  char sha[65];
  long status = 0;
  guint32 r = g_random_int ();

  probe_root = g_strdup_printf ("%s%s.sluice-probe/", target->prefix,
                                target->prefix[0] ? "/" : "");
  base = g_strdup_printf ("%s%08x", probe_root, r);
  key_a = g_strconcat (base, "/a", NULL);
  key_b = g_strconcat (base, "/b", NULL);
  sluice_sha256_hex ((const guint8 *) probe_body, sizeof probe_body - 1, sha);

  /* the leftovers and the checks on key_b, beside the ones on key_a below */
  side.target = target;
  side.credentials = credentials;
  side.probe_root = probe_root;
  side.base = base;
  side.key_b = key_b;
  side.sha = sha;
  side.notes = side_notes;
  side_thread = g_thread_new ("sluice-probe-side", side_checks, &side);

  /* a plain PUT with the object options: if this fails, nothing can be uploaded as set up */
  if (!put_raw_retrying (s3, key_a, (const guint8 *) probe_body, sizeof probe_body - 1, sha,
                         NULL, FALSE, &status, &server, error) ||
      server != NULL)
    {
      g_thread_join (side_thread);
      /* a server that checks neither hash stored key_b */
      if (side.verifies_payload_hash == SLUICE_CAP_NO ||
          side.verifies_content_md5 == SLUICE_CAP_NO)
        sluice_s3_client_delete_object (s3, key_b, NULL);
      if (server != NULL)
        g_set_error (error, SLUICE_ERROR, server->code,
                     sluice_target_has_object_options (target)
                     ? _("The server does not accept uploads with these object options "
                         "(storage class, encryption, tags, ACL): %s")
                     : _("The server does not accept uploads: %s"), server->message);
      return NULL;
    }

  /* If-None-Match: * on a PUT of an existing key */
  g_clear_error (&server);
  g_clear_error (&local);
  if (!put_raw_retrying (s3, key_a, (const guint8 *) probe_body, sizeof probe_body - 1, sha,
                         NULL, TRUE, &status, &server, &local))
    note (self, _("If-None-Match on PUT"), local);
  else if (status == 412)
    self->if_none_match_put = SLUICE_CAP_YES;
  else if (server == NULL)
    self->if_none_match_put = SLUICE_CAP_NO;
  else
    note (self, _("If-None-Match on PUT"), server);

  /* a one-part multipart upload onto the existing key, completed with If-None-Match */
  g_clear_error (&local);
  {
    SluiceS3PutRequest req = { .key = key_a };
    g_autofree char *part_etag = NULL;
    g_autofree char *etag = NULL;

    if (!sluice_s3_client_create_multipart (s3, &req, &upload_id, &local))
      note (self, _("multipart upload"), local);
    else if (!sluice_s3_client_upload_part (s3, key_a, upload_id, 1, (const guint8 *) probe_body,
                                            sizeof probe_body - 1, sha, &part_etag, &local))
      {
        /* nothing unfinished may stay behind: it would be billed */
        note (self, _("multipart upload"), local);
        abort_retrying (s3, key_a, upload_id);
      }
    else
      {
        SluiceS3Part part = { 1, part_etag, sizeof probe_body - 1 };

        g_clear_error (&local);
        if (sluice_s3_client_complete_multipart (s3, key_a, upload_id, &part, 1, TRUE, &etag,
                                                 &local))
          {
            g_autoptr(GError) again = NULL;
            g_autofree char *etag2 = NULL;

            self->if_none_match_complete = SLUICE_CAP_NO;
            self->multipart_etag_suffix = g_str_has_suffix (etag, "-1") ? SLUICE_CAP_YES
                                                                        : SLUICE_CAP_NO;
          }
        else if (g_error_matches (local, SLUICE_ERROR, SLUICE_ERROR_PRECONDITION))
          {
            /* honoured: complete a second upload without the condition to see its ETag */
            g_autofree char *id2 = NULL;
            g_autofree char *etag2 = NULL;
            g_autofree char *part2 = NULL;

            self->if_none_match_complete = SLUICE_CAP_YES;
            abort_retrying (s3, key_a, upload_id);
            if (sluice_s3_client_create_multipart (s3, &req, &id2, NULL) &&
                sluice_s3_client_upload_part (s3, key_a, id2, 1, (const guint8 *) probe_body,
                                              sizeof probe_body - 1, sha, &part2, NULL))
              {
                SluiceS3Part p2 = { 1, part2, sizeof probe_body - 1 };
                if (sluice_s3_client_complete_multipart (s3, key_a, id2, &p2, 1, FALSE, &etag2,
                                                         NULL))
                  self->multipart_etag_suffix = g_str_has_suffix (etag2, "-1") ? SLUICE_CAP_YES
                                                                               : SLUICE_CAP_NO;
                else
                  abort_retrying (s3, key_a, id2);
              }
            else if (id2 != NULL)
              abort_retrying (s3, key_a, id2);
          }
        else
          {
            note (self, _("If-None-Match on completion"), local);
            abort_retrying (s3, key_a, upload_id);
          }
      }
  }

  /* virtual-hosted addressing needs a host name, not an address */
  {
    g_autofree char *host = sluice_target_host (target);

    if (host == NULL || g_hostname_is_ip_address (host) || g_str_equal (host, "localhost"))
      g_ptr_array_add (self->notes,
                       g_strdup (_("virtual-hosted addressing: not tested (the endpoint is an "
                                   "address, not a host name)")));
    else
      {
        g_autoptr(SluiceTarget) vhost = sluice_target_copy (target);
        g_autoptr(SluiceS3Client) v = NULL;
        g_autoptr(GError) verror = NULL;

        vhost->path_style = FALSE;
        v = sluice_s3_client_new (vhost, credentials);
        if (sluice_s3_client_check_bucket (v, &verror) || denied (verror))
          self->virtual_hosted = SLUICE_CAP_YES;
        else
          self->virtual_hosted = SLUICE_CAP_NO;
      }
  }

  /* the side's findings, its notes first (they come first in the report) */
  g_thread_join (side_thread);
  self->verifies_payload_hash = side.verifies_payload_hash;
  self->verifies_content_md5 = side.verifies_content_md5;
  for (guint i = 0; i < side_notes->len; i++)
    g_ptr_array_insert (self->notes, i, g_strdup (g_ptr_array_index (side_notes, i)));

  /* and leave nothing behind */
  g_clear_error (&local);
  if (delete_retrying (s3, key_a, &local))
    {
      self->can_delete = SLUICE_CAP_YES;
      delete_retrying (s3, key_b, NULL);
    }
  else
    {
      self->can_delete = SLUICE_CAP_NO;
      g_ptr_array_add (self->notes,
                       g_strdup_printf (_("the probe objects under %s could not be deleted: %s"),
                                        base, local->message));
    }
  return g_steal_pointer (&self);
}

static const char *
cap_name (SluiceCap cap)
{
  switch (cap)
    {
    case SLUICE_CAP_YES:
      return "yes";
    case SLUICE_CAP_NO:
      return "no";
    case SLUICE_CAP_NOT_TESTED:
    default:
      return "not-tested";
    }
}

static SluiceCap
cap_from_name (const char *name)
{
  if (g_strcmp0 (name, "yes") == 0)
    return SLUICE_CAP_YES;
  if (g_strcmp0 (name, "no") == 0)
    return SLUICE_CAP_NO;
  return SLUICE_CAP_NOT_TESTED;
}

#define FOR_EACH_CAP(X) \
  X (verifies_payload_hash) X (verifies_content_md5) X (if_none_match_put) \
  X (if_none_match_complete) X (multipart_etag_suffix) X (virtual_hosted) X (can_delete)

char *
sluice_capabilities_to_json (const SluiceCapabilities *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
#define ADD(f) json_builder_set_member_name (b, #f); json_builder_add_string_value (b, cap_name (self->f));
  FOR_EACH_CAP (ADD)
#undef ADD
  json_builder_set_member_name (b, "notes");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->notes->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (self->notes, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

SluiceCapabilities *
sluice_capabilities_from_json (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(SluiceCapabilities) self = capabilities_new ();
  JsonObject *o;
  JsonArray *notes;

  if (json == NULL || !json_parser_load_from_data (parser, json, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  o = json_node_get_object (json_parser_get_root (parser));
#define GET(f) self->f = cap_from_name (json_object_get_string_member_with_default (o, #f, NULL));
  FOR_EACH_CAP (GET)
#undef GET
  notes = json_object_has_member (o, "notes") ? json_object_get_array_member (o, "notes") : NULL;
  for (guint i = 0; notes != NULL && i < json_array_get_length (notes); i++)
    g_ptr_array_add (self->notes, g_strdup (json_array_get_string_element (notes, i)));
  return g_steal_pointer (&self);
}

/* For people: one line per capability. */
char *
sluice_capabilities_describe (const SluiceCapabilities *self)
{
  GString *out = g_string_new (NULL);
  const struct {
    const char *what;
    SluiceCap   value;
  } lines[] = {
    { N_("verifies the payload SHA-256 (integrity check)"), self->verifies_payload_hash },
    { N_("verifies Content-MD5"), self->verifies_content_md5 },
    { N_("honours If-None-Match on PUT"), self->if_none_match_put },
    { N_("honours If-None-Match on multipart completion"), self->if_none_match_complete },
    { N_("gives multipart objects -N ETags"), self->multipart_etag_suffix },
    { N_("accepts virtual-hosted addressing"), self->virtual_hosted },
    { N_("lets these credentials delete"), self->can_delete },
  };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    g_string_append_printf (out, "  %-48s %s\n", _(lines[i].what),
                            lines[i].value == SLUICE_CAP_YES ? _("yes")
                            : lines[i].value == SLUICE_CAP_NO ? _("no") : _("not tested"));
  for (guint i = 0; i < self->notes->len; i++)
    g_string_append_printf (out, "  %s\n", (const char *) g_ptr_array_index (self->notes, i));
  return g_string_free (out, FALSE);
}
