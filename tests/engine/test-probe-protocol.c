/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-probe-protocol"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sluice-error.h"
#include "sluice-metadata.h"
#include "sluice-probe-protocol.h"
#include "sluice-test-util.h"

/*
 * The wire to the probe helper, over a real socketpair: frames and descriptors round trip,
 * and every malformed or missing frame is a clear error, never a hang or a leak.
 */

typedef struct {
  int sock[2];   /* [0] the engine's end, [1] the helper's */
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->sock), ==, 0);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->sock[0] >= 0)
    close (f->sock[0]);
  if (f->sock[1] >= 0)
    close (f->sock[1]);
}

static void
put_le16 (guint8  *p,
          guint16  v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

static void
put_le32 (guint8  *p,
          guint32  v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (v >> (8 * i)) & 0xff;
}

static void
make_header (guint8      header[SLUICE_PROBE_FRAME_HEADER],
             const char *magic,
             guint16     version,
             guint16     message,
             guint32     id,
             guint32     size)
{
  memcpy (header, magic, 4);
  put_le16 (header + 4, version);
  put_le16 (header + 6, message);
  put_le32 (header + 8, id);
  put_le32 (header + 12, size);
}

/* Writes raw bytes, optionally with descriptors attached. */
static void
send_raw (int           sock,
          const void   *data,
          gsize         len,
          const int    *fds,
          guint         n_fds)
{
  struct iovec iov = { (void *) data, len };
  struct msghdr msg = { 0 };
  union {
    char buf[CMSG_SPACE (sizeof (int) * 8)];
    struct cmsghdr align;
  } control;

  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (n_fds > 0)
    {
      struct cmsghdr *cmsg;

      g_assert_cmpuint (n_fds, <=, 8);
      memset (&control, 0, sizeof control);
      msg.msg_control = control.buf;
      msg.msg_controllen = CMSG_SPACE (sizeof (int) * n_fds);
      cmsg = CMSG_FIRSTHDR (&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (sizeof (int) * n_fds);
      memcpy (CMSG_DATA (cmsg), fds, sizeof (int) * n_fds);
    }
  g_assert_cmpint (sendmsg (sock, &msg, MSG_NOSIGNAL), ==, (gssize) len);
}

static void
send_frame_raw (int         sock,
                guint16     message,
                guint32     size_field,
                const void *payload,
                gsize       payload_len)
{
  guint8 header[SLUICE_PROBE_FRAME_HEADER];

  make_header (header, "SLPR", SLUICE_PROBE_PROTOCOL_VERSION, message, 7, size_field);
  send_raw (sock, header, sizeof header, NULL, 0);
  if (payload_len > 0)
    send_raw (sock, payload, payload_len, NULL, 0);
}

static int
memfd_with (const char *text)
{
  int fd = memfd_create ("test", MFD_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, text, strlen (text)), ==, (gssize) strlen (text));
  return fd;
}

/* Expects recv to fail with @code within @timeout_ms; nothing may leak. */
static void
assert_recv_fails (Fixture    *f,
                   int         timeout_ms,
                   gint        code,
                   const char *message_part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) payload = NULL;
  SluiceProbeMessage message = 0;
  guint32 id = 0;
  int fd = -1;

  g_assert_false (sluice_probe_frame_recv (f->sock[0], timeout_ms, &message, &id, &payload, &fd,
                                           &error));
  g_assert_error (error, SLUICE_ERROR, code);
  g_assert_null (payload);
  g_assert_cmpint (fd, ==, -1);
  if (message_part != NULL)
    g_assert_nonnull (strstr (error->message, message_part));
}

