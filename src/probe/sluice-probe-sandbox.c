/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "sluice-probe-sandbox"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice-error.h"
#include "sluice-probe-sandbox.h"

/*
 * The sandbox of the probe helper (the tracker-extract model).
 *
 * Resource limits first, then a seccomp allow-list whose default action traps: a system call
 * that is not on the list raises SIGSYS, whose handler writes "sluice-probe: blocked system
 * call NAME" on stderr and lets the signal kill the helper, so that the engine records
 * "metadata helper crashed with SIGSYS" for the file and starts a fresh helper. A few calls
 * fail with an errno instead, where a library may try them and cope (socket, ioctl, read-only
 * open). After the filter the helper can read the descriptors it is sent, answer on its
 * socket, write to stderr, allocate memory and exit; it cannot open a file for writing, make a
 * socket, start a program, signal another process or map executable memory.
 *
 * Everything the helper needs that the list does not allow (the locale, libexif's message
 * catalogue lookup, GLib's log writer checks, the syscall name table below) happens before,
 * in main()'s warm-up.
 */

#define SYSCALL_NAMES_MAX 640
#define MAX_OPEN_FILES    16

/* What the SIGSYS reporter needs, resolved before the filter: it runs in a signal handler and
 * may only use async-signal-safe calls. */
static const char *syscall_names[SYSCALL_NAMES_MAX];
static guint32 native_arch;

static GString *status;

/* ---- the SIGSYS reporter ------------------------------------------------------------------- */

static gsize
append_text (char       *buf,
             gsize       pos,
             gsize       size,
             const char *text)
{
  while (*text != '\0' && pos + 1 < size)
    buf[pos++] = *text++;
  return pos;
}

static gsize
append_number (char    *buf,
               gsize    pos,
               gsize    size,
               guint64  value,
               guint    base)
{
  char digits[24];
  guint n = 0;

  do
    {
      digits[n++] = "0123456789abcdef"[value % base];
      value /= base;
    }
  while (value > 0 && n < sizeof digits);
  while (n > 0 && pos + 1 < size)
    buf[pos++] = digits[--n];
  return pos;
}

/* Runs in the signal handler of the system call the filter refused: write(2) and raise(3)
 * only. SA_RESETHAND has put the default action back, so raise() ends the helper with SIGSYS,
 * which is what the engine reports. */
static void
on_sigsys (int        sig,
           siginfo_t *info,
           void      *context)
{
  char buf[160];
  gsize pos = 0;
  int nr = info->si_syscall;

  pos = append_text (buf, pos, sizeof buf, "sluice-probe: blocked system call ");
  if (info->si_arch == native_arch && nr >= 0 && nr < SYSCALL_NAMES_MAX &&
      syscall_names[nr] != NULL)
    pos = append_text (buf, pos, sizeof buf, syscall_names[nr]);
  else
    {
      pos = append_text (buf, pos, sizeof buf, "number ");
      pos = append_number (buf, pos, sizeof buf, (guint) nr, 10);
      if (info->si_arch != native_arch)
        {
          pos = append_text (buf, pos, sizeof buf, " of architecture 0x");
          pos = append_number (buf, pos, sizeof buf, info->si_arch, 16);
        }
    }
  buf[pos++] = '\n';
  if (write (STDERR_FILENO, buf, pos) < 0)
    {
      /* nothing more to say it with */
    }
  raise (SIGSYS);
  /* not reached unless SIGSYS could not be raised; the status still says what happened */
  _exit (128 + SIGSYS);
}

