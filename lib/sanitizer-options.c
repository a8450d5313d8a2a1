/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sanitizer builds only (meson -Db_sanitize=..., tests/vm/asan-logins.sh):
 * the runtime options of cubby-shell and cubbyctl, compiled in. The helper
 * runs setuid with an environment that belongs to the user (and clears it),
 * and the PAM module starts cubbyctl with an empty environment, so
 * ASAN_OPTIONS cannot be what brings them. Such a build must never be
 * installed setuid outside a throwaway VM: the runtimes still read
 * ASAN_OPTIONS and UBSAN_OPTIONS, which lets the caller pick a file for
 * root to write (TESTING.md).
 *
 * gcc links two runtimes (libasan, libubsan), each with its own copy of the
 * common flags, so each gets the log directory. log_exe_name names the
 * files <dir>/asan.<program>.<pid> and <dir>/ubsan.<program>.<pid>.
 */
#include "cubby-build.h"

#ifdef CUBBY_SANITIZER_LOG_DIR
#define SAN_LOG(name) "log_path=" CUBBY_SANITIZER_LOG_DIR "/" name ":log_exe_name=1:"
#else
#define SAN_LOG(name) ""
#endif

/* Called by the runtimes before main. */
__attribute__((visibility("default"))) const char *__asan_default_options(void);
__attribute__((visibility("default"))) const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
        return SAN_LOG("asan") "halt_on_error=1:detect_leaks=1:print_summary=1";
}

const char *__ubsan_default_options(void)
{
        return SAN_LOG("ubsan") "halt_on_error=1:print_stacktrace=1:print_summary=1";
}