static void
test_message_types (void)
{
  g_assert_true (g_variant_type_equal (sluice_probe_message_type (SLUICE_PROBE_MSG_HELLO),
                                       G_VARIANT_TYPE ("(u)")));
  g_assert_true (g_variant_type_equal (sluice_probe_message_type (SLUICE_PROBE_MSG_PROBE),
                                       G_VARIANT_TYPE ("(st)")));
  g_assert_true (g_variant_type_equal (sluice_probe_message_type (SLUICE_PROBE_MSG_RESULT),
                                       G_VARIANT_TYPE ("(axadauasayas)")));
  g_assert_true (g_variant_type_equal (sluice_probe_message_type (SLUICE_PROBE_MSG_ERROR),
                                       G_VARIANT_TYPE ("(s)")));
  g_assert_true (g_variant_type_equal (sluice_probe_message_type (SLUICE_PROBE_MSG_THUMBNAIL),
                                       G_VARIANT_TYPE ("(tu)")));
  g_assert_true (g_variant_type_equal (sluice_probe_message_type (SLUICE_PROBE_MSG_PIXELS),
                                       G_VARIANT_TYPE ("(uuuay)")));
  g_assert_true (g_variant_type_equal (sluice_probe_message_type (SLUICE_PROBE_MSG_NO_THUMBNAIL),
                                       G_VARIANT_TYPE ("(us)")));
  g_assert_null (sluice_probe_message_type (0));
  g_assert_null (sluice_probe_message_type (8));
}

/* PIXELS skips the per-byte normal-form walk over its pixels, not the check of its numbers:
 * a round trip keeps every byte, and a body too short for the three numbers is refused. */
static void
test_pixels (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) got = NULL;
  g_autoptr(GVariant) bytes = NULL;
  guint8 rgb[12 * 3];
  SluiceProbeMessage message = 0;
  guint32 id = 0, width = 0, height = 0, stride = 0;

  for (guint i = 0; i < sizeof rgb; i++)
    rgb[i] = i * 7;
  g_assert_true (sluice_probe_frame_send (f->sock[1], SLUICE_PROBE_MSG_PIXELS, 3,
                                          g_variant_new ("(uuu@ay)", 4, 3, 12,
                                                         g_variant_new_fixed_array (
                                                           G_VARIANT_TYPE_BYTE, rgb, sizeof rgb,
                                                           1)),
                                          -1, &error));
  g_assert_no_error (error);
  g_assert_true (sluice_probe_frame_recv (f->sock[0], 1000, &message, &id, &got, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (message, ==, SLUICE_PROBE_MSG_PIXELS);
  g_variant_get (got, "(uuu@ay)", &width, &height, &stride, &bytes);
  g_assert_cmpuint (width, ==, 4);
  g_assert_cmpuint (height, ==, 3);
  g_assert_cmpuint (stride, ==, 12);
  g_assert_cmpmem (g_variant_get_data (bytes), g_variant_get_size (bytes), rgb, sizeof rgb);

  send_frame_raw (f->sock[1], SLUICE_PROBE_MSG_PIXELS, 8, "\4\0\0\0\3\0\0\0", 8);
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_PROTOCOL, "normal form");
}

static void
test_round_trip (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) payload = NULL;
  SluiceProbeMessage message = 0;
  guint32 id = 0;
  guint32 version = 0;
  int fd = 42;

  g_assert_true (sluice_probe_frame_send (f->sock[1], SLUICE_PROBE_MSG_HELLO, 0xdeadbeef,
                                          g_variant_new ("(u)", SLUICE_PROBE_PROTOCOL_VERSION),
                                          -1, &error));
  g_assert_no_error (error);
  g_assert_true (sluice_probe_frame_recv (f->sock[0], 1000, &message, &id, &payload, &fd,
                                          &error));
  g_assert_no_error (error);
  g_assert_cmpint (message, ==, SLUICE_PROBE_MSG_HELLO);
  g_assert_cmpuint (id, ==, 0xdeadbeef);
  g_assert_cmpint (fd, ==, -1);
  g_assert_true (g_variant_is_of_type (payload, G_VARIANT_TYPE ("(u)")));
  g_variant_get (payload, "(u)", &version);
  g_assert_cmpuint (version, ==, SLUICE_PROBE_PROTOCOL_VERSION);
}

