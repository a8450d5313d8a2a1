/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the policy's files share among themselves, not with their callers
 * (those use cubby/conf.h): conf.c (defaults, names, errors), conf-values.c
 * (one value each), conf-parse.c (the text), conf-load.c (the files) and
 * conf-resolve.c (which section wins). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cubby/conf.h"

#define CONF_CPU_MAX_MILLI (UINT64_C(4096) * 1000)
/* PID_MAX_LIMIT on 64-bit kernels; pids.max refuses more. */
#define CONF_PIDS_MAX 4194304u
/* memory below this is almost surely a missing suffix ("512" for "512M"). */
#define CONF_MEMORY_MIN (UINT64_C(1024) * 1024)
#define CONF_HOME_SIZE_MIN (UINT64_C(1024) * 1024)
#define CONF_MAX_DNS 3
/* cpus: CPU numbers below this (the cpu key's 4096 CPUs) */
#define CONF_CPUS_MAX 4096u
#define LIST_SEPARATORS " \t,"

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

extern const char *const conf_policy_key_names[_CONF_KEY_MAX];
extern const char *const conf_global_key_names[_GLOBAL_KEY_MAX];

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static inline bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static inline bool is_alnum(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline char lower(char c)
{
        if (c >= 'A' && c <= 'Z')
                return (char)(c - 'A' + 'a');
        return c;
}

/* The built-in values of every policy key. */
void conf_policy_defaults(ConfPolicy *p);
/* Fill err (file, line, message) and return r. */
__attribute__((format(printf, 5, 6)))
int conf_fail(ConfError *err, const char *file, unsigned line, int r, const char *fmt, ...);

/* conf-values.c: one value each; 0 or -EINVAL / -ERANGE, or true if good. */
int conf_parse_count(const char *s, uint64_t max, uint64_t *ret);
int conf_parse_bool(const char *s, bool *ret);
int conf_parse_cidr(const char *s, int *ret_family, unsigned char ret_addr[16], unsigned *ret_prefix);
bool conf_is_ip_address(const char *s);
bool conf_path_is_good(const char *s);
bool conf_hostname_pattern_is_good(const char *s);
int conf_cpus_list_check(const char *s);
bool conf_home_lower_is_good(const char *s);
bool conf_cgroup_parent_is_good(const char *s);
bool conf_bridge_is_good(const char *s);
/* The next entry of a list separated by LIST_SEPARATORS, NUL-terminated in
 * place; NULL at the end. */
char *conf_list_next(char **cursor);
