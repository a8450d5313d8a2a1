/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One policy value each: parse or check it completely, refuse what does
 * not fit (never truncate). Pure functions. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf-internal.h"
#include "cubby/conf.h"
#include "cubby/util.h"

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
int conf_parse_count(const char *s, uint64_t max, uint64_t *ret)
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

int conf_parse_duration(const char *s, uint64_t max_s, uint64_t *ret_s)
{
        char num[32];
        size_t l = strlen(s);
        uint64_t v, mul;

        if (streq(s, "0")) {
                *ret_s = 0;
                return 0;
        }
        if (l < 2 || l - 1 >= sizeof num)
                return -EINVAL;
        switch (s[l - 1]) {
        case 's': mul = 1; break;
        case 'm': mul = 60; break;
        case 'h': mul = 3600; break;
        case 'd': mul = 86400; break;
        default: return -EINVAL;
        }
        memcpy(num, s, l - 1);
        num[l - 1] = 0;
        /* digits only: parse_u64 takes no sign, space or base prefix */
        for (const char *c = num; *c; c++)
                if (!is_digit(*c))
                        return -EINVAL;
        if (parse_u64(num, &v) < 0)
                return -ERANGE;
        if (v > max_s / mul)
                return -ERANGE;
        *ret_s = v * mul;
        return 0;
}

void conf_duration_format(uint64_t s, char *buf, size_t size)
{
        if (s == 0)
                snprintf(buf, size, "0");
        else if (s % 86400 == 0)
                snprintf(buf, size, "%llud", (unsigned long long)(s / 86400));
        else if (s % 3600 == 0)
                snprintf(buf, size, "%lluh", (unsigned long long)(s / 3600));
        else if (s % 60 == 0)
                snprintf(buf, size, "%llum", (unsigned long long)(s / 60));
        else
                snprintf(buf, size, "%llus", (unsigned long long)s);
}

int conf_parse_bool(const char *s, bool *ret)
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
int conf_parse_cidr(const char *s, int *ret_family, unsigned char ret_addr[16],
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

bool conf_is_ip_address(const char *s)
{
        unsigned char buf[16];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* An absolute normalised path other than "/" itself, no component longer
 * than NAME_MAX, no blanks (lists of paths are blank-separated, and
 * "shell = /bin/bash -l" is a mistake, not a file name). */
bool conf_path_is_good(const char *s)
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
bool conf_hostname_pattern_is_good(const char *s)
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
int conf_cpus_list_check(const char *s)
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
bool conf_home_lower_is_good(const char *s)
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
        return conf_path_is_good(buf);
}

/* An absolute normalised path, or "./" and a relative one (below the cgroup
 * cubby itself runs in: used by the tests). */
bool conf_cgroup_parent_is_good(const char *s)
{
        char buf[PATH_MAX];

        if (s[0] == '.' && s[1] == '/') {
                if (snprintf(buf, sizeof buf, "/%s", s + 2) >= (int)sizeof buf)
                        return false;
                return conf_path_is_good(buf);
        }
        return conf_path_is_good(s);
}

bool conf_bridge_is_good(const char *s)
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
char *conf_list_next(char **cursor)
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
