/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sanitizer builds only (meson -Db_sanitize=..., tests/vm/asan-logins.sh):
 * the runtime options of cubby-shell and cubbyctl, compiled in. The helper
 * runs setuid with an environment that belongs to the user (and clears it),
 * and the PAM module starts cubbyctl with an empty environment, so
 * ASAN_OPTIONS cannot be what brings them. Such a build must never be
 * installed setuid outside a throwaway VM: the runtimes still read
 * ASAN_OPTIONS and UBSAN_OPTIONS, which lets the caller pick a file for
 * root to write (docs/TESTING.md, rule 9).
 *
 * cubbyctl writes its reports to <sanitizer_log_dir>/cubbyctl.<pid> (and
 * cubbyctl.ubsan.<pid>: gcc links two runtimes, each with its own copy of
 * the common flags): the PAM module runs it with stdio on /dev/null.
 * cubby-shell reports on its stderr, the login's: a log directory would not
 * be there for the container's PID 1 after pivot_root, and stderr reaches
 * the caller from all three of its processes (setup as root, the
 * supervisor as the user, the child up to the exec of the shell).
 */
#include <sanitizer/lsan_interface.h>

#include "cubby-build.h"
#include "cubby/sanitizer.h"

#if defined(CUBBY_SANITIZER_LOG_DIR) && defined(CUBBY_SANITIZER_PROG)
#define SAN_LOG(suffix) "log_path=" CUBBY_SANITIZER_LOG_DIR "/" CUBBY_SANITIZER_PROG suffix ":"
#else
#define SAN_LOG(suffix) ""
#endif

/* Called by the runtimes before main. */
__attribute__((visibility("default"))) const char *__asan_default_options(void);
__attribute__((visibility("default"))) const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
        return SAN_LOG("") "halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:"
               "print_summary=1";
}

const char *__ubsan_default_options(void)
{
        return SAN_LOG(".ubsan") "halt_on_error=1:print_stacktrace=1:print_summary=1";
}

#if defined(CUBBY_ASAN)
void san_leak_check(void)
{
        /* The runtime makes a non-dumpable process dumpable while it stops
         * the world to scan it (ptrace): call this only while the process
         * is root, and never install such a build setuid outside a VM. */
        (void)__lsan_do_recoverable_leak_check();
}
#endif
