/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy file parser.
 *
 * conf_parse() is a pure function: bytes in, sections appended to a Conf or
 * one ConfError (file:line and a message) out. It is strict on purpose: an
 * admin's typo must never silently change who is sandboxed or how (see
 * pam_namespace, which ignores misspelt options). Every line is copied into
 * a bounded buffer after its length is checked, every value is validated
 * completely, and a value that does not fit its field is refused, never
 * truncated. No recursion, no includes other than the drop-in directory that
 * conf_load() reads itself.
 *
 * conf_load() adds the file handling: each file is opened once by fd
 * (O_NOFOLLOW, O_NONBLOCK so a FIFO cannot hang a login) and checked on that
 * fd (regular, owner, not group/other writable, size) before it is read. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cubby/conf.h"
#include "cubby/util.h"

#define CONF_CPU_MAX_MILLI (UINT64_C(4096) * 1000)
/* PID_MAX_LIMIT on 64-bit kernels; pids.max refuses more. */
#define CONF_PIDS_MAX 4194304u
/* memory below this is almost surely a missing suffix ("512" for "512M"). */
#define CONF_MEMORY_MIN (UINT64_C(1024) * 1024)
#define CONF_MAX_DNS 3
/* cpus: CPU numbers below this (the cpu key's 4096 CPUs) */
#define CONF_CPUS_MAX 4096u
#define LIST_SEPARATORS " \t,"

static const char *const policy_key_names[_CONF_KEY_MAX] = {
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
};

enum {
        GLOBAL_KEY_ADMIN_GROUP = 0,
        GLOBAL_KEY_STATE_DIR,
        GLOBAL_KEY_RUN_DIR,
        GLOBAL_KEY_CGROUP_PARENT,
        GLOBAL_KEY_BRIDGE,
        GLOBAL_KEY_SUBNET,
        GLOBAL_KEY_DNS,
        GLOBAL_KEY_DENY,
        GLOBAL_KEY_GATEWAY_PORTS,
        GLOBAL_KEY_NETWORK_MODE,
        _GLOBAL_KEY_MAX,
};

static const char *const global_key_names[_GLOBAL_KEY_MAX] = {
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

static bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
        if (c >= 'A' && c <= 'Z')
                return (char)(c - 'A' + 'a');
        return c;
}

static void conf_policy_defaults(ConfPolicy *p)
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
        p->home = CONF_HOME_PERSISTENT;
        (void)strscpy(p->home_lower, sizeof p->home_lower, "/home/%u");
        p->seccomp = CONF_SECCOMP_YES;
        p->cpus[0] = 0;
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
        return policy_key_names[key];
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

__attribute__((format(printf, 5, 6)))
static int conf_fail(ConfError *err, const char *file, unsigned line, int r, const char *fmt, ...)
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

/* ---- value parsers: 0, or -EINVAL / -ERANGE ---- */

int conf_parse_cpu(const char *s, uint64_t *ret_milli)
{
        uint64_t whole = 0, frac = 0, milli;
        unsigned n_frac = 0;
        const char *p = s;

        if (!s || !ret_milli)
                return -EINVAL;
        if (streq(s, "max")) {
                *ret_milli = CONF_UNLIMITED;
                return 0;
        }
        if (!is_digit(*p))
                return -EINVAL;
        for (; is_digit(*p); p++) {
                whole = whole * 10 + (uint64_t)(*p - '0');
                if (whole > CONF_CPU_MAX_MILLI / 1000)
                        return -ERANGE;
        }
        if (*p == '.') {
                p++;
                if (!is_digit(*p))
                        return -EINVAL;
                for (; is_digit(*p); p++) {
                        /* cpu.max takes microseconds per period; we keep
                         * milli-CPUs and refuse finer values rather than
                         * rounding them away. */
                        if (++n_frac > 3)
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t)(*p - '0');
                }
        }
        if (*p)
                return -EINVAL;
        for (; n_frac < 3; n_frac++)
                frac *= 10;
        milli = whole * 1000 + frac;
        if (milli == 0 || milli > CONF_CPU_MAX_MILLI)
                return -ERANGE;
        *ret_milli = milli;
        return 0;
}

