/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* argv rewriting and the environment allow-list of the real shell. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cubby/shellargs.h"

static void test_argv_shapes(void **state)
{
        char *login[] = { (char *)"-cubby-shell", NULL };
        char *plain[] = { (char *)"bash", NULL };
        char *cmd[] = { (char *)"bash", (char *)"-c", (char *)"exit 7", NULL };
        char *logincmd[] = { (char *)"-bash", (char *)"-c", (char *)"id", NULL };
        char *extra[] = { (char *)"bash", (char *)"-c", (char *)"x", (char *)"y", NULL };
        char *flag[] = { (char *)"bash", (char *)"-i", NULL };
        char *two[] = { (char *)"bash", (char *)"-c", NULL };
        char **out = NULL;

        /* login-shell mode: argv0 is the helper's name; it becomes the real shell's */
        assert_int_equal(shell_argv("/bin/bash", 1, login, &out), 0);
        assert_string_equal(out[0], "-bash");
        assert_null(out[1]);
        shell_argv_free(out);

        assert_int_equal(shell_argv("/usr/bin/zsh", 1, plain, &out), 0);
        assert_string_equal(out[0], "zsh");
        shell_argv_free(out);

        assert_int_equal(shell_argv("/bin/bash", 3, cmd, &out), 0);
        assert_string_equal(out[0], "bash");
        assert_string_equal(out[1], "-c");
        assert_string_equal(out[2], "exit 7");
        assert_null(out[3]);
        shell_argv_free(out);

        assert_int_equal(shell_argv("/bin/bash", 3, logincmd, &out), 0);
        assert_string_equal(out[0], "-bash");
        shell_argv_free(out);

        /* everything else is refused */
        assert_int_equal(shell_argv("/bin/bash", 0, plain, &out), -EINVAL);
        assert_int_equal(shell_argv("/bin/bash", 4, extra, &out), -EINVAL);
        assert_int_equal(shell_argv("/bin/bash", 2, flag, &out), -EINVAL);
        assert_int_equal(shell_argv("/bin/bash", 2, two, &out), -EINVAL);
        assert_int_equal(shell_argv("/bin/", 1, plain, &out), -EINVAL);
}

static const char *get(char **env, const char *name)
{
        size_t n = strlen(name);

        for (; *env; env++)
                if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
                        return *env + n + 1;
        return NULL;
}

static void test_env(void **state)
{
        Record *rec = calloc(1, sizeof *rec);
        char *caller[] = {
                (char *)"LD_PRELOAD=/tmp/evil.so",
                (char *)"PATH=/tmp/evil",
                (char *)"HOME=/root",
                (char *)"GCONV_PATH=/tmp",
                (char *)"BASH_ENV=/tmp/x",
                (char *)"TERM=xterm-256color",
                (char *)"LANG=en_US.UTF-8",
                (char *)"LC_ALL=C",
                (char *)"LC_=x",
                (char *)"LC_bad=x",
                (char *)"SSH_CONNECTION=198.51.100.1 5555 198.51.100.2 22",
                (char *)"SSH_TTY=/dev/pts/3",
                (char *)"SSH_ORIGINAL_COMMAND=ls -la; echo \"hi\"",
                (char *)"TERM2=x",
                (char *)"SSH_CLIENT=1.2.3.4 5 6\nINJECT=1",
                (char *)"=weird",
                NULL,
        };
        char **env = NULL;

        strcpy(rec->user, "alice");
        strcpy(rec->home, "/home/alice");
        strcpy(rec->shell, "/bin/bash");
        rec->n_env = 2;
        strcpy(rec->env[0], "LANG=de_DE.UTF-8");
        strcpy(rec->env[1], "PATH=/opt/course/bin:/usr/bin:/bin");

        assert_int_equal(shell_env(rec, caller, &env), 0);
        assert_null(get(env, "LD_PRELOAD"));
        assert_null(get(env, "GCONV_PATH"));
        assert_null(get(env, "BASH_ENV"));
        assert_null(get(env, "TERM2"));
        assert_null(get(env, "LC_bad"));
        assert_null(get(env, "LC_"));
        assert_null(get(env, "SSH_CLIENT")); /* a control character: refused */
        assert_null(get(env, "INJECT"));
        /* PATH: the admin's (PAM env), never the caller's */
        assert_string_equal(get(env, "PATH"), "/opt/course/bin:/usr/bin:/bin");
        assert_string_equal(get(env, "HOME"), "/home/alice");
        assert_string_equal(get(env, "USER"), "alice");
        assert_string_equal(get(env, "LOGNAME"), "alice");
        assert_string_equal(get(env, "SHELL"), "/bin/bash");
        assert_string_equal(get(env, "TERM"), "xterm-256color");
        /* the caller's LANG (sshd's AcceptEnv) wins over the PAM default */
        assert_string_equal(get(env, "LANG"), "en_US.UTF-8");
        assert_string_equal(get(env, "LC_ALL"), "C");
        assert_string_equal(get(env, "SSH_TTY"), "/dev/pts/3");
        assert_string_equal(get(env, "SSH_ORIGINAL_COMMAND"), "ls -la; echo \"hi\"");
        assert_non_null(get(env, "SSH_CONNECTION"));
        shell_env_free(env);

        /* without PAM env: the fixed default PATH */
        rec->n_env = 0;
        assert_int_equal(shell_env(rec, NULL, &env), 0);
        assert_string_equal(get(env, "PATH"), SHELL_DEFAULT_PATH);
        shell_env_free(env);
        free(rec);
}

