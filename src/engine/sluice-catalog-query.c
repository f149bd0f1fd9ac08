/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-catalog-query"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "sluice-catalog-private.h"
#include "sluice-catalog-query.h"
#include "sluice-error.h"

/*
 * How a page is found. Every sort column has an index whose entries end with the file id (the
 * rowid of metadata and files; objects indexes carry file_id and then their own rowid), so a
 * page after a cursor is at most three index range scans, each stopping after LIMIT rows:
 *
 *   ties    value = v AND (file id, object id) after the cursor's
 *   beyond  value > v (< when descending)
 *   nulls   value IS NULL, in (file id, object id) order — empty values come last
 *
 * One query with an OR over those would not be a range the planner can use, and a row-value
 * comparison (value, rowid) > (?, ?) is not one either in SQLite 3.40 (the rowid is not an
 * explicit index column), which is why the parts are separate statements.
 *
 * For the object's columns (state, key) the values come from the objects table: the first
 * parts drive from its index (an inner join), and files without an object are the "nulls".
 */

struct _SluiceQuery {
  SluiceQuerySort  sort;
  gboolean         descending;
  char            *search;      /* as typed */
  GStrv            terms;       /* FTS5 expressions made of it, one per word or phrase */
  char            *camera;
  char            *lens;
  char            *since;       /* "YYYY:MM:DD": dates taken at or after */
  char            *until;       /* "YYYY:MM:DD": dates taken before (the day after the last) */
  SluiceQueryGps   gps;
  guint            states;
  gint64           run_id;
};

typedef enum {
  DRIVE_INGEST,
  DRIVE_FILES,
  DRIVE_METADATA,
  DRIVE_OBJECTS,
} Drive;

typedef struct {
  const char *value;      /* SQL of the sort value */
  const char *file_id;    /* the file id as the driving index carries it */
  Drive       drive;
  gboolean    nullable;
} SortInfo;

static const SortInfo sort_info[SLUICE_QUERY_N_SORTS] = {
  [SLUICE_QUERY_SORT_INGEST]       = { "f.id", "f.id", DRIVE_INGEST, FALSE },
  [SLUICE_QUERY_SORT_NAME]         = { "f.relpath", "f.id", DRIVE_FILES, FALSE },
  [SLUICE_QUERY_SORT_DATE_TAKEN]   = { "m.datetime_original", "m.file_id", DRIVE_METADATA, TRUE },
  [SLUICE_QUERY_SORT_CAMERA]       = { "m.camera", "m.file_id", DRIVE_METADATA, TRUE },
  [SLUICE_QUERY_SORT_LENS]         = { "m.lens_model", "m.file_id", DRIVE_METADATA, TRUE },
  [SLUICE_QUERY_SORT_EXPOSURE]     = { "m.exposure", "m.file_id", DRIVE_METADATA, TRUE },
  [SLUICE_QUERY_SORT_ISO]          = { "m.iso", "m.file_id", DRIVE_METADATA, TRUE },
  [SLUICE_QUERY_SORT_FOCAL_LENGTH] = { "m.focal_length", "m.file_id", DRIVE_METADATA, TRUE },
  [SLUICE_QUERY_SORT_SIZE]         = { "f.size", "f.id", DRIVE_FILES, FALSE },
  [SLUICE_QUERY_SORT_STATE]        = { "o.state", "o.file_id", DRIVE_OBJECTS, TRUE },
  [SLUICE_QUERY_SORT_KEY]          = { "o.key", "o.file_id", DRIVE_OBJECTS, TRUE },
};

typedef enum {
  PART_ALL,          /* every row with a value (everything, for ingest order) */
  PART_TIES,         /* value = cursor's, ids after the cursor's (ingest: ids after) */
  PART_BEYOND,       /* values after the cursor's */
  PART_NULLS,        /* rows without a value */
  PART_NULLS_AFTER,  /* rows without a value, ids after the cursor's */
} Part;

/*
 * How a page finds its rows (choose_plan ()): the filters' indexes may drive (the matches are
 * then sorted in a temp b-tree), or the sort's index is walked and each row tested (the
 * filters' columns behind a unary "+", so the planner cannot pick their indexes). Without
 * ANALYZE the planner always prefers a filter's index, and sorting 100k matches costs more
 * than walking the sort index to the first 100 of them; with few matches it is the reverse.
 * PLAN_STATES drives from objects_by_state: the objects in the states, plus the (normally
 * few) files without object, as two parts of one UNION ALL.
 */
typedef enum {
  PLAN_INDEX,
  PLAN_WALK,
  PLAN_STATES,
  PLAN_WALK_LISTS,   /* nothing estimated: only the search's camera and lens lists walked */
} Plan;

/* A file without an object is "failed" when it carries an error, else "pending" (as in the
 * manifest, sluice-catalog.c). */
#define STATE_SQL \
  "IFNULL (o.state, CASE WHEN f.probe_error IS NOT NULL OR EXISTS (SELECT 1 FROM warnings w " \
  "WHERE w.file_id = f.id AND w.stage = 'error') THEN 4 ELSE 0 END)"

#define ROW_SELECT \
  "SELECT f.id, IFNULL (o.id, 0), f.relpath, m.camera, m.lens_model, m.datetime_original," \
  "  m.exposure_num, m.exposure_den, m.f_number, m.iso, m.focal_length, f.size, " STATE_SQL "," \
  "  o.key, m.gps_latitude IS NOT NULL, m.has_thumbnail"
#define ROW_N_SELECT 16

#define CURSOR_SELECT "SELECT f.id"
#define CURSOR_N_SELECT 1

#define EXPORT_JOINS " JOIN sources s ON s.id = f.source_id LEFT JOIN targets t ON t.id = o.target_id"

/* Parameters: ?1 limit, ?2 cursor value, ?3 cursor source id, ?4 file id, ?5 object id,
 * ?11… the filters', ?16 "new since" file id, ?20… the search terms. */
enum {
  P_LIMIT = 1, P_VALUE, P_AUX, P_FILE, P_OBJECT,
  P_CAMERA = 11, P_LENS, P_SINCE, P_UNTIL, P_RUN, P_NEW_AFTER,
  P_TERMS = 20,   /* … P_TERMS + MAX_TERMS - 1 */
};

/* ---- SluiceQuery ------------------------------------------------------------------------------ */

SluiceQuery *
sluice_query_new (void)
{
  SluiceQuery *query = g_new0 (SluiceQuery, 1);

  query->sort = SLUICE_QUERY_SORT_INGEST;
  return query;
}

SluiceQuery *
sluice_query_copy (const SluiceQuery *query)
{
  SluiceQuery *copy;

  g_return_val_if_fail (query != NULL, NULL);
  copy = g_memdup2 (query, sizeof *query);
  copy->search = g_strdup (query->search);
  copy->terms = g_strdupv (query->terms);
  copy->camera = g_strdup (query->camera);
  copy->lens = g_strdup (query->lens);
  copy->since = g_strdup (query->since);
  copy->until = g_strdup (query->until);
  return copy;
}

void
sluice_query_free (SluiceQuery *query)
{
  if (query == NULL)
    return;
  g_free (query->search);
  g_strfreev (query->terms);
  g_free (query->camera);
  g_free (query->lens);
  g_free (query->since);
  g_free (query->until);
  g_free (query);
}

gboolean
sluice_query_equal (const SluiceQuery *a,
                    const SluiceQuery *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  return a->sort == b->sort && a->descending == b->descending &&
         g_strcmp0 (a->search, b->search) == 0 && g_strcmp0 (a->camera, b->camera) == 0 &&
         g_strcmp0 (a->lens, b->lens) == 0 && g_strcmp0 (a->since, b->since) == 0 &&
         g_strcmp0 (a->until, b->until) == 0 && a->gps == b->gps && a->states == b->states &&
         a->run_id == b->run_id;
}

void
sluice_query_set_sort (SluiceQuery     *query,
                       SluiceQuerySort  sort,
                       gboolean         descending)
{
  g_return_if_fail (query != NULL);
  g_return_if_fail (sort < SLUICE_QUERY_N_SORTS);
  query->sort = sort;
  query->descending = !!descending;
}

SluiceQuerySort
sluice_query_get_sort (const SluiceQuery *query,
                       gboolean          *out_descending)
{
  g_return_val_if_fail (query != NULL, SLUICE_QUERY_SORT_INGEST);
  if (out_descending != NULL)
    *out_descending = query->descending;
  return query->sort;
}

static gboolean
is_word_char (gunichar c)
{
  return g_unichar_isalnum (c) || g_unichar_ismark (c);
}

/* Appends the words of @text (runs of letters, digits and marks: what FTS5's unicode61
 * tokenizer keeps) to @words. */
