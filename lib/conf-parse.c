/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conf_parse(): the text of one policy file, strictly, into sections of a
 * Conf, or one ConfError with file:line. Pure: no I/O. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-internal.h"
#include "cubby/conf.h"
#include "cubby/util.h"

/* ---- the parser ---- */

typedef enum {
        SECTION_NONE,
        SECTION_GLOBAL,
        SECTION_POLICY,
} SectionState;

typedef struct Parser {
        Conf *conf;
        const char *file;
        ConfError *err;
        unsigned line;
        SectionState state;
        char label[CONF_NAME_MAX + 16];      /* "[group students]" for messages */
        unsigned key_line[_CONF_KEY_MAX];    /* where each key was set in this section */
        unsigned global_line[_GLOBAL_KEY_MAX];
} Parser;

#define FAIL(p, r, ...) conf_fail((p)->err, (p)->file, (p)->line, (r), __VA_ARGS__)

/* "abc" or the first 60 bytes of a long value and "...". */
#define SHOW(s) (int)(strlen(s) > 60 ? 60 : strlen(s)), (s), (strlen(s) > 60 ? "..." : "")

static int bad_value(Parser *p, const char *key, const char *value, const char *why)
{
        return FAIL(p, -EINVAL, "bad value \"%.*s%s\" for %s: %s", SHOW(value), key, why);
}

static int bad_entry(Parser *p, const char *key, const char *entry, const char *why)
{
        return FAIL(p, -EINVAL, "bad entry \"%.*s%s\" in %s: %s", SHOW(entry), key, why);
}

/* Capacity is implicit: the next power of two >= n_sections (at least 4), so
 * Conf needs no extra field and appends stay amortised O(1). */
static int conf_add_section(Parser *p, ConfSectionKind kind, const char *name)
{
        Conf *c = p->conf;
        ConfSection *s;
        size_t n = c->n_sections;

        if (n >= CONF_MAX_SECTIONS)
                return FAIL(p, -E2BIG, "too many sections (at most %d in all files)",
                            CONF_MAX_SECTIONS);
        if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
                size_t cap = n == 0 ? 4 : n * 2;
                ConfSection *ns = realloc(c->sections, cap * sizeof *ns);

                if (!ns)
                        return FAIL(p, -ENOMEM, "out of memory");
                c->sections = ns;
        }
        s = &c->sections[n];
        memset(s, 0, sizeof *s);
        s->kind = kind;
        (void)strscpy(s->name, sizeof s->name, name);
        (void)strscpy(s->file, sizeof s->file, p->file); /* length checked in conf_parse */
        s->line = p->line;
        s->set = 0;
        conf_policy_defaults(&s->values);
        c->n_sections = n + 1;
        return 0;
}

static int parse_section_header(Parser *p, char *s)
{
        size_t n = strlen(s);
        char *inner, *kind, *name, *rest;

        /* s is trimmed and starts with '[' */
        if (s[n - 1] != ']')
                return FAIL(p, -EINVAL, "section header must end with \"]\"");
        s[n - 1] = 0;
        inner = s + 1;
        kind = inner + strspn(inner, " \t");
        name = kind + strcspn(kind, " \t");
        if (*name) {
                *name++ = 0;
                name += strspn(name, " \t");
        }
        rest = name + strcspn(name, " \t");
        if (*rest) {
                *rest++ = 0;
                rest += strspn(rest, " \t");
        }
        if (*rest)
                return FAIL(p, -EINVAL, "unexpected \"%.*s%s\" in section header", SHOW(rest));

        memset(p->key_line, 0, sizeof p->key_line);
        memset(p->global_line, 0, sizeof p->global_line);

        if (streq(kind, "global") || streq(kind, "default")) {
                if (*name)
                        return FAIL(p, -EINVAL, "section [%s] takes no name", kind);
                (void)snprintf(p->label, sizeof p->label, "[%s]", kind);
                if (streq(kind, "global")) {
                        p->state = SECTION_GLOBAL;
                        return 0;
                }
                p->state = SECTION_POLICY;
                return conf_add_section(p, CONF_SECTION_DEFAULT, "");
        }
        if (streq(kind, "group") || streq(kind, "user")) {
                if (!*name)
                        return FAIL(p, -EINVAL, "section [%s] needs a name: [%s NAME]", kind,
                                    kind);
                if (!name_is_safe(name, CONF_NAME_MAX - 1))
                        return FAIL(p, -EINVAL,
                                    "invalid %s name \"%.*s%s\" (1-%d of A-Z a-z 0-9 . _ - @, "
                                    "not starting with . - or @)",
                                    kind, SHOW(name), CONF_NAME_MAX - 1);
                (void)snprintf(p->label, sizeof p->label, "[%s %s]", kind, name);
                p->state = SECTION_POLICY;
                return conf_add_section(p, streq(kind, "group") ? CONF_SECTION_GROUP
                                                                : CONF_SECTION_USER,
                                        name);
        }
        return FAIL(p, -EINVAL,
                    "unknown section \"[%.*s%s]\" (expected [global], [default], [group NAME] "
                    "or [user NAME])",
                    SHOW(kind));
}