static void
test_round_trip_fd (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) payload = NULL;
  SluiceProbeMessage message = 0;
  guint32 id = 0;
  int sent = memfd_with ("file bytes");
  int got = -1;
  const char *name = NULL;
  guint64 size = 0;
  char back[32] = { 0 };

  g_assert_true (sluice_probe_frame_send (f->sock[0], SLUICE_PROBE_MSG_PROBE, 3,
                                          g_variant_new ("(st)", "IMG_0001.JPG", 10), sent,
                                          &error));
  g_assert_no_error (error);
  g_assert_true (sluice_probe_frame_recv (f->sock[1], 1000, &message, &id, &payload, &got,
                                          &error));
  g_assert_no_error (error);
  g_assert_cmpint (message, ==, SLUICE_PROBE_MSG_PROBE);
  g_assert_cmpuint (id, ==, 3);
  g_variant_get (payload, "(&st)", &name, &size);
  g_assert_cmpstr (name, ==, "IMG_0001.JPG");
  g_assert_cmpuint (size, ==, 10);

  /* a new descriptor of the same file, not inherited by anything the receiver spawns */
  g_assert_cmpint (got, >=, 0);
  g_assert_cmpint (got, !=, sent);
  g_assert_cmpint (fcntl (got, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
  g_assert_cmpint (pread (got, back, sizeof back, 0), ==, 10);
  g_assert_cmpstr (back, ==, "file bytes");
  close (got);
  close (sent);
}

static void
test_round_trip_result_and_error (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) failure = NULL;
  g_autoptr(SluiceMetadata) meta = sluice_metadata_new ();
  g_autoptr(SluiceMetadata) back = NULL;
  SluiceProbeMessage message = 0;
  guint32 id = 0;
  const char *text = NULL;

  meta->make = g_strdup ("Canon");
  meta->iso = 100;
  g_assert_true (sluice_probe_frame_send (f->sock[1], SLUICE_PROBE_MSG_RESULT, 1,
                                          sluice_metadata_to_variant (meta), -1, &error));
  g_assert_true (sluice_probe_frame_send (f->sock[1], SLUICE_PROBE_MSG_ERROR, 2,
                                          g_variant_new ("(s)", "cannot map"), -1, &error));
  g_assert_no_error (error);

  /* two frames back to back come apart correctly; out_fd may be NULL */
  g_assert_true (sluice_probe_frame_recv (f->sock[0], 1000, &message, &id, &result, NULL,
                                          &error));
  g_assert_cmpint (message, ==, SLUICE_PROBE_MSG_RESULT);
  g_assert_cmpuint (id, ==, 1);
  back = sluice_metadata_from_variant (result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->make, ==, "Canon");
  g_assert_cmpint (back->iso, ==, 100);
  g_assert_true (sluice_probe_frame_recv (f->sock[0], 1000, &message, &id, &failure, NULL,
                                          &error));
  g_assert_no_error (error);
  g_assert_cmpint (message, ==, SLUICE_PROBE_MSG_ERROR);
  g_assert_cmpuint (id, ==, 2);
  g_variant_get (failure, "(&s)", &text);
  g_assert_cmpstr (text, ==, "cannot map");
}

