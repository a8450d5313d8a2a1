/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "cubby/log.h"

char *log_escape(char *buf, size_t size, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;
        bool quote;

        if (size < 8) {
                if (size)
                        buf[0] = 0;
                return buf;
        }
        if (!s)
                s = "";
        quote = !*s || strchr(s, ' ');
        if (quote)
                buf[o++] = '"';
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                bool plain = *p > ' ' && *p < 0x7f && *p != '"' && *p != '\\' && *p != '=';

                if (*p == ' ' && quote)
                        plain = true;
                /* room for the longest piece (4), "...", closing quote, NUL */
                if (o + 4 + 3 + 2 >= size) {
                        memcpy(buf + o, "...", 3);
                        o += 3;
                        break;
                }
                if (plain) {
                        buf[o++] = (char)*p;
                } else {
                        buf[o++] = '\\';
                        buf[o++] = 'x';
                        buf[o++] = hex[*p >> 4];
                        buf[o++] = hex[*p & 15];
                }
        }
        if (quote)
                buf[o++] = '"';
        buf[o] = 0;
        return buf;
}

size_t log_format(char *line, size_t size, const char *event, va_list ap)
{
        char esc[512];
        size_t o;
        int n;

        n = snprintf(line, size, "cubby: event=%s", log_escape(esc, sizeof esc, event));
        o = n < 0 ? 0 : (size_t)n;
        for (;;) {
                const char *k = va_arg(ap, const char *), *v;

                if (!k)
                        break;
                v = va_arg(ap, const char *);
                if (o >= size - 1)
                        continue;
                n = snprintf(line + o, size - o, " %s=%s", k, log_escape(esc, sizeof esc, v));
                if (n > 0)
                        o += (size_t)n;
        }
        return o < size ? o : size - 1;
}

void log_line(int prio, const char *line)
{
        syslog(LOG_AUTHPRIV | prio, "%s", line);
}

void log_event(int prio, const char *event, ...)
{
        char line[2048];
        va_list ap;

        va_start(ap, event);
        (void)log_format(line, sizeof line, event, ap);
        va_end(ap);
        log_line(prio, line);
}
