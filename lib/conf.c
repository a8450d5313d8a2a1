/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy file. This file holds what every part shares: the defaults,
 * the key names and the error text. The rest:
 *  - conf-parse.c: conf_parse() is a pure function: bytes in, sections
 *    appended to a Conf or one ConfError (file:line and a message) out. It
 *    is strict on purpose: an admin's typo must never silently change who
 *    is sandboxed or how (see pam_namespace, which ignores misspelt
 *    options). Every line is copied into a bounded buffer after its length
 *    is checked, and no recursion, no includes other than the drop-in
 *    directory that conf_load() reads itself.
 *  - conf-values.c: every value is validated completely, and a value that
 *    does not fit its field is refused, never truncated.
 *  - conf-load.c: conf_load() adds the file handling: each file is opened
 *    once by fd (O_NOFOLLOW, O_NONBLOCK so a FIFO cannot hang a login) and
 *    checked on that fd (regular, owner, not group/other writable, size)
 *    before it is read.
 *  - conf-resolve.c: conf_resolve(), which section wins for a user. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-internal.h"
#include "cubby/conf.h"
#include "cubby/util.h"

const char *const conf_policy_key_names[_CONF_KEY_MAX] = {
        [CONF_KEY_SANDBOX] = "sandbox",
        [CONF_KEY_CPU] = "cpu",
        [CONF_KEY_MEMORY] = "memory",
        [CONF_KEY_SWAP] = "swap",
        [CONF_KEY_PIDS] = "pids",
        [CONF_KEY_NETWORK] = "network",
        [CONF_KEY_SHELL] = "shell",
        [CONF_KEY_SERVICES] = "services",
        [CONF_KEY_HOSTNAME] = "hostname",
        [CONF_KEY_HIDE] = "hide",
        [CONF_KEY_MAX_SESSIONS] = "max_sessions",
        [CONF_KEY_HOME] = "home",
        [CONF_KEY_HOME_LOWER] = "home_lower",
        [CONF_KEY_SECCOMP] = "seccomp",
        [CONF_KEY_NETWORK_FALLBACK] = "network_fallback",
        [CONF_KEY_CPUS] = "cpus",
        [CONF_KEY_MAX_CONTAINERS] = "max_containers",
        [CONF_KEY_CONTAINER] = "container",
        [CONF_KEY_LINGER] = "linger",
        [CONF_KEY_IDLE_CPU] = "idle_cpu",
        [CONF_KEY_STOP_GRACE] = "stop_grace",
        [CONF_KEY_HOME_SIZE] = "home_size",
        [CONF_KEY_HOME_INODES] = "home_inodes",
        [CONF_KEY_HOME_LOWER_STATIC] = "home_lower_static",
};

const char *const conf_global_key_names[_GLOBAL_KEY_MAX] = {
        [GLOBAL_KEY_ADMIN_GROUP] = "admin_group",
        [GLOBAL_KEY_STATE_DIR] = "state_dir",
        [GLOBAL_KEY_RUN_DIR] = "run_dir",
        [GLOBAL_KEY_CGROUP_PARENT] = "cgroup_parent",
        [GLOBAL_KEY_BRIDGE] = "bridge",
        [GLOBAL_KEY_SUBNET] = "subnet",
        [GLOBAL_KEY_DNS] = "dns",
        [GLOBAL_KEY_DENY] = "deny",
        [GLOBAL_KEY_GATEWAY_PORTS] = "gateway_ports",
        [GLOBAL_KEY_NETWORK_MODE] = "network_mode",
};

/* Link-local (cloud metadata), RFC 1918, CGNAT, IPv6 ULA and link-local. */
static const char *const default_deny[] = {
        "169.254.0.0/16", "10.0.0.0/8",    "172.16.0.0/12", "192.168.0.0/16",
        "100.64.0.0/10",  "fc00::/7",      "fe80::/10",
};