static void
test_wire_format (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) payload = g_variant_ref_sink (g_variant_new ("(s)", "hi"));
  guint8 frame[64];
  guint8 expected[SLUICE_PROBE_FRAME_HEADER];
  gsize size = g_variant_get_size (payload);

  g_assert_true (sluice_probe_frame_send (f->sock[1], SLUICE_PROBE_MSG_ERROR, 0x01020304,
                                          payload, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (recv (f->sock[0], frame, sizeof frame, 0), ==,
                   SLUICE_PROBE_FRAME_HEADER + size);
  /* "SLPR", version, type, request id, payload length: little endian */
  make_header (expected, "SLPR", SLUICE_PROBE_PROTOCOL_VERSION, SLUICE_PROBE_MSG_ERROR, 0x01020304, size);
  g_assert_cmpmem (frame, SLUICE_PROBE_FRAME_HEADER, expected, SLUICE_PROBE_FRAME_HEADER);
  g_assert_cmpmem (frame + SLUICE_PROBE_FRAME_HEADER, size, g_variant_get_data (payload), size);
}

static void
test_send_normalises (Fixture       *f,
                      gconstpointer  data)
{
  /* "(s)" whose string holds a NUL: not in normal form */
  static const char odd[] = { 'x', '\0', 'y', '\0' };
  g_autoptr(GVariant) weird = NULL;
  g_autoptr(GVariant) payload = NULL;
  g_autoptr(GError) error = NULL;
  SluiceProbeMessage message = 0;
  guint32 id = 0;

  weird = g_variant_ref_sink (g_variant_new_from_data (G_VARIANT_TYPE ("(s)"), odd, sizeof odd,
                                                       FALSE, NULL, NULL));
  g_assert_false (g_variant_is_normal_form (weird));
  g_assert_true (sluice_probe_frame_send (f->sock[1], SLUICE_PROBE_MSG_ERROR, 1, weird, -1,
                                          &error));
  g_assert_no_error (error);
  g_assert_true (sluice_probe_frame_recv (f->sock[0], 1000, &message, &id, &payload, NULL,
                                          &error));
  g_assert_no_error (error);
  g_assert_true (g_variant_is_normal_form (payload));
}

static void
test_send_too_large (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *big = g_strnfill (SLUICE_PROBE_FRAME_MAX, 'x');
  g_autoptr(GError) error = NULL;

  g_assert_false (sluice_probe_frame_send (f->sock[1], SLUICE_PROBE_MSG_ERROR, 1,
                                           g_variant_new ("(s)", big), -1, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_TOO_LARGE);
}

static void
test_send_wrong_type (void)
{
  if (g_test_subprocess ())
    {
      int sock[2];

      g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock), ==, 0);
      sluice_probe_frame_send (sock[0], SLUICE_PROBE_MSG_HELLO, 1, g_variant_new ("(s)", "x"),
                               -1, NULL);
      return;
    }
  /* a payload that does not match its message is a programming error on the sending side */
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*g_variant_is_of_type*");
}

static void
test_send_to_closed_peer (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  close (f->sock[1]);
  f->sock[1] = -1;
  /* EPIPE, and no SIGPIPE that would kill the engine */
  g_assert_false (sluice_probe_frame_send (f->sock[0], SLUICE_PROBE_MSG_PROBE, 1,
                                           g_variant_new ("(st)", "a.jpg", 1), -1, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_PROBE_CRASHED);
}

static void
test_wrong_magic (Fixture       *f,
                  gconstpointer  data)
{
  guint8 header[SLUICE_PROBE_FRAME_HEADER];

  make_header (header, "HTTP", 1, SLUICE_PROBE_MSG_RESULT, 1, 0);
  send_raw (f->sock[1], header, sizeof header, NULL, 0);
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_PROTOCOL, "magic");
}

static void
test_wrong_version (Fixture       *f,
                    gconstpointer  data)
{
  guint8 header[SLUICE_PROBE_FRAME_HEADER];

  g_autofree char *expected = g_strdup_printf ("version %u", SLUICE_PROBE_PROTOCOL_VERSION + 1);

  make_header (header, "SLPR", SLUICE_PROBE_PROTOCOL_VERSION + 1, SLUICE_PROBE_MSG_RESULT, 1, 0);
  send_raw (f->sock[1], header, sizeof header, NULL, 0);
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_PROTOCOL, expected);
}

static void
test_unknown_message (Fixture       *f,
                      gconstpointer  data)
{
  send_frame_raw (f->sock[1], 9, 0, NULL, 0);
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_PROTOCOL, "message 9");
}

