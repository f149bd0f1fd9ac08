/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-hash"

/* The low-level SHA256_* API is deprecated in OpenSSL 3 but kept, uses the same assembly as
 * EVP, and is the only one whose state is a plain struct that can be saved and restored. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "config.h"

#include <openssl/opensslv.h>
#include <openssl/sha.h>
#include <string.h>

#include "sluice-hash.h"

struct _SluiceSha256 {
  SHA256_CTX ctx;
};

/* A saved state is only valid for the same struct layout: tag it with OpenSSL's major version
 * and the struct size, and refuse anything else (the caller then hashes from the start). */
typedef struct {
  guint32    magic;
  guint32    openssl_major;
  guint32    size;
  SHA256_CTX ctx;
} SavedState;

#define STATE_MAGIC 0x53484132u  /* "SHA2" */

SluiceSha256 *
sluice_sha256_new (void)
{
  SluiceSha256 *self = g_new0 (SluiceSha256, 1);

  SHA256_Init (&self->ctx);
  return self;
}

SluiceSha256 *
sluice_sha256_restore (GBytes *state)
{
  const SavedState *saved;
  gsize len = 0;
  SluiceSha256 *self;

  if (state == NULL)
    return NULL;
  saved = g_bytes_get_data (state, &len);
  if (len != sizeof (SavedState) || saved->magic != STATE_MAGIC ||
      saved->openssl_major != OPENSSL_VERSION_MAJOR || saved->size != sizeof (SHA256_CTX))
    return NULL;
  self = g_new0 (SluiceSha256, 1);
  memcpy (&self->ctx, &saved->ctx, sizeof self->ctx);
  return self;
}

void
sluice_sha256_free (SluiceSha256 *self)
{
  g_free (self);
}

void
sluice_sha256_update (SluiceSha256 *self,
                      const guint8 *data,
                      gsize         len)
{
  SHA256_Update (&self->ctx, data, len);
}

GBytes *
sluice_sha256_save (const SluiceSha256 *self)
{
  SavedState saved = { STATE_MAGIC, OPENSSL_VERSION_MAJOR, sizeof (SHA256_CTX), self->ctx };

  return g_bytes_new (&saved, sizeof saved);
}

static void
to_hex (const guint8 digest[32],
        char         out_hex[65])
{
  static const char digits[] = "0123456789abcdef";

  for (int i = 0; i < 32; i++)
    {
      out_hex[2 * i] = digits[digest[i] >> 4];
      out_hex[2 * i + 1] = digits[digest[i] & 0xf];
    }
  out_hex[64] = '\0';
}

void
sluice_sha256_finish (SluiceSha256 *self,
                      guint8        out_digest[32],
                      char          out_hex[65])
{
  guint8 digest[32];

  SHA256_Final (digest, &self->ctx);
  if (out_digest != NULL)
    memcpy (out_digest, digest, 32);
  if (out_hex != NULL)
    to_hex (digest, out_hex);
}

void
sluice_sha256_hex (const guint8 *data,
                   gsize         len,
                   char          out_hex[65])
{
  guint8 digest[32];

  SHA256 (data, len, digest);
  to_hex (digest, out_hex);
}
