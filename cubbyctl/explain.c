/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl explain USER: the policy that applies to USER, each value with
 * the file:line it comes from. */
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "cubby/user-policy.h"

/* policy[key] = { "value": value, "from": "file:line" | null (default) } */
static void explain_value(json_t *policy, const char *key, const char *value, const ConfSection *src)
{
        json_t *e = json_object();

        out_set(e, "value", out_str(value));
        if (src) {
                char where[PATH_MAX + 16];

                snprintf(where, sizeof where, "%s:%u", src->file, src->line);
                out_set(e, "from", out_str(where));
        } else {
                out_set(e, "from", json_null());
        }
        out_set(policy, key, e);
}

static void fmt_limit(uint64_t v, char *buf, size_t size)
{
        if (v == CONF_UNLIMITED)
                snprintf(buf, size, "max");
        else
                snprintf(buf, size, "%llu", (unsigned long long)v);
}

static void explain_text(const json_t *v)
{
        json_t *policy = json_object_get(v, "policy");

        printf("user %s (uid %lld)%s\n", out_get_str(v, "user"), out_get_int(v, "uid"),
               out_get_bool(v, "admin") ? ": root or admin group, never sandboxed" : "");
        /* in the order the keys were set (jansson keeps insertion order) */
        for (void *it = json_object_iter(policy); it; it = json_object_iter_next(policy, it)) {
                const json_t *e = json_object_iter_value(it);
                const char *key = json_object_iter_key(it);
                const char *from = json_string_value(json_object_get(e, "from"));

                printf("%-16s %s    # %s\n", key, out_get_str(e, "value"), from ? from : "default");
        }
}