static void
test_oversize_length (Fixture       *f,
                      gconstpointer  data)
{
  gint64 start = g_get_monotonic_time ();

  /* refused from the header alone: no allocation, no waiting for a body that never comes */
  send_frame_raw (f->sock[1], SLUICE_PROBE_MSG_RESULT, SLUICE_PROBE_FRAME_MAX, NULL, 0);
  assert_recv_fails (f, 5000, SLUICE_ERROR_PROBE_PROTOCOL, "over the limit");
  send_frame_raw (f->sock[1], SLUICE_PROBE_MSG_RESULT, G_MAXUINT32, NULL, 0);
  assert_recv_fails (f, 5000, SLUICE_ERROR_PROBE_PROTOCOL, "over the limit");
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}

typedef struct {
  int       sock;
  GVariant *payload;
  gboolean  ok;
} Sender;

static gpointer
send_thread (gpointer user_data)
{
  Sender *s = user_data;

  s->ok = sluice_probe_frame_send (s->sock, SLUICE_PROBE_MSG_ERROR, 1, s->payload, -1, NULL);
  return NULL;
}

static void
test_largest_frame (Fixture       *f,
                    gconstpointer  data)
{
  /* "(s)" serialises as the string and its NUL: this one fills the frame exactly */
  gsize len = SLUICE_PROBE_FRAME_MAX - SLUICE_PROBE_FRAME_HEADER - 1;
  g_autofree char *fits = g_strnfill (len, 'x');
  g_autofree char *over = g_strnfill (len + 1, 'x');
  g_autoptr(GVariant) got = NULL;
  g_autoptr(GError) error = NULL;
  Sender sender = { f->sock[1], g_variant_new ("(s)", fits), FALSE };
  SluiceProbeMessage message = 0;
  guint32 id = 0;
  const char *text = NULL;
  GThread *thread;

  g_assert_cmpuint (g_variant_get_size (sender.payload), ==,
                    SLUICE_PROBE_FRAME_MAX - SLUICE_PROBE_FRAME_HEADER);
  /* larger than the socket buffer: send on a thread while this one receives */
  thread = g_thread_new ("send", send_thread, &sender);
  g_assert_true (sluice_probe_frame_recv (f->sock[0], 5000, &message, &id, &got, NULL, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
  g_assert_true (sender.ok);
  g_variant_get (got, "(&s)", &text);
  g_assert_cmpuint (strlen (text), ==, len);

  /* one byte more is refused before anything is sent */
  g_assert_false (sluice_probe_frame_send (f->sock[1], SLUICE_PROBE_MSG_ERROR, 1,
                                           g_variant_new ("(s)", over), -1, &error));
  g_assert_error (error, SLUICE_ERROR, SLUICE_ERROR_TOO_LARGE);
}

static void
test_not_normal_form (Fixture       *f,
                      gconstpointer  data)
{
  static const char odd[] = { 'x', '\0', 'y', '\0' };

  send_frame_raw (f->sock[1], SLUICE_PROBE_MSG_ERROR, sizeof odd, odd, sizeof odd);
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_PROTOCOL, "normal form");
}

/* A RESULT's thumbnail bytes are not walked by the normal-form check (it cost 5 % of CPU per
 * small file), but the rest of a RESULT still is: a broken member is refused, and a sound
 * result with a big thumbnail arrives whole. */
static void
test_result_checked (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree guint8 *thumb = g_malloc (60000);
  g_autoptr(SluiceMetadata) meta = sluice_metadata_new ();
  g_autoptr(SluiceMetadata) back = NULL;
  g_autoptr(GVariant) sent = NULL;
  g_autoptr(GVariant) good = NULL;
  g_autoptr(GVariant) got = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *broken = NULL;
  SluiceProbeMessage message;
  guint32 id;
  gsize size;
  guint hits = 0;

  for (guint i = 0; i < 60000; i++)
    thumb[i] = (guint8) (i * 7);
  meta->make = g_strdup ("Canon");
  meta->model = g_strdup ("EOS 5D");
  meta->has_thumbnail = TRUE;
  meta->thumbnail = g_bytes_new (thumb, 60000);
  sent = g_variant_ref_sink (sluice_metadata_to_variant (meta));
  good = g_variant_get_normal_form (sent);
  size = g_variant_get_size (good);

  send_frame_raw (f->sock[1], SLUICE_PROBE_MSG_RESULT, size, g_variant_get_data (good), size);
  g_assert_true (sluice_probe_frame_recv (f->sock[0], 1000, &message, &id, &got, NULL, &error));
  g_assert_no_error (error);
  back = sluice_metadata_from_variant (got, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->model, ==, "EOS 5D");
  g_assert_nonnull (back->thumbnail);
  g_assert_cmpmem (g_bytes_get_data (back->thumbnail, NULL), g_bytes_get_size (back->thumbnail),
                   thumb, 60000);

  /* "Canon" with its NUL turned into a letter: that member is not in normal form */
  broken = g_memdup2 (g_variant_get_data (good), size);
  for (gsize i = 0; i + 6 <= size; i++)
    if (memcmp (broken + i, "Canon", 6) == 0)
      {
        broken[i + 5] = 'X';
        hits++;
      }
  g_assert_cmpuint (hits, ==, 1);
  send_frame_raw (f->sock[1], SLUICE_PROBE_MSG_RESULT, size, broken, size);
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_PROTOCOL, "normal form");
}