static gboolean
install_sigsys_reporter (GError **error)
{
  struct sigaction sa = { 0 };

  native_arch = seccomp_arch_native ();
  /* seccomp_syscall_resolve_num_arch() allocates: resolve every name now, while we may. The
   * strings live as long as the process. */
  for (int nr = 0; nr < SYSCALL_NAMES_MAX; nr++)
    syscall_names[nr] = seccomp_syscall_resolve_num_arch (native_arch, nr);

  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
  sigemptyset (&sa.sa_mask);
  if (sigaction (SIGSYS, &sa, NULL) < 0)
    {
      g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_FAILED, "sigaction (SIGSYS): %s",
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* ---- signals and resource limits ----------------------------------------------------------- */

/* Dispositions set to "ignore" and the signal mask survive exec: a helper started by a parent
 * that ignores SIGXCPU or blocks signals would otherwise outlive its CPU limit. */
static void
reset_signals (void)
{
  static const int fatal[] = { SIGXCPU, SIGXFSZ, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
                               SIGPIPE, SIGTERM };
  sigset_t none;

  for (guint i = 0; i < G_N_ELEMENTS (fatal); i++)
    {
      struct sigaction old;

      /* a handler installed before us (a sanitizer's) is kept; only "ignore" is undone */
      if (sigaction (fatal[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
        signal (fatal[i], SIG_DFL);
    }
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

static const char *
resource_name (int resource)
{
  switch (resource)
    {
    case RLIMIT_NOFILE:
      return "RLIMIT_NOFILE";
    case RLIMIT_FSIZE:
      return "RLIMIT_FSIZE";
    case RLIMIT_CORE:
      return "RLIMIT_CORE";
    case RLIMIT_NPROC:
      return "RLIMIT_NPROC";
    case RLIMIT_AS:
      return "RLIMIT_AS";
    case RLIMIT_CPU:
      return "RLIMIT_CPU";
    default:
      return "RLIMIT_?";
    }
}

/* Lowers both limits to @value (never raises: the hard limit we were given stays a ceiling). */
static void
limit_resource (int      resource,
                rlim_t   value)
{
  struct rlimit rl;

  if (getrlimit (resource, &rl) < 0)
    rl.rlim_max = RLIM_INFINITY;
  rl.rlim_max = MIN (rl.rlim_max, value);
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit (resource, &rl) < 0)
    {
      g_printerr ("sluice-probe: WARNING: cannot set %s: %s\n", resource_name (resource),
                  g_strerror (errno));
      g_string_append_printf (status, "%s not set; ", resource_name (resource));
      return;
    }
  g_string_append_printf (status, "%s %" G_GUINT64_FORMAT "; ", resource_name (resource),
                          (guint64) rl.rlim_cur);
}

static gboolean
stderr_is_regular_file (void)
{
  struct stat st;

  return fstat (STDERR_FILENO, &st) == 0 && S_ISREG (st.st_mode);
}

static void
set_limits (void)
{
  /* stdin, stdout, stderr, the socket and the one descriptor of the file being probed */
  limit_resource (RLIMIT_NOFILE, MAX_OPEN_FILES);
  /* no core file holding someone's hostile bytes, or filling a disk */
  limit_resource (RLIMIT_CORE, 0);
  /* ineffective for root, which is exempt; the filter refuses fork and clone anyway */
  limit_resource (RLIMIT_NPROC, 0);
  /* The filter already allows writes only on stderr and the socket. A stderr redirected to a
   * file (sluice-cli 2>log) would turn every message into SIGXFSZ under RLIMIT_FSIZE 0. */
  if (!stderr_is_regular_file ())
    limit_resource (RLIMIT_FSIZE, 0);
  else
    g_string_append (status, "RLIMIT_FSIZE not set (stderr is a file); ");
#if !SLUICE_PROBE_SANITIZED
  /* a runaway allocation fails instead of growing until the OOM killer picks a victim */
  limit_resource (RLIMIT_AS, SLUICE_PROBE_MAX_MAP + SLUICE_PROBE_AS_HEADROOM);
#else
  g_string_append (status, "RLIMIT_AS not set (sanitizer build); ");
#endif
  sluice_probe_sandbox_arm_cpu_limit (SLUICE_PROBE_CPU_SECONDS);
  g_string_append_printf (status, "RLIMIT_CPU +%d s per file (+%d s per thumbnail); ",
                          SLUICE_PROBE_CPU_SECONDS, SLUICE_PROBE_THUMB_CPU_SECONDS);
}

/**
 * sluice_probe_sandbox_arm_cpu_limit:
 * @seconds: this file's budget
 *
 * Before each file: the soft CPU limit becomes what was used so far plus @seconds, so a
 * runaway parse or decode is ended by SIGXCPU whatever the helper did before. The hard limit
 * is left alone (a helper serves many files and the soft limit has to move up each time).
 * getrusage() and prlimit64(RLIMIT_CPU) are on the allow-list for this.
 */
void
sluice_probe_sandbox_arm_cpu_limit (guint seconds)
{
  static rlim_t armed;   /* the soft limit last set */
  struct rusage ru;
  struct rlimit rl;
  rlim_t limit;

  if (getrusage (RUSAGE_SELF, &ru) < 0)
    return;
  /* whole seconds used, rounded up: the file gets between @seconds and @seconds + 1 */
  limit = (rlim_t) ru.ru_utime.tv_sec + (rlim_t) ru.ru_stime.tv_sec + 1 + seconds;
  /* the same limit as last time: thousands of small files fit in one second, and two system
   * calls fewer per file count there (issue 5) */
  if (limit == armed || getrlimit (RLIMIT_CPU, &rl) < 0)
    return;
  armed = limit;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? limit : MIN (rl.rlim_max, limit);
  setrlimit (RLIMIT_CPU, &rl);
}

/* ---- the filter ---------------------------------------------------------------------------- */

#define ALLOW             SCMP_ACT_ALLOW
#define REFUSE(e)         SCMP_ACT_ERRNO (e)
#define ARG_EQ(n, v)      { (n), SCMP_CMP_EQ, (scmp_datum_t) (v), 0 }
#define ARG_CLEAR(n, m)   { (n), SCMP_CMP_MASKED_EQ, (scmp_datum_t) (m), 0 }
#define ARG_SET(n, m)     { (n), SCMP_CMP_MASKED_EQ, (scmp_datum_t) (m), (scmp_datum_t) (m) }

/* The flags that make an open() more than a read (__O_TMPFILE: O_TMPFILE includes
 * O_DIRECTORY, which a read-only open may use). */
#define OPEN_WRITE_FLAGS  (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | __O_TMPFILE)

typedef struct
{
  int                  syscall;
  guint32              action;
  guint                n_args;
  struct scmp_arg_cmp  args[2];
} Rule;

/* Rules with a placeholder for the socket and the pid, filled in at install time. */
#define SOCK_FD  (-1000)
#define OWN_PID  (-1001)

static const Rule rules[] = {
  /* the protocol: requests and the file's descriptor arrive on the socket (fd 3), answers
   * leave on it; poll waits for the next request (glibc may use either call) */
  { SCMP_SYS (recvmsg), ALLOW, 1, { ARG_EQ (0, SOCK_FD) } },
  { SCMP_SYS (sendmsg), ALLOW, 1, { ARG_EQ (0, SOCK_FD) } },
  { SCMP_SYS (write), ALLOW, 1, { ARG_EQ (0, SOCK_FD) } },
  { SCMP_SYS (poll), ALLOW, 0 },
  { SCMP_SYS (ppoll), ALLOW, 0 },
  /* messages: g_printerr and the SIGSYS reporter write, glibc's fatal messages
   * ("malloc(): corrupted ...") writev, both on stderr only */
  { SCMP_SYS (write), ALLOW, 1, { ARG_EQ (0, STDERR_FILENO) } },
  { SCMP_SYS (writev), ALLOW, 1, { ARG_EQ (0, STDERR_FILENO) } },
  /* the file: its size, then it is closed; fstat() is newfstatat (fd, "", AT_EMPTY_PATH) */
  { SCMP_SYS (fstat), ALLOW, 0 },
  { SCMP_SYS (newfstatat), ALLOW, 1, { ARG_SET (3, AT_EMPTY_PATH) } },
  { SCMP_SYS (close), ALLOW, 0 },
  /* memory: the file is mapped read-only, malloc uses brk and mmap; nothing may become
   * executable */
  { SCMP_SYS (mmap), ALLOW, 1, { ARG_CLEAR (2, PROT_EXEC) } },
  { SCMP_SYS (mprotect), ALLOW, 1, { ARG_CLEAR (2, PROT_EXEC) } },
  { SCMP_SYS (munmap), ALLOW, 0 },
  { SCMP_SYS (mremap), ALLOW, 0 },
  { SCMP_SYS (brk), ALLOW, 0 },
  { SCMP_SYS (madvise), ALLOW, 0 },
  /* GLib's locks (g_once, the GVariant type cache), the clock when the vDSO is missing */
  { SCMP_SYS (futex), ALLOW, 0 },
  { SCMP_SYS (clock_gettime), ALLOW, 0 },
  { SCMP_SYS (gettimeofday), ALLOW, 0 },
  { SCMP_SYS (getrandom), ALLOW, 0 },
  /* the per-file CPU limit: CPU used so far, then a new soft RLIMIT_CPU; nothing else */
  { SCMP_SYS (getrusage), ALLOW, 1, { ARG_EQ (0, RUSAGE_SELF) } },
  { SCMP_SYS (prlimit64), ALLOW, 2, { ARG_EQ (0, 0), ARG_EQ (1, RLIMIT_CPU) } },
  /* dying properly: abort() and the SIGSYS reporter raise() a signal at themselves (tgkill to
   * our own process only), blocking signals around it; a poll interrupted by a stop resumes
   * through restart_syscall */
  { SCMP_SYS (rt_sigprocmask), ALLOW, 0 },
  { SCMP_SYS (rt_sigreturn), ALLOW, 0 },
  { SCMP_SYS (getpid), ALLOW, 0 },
  { SCMP_SYS (gettid), ALLOW, 0 },
  { SCMP_SYS (tgkill), ALLOW, 1, { ARG_EQ (0, OWN_PID) } },
  { SCMP_SYS (restart_syscall), ALLOW, 0 },
  { SCMP_SYS (exit), ALLOW, 0 },
  { SCMP_SYS (exit_group), ALLOW, 0 },

  /* refused with an errno rather than trapped: code may try these and cope */
  { SCMP_SYS (socket), REFUSE (EPERM), 0 },
  { SCMP_SYS (socketpair), REFUSE (EPERM), 0 },
  /* GLib's log writer asks, for every message, whether stderr is the journal's socket
   * (g_warning, g_error: "failed to allocate N bytes"), and whether it is a terminal (isatty);
   * "no" to both and the message goes to stderr. No terminal ioctl (TIOCSTI) can be used on an
   * inherited tty either. */
  { SCMP_SYS (getpeername), REFUSE (ENOTSOCK), 0 },
  { SCMP_SYS (getsockname), REFUSE (ENOTSOCK), 0 },
  { SCMP_SYS (ioctl), REFUSE (ENOTTY), 0 },
  /* a libc trying openat2 falls back to openat, whose flags can be checked */
  { SCMP_SYS (openat2), REFUSE (ENOSYS), 0 },
#if SLUICE_PROBE_SANITIZED
  /* Sanitizer builds only (tests, never installed): an ASan or UBSan report reads
   * /proc/self/maps and the binaries to symbolise (read-only opens, stat, readlink, fcntl), the
   * runtime yields in its spin locks and sets up its signal stack; strace of a report under the
   * filter lists these. An external symbolizer would be started through a pipe: refused, the
   * in-process one is used. */
  { SCMP_SYS (open), ALLOW, 1, { ARG_CLEAR (1, OPEN_WRITE_FLAGS) } },
  { SCMP_SYS (openat), ALLOW, 1, { ARG_CLEAR (2, OPEN_WRITE_FLAGS) } },
  { SCMP_SYS (read), ALLOW, 0 },
  { SCMP_SYS (pread64), ALLOW, 0 },
  { SCMP_SYS (lseek), ALLOW, 0 },
  { SCMP_SYS (readlink), ALLOW, 0 },
  { SCMP_SYS (newfstatat), ALLOW, 0 },
  { SCMP_SYS (stat), ALLOW, 0 },
  { SCMP_SYS (lstat), ALLOW, 0 },
  { SCMP_SYS (fcntl), ALLOW, 0 },
  { SCMP_SYS (sched_yield), ALLOW, 0 },
  { SCMP_SYS (sigaltstack), ALLOW, 0 },
  { SCMP_SYS (rt_sigaction), ALLOW, 0 },
  { SCMP_SYS (getrlimit), ALLOW, 0 },
  { SCMP_SYS (prlimit64), ALLOW, 2, { ARG_EQ (0, 0), ARG_EQ (2, 0) } },
  { SCMP_SYS (pipe2), REFUSE (EPERM), 0 },
  { SCMP_SYS (pipe), REFUSE (EPERM), 0 },
#else
  /* Nothing opens a file after the warm-up (checked with strace over the whole corpus): a
   * read-only open fails, so a compromised helper cannot read the user's files (say
   * ~/.aws/credentials) and smuggle them out in the metadata it returns. An open for writing
   * is not on the list at all: it traps. */
  { SCMP_SYS (open), REFUSE (EACCES), 1, { ARG_CLEAR (1, OPEN_WRITE_FLAGS) } },
  { SCMP_SYS (openat), REFUSE (EACCES), 1, { ARG_CLEAR (2, OPEN_WRITE_FLAGS) } },
#endif
};

static scmp_datum_t
resolve_placeholder (scmp_datum_t value,
                     int          sock)
{
  if (value == (scmp_datum_t) SOCK_FD)
    return sock;
  if (value == (scmp_datum_t) OWN_PID)
    return getpid ();
  return value;
}

static gboolean
add_rules (scmp_filter_ctx   ctx,
           int               sock,
           GError          **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (rules); i++)
    {
      struct scmp_arg_cmp args[2];
      int rc;

      for (guint a = 0; a < rules[i].n_args; a++)
        {
          args[a] = rules[i].args[a];
          args[a].datum_a = resolve_placeholder (args[a].datum_a, sock);
        }
      rc = seccomp_rule_add_array (ctx, rules[i].action, rules[i].syscall, rules[i].n_args,
                                   args);
      if (rc < 0)
        {
          g_autofree char *name = seccomp_syscall_resolve_num_arch (native_arch,
                                                                     rules[i].syscall);
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_FAILED,
                       "seccomp rule for %s: %s", name != NULL ? name : "?", g_strerror (-rc));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
install_filter (int       sock,
                GError  **error)
{
  scmp_filter_ctx ctx;
  gboolean ok;
  int rc;

  if (!install_sigsys_reporter (error))
    return FALSE;

  ctx = seccomp_init (SCMP_ACT_TRAP);
  if (ctx == NULL)
    {
      g_set_error_literal (error, SLUICE_ERROR, SLUICE_ERROR_FAILED, "seccomp_init failed");
      return FALSE;
    }
  /* a system call made through another ABI (int 0x80, x32) is refused the same way */
  seccomp_attr_set (ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
  seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 1);
  /* the kernel's own errno when loading fails, for the warning, rather than ECANCELED */
  seccomp_attr_set (ctx, SCMP_FLTATR_API_SYSRAWRC, 1);

  ok = add_rules (ctx, sock, error);
  if (ok)
    {
      rc = seccomp_load (ctx);
      if (rc < 0)
        {
          g_set_error (error, SLUICE_ERROR, SLUICE_ERROR_FAILED,
                       "the kernel refused the seccomp filter: %s", g_strerror (-rc));
          ok = FALSE;
        }
    }
  seccomp_release (ctx);
  return ok;
}

/**
 * sluice_probe_sandbox_enter:
 * @sock: the helper's end of the socket, the only descriptor it may send on
 *
 * Sets the resource limits and installs the seccomp filter. A limit that cannot be set is
 * reported on stderr and the rest still applies; FALSE means there is no filter, and @error
 * says why: the caller must say loudly that it runs without a sandbox.
 */
gboolean
sluice_probe_sandbox_enter (int       sock,
                            GError  **error)
{
  g_autoptr(GError) local_error = NULL;

  status = g_string_new (NULL);
  reset_signals ();
  /* set by libseccomp when it loads the filter too; here so that it also holds without one */
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    g_string_append_printf (status, "no_new_privs failed: %s; ", g_strerror (errno));
  else
    g_string_append (status, "no_new_privs; ");
  set_limits ();

  if (!install_filter (sock, &local_error))
    {
      g_string_prepend (status, "NO seccomp filter; ");
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_string_prepend (status, "seccomp filter active; ");
  return TRUE;
}

/* One line for tests and diagnostics: "seccomp filter active; no_new_privs; RLIMIT_NOFILE
 * 16; ...". */
const char *
sluice_probe_sandbox_describe (void)
{
  return status != NULL ? status->str : "no sandbox";
}
