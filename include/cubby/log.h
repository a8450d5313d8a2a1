/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One syslog line per event, key=value, user-derived values escaped so that
 * no name can forge a key or split a line. Library code does not log: the
 * PAM module, the helper and cubbyctl log once, where they decide. */
#pragma once

#include <stddef.h>

/* Escape s into buf: printable ASCII other than '"', '\\' and '=' is kept,
 * everything else becomes \xHH; the result is wrapped in double quotes when
 * it is empty or contains a space. Truncated values end in "...".
 * Returns buf. */
char *log_escape(char *buf, size_t size, const char *s);

/* syslog(LOG_AUTHPRIV | prio, "cubby: event=EVENT KEY=VALUE ..."): the
 * variadic part is pairs of (key, value) strings ending with NULL; values
 * are escaped here. */
void log_event(int prio, const char *event, ...) __attribute__((sentinel));