static void
test_wrong_payload_type (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GVariant) text = g_variant_ref_sink (g_variant_new ("(s)", "hello, world"));
  g_autoptr(GVariant) number = g_variant_ref_sink (g_variant_new ("(u)", 1));

  /* an ERROR payload under a HELLO header, and a HELLO payload under a RESULT header */
  send_frame_raw (f->sock[1], SLUICE_PROBE_MSG_HELLO, g_variant_get_size (text),
                  g_variant_get_data (text), g_variant_get_size (text));
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_PROTOCOL, NULL);
  send_frame_raw (f->sock[1], SLUICE_PROBE_MSG_RESULT, g_variant_get_size (number),
                  g_variant_get_data (number), g_variant_get_size (number));
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_PROTOCOL, NULL);
}

static void
test_peer_closes (Fixture       *f,
                  gconstpointer  data)
{
  close (f->sock[1]);
  f->sock[1] = -1;
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_CRASHED, NULL);
}

static void
test_peer_closes_mid_header (Fixture       *f,
                             gconstpointer  data)
{
  guint8 header[SLUICE_PROBE_FRAME_HEADER];

  make_header (header, "SLPR", SLUICE_PROBE_PROTOCOL_VERSION, SLUICE_PROBE_MSG_RESULT, 1, 0);
  send_raw (f->sock[1], header, 7, NULL, 0);
  close (f->sock[1]);
  f->sock[1] = -1;
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_CRASHED, NULL);
}

static void
test_peer_closes_mid_payload (Fixture       *f,
                              gconstpointer  data)
{
  send_frame_raw (f->sock[1], SLUICE_PROBE_MSG_ERROR, 100, "only some", 9);
  close (f->sock[1]);
  f->sock[1] = -1;
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_CRASHED, NULL);
}