static void
split_words (const char *text,
             const char *end,
             GPtrArray  *words)
{
  const char *p = text;

  while (p < end)
    {
      const char *start;

      while (p < end && !is_word_char (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      start = p;
      while (p < end && is_word_char (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      if (p > start)
        g_ptr_array_add (words, g_strndup (start, p - start));
    }
}

#define MAX_TERMS 16

/*
 * The user's text as FTS5 expressions that can never be a syntax error, one per word: every
 * word is a quoted string (a word holds no quote: it is letters, digits and marks only). A
 * "quoted part" is one phrase, other words are prefixes ("can" finds Canon). Operators the user
 * types (AND, OR, NOT, NEAR, *, ^, :, parentheses) are words or separators, never syntax. Each
 * term must match the path, the camera or the lens. NULL when the text has no word at all.
 */
static GStrv
make_terms (const char *text)
{
  g_autoptr(GStrvBuilder) terms = g_strv_builder_new ();
  g_autofree char *valid = NULL;
  const char *p;
  gboolean quoted = FALSE;
  guint n = 0;

  valid = g_utf8_make_valid (text, -1);
  p = valid;
  while (*p != '\0' && n < MAX_TERMS)
    {
      const char *q = strchr (p, '"');
      const char *end = q != NULL ? q : p + strlen (p);
      g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (g_free);

      split_words (p, end, words);
      if (quoted && words->len > 0)
        {
          g_autoptr(GString) phrase = g_string_new ("\"");
          for (guint i = 0; i < words->len; i++)
            g_string_append_printf (phrase, "%s%s", i > 0 ? " " : "",
                                    (char *) g_ptr_array_index (words, i));
          g_string_append_c (phrase, '"');
          g_strv_builder_add (terms, phrase->str);
          n++;
        }
      else
        {
          for (guint i = 0; i < words->len && n < MAX_TERMS; i++, n++)
            {
              g_autofree char *term = g_strdup_printf ("\"%s\"*",
                                                       (char *) g_ptr_array_index (words, i));
              g_strv_builder_add (terms, term);
            }
        }
      if (q == NULL)
        break;
      quoted = !quoted;
      p = q + 1;
    }
  if (n == 0)
    return NULL;
  return g_strv_builder_end (terms);
}

void
sluice_query_set_search (SluiceQuery *query,
                         const char  *text)
{
  g_return_if_fail (query != NULL);
  g_clear_pointer (&query->search, g_free);
  g_clear_pointer (&query->terms, g_strfreev);
  if (text == NULL || *text == '\0')
    return;
  query->search = g_strdup (text);
  query->terms = make_terms (text);
}

void
sluice_query_set_camera (SluiceQuery *query,
                         const char  *camera)
{
  g_return_if_fail (query != NULL);
  g_free (query->camera);
  query->camera = g_strdup (camera);
}

void
sluice_query_set_lens (SluiceQuery *query,
                       const char  *lens)
{
  g_return_if_fail (query != NULL);
  g_free (query->lens);
  query->lens = g_strdup (lens);
}

static gboolean
digits (const char *p,
        guint       n,
        guint      *out)
{
  guint v = 0;

  for (guint i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (p[i]))
        return FALSE;
      v = v * 10 + (p[i] - '0');
    }
  *out = v;
  return TRUE;
}

/* "YYYY-MM-DD" → a GDate; exactly that form, a real day. */
static gboolean
parse_iso_date (const char  *text,
                GDate       *out_date,
                GError     **error)
{
  guint y = 0, m = 0, d = 0;

  g_date_clear (out_date, 1);
  if (strlen (text) != 10 || text[4] != '-' || text[7] != '-' ||
      !digits (text, 4, &y) || !digits (text + 5, 2, &m) || !digits (text + 8, 2, &d) ||
      y < 1 || !g_date_valid_dmy (d, m, y))
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a date; write it as YYYY-MM-DD, e.g. 2024-06-30"), text);
      return FALSE;
    }
  g_date_set_dmy (out_date, d, m, y);
  return TRUE;
}

static char *
exif_day (const GDate *date)
{
  return g_strdup_printf ("%04u:%02u:%02u", g_date_get_year (date), g_date_get_month (date),
                          g_date_get_day (date));
}

gboolean
sluice_query_set_date_range (SluiceQuery  *query,
                             const char   *since,
                             const char   *until,
                             GError      **error)
{
  GDate a, b;

  g_return_val_if_fail (query != NULL, FALSE);
  if (since != NULL && !parse_iso_date (since, &a, error))
    return FALSE;
  if (until != NULL && !parse_iso_date (until, &b, error))
    return FALSE;
  if (since != NULL && until != NULL && g_date_compare (&a, &b) > 0)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                   _("The date range ends (%s) before it starts (%s)"), until, since);
      return FALSE;
    }
  g_clear_pointer (&query->since, g_free);
  g_clear_pointer (&query->until, g_free);
  if (since != NULL)
    query->since = exif_day (&a);
  if (until != NULL)
    {
      /* "YYYY:MM:DD HH:MM:SS" text sorts as time does: before the next day's midnight */
      g_date_add_days (&b, 1);
      query->until = exif_day (&b);
    }
  return TRUE;
}

void
sluice_query_set_gps (SluiceQuery    *query,
                      SluiceQueryGps  gps)
{
  g_return_if_fail (query != NULL);
  query->gps = gps;
}

void
sluice_query_set_states (SluiceQuery *query,
                         guint        states)
{
  g_return_if_fail (query != NULL);
  query->states = states & 0x1f;
}

void
sluice_query_set_run (SluiceQuery *query,
                      gint64       run_id)
{
  g_return_if_fail (query != NULL);
  query->run_id = MAX (run_id, 0);
}

gboolean
sluice_query_states_from_string (const char  *names,
                                 guint       *out_states,
                                 GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (names, ",", -1);
  guint states = 0;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *name = g_strstrip (parts[i]);
      gboolean found = FALSE;

      if (*name == '\0')
        continue;
      for (SluiceObjectState s = SLUICE_OBJECT_PENDING; s <= SLUICE_OBJECT_FAILED; s++)
        if (g_ascii_strcasecmp (name, sluice_object_state_to_string (s)) == 0)
          {
            states |= SLUICE_QUERY_STATE (s);
            found = TRUE;
          }
      if (!found)
        {
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_INVALID_ARGUMENT,
                       _("Unknown state “%s”; use uploaded, skipped, failed, pending or "
                         "uploading"), name);
          return FALSE;
        }
    }
  *out_states = states;
  return TRUE;
}

char *
sluice_catalog_camera_name (const char *make,
                            const char *model)
{
  /* the same rule as the metadata.camera column (sluice-catalog.c, schema 4) */
  if (model == NULL)
    return g_strdup (make);
  if (make == NULL || strncmp (model, make, strlen (make)) == 0)
    return g_strdup (model);
  return g_strconcat (make, " ", model, NULL);
}

/* ---- cursors and rows ------------------------------------------------------------------------- */

static void
cursor_clear (SluiceQueryCursor *cursor)
{
  if (cursor->value.kind == SLUICE_VALUE_TEXT)
    g_free ((char *) cursor->value.s);
  memset (cursor, 0, sizeof *cursor);
}

static void
cursor_copy_into (SluiceQueryCursor       *dest,
                  const SluiceQueryCursor *src)
{
  *dest = *src;
  if (src->value.kind == SLUICE_VALUE_TEXT)
    dest->value.s = g_strdup (src->value.s);
}

SluiceQueryCursor *
sluice_query_cursor_copy (const SluiceQueryCursor *cursor)
{
  SluiceQueryCursor *copy;

  g_return_val_if_fail (cursor != NULL, NULL);
  copy = g_new0 (SluiceQueryCursor, 1);
  cursor_copy_into (copy, cursor);
  return copy;
}

void
sluice_query_cursor_free (SluiceQueryCursor *cursor)
{
  if (cursor == NULL)
    return;
  cursor_clear (cursor);
  g_free (cursor);
}

/* The cursor columns are the last four of every statement built here. */
static void
cursor_from_stmt (SluiceQueryCursor *cursor,
                  SluiceQuerySort    sort,
                  sqlite3_stmt      *s)
{
  int n = sqlite3_column_count (s);

  cursor_clear (cursor);
  cursor->sort = sort;
  switch (sqlite3_column_type (s, n - 4))
    {
    case SQLITE_NULL:
      cursor->value.kind = SLUICE_VALUE_NULL;
      break;
    case SQLITE_INTEGER:
      cursor->value.kind = SLUICE_VALUE_INT;
      cursor->value.i = sqlite3_column_int64 (s, n - 4);
      break;
    case SQLITE_FLOAT:
      cursor->value.kind = SLUICE_VALUE_REAL;
      cursor->value.d = sqlite3_column_double (s, n - 4);
      break;
    default:
      cursor->value.kind = SLUICE_VALUE_TEXT;
      cursor->value.s = g_strdup ((const char *) sqlite3_column_text (s, n - 4));
      break;
    }
  cursor->aux = sqlite3_column_int64 (s, n - 3);
  cursor->file_id = sqlite3_column_int64 (s, n - 2);
  cursor->object_id = sqlite3_column_int64 (s, n - 1);
}

void
sluice_query_row_free (SluiceQueryRow *row)
{
  if (row == NULL)
    return;
  cursor_clear (&row->cursor);
  g_free (row->relpath);
  g_free (row->camera);
  g_free (row->lens);
  g_free (row->datetime_original);
  g_free (row->key);
  g_free (row);
}

