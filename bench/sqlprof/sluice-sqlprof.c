/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sluice-sqlprof: which SQL statements the catalog's writer spends its CPU on (issue 5).
 *
 *   SLUICE_SQLPROF=out.tsv LD_PRELOAD=.../libsluice-sqlprof.so sluice-cli ingest ...
 *
 * Wraps sqlite3_open_v2 () and installs sqlite3_trace_v2 () on every connection opened for
 * writing. For each top-level statement it adds the calling thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID) between SQLITE_TRACE_STMT and SQLITE_TRACE_PROFILE: what the
 * statement cost this thread, triggers included, and nothing of the time it spent preempted
 * (SQLite's own profile clock counts wall time, in whole milliseconds). Statements run by
 * triggers and FTS5 (and any statement stepped inside another) are counted (column 1), but
 * their CPU is in the top-level statement's (column 2 is 0 for them).
 * At exit it writes "count <TAB> thread CPU ns <TAB> SQL" per statement text to
 * $SLUICE_SQLPROF. A bench tool: built with the project, never installed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 4096

typedef struct {
  char          *sql;
  unsigned long  count;
  long long      ns;
} Slot;

static Slot slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static __thread long long started;
static __thread void *running;   /* the top-level statement being timed on this thread */

static long long
thread_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The slot of @sql (open addressing on its FNV-1a hash); NULL when the table is full. */
static Slot *
slot_for (const char *sql)
{
  unsigned h = 2166136261u;

  for (const char *p = sql; *p != '\0'; p++)
    h = (h ^ (unsigned char) *p) * 16777619u;
  for (unsigned i = 0; i < SLOTS; i++)
    {
      Slot *s = &slots[(h + i) % SLOTS];
      if (s->sql == NULL)
        {
          s->sql = strdup (sql);
          return s->sql != NULL ? s : NULL;
        }
      if (strcmp (s->sql, sql) == 0)
        return s;
    }
  return NULL;
}

static void
dump (void)
{
  const char *path = getenv ("SLUICE_SQLPROF");
  FILE *f = path != NULL ? fopen (path, "w") : NULL;

  if (f == NULL)
    return;
  for (unsigned i = 0; i < SLOTS; i++)
    if (slots[i].sql != NULL)
      {
        /* one line per statement: its text's newlines become spaces */
        for (char *p = slots[i].sql; *p != '\0'; p++)
          if (*p == '\n' || *p == '\t')
            *p = ' ';
        fprintf (f, "%lu\t%lld\t%s\n", slots[i].count, slots[i].ns, slots[i].sql);
      }
  fclose (f);
}

static void
install_dump (void)
{
  atexit (dump);
}

static int
trace (unsigned type,
       void    *ctx,
       void    *p,
       void    *x)
{
  const char *sql;
  Slot *s;

  if (type == SQLITE_TRACE_STMT)
    {
      /* x is the statement's text, or "-- ..." for one run by a trigger or a virtual table */
      sql = x;
      if (strncmp (sql, "--", 2) != 0 && running == NULL)
        {
          sql = sqlite3_sql (p);
          running = p;
          started = thread_ns ();
        }
      pthread_mutex_lock (&lock);
      s = slot_for (sql);
      if (s != NULL)
        s->count++;
      pthread_mutex_unlock (&lock);
    }
  else if (type == SQLITE_TRACE_PROFILE && p == running)
    {
      long long spent = thread_ns () - started;

      running = NULL;
      pthread_mutex_lock (&lock);
      s = slot_for (sqlite3_sql (p));
      if (s != NULL)
        s->ns += spent;
      pthread_mutex_unlock (&lock);
    }
  return 0;
}

int
sqlite3_open_v2 (const char  *filename,
                 sqlite3    **db,
                 int          flags,
                 const char  *vfs)
{
  static int (*real) (const char *, sqlite3 **, int, const char *);
  int rc;

  if (real == NULL)
    real = (int (*) (const char *, sqlite3 **, int, const char *)) dlsym (RTLD_NEXT,
                                                                        "sqlite3_open_v2");
  rc = real (filename, db, flags, vfs);
  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_READWRITE) != 0)
    {
      pthread_once (&once, install_dump);
      sqlite3_trace_v2 (*db, SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE, trace, NULL);
    }
  return rc;
}
