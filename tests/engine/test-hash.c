/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-hash"

#include "config.h"

#include <string.h>

#include "sluice-hash.h"

/*
 * SHA-256 in pieces, and its state saved and restored: a multipart upload resumed after a
 * crash continues the whole file's hash from the last finished part.
 */

static guint8 *
pattern (gsize len)
{
  guint8 *data = g_malloc (MAX (len, 1));

  for (gsize i = 0; i < len; i++)
    data[i] = (i * 2654435761u) >> 13;
  return data;
}

static void
test_known_vectors (void)
{
  char hex[65];
  g_autoptr(SluiceSha256) h = sluice_sha256_new ();
  guint8 digest[32];

  sluice_sha256_hex ((const guint8 *) "abc", 3, hex);
  g_assert_cmpstr (hex, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  sluice_sha256_hex ((const guint8 *) "", 0, hex);
  g_assert_cmpstr (hex, ==, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  sluice_sha256_update (h, (const guint8 *) "a", 1);
  sluice_sha256_update (h, (const guint8 *) "bc", 2);
  sluice_sha256_finish (h, digest, hex);
  g_assert_cmpstr (hex, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  g_assert_cmpuint (digest[0], ==, 0xba);
  g_assert_cmpuint (digest[31], ==, 0xad);
}

static void
test_pieces (void)
{
  const gsize len = 1000003;
  g_autofree guint8 *data = pattern (len);
  g_autofree char *expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
  const gsize steps[] = { 1, 63, 64, 65, 4096, 333333 };

  /* any split gives the digest of the whole */
  for (guint s = 0; s < G_N_ELEMENTS (steps); s++)
    {
      g_autoptr(SluiceSha256) h = sluice_sha256_new ();
      char hex[65];

      for (gsize off = 0; off < len; off += steps[s])
        sluice_sha256_update (h, data + off, MIN (steps[s], len - off));
      sluice_sha256_finish (h, NULL, hex);
      g_assert_cmpstr (hex, ==, expected);
    }
}

static void
test_save_restore (void)
{
  const gsize len = 3 * 1024 * 1024 + 7;
  const gsize cut = 2 * 1024 * 1024 + 1;
  g_autofree guint8 *data = pattern (len);
  g_autofree char *expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
  g_autoptr(SluiceSha256) first = sluice_sha256_new ();
  g_autoptr(SluiceSha256) resumed = NULL;
  g_autoptr(GBytes) state = NULL;
  g_autoptr(GBytes) copy = NULL;
  char hex[65];

  sluice_sha256_update (first, data, cut);
  state = sluice_sha256_save (first);
  g_assert_nonnull (state);

  /* as the catalog stores it: bytes, somewhere else, later */
  copy = g_bytes_new (g_bytes_get_data (state, NULL), g_bytes_get_size (state));
  resumed = sluice_sha256_restore (copy);
  g_assert_nonnull (resumed);
  sluice_sha256_update (resumed, data + cut, len - cut);
  sluice_sha256_finish (resumed, NULL, hex);
  g_assert_cmpstr (hex, ==, expected);

  /* saving does not disturb the original */
  sluice_sha256_update (first, data + cut, len - cut);
  sluice_sha256_finish (first, NULL, hex);
  g_assert_cmpstr (hex, ==, expected);
}

static void
test_restore_refuses_garbage (void)
{
  g_autoptr(SluiceSha256) h = sluice_sha256_new ();
  g_autoptr(GBytes) state = sluice_sha256_save (h);
  gsize len = g_bytes_get_size (state);
  g_autofree guint8 *bad_magic = g_memdup2 (g_bytes_get_data (state, NULL), len);
  g_autoptr(GBytes) wrong_magic = NULL;
  g_autoptr(GBytes) truncated = g_bytes_new_from_bytes (state, 0, len - 1);
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(SluiceSha256) r1 = NULL;
  g_autoptr(SluiceSha256) r2 = NULL;
  g_autoptr(SluiceSha256) r3 = NULL;
  g_autoptr(SluiceSha256) r4 = NULL;

  /* a state from another build or a damaged catalog: hash from the start instead */
  bad_magic[0] ^= 0xff;
  wrong_magic = g_bytes_new (bad_magic, len);
  r1 = sluice_sha256_restore (wrong_magic);
  r2 = sluice_sha256_restore (truncated);
  r3 = sluice_sha256_restore (empty);
  r4 = sluice_sha256_restore (NULL);
  g_assert_null (r1);
  g_assert_null (r2);
  g_assert_null (r3);
  g_assert_null (r4);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/hash/known-vectors", test_known_vectors);
  g_test_add_func ("/engine/hash/pieces", test_pieces);
  g_test_add_func ("/engine/hash/save-restore", test_save_restore);
  g_test_add_func ("/engine/hash/restore-refuses-garbage", test_restore_refuses_garbage);

  return g_test_run ();
}