static char *
column_dup (sqlite3_stmt *s,
            int           i)
{
  const unsigned char *text = sqlite3_column_text (s, i);

  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

static double
column_double_or_nan (sqlite3_stmt *s,
                      int           i)
{
  return sqlite3_column_type (s, i) == SQLITE_NULL ? NAN : sqlite3_column_double (s, i);
}

static gint64
column_int_or (sqlite3_stmt *s,
               int           i,
               gint64        absent)
{
  return sqlite3_column_type (s, i) == SQLITE_NULL ? absent : sqlite3_column_int64 (s, i);
}

static SluiceQueryRow *
row_from_stmt (SluiceQuerySort  sort,
               sqlite3_stmt    *s)
{
  SluiceQueryRow *row = g_new0 (SluiceQueryRow, 1);

  row->file_id = sqlite3_column_int64 (s, 0);
  row->object_id = sqlite3_column_int64 (s, 1);
  row->relpath = column_dup (s, 2);
  row->camera = column_dup (s, 3);
  row->lens = column_dup (s, 4);
  row->datetime_original = column_dup (s, 5);
  if (sqlite3_column_type (s, 7) != SQLITE_NULL && sqlite3_column_int64 (s, 7) > 0)
    {
      row->exposure_num = sqlite3_column_int64 (s, 6);
      row->exposure_den = sqlite3_column_int64 (s, 7);
    }
  row->f_number = column_double_or_nan (s, 8);
  row->iso = column_int_or (s, 9, -1);
  row->focal_length = column_double_or_nan (s, 10);
  row->size = sqlite3_column_int64 (s, 11);
  row->state = sqlite3_column_int (s, 12);
  row->key = column_dup (s, 13);
  row->has_gps = sqlite3_column_int (s, 14) != 0;
  row->has_thumbnail = sqlite3_column_int (s, 15) != 0;
  cursor_from_stmt (&row->cursor, sort, s);
  return row;
}

/* ---- building statements ---------------------------------------------------------------------- */

static void
append_states (GString           *sql,
               const SluiceQuery *q)
{
  gboolean first = TRUE;

  for (int s = SLUICE_OBJECT_PENDING; s <= SLUICE_OBJECT_FAILED; s++)
    if (q->states & SLUICE_QUERY_STATE (s))
      {
        g_string_append_printf (sql, "%s%d", first ? "" : ", ", s);
        first = FALSE;
      }
}

/* ---- search ----------------------------------------------------------------------------------- */

/* A word as the full-text index keeps it (unicode61, remove_diacritics 2): without accents,
 * case-folded. */
static char *
fold_word (const char *word)
{
  g_autofree char *nfd = g_utf8_normalize (word, -1, G_NORMALIZE_NFD);
  g_autoptr(GString) bare = g_string_new (NULL);

  for (const char *p = nfd; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (!g_unichar_ismark (c))
        g_string_append_unichar (bare, c);
    }
  return g_utf8_strdown (bare->str, -1);   /* unicode61 lowers case; it does not casefold */
}

static GPtrArray *
folded_words (const char *text)
{
  g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *folded = g_ptr_array_new_with_free_func (g_free);

  split_words (text, text + strlen (text), words);
  for (guint i = 0; i < words->len; i++)
    g_ptr_array_add (folded, fold_word (g_ptr_array_index (words, i)));
  return folded;
}

/*
 * Whether a camera or lens name matches one search term (a make_terms () expression), with
 * the full-text index's rules: "word"* is a word of @value starting with it, "w1 w2" the words
 * in sequence. Camera and lens are searched this way, through their few distinct values,
 * instead of being in the full-text index: that index would be written for every file.
 */
static gboolean
term_matches_value (const char *term,
                    const char *value)
{
  gsize len = strlen (term);
  gboolean prefix = len > 0 && term[len - 1] == '*';
  g_autofree char *inner = g_strndup (term + 1, len - (prefix ? 3 : 2));
  g_autoptr(GPtrArray) want = folded_words (inner);
  g_autoptr(GPtrArray) have = folded_words (value);

  if (want->len == 0)
    return FALSE;
  for (guint i = 0; i + want->len <= have->len; i++)
    {
      guint k = 0;

      for (; k < want->len; k++)
        {
          const char *w = g_ptr_array_index (want, k), *h = g_ptr_array_index (have, i + k);
          if (prefix ? !g_str_has_prefix (h, w) : !g_str_equal (h, w))
            break;
        }
      if (k == want->len)
        return TRUE;
    }
  return FALSE;
}

/* sluice_search_matches (TERM, TEXT): term_matches_value () in SQL, for the paths not yet in the
 * full-text index (search_pending, schema 5). */
static void
search_matches_func (sqlite3_context  *context,
                     int               argc,
                     sqlite3_value   **argv)
{
  const char *term = (const char *) sqlite3_value_text (argv[0]);
  const char *text = (const char *) sqlite3_value_text (argv[1]);

  sqlite3_result_int (context, term != NULL && text != NULL && strlen (term) >= 2 &&
                               term_matches_value (term, text));
}

int
_sluice_catalog_register_functions (sqlite3 *db)
{
  return sqlite3_create_function (db, "sluice_search_matches", 2,
                                  SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                  search_matches_func, NULL, NULL);
}

/* The file ids whose path has search term ?N: the full-text index, and the few new files not in
 * it yet. CROSS JOIN keeps search_pending the outer loop: without statistics the planner may
 * otherwise walk all of files and probe the (empty) pending table for each, 4 s at 1 M rows. */
#define PATH_TERM_SQL \
  "SELECT rowid FROM catalog_search WHERE catalog_search MATCH ?%u UNION ALL " \
  "SELECT p.file_id FROM search_pending p CROSS JOIN files f ON f.id = p.file_id " \
  "WHERE sluice_search_matches (?%u, f.relpath)"
/* The same when nothing is pending (browsing after an ingest): a plain full-text lookup, which
 * the planner handles better than the compound (search lines of the benchmark's matrix 10–40 %
 * faster). */
#define PATH_TERM_INDEXED_SQL \
  "SELECT rowid FROM catalog_search WHERE catalog_search MATCH ?%u"

/* Whether paths wait for the full-text index (only for moments, while a writer is at work). */
static gboolean
search_has_pending (SluiceCatalog *catalog)
{
  sqlite3_stmt *s = NULL;
  gboolean pending = TRUE;   /* when in doubt, the query that finds them too */

  if (sqlite3_prepare_v2 (_sluice_catalog_get_db (catalog),
                          "SELECT EXISTS (SELECT 1 FROM search_pending)", -1, &s,
                          NULL) == SQLITE_OK && sqlite3_step (s) == SQLITE_ROW)
    pending = sqlite3_column_int (s, 0) != 0;
  sqlite3_finalize (s);
  return pending;
}

static char *
path_term_sql (gboolean pending,
               guint    param)
{
  return pending ? g_strdup_printf (PATH_TERM_SQL, param, param)
                 : g_strdup_printf (PATH_TERM_INDEXED_SQL, param);
}

/* "'a', 'b'" of the values matching @term, or NULL when none does. */
static char *
matching_values_sql (GPtrArray  *values,
                     const char *term)
{
  GString *list = NULL;

  for (guint i = 0; i < values->len; i++)
    if (term_matches_value (term, g_ptr_array_index (values, i)))
      {
        char *quoted = sqlite3_mprintf ("%Q", (const char *) g_ptr_array_index (values, i));

        if (list == NULL)
          list = g_string_new (NULL);
        else
          g_string_append (list, ", ");
        g_string_append (list, quoted);
        sqlite3_free (quoted);
      }
  return list != NULL ? g_string_free (list, FALSE) : NULL;
}

static gboolean
path_has_term (SluiceCatalog *catalog,
               const char    *term,
               gboolean       pending,
               gboolean      *out_found,
               GError       **error)
{
  g_autofree char *term_sql = path_term_sql (pending, 1);
  g_autofree char *sql = g_strdup_printf ("SELECT 1 FROM (%s) LIMIT 1", term_sql);
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2 (_sluice_catalog_get_db (catalog), sql, -1, &s, NULL);

  if (rc != SQLITE_OK)
    return _sluice_catalog_set_error (catalog, error, rc, "search");
  sqlite3_bind_text (s, 1, term, -1, SQLITE_STATIC);
  rc = sqlite3_step (s);
  sqlite3_finalize (s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return _sluice_catalog_set_error (catalog, error, rc, "search");
  *out_found = rc == SQLITE_ROW;
  return TRUE;
}

/*
 * The search as SQL, " AND …" per term (a term must match the path, the camera or the lens),
 * made against the catalog as it is now: the cameras and lenses each term matches become
 * IN lists of values (indexed columns). A term found in paths only stays a full-text lookup;
 * one found in camera or lens names only is just the IN lists, which the metadata indexes
 * serve; one found in both is the union of the file ids. @file_id is the SQL of the row's
 * file id. "" when the query has no search.
 */
static char *
search_sql (SluiceCatalog     *catalog,
            const SluiceQuery *q,
            GError           **error)
{
  g_autoptr(GPtrArray) cameras = NULL;
  g_autoptr(GPtrArray) lenses = NULL;
  g_autoptr(GString) sql = g_string_new (NULL);
  gboolean pending;

  if (q->terms == NULL)
    return g_strdup ("");
  pending = search_has_pending (catalog);
  cameras = sluice_catalog_list_cameras (catalog, error);
  if (cameras == NULL)
    return NULL;
  lenses = sluice_catalog_list_lenses (catalog, error);
  if (lenses == NULL)
    return NULL;
  for (guint i = 0; q->terms[i] != NULL; i++)
    {
      g_autofree char *cams = matching_values_sql (cameras, q->terms[i]);
      g_autofree char *lens = matching_values_sql (lenses, q->terms[i]);
      g_autofree char *fts = path_term_sql (pending, P_TERMS + i);
      gboolean in_paths = TRUE;

      if ((cams != NULL || lens != NULL) &&
          !path_has_term (catalog, q->terms[i], pending, &in_paths, error))
        return NULL;
      if (cams == NULL && lens == NULL)
        g_string_append_printf (sql, " AND %%1$s IN (%s)", fts);
      else if (!in_paths)
        g_string_append_printf (sql, " AND (%s%s%s%s%s%s%s)",
                                cams ? "m.camera IN (" : "", cams ? cams : "", cams ? ")" : "",
                                cams && lens ? " OR " : "",
                                lens ? "m.lens_model IN (" : "", lens ? lens : "",
                                lens ? ")" : "");
      else
        g_string_append_printf (sql, " AND %%1$s IN (%s%s%s%s%s%s%s)", fts,
                                cams ? " UNION SELECT file_id FROM metadata WHERE camera IN (" : "",
                                cams ? cams : "", cams ? ")" : "",
                                lens ? " UNION SELECT file_id FROM metadata WHERE lens_model IN ("
                                     : "",
                                lens ? lens : "", lens ? ")" : "");
    }
  return g_string_free (g_steal_pointer (&sql), FALSE);
}

/* @search: from search_sql (), "%1$s" standing for the file id; @file_id: its SQL here. */
static void
append_filters (GString           *sql,
                const SluiceQuery *q,
                gboolean           objects_inner,
                const char        *search,
                Plan               plan,
                const char        *file_id)
{
  gboolean walk = plan == PLAN_WALK;

  if (search != NULL && *search != '\0')
    {
      g_autoptr(GString) s = g_string_new (search);
      if (walk || plan == PLAN_WALK_LISTS)
        {
          if (walk)
            g_string_replace (s, "%1$s IN (SELECT rowid", "+%1$s IN (SELECT rowid", 0);
          g_string_replace (s, "m.camera IN", "+m.camera IN", 0);
          g_string_replace (s, "m.lens_model IN", "+m.lens_model IN", 0);
        }
      g_string_replace (s, "%1$s", file_id, 0);
      g_string_append (sql, s->str);
    }
  if (q->camera != NULL)
    g_string_append (sql, walk ? " AND +m.camera = ?11" : " AND m.camera = ?11");
  if (q->lens != NULL)
    g_string_append (sql, walk ? " AND +m.lens_model = ?12" : " AND m.lens_model = ?12");
  if (q->since != NULL)
    g_string_append (sql, walk ? " AND +m.datetime_original >= ?13"
                               : " AND m.datetime_original >= ?13");
  if (q->until != NULL)
    g_string_append (sql, walk ? " AND +m.datetime_original < ?14"
                               : " AND m.datetime_original < ?14");
  if (q->gps == SLUICE_QUERY_GPS_WITH)
    g_string_append (sql, walk ? " AND +m.gps_latitude IS NOT NULL"
                               : " AND m.gps_latitude IS NOT NULL");
  else if (q->gps == SLUICE_QUERY_GPS_WITHOUT)
    g_string_append (sql, " AND m.gps_latitude IS NULL");
  if (q->states != 0)
    {
      /* only a file without object can be pending or failed without an object state: for
       * other states the object's column (and its index) says it all */
      gboolean objectless = (q->states & (SLUICE_QUERY_STATE (SLUICE_OBJECT_PENDING) |
                                          SLUICE_QUERY_STATE (SLUICE_OBJECT_FAILED))) != 0;

      /* through objects_by_state only when driving from it (objects inner); IFNULL keeps the
       * planner from making the LEFT JOIN inner and driving from objects anyway */
      g_string_append (sql, objects_inner ? (walk ? " AND +o.state IN (" : " AND o.state IN (")
                            : objectless ? " AND " STATE_SQL " IN ("
                            : " AND IFNULL (o.state, -1) IN (");
      append_states (sql, q);
      g_string_append_c (sql, ')');
    }
  if (q->run_id > 0)
    g_string_append (sql, objects_inner ? " AND o.run_id = ?15"
                                        : " AND IFNULL (o.run_id, f.last_run_id) = ?15");
}

/* Whether the filters only match rows with a metadata row: then it is an inner join, which
 * lets the planner drive from a metadata index (it does not always see that itself). */
static gboolean
needs_metadata (const SluiceQuery *q,
                const char        *search)
{
  return q->camera != NULL || q->lens != NULL || q->since != NULL || q->until != NULL ||
         q->gps == SLUICE_QUERY_GPS_WITH ||
         (search != NULL && (strstr (search, "m.camera IN") != NULL ||
                             strstr (search, "m.lens_model IN") != NULL));
}

/* (file id, object id) after the cursor's, in the query's direction. */
static void
append_ids_after (GString    *sql,
                  const char *file_id,
                  gboolean    desc)
{
  const char *ge = desc ? "<=" : ">=";
  const char *gt = desc ? "<" : ">";

  g_string_append_printf (sql, " AND %s %s ?4 AND (%s %s ?4 OR IFNULL (o.id, 0) %s ?5)",
                          file_id, ge, file_id, gt, gt);
}

typedef enum {
  SOURCE_DEFAULT,
  SOURCE_STATE_OBJECTS,   /* PLAN_STATES: the objects, from objects_by_state */
  SOURCE_OBJECTLESS,      /* PLAN_STATES: the files without object */
} Source;

static char *
build_sql (const SluiceQuery *q,
           const char        *select,
           gboolean           export_joins,
           Part               part,
           gint64             new_after,
           const char        *search,
           Plan               plan,
           Source             source)
{
  const SortInfo *info = &sort_info[q->sort];
  gboolean nulls = part == PART_NULLS || part == PART_NULLS_AFTER;
  gboolean objects_inner = (info->drive == DRIVE_OBJECTS && !nulls) ||
                           source == SOURCE_STATE_OBJECTS;
  const char *dir = q->descending ? " DESC" : "";
  const char *file_id;
  const char *left = needs_metadata (q, search) ? "" : "LEFT ";
  /* from the files without object, metadata must not drive (CROSS JOIN keeps the order) */
  const char *cross_or_left = *left == '\0' ? "CROSS JOIN" : "LEFT JOIN";
  GString *sql = g_string_new (select);

  /* the cursor columns, always last: value, source id, file id, object id */
  g_string_append_printf (sql, ", %s AS c_value, f.source_id AS c_aux, f.id AS c_file, "
                               "IFNULL (o.id, 0) AS c_obj", info->value);

  /* files without metadata (not probed yet, or the probe failed) have no metadata row: the
   * metadata indexes drive only the parts with a value, every other part joins it LEFT */
  if (source == SOURCE_STATE_OBJECTS)
    g_string_append_printf (sql, " FROM objects o INDEXED BY objects_by_state "
                                 "%s metadata m ON m.file_id = o.file_id "
                                 "CROSS JOIN files f ON f.id = o.file_id", cross_or_left);
  else if (source == SOURCE_OBJECTLESS)
    g_string_append_printf (sql, " FROM files_without_object w CROSS JOIN files f "
                                 "ON f.id = w.file_id "
                                 "%s metadata m ON m.file_id = f.id "
                                 "LEFT JOIN objects o ON o.file_id = f.id", cross_or_left);
  else if (objects_inner)
    g_string_append_printf (sql, " FROM objects o JOIN files f ON f.id = o.file_id "
                                 "%sJOIN metadata m ON m.file_id = f.id", left);
  else if (info->drive == DRIVE_OBJECTS)
    g_string_append_printf (sql, " FROM files_without_object w CROSS JOIN files f "
                                 "ON f.id = w.file_id "
                                 "%s metadata m ON m.file_id = f.id "
                                 "LEFT JOIN objects o ON o.file_id = f.id", cross_or_left);
  else if (info->drive == DRIVE_METADATA && !nulls)
    g_string_append (sql, " FROM metadata m JOIN files f ON f.id = m.file_id "
                          "LEFT JOIN objects o ON o.file_id = f.id");
  else
    g_string_append_printf (sql, " FROM files f %sJOIN metadata m ON m.file_id = f.id "
                                 "LEFT JOIN objects o ON o.file_id = f.id", left);
  if (export_joins)
    g_string_append (sql, EXPORT_JOINS);
  g_string_append (sql, " WHERE 1");
  append_filters (sql, q, objects_inner, search, plan, "f.id");
  if (new_after > 0)
    g_string_append (sql, " AND f.id > ?16");

  file_id = info->file_id;
  if (info->drive == DRIVE_INGEST)
    {
      if (part == PART_TIES)
        append_ids_after (sql, "f.id", q->descending);
      g_string_append_printf (sql, " ORDER BY f.id%s, o.id%s", dir, dir);
    }
  else if (part == PART_NULLS || part == PART_NULLS_AFTER)
    {
      if (info->drive == DRIVE_OBJECTS)
        {
          g_string_append (sql, " AND o.id IS NULL");
          file_id = "f.id";
        }
      else
        {
          g_string_append_printf (sql, " AND %s IS NULL", info->value);
          file_id = "f.id";
        }
      if (part == PART_NULLS_AFTER)
        append_ids_after (sql, file_id, q->descending);
      g_string_append_printf (sql, " ORDER BY %s%s, o.id%s", file_id, dir, dir);
    }
  else
    {
      gboolean name = q->sort == SLUICE_QUERY_SORT_NAME;

      if (part == PART_ALL && info->nullable && info->drive != DRIVE_OBJECTS)
        g_string_append_printf (sql, " AND %s IS NOT NULL", info->value);
      else if (part == PART_TIES)
        {
          g_string_append_printf (sql, " AND %s = ?2", info->value);
          if (name)
            g_string_append (sql, " AND f.source_id = ?3");
          append_ids_after (sql, file_id, q->descending);
        }
      else if (part == PART_BEYOND && name)
        g_string_append_printf (sql, " AND (f.source_id, f.relpath) %s (?3, ?2)",
                                q->descending ? "<" : ">");
      else if (part == PART_BEYOND)
        g_string_append_printf (sql, " AND %s %s ?2", info->value, q->descending ? "<" : ">");

      g_string_append (sql, " ORDER BY ");
      if (name)
        g_string_append_printf (sql, "f.source_id%s, ", dir);
      g_string_append_printf (sql, "%s%s, %s%s, o.id%s", info->value, dir, file_id, dir, dir);
    }
  g_string_append (sql, " LIMIT ?1");
  return g_string_free (sql, FALSE);
}

static void
bind_value (sqlite3_stmt      *s,
            int                i,
            const SluiceValue *v)
{
  switch (v->kind)
    {
    case SLUICE_VALUE_INT:
    case SLUICE_VALUE_BOOL:
      sqlite3_bind_int64 (s, i, v->i);
      break;
    case SLUICE_VALUE_REAL:
      sqlite3_bind_double (s, i, v->d);
      break;
    case SLUICE_VALUE_TEXT:
      sqlite3_bind_text (s, i, v->s, -1, SQLITE_TRANSIENT);
      break;
    case SLUICE_VALUE_NULL:
    default:
      sqlite3_bind_null (s, i);
      break;
    }
}

/* Parameters a statement does not use are out of range for it: sqlite3_bind_* then fails
 * harmlessly (SQLITE_RANGE), so every statement is bound the same way. */
static void
bind_all (sqlite3_stmt            *s,
          const SluiceQuery       *q,
          const SluiceQueryCursor *after,
          gint64                   limit,
          gint64                   new_after)
{
  sqlite3_bind_int64 (s, P_LIMIT, limit);
  if (after != NULL)
    {
      bind_value (s, P_VALUE, &after->value);
      sqlite3_bind_int64 (s, P_AUX, after->aux);
      sqlite3_bind_int64 (s, P_FILE, after->file_id);
      sqlite3_bind_int64 (s, P_OBJECT, after->object_id);
    }
  for (guint i = 0; q->terms != NULL && q->terms[i] != NULL; i++)
    sqlite3_bind_text (s, P_TERMS + i, q->terms[i], -1, SQLITE_STATIC);
  if (q->camera != NULL)
    sqlite3_bind_text (s, P_CAMERA, q->camera, -1, SQLITE_STATIC);
  if (q->lens != NULL)
    sqlite3_bind_text (s, P_LENS, q->lens, -1, SQLITE_STATIC);
  if (q->since != NULL)
    sqlite3_bind_text (s, P_SINCE, q->since, -1, SQLITE_STATIC);
  if (q->until != NULL)
    sqlite3_bind_text (s, P_UNTIL, q->until, -1, SQLITE_STATIC);
  if (q->run_id > 0)
    sqlite3_bind_int64 (s, P_RUN, q->run_id);
  if (new_after > 0)
    sqlite3_bind_int64 (s, P_NEW_AFTER, new_after);
}

/* Estimates stop counting here: enough to tell a few matches from many, at ~1 ms a filter. */
#define ESTIMATE_CAP 20000

/* min (rows of @from_where, ESTIMATE_CAP + 1), from the filter's own index. */
static gboolean
estimate (SluiceCatalog     *catalog,
          const SluiceQuery *q,
          const char        *sql,
          double            *out_rows,
          GError           **error)
{
  g_autofree char *capped = g_strdup_printf ("SELECT count(*) FROM (SELECT 1 %s LIMIT %d)", sql,
                                             ESTIMATE_CAP + 1);
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2 (_sluice_catalog_get_db (catalog), capped, -1, &s, NULL);

  if (rc != SQLITE_OK)
    return _sluice_catalog_set_error (catalog, error, rc, "estimate");
  bind_all (s, q, NULL, -1, 0);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    *out_rows = sqlite3_column_int64 (s, 0);
  sqlite3_finalize (s);
  if (rc != SQLITE_ROW)
    return _sluice_catalog_set_error (catalog, error, rc, "estimate");
  return TRUE;
}

/*
 * Which index drives a page (Plan). Each filter with an index is counted alone from it, up to
 * ESTIMATE_CAP (the states from browse_counts); taking them as independent, walking the sort's
 * index visits about limit / (product of their fractions) rows, driving from the smallest
 * filter's index reads its rows and sorts them (measured about as costly per row as a walk).
 * The cheaper wins. The search takes no part (its words may match many paths; counting them
 * costs what the search does): its full-text lookup is left to the planner, its camera and
 * lens lists are walked like the filters.
 */
static const char *forced_plan;   /* _sluice_catalog_query_force_plan () */

/* Exposed for tests: every later query takes @plan ("walk", "index", "states"; NULL: the one
 * choose_plan () picks), so that the tests can check each gives the same rows. Not reachable
 * from the CLI or the app (once an environment variable, read in release builds too). */
void
_sluice_catalog_query_force_plan (const char *plan)
{
  g_atomic_pointer_set (&forced_plan, plan);
}

static gboolean
choose_plan (SluiceCatalog     *catalog,
             const SluiceQuery *q,
             const char        *search,
             gint64             limit,
             Plan              *out_plan,
             gboolean          *out_states_smallest,
             GError           **error)
{
  double total = 0, fraction = 1, smallest = G_MAXDOUBLE, rows = 0;
  gboolean states_smallest = FALSE;
  gboolean by_path = q->sort == SLUICE_QUERY_SORT_INGEST || q->sort == SLUICE_QUERY_SORT_NAME ||
                     q->sort == SLUICE_QUERY_SORT_KEY;
  gboolean by_gear = q->sort == SLUICE_QUERY_SORT_CAMERA || q->sort == SLUICE_QUERY_SORT_LENS;
  gboolean by_date = q->sort == SLUICE_QUERY_SORT_DATE_TAKEN;
  gboolean gear_search = strstr (search, "m.camera IN") != NULL ||
                         strstr (search, "m.lens_model IN") != NULL ||
                         strstr (search, "FROM metadata WHERE") != NULL;
  gboolean never_walk = FALSE, same_column = FALSE;
  /* A filter on the sort's own column: its index gives the matches in order, nothing to walk.
   * Correlated: a lens belongs to a camera, and photos are filed and ingested by date (a
   * folder per event), so walking the sort's index finds such a filter's rows in one far
   * stretch, not spread out: a walk is not worth trying (gear), or less likely to pay (date
   * by path, weighted ten times) */
  struct { gboolean on; const char *sql; int correlated; } filters[] = {
    { q->camera != NULL, "FROM metadata WHERE camera = ?11", by_gear ? 2 : 0 },
    { q->lens != NULL, "FROM metadata WHERE lens_model = ?12", by_gear ? 2 : 0 },
    { q->since != NULL && q->until != NULL,
      "FROM metadata WHERE datetime_original >= ?13 AND datetime_original < ?14",
      by_date ? 2 : by_path },
    { q->since != NULL && q->until == NULL, "FROM metadata WHERE datetime_original >= ?13",
      by_date ? 2 : by_path },
    { q->since == NULL && q->until != NULL, "FROM metadata WHERE datetime_original < ?14",
      by_date ? 2 : by_path },
    { q->gps == SLUICE_QUERY_GPS_WITH, "FROM metadata WHERE gps_latitude IS NOT NULL", 0 },
  };
  guint n = 0;
  sqlite3_stmt *s = NULL;
  const char *force;
  g_autoptr(GString) sql = g_string_new ("SELECT (SELECT IFNULL (sum (n), 0) FROM browse_counts) "
                                         "+ (SELECT count(*) FROM files_without_object), ");
  int rc;

  *out_plan = PLAN_WALK;
  if (out_states_smallest != NULL)
    *out_states_smallest = FALSE;
  /* tests run every query under every plan: each must give the same rows */
  force = g_atomic_pointer_get (&forced_plan);
  if (force != NULL)
    {
      *out_plan = g_str_equal (force, "walk") ? PLAN_WALK
                  : g_str_equal (force, "states") && q->states != 0 ? PLAN_STATES
                  : PLAN_INDEX;
      return TRUE;
    }
  /* the total, and the objects in the states (+ the files without object, which may be) */
  if (q->states != 0)
    {
      g_string_append (sql, "(SELECT IFNULL (sum (n), 0) FROM browse_counts WHERE state IN (");
      append_states (sql, q);
      g_string_append (sql, ")) + (SELECT count(*) FROM files_without_object)");
    }
  else
    g_string_append (sql, "0");
  rc = sqlite3_prepare_v2 (_sluice_catalog_get_db (catalog), sql->str, -1, &s, NULL);
  if (rc != SQLITE_OK)
    return _sluice_catalog_set_error (catalog, error, rc, "counts");
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    {
      total = MAX (sqlite3_column_int64 (s, 0), 1);
      rows = sqlite3_column_int64 (s, 1);
    }
  sqlite3_finalize (s);
  if (rc != SQLITE_ROW)
    return _sluice_catalog_set_error (catalog, error, rc, "counts");
  if (q->states != 0)
    {
      fraction *= rows / total;
      smallest = rows;
      states_smallest = TRUE;
      n++;
    }
  for (guint i = 0; i < G_N_ELEMENTS (filters); i++)
    {
      if (!filters[i].on)
        continue;
      if (!estimate (catalog, q, filters[i].sql, &rows, error))
        return FALSE;
      fraction *= (filters[i].correlated == 1 ? 0.1 : 1) * rows / total;
      never_walk |= filters[i].correlated == 2;
      if (rows < smallest)
        {
          smallest = rows;
          states_smallest = FALSE;
        }
      n++;
    }
  /* the search's words found in paths only: each a full-text lookup, counted the same way
   * (a word also found in camera or lens names is a union that is not estimated) */
  for (guint i = 0; !gear_search && q->terms != NULL && q->terms[i] != NULL; i++)
    {
      g_autofree char *fts = g_strdup_printf ("FROM catalog_search WHERE catalog_search "
                                              "MATCH ?%u", P_TERMS + i);

      if (!estimate (catalog, q, fts, &rows, error))
        return FALSE;
      fraction *= rows / total;
      if (rows < smallest)
        {
          smallest = rows;
          states_smallest = FALSE;
        }
      n++;
    }
  same_column = (by_gear && (q->camera != NULL || q->lens != NULL || gear_search)) ||
                (by_date && (q->since != NULL || q->until != NULL));
  never_walk |= by_gear && gear_search;
  if (out_states_smallest != NULL)
    *out_states_smallest = states_smallest;
  if (never_walk)
    *out_plan = !same_column && states_smallest ? PLAN_STATES : PLAN_INDEX;
  else if (n == 0)
    *out_plan = PLAN_WALK_LISTS;
  else if (smallest < (limit < 0 ? total : (double) limit) / MAX (fraction, 1e-9))
    *out_plan = states_smallest ? PLAN_STATES : PLAN_INDEX;
  g_debug ("plan %d: smallest %.0f, fraction %.6f", *out_plan, smallest, fraction);
  return TRUE;
}

/* One part of a page (build_sql ()), or for PLAN_STATES the union of its objects from
 * objects_by_state and its files without object, each sorted, merged by the cursor columns. */
static char *
build_page_sql (const SluiceQuery *q,
                const char        *select,
                gboolean           export_joins,
                Part               part,
                gint64             new_after,
                const char        *search,
                Plan               plan)
{
  const char *dir = q->descending ? " DESC" : "";
  g_autofree char *objects = NULL;
  g_autofree char *objectless = NULL;

  if (plan != PLAN_STATES)
    return build_sql (q, select, export_joins, part, new_after, search, plan, SOURCE_DEFAULT);
  /* sorted by an object's column: its parts are the objects, then the files without one */
  if (sort_info[q->sort].drive == DRIVE_OBJECTS)
    return build_sql (q, select, export_joins, part, new_after, search, plan,
                      part == PART_NULLS || part == PART_NULLS_AFTER ? SOURCE_DEFAULT
                                                                     : SOURCE_STATE_OBJECTS);
  objects = build_sql (q, select, export_joins, part, new_after, search, plan,
                       SOURCE_STATE_OBJECTS);
  objectless = build_sql (q, select, export_joins, part, new_after, search, plan,
                          SOURCE_OBJECTLESS);
  return g_strdup_printf ("SELECT * FROM (SELECT * FROM (%s) UNION ALL SELECT * FROM (%s)) "
                          "ORDER BY %s%s%sc_value%s, c_file%s, c_obj%s LIMIT ?1", objects,
                          objectless, q->sort == SLUICE_QUERY_SORT_NAME ? "c_aux" : "",
                          q->sort == SLUICE_QUERY_SORT_NAME ? dir : "",
                          q->sort == SLUICE_QUERY_SORT_NAME ? ", " : "", dir, dir, dir);
}

/* Which parts, in order, follow @after. */
static guint
parts_after (const SluiceQuery       *q,
             const SluiceQueryCursor *after,
             Part                     parts[3])
{
  const SortInfo *info = &sort_info[q->sort];
  guint n = 0;

  if (after != NULL && after->sort != q->sort)
    after = NULL;   /* a cursor of another order means nothing here: start over */
  if (info->drive == DRIVE_INGEST)
    {
      parts[n++] = after != NULL ? PART_TIES : PART_ALL;
      return n;
    }
  if (after == NULL)
    parts[n++] = PART_ALL;
  else if (after->value.kind != SLUICE_VALUE_NULL)
    {
      parts[n++] = PART_TIES;
      parts[n++] = PART_BEYOND;
    }
  if (after != NULL && after->value.kind == SLUICE_VALUE_NULL)
    parts[n++] = PART_NULLS_AFTER;
  else if (info->nullable)
    parts[n++] = PART_NULLS;
  return n;
}

typedef gboolean (*RowFunc) (sqlite3_stmt *s,
                             gpointer      user_data,
                             GError      **error);

/* Runs the parts after @after, up to @limit rows in all (-1: no limit), calling @func for each
 * row with the statement on it. */
static gboolean
run_query (SluiceCatalog           *catalog,
           const SluiceQuery       *q,
           const char              *select,
           gboolean                 export_joins,
           const SluiceQueryCursor *after,
           gint64                   limit,
           gint64                   new_after,
           RowFunc                  func,
           gpointer                 user_data,
           guint64                 *out_rows,
           GCancellable            *cancellable,
           GError                 **error)
{
  sqlite3 *db = _sluice_catalog_get_db (catalog);
  Part parts[3];
  guint n_parts = parts_after (q, after, parts);
  guint64 rows = 0;
  g_autofree char *search = search_sql (catalog, q, error);
  Plan plan = PLAN_INDEX;

  if (search == NULL || !choose_plan (catalog, q, search, limit, &plan, NULL, error))
    return FALSE;
  if (after != NULL && after->sort != q->sort)
    after = NULL;
  for (guint i = 0; i < n_parts && (limit < 0 || (gint64) rows < limit); i++)
    {
      g_autofree char *sql = build_page_sql (q, select, export_joins, parts[i], new_after,
                                             search, plan);
      sqlite3_stmt *s = NULL;
      int rc;

      g_debug ("page part %d: %s", parts[i], sql);
      rc = sqlite3_prepare_v2 (db, sql, -1, &s, NULL);
      if (rc != SQLITE_OK)
        return _sluice_catalog_set_error (catalog, error, rc, "query");
      bind_all (s, q, after, limit < 0 ? -1 : limit - (gint64) rows, new_after);
      while ((rc = sqlite3_step (s)) == SQLITE_ROW)
        {
          rows++;
          if ((rows & 1023) == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
            {
              sqlite3_finalize (s);
              return FALSE;
            }
          if (!func (s, user_data, error))
            {
              sqlite3_finalize (s);
              return FALSE;
            }
        }
      if (rc != SQLITE_DONE)
        {
          _sluice_catalog_set_error (catalog, error, rc, "query");
          sqlite3_finalize (s);
          return FALSE;
        }
      sqlite3_finalize (s);
    }
  if (out_rows != NULL)
    *out_rows = rows;
  return TRUE;
}

/* ---- count and pages -------------------------------------------------------------------------- */

static gboolean
count_sql (SluiceCatalog *catalog,
           const char    *sql,
           const SluiceQuery *q,
           gint64         new_after,
           guint64       *out_count,
           GError       **error)
{
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2 (_sluice_catalog_get_db (catalog), sql, -1, &s, NULL);

  if (rc != SQLITE_OK)
    return _sluice_catalog_set_error (catalog, error, rc, "count");
  bind_all (s, q, NULL, -1, new_after);
  rc = sqlite3_step (s);
  if (rc != SQLITE_ROW)
    {
      _sluice_catalog_set_error (catalog, error, rc, "count");
      sqlite3_finalize (s);
      return FALSE;
    }
  *out_count = sqlite3_column_int64 (s, 0);
  sqlite3_finalize (s);
  return TRUE;
}

/* The count of the files without any object that match (normally none): read from the kept
 * table with a CROSS JOIN, never by scanning files. */
static void
append_objectless_count (GString           *sql,
                         const SluiceQuery *q,
                         gint64             new_after,
                         const char        *search)
{
  g_string_append_printf (sql, " + (SELECT count(*) FROM files_without_object w "
                               "CROSS JOIN files f ON f.id = w.file_id %s metadata m "
                               "ON m.file_id = f.id LEFT JOIN objects o ON o.file_id = f.id "
                               "WHERE 1", needs_metadata (q, search) ? "CROSS JOIN"
                                                                     : "LEFT JOIN");
  append_filters (sql, q, FALSE, search, PLAN_INDEX, "w.file_id");
  if (new_after > 0)
    g_string_append (sql, " AND w.file_id > ?16");
  g_string_append (sql, ")");
}

/*
 * A row is an object or a file without one, so a count is never a LEFT JOIN over every file.
 * Which way depends on the filters (gps "without" is done by the caller as a difference):
 *
 * - none, or only states and a run: browse_counts (object rows per run and state, kept by
 *   triggers) plus the matching files without object;
 * - only the file's own filters (metadata, search): rows per file are one plus its objects
 *   beyond the first, so the count is a count of the filters' index (metadata, or the search's
 *   file ids), with no objects join, plus files_extra_objects (normally empty) joined the same;
 * - a state or run with other filters: the objects, driven by the filter's index with
 *   objects_by_file (or by objects_by_state when its states are the fewest rows,
 *   @states_first), plus the matching files without object.
 */
static char *
build_count_sql (const SluiceQuery *q,
                 gint64             new_after,
                 const char        *search,
                 gboolean           states_first)
{
  GString *sql = g_string_new ("SELECT ");
  gboolean object_filters = q->states != 0 || q->run_id > 0;
  gboolean file_filters = q->terms != NULL || q->camera != NULL || q->lens != NULL ||
                          q->since != NULL || q->until != NULL || q->gps != SLUICE_QUERY_GPS_ANY;
  gboolean metadata = needs_metadata (q, search);

  g_assert (q->gps != SLUICE_QUERY_GPS_WITHOUT || new_after > 0);
  if (!file_filters && new_after <= 0)
    {
      g_string_append (sql, "(SELECT IFNULL (sum (n), 0) FROM browse_counts WHERE 1");
      if (q->states != 0)
        {
          g_string_append (sql, " AND state IN (");
          append_states (sql, q);
          g_string_append (sql, ")");
        }
      if (q->run_id > 0)
        g_string_append (sql, " AND run_id = ?15");
      g_string_append (sql, ")");
      append_objectless_count (sql, q, new_after, search);
    }
  else if (!object_filters && new_after <= 0)
    {
      /* files: from the metadata index the filters name, or the search's file ids */
      g_string_append_printf (sql, "(SELECT count(*) FROM %s WHERE 1",
                              metadata ? "metadata m" : "files f");
      append_filters (sql, q, TRUE, search, PLAN_INDEX, metadata ? "m.file_id" : "f.id");
      g_string_append_printf (sql, ") + (SELECT IFNULL (sum (x.n), 0) FROM files_extra_objects x"
                                   "%s WHERE 1",
                              metadata ? " CROSS JOIN metadata m ON m.file_id = x.file_id" : "");
      append_filters (sql, q, TRUE, search, PLAN_INDEX, "x.file_id");
      g_string_append (sql, ")");
    }
  else
    {
      /* no files join: an object's filters need only its file id (and the metadata
       * indexes, each covering for its own filter, with objects_by_file) */
      if (states_first)
        g_string_append_printf (sql, "(SELECT count(*) FROM objects o INDEXED BY objects_by_state "
                                     "%s metadata m ON m.file_id = o.file_id WHERE 1",
                                metadata ? "CROSS JOIN" : "LEFT JOIN");
      else
        g_string_append_printf (sql, "(SELECT count(*) FROM objects o %sJOIN metadata m "
                                     "ON m.file_id = o.file_id WHERE 1", metadata ? "" : "LEFT ");
      append_filters (sql, q, TRUE, search, PLAN_INDEX, "o.file_id");
      if (new_after > 0)
        g_string_append (sql, " AND o.file_id > ?16");
      g_string_append (sql, ")");
      append_objectless_count (sql, q, new_after, search);
    }
  return g_string_free (sql, FALSE);
}

static gboolean
count_query (SluiceCatalog     *catalog,
             const SluiceQuery *query,
             gint64             new_after,
             guint64           *out_count,
             GError           **error)
{
  g_autofree char *search = NULL;
  g_autofree char *sql = NULL;
  gboolean states_first = FALSE;

  if (query->gps == SLUICE_QUERY_GPS_WITHOUT && new_after <= 0)
    {
      /* rows without GPS = rows - rows with GPS: both counts have an index (90 % of the rows
       * have none, too many to count one by one) */
      g_autoptr(SluiceQuery) all = sluice_query_copy (query);
      guint64 n_all = 0, n_with = 0;

      sluice_query_set_gps (all, SLUICE_QUERY_GPS_ANY);
      if (!count_query (catalog, all, new_after, &n_all, error))
        return FALSE;
      sluice_query_set_gps (all, SLUICE_QUERY_GPS_WITH);
      if (!count_query (catalog, all, new_after, &n_with, error))
        return FALSE;
      *out_count = n_all - n_with;
      return TRUE;
    }
  search = search_sql (catalog, query, error);
  if (search == NULL)
    return FALSE;
  if (query->states != 0 && (query->camera != NULL || query->lens != NULL ||
                             query->since != NULL || query->until != NULL ||
                             query->gps == SLUICE_QUERY_GPS_WITH))
    {
      Plan plan;

      if (!choose_plan (catalog, query, search, -1, &plan, &states_first, error))
        return FALSE;
    }
  sql = build_count_sql (query, new_after, search, states_first);
  return count_sql (catalog, sql, query, new_after, out_count, error);
}

gboolean
sluice_catalog_query_count (SluiceCatalog     *catalog,
                            const SluiceQuery *query,
                            guint64           *out_count,
                            GError           **error)
{
  g_return_val_if_fail (catalog != NULL && query != NULL && out_count != NULL, FALSE);
  return count_query (catalog, query, 0, out_count, error);
}

typedef struct {
  GPtrArray       *rows;
  SluiceQuerySort  sort;
  guint            skip;
} PageContext;

static gboolean
collect_row (sqlite3_stmt *s,
             gpointer      user_data,
             GError      **error)
{
  PageContext *ctx = user_data;

  if (ctx->skip > 0)
    {
      ctx->skip--;
      return TRUE;
    }
  g_ptr_array_add (ctx->rows, row_from_stmt (ctx->sort, s));
  return TRUE;
}

static GPtrArray *
page_skipping (SluiceCatalog           *catalog,
               const SluiceQuery       *query,
               const SluiceQueryCursor *after,
               guint                    skip,
               guint                    limit,
               gint64                   new_after,
               GError                 **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) sluice_query_row_free);
  PageContext ctx = { rows, query->sort, skip };

  if (limit == 0)
    return g_steal_pointer (&rows);
  if (!run_query (catalog, query, ROW_SELECT, FALSE, after, (gint64) skip + limit, new_after,
                  collect_row, &ctx, NULL, NULL, error))
    return NULL;
  return g_steal_pointer (&rows);
}

GPtrArray *
sluice_catalog_query_page (SluiceCatalog           *catalog,
                           const SluiceQuery       *query,
                           const SluiceQueryCursor *after,
                           guint                    limit,
                           GError                 **error)
{
  g_return_val_if_fail (catalog != NULL && query != NULL, NULL);
  return page_skipping (catalog, query, after, 0, limit, 0, error);
}

/* ---- anchors ---------------------------------------------------------------------------------- */

struct _SluiceQueryAnchors {
  SluiceQuery *query;
  guint        stride;
  guint64      n_rows;
  GArray      *cursors;   /* SluiceQueryCursor: [k] is the cursor of row (k + 1) * stride - 1 */
};

typedef struct {
  SluiceQueryAnchors *anchors;
  guint64             n;
} AnchorContext;

static gboolean
collect_anchor (sqlite3_stmt *s,
                gpointer      user_data,
                GError      **error)
{
  AnchorContext *ctx = user_data;

  ctx->n++;
  if (ctx->n % ctx->anchors->stride == 0)
    {
      SluiceQueryCursor cursor = { 0 };

      cursor_from_stmt (&cursor, ctx->anchors->query->sort, s);
      g_array_append_val (ctx->anchors->cursors, cursor);
    }
  return TRUE;
}

static void
clear_cursor_element (gpointer data)
{
  cursor_clear (data);
}

SluiceQueryAnchors *
sluice_catalog_query_anchors (SluiceCatalog     *catalog,
                              const SluiceQuery *query,
                              guint              stride,
                              GCancellable      *cancellable,
                              GError           **error)
{
  g_autoptr(SluiceQueryAnchors) anchors = g_new0 (SluiceQueryAnchors, 1);
  AnchorContext ctx = { anchors, 0 };

  g_return_val_if_fail (catalog != NULL && query != NULL, NULL);
  anchors->query = sluice_query_copy (query);
  anchors->stride = stride > 0 ? stride : SLUICE_QUERY_ANCHOR_STRIDE;
  anchors->cursors = g_array_new (FALSE, TRUE, sizeof (SluiceQueryCursor));
  g_array_set_clear_func (anchors->cursors, clear_cursor_element);
  /* one pass, in order, reading only the cursor columns (from the covering indexes) */
  if (!run_query (catalog, query, CURSOR_SELECT, FALSE, NULL, -1, 0, collect_anchor, &ctx,
                  &anchors->n_rows, cancellable, error))
    return NULL;
  return g_steal_pointer (&anchors);
}

guint64
sluice_query_anchors_get_n_rows (SluiceQueryAnchors *anchors)
{
  g_return_val_if_fail (anchors != NULL, 0);
  return anchors->n_rows;
}

GPtrArray *
sluice_query_anchors_page (SluiceQueryAnchors *anchors,
                           SluiceCatalog      *catalog,
                           guint64             position,
                           guint               limit,
                           GError            **error)
{
  guint64 k;
  const SluiceQueryCursor *after = NULL;

  g_return_val_if_fail (anchors != NULL && catalog != NULL, NULL);
  k = position / anchors->stride;
  if (k > anchors->cursors->len)
    k = anchors->cursors->len;
  if (k > 0)
    after = &g_array_index (anchors->cursors, SluiceQueryCursor, k - 1);
  return page_skipping (catalog, anchors->query, after, position - k * anchors->stride, limit,
                        0, error);
}

void
sluice_query_anchors_free (SluiceQueryAnchors *anchors)
{
  if (anchors == NULL)
    return;
  sluice_query_free (anchors->query);
  g_clear_pointer (&anchors->cursors, g_array_unref);
  g_free (anchors);
}

/* ---- live ------------------------------------------------------------------------------------- */

gint64
sluice_catalog_max_file_id (SluiceCatalog *catalog,
                            GError       **error)
{
  sqlite3_stmt *s = NULL;
  gint64 id = 0;
  int rc;

  g_return_val_if_fail (catalog != NULL, 0);
  rc = sqlite3_prepare_v2 (_sluice_catalog_get_db (catalog), "SELECT max(id) FROM files", -1,
                           &s, NULL);
  if (rc != SQLITE_OK)
    {
      _sluice_catalog_set_error (catalog, error, rc, "max");
      return 0;
    }
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    id = sqlite3_column_int64 (s, 0);
  else
    _sluice_catalog_set_error (catalog, error, rc, "max");
  sqlite3_finalize (s);
  return id;
}

gboolean
sluice_catalog_query_count_new (SluiceCatalog     *catalog,
                                const SluiceQuery *query,
                                gint64             after_file_id,
                                guint64           *out_count,
                                GError           **error)
{
  g_autofree char *sql = NULL;

  g_return_val_if_fail (catalog != NULL && query != NULL && out_count != NULL, FALSE);
  return count_query (catalog, query, MAX (after_file_id, 0), out_count, error);
}

GPtrArray *
sluice_catalog_query_new_rows (SluiceCatalog     *catalog,
                               const SluiceQuery *query,
                               gint64             after_file_id,
                               guint              limit,
                               GError           **error)
{
  g_autoptr(SluiceQuery) ingest = NULL;
  SluiceQueryCursor after = { 0 };

  g_return_val_if_fail (catalog != NULL && query != NULL, NULL);
  ingest = sluice_query_copy (query);
  ingest->sort = SLUICE_QUERY_SORT_INGEST;
  ingest->descending = FALSE;
  after.sort = SLUICE_QUERY_SORT_INGEST;
  after.file_id = after_file_id;
  after.object_id = G_MAXINT64;
  return page_skipping (catalog, ingest, &after, 0, limit, 0, error);
}

/* ---- detail, thumbnail, menus ----------------------------------------------------------------- */

void
sluice_query_detail_free (SluiceQueryDetail *detail)
{
  if (detail == NULL)
    return;
  g_free (detail->source);
  g_free (detail->relpath);
  g_free (detail->folder);
  g_free (detail->sha256);
  g_free (detail->probe_error);
  g_free (detail->endpoint);
  g_free (detail->bucket);
  g_free (detail->key);
  g_free (detail->s3_uri);
  g_free (detail->etag);
  g_free (detail->object_sha256);
  g_free (detail->error_code);
  g_free (detail->error_message);
  g_clear_pointer (&detail->metadata, sluice_metadata_free);
  g_free (detail->camera);
  g_clear_pointer (&detail->warnings, g_ptr_array_unref);
  g_free (detail);
}

static SluiceMetadata *
metadata_from_stmt (sqlite3_stmt *s,
                    int           c)
{
  SluiceMetadata *meta = sluice_metadata_new ();

  meta->container = column_dup (s, c + 0);
  meta->make = column_dup (s, c + 1);
  meta->model = column_dup (s, c + 2);
  meta->lens_model = column_dup (s, c + 3);
  meta->datetime_original = column_dup (s, c + 4);
  meta->subsec_time_original = column_dup (s, c + 5);
  meta->offset_time_original = column_dup (s, c + 6);
  if (sqlite3_column_type (s, c + 8) != SQLITE_NULL && sqlite3_column_int64 (s, c + 8) > 0)
    {
      meta->exposure_num = sqlite3_column_int64 (s, c + 7);
      meta->exposure_den = sqlite3_column_int64 (s, c + 8);
    }
  meta->f_number = column_double_or_nan (s, c + 9);
  meta->iso = column_int_or (s, c + 10, -1);
  meta->focal_length = column_double_or_nan (s, c + 11);
  meta->orientation = column_int_or (s, c + 12, -1);
  meta->exif_width = column_int_or (s, c + 13, -1);
  meta->exif_height = column_int_or (s, c + 14, -1);
  meta->width = column_int_or (s, c + 15, -1);
  meta->height = column_int_or (s, c + 16, -1);
  meta->gps_latitude = column_double_or_nan (s, c + 17);
  meta->gps_longitude = column_double_or_nan (s, c + 18);
  meta->gps_altitude = column_double_or_nan (s, c + 19);
  meta->has_thumbnail = sqlite3_column_int (s, c + 20) != 0;
  return meta;
}

static const char detail_sql[] =
  "SELECT s.path, f.relpath, f.size, f.mtime_ns, f.sha256, f.probe_state, f.probe_error,"
  "  f.first_run_id, f.last_run_id,"
  "  o.id, t.endpoint, t.bucket, o.key, o.state, o.etag, o.sha256, o.error_code,"
  "  o.error_message, o.run_id, o.updated_at, " STATE_SQL ","
  "  m.file_id IS NOT NULL, m.camera,"
  "  m.container, m.make, m.model, m.lens_model, m.datetime_original, m.subsec_time_original,"
  "  m.offset_time_original, m.exposure_num, m.exposure_den, m.f_number, m.iso,"
  "  m.focal_length, m.orientation, m.exif_width, m.exif_height, m.width, m.height,"
  "  m.gps_latitude, m.gps_longitude, m.gps_altitude, m.has_thumbnail "
  "FROM files f JOIN sources s ON s.id = f.source_id "
  "LEFT JOIN metadata m ON m.file_id = f.id "
  "LEFT JOIN objects o ON o.file_id = f.id AND o.id = ?2 "
  "LEFT JOIN targets t ON t.id = o.target_id "
  "WHERE f.id = ?1";

static gboolean
read_warnings (SluiceCatalog     *catalog,
               SluiceQueryDetail *detail,
               GError           **error)
{
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2 (_sluice_catalog_get_db (catalog),
                               "SELECT stage, message FROM warnings WHERE file_id = ?1 "
                               "ORDER BY id LIMIT 1000", -1, &s, NULL);

  if (rc != SQLITE_OK)
    return _sluice_catalog_set_error (catalog, error, rc, "warnings");
  sqlite3_bind_int64 (s, 1, detail->file_id);
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    g_ptr_array_add (detail->warnings,
                     g_strdup_printf ("%s: %s", sqlite3_column_text (s, 0),
                                      sqlite3_column_text (s, 1)));
  sqlite3_finalize (s);
  if (rc != SQLITE_DONE)
    return _sluice_catalog_set_error (catalog, error, rc, "warnings");
  return TRUE;
}

/* Steps @s, a statement about the file @file_id, to its row; else sets @error (NOT_FOUND when
 * there is no such file) and finalizes @s. */
static gboolean
step_to_file (SluiceCatalog  *catalog,
              sqlite3_stmt   *s,
              gint64          file_id,
              const char     *what,
              GError        **error)
{
  int rc = sqlite3_step (s);

  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_NOT_FOUND,
                 _("The catalog has no file with id %lld"), (long long) file_id);
  else
    _sluice_catalog_set_error (catalog, error, rc, what);
  sqlite3_finalize (s);
  return FALSE;
}

