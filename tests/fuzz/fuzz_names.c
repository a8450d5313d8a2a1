/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the small checks and escapers that stand between
 * user-controlled text and a decision or a log line. The input is split at
 * NUL bytes into fields; every check runs on every field, and the shell's
 * argv and environment are built from the fields as a caller would pass
 * them. Each function is compared against the promise its header makes,
 * written here a second, simpler way:
 *  - name_is_safe():     [A-Za-z0-9._@-]{1,max}, not starting with '-', '.'
 *                        or '@';
 *  - path_is_normalized_absolute(): '/' + components that are not empty,
 *                        "." or "..", no trailing '/', shorter than PATH_MAX;
 *  - log_escape():       one token of printable ASCII that fits the buffer,
 *                        and gives the input back when it was not cut short;
 *  - shell_argv():       only [argv0] and [argv0, "-c", CMD] are accepted;
 *  - shell_env():        the record's identity wins, unique names, only
 *                        allow-listed caller variables, no control bytes. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cubby/log.h"
#include "cubby/record.h"
#include "cubby/shellargs.h"
#include "cubby/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 64

static bool ref_name_is_safe(const char *s, size_t max)
{
        size_t n = strlen(s);

        if (n == 0 || n > max || s[0] == '-' || s[0] == '.' || s[0] == '@')
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == n;
}

static bool ref_path_is_normalized_absolute(const char *p)
{
        size_t n = strlen(p);
        const char *c;

        if (p[0] != '/' || n >= PATH_MAX)
                return false;
        if (n == 1)
                return true;
        /* walk the components between separators */
        c = p + 1;
        for (;;) {
                size_t len = strcspn(c, "/");

                if (len == 0)
                        return false; /* "//" or a trailing '/' */
                if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (c[len] == 0)
                        return true;
                c += len + 1;
        }
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* The escaped value must be one token a log reader can split on spaces,
 * and must decode to the input unless it was cut short ("..."). */
static void check_log_escape(const char *s)
{
        static const size_t sizes[] = { 0, 1, 7, 8, 9, 12, 16, 64, 512, 4096 };

        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                size_t size = sizes[i], n;
                char *buf = malloc(size ? size : 1), *dec, *d;
                const char *p, *end;
                bool quoted;

                if (!buf)
                        return;
                memset(buf, 'Z', size ? size : 1);
                if (log_escape(buf, size, s) != buf)
                        abort();
                if (size == 0) {
                        if (buf[0] != 'Z')
                                abort(); /* nothing written into a zero-size buffer */
                        free(buf);
                        continue;
                }
                n = strnlen(buf, size);
                if (n >= size)
                        abort(); /* unterminated or overflowing */
                if (size < 8) {
                        if (n != 0)
                                abort();
                        free(buf);
                        continue;
                }
                quoted = buf[0] == '"';
                if (quoted && (n < 2 || buf[n - 1] != '"'))
                        abort();
                p = buf + quoted;
                end = buf + n - quoted;
                dec = malloc(n + 1);
                if (!dec) {
                        free(buf);
                        return;
                }
                d = dec;
                while (p < end) {
                        unsigned char c = (unsigned char)*p;

                        if (c < 0x20 || c >= 0x7f || c == '"' || c == '=')
                                abort(); /* a raw control byte, quote or '=' in a value */
                        if (c == ' ' && !quoted)
                                abort(); /* an unquoted space splits the token */
                        if (c == '\\') {
                                int hi, lo;

                                if (end - p < 4 || p[1] != 'x' || (hi = hexval(p[2])) < 0 ||
                                    (lo = hexval(p[3])) < 0)
                                        abort(); /* only \xHH escapes */
                                *d++ = (char)(hi << 4 | lo);
                                p += 4;
                        } else {
                                *d++ = (char)c;
                                p++;
                        }
                }
                *d = 0;
                /* cut short: "..." at the end and a prefix of the input
                 * before it; otherwise the whole input comes back */
                if ((size_t)(d - dec) >= 3 && strcmp(d - 3, "...") == 0 &&
                    strncmp(dec, s, (size_t)(d - dec) - 3) == 0 && strcmp(dec, s) != 0) {
                        /* truncated: fine */
                } else if (strcmp(dec, s) != 0) {
                        abort();
                }
                free(dec);
                free(buf);
        }
}