/* 150 LC_* (sshd's AcceptEnv LANG LC_*) used to fail with
 * -E2BIG and refuse the login; now the bound's worth is kept, the rest
 * counted as dropped, and the fixed names still pass. */
static void test_env_lc_flood(void **state)
{
        Record *rec = calloc(1, sizeof *rec);
        char *caller[160 + 8];
        char **env = NULL;
        size_t n = 0, n_lc = 0;
        int r;

        (void)state;
        assert_non_null(rec);
        strcpy(rec->user, "alice");
        strcpy(rec->home, "/home/alice");
        strcpy(rec->shell, "/bin/bash");
        /* a full PAM environment too: no room may be taken from it */
        rec->n_env = RECORD_MAX_ENV;
        for (size_t i = 0; i < RECORD_MAX_ENV; i++)
                snprintf(rec->env[i], sizeof rec->env[i], "PAMVAR%c%c=x", 'A' + (int)(i / 26),
                         'A' + (int)(i % 26));
        caller[n++] = (char *)"TERM=xterm";
        for (int i = 0; i < 150; i++) {
                caller[n] = malloc(32);
                assert_non_null(caller[n]);
                snprintf(caller[n], 32, "LC_X%c%c=de_DE.UTF-8", 'A' + i / 26, 'A' + i % 26);
                n++;
        }
        caller[n++] = (char *)"SSH_ORIGINAL_COMMAND=make";
        caller[n] = NULL;
        r = shell_env(rec, caller, &env);
        assert_int_equal(r, 150 - SHELL_ENV_FAMILY_MAX);
        for (char **p = env; *p; p++)
                if (strncmp(*p, "LC_", 3) == 0)
                        n_lc++;
        assert_int_equal(n_lc, SHELL_ENV_FAMILY_MAX);
        assert_non_null(get(env, "LC_XAA"));       /* the first ones are kept */
        assert_null(get(env, "LC_XFT"));           /* the last one is not */
        assert_string_equal(get(env, "TERM"), "xterm");
        assert_string_equal(get(env, "SSH_ORIGINAL_COMMAND"), "make");
        assert_string_equal(get(env, "PAMVARCL"), "x");
        assert_string_equal(get(env, "HOME"), "/home/alice");
        shell_env_free(env);

        /* the byte bound: LC_* names may be long; 303 bytes each here */
        for (size_t i = 1; i < 1 + 150; i++)
                free(caller[i]);
        n = 0;
        for (int i = 0; i < 20; i++) {
                caller[n] = malloc(400);
                assert_non_null(caller[n]);
                memset(caller[n], 'L', 399);
                memcpy(caller[n], "LC_", 3);
                caller[n][300] = (char)('A' + i);
                caller[n][301] = '=';
                caller[n][302] = 0;
                n++;
        }
        caller[n] = NULL;
        r = shell_env(rec, caller, &env);
        assert_int_equal(r, 20 - (int)(SHELL_ENV_FAMILY_BYTES / 303));
        shell_env_free(env);
        for (size_t i = 0; i < n; i++)
                free(caller[i]);
        free(rec);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_argv_shapes),
                cmocka_unit_test(test_env),
                cmocka_unit_test(test_env_lc_flood),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