SluiceQueryDetail *
sluice_catalog_query_detail (SluiceCatalog *catalog,
                             gint64         file_id,
                             gint64         object_id,
                             GError       **error)
{
  g_autoptr(SluiceQueryDetail) detail = NULL;
  g_autofree char *dir = NULL;
  sqlite3_stmt *s = NULL;
  int rc;

  g_return_val_if_fail (catalog != NULL, NULL);
  rc = sqlite3_prepare_v2 (_sluice_catalog_get_db (catalog), detail_sql, -1, &s, NULL);
  if (rc != SQLITE_OK)
    {
      _sluice_catalog_set_error (catalog, error, rc, "detail");
      return NULL;
    }
  sqlite3_bind_int64 (s, 1, file_id);
  sqlite3_bind_int64 (s, 2, object_id);
  if (!step_to_file (catalog, s, file_id, "detail", error))
    return NULL;

  detail = g_new0 (SluiceQueryDetail, 1);
  detail->file_id = file_id;
  detail->source = column_dup (s, 0);
  detail->relpath = column_dup (s, 1);
  dir = g_path_get_dirname (detail->relpath);
  detail->folder = g_str_equal (dir, ".") ? g_strdup (detail->source)
                                          : g_build_filename (detail->source, dir, NULL);
  detail->size = sqlite3_column_int64 (s, 2);
  detail->mtime_ns = sqlite3_column_int64 (s, 3);
  detail->sha256 = column_dup (s, 4);
  detail->probe_state = sqlite3_column_int (s, 5);
  detail->probe_error = column_dup (s, 6);
  detail->first_run_id = sqlite3_column_int64 (s, 7);
  detail->last_run_id = sqlite3_column_int64 (s, 8);
  detail->object_id = sqlite3_column_int64 (s, 9);
  if (detail->object_id != 0)
    {
      detail->endpoint = column_dup (s, 10);
      detail->bucket = column_dup (s, 11);
      detail->key = column_dup (s, 12);
      detail->s3_uri = g_strdup_printf ("s3://%s/%s", detail->bucket, detail->key);
      detail->etag = column_dup (s, 14);
      detail->object_sha256 = column_dup (s, 15);
      detail->error_code = column_dup (s, 16);
      detail->error_message = column_dup (s, 17);
      detail->run_id = sqlite3_column_int64 (s, 18);
      detail->updated_at = sqlite3_column_int64 (s, 19);
    }
  detail->state = sqlite3_column_int (s, 20);
  if (sqlite3_column_int (s, 21) != 0)
    {
      detail->camera = column_dup (s, 22);
      detail->metadata = metadata_from_stmt (s, 23);
      detail->has_gps = !isnan (detail->metadata->gps_latitude);
    }
  sqlite3_finalize (s);

  detail->warnings = g_ptr_array_new_with_free_func (g_free);
  if (!read_warnings (catalog, detail, error))
    return NULL;
  return g_steal_pointer (&detail);
}