static int parse_policy_value(Parser *p, int key, const char *kname, char *value,
                              ConfPolicy *v)
{
        char *cursor = value, *e;
        size_t n = 0;
        int r;

        switch (key) {
        case CONF_KEY_SANDBOX:
                if (conf_parse_bool(value, &v->sandbox) < 0)
                        return bad_value(p, kname, value, "expected yes or no");
                return 0;
        case CONF_KEY_SECCOMP: {
                bool b;

                if (streq(value, "allow_io_uring"))
                        v->seccomp = CONF_SECCOMP_ALLOW_IO_URING;
                else if (conf_parse_bool(value, &b) == 0)
                        v->seccomp = b ? CONF_SECCOMP_YES : CONF_SECCOMP_NO;
                else
                        return bad_value(p, kname, value, "expected yes, no or allow_io_uring");
                return 0;
        }
        case CONF_KEY_CPU:
                r = conf_parse_cpu(value, &v->cpu_milli);
                if (r == -ERANGE)
                        return bad_value(p, kname, value, "must be above 0 and at most 4096 CPUs");
                if (r < 0)
                        return bad_value(p, kname, value,
                                         "expected a number of CPUs like 0.5 or 2 "
                                         "(at most 3 decimals) or max");
                return 0;
        case CONF_KEY_MEMORY:
        case CONF_KEY_SWAP: {
                uint64_t *f = key == CONF_KEY_MEMORY ? &v->memory : &v->swap;

                r = conf_parse_size(value, f);
                if (r == -ERANGE)
                        return bad_value(p, kname, value, "too large");
                if (r < 0)
                        return bad_value(p, kname, value,
                                         "expected a size like 512M, 1.5G, 2T or max");
                if (key == CONF_KEY_MEMORY && *f < CONF_MEMORY_MIN)
                        return bad_value(p, kname, value,
                                         "below 1M, every login would be killed at once "
                                         "(missing suffix? 512 means 512 bytes)");
                return 0;
        }
        case CONF_KEY_PIDS:
                if (conf_parse_count(value, CONF_PIDS_MAX, &v->pids) < 0)
                        return bad_value(p, kname, value, "expected 1 to 4194304 or max");
                return 0;
        case CONF_KEY_MAX_SESSIONS:
                if (conf_parse_count(value, UINT32_MAX, &v->max_sessions) < 0)
                        return bad_value(p, kname, value, "expected a number >= 1 or max");
                return 0;
        case CONF_KEY_MAX_CONTAINERS:
                if (conf_parse_count(value, UINT32_MAX, &v->max_containers) < 0)
                        return bad_value(p, kname, value, "expected a number >= 1 or max");
                return 0;
        case CONF_KEY_CONTAINER:
                if (streq(value, "login"))
                        v->container = CONF_CONTAINER_LOGIN;
                else if (streq(value, "user"))
                        v->container = CONF_CONTAINER_USER;
                else
                        return bad_value(p, kname, value, "expected login or user");
                return 0;
        case CONF_KEY_LINGER:
                if (streq(value, "always")) {
                        v->linger_s = CONF_LINGER_ALWAYS;
                        return 0;
                }
                r = conf_parse_duration(value, CONF_LINGER_MAX_S, &v->linger_s);
                if (r == -ERANGE)
                        return bad_value(p, kname, value, "at most 365d");
                if (r < 0)
                        return bad_value(p, kname, value,
                                         "expected 0, always or a duration like 30s, 15m, 2h "
                                         "or 1d");
                return 0;
        case CONF_KEY_STOP_GRACE:
                r = conf_parse_duration(value, CONF_STOP_GRACE_MAX_S, &v->stop_grace_s);
                if (r == -ERANGE)
                        return bad_value(p, kname, value, "at most 60s");
                if (r < 0)
                        return bad_value(p, kname, value,
                                         "expected 0 or a duration like 5s or 1m");
                return 0;
        case CONF_KEY_IDLE_CPU: {
                char num[8];
                size_t l = strlen(value);
                uint64_t u;

                /* "5" or "5%" */
                if (l > 0 && value[l - 1] == '%')
                        l--;
                if (l == 0 || l >= sizeof num)
                        return bad_value(p, kname, value,
                                         "expected a percent of one CPU from 1 to 100, like 5");
                memcpy(num, value, l);
                num[l] = 0;
                if (parse_u64(num, &u) < 0 || u < 1 || u > 100)
                        return bad_value(p, kname, value,
                                         "expected a percent of one CPU from 1 to 100, like 5");
                v->idle_cpu = (unsigned)u;
                return 0;
        }
        case CONF_KEY_HOME_SIZE:
                r = conf_parse_size(value, &v->home_size);
                if (r == -ERANGE)
                        return bad_value(p, kname, value, "too large");
                if (r < 0)
                        return bad_value(p, kname, value,
                                         "expected a size like 512M, 1.5G, 2T or max");
                if (v->home_size < CONF_HOME_SIZE_MIN)
                        return bad_value(p, kname, value,
                                         "below 1M, no home fits (missing suffix? 512 means "
                                         "512 bytes)");
                return 0;
        case CONF_KEY_HOME_INODES:
                if (conf_parse_count(value, UINT32_MAX, &v->home_inodes) < 0)
                        return bad_value(p, kname, value, "expected 1 to 4294967295 or max");
                return 0;
        case CONF_KEY_NETWORK:
                if (streq(value, "none"))
                        v->network = CONF_NETWORK_NONE;
                else if (streq(value, "nat"))
                        v->network = CONF_NETWORK_NAT;
                else
                        return bad_value(p, kname, value, "expected none or nat");
                return 0;
        case CONF_KEY_NETWORK_FALLBACK:
                if (streq(value, "refuse"))
                        v->network_fallback_none = false;
                else if (streq(value, "none"))
                        v->network_fallback_none = true;
                else
                        return bad_value(p, kname, value, "expected refuse or none");
                return 0;
        case CONF_KEY_HOME:
                if (streq(value, "persistent"))
                        v->home = CONF_HOME_PERSISTENT;
                else if (streq(value, "ephemeral"))
                        v->home = CONF_HOME_EPHEMERAL;
                else if (streq(value, "direct"))
                        v->home = CONF_HOME_DIRECT;
                else
                        return bad_value(p, kname, value,
                                         "expected persistent, ephemeral or direct");
                return 0;
        case CONF_KEY_SHELL:
                if (!conf_path_is_good(value) || strscpy(v->shell, sizeof v->shell, value) < 0)
                        return bad_value(p, kname, value,
                                         "expected an absolute path like /bin/bash");
                return 0;
        case CONF_KEY_HOME_LOWER_STATIC:
                if (conf_parse_bool(value, &v->home_lower_static) < 0)
                        return bad_value(p, kname, value, "expected yes or no");
                return 0;
        case CONF_KEY_HOME_LOWER:
                if (!conf_home_lower_is_good(value) ||
                    strscpy(v->home_lower, sizeof v->home_lower, value) < 0)
                        return bad_value(p, kname, value,
                                         "expected an absolute path, %u for the user, "
                                         "like /home/%u");
                return 0;
        case CONF_KEY_HOSTNAME:
                if (!conf_hostname_pattern_is_good(value) ||
                    strscpy(v->hostname, sizeof v->hostname, value) < 0)
                        return bad_value(p, kname, value,
                                         "expected 1-63 of A-Z a-z 0-9 - with %u (user) "
                                         "and %h (host), like %u-%h");
                return 0;
        case CONF_KEY_CPUS:
                /* An empty value is "not set": no cpuset restriction. */
                if (strlen(value) >= sizeof v->cpus)
                        return bad_value(p, kname, value, "longer than 256 characters");
                r = *value ? conf_cpus_list_check(value) : 0;
                if (r == -ERANGE)
                        return bad_value(p, kname, value, "CPU numbers must be below 4096");
                if (r == -EDOM)
                        return bad_value(p, kname, value, "a range must be ascending, like 2-5");
                if (r < 0)
                        return bad_value(p, kname, value,
                                         "expected a CPU list like 0-3 or 0,2,4-7 "
                                         "(digits, ',' and '-' only)");
                (void)strscpy(v->cpus, sizeof v->cpus, value);
                return 0;
        case CONF_KEY_SERVICES:
                while ((e = conf_list_next(&cursor))) {
                        if (n >= CONF_MAX_SERVICES)
                                return FAIL(p, -EINVAL, "too many services (at most %d)",
                                            CONF_MAX_SERVICES);
                        if (!name_is_safe(e, CONF_NAME_MAX - 1))
                                return bad_entry(p, kname, e, "not a PAM service name");
                        (void)strscpy(v->services[n], sizeof v->services[n], e);
                        n++;
                }
                if (n == 0)
                        return FAIL(p, -EINVAL, "services needs at least one PAM service name");
                v->n_services = n;
                return 0;
        case CONF_KEY_HIDE:
                /* An empty value is an empty list: nothing hidden. */
                while ((e = conf_list_next(&cursor))) {
                        if (n >= CONF_MAX_HIDE)
                                return FAIL(p, -EINVAL, "too many paths in hide (at most %d)",
                                            CONF_MAX_HIDE);
                        if (!conf_path_is_good(e) || strscpy(v->hide[n], sizeof v->hide[n], e) < 0)
                                return bad_entry(p, kname, e,
                                                 "expected an absolute path like /srv");
                        n++;
                }
                v->n_hide = n;
                return 0;
        default:
                return FAIL(p, -EINVAL, "internal error: key %d", key);
        }
}

