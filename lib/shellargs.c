/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "cubby/conf.h"
#include "cubby/shellargs.h"

int shell_argv(const char *real_shell, int argc, char *const argv[], char ***ret)
{
        const char *base;
        bool login;
        char **out;
        char *a0;

        /* argc == 0 is how CVE-2021-4034 (pkexec) began: refuse it. */
        if (argc < 1 || !argv || !argv[0])
                return -EINVAL;
        if (argc != 1 && !(argc == 3 && strcmp(argv[1], "-c") == 0 && argv[2]))
                return -EINVAL;
        base = strrchr(real_shell, '/');
        base = base ? base + 1 : real_shell;
        if (!*base)
                return -EINVAL;
        login = argv[0][0] == '-';
        out = calloc(4, sizeof *out);
        if (asprintf(&a0, "%s%s", login ? "-" : "", base) < 0)
                a0 = NULL;
        if (!out || !a0) {
                free(out);
                free(a0);
                return -ENOMEM;
        }
        out[0] = a0;
        if (argc == 3) {
                out[1] = argv[1];
                out[2] = argv[2];
        }
        *ret = out;
        return 0;
}

void shell_argv_free(char **argv)
{
        if (!argv)
                return;
        free(argv[0]);
        free(argv);
}

/* Characters a value of this variable may contain; NULL: any printable
 * byte or tab (the user's own command). */
static const struct {
        const char *name;
        bool prefix;
        const char *charset;
        size_t max;
} allowed[] = {
        { "TERM", false, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-", 64 },
        { "LANG", false, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-", 64 },
        { "LANGUAGE", false, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@:-", 256 },
        { "LC_", true, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-", 64 },
        { "SSH_CONNECTION", false, "0123456789abcdefABCDEF.:% ", 256 },
        { "SSH_CLIENT", false, "0123456789abcdefABCDEF.:% ", 256 },
        { "SSH_TTY", false, "abcdefghijklmnopqrstuvwxyz0123456789/", 64 },
        { "SSH_ORIGINAL_COMMAND", false, NULL, 65536 },
};

/* 1: allowed, 2: allowed and of a prefix family (LC_*), 0: refused */
static int env_allowed(const char *entry)
{
        const char *eq = strchr(entry, '=');
        size_t nlen;

        if (!eq || eq == entry)
                return 0;
        nlen = (size_t)(eq - entry);
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                size_t alen = strlen(allowed[i].name);
                const char *v = eq + 1;

                if (allowed[i].prefix ? (nlen <= alen || strncmp(entry, allowed[i].name, alen) != 0)
                                      : (nlen != alen || strncmp(entry, allowed[i].name, alen) != 0))
                        continue;
                if (allowed[i].prefix &&
                    strspn(entry + alen, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != nlen - alen)
                        return 0;
                if (strlen(v) > allowed[i].max)
                        return 0;
                if (allowed[i].charset && strspn(v, allowed[i].charset) != strlen(v))
                        return 0;
                for (const unsigned char *c = (const unsigned char *)v; *c; c++)
                        if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
                                return 0;
                return allowed[i].prefix ? 2 : 1;
        }
        return 0;
}

typedef struct Env {
        char **v;
        size_t n;
        int err;
} Env;

static void env_set(Env *e, const char *entry)
{
        const char *eq = strchr(entry, '=');
        size_t nlen = eq ? (size_t)(eq - entry) + 1 : 0;
        char *copy;

        if (e->err || !eq)
                return;
        copy = strdup(entry);
        if (!copy) {
                e->err = -ENOMEM;
                return;
        }
        for (size_t i = 0; i < e->n; i++)
                if (strncmp(e->v[i], entry, nlen) == 0) {
                        free(e->v[i]);
                        e->v[i] = copy;
                        return;
                }
        if (e->n + 1 >= SHELL_ENV_MAX) {
                free(copy);
                e->err = -E2BIG;
                return;
        }
        e->v[e->n++] = copy;
}

static void env_set2(Env *e, const char *name, const char *value)
{
        char *s;

        if (asprintf(&s, "%s=%s", name, value) < 0) {
                e->err = -ENOMEM;
                return;
        }
        env_set(e, s);
        free(s);
}

int shell_env(const Record *rec, char *const caller_env[], char ***ret)
{
        size_t n_family = 0, family_bytes = 0;
        int dropped = 0;
        Env e = {};

        e.v = calloc(SHELL_ENV_MAX, sizeof *e.v);
        if (!e.v)
                return -ENOMEM;
        env_set2(&e, "PATH", SHELL_DEFAULT_PATH);
        for (size_t i = 0; i < rec->n_env; i++)
                env_set(&e, rec->env[i]);
        for (size_t i = 0; caller_env && caller_env[i]; i++) {
                int a = env_allowed(caller_env[i]);

                if (a == 0)
                        continue;
                /* A client may send as many LC_* as it likes (Debian's sshd
                 * accepts LC_*); past the bound they are dropped, so the
                 * login still starts with every variable that fits. */
                if (a == 2) {
                        size_t len = strlen(caller_env[i]) + 1;

                        if (n_family >= SHELL_ENV_FAMILY_MAX ||
                            family_bytes + len > SHELL_ENV_FAMILY_BYTES) {
                                dropped++;
                                continue;
                        }
                        n_family++;
                        family_bytes += len;
                }
                env_set(&e, caller_env[i]);
        }
        env_set2(&e, "HOME", rec->home);
        env_set2(&e, "USER", rec->user);
        env_set2(&e, "LOGNAME", rec->user);
        env_set2(&e, "SHELL", rec->shell);
        /* container = user: a tmpfs of the user's inside (the helper's
         * mount.c) */
        if (rec->container == CONF_CONTAINER_USER) {
                char dir[32];

                snprintf(dir, sizeof dir, "/run/user/%u", (unsigned)rec->uid);
                env_set2(&e, "XDG_RUNTIME_DIR", dir);
        }
        if (e.err) {
                shell_env_free(e.v);
                return e.err;
        }
        *ret = e.v;
        return dropped;
}

void shell_env_free(char **env)
{
        if (!env)
                return;
        for (char **p = env; *p; p++)
                free(*p);
        free(env);
}