GBytes *
sluice_catalog_get_thumbnail (SluiceCatalog *catalog,
                              gint64         file_id,
                              GError       **error)
{
  sqlite3_stmt *s = NULL;
  GBytes *bytes = NULL;
  int rc;

  g_return_val_if_fail (catalog != NULL, NULL);
  rc = sqlite3_prepare_v2 (_sluice_catalog_get_db (catalog),
                           "SELECT data FROM thumbnails WHERE file_id = ?1", -1, &s, NULL);
  if (rc != SQLITE_OK)
    {
      _sluice_catalog_set_error (catalog, error, rc, "thumbnail");
      return NULL;
    }
  sqlite3_bind_int64 (s, 1, file_id);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    bytes = g_bytes_new (sqlite3_column_blob (s, 0), sqlite3_column_bytes (s, 0));
  else if (rc != SQLITE_DONE)
    _sluice_catalog_set_error (catalog, error, rc, "thumbnail");
  sqlite3_finalize (s);
  return bytes;
}

gboolean
sluice_catalog_get_file_source (SluiceCatalog  *catalog,
                                gint64          file_id,
                                char          **out_path,
                                char          **out_sha256,
                                gboolean       *out_probed,
                                char          **out_container,
                                GError        **error)
{
  sqlite3_stmt *s = NULL;
  int rc;

  g_return_val_if_fail (catalog != NULL, FALSE);
  g_return_val_if_fail (out_path != NULL && out_sha256 != NULL && out_probed != NULL &&
                        out_container != NULL, FALSE);
  rc = sqlite3_prepare_v2 (_sluice_catalog_get_db (catalog),
                           "SELECT s.path, f.relpath, f.sha256, m.container, "
                           "  m.file_id IS NOT NULL "
                           "FROM files f JOIN sources s ON s.id = f.source_id "
                           "LEFT JOIN metadata m ON m.file_id = f.id WHERE f.id = ?1",
                           -1, &s, NULL);
  if (rc != SQLITE_OK)
    return _sluice_catalog_set_error (catalog, error, rc, "file source");
  sqlite3_bind_int64 (s, 1, file_id);
  if (!step_to_file (catalog, s, file_id, "file source", error))
    return FALSE;
  *out_path = g_build_filename ((const char *) sqlite3_column_text (s, 0),
                                (const char *) sqlite3_column_text (s, 1), NULL);
  *out_sha256 = g_strdup ((const char *) sqlite3_column_text (s, 2));
  *out_container = g_strdup ((const char *) sqlite3_column_text (s, 3));
  *out_probed = sqlite3_column_int (s, 4) != 0;
  sqlite3_finalize (s);
  return TRUE;
}