/* Sizes: digits, optional ".digits" (at most 6, only with a suffix), optional
 * suffix K, M, G or T (powers of 1024, any case), optionally followed by "B"
 * or "iB"; a bare "B" means bytes. "max" and "unlimited" give CONF_UNLIMITED.
 * A fractional result is rounded down to whole bytes. */
int conf_parse_size(const char *s, uint64_t *ret_bytes)
{
        static const uint64_t pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
        uint64_t whole = 0, frac = 0, v, add;
        unsigned n_frac = 0, shift = 0;
        const char *p = s;

        if (!s || !ret_bytes)
                return -EINVAL;
        if (streq(s, "max") || streq(s, "unlimited")) {
                *ret_bytes = CONF_UNLIMITED;
                return 0;
        }
        if (!is_digit(*p))
                return -EINVAL;
        for (; is_digit(*p); p++) {
                uint64_t d = (uint64_t)(*p - '0');

                if (whole > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                whole = whole * 10 + d;
        }
        if (*p == '.') {
                p++;
                if (!is_digit(*p))
                        return -EINVAL;
                for (; is_digit(*p); p++) {
                        if (++n_frac >= ELEMENTSOF(pow10))
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t)(*p - '0');
                }
        }
        switch (lower(*p)) {
        case 'k': shift = 10; break;
        case 'm': shift = 20; break;
        case 'g': shift = 30; break;
        case 't': shift = 40; break;
        default: break;
        }
        if (shift > 0) {
                p++;
                if (lower(p[0]) == 'i' && lower(p[1]) == 'b')
                        p += 2;
                else if (lower(p[0]) == 'b')
                        p++;
        } else if (lower(p[0]) == 'b')
                p++;
        if (*p)
                return -EINVAL;
        if (n_frac > 0 && shift == 0)
                return -EINVAL; /* no fractions of a byte */

        if (whole > (UINT64_MAX >> shift))
                return -ERANGE;
        v = whole << shift;
        /* frac < 10^6 and 1 << shift <= 2^40: no overflow here */
        add = (frac << shift) / pow10[n_frac];
        if (v > UINT64_MAX - add)
                return -ERANGE;
        v += add;
        if (v == CONF_UNLIMITED) /* would read as "max" */
                return -ERANGE;
        *ret_bytes = v;
        return 0;
}

