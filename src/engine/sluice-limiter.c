/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-limiter"

#include "config.h"

#include <string.h>

#include "sluice-limiter.h"

#define DECREASE_INTERVAL_US G_USEC_PER_SEC

struct _SluiceConcurrency {
  GMutex  mutex;
  GCond   cond;
  guint   max;
  guint   limit;
  guint   min_limit;
  guint   in_flight;
  guint   successes;     /* since the last change of limit */
  guint   throttled;
  guint   waiting;       /* threads waiting for a place */
  gint64  last_decrease;
};

SluiceConcurrency *
sluice_concurrency_new (guint max)
{
  SluiceConcurrency *self = g_new0 (SluiceConcurrency, 1);

  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->max = MAX (max, 1);
  self->limit = self->max;
  self->min_limit = self->max;
  return self;
}

void
sluice_concurrency_free (SluiceConcurrency *self)
{
  if (self == NULL)
    return;
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);
  g_free (self);
}

/* Blocks until a request may go out; FALSE when cancelled first. Called from any thread. */
gboolean
sluice_concurrency_acquire (SluiceConcurrency *self,
                            GCancellable      *cancellable)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  while (self->in_flight >= self->limit)
    {
      if (g_cancellable_is_cancelled (cancellable))
        return FALSE;
      self->waiting++;
      g_cond_wait_until (&self->cond, &self->mutex,
                         g_get_monotonic_time () + 100 * G_TIME_SPAN_MILLISECOND);
      self->waiting--;
    }
  self->in_flight++;
  return TRUE;
}

void
sluice_concurrency_release (SluiceConcurrency *self,
                            gboolean           throttled)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  gint64 now = g_get_monotonic_time ();

  g_assert (self->in_flight > 0);
  self->in_flight--;
  if (throttled)
    {
      self->throttled++;
      self->successes = 0;
      /* one halving per second: the answers to requests sent before it do not count again */
      if (now - self->last_decrease >= DECREASE_INTERVAL_US)
        {
          self->limit = MAX (1, self->limit / 2);
          self->min_limit = MIN (self->min_limit, self->limit);
          self->last_decrease = now;
          g_debug ("throttled: at most %u requests in flight", self->limit);
        }
    }
  else if (self->limit < self->max && ++self->successes >= self->limit)
    {
      self->limit++;
      self->successes = 0;
      if (self->waiting > 0)
        g_cond_signal (&self->cond);   /* the new place */
    }
  /* one place freed, one waiter woken: with more workers than places a broadcast woke them
   * all for each answer (the waits time out every 100 ms to see a cancel, so a wake-up that
   * finds no place costs no more than a delay) */
  if (self->waiting > 0)
    g_cond_signal (&self->cond);
}

guint
sluice_concurrency_limit (SluiceConcurrency *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  return self->limit;
}

guint
sluice_concurrency_min_limit (SluiceConcurrency *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  return self->min_limit;
}

guint
sluice_concurrency_throttled (SluiceConcurrency *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  return self->throttled;
}

/* ---- rate ------------------------------------------------------------------------------------- */

struct _SluiceRateLimit {
  GMutex  mutex;
  double  rate;        /* bytes per µs */
  double  tokens;      /* may go negative: debt */
  double  burst;
  gint64  last;
};

SluiceRateLimit *
sluice_rate_limit_new (guint64 bytes_per_second)
{
  SluiceRateLimit *self = g_new0 (SluiceRateLimit, 1);

  g_mutex_init (&self->mutex);
  self->rate = (double) MAX (bytes_per_second, 1) / G_USEC_PER_SEC;
  /* a tenth of a second of burst, at least one curl buffer */
  self->burst = MAX ((double) bytes_per_second / 10, 64.0 * 1024);
  self->tokens = 0;
  self->last = g_get_monotonic_time ();
  return self;
}

void
sluice_rate_limit_free (SluiceRateLimit *self)
{
  if (self == NULL)
    return;
  g_mutex_clear (&self->mutex);
  g_free (self);
}

/* Takes @bytes; sleeps off the debt when there are not enough tokens. Called from any thread. */
void
sluice_rate_limit_consume (SluiceRateLimit *self,
                           gsize            bytes)
{
  gint64 now, wait_us = 0;

  g_mutex_lock (&self->mutex);
  now = g_get_monotonic_time ();
  self->tokens = MIN (self->burst, self->tokens + (now - self->last) * self->rate);
  self->last = now;
  self->tokens -= bytes;
  if (self->tokens < 0)
    wait_us = (gint64) (-self->tokens / self->rate);
  g_mutex_unlock (&self->mutex);

  if (wait_us > 0)
    g_usleep (wait_us);
}

/**
 * sluice_rate_parse:
 *
 * "500K", "10M", "1.5G" (KiB, MiB, GiB per second) or a plain number of bytes per second.
 */
gboolean
sluice_rate_parse (const char *text,
                   guint64    *out_bytes_per_second)
{
  g_autofree char *copy = NULL;
  char *end = NULL;
  double value, unit = 1;
  gsize len;

  if (text == NULL)
    return FALSE;
  copy = g_strstrip (g_strdup (text));
  len = strlen (copy);
  if (len == 0)
    return FALSE;
  /* "10MiB/s", "10M/s" and "10M" mean the same */
  if (g_str_has_suffix (copy, "/s"))
    copy[len -= 2] = '\0';
  if (len > 2 && g_ascii_strcasecmp (copy + len - 2, "iB") == 0)
    copy[len -= 2] = '\0';
  else if (len > 1 && (copy[len - 1] == 'B' || copy[len - 1] == 'b'))
    copy[--len] = '\0';
  switch (len > 0 ? g_ascii_toupper (copy[len - 1]) : 0)
    {
    case 'K':
      unit = 1024.0;
      break;
    case 'M':
      unit = 1024.0 * 1024;
      break;
    case 'G':
      unit = 1024.0 * 1024 * 1024;
      break;
    default:
      break;
    }
  if (unit > 1)
    copy[--len] = '\0';
  value = g_ascii_strtod (copy, &end);
  if (end == copy || *end != '\0' || !(value > 0) || value * unit > 1e15)
    return FALSE;
  *out_bytes_per_second = (guint64) (value * unit);
  return *out_bytes_per_second > 0;
}