#define MAX_MENU_VALUES 10000

/* The distinct values of an indexed column, by skipping from one to the next in the index:
 * one seek per value, however many rows share it. */
static GPtrArray *
distinct_values (SluiceCatalog *catalog,
                 const char    *sql,
                 GError       **error)
{
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2 (_sluice_catalog_get_db (catalog), sql, -1, &s, NULL);

  if (rc != SQLITE_OK)
    {
      _sluice_catalog_set_error (catalog, error, rc, "values");
      return NULL;
    }
  sqlite3_bind_text (s, 1, "", -1, SQLITE_STATIC);
  while (values->len < MAX_MENU_VALUES)
    {
      const char *v;

      rc = sqlite3_step (s);
      if (rc != SQLITE_ROW)
        break;
      v = (const char *) sqlite3_column_text (s, 0);
      if (v == NULL)
        {
          rc = SQLITE_DONE;
          break;
        }
      g_ptr_array_add (values, g_strdup (v));
      sqlite3_reset (s);
      sqlite3_bind_text (s, 1, g_ptr_array_index (values, values->len - 1), -1, SQLITE_STATIC);
    }
  sqlite3_finalize (s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      _sluice_catalog_set_error (catalog, error, rc, "values");
      return NULL;
    }
  return g_steal_pointer (&values);
}