static void check_shell_argv(const char *shell, int argc, char *const argv[])
{
        char **out = NULL;
        bool ok_shape = argc == 1 || (argc == 3 && strcmp(argv[1], "-c") == 0);
        const char *base = strrchr(shell, '/');
        int r;

        base = base ? base + 1 : shell;
        r = shell_argv(shell, argc, argv, &out);
        if (r < 0) {
                if (r != -EINVAL || (ok_shape && *base))
                        abort(); /* a good shape is never refused (no ENOMEM here) */
                return;
        }
        if (!ok_shape || !*base)
                abort();
        if (argv[0][0] == '-' ? out[0][0] != '-' || strcmp(out[0] + 1, base) != 0
                              : strcmp(out[0], base) != 0)
                abort(); /* argv0 is the real shell's name, login mark kept */
        if (argc == 3 ? (out[1] != argv[1] || out[2] != argv[2] || out[3]) : out[1] != NULL)
                abort();
        shell_argv_free(out);
}

static bool entry_has_name(char **env, const char *name, const char *value)
{
        size_t n = strlen(name);

        for (char **p = env; *p; p++)
                if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
                        return strcmp(*p + n + 1, value) == 0;
        return false;
}

static bool caller_name_allowed(const char *e)
{
        static const char *const names[] = { "TERM", "LANG", "LANGUAGE", "SSH_CONNECTION",
                                             "SSH_CLIENT", "SSH_TTY", "SSH_ORIGINAL_COMMAND",
                                             "PATH", "HOME", "USER", "LOGNAME", "SHELL" };
        size_t n = strcspn(e, "=");

        if (n > 3 && strncmp(e, "LC_", 3) == 0)
                return strspn(e + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == n - 3;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (strlen(names[i]) == n && strncmp(e, names[i], n) == 0)
                        return true;
        return false;
}

static void check_shell_env(char *const caller[])
{
        static Record rec; /* ~420 KiB: not on the stack */
        char **env = NULL;
        size_t n = 0;
        int r;

        memset(&rec, 0, sizeof rec);
        strcpy(rec.user, "student");
        strcpy(rec.home, "/home/student");
        strcpy(rec.shell, "/bin/bash");
        r = shell_env(&rec, caller, &env);
        if (r < 0) {
                /* no caller input can fill the environment (LC_* are
                 * bounded and dropped): only memory can fail */
                if (r != -ENOMEM)
                        abort();
                return;
        }
        if (!entry_has_name(env, "HOME", rec.home) || !entry_has_name(env, "USER", rec.user) ||
            !entry_has_name(env, "LOGNAME", rec.user) || !entry_has_name(env, "SHELL", rec.shell) ||
            !entry_has_name(env, "PATH", SHELL_DEFAULT_PATH))
                abort(); /* identity and PATH come from the record, never the caller */
        for (char **p = env; *p; p++, n++) {
                const char *eq = strchr(*p, '=');

                if (!eq || eq == *p || !caller_name_allowed(*p))
                        abort();
                for (const unsigned char *c = (const unsigned char *)*p; *c; c++)
                        if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
                                abort();
                for (char **q = env; q < p; q++)
                        if (strncmp(*q, *p, (size_t)(eq - *p) + 1) == 0)
                                abort(); /* one entry per name */
        }
        if (n >= SHELL_ENV_MAX)
                abort();
        shell_env_free(env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *copy, *fields[MAX_FIELDS + 1];
        int nf = 0;

        if (size > 65536)
                return -1;
        copy = malloc(size + 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        copy[size] = 0;
        for (char *p = copy; nf < MAX_FIELDS && p <= copy + size; p += strlen(p) + 1)
                fields[nf++] = p;
        fields[nf] = NULL;

        for (int i = 0; i < nf; i++) {
                const char *f = fields[i];

                for (size_t max = 0; max <= 40; max += 8)
                        if (name_is_safe(f, max) != ref_name_is_safe(f, max))
                                abort();
                if (path_is_normalized_absolute(f) != ref_path_is_normalized_absolute(f))
                        abort();
                check_log_escape(f);
        }
        if (name_is_safe(NULL, 8) || path_is_normalized_absolute(NULL))
                abort();

        /* argv as a caller passes it: the first field is the real shell */
        if (nf >= 2)
                check_shell_argv(fields[0], nf - 1 > 3 ? 3 : nf - 1, fields + 1);
        check_shell_env(fields);
        free(copy);
        return 0;
}