static int parse_global_value(Parser *p, int key, const char *kname, char *value)
{
        ConfGlobal *g = &p->conf->global;
        char *cursor = value, *e;
        size_t n = 0;

        switch (key) {
        case GLOBAL_KEY_ADMIN_GROUP:
                if (!name_is_safe(value, CONF_NAME_MAX - 1))
                        return bad_value(p, kname, value, "not a group name");
                (void)strscpy(g->admin_group, sizeof g->admin_group, value);
                return 0;
        case GLOBAL_KEY_STATE_DIR:
        case GLOBAL_KEY_RUN_DIR: {
                char *f = key == GLOBAL_KEY_STATE_DIR ? g->state_dir : g->run_dir;

                if (!conf_path_is_good(value) || strscpy(f, PATH_MAX, value) < 0)
                        return bad_value(p, kname, value,
                                         "expected an absolute normalised path");
                return 0;
        }
        case GLOBAL_KEY_CGROUP_PARENT:
                if (!conf_cgroup_parent_is_good(value) ||
                    strscpy(g->cgroup_parent, sizeof g->cgroup_parent, value) < 0)
                        return bad_value(p, kname, value,
                                         "expected an absolute path like /cubby, or ./NAME "
                                         "below cubby's own cgroup");
                return 0;
        case GLOBAL_KEY_BRIDGE:
                if (!conf_bridge_is_good(value))
                        return bad_value(p, kname, value,
                                         "expected 1-15 of A-Z a-z 0-9 _ . - (an interface name)");
                (void)strscpy(g->bridge, sizeof g->bridge, value);
                return 0;
        case GLOBAL_KEY_NETWORK_MODE:
                if (streq(value, "bridge"))
                        g->network_mode = CONF_NET_MODE_BRIDGE;
                else if (streq(value, "routed"))
                        g->network_mode = CONF_NET_MODE_ROUTED;
                else
                        return bad_value(p, kname, value, "expected bridge or routed");
                return 0;
        case GLOBAL_KEY_SUBNET: {
                unsigned char a[16];
                unsigned prefix;
                int family;
                uint32_t addr;

                if (conf_parse_cidr(value, &family, a, &prefix) < 0 || family != AF_INET)
                        return bad_value(p, kname, value,
                                         "expected an IPv4 network like 10.213.0.0/16 "
                                         "(host bits zero)");
                if (prefix < 8 || prefix > 30)
                        return bad_value(p, kname, value, "prefix must be 8 to 30");
                addr = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) |
                       a[3];
                /* 0/8 "this network", 127/8 loopback, 224/3 multicast and reserved */
                if (a[0] == 0 || a[0] == 127 || a[0] >= 224)
                        return bad_value(p, kname, value, "not a usable unicast network");
                g->subnet_addr = addr;
                g->subnet_prefix = prefix;
                return 0;
        }
        case GLOBAL_KEY_DNS: {
                char buf[sizeof g->dns];
                size_t len = 0;

                if (streq(value, "auto")) {
                        (void)strscpy(g->dns, sizeof g->dns, "auto");
                        return 0;
                }
                buf[0] = 0;
                while ((e = conf_list_next(&cursor))) {
                        size_t el = strlen(e);

                        if (n >= CONF_MAX_DNS)
                                return FAIL(p, -EINVAL, "too many dns servers (at most %d)",
                                            CONF_MAX_DNS);
                        if (!conf_is_ip_address(e))
                                return bad_entry(p, kname, e,
                                                 "expected auto or IPv4/IPv6 addresses");
                        if (len + (len > 0) + el >= sizeof buf)
                                return bad_entry(p, kname, e, "too long");
                        if (len > 0)
                                buf[len++] = ',';
                        memcpy(buf + len, e, el + 1);
                        len += el;
                        n++;
                }
                if (n == 0)
                        return bad_value(p, kname, value, "expected auto or IP addresses");
                memcpy(g->dns, buf, len + 1);
                return 0;
        }
        case GLOBAL_KEY_DENY:
                /* An empty value is an empty list: nothing denied but the
                 * sandbox-to-sandbox and sandbox-to-host rules. */
                while ((e = conf_list_next(&cursor))) {
                        if (n >= ELEMENTSOF(g->deny))
                                return FAIL(p, -EINVAL, "too many networks in deny (at most %zu)",
                                            ELEMENTSOF(g->deny));
                        if (conf_parse_cidr(e, NULL, NULL, NULL) < 0 ||
                            strscpy(g->deny[n], sizeof g->deny[n], e) < 0)
                                return bad_entry(p, kname, e,
                                                 "expected a network like 192.168.0.0/16 "
                                                 "or fc00::/7 (host bits zero)");
                        n++;
                }
                g->n_deny = n;
                return 0;
        case GLOBAL_KEY_GATEWAY_PORTS:
                while ((e = conf_list_next(&cursor))) {
                        uint64_t port;

                        if (n >= ELEMENTSOF(g->gateway_ports))
                                return FAIL(p, -EINVAL,
                                            "too many gateway_ports (at most %zu)",
                                            ELEMENTSOF(g->gateway_ports));
                        if (parse_u64(e, &port) < 0 || port < 1 || port > 65535)
                                return bad_entry(p, kname, e, "expected a port 1-65535");
                        g->gateway_ports[n++] = (uint16_t)port;
                }
                g->n_gateway_ports = n;
                return 0;
        default:
                return FAIL(p, -EINVAL, "internal error: key %d", key);
        }
}

