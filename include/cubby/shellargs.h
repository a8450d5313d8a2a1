/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The argv and environment the real shell gets. Pure functions: the
 * helper's caller (sshd, su, login) gives argv and environ, both belong to
 * the user and are treated as data, never as a decision. */
#pragma once

#include <stddef.h>

#include "cubby/record.h"

#define SHELL_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"
/* Caller variables of a prefix family (LC_*): at most this many, and this
 * many bytes ("NAME=value" and its NUL) together; the rest are dropped. */
#define SHELL_ENV_FAMILY_MAX 32
#define SHELL_ENV_FAMILY_BYTES 4096
/* Entries of the result, NULL included: PATH, the record's PAM env, the
 * fixed-name caller variables (TERM, LANG, LANGUAGE, 4 SSH_*), the family
 * bound, HOME, USER, LOGNAME, SHELL, and for container = user
 * XDG_RUNTIME_DIR and the helper's SSH_AUTH_SOCK. Large enough that no
 * caller input can make shell_env() fail with -E2BIG. */
#define SHELL_ENV_MAX (1 + RECORD_MAX_ENV + 7 + SHELL_ENV_FAMILY_MAX + 4 + 2 + 1)

/* Accepted shapes: [argv0] and [argv0, "-c", CMD]. argv0 starting with
 * '-' marks a login shell (sshd, login, su -l). Result: ["-"?basename(shell),
 * ("-c", CMD)?, NULL] in a malloc'd array that points into argv and into one
 * malloc'd string; free with shell_argv_free(). -EINVAL for argc == 0 or any
 * other shape. */
int shell_argv(const char *real_shell, int argc, char *const argv[], char ***ret);
void shell_argv_free(char **argv);

/* The environment: PATH default, then the record's saved PAM environment,
 * then the allow-listed variables from the caller's environment (TERM,
 * LANG, LANGUAGE, LC_*, SSH_CONNECTION, SSH_CLIENT, SSH_TTY,
 * SSH_ORIGINAL_COMMAND), each validated, then HOME, USER, LOGNAME and SHELL
 * from the record. Later entries replace earlier ones of the same name.
 * The result is a malloc'd NULL-terminated array of malloc'd strings.
 * Returns the number of caller variables dropped for exceeding the LC_*
 * bound (SHELL_ENV_FAMILY_*; the caller logs it), or -errno. */
int shell_env(const Record *rec, char *const caller_env[], char ***ret);
void shell_env_free(char **env);