/* Integer >= 1 (at most max) or "max". */
static int parse_count(const char *s, uint64_t max, uint64_t *ret)
{
        uint64_t v;
        int r;

        if (streq(s, "max")) {
                *ret = CONF_UNLIMITED;
                return 0;
        }
        r = parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v == 0 || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int parse_bool(const char *s, bool *ret)
{
        if (streq(s, "yes") || streq(s, "true") || streq(s, "1"))
                *ret = true;
        else if (streq(s, "no") || streq(s, "false") || streq(s, "0"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

/* ADDR/PREFIX, IPv4 or IPv6, host bits zero. */
static int parse_cidr(const char *s, int *ret_family, unsigned char ret_addr[16],
                      unsigned *ret_prefix)
{
        char addr[INET6_ADDRSTRLEN];
        unsigned char bytes[16] = { 0 };
        const char *slash = strchr(s, '/'), *p;
        unsigned prefix = 0, bits;
        int family;

        if (!slash || (size_t)(slash - s) >= sizeof addr || slash == s)
                return -EINVAL;
        memcpy(addr, s, (size_t)(slash - s));
        addr[slash - s] = 0;
        if (inet_pton(AF_INET, addr, bytes) == 1) {
                family = AF_INET;
                bits = 32;
        } else if (inet_pton(AF_INET6, addr, bytes) == 1) {
                family = AF_INET6;
                bits = 128;
        } else
                return -EINVAL;

        p = slash + 1;
        if (!is_digit(*p) || (p[0] == '0' && p[1] != 0))
                return -EINVAL;
        for (; is_digit(*p); p++) {
                prefix = prefix * 10 + (unsigned)(*p - '0');
                if (prefix > bits)
                        return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        for (unsigned b = prefix; b < bits; b++)
                if (bytes[b / 8] & (0x80u >> (b % 8)))
                        return -EINVAL;
        if (ret_family)
                *ret_family = family;
        if (ret_addr)
                memcpy(ret_addr, bytes, sizeof bytes);
        if (ret_prefix)
                *ret_prefix = prefix;
        return 0;
}

static bool is_ip_address(const char *s)
{
        unsigned char buf[16];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* An absolute normalised path other than "/" itself, no component longer
 * than NAME_MAX, no blanks (lists of paths are blank-separated, and
 * "shell = /bin/bash -l" is a mistake, not a file name). */
static bool path_is_good(const char *s)
{
        if (!path_is_normalized_absolute(s) || streq(s, "/") || strpbrk(s, " \t"))
                return false;
        for (const char *c = s; *c;) {
                size_t n;

                c++; /* the '/' */
                n = strcspn(c, "/");
                if (n > NAME_MAX)
                        return false;
                c += n;
        }
        return true;
}

/* 1..63 of [A-Za-z0-9-], %u and %h; not starting or ending with '-'. */
static bool hostname_pattern_is_good(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (const char *p = s; *p; p++) {
                if (*p == '%') {
                        if (p[1] != 'u' && p[1] != 'h')
                                return false;
                        p++;
                } else if (!is_alnum(*p) && *p != '-')
                        return false;
        }
        return true;
}

void conf_hostname_expand(const char *pattern, const char *user, const char *host, char *out,
                          size_t size)
{
        size_t o = 0, hlen = strcspn(host, "."), skip;

        for (const char *c = pattern; *c && o + 1 < size; c++) {
                const char *sub = NULL;
                size_t n = SIZE_MAX;

                if (c[0] == '%' && c[1] == 'u')
                        sub = user;
                else if (c[0] == '%' && c[1] == 'h') {
                        sub = host;
                        n = hlen;
                }
                if (!sub) {
                        out[o++] = *c;
                        continue;
                }
                for (; *sub && n > 0 && o + 1 < size; sub++, n--)
                        out[o++] = (char)(is_alnum(*sub) || *sub == '-' ? *sub : '-');
                c++;
        }
        /* A label may neither begin nor end with '-' (RFC 1123); the cut
         * above or a user name like "ann_" would leave one. */
        while (o > 0 && out[o - 1] == '-')
                o--;
        out[o] = 0;
        skip = strspn(out, "-");
        memmove(out, out + skip, o - skip + 1);
        if (!out[0])
                (void)strscpy(out, size, "cubby");
}

/* A cpuset list: "N" or "N-M" items (N <= M < CONF_CPUS_MAX) separated by
 * ',', nothing else (no blanks, no empty items, no ":stride" of the kernel
 * syntax). 0, or -EINVAL, -ERANGE (a CPU number too large) or -EDOM (a
 * descending range). */
static int cpus_list_check(const char *s)
{
        const char *p = s;

        for (;;) {
                unsigned a = 0;

                if (!is_digit(*p))
                        return -EINVAL;
                for (; is_digit(*p); p++)
                        if ((a = a * 10 + (unsigned)(*p - '0')) >= CONF_CPUS_MAX)
                                return -ERANGE;
                if (*p == '-') {
                        unsigned b = 0;

                        p++;
                        if (!is_digit(*p))
                                return -EINVAL;
                        for (; is_digit(*p); p++)
                                if ((b = b * 10 + (unsigned)(*p - '0')) >= CONF_CPUS_MAX)
                                        return -ERANGE;
                        if (b < a)
                                return -EDOM;
                }
                if (*p == 0)
                        return 0;
                if (*p != ',')
                        return -EINVAL;
                p++;
        }
}

/* An absolute normalised path in which "%u" (the user name) may appear. */
static bool home_lower_is_good(const char *s)
{
        char buf[PATH_MAX];
        size_t j = 0;

        for (const char *p = s; *p; p++) {
                if (j + 1 >= sizeof buf)
                        return false;
                if (*p == '%') {
                        if (p[1] != 'u')
                                return false;
                        /* A user name is never empty nor "." or "..". */
                        buf[j++] = 'u';
                        p++;
                } else
                        buf[j++] = *p;
        }
        buf[j] = 0;
        return path_is_good(buf);
}

/* An absolute normalised path, or "./" and a relative one (below the cgroup
 * cubby itself runs in: used by the tests). */
static bool cgroup_parent_is_good(const char *s)
{
        char buf[PATH_MAX];

        if (s[0] == '.' && s[1] == '/') {
                if (snprintf(buf, sizeof buf, "/%s", s + 2) >= (int)sizeof buf)
                        return false;
                return path_is_good(buf);
        }
        return path_is_good(s);
}

static bool bridge_is_good(const char *s)
{
        size_t n = strlen(s);

        /* IFNAMSIZ - 1, and what the kernel's dev_valid_name() accepts. */
        if (n == 0 || n > 15 || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (!is_alnum(*p) && *p != '_' && *p != '.' && *p != '-')
                        return false;
        return true;
}

/* Next entry of a list separated by runs of spaces, tabs and commas;
 * the list is cut in place. */
static char *list_next(char **cursor)
{
        char *s = *cursor, *e;

        s += strspn(s, LIST_SEPARATORS);
        if (*s == 0) {
                *cursor = s;
                return NULL;
        }
        e = s + strcspn(s, LIST_SEPARATORS);
        if (*e) {
                *e = 0;
                e++;
        }
        *cursor = e;
        return s;
}

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
                                    "invalid %s name \"%.*s%s\" (1-%d of A-Z a-z 0-9 . _ -, "
                                    "not starting with . or -)",
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
                if (parse_bool(value, &v->sandbox) < 0)
                        return bad_value(p, kname, value, "expected yes or no");
                return 0;
        case CONF_KEY_SECCOMP: {
                bool b;

                if (streq(value, "allow_io_uring"))
                        v->seccomp = CONF_SECCOMP_ALLOW_IO_URING;
                else if (parse_bool(value, &b) == 0)
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
                if (parse_count(value, CONF_PIDS_MAX, &v->pids) < 0)
                        return bad_value(p, kname, value, "expected 1 to 4194304 or max");
                return 0;
        case CONF_KEY_MAX_SESSIONS:
                if (parse_count(value, UINT32_MAX, &v->max_sessions) < 0)
                        return bad_value(p, kname, value, "expected a number >= 1 or max");
                return 0;
        case CONF_KEY_MAX_CONTAINERS:
                if (parse_count(value, UINT32_MAX, &v->max_containers) < 0)
                        return bad_value(p, kname, value, "expected a number >= 1 or max");
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
                else
                        return bad_value(p, kname, value, "expected persistent or ephemeral");
                return 0;
        case CONF_KEY_SHELL:
                if (!path_is_good(value) || strscpy(v->shell, sizeof v->shell, value) < 0)
                        return bad_value(p, kname, value,
                                         "expected an absolute path like /bin/bash");
                return 0;
        case CONF_KEY_HOME_LOWER:
                if (!home_lower_is_good(value) ||
                    strscpy(v->home_lower, sizeof v->home_lower, value) < 0)
                        return bad_value(p, kname, value,
                                         "expected an absolute path, %u for the user, "
                                         "like /home/%u");
                return 0;
        case CONF_KEY_HOSTNAME:
                if (!hostname_pattern_is_good(value) ||
                    strscpy(v->hostname, sizeof v->hostname, value) < 0)
                        return bad_value(p, kname, value,
                                         "expected 1-63 of A-Z a-z 0-9 - with %u (user) "
                                         "and %h (host), like %u-%h");
                return 0;
        case CONF_KEY_CPUS:
                /* An empty value is "not set": no cpuset restriction. */
                if (strlen(value) >= sizeof v->cpus)
                        return bad_value(p, kname, value, "longer than 256 characters");
                r = *value ? cpus_list_check(value) : 0;
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
                while ((e = list_next(&cursor))) {
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
                while ((e = list_next(&cursor))) {
                        if (n >= CONF_MAX_HIDE)
                                return FAIL(p, -EINVAL, "too many paths in hide (at most %d)",
                                            CONF_MAX_HIDE);
                        if (!path_is_good(e) || strscpy(v->hide[n], sizeof v->hide[n], e) < 0)
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

                if (!path_is_good(value) || strscpy(f, PATH_MAX, value) < 0)
                        return bad_value(p, kname, value,
                                         "expected an absolute normalised path");
                return 0;
        }
        case GLOBAL_KEY_CGROUP_PARENT:
                if (!cgroup_parent_is_good(value) ||
                    strscpy(g->cgroup_parent, sizeof g->cgroup_parent, value) < 0)
                        return bad_value(p, kname, value,
                                         "expected an absolute path like /cubby, or ./NAME "
                                         "below cubby's own cgroup");
                return 0;
        case GLOBAL_KEY_BRIDGE:
                if (!bridge_is_good(value))
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

                if (parse_cidr(value, &family, a, &prefix) < 0 || family != AF_INET)
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
                while ((e = list_next(&cursor))) {
                        size_t el = strlen(e);

                        if (n >= CONF_MAX_DNS)
                                return FAIL(p, -EINVAL, "too many dns servers (at most %d)",
                                            CONF_MAX_DNS);
                        if (!is_ip_address(e))
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
                while ((e = list_next(&cursor))) {
                        if (n >= ELEMENTSOF(g->deny))
                                return FAIL(p, -EINVAL, "too many networks in deny (at most %zu)",
                                            ELEMENTSOF(g->deny));
                        if (parse_cidr(e, NULL, NULL, NULL) < 0 ||
                            strscpy(g->deny[n], sizeof g->deny[n], e) < 0)
                                return bad_entry(p, kname, e,
                                                 "expected a network like 192.168.0.0/16 "
                                                 "or fc00::/7 (host bits zero)");
                        n++;
                }
                g->n_deny = n;
                return 0;
        case GLOBAL_KEY_GATEWAY_PORTS:
                while ((e = list_next(&cursor))) {
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

        pk = lookup(policy_key_names, ELEMENTSOF(policy_key_names), key);
        gk = lookup(global_key_names, ELEMENTSOF(global_key_names), key);
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

/* ---- files ---- */

static int check_owner_mode(const struct stat *st, uid_t owner_uid, const char *path,
                            ConfError *err)
{
        if (st->st_uid != owner_uid) {
                if (owner_uid == 0)
                        return conf_fail(err, path, 0, -EPERM, "not owned by root (owner uid %u)",
                                         (unsigned)st->st_uid);
                return conf_fail(err, path, 0, -EPERM, "not owned by uid %u (owner uid %u)",
                                 (unsigned)owner_uid, (unsigned)st->st_uid);
        }
        /* Whoever can write the policy decides who is sandboxed. */
        if (st->st_mode & 022)
                return conf_fail(err, path, 0, -EPERM,
                                 "writable by group or others (mode %04o), refused; "
                                 "run chmod go-w",
                                 (unsigned)(st->st_mode & 07777));
        return 0;
}

static int open_error(ConfError *err, const char *path, int r)
{
        if (r == -ELOOP)
                return conf_fail(err, path, 0, r, "is a symbolic link, refused");
        return conf_fail(err, path, 0, r, "cannot open: %s", strerror(-r));
}

static int conf_load_one(Conf *conf, int dirfd, const char *name, const char *path,
                         uid_t owner_uid, ConfError *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct stat st;
        int r;

        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return open_error(err, path, -errno);
        if (fstat(fd, &st) < 0)
                return conf_fail(err, path, 0, -errno, "cannot stat: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return conf_fail(err, path, 0, -EBADFD, "not a regular file, refused");
        r = check_owner_mode(&st, owner_uid, path, err);
        if (r < 0)
                return r;
        if (st.st_size > CONF_MAX_FILE_SIZE)
                return conf_fail(err, path, 0, -EFBIG, "larger than %d bytes", CONF_MAX_FILE_SIZE);
        r = read_fd(fd, CONF_MAX_FILE_SIZE, &text, &len);
        if (r == -EFBIG)
                return conf_fail(err, path, 0, r, "larger than %d bytes", CONF_MAX_FILE_SIZE);
        if (r < 0)
                return conf_fail(err, path, 0, r, "cannot read: %s", strerror(-r));
        return conf_parse(conf, text, len, path, err);
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dropin_name(const char *n)
{
        size_t l = strlen(n);

        return n[0] != '.' && l > 5 && streq(n + l - 5, ".conf");
}

typedef struct NameList {
        char **names;
        size_t n;
} NameList;

static void name_list_free(NameList *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->names[i]);
        free(l->names);
        l->names = NULL;
        l->n = 0;
}

static void closedirp(DIR **d)
{
        if (*d)
                (void)closedir(*d);
}

static int list_dropins(int dirfd, const char *dir, NameList *ret, ConfError *err)
{
        _cleanup_(closedirp) DIR *d = NULL;
        int fd;

        fd = dup(dirfd);
        if (fd < 0)
                return conf_fail(err, dir, 0, -errno, "cannot read: %s", strerror(errno));
        d = fdopendir(fd);
        if (!d) {
                int r = -errno;

                close(fd);
                return conf_fail(err, dir, 0, r, "cannot read: %s", strerror(-r));
        }
        for (;;) {
                struct dirent *de;
                char *copy;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return conf_fail(err, dir, 0, -errno, "cannot read: %s",
                                                 strerror(errno));
                        break;
                }
                if (!is_dropin_name(de->d_name))
                        continue;
                /* the main file counts as one */
                if (ret->n + 1 >= CONF_MAX_FILES)
                        return conf_fail(err, dir, 0, -E2BIG, "too many files (at most %d)",
                                         CONF_MAX_FILES - 1);
                if ((ret->n & 15) == 0) {
                        char **nn = realloc(ret->names, (ret->n + 16) * sizeof *nn);

                        if (!nn)
                                return conf_fail(err, dir, 0, -ENOMEM, "out of memory");
                        ret->names = nn;
                }
                copy = strdup(de->d_name);
                if (!copy)
                        return conf_fail(err, dir, 0, -ENOMEM, "out of memory");
                ret->names[ret->n++] = copy;
        }
        if (ret->n > 0)
                qsort(ret->names, ret->n, sizeof *ret->names, cmp_names);
        return 0;
}

int conf_load(Conf *conf, const char *path, uid_t owner_uid, ConfError *err)
{
        _cleanup_(name_list_free) NameList l = { 0 };
        _cleanup_close_ int dfd = -1;
        char dir[PATH_MAX], file[PATH_MAX];
        struct stat st;
        int r;

        if (!conf || !path)
                return -EINVAL;
        conf_init(conf);
        if (snprintf(dir, sizeof dir, "%s.d", path) >= (int)sizeof dir)
                return conf_fail(err, path, 0, -ENAMETOOLONG, "path too long");

        r = conf_load_one(conf, AT_FDCWD, path, path, owner_uid, err);
        if (r < 0)
                return r;

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0) {
                if (errno == ENOENT)
                        return 0;
                if (errno == ENOTDIR)
                        /* O_DIRECTORY|O_NOFOLLOW on a symlink gives ENOTDIR or ELOOP */
                        return conf_fail(err, dir, 0, -ENOTDIR,
                                         "not a directory (or a symbolic link), refused");
                return open_error(err, dir, -errno);
        }
        if (fstat(dfd, &st) < 0)
                return conf_fail(err, dir, 0, -errno, "cannot stat: %s", strerror(errno));
        r = check_owner_mode(&st, owner_uid, dir, err);
        if (r < 0)
                return r;
        r = list_dropins(dfd, dir, &l, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l.n; i++) {
                if (snprintf(file, sizeof file, "%s/%s", dir, l.names[i]) >= (int)sizeof file)
                        return conf_fail(err, dir, 0, -ENAMETOOLONG, "path too long");
                r = conf_load_one(conf, dfd, l.names[i], file, owner_uid, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- resolution ---- */

static void copy_key(ConfPolicy *dst, const ConfPolicy *src, int key)
{
        switch (key) {
        case CONF_KEY_SANDBOX: dst->sandbox = src->sandbox; break;
        case CONF_KEY_CPU: dst->cpu_milli = src->cpu_milli; break;
        case CONF_KEY_MEMORY: dst->memory = src->memory; break;
        case CONF_KEY_SWAP: dst->swap = src->swap; break;
        case CONF_KEY_PIDS: dst->pids = src->pids; break;
        case CONF_KEY_NETWORK: dst->network = src->network; break;
        case CONF_KEY_SHELL: memcpy(dst->shell, src->shell, sizeof dst->shell); break;
        case CONF_KEY_SERVICES:
                memcpy(dst->services, src->services, sizeof dst->services);
                dst->n_services = src->n_services;
                break;
        case CONF_KEY_HOSTNAME: memcpy(dst->hostname, src->hostname, sizeof dst->hostname); break;
        case CONF_KEY_HIDE:
                memcpy(dst->hide, src->hide, sizeof dst->hide);
                dst->n_hide = src->n_hide;
                break;
        case CONF_KEY_MAX_SESSIONS: dst->max_sessions = src->max_sessions; break;
        case CONF_KEY_HOME: dst->home = src->home; break;
        case CONF_KEY_HOME_LOWER:
                memcpy(dst->home_lower, src->home_lower, sizeof dst->home_lower);
                break;
        case CONF_KEY_SECCOMP: dst->seccomp = src->seccomp; break;
        case CONF_KEY_NETWORK_FALLBACK:
                dst->network_fallback_none = src->network_fallback_none;
                break;
        case CONF_KEY_CPUS: memcpy(dst->cpus, src->cpus, sizeof dst->cpus); break;
        case CONF_KEY_MAX_CONTAINERS: dst->max_containers = src->max_containers; break;
        default: break;
        }
}

static bool section_matches(const ConfSection *s, ConfSectionKind kind, const char *user,
                            const char *const *groups, size_t n_groups)
{
        if (s->kind != kind)
                return false;
        switch (kind) {
        case CONF_SECTION_DEFAULT:
                return true;
        case CONF_SECTION_USER:
                return user && streq(s->name, user);
        case CONF_SECTION_GROUP:
                for (size_t i = 0; i < n_groups; i++)
                        if (groups && groups[i] && streq(s->name, groups[i]))
                                return true;
                return false;
        }
        return false;
}

void conf_resolve(const Conf *conf, const char *user, const char *const *groups, size_t n_groups,
                  ConfPolicy *ret, const ConfSection **sources)
{
        static const ConfSectionKind order[] = {
                CONF_SECTION_DEFAULT,
                CONF_SECTION_GROUP,
                CONF_SECTION_USER,
        };

        conf_policy_defaults(ret);
        if (sources)
                for (int k = 0; k < _CONF_KEY_MAX; k++)
                        sources[k] = NULL;
        if (!conf)
                return;
        for (size_t o = 0; o < ELEMENTSOF(order); o++)
                for (size_t i = 0; i < conf->n_sections; i++) {
                        const ConfSection *s = &conf->sections[i];

                        if (!section_matches(s, order[o], user, groups, n_groups))
                                continue;
                        for (int k = 0; k < _CONF_KEY_MAX; k++) {
                                if (!(s->set & (1u << k)))
                                        continue;
                                copy_key(ret, &s->values, k);
                                if (sources)
                                        sources[k] = s;
                        }
                }
}