/* The policy's values for p as strings, in the order of the man page. */
static void explain_policy(const Conf *conf, const ConfPolicy *p, bool admin,
                           const ConfSection *const *src, json_t *policy)
{
        char v[PATH_MAX];

        explain_value(policy, "sandbox", p->sandbox && !admin ? "yes" : "no", src[CONF_KEY_SANDBOX]);
        if (p->cpu_milli == CONF_UNLIMITED)
                snprintf(v, sizeof v, "max");
        else
                snprintf(v, sizeof v, "%llu.%03llu", (unsigned long long)p->cpu_milli / 1000,
                         (unsigned long long)p->cpu_milli % 1000);
        explain_value(policy, "cpu", v, src[CONF_KEY_CPU]);
        explain_value(policy, "cpus", p->cpus[0] ? p->cpus : "all", src[CONF_KEY_CPUS]);
        fmt_limit(p->memory, v, sizeof v);
        explain_value(policy, "memory", v, src[CONF_KEY_MEMORY]);
        fmt_limit(p->swap, v, sizeof v);
        explain_value(policy, "swap", v, src[CONF_KEY_SWAP]);
        fmt_limit(p->pids, v, sizeof v);
        explain_value(policy, "pids", v, src[CONF_KEY_PIDS]);
        fmt_limit(p->max_sessions, v, sizeof v);
        explain_value(policy, "max_sessions", v, src[CONF_KEY_MAX_SESSIONS]);
        fmt_limit(p->max_containers, v, sizeof v);
        explain_value(policy, "max_containers", v, src[CONF_KEY_MAX_CONTAINERS]);
        explain_value(policy, "container", conf_container_name(p->container),
                      src[CONF_KEY_CONTAINER]);
        explain_value(policy, "network", p->network == CONF_NETWORK_NAT ? "nat" : "none",
                      src[CONF_KEY_NETWORK]);
        explain_value(policy, "network_fallback", p->network_fallback_none ? "none" : "refuse",
                      src[CONF_KEY_NETWORK_FALLBACK]);
        /* A [global] key (the same for everyone), shown where it applies. */
        if (p->network == CONF_NETWORK_NAT)
                out_set(policy, "network_mode",
                        json_pack("{s:o,s:s}", "value",
                                  out_str(conf_net_mode_name(conf->global.network_mode)), "from",
                                  "[global]"));
        explain_value(policy, "shell", p->shell, src[CONF_KEY_SHELL]);
        v[0] = 0;
        for (size_t i = 0; i < p->n_services; i++)
                snprintf(v + strlen(v), sizeof v - strlen(v), "%s%s", i ? " " : "", p->services[i]);
        explain_value(policy, "services", v, src[CONF_KEY_SERVICES]);
        explain_value(policy, "hostname", p->hostname, src[CONF_KEY_HOSTNAME]);
        v[0] = 0;
        for (size_t i = 0; i < p->n_hide; i++)
                snprintf(v + strlen(v), sizeof v - strlen(v), "%s%s", i ? " " : "", p->hide[i]);
        explain_value(policy, "hide", v, src[CONF_KEY_HIDE]);
        explain_value(policy, "home",
                      p->home == CONF_HOME_DIRECT      ? "direct"
                      : p->home == CONF_HOME_EPHEMERAL ? "ephemeral"
                                                       : "persistent",
                      src[CONF_KEY_HOME]);
        /* home = direct binds pw_dir itself: no lower, and the quotas are
         * the file server's */
        explain_value(policy, "home_lower",
                      p->home == CONF_HOME_DIRECT ? "(not used with home = direct: the home is pw_dir)"
                                                  : p->home_lower,
                      src[CONF_KEY_HOME_LOWER]);
        fmt_limit(p->home_size, v, sizeof v);
        if (p->home == CONF_HOME_DIRECT && p->home_size != CONF_UNLIMITED)
                snprintf(v + strlen(v), sizeof v - strlen(v),
                         " (ignored with home = direct: quotas stay with the file server)");
        explain_value(policy, "home_size", v, src[CONF_KEY_HOME_SIZE]);
        fmt_limit(p->home_inodes, v, sizeof v);
        if (p->home == CONF_HOME_DIRECT && p->home_inodes != CONF_UNLIMITED)
                snprintf(v + strlen(v), sizeof v - strlen(v),
                         " (ignored with home = direct: quotas stay with the file server)");
        explain_value(policy, "home_inodes", v, src[CONF_KEY_HOME_INODES]);
        explain_value(policy, "seccomp", conf_seccomp_name(p->seccomp), src[CONF_KEY_SECCOMP]);
        /* the lifetime of a per-user container */
        if (p->linger_s == CONF_LINGER_ALWAYS)
                snprintf(v, sizeof v, "always");
        else
                conf_duration_format(p->linger_s, v, sizeof v);
        explain_value(policy, "linger", v, src[CONF_KEY_LINGER]);
        snprintf(v, sizeof v, "%u", p->idle_cpu);
        explain_value(policy, "idle_cpu", v, src[CONF_KEY_IDLE_CPU]);
        conf_duration_format(p->stop_grace_s, v, sizeof v);
        explain_value(policy, "stop_grace", v, src[CONF_KEY_STOP_GRACE]);
}

int cmd_explain(Ctl *c, int argc, char **argv)
{
        const ConfSection *src[_CONF_KEY_MAX];
        int r;
        struct passwd *pw;
        bool admin;
        ConfPolicy p;
        json_t *v, *policy;

        if (argc != 2) {
                fprintf(stderr, "usage: cubbyctl explain USER\n");
                return 2;
        }
        if (ctl_load_config(c, true) < 0)
                return 1;
        pw = getpwnam(argv[1]);
        if (!pw) {
                fprintf(stderr, "cubbyctl: no user %s\n", argv[1]);
                return 1;
        }
        r = user_policy(&c->conf, c->conf.global.admin_group, pw, &admin, &p, src);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: explain: the groups of %s: %s\n", pw->pw_name, strerror(-r));
                return 1;
        }
        v = json_object();
        policy = json_object();
        out_set(v, "user", out_str(pw->pw_name));
        out_set(v, "uid", json_integer(pw->pw_uid));
        out_set(v, "admin", json_boolean(admin));
        explain_policy(&c->conf, &p, admin, src, policy);
        out_set(v, "policy", policy);
        r = out_emit(c, v, explain_text);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: explain: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
