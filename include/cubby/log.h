/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One syslog line per event, key=value, user-derived values escaped so that
 * no name can forge a key or split a line. Library code does not log: the
 * PAM module, the helper and cubbyctl log once, where they decide. */
#pragma once

#include <stdarg.h>
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

/* log_event's line, into line (size > 0), without logging it: for a
 * CLONE_VM child, which must leave syslog's state (in the memory it
 * shares) alone and hand its lines to its parent. Returns the length. */
size_t log_format(char *line, size_t size, const char *event, va_list ap);
/* syslog(LOG_AUTHPRIV | prio, "%s", line) */
void log_line(int prio, const char *line);
