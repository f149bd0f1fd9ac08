/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-protocol"

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sluice-error.h"
#include "sluice-metadata.h"
#include "sluice-probe-protocol.h"

static const char frame_magic[4] = { 'S', 'L', 'P', 'R' };

const GVariantType *
sluice_probe_message_type (SluiceProbeMessage message)
{
  switch (message)
    {
    case SLUICE_PROBE_MSG_HELLO:
      return G_VARIANT_TYPE ("(u)");
    case SLUICE_PROBE_MSG_PROBE:
      return G_VARIANT_TYPE ("(st)");
    case SLUICE_PROBE_MSG_RESULT:
      return SLUICE_METADATA_VARIANT_TYPE;
    case SLUICE_PROBE_MSG_ERROR:
      return G_VARIANT_TYPE ("(s)");
    case SLUICE_PROBE_MSG_THUMBNAIL:
      return G_VARIANT_TYPE ("(tu)");
    case SLUICE_PROBE_MSG_PIXELS:
      return G_VARIANT_TYPE ("(uuuay)");
    case SLUICE_PROBE_MSG_NO_THUMBNAIL:
      return G_VARIANT_TYPE ("(us)");
    default:
      return NULL;
    }
}

static void
put_u16 (guint8 *p, guint16 v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

static void
put_u32 (guint8 *p, guint32 v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (v >> (8 * i)) & 0xff;
}

static guint16
get_u16 (const guint8 *p)
{
  return p[0] | (p[1] << 8);
}

static guint32
get_u32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static gboolean
send_all (int            sock,
          const guint8  *data,
          gsize          len,
          int            fd,
          GError       **error)
{
  gsize done = 0;

  while (done < len)
    {
      struct iovec iov = { (void *) (data + done), len - done };
      struct msghdr msg = { 0 };
      union {
        char buf[CMSG_SPACE (sizeof (int))];
        struct cmsghdr align;
      } control;
      ssize_t n;

      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      if (fd >= 0 && done == 0)
        {
          struct cmsghdr *cmsg;

          memset (&control, 0, sizeof control);
          msg.msg_control = control.buf;
          msg.msg_controllen = sizeof control.buf;
          cmsg = CMSG_FIRSTHDR (&msg);
          cmsg->cmsg_level = SOL_SOCKET;
          cmsg->cmsg_type = SCM_RIGHTS;
          cmsg->cmsg_len = CMSG_LEN (sizeof (int));
          memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));
        }

      n = sendmsg (sock, &msg, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, SLUICE_ERROR,
                       saved == EPIPE || saved == ECONNRESET ? SLUICE_ERROR_PROBE_CRASHED
                                                             : SLUICE_ERROR_PROBE_PROTOCOL,
                       "sending to the probe helper: %s", g_strerror (saved));
          return FALSE;
        }
      done += n;
    }
  return TRUE;
}

gboolean
sluice_probe_frame_send (int                sock,
                         SluiceProbeMessage message,
                         guint32            request_id,
                         GVariant          *payload,
                         int                fd,
                         GError           **error)
{
  g_autoptr(GVariant) normal = NULL;
  g_autofree guint8 *frame = NULL;
  gsize size;

  g_return_val_if_fail (payload != NULL, FALSE);
  g_return_val_if_fail (g_variant_is_of_type (payload, sluice_probe_message_type (message)), FALSE);

  g_variant_ref_sink (payload);
  normal = g_variant_get_normal_form (payload);
  g_variant_unref (payload);
  size = g_variant_get_size (normal);
  if (size > SLUICE_PROBE_FRAME_MAX - SLUICE_PROBE_FRAME_HEADER)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_TOO_LARGE,
                   "probe frame of %" G_GSIZE_FORMAT " bytes is over the limit", size);
      return FALSE;
    }

  frame = g_malloc (SLUICE_PROBE_FRAME_HEADER + size);
  memcpy (frame, frame_magic, 4);
  put_u16 (frame + 4, SLUICE_PROBE_PROTOCOL_VERSION);
  put_u16 (frame + 6, message);
  put_u32 (frame + 8, request_id);
  put_u32 (frame + 12, size);
  g_variant_store (normal, frame + SLUICE_PROBE_FRAME_HEADER);

  return send_all (sock, frame, SLUICE_PROBE_FRAME_HEADER + size, fd, error);
}

/*
 * The data was not produced by us: only normal form is accepted, so every later access is
 * cheap and cannot surprise. In a RESULT the thumbnail's bytes are left out of the check:
 * g_variant_is_normal_form() visits an "ay" one byte at a time, which was 5 % of the client's
 * CPU per small file (issue 5), and any bytes are a sound "ay" (its place in the tuple is
 * checked with the others', by GVariant on every access to untrusted data).
 *
 * PIXELS is "(uuuay)": three fixed-size numbers, then the bytes up to the end of the frame.
 * That type has no framing offsets, so any frame of at least 12 bytes is in normal form and
 * the per-byte walk over the pixels is skipped for the same reason.
 */