GPtrArray *
sluice_catalog_list_cameras (SluiceCatalog *catalog,
                             GError       **error)
{
  g_return_val_if_fail (catalog != NULL, NULL);
  return distinct_values (catalog, "SELECT min(camera) FROM metadata WHERE camera > ?1", error);
}

GPtrArray *
sluice_catalog_list_lenses (SluiceCatalog *catalog,
                            GError       **error)
{
  g_return_val_if_fail (catalog != NULL, NULL);
  return distinct_values (catalog, "SELECT min(lens_model) FROM metadata WHERE lens_model > ?1",
                          error);
}

void
sluice_catalog_run_free (SluiceCatalogRun *run)
{
  if (run == NULL)
    return;
  g_free (run->source);
  g_free (run->bucket);
  g_free (run->status);
  g_free (run);
}

GPtrArray *
sluice_catalog_list_runs (SluiceCatalog *catalog,
                          GError       **error)
{
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) sluice_catalog_run_free);
  sqlite3_stmt *s = NULL;
  int rc;

  g_return_val_if_fail (catalog != NULL, NULL);
  rc = sqlite3_prepare_v2 (_sluice_catalog_get_db (catalog),
                           "SELECT r.id, s.path, t.bucket, r.started_at, r.finished_at, r.status "
                           "FROM runs r JOIN sources s ON s.id = r.source_id "
                           "LEFT JOIN targets t ON t.id = r.target_id ORDER BY r.id DESC LIMIT ?1",
                           -1, &s, NULL);
  if (rc != SQLITE_OK)
    {
      _sluice_catalog_set_error (catalog, error, rc, "runs");
      return NULL;
    }
  sqlite3_bind_int (s, 1, MAX_MENU_VALUES);
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      SluiceCatalogRun *run = g_new0 (SluiceCatalogRun, 1);

      run->id = sqlite3_column_int64 (s, 0);
      run->source = column_dup (s, 1);
      run->bucket = column_dup (s, 2);
      run->started_at = sqlite3_column_int64 (s, 3);
      run->finished_at = sqlite3_column_int64 (s, 4);
      run->status = column_dup (s, 5);
      g_ptr_array_add (runs, run);
    }
  sqlite3_finalize (s);
  if (rc != SQLITE_DONE)
    {
      _sluice_catalog_set_error (catalog, error, rc, "runs");
      return NULL;
    }
  return g_steal_pointer (&runs);
}

