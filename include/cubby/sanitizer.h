/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sanitizer builds only (meson -Db_sanitize=address,...; lib/sanitizer.c).
 * In any other build this is an empty inline function. */
#pragma once

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer's check at exit never runs in cubby-shell: all three of its
 * processes end in _exit() or execve(). This runs it now and reports on
 * stderr; the process goes on either way. */
void san_leak_check(void);
#else
static inline void san_leak_check(void)
{
}
#endif