static gboolean
payload_is_sound (SluiceProbeMessage message,
                  GVariant          *payload)
{
  gsize n, total = 0;

  if (message == SLUICE_PROBE_MSG_PIXELS)
    return g_variant_get_size (payload) >= 3 * sizeof (guint32);
  if (message != SLUICE_PROBE_MSG_RESULT)
    return g_variant_is_normal_form (payload);

  n = g_variant_n_children (payload);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (payload, i);

      total += g_variant_get_size (child);
      if (i != SLUICE_METADATA_VARIANT_THUMBNAIL && !g_variant_is_normal_form (child))
        return FALSE;
    }
  /* the members and their offsets fill the frame: no unaccounted bytes, no overlaps */
  return total <= g_variant_get_size (payload);
}

/* Reads exactly @len bytes, waiting at most @timeout_ms for each chunk (a no-progress
 * timeout, not a deadline). Collects a descriptor if one arrives with the data. */
static gboolean
recv_all (int      sock,
          guint8  *data,
          gsize    len,
          int      timeout_ms,
          int     *inout_fd,
          GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      struct pollfd pfd = { sock, POLLIN, 0 };
      struct iovec iov = { data + done, len - done };
      struct msghdr msg = { 0 };
      union {
        char buf[CMSG_SPACE (sizeof (int) * 4)];
        struct cmsghdr align;
      } control;
      ssize_t n;
      int r;

      /* no timeout (the helper waiting for its next request): recvmsg () blocks by itself */
      r = timeout_ms < 0 ? 1 : poll (&pfd, 1, timeout_ms);
      if (r < 0 && errno == EINTR)
        continue;
      if (r == 0)
        {
          if (timeout_ms % 1000 == 0)
            g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_TIMEOUT,
                         "no progress for %d s", timeout_ms / 1000);
          else
            g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_TIMEOUT,
                         "no progress for %.1f s", timeout_ms / 1000.0);
          return FALSE;
        }

      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof control.buf;
      n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED,
                       n == 0 ? "the probe helper closed the connection"
                              : "receiving from the probe helper: %s",
                       g_strerror (errno));
          return FALSE;
        }

      for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
        {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            {
              gsize nfd = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
              for (gsize i = 0; i < nfd; i++)
                {
                  int got;
                  memcpy (&got, CMSG_DATA (c) + i * sizeof (int), sizeof (int));
                  /* keep the first one; more than one per frame is never sent */
                  if (*inout_fd < 0)
                    *inout_fd = got;
                  else
                    close (got);
                }
            }
        }
      if (msg.msg_flags & MSG_CTRUNC)
        {
          g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                               "too many descriptors in one probe frame");
          return FALSE;
        }
      done += n;
    }
  return TRUE;
}

gboolean
sluice_probe_frame_recv (int                 sock,
                         int                 timeout_ms,
                         SluiceProbeMessage *out_message,
                         guint32            *out_request_id,
                         GVariant          **out_payload,
                         int                *out_fd,
                         GError            **error)
{
  guint8 header[SLUICE_PROBE_FRAME_HEADER];
  g_autofree guint8 *body = NULL;
  g_autoptr(GVariant) payload = NULL;
  const GVariantType *type;
  guint16 version, message;
  guint32 size;
  guint8 *data;
  int fd = -1;
  gboolean ok;

  ok = recv_all (sock, header, sizeof header, timeout_ms, &fd, error);
  if (!ok)
    goto fail;

  if (memcmp (header, frame_magic, 4) != 0)
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                           "probe frame without the magic number");
      goto fail;
    }
  version = get_u16 (header + 4);
  message = get_u16 (header + 6);
  size = get_u32 (header + 12);
  if (version != SLUICE_PROBE_PROTOCOL_VERSION)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                   "probe protocol version %u, expected %u", version,
                   SLUICE_PROBE_PROTOCOL_VERSION);
      goto fail;
    }
  type = sluice_probe_message_type (message);
  if (type == NULL)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                   "unknown probe message %u", message);
      goto fail;
    }
  if (size > SLUICE_PROBE_FRAME_MAX - SLUICE_PROBE_FRAME_HEADER)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                   "probe frame of %u bytes is over the limit", size);
      goto fail;
    }

  body = g_malloc (MAX (size, 1));
  ok = recv_all (sock, body, size, timeout_ms, &fd, error);
  if (!ok)
    goto fail;

  data = g_steal_pointer (&body);
  payload = g_variant_new_from_data (type, data, size, FALSE, g_free, data);
  g_variant_ref_sink (payload);
  if (!payload_is_sound (message, payload))
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_PROTOCOL,
                           "probe frame payload is not in normal form");
      goto fail;
    }

  *out_message = message;
  *out_request_id = get_u32 (header + 8);
  *out_payload = g_steal_pointer (&payload);
  if (out_fd != NULL)
    *out_fd = fd;
  else if (fd >= 0)
    close (fd);
  return TRUE;

fail:
  if (fd >= 0)
    close (fd);
  return FALSE;
}