/* ---- export ----------------------------------------------------------------------------------- */

#define EXPORT_PAGE 1024

typedef struct {
  SluiceCatalogRowFunc  func;
  gpointer              user_data;
  SluiceValue          *values;
  GString              *warning;
  char                 *exposure;
  SluiceQueryCursor     last;
  SluiceQuerySort       sort;
} ExportContext;

static gboolean
export_row (sqlite3_stmt *s,
            gpointer      user_data,
            GError      **error)
{
  ExportContext *ctx = user_data;

  _sluice_catalog_export_values (s, ctx->values, ctx->warning, &ctx->exposure);
  if (!ctx->func (ctx->values, ctx->user_data, error))
    return FALSE;
  cursor_from_stmt (&ctx->last, ctx->sort, s);
  return TRUE;
}

gboolean
sluice_catalog_query_export_rows (SluiceCatalog        *catalog,
                                  const SluiceQuery    *query,
                                  SluiceCatalogRowFunc  func,
                                  gpointer              user_data,
                                  GCancellable         *cancellable,
                                  GError              **error)
{
  guint n_columns;
  g_autofree SluiceValue *values = NULL;
  g_autoptr(GString) warning = g_string_new (NULL);
  ExportContext ctx = { 0 };
  gboolean ok = TRUE;
  guint64 rows = EXPORT_PAGE;

  g_return_val_if_fail (catalog != NULL && func != NULL, FALSE);
  if (query == NULL)
    return sluice_catalog_export_rows (catalog, func, user_data, error);

  sluice_catalog_export_columns (&n_columns);
  values = g_new0 (SluiceValue, n_columns);
  ctx.func = func;
  ctx.user_data = user_data;
  ctx.values = values;
  ctx.warning = warning;
  ctx.sort = query->sort;

  /* keyset pages: each statement is short, so a long export neither holds one read
   * transaction open for minutes nor needs a sorter for the whole result */
  while (ok && rows == EXPORT_PAGE)
    {
      g_autoptr(SluiceQueryCursor) after = NULL;

      if (ctx.last.file_id != 0)
        after = sluice_query_cursor_copy (&ctx.last);
      ok = !g_cancellable_set_error_if_cancelled (cancellable, error) &&
           run_query (catalog, query, _SLUICE_CATALOG_EXPORT_SELECT, TRUE, after, EXPORT_PAGE, 0,
                      export_row, &ctx, &rows, cancellable, error);
    }
  cursor_clear (&ctx.last);
  g_free (ctx.exposure);
  return ok;
}