void conf_policy_defaults(ConfPolicy *p)
{
        static const char *const services[] = { "sshd", "su", "su-l", "login" };

        memset(p, 0, sizeof *p);
        p->sandbox = false;
        p->cpu_milli = CONF_UNLIMITED;
        p->memory = CONF_UNLIMITED;
        p->swap = CONF_UNLIMITED;
        p->pids = CONF_UNLIMITED;
        p->network = CONF_NETWORK_NONE;
        p->network_fallback_none = false;
        (void)strscpy(p->shell, sizeof p->shell, "/bin/bash");
        for (size_t i = 0; i < ELEMENTSOF(services); i++)
                (void)strscpy(p->services[i], sizeof p->services[i], services[i]);
        p->n_services = ELEMENTSOF(services);
        (void)strscpy(p->hostname, sizeof p->hostname, "%h");
        p->n_hide = 0;
        p->max_sessions = CONF_DEFAULT_MAX_SESSIONS;
        p->max_containers = CONF_DEFAULT_MAX_CONTAINERS;
        p->container = CONF_CONTAINER_LOGIN;
        p->linger_s = 0;
        p->idle_cpu = CONF_DEFAULT_IDLE_CPU;
        p->stop_grace_s = CONF_DEFAULT_STOP_GRACE_S;
        p->home = CONF_HOME_PERSISTENT;
        (void)strscpy(p->home_lower, sizeof p->home_lower, "/home/%u");
        p->seccomp = CONF_SECCOMP_YES;
        p->cpus[0] = 0;
        p->home_size = CONF_UNLIMITED;
        p->home_inodes = CONF_UNLIMITED;
        p->home_lower_static = false;
}

void conf_init(Conf *conf)
{
        ConfGlobal *g = &conf->global;

        memset(conf, 0, sizeof *conf);
        (void)strscpy(g->admin_group, sizeof g->admin_group, "sudo");
        (void)strscpy(g->state_dir, sizeof g->state_dir, "/var/lib/cubby");
        (void)strscpy(g->run_dir, sizeof g->run_dir, "/run/cubby");
        (void)strscpy(g->cgroup_parent, sizeof g->cgroup_parent, "/system.slice/cubby.service");
        g->network_mode = CONF_NET_MODE_BRIDGE;
        (void)strscpy(g->bridge, sizeof g->bridge, "cubby0");
        g->subnet_addr = (10u << 24) | (213u << 16);
        g->subnet_prefix = 16;
        (void)strscpy(g->dns, sizeof g->dns, "auto");
        for (size_t i = 0; i < ELEMENTSOF(default_deny); i++)
                (void)strscpy(g->deny[i], sizeof g->deny[i], default_deny[i]);
        g->n_deny = ELEMENTSOF(default_deny);
        g->n_gateway_ports = 0;
        conf->sections = NULL;
        conf->n_sections = 0;
}

void conf_free(Conf *conf)
{
        if (!conf)
                return;
        free(conf->sections);
        conf->sections = NULL;
        conf->n_sections = 0;
}

const char *conf_key_name(int key)
{
        if (key < 0 || key >= _CONF_KEY_MAX)
                return NULL;
        return conf_policy_key_names[key];
}

const char *conf_net_mode_name(ConfNetMode m)
{
        return m == CONF_NET_MODE_ROUTED ? "routed" : "bridge";
}

void conf_error_format(const ConfError *err, char *buf, size_t size)
{
        if (!buf || size == 0)
                return;
        if (err->file[0] == 0)
                (void)snprintf(buf, size, "%s", err->msg);
        else if (err->line == 0)
                (void)snprintf(buf, size, "%s: %s", err->file, err->msg);
        else
                (void)snprintf(buf, size, "%s:%u: %s", err->file, err->line, err->msg);
}

static void copy_for_display(char *dst, size_t size, const char *src)
{
        size_t n = strnlen(src, size - 1);

        memcpy(dst, src, n);
        dst[n] = 0;
}

int conf_fail(ConfError *err, const char *file, unsigned line, int r, const char *fmt, ...)
{
        va_list ap;

        if (!err)
                return r;
        copy_for_display(err->file, sizeof err->file, file ? file : "");
        err->line = line;
        va_start(ap, fmt);
        (void)vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        return r;
}