static void
test_timeout (Fixture       *f,
              gconstpointer  data)
{
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed;

  assert_recv_fails (f, 300, SLUICE_ERROR_PROBE_TIMEOUT, NULL);
  elapsed = g_get_monotonic_time () - start;
  g_assert_cmpint (elapsed, >=, 250 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (elapsed, <, 5 * G_USEC_PER_SEC);
}

static void
test_timeout_mid_frame (Fixture       *f,
                        gconstpointer  data)
{
  guint8 header[SLUICE_PROBE_FRAME_HEADER];

  /* a helper that starts a frame and stalls */
  make_header (header, "SLPR", SLUICE_PROBE_PROTOCOL_VERSION, SLUICE_PROBE_MSG_ERROR, 1, 50);
  send_raw (f->sock[1], header, sizeof header, NULL, 0);
  send_raw (f->sock[1], "partial", 7, NULL, 0);
  assert_recv_fails (f, 300, SLUICE_ERROR_PROBE_TIMEOUT, NULL);
}

typedef struct {
  int      sock;
  GBytes  *frame;
  guint    delay_ms;
} Trickle;

static gpointer
trickle_thread (gpointer user_data)
{
  Trickle *t = user_data;
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (t->frame, &len);

  for (gsize i = 0; i < len; i++)
    {
      g_usleep (t->delay_ms * G_TIME_SPAN_MILLISECOND);
      g_assert_cmpint (send (t->sock, p + i, 1, MSG_NOSIGNAL), ==, 1);
    }
  return NULL;
}

static void
test_slow_but_steady (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GVariant) payload = g_variant_ref_sink (g_variant_new ("(s)", "x"));
  g_autoptr(GVariant) got = NULL;
  g_autoptr(GError) error = NULL;
  GByteArray *frame = g_byte_array_new ();
  guint8 header[SLUICE_PROBE_FRAME_HEADER];
  Trickle t = { f->sock[1], NULL, 100 };
  SluiceProbeMessage message = 0;
  guint32 id = 0;
  GThread *thread;
  gint64 start = g_get_monotonic_time ();

  make_header (header, "SLPR", SLUICE_PROBE_PROTOCOL_VERSION, SLUICE_PROBE_MSG_ERROR, 5, g_variant_get_size (payload));
  g_byte_array_append (frame, header, sizeof header);
  g_byte_array_append (frame, g_variant_get_data (payload), g_variant_get_size (payload));
  t.frame = g_byte_array_free_to_bytes (frame);

  /* one byte every 100 ms, 1.8 s in all, with a 1 s timeout: the timeout is about no
   * progress, not a deadline for the whole frame */
  thread = g_thread_new ("trickle", trickle_thread, &t);
  g_assert_true (sluice_probe_frame_recv (f->sock[0], 1000, &message, &id, &got, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, >, 1000 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (id, ==, 5);
  g_thread_join (thread);
  g_bytes_unref (t.frame);
}

static void
test_rejected_frame_closes_fd (Fixture       *f,
                               gconstpointer  data)
{
  guint8 header[SLUICE_PROBE_FRAME_HEADER];
  int fd = memfd_with ("x");
  guint before;

  before = sluice_test_count_fds ();
  make_header (header, "JUNK", 1, SLUICE_PROBE_MSG_PROBE, 1, 0);
  send_raw (f->sock[1], header, sizeof header, &fd, 1);
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_PROTOCOL, NULL);
  /* the descriptor that came with the bad frame is not left open */
  g_assert_cmpuint (sluice_test_count_fds (), ==, before);
  close (fd);
}

static void
test_extra_fds_closed (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GVariant) payload = g_variant_ref_sink (g_variant_new ("(st)", "a.jpg", 1));
  g_autoptr(GVariant) got = NULL;
  g_autoptr(GError) error = NULL;
  guint8 header[SLUICE_PROBE_FRAME_HEADER];
  int fds[2] = { memfd_with ("first"), memfd_with ("second") };
  SluiceProbeMessage message = 0;
  guint32 id = 0;
  int received = -1;
  char back[16] = { 0 };
  guint before;

  before = sluice_test_count_fds ();
  make_header (header, "SLPR", SLUICE_PROBE_PROTOCOL_VERSION, SLUICE_PROBE_MSG_PROBE, 1, g_variant_get_size (payload));
  send_raw (f->sock[1], header, sizeof header, fds, 2);
  send_raw (f->sock[1], g_variant_get_data (payload), g_variant_get_size (payload), NULL, 0);

  /* the first one is kept, the other closed */
  g_assert_true (sluice_probe_frame_recv (f->sock[0], 1000, &message, &id, &got, &received,
                                          &error));
  g_assert_no_error (error);
  g_assert_cmpint (received, >=, 0);
  g_assert_cmpint (pread (received, back, sizeof back, 0), ==, 5);
  g_assert_cmpstr (back, ==, "first");
  g_assert_cmpuint (sluice_test_count_fds (), ==, before + 1);
  close (received);
  close (fds[0]);
  close (fds[1]);
}

