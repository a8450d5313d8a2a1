/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sanitizer builds only (meson -Db_sanitize=address,...; lib/sanitizer.c).
 * In any other build this is an empty inline function. */
#pragma once

/* gcc says so with __SANITIZE_ADDRESS__, clang 14 only through
 * __has_feature */
#if defined(__SANITIZE_ADDRESS__)
#define CUBBY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CUBBY_ASAN 1
#endif
#endif

#if defined(CUBBY_ASAN)
/* LeakSanitizer's check at exit never runs in cubby-shell: all three of its
 * processes end in _exit() or execve(). This runs it now (cubby-shell's
 * reports go to its stderr); the process goes on either way. */
void san_leak_check(void);
#else
static inline void san_leak_check(void)
{
}
#endif
