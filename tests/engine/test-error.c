/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-error"

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "sluice-error.h"

/* The causes a pause and a second attempt can cure; everything else fails a file at once. */
static const SluiceError retryable[] = {
  SLUICE_ERROR_CONNECT,
  SLUICE_ERROR_TIMEOUT,
  SLUICE_ERROR_NETWORK,
  SLUICE_ERROR_SERVER,
  SLUICE_ERROR_THROTTLED,
  SLUICE_ERROR_EXPIRED_TOKEN,
  SLUICE_ERROR_SOURCE_CHANGED,
};

/* The last cause. When one is added, update this: the tests below then check that it has a
 * name, an explanation and a retry decision. */
#define LAST_CODE SLUICE_ERROR_BUCKET_TAKEN

static gboolean
is_listed_retryable (SluiceError code)
{
  for (guint i = 0; i < G_N_ELEMENTS (retryable); i++)
    if (retryable[i] == code)
      return TRUE;
  return FALSE;
}

static void
test_quark (void)
{
  g_assert_cmpstr (g_quark_to_string (SLUICE_ERROR), ==, "sluice-error-quark");
  g_assert_cmpuint (SLUICE_ERROR, ==, sluice_error_quark ());
}

static void
test_retryable (void)
{
  for (int code = 0; code <= LAST_CODE; code++)
    {
      g_autoptr(GError) error = g_error_new_literal (SLUICE_ERROR, code, "x");

      if (is_listed_retryable (code))
        g_assert_true (sluice_error_is_retryable (error));
      else
        g_assert_false (sluice_error_is_retryable (error));
    }
}

static void
test_retryable_foreign (void)
{
  g_autoptr(GError) io = g_error_new_literal (G_IO_ERROR, SLUICE_ERROR_CONNECT, "x");
  g_autoptr(GError) unknown = g_error_new_literal (SLUICE_ERROR, LAST_CODE + 1, "x");

  g_assert_false (sluice_error_is_retryable (NULL));
  /* another domain with the same number as a retryable cause is not ours to judge */
  g_assert_false (sluice_error_is_retryable (io));
  g_assert_false (sluice_error_is_retryable (unknown));
}

static void
test_code_names (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (int code = 0; code <= LAST_CODE; code++)
    {
      const char *name = sluice_error_code_name (code);

      g_assert_nonnull (name);
      g_assert_cmpuint (strlen (name), >, 0);
      /* stable identifiers for JSON and the catalog: lower-case words and dashes */
      for (const char *p = name; *p != '\0'; p++)
        g_assert_true (g_ascii_islower (*p) || *p == '-');
      g_assert_false (g_hash_table_contains (seen, name));
      g_hash_table_add (seen, (gpointer) name);
    }

  g_assert_cmpstr (sluice_error_code_name (SLUICE_ERROR_FAILED), ==, "failed");
  g_assert_cmpstr (sluice_error_code_name (SLUICE_ERROR_NO_SUCH_BUCKET), ==, "no-such-bucket");
  g_assert_cmpstr (sluice_error_code_name (SLUICE_ERROR_AUTH_SIGNATURE), ==,
                   "signature-mismatch");
  g_assert_cmpstr (sluice_error_code_name (SLUICE_ERROR_PROBE_CRASHED), ==, "probe-crashed");
  g_assert_cmpstr (sluice_error_code_name (SLUICE_ERROR_TOO_LARGE), ==, "too-large");
  g_assert_cmpstr (sluice_error_code_name (SLUICE_ERROR_NO_SUCH_UPLOAD), ==, "no-such-upload");
  g_assert_cmpstr (sluice_error_code_name (SLUICE_ERROR_NOT_FOUND), ==, "not-found");
  g_assert_cmpstr (sluice_error_code_name (SLUICE_ERROR_SERVER_FULL), ==, "server-full");
  g_assert_cmpstr (sluice_error_code_name (SLUICE_ERROR_BUCKET_TAKEN), ==, "bucket-taken");
  g_assert_cmpstr (sluice_error_code_name (LAST_CODE + 1), ==, "failed");
  g_assert_cmpstr (sluice_error_code_name ((SluiceError) -1), ==, "failed");
}

static void
test_describe (void)
{
  const char *generic = sluice_error_describe (SLUICE_ERROR_FAILED);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_nonnull (generic);
  for (int code = 0; code <= LAST_CODE; code++)
    {
      const char *text = sluice_error_describe (code);

      g_assert_nonnull (text);
      g_assert_cmpuint (strlen (text), >, 10);
      g_assert_true (g_utf8_validate (text, -1, NULL));
      g_assert_null (strchr (text, '\n'));
      /* every cause has its own explanation */
      g_assert_false (g_hash_table_contains (seen, text));
      g_hash_table_add (seen, (gpointer) text);
    }
  g_assert_cmpstr (sluice_error_describe (LAST_CODE + 1), ==, generic);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/error/quark", test_quark);
  g_test_add_func ("/engine/error/retryable", test_retryable);
  g_test_add_func ("/engine/error/retryable-foreign", test_retryable_foreign);
  g_test_add_func ("/engine/error/code-names", test_code_names);
  g_test_add_func ("/engine/error/describe", test_describe);

  return g_test_run ();
}