static void
test_too_many_fds (Fixture       *f,
                   gconstpointer  data)
{
  guint8 header[SLUICE_PROBE_FRAME_HEADER];
  int fds[8];
  guint before;

  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    fds[i] = memfd_with ("x");
  before = sluice_test_count_fds ();
  make_header (header, "SLPR", SLUICE_PROBE_PROTOCOL_VERSION, SLUICE_PROBE_MSG_PROBE, 1, 0);
  send_raw (f->sock[1], header, sizeof header, fds, G_N_ELEMENTS (fds));
  assert_recv_fails (f, 1000, SLUICE_ERROR_PROBE_PROTOCOL, "descriptors");
  g_assert_cmpuint (sluice_test_count_fds (), ==, before);
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    close (fds[i]);
}

static void
test_fd_with_out_fd_null (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GVariant) got = NULL;
  g_autoptr(GError) error = NULL;
  SluiceProbeMessage message = 0;
  guint32 id = 0;
  int fd = memfd_with ("x");
  guint before = sluice_test_count_fds ();

  g_assert_true (sluice_probe_frame_send (f->sock[1], SLUICE_PROBE_MSG_PROBE, 1,
                                          g_variant_new ("(st)", "a.jpg", 1), fd, &error));
  g_assert_true (sluice_probe_frame_recv (f->sock[0], 1000, &message, &id, &got, NULL, &error));
  g_assert_no_error (error);
  /* nobody asked for the descriptor: it is closed, not leaked */
  g_assert_cmpuint (sluice_test_count_fds (), ==, before);
  close (fd);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/probe-protocol/message-types", test_message_types);
  g_test_add_func ("/engine/probe-protocol/send-wrong-type", test_send_wrong_type);
#define ADD(path, fn) \
  g_test_add ("/engine/probe-protocol/" path, Fixture, NULL, fixture_set_up, fn, \
              fixture_tear_down)
  ADD ("round-trip", test_round_trip);
  ADD ("round-trip-fd", test_round_trip_fd);
  ADD ("round-trip-result-and-error", test_round_trip_result_and_error);
  ADD ("wire-format", test_wire_format);
  ADD ("send-normalises", test_send_normalises);
  ADD ("send-too-large", test_send_too_large);
  ADD ("send-to-closed-peer", test_send_to_closed_peer);
  ADD ("wrong-magic", test_wrong_magic);
  ADD ("wrong-version", test_wrong_version);
  ADD ("unknown-message", test_unknown_message);
  ADD ("pixels", test_pixels);
  ADD ("oversize-length", test_oversize_length);
  ADD ("largest-frame", test_largest_frame);
  ADD ("not-normal-form", test_not_normal_form);
  ADD ("result-checked", test_result_checked);
  ADD ("wrong-payload-type", test_wrong_payload_type);
  ADD ("peer-closes", test_peer_closes);
  ADD ("peer-closes-mid-header", test_peer_closes_mid_header);
  ADD ("peer-closes-mid-payload", test_peer_closes_mid_payload);
  ADD ("timeout", test_timeout);
  ADD ("timeout-mid-frame", test_timeout_mid_frame);
  ADD ("slow-but-steady", test_slow_but_steady);
  ADD ("rejected-frame-closes-fd", test_rejected_frame_closes_fd);
  ADD ("extra-fds-closed", test_extra_fds_closed);
  ADD ("too-many-fds", test_too_many_fds);
  ADD ("fd-with-out-fd-null", test_fd_with_out_fd_null);
#undef ADD

  return g_test_run ();
}
