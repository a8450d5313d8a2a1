/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing the session record (the PAM module, as root): the text form,
 * values escaped, written atomically. record.c reads it back. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cubby/conf.h"
#include "cubby/record-write.h"
#include "cubby/util.h"

/* A growing string for record_format. */
typedef struct Buf {
        char *p;
        size_t len, cap;
        int err;
} Buf;

static void buf_put(Buf *b, const char *key, const char *value)
{
        char esc[RECORD_VALUE_MAX * 4 + 1];
        size_t need;
        int r;

        if (b->err)
                return;
        r = record_escape(value, esc, sizeof esc);
        if (r < 0) {
                b->err = r;
                return;
        }
        need = strlen(key) + 1 + strlen(esc) + 2;
        if (b->len + need > RECORD_MAX_SIZE) {
                b->err = -E2BIG;
                return;
        }
        if (b->len + need > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                char *np;

                while (cap < b->len + need)
                        cap *= 2;
                np = realloc(b->p, cap);
                if (!np) {
                        b->err = -ENOMEM;
                        return;
                }
                b->p = np;
                b->cap = cap;
        }
        b->len += (size_t)sprintf(b->p + b->len, "%s=%s\n", key, esc);
}

static void buf_putu(Buf *b, const char *key, unsigned long long v)
{
        char s[32];

        snprintf(s, sizeof s, "%llu", v);
        buf_put(b, key, s);
}

int record_format(const Record *r, char **ret)
{
        Buf b = {};
        char s[PATH_MAX + 64];

        buf_putu(&b, "version", 1);
        buf_put(&b, "id", r->id);
        buf_put(&b, "state", r->ready ? "ready" : "preparing");
        if (record_key(r->opener_pid, r->opener_start, s, sizeof s) < 0)
                b.err = b.err ?: -EINVAL;
        buf_put(&b, "opener", s);
        buf_putu(&b, "uid", r->uid);
        buf_putu(&b, "gid", r->gid);
        buf_put(&b, "user", r->user);
        buf_put(&b, "home", r->home);
        buf_put(&b, "shell", r->shell);
        buf_put(&b, "gecos", r->gecos);
        buf_put(&b, "mode", r->mode == RECORD_MODE_LOGIN_SHELL ? "login-shell" : "redirect");
        if (r->redirect[0])
                buf_put(&b, "redirect", r->redirect);
        buf_put(&b, "sandbox", r->sandbox ? "yes" : "no");
        buf_put(&b, "service", r->service);
        buf_put(&b, "rhost", r->rhost);
        buf_put(&b, "tty", r->tty);
        buf_put(&b, "hostname", r->hostname);
        buf_put(&b, "seccomp", conf_seccomp_name(r->seccomp));
        buf_put(&b, "container", conf_container_name(r->container));
        buf_put(&b, "network", r->network ? "nat" : "none");
        buf_putu(&b, "created", r->created);
        if (r->state_dir[0])
                buf_put(&b, "state_dir", r->state_dir);
        if (r->run_dir[0])
                buf_put(&b, "run_dir", r->run_dir);
        if (r->home_mount[0])
                buf_put(&b, "home_mount", r->home_mount);
        if (r->home_direct)
                buf_put(&b, "home_direct", "yes");
        if (r->network) {
                snprintf(s, sizeof s, "%s %u.%u.%u.%u/%u %s%s", r->bridge, r->subnet >> 24,
                         (r->subnet >> 16) & 255, (r->subnet >> 8) & 255, r->subnet & 255,
                         r->prefix, r->net_fallback_none ? "fallback-none" : "refuse",
                         r->net_routed ? " routed" : "");
                buf_put(&b, "net", s);
                buf_put(&b, "resolv", r->resolv);
                if (r->max_containers)
                        buf_putu(&b, "max_containers", r->max_containers);
        }
        for (size_t i = 0; i < r->cgroup.n; i++) {
                if (cg_dir_format(&r->cgroup.dir[i], s, sizeof s) < 0)
                        b.err = b.err ?: -EINVAL;
                buf_put(&b, "cgroup", s);
        }
        if (r->n_groups > 0) {
                char g[RECORD_MAX_GROUPS * 12];
                size_t o = 0;

                for (size_t i = 0; i < r->n_groups && i < RECORD_MAX_GROUPS; i++)
                        o += (size_t)snprintf(g + o, sizeof g - o, "%s%u", i ? "," : "",
                                              (unsigned)r->groups[i]);
                buf_put(&b, "groups", g);
        }
        for (size_t i = 0; i < r->n_group_names && i < RECORD_MAX_GROUPS; i++) {
                snprintf(s, sizeof s, "%u %s", (unsigned)r->group_names[i].gid,
                         r->group_names[i].name);
                buf_put(&b, "group_name", s);
        }
        for (size_t i = 0; i < r->n_env; i++)
                buf_put(&b, "env", r->env[i]);
        for (size_t i = 0; i < r->n_hide; i++)
                buf_put(&b, "hide", r->hide[i]);
        if (b.err < 0) {
                free(b.p);
                return b.err;
        }
        *ret = b.p;
        return 0;
}

int record_key_parse(const char *key, pid_t *ret_pid, uint64_t *ret_start)
{
        char again[RECORD_KEY_MAX];
        const char *dash = strchr(key, '-');
        char pid[16];
        uint64_t p, st;

        if (!dash || dash == key || (size_t)(dash - key) >= sizeof pid)
                return -EINVAL;
        memcpy(pid, key, (size_t)(dash - key));
        pid[dash - key] = 0;
        if (parse_u64(pid, &p) < 0 || p == 0 || p > INT_MAX || parse_u64(dash + 1, &st) < 0)
                return -EINVAL;
        /* only the one spelling record_key writes */
        if (record_key((pid_t)p, st, again, sizeof again) < 0 || strcmp(again, key) != 0)
                return -EINVAL;
        *ret_pid = (pid_t)p;
        *ret_start = st;
        return 0;
}

int record_write(int sessions_dirfd, const Record *r)
{
        _cleanup_free_ char *text = NULL;
        char key[RECORD_KEY_MAX];
        int k;

        k = record_key(r->opener_pid, r->opener_start, key, sizeof key);
        if (k < 0)
                return k;
        k = record_format(r, &text);
        if (k < 0)
                return k;
        return write_file_atomic_at_nosync(sessions_dirfd, key, text, strlen(text), 0600);
}