static int lookup(const char *const *names, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (streq(names[i], key))
                        return (int)i;
        return -1;
}

static int parse_assignment(Parser *p, char *s)
{
        char *eq = strchr(s, '='), *key = s, *value, *end;
        int pk, gk;

        if (!eq)
                return FAIL(p, -EINVAL, "expected \"key = value\" or a [section], got \"%.*s%s\"",
                            SHOW(s));
        *eq = 0;
        value = eq + 1;
        value += strspn(value, " \t");
        end = eq;
        while (end > key && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        *end = 0;
        if (!*key)
                return FAIL(p, -EINVAL, "missing key before \"=\"");

        pk = lookup(conf_policy_key_names, ELEMENTSOF(conf_policy_key_names), key);
        gk = lookup(conf_global_key_names, ELEMENTSOF(conf_global_key_names), key);
        if (p->state == SECTION_NONE) {
                if (pk < 0 && gk < 0)
                        return FAIL(p, -EINVAL, "unknown key \"%.*s%s\" outside of any section",
                                    SHOW(key));
                return FAIL(p, -EINVAL,
                            "key \"%s\" outside of any section (start with [global] or "
                            "[default])",
                            key);
        }
        if (pk < 0 && gk < 0)
                return FAIL(p, -EINVAL, "unknown key \"%.*s%s\" in %s", SHOW(key), p->label);

        if (p->state == SECTION_GLOBAL) {
                if (gk < 0)
                        return FAIL(p, -EINVAL,
                                    "key \"%s\" is not allowed in [global] (it belongs in "
                                    "[default], [group NAME] or [user NAME])",
                                    key);
                if (p->global_line[gk] > 0)
                        return FAIL(p, -EINVAL, "duplicate key \"%s\" in [global] (first on line %u)",
                                    key, p->global_line[gk]);
                p->global_line[gk] = p->line;
                /* deny, hide and gateway_ports may be empty: an empty list */
                if (!*value && gk != GLOBAL_KEY_DENY && gk != GLOBAL_KEY_GATEWAY_PORTS)
                        return FAIL(p, -EINVAL, "missing value for \"%s\"", key);
                return parse_global_value(p, gk, key, value);
        }

        if (pk < 0)
                return FAIL(p, -EINVAL, "key \"%s\" is only allowed in [global], not in %s", key,
                            p->label);
        if (p->key_line[pk] > 0)
                return FAIL(p, -EINVAL, "duplicate key \"%s\" in %s (first on line %u)", key,
                            p->label, p->key_line[pk]);
        p->key_line[pk] = p->line;
        if (!*value && pk != CONF_KEY_HIDE && pk != CONF_KEY_CPUS)
                return FAIL(p, -EINVAL, "missing value for \"%s\"", key);
        {
                ConfSection *sec = &p->conf->sections[p->conf->n_sections - 1];
                int r = parse_policy_value(p, pk, key, value, &sec->values);

                if (r < 0)
                        return r;
                sec->set |= 1u << pk;
        }
        return 0;
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\r';
}

static int parse_one_line(Parser *p, const char *start, size_t len)
{
        char buf[CONF_MAX_LINE + 1], *s, *e;

        if (len > CONF_MAX_LINE)
                return FAIL(p, -EINVAL, "line longer than %d bytes", CONF_MAX_LINE);
        if (memchr(start, 0, len))
                return FAIL(p, -EINVAL, "NUL byte in line");
        memcpy(buf, start, len);
        buf[len] = 0;

        /* '#' starts a comment anywhere; no value may contain one. */
        e = strchr(buf, '#');
        if (e)
                *e = 0;
        s = buf;
        while (is_space(*s))
                s++;
        e = s + strlen(s);
        while (e > s && is_space(e[-1]))
                e--;
        *e = 0;
        if (!*s)
                return 0;
        for (const char *c = s; *c; c++)
                if ((unsigned char)*c < 0x20 && *c != '\t')
                        return FAIL(p, -EINVAL, "control character 0x%02x in line",
                                    (unsigned)(unsigned char)*c);
                else if ((unsigned char)*c == 0x7f)
                        return FAIL(p, -EINVAL, "control character 0x7f in line");

        if (*s == '[')
                return parse_section_header(p, s);
        return parse_assignment(p, s);
}

int conf_parse(Conf *conf, const char *text, size_t len, const char *filename, ConfError *err)
{
        Parser p = {
                .conf = conf,
                .file = filename ? filename : "",
                .err = err,
                .state = SECTION_NONE,
        };
        size_t off = 0;

        if (!conf || (!text && len > 0))
                return -EINVAL;
        if (strlen(p.file) >= PATH_MAX)
                return conf_fail(err, p.file, 0, -ENAMETOOLONG, "file name too long");
        if (len > CONF_MAX_FILE_SIZE)
                return conf_fail(err, p.file, 0, -EFBIG, "larger than %d bytes",
                                 CONF_MAX_FILE_SIZE);

        while (off < len) {
                const char *start = text + off, *nl = memchr(start, '\n', len - off);
                size_t n = nl ? (size_t)(nl - start) : len - off;
                int r;

                p.line++;
                r = parse_one_line(&p, start, n);
                if (r < 0)
                        return r;
                off += n + (nl ? 1 : 0);
        }
        return 0;
}
