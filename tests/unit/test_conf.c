/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cubby/conf.h"
#include "cubby/util.h"

#define GIB (1024ull * 1024 * 1024)
#define MIB (1024ull * 1024)

/* Parse text as "t.conf" into a fresh conf. */
static int parse(Conf *c, const char *text, ConfError *e)
{
        conf_init(c);
        memset(e, 0, sizeof *e);
        return conf_parse(c, text, strlen(text), "t.conf", e);
}

/* text must fail with a formatted error that starts with want. */
static void expect_error_at(const char *text, const char *want, const char *where, int lineno)
{
        Conf c;
        ConfError e;
        char buf[PATH_MAX + 300];
        int r = parse(&c, text, &e);

        conf_error_format(&e, buf, sizeof buf);
        if (r >= 0 || strncmp(buf, want, strlen(want)) != 0) {
                print_error("%s:%d: input:\n%s\nwant error: %s\ngot r=%d: %s\n", where, lineno,
                            text, want, r, r < 0 ? buf : "(none)");
                conf_free(&c);
                fail();
        }
        conf_free(&c);
}
#define expect_error(text, want) expect_error_at((text), (want), __FILE__, __LINE__)

/* "[default]\n" + line must parse; returns the section's values. */
static void policy_ok_at(const char *line, ConfPolicy *ret, const char *where, int lineno)
{
        char text[CONF_MAX_LINE + 64];
        Conf c;
        ConfError e;
        int r;

        snprintf(text, sizeof text, "[default]\n%s\n", line);
        r = parse(&c, text, &e);
        if (r < 0) {
                char buf[PATH_MAX + 300];

                conf_error_format(&e, buf, sizeof buf);
                print_error("%s:%d: \"%s\" refused: %s\n", where, lineno, line, buf);
                conf_free(&c);
                fail();
        }
        assert_int_equal(c.n_sections, 1);
        assert_int_not_equal(c.sections[0].set, 0);
        memcpy(ret, &c.sections[0].values, sizeof *ret);
        conf_free(&c);
}
#define policy_ok(line, ret) policy_ok_at((line), (ret), __FILE__, __LINE__)

static void policy_bad_at(const char *line, const char *want_msg, const char *where, int lineno)
{
        char text[CONF_MAX_LINE + 64], want[512];

        snprintf(text, sizeof text, "[default]\n%s\n", line);
        snprintf(want, sizeof want, "t.conf:2: %s", want_msg);
        expect_error_at(text, want, where, lineno);
}
#define policy_bad(line, want) policy_bad_at((line), (want), __FILE__, __LINE__)

static void global_ok_at(const char *line, Conf *ret, const char *where, int lineno)
{
        char text[CONF_MAX_LINE + 64];
        ConfError e;
        int r;

        snprintf(text, sizeof text, "[global]\n%s\n", line);
        r = parse(ret, text, &e);
        if (r < 0) {
                char buf[PATH_MAX + 300];

                conf_error_format(&e, buf, sizeof buf);
                print_error("%s:%d: \"%s\" refused: %s\n", where, lineno, line, buf);
                fail();
        }
        assert_int_equal(ret->n_sections, 0);
}
#define global_ok(line, ret) global_ok_at((line), (ret), __FILE__, __LINE__)

static void global_bad_at(const char *line, const char *want_msg, const char *where, int lineno)
{
        char text[CONF_MAX_LINE + 64], want[512];

        snprintf(text, sizeof text, "[global]\n%s\n", line);
        snprintf(want, sizeof want, "t.conf:2: %s", want_msg);
        expect_error_at(text, want, where, lineno);
}
#define global_bad(line, want) global_bad_at((line), (want), __FILE__, __LINE__)

static void test_defaults(void **state)
{
        const ConfSection *src[_CONF_KEY_MAX];
        ConfPolicy p;
        Conf c;
        ConfError e;

        assert_int_equal(parse(&c, "", &e), 0);
        assert_string_equal(c.global.admin_group, "sudo");
        assert_string_equal(c.global.state_dir, "/var/lib/cubby");
        assert_string_equal(c.global.run_dir, "/run/cubby");
        assert_string_equal(c.global.cgroup_parent, "/system.slice/cubby.service");
        assert_string_equal(c.global.bridge, "cubby0");
        assert_int_equal(c.global.network_mode, CONF_NET_MODE_BRIDGE);
        assert_int_equal(c.global.subnet_addr, 0x0ad50000);
        assert_int_equal(c.global.subnet_prefix, 16);
        assert_string_equal(c.global.dns, "auto");
        assert_int_equal(c.global.n_deny, 7);
        assert_string_equal(c.global.deny[0], "169.254.0.0/16");
        assert_string_equal(c.global.deny[6], "fe80::/10");
        assert_int_equal(c.global.n_gateway_ports, 0);
        assert_int_equal(c.n_sections, 0);

        memset(src, 0xaa, sizeof src);
        conf_resolve(&c, "alice", NULL, 0, &p, src);
        for (int k = 0; k < _CONF_KEY_MAX; k++)
                assert_null(src[k]);
        assert_false(p.sandbox);
        assert_true(p.cpu_milli == CONF_UNLIMITED);
        assert_true(p.memory == CONF_UNLIMITED);
        assert_true(p.swap == CONF_UNLIMITED);
        assert_true(p.pids == CONF_UNLIMITED);
        assert_int_equal(p.network, CONF_NETWORK_NONE);
        assert_false(p.network_fallback_none);
        assert_string_equal(p.shell, "/bin/bash");
        assert_int_equal(p.n_services, 4);
        assert_string_equal(p.services[0], "sshd");
        assert_string_equal(p.services[1], "su");
        assert_string_equal(p.services[2], "su-l");
        assert_string_equal(p.services[3], "login");
        assert_string_equal(p.hostname, "%h");
        assert_int_equal(p.n_hide, 0);
        assert_int_equal(p.max_sessions, 16);
        assert_int_equal(p.max_containers, 16);
        assert_int_equal(p.container, CONF_CONTAINER_LOGIN);
        assert_int_equal(p.linger_s, 0);
        assert_int_equal(p.idle_cpu, 5);
        assert_int_equal(p.stop_grace_s, 5);
        assert_true(p.home_size == CONF_UNLIMITED);
        assert_true(p.home_inodes == CONF_UNLIMITED);
        assert_int_equal(p.home, CONF_HOME_PERSISTENT);
        assert_string_equal(p.home_lower, "/home/%u");
        assert_false(p.home_lower_static);
        assert_int_equal(p.seccomp, CONF_SECCOMP_YES);
        assert_string_equal(p.cpus, "");
        conf_free(&c);
        conf_free(&c); /* idempotent */
}

static void test_parse_cpu(void **state)
{
        uint64_t v;

        assert_int_equal(conf_parse_cpu("1.0", &v), 0);
        assert_int_equal(v, 1000);
        assert_int_equal(conf_parse_cpu("0.5", &v), 0);
        assert_int_equal(v, 500);
        assert_int_equal(conf_parse_cpu("2", &v), 0);
        assert_int_equal(v, 2000);
        assert_int_equal(conf_parse_cpu("1.25", &v), 0);
        assert_int_equal(v, 1250);
        assert_int_equal(conf_parse_cpu("0.001", &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(conf_parse_cpu("4096", &v), 0);
        assert_int_equal(v, 4096000);
        assert_int_equal(conf_parse_cpu("4096.000", &v), 0);
        assert_int_equal(conf_parse_cpu("0004", &v), 0);
        assert_int_equal(v, 4000);
        assert_int_equal(conf_parse_cpu("max", &v), 0);
        assert_true(v == CONF_UNLIMITED);

        assert_int_equal(conf_parse_cpu("0", &v), -ERANGE);
        assert_int_equal(conf_parse_cpu("0.000", &v), -ERANGE);
        assert_int_equal(conf_parse_cpu("4096.001", &v), -ERANGE);
        assert_int_equal(conf_parse_cpu("4097", &v), -ERANGE);
        assert_int_equal(conf_parse_cpu("99999999999999999999999", &v), -ERANGE);
        assert_int_equal(conf_parse_cpu("0.0001", &v), -EINVAL);
        assert_int_equal(conf_parse_cpu("1.", &v), -EINVAL);
        assert_int_equal(conf_parse_cpu(".5", &v), -EINVAL);
        assert_int_equal(conf_parse_cpu("-1", &v), -EINVAL);
        assert_int_equal(conf_parse_cpu("+1", &v), -EINVAL);
        assert_int_equal(conf_parse_cpu("1e3", &v), -EINVAL);
        assert_int_equal(conf_parse_cpu("1,5", &v), -EINVAL);
        assert_int_equal(conf_parse_cpu(" 1", &v), -EINVAL);
        assert_int_equal(conf_parse_cpu("1 ", &v), -EINVAL);
        assert_int_equal(conf_parse_cpu("", &v), -EINVAL);
        assert_int_equal(conf_parse_cpu("MAX", &v), -EINVAL);
        assert_int_equal(conf_parse_cpu("50%", &v), -EINVAL);
        assert_int_equal(conf_parse_cpu(NULL, &v), -EINVAL);
}

static void test_parse_size(void **state)
{
        uint64_t v;

        assert_int_equal(conf_parse_size("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(conf_parse_size("512", &v), 0);
        assert_int_equal(v, 512);
        assert_int_equal(conf_parse_size("512B", &v), 0);
        assert_int_equal(v, 512);
        assert_int_equal(conf_parse_size("64K", &v), 0);
        assert_int_equal(v, 64 * 1024);
        assert_int_equal(conf_parse_size("64k", &v), 0);
        assert_int_equal(v, 64 * 1024);
        assert_int_equal(conf_parse_size("512M", &v), 0);
        assert_int_equal(v, 512 * MIB);
        assert_int_equal(conf_parse_size("512MB", &v), 0);
        assert_int_equal(v, 512 * MIB);
        assert_int_equal(conf_parse_size("512MiB", &v), 0);
        assert_int_equal(v, 512 * MIB);
        assert_int_equal(conf_parse_size("512mib", &v), 0);
        assert_int_equal(v, 512 * MIB);
        assert_int_equal(conf_parse_size("1.5G", &v), 0);
        assert_int_equal(v, 3 * GIB / 2);
        assert_int_equal(conf_parse_size("0.5g", &v), 0);
        assert_int_equal(v, GIB / 2);
        assert_int_equal(conf_parse_size("2T", &v), 0);
        assert_int_equal(v, 2 * 1024 * GIB);
        assert_int_equal(conf_parse_size("1.1K", &v), 0); /* 1126.4 rounds down */
        assert_int_equal(v, 1126);
        assert_int_equal(conf_parse_size("0.000001T", &v), 0);
        assert_int_equal(v, 1099511);
        assert_int_equal(conf_parse_size("max", &v), 0);
        assert_true(v == CONF_UNLIMITED);
        assert_int_equal(conf_parse_size("unlimited", &v), 0);
        assert_true(v == CONF_UNLIMITED);
        /* the largest values that fit */
        assert_int_equal(conf_parse_size("16777215T", &v), 0);
        assert_true(v == 16777215ull << 40);
        assert_int_equal(conf_parse_size("18446744073709551614", &v), 0);
        assert_true(v == UINT64_MAX - 1);

        /* overflow */
        assert_int_equal(conf_parse_size("99999999999T", &v), -ERANGE);
        assert_int_equal(conf_parse_size("16777216T", &v), -ERANGE);
        assert_int_equal(conf_parse_size("16777215.999999T", &v), 0);
        assert_int_equal(conf_parse_size("18446744073709551615", &v), -ERANGE); /* == max */
        assert_int_equal(conf_parse_size("18446744073709551616", &v), -ERANGE);
        assert_int_equal(conf_parse_size("99999999999999999999999999999", &v), -ERANGE);
        assert_int_equal(conf_parse_size("17179869184G", &v), -ERANGE);

        /* syntax */
        assert_int_equal(conf_parse_size("", &v), -EINVAL);
        assert_int_equal(conf_parse_size("G", &v), -EINVAL);
        assert_int_equal(conf_parse_size("1.5", &v), -EINVAL); /* no fractions of a byte */
        assert_int_equal(conf_parse_size("1.G", &v), -EINVAL);
        assert_int_equal(conf_parse_size(".5G", &v), -EINVAL);
        assert_int_equal(conf_parse_size("1.0000001G", &v), -EINVAL);
        assert_int_equal(conf_parse_size("1 G", &v), -EINVAL);
        assert_int_equal(conf_parse_size("1GG", &v), -EINVAL);
        assert_int_equal(conf_parse_size("1P", &v), -EINVAL);
        assert_int_equal(conf_parse_size("1Gi", &v), -EINVAL);
        assert_int_equal(conf_parse_size("1iB", &v), -EINVAL);
        assert_int_equal(conf_parse_size("1BB", &v), -EINVAL);
        assert_int_equal(conf_parse_size("-1G", &v), -EINVAL);
        assert_int_equal(conf_parse_size("1e9", &v), -EINVAL);
        assert_int_equal(conf_parse_size("Max", &v), -EINVAL);
        assert_int_equal(conf_parse_size(NULL, &v), -EINVAL);
}

static void test_syntax(void **state)
{
        const ConfSection *src[_CONF_KEY_MAX];
        ConfPolicy p;
        Conf c;
        ConfError e;

        /* comments, blank lines, inline comments, tabs, CRLF, no final newline */
        assert_int_equal(parse(&c,
                               "# a comment\n"
                               "\n"
                               "   \t\n"
                               "[global]   # the global section\n"
                               "admin_group = wheel   # never sandboxed\n"
                               "\tbridge=br-cubby\r\n"
                               "[ default ]\n"
                               "  sandbox   =   yes  \n"
                               "[group\tstudents]\n"
                               "cpu = 2#no space before the comment\n"
                               "[user  bob]\n"
                               "memory = 1G",
                               &e),
                         0);
        assert_string_equal(c.global.admin_group, "wheel");
        assert_string_equal(c.global.bridge, "br-cubby");
        assert_int_equal(c.n_sections, 3);
        assert_int_equal(c.sections[0].kind, CONF_SECTION_DEFAULT);
        assert_string_equal(c.sections[0].name, "");
        assert_int_equal(c.sections[0].line, 7);
        assert_string_equal(c.sections[0].file, "t.conf");
        assert_int_equal(c.sections[1].kind, CONF_SECTION_GROUP);
        assert_string_equal(c.sections[1].name, "students");
        assert_int_equal(c.sections[1].line, 9);
        assert_int_equal(c.sections[2].kind, CONF_SECTION_USER);
        assert_string_equal(c.sections[2].name, "bob");
        assert_int_equal(c.sections[0].set, 1u << CONF_KEY_SANDBOX);
        assert_int_equal(c.sections[1].set, 1u << CONF_KEY_CPU);
        assert_int_equal(c.sections[2].set, 1u << CONF_KEY_MEMORY);
        conf_resolve(&c, "bob", (const char *const[]){ "students" }, 1, &p, src);
        assert_true(p.sandbox);
        assert_int_equal(p.cpu_milli, 2000);
        assert_int_equal(p.memory, GIB);
        conf_free(&c);

        /* the same key in different sections, and repeated sections */
        assert_int_equal(parse(&c,
                               "[global]\nbridge = a\n[global]\nbridge = b\n"
                               "[default]\ncpu = 1\n[default]\ncpu = 2\n",
                               &e),
                         0);
        assert_string_equal(c.global.bridge, "b");
        assert_int_equal(c.n_sections, 2);
        conf_free(&c);

        /* an empty section is fine */
        assert_int_equal(parse(&c, "[user bob]\n", &e), 0);
        assert_int_equal(c.sections[0].set, 0);
        conf_free(&c);

        expect_error("cpu = 1\n", "t.conf:1: key \"cpu\" outside of any section");
        expect_error("\n\nmemroy = 1\n", "t.conf:3: unknown key \"memroy\" outside of any section");
        expect_error("[default]\nmemroy = 1G\n", "t.conf:2: unknown key \"memroy\" in [default]");
        expect_error("[group students]\n\nmemroy = 1G\n",
                     "t.conf:3: unknown key \"memroy\" in [group students]");
        expect_error("[user bob]\nMemory = 1G\n", "t.conf:2: unknown key \"Memory\" in [user bob]");
        expect_error("[global]\ncpu = 1\n", "t.conf:2: key \"cpu\" is not allowed in [global]");
        expect_error("[global]\nsandbox = yes\n", "t.conf:2: key \"sandbox\" is not allowed in [global]");
        expect_error("[default]\nbridge = x\n",
                     "t.conf:2: key \"bridge\" is only allowed in [global], not in [default]");
        expect_error("[user bob]\nadmin_group = x\n",
                     "t.conf:2: key \"admin_group\" is only allowed in [global], not in [user bob]");
        expect_error("[default]\ncpu = 1\nmemory = 1G\ncpu = 2\n",
                     "t.conf:4: duplicate key \"cpu\" in [default] (first on line 2)");
        expect_error("[global]\nbridge = a\nbridge = b\n",
                     "t.conf:3: duplicate key \"bridge\" in [global] (first on line 2)");
        expect_error("[default]\nsandbox\n", "t.conf:2: expected \"key = value\" or a [section]");
        expect_error("[default]\n= yes\n", "t.conf:2: missing key before \"=\"");
        expect_error("[default]\ncpu =\n", "t.conf:2: missing value for \"cpu\"");
        expect_error("[default]\ncpu = # none\n", "t.conf:2: missing value for \"cpu\"");
        expect_error("[global]\nbridge=\n", "t.conf:2: missing value for \"bridge\"");
        expect_error("[default]\nshell = /bin/bash = x\n", "t.conf:2: bad value \"/bin/bash = x\" for shell");
        expect_error("[users bob]\n", "t.conf:1: unknown section \"[users]\"");
        expect_error("[Default]\n", "t.conf:1: unknown section \"[Default]\"");
        expect_error("[]\n", "t.conf:1: unknown section \"[]\"");
        expect_error("[default\n", "t.conf:1: section header must end with \"]\"");
        expect_error("[\n", "t.conf:1: section header must end with \"]\"");
        expect_error("[default] x\n", "t.conf:1: section header must end with \"]\"");
        expect_error("[default x]\n", "t.conf:1: section [default] takes no name");
        expect_error("[global x]\n", "t.conf:1: section [global] takes no name");
        expect_error("[group]\n", "t.conf:1: section [group] needs a name: [group NAME]");
        expect_error("[user ]\n", "t.conf:1: section [user] needs a name: [user NAME]");
        expect_error("[user a b]\n", "t.conf:1: unexpected \"b\" in section header");
        expect_error("[user ../x]\n", "t.conf:1: invalid user name \"../x\"");
        expect_error("[group -x]\n", "t.conf:1: invalid group name \"-x\"");
        expect_error("[group a/b]\n", "t.conf:1: invalid group name \"a/b\"");
        /* names from LDAP/SSSD: fully qualified, digits first, capitals,
         * dots are fine; '@' not first; a name with a space is refused
         * (SSSD's override_space gives one without) */
        {
                assert_int_equal(parse(&c,
                                       "[user alice.smith@example.org]\nsandbox = yes\n"
                                       "[group 2026-Students@EXAMPLE.ORG]\nhome = direct\n"
                                       "[user 007]\nsandbox = yes\n",
                                       &e),
                                 0);
                assert_int_equal(c.n_sections, 3);
                assert_string_equal(c.sections[0].name, "alice.smith@example.org");
                assert_string_equal(c.sections[1].name, "2026-Students@EXAMPLE.ORG");
                {
                        conf_resolve(&c, "alice.smith@example.org",
                                     (const char *const[]){ "2026-Students@EXAMPLE.ORG" }, 1, &p,
                                     NULL);
                        assert_true(p.sandbox);
                        assert_int_equal(p.home, CONF_HOME_DIRECT);
                        /* exact names: another case is another group */
                        conf_resolve(&c, "bob", (const char *const[]){ "2026-students@example.org" },
                                     1, &p, NULL);
                        assert_int_equal(p.home, CONF_HOME_PERSISTENT);
                }
                conf_free(&c);
        }
        expect_error("[group @admins]\n", "t.conf:1: invalid group name \"@admins\"");
        expect_error("[group domain users]\n", "t.conf:1: unexpected \"users\" in section header");
        expect_error("[user DOMAIN\\alice]\n", "t.conf:1: invalid user name");
        expect_error("[user "
                     "a123456789a123456789a123456789a123456789a123456789a123456789abcd]\n",
                     "t.conf:1: invalid user name");
        expect_error("[default]\ncpu = 1\x01\n", "t.conf:2: control character 0x01 in line");
        expect_error("[default]\nshell = /bin/b\rash\n", "t.conf:2: control character 0x0d in line");
        expect_error("[default]\ncpu = 1\x7f\n", "t.conf:2: control character 0x7f in line");

        /* 63 characters is the longest name */
        assert_int_equal(parse(&c,
                               "[user "
                               "a123456789a123456789a123456789a123456789a123456789a123456789abc]\n",
                               &e),
                         0);
        conf_free(&c);
}

static void test_bounds(void **state)
{
        _cleanup_free_ char *big = NULL;
        char line[CONF_MAX_LINE + 2];
        Conf c;
        ConfError e;
        size_t n;

        /* NUL bytes: text is not a C string */
        conf_init(&c);
        assert_int_equal(conf_parse(&c, "[default]\ncpu = 1\0\n", 18, "t.conf", &e), -EINVAL);
        assert_int_equal(e.line, 2);
        assert_string_equal(e.msg, "NUL byte in line");
        conf_free(&c);
        conf_init(&c);
        assert_int_equal(conf_parse(&c, "# x\0y\n[default]\n", 16, "t.conf", &e), -EINVAL);
        assert_int_equal(e.line, 1);
        conf_free(&c);

        /* text need not be NUL-terminated: only len bytes are read */
        conf_init(&c);
        assert_int_equal(conf_parse(&c, "[default]\ncpu = 1xxxx", 17, "t.conf", &e), 0);
        assert_int_equal(c.sections[0].values.cpu_milli, 1000);
        conf_free(&c);
        conf_init(&c);
        assert_int_equal(conf_parse(&c, NULL, 0, "t.conf", &e), 0);
        conf_free(&c);

        /* CONF_MAX_LINE is the longest line (a comment here) */
        memset(line, ' ', sizeof line);
        line[0] = '#';
        line[CONF_MAX_LINE] = 0;
        conf_init(&c);
        assert_int_equal(conf_parse(&c, line, CONF_MAX_LINE, "t.conf", &e), 0);
        conf_free(&c);
        line[CONF_MAX_LINE] = ' ';
        line[CONF_MAX_LINE + 1] = 0;
        conf_init(&c);
        assert_int_equal(conf_parse(&c, line, CONF_MAX_LINE + 1, "t.conf", &e), -EINVAL);
        assert_int_equal(e.line, 1);
        assert_string_equal(e.msg, "line longer than 4096 bytes");
        conf_free(&c);

        /* a long value is refused, not cut */
        big = malloc(CONF_MAX_LINE + 64);
        assert_non_null(big);
        n = (size_t)sprintf(big, "[default]\nshell = /");
        memset(big + n, 'a', CONF_MAX_LINE - 9);
        big[n + CONF_MAX_LINE - 9] = 0;
        expect_error(big, "t.conf:2: bad value \"/aaaa");

        /* too many sections */
        free(big);
        n = strlen("[default]\n");
        big = malloc(n * (CONF_MAX_SECTIONS + 1) + 1);
        assert_non_null(big);
        for (size_t i = 0; i <= CONF_MAX_SECTIONS; i++)
                memcpy(big + i * n, "[default]\n", n);
        big[n * (CONF_MAX_SECTIONS + 1)] = 0;
        conf_init(&c);
        assert_int_equal(conf_parse(&c, big, n * CONF_MAX_SECTIONS, "t.conf", &e), 0);
        assert_int_equal(c.n_sections, CONF_MAX_SECTIONS);
        conf_free(&c);
        conf_init(&c);
        assert_int_equal(conf_parse(&c, big, n * (CONF_MAX_SECTIONS + 1), "t.conf", &e), -E2BIG);
        assert_int_equal(e.line, CONF_MAX_SECTIONS + 1);
        assert_string_equal(e.msg, "too many sections (at most 4096 in all files)");
        conf_free(&c);

        /* the limit is across calls (files) too */
        conf_init(&c);
        assert_int_equal(conf_parse(&c, big, n * CONF_MAX_SECTIONS, "a.conf", &e), 0);
        assert_int_equal(conf_parse(&c, "[user x]\n", 9, "b.conf", &e), -E2BIG);
        assert_string_equal(e.file, "b.conf");
        conf_free(&c);

        /* too large */
        conf_init(&c);
        assert_int_equal(conf_parse(&c, big, CONF_MAX_FILE_SIZE + 1, "t.conf", &e), -EFBIG);
        conf_free(&c);
}

static void test_policy_keys(void **state)
{
        ConfPolicy p;

        policy_ok("sandbox = yes", &p);
        assert_true(p.sandbox);
        policy_ok("sandbox = true", &p);
        assert_true(p.sandbox);
        policy_ok("sandbox = 1", &p);
        assert_true(p.sandbox);
        policy_ok("sandbox = no", &p);
        assert_false(p.sandbox);
        policy_ok("sandbox = false", &p);
        assert_false(p.sandbox);
        policy_ok("sandbox = 0", &p);
        assert_false(p.sandbox);
        policy_bad("sandbox = maybe", "bad value \"maybe\" for sandbox: expected yes or no");
        policy_bad("sandbox = YES", "bad value \"YES\" for sandbox");
        policy_bad("sandbox = on", "bad value \"on\" for sandbox");

        policy_ok("seccomp = no", &p);
        assert_int_equal(p.seccomp, CONF_SECCOMP_NO);
        policy_ok("seccomp = yes", &p);
        assert_int_equal(p.seccomp, CONF_SECCOMP_YES);
        policy_ok("seccomp = allow_io_uring", &p);
        assert_int_equal(p.seccomp, CONF_SECCOMP_ALLOW_IO_URING);
        policy_ok("seccomp = false", &p);
        assert_int_equal(p.seccomp, CONF_SECCOMP_NO);
        policy_bad("seccomp = strict",
                   "bad value \"strict\" for seccomp: expected yes, no or allow_io_uring");
        policy_bad("seccomp = allow_io_uring yes", "bad value \"allow_io_uring yes\" for seccomp");
        policy_bad("seccomp = ALLOW_IO_URING", "bad value \"ALLOW_IO_URING\" for seccomp");
        policy_bad("seccomp = io_uring", "bad value \"io_uring\" for seccomp");

        policy_ok("cpu = 1.5", &p);
        assert_int_equal(p.cpu_milli, 1500);
        policy_ok("cpu = max", &p);
        assert_true(p.cpu_milli == CONF_UNLIMITED);
        policy_bad("cpu = 0", "bad value \"0\" for cpu: must be above 0 and at most 4096 CPUs");
        policy_bad("cpu = 5000", "bad value \"5000\" for cpu: must be above 0");
        policy_bad("cpu = 1.2345", "bad value \"1.2345\" for cpu: expected a number of CPUs");
        policy_bad("cpu = 50%", "bad value \"50%\" for cpu");

        policy_ok("cpus = 1", &p);
        assert_string_equal(p.cpus, "1");
        policy_ok("cpus = 0-3", &p);
        assert_string_equal(p.cpus, "0-3");
        policy_ok("cpus = 0,2,4-7", &p);
        assert_string_equal(p.cpus, "0,2,4-7");
        policy_ok("cpus = 3-3,4095", &p);
        assert_string_equal(p.cpus, "3-3,4095");
        policy_ok("cpus =", &p);
        assert_string_equal(p.cpus, "");
        {
                /* 256 characters is the most */
                char line[400] = "cpus = 10", want[200];

                while (strlen(line) < 7 + 256)
                        strcat(line, ",1");
                policy_ok(line, &p);
                assert_int_equal(strlen(p.cpus), 256);
                strcat(line, "0");
                snprintf(want, sizeof want, "bad value \"%.60s...\" for cpus: longer than 256 characters",
                         line + 7);
                policy_bad(line, want);
                expect_error("[user bob]\ncpus = 0\ncpus = 1\n",
                             "t.conf:3: duplicate key \"cpus\" in [user bob] (first on line 2)");
        }
        policy_bad("cpus = 4096", "bad value \"4096\" for cpus: CPU numbers must be below 4096");
        policy_bad("cpus = 0-99999999999999999999", "bad value \"0-99999999999999999999\" for cpus: CPU numbers must be below 4096");
        policy_bad("cpus = 3-1", "bad value \"3-1\" for cpus: a range must be ascending, like 2-5");
        policy_bad("cpus = all", "bad value \"all\" for cpus: expected a CPU list like 0-3 or 0,2,4-7");
        policy_bad("cpus = 0, 1", "bad value \"0, 1\" for cpus: expected a CPU list");
        policy_bad("cpus = 0,,1", "bad value \"0,,1\" for cpus");
        policy_bad("cpus = 0,", "bad value \"0,\" for cpus");
        policy_bad("cpus = ,0", "bad value \",0\" for cpus");
        policy_bad("cpus = -1", "bad value \"-1\" for cpus");
        policy_bad("cpus = 1-", "bad value \"1-\" for cpus");
        policy_bad("cpus = 0-7:2/4", "bad value \"0-7:2/4\" for cpus");
        policy_bad("cpus = 0-1-2", "bad value \"0-1-2\" for cpus");
        policy_bad("cpus = max", "bad value \"max\" for cpus");

        policy_ok("memory = 512M", &p);
        assert_int_equal(p.memory, 512 * MIB);
        policy_ok("memory = 1.5G", &p);
        assert_int_equal(p.memory, 3 * GIB / 2);
        policy_ok("memory = 1M", &p);
        assert_int_equal(p.memory, MIB);
        policy_ok("memory = unlimited", &p);
        assert_true(p.memory == CONF_UNLIMITED);
        policy_bad("memory = 0", "bad value \"0\" for memory: below 1M");
        policy_bad("memory = 512", "bad value \"512\" for memory: below 1M");
        policy_bad("memory = 1023K", "bad value \"1023K\" for memory: below 1M");
        policy_bad("memory = 99999999999T", "bad value \"99999999999T\" for memory: too large");
        policy_bad("memory = 2 G", "bad value \"2 G\" for memory: expected a size");
        policy_bad("memory = lots", "bad value \"lots\" for memory: expected a size");

        policy_ok("swap = 0", &p);
        assert_int_equal(p.swap, 0);
        policy_ok("swap = 2G", &p);
        assert_int_equal(p.swap, 2 * GIB);
        policy_ok("swap = max", &p);
        assert_true(p.swap == CONF_UNLIMITED);
        policy_bad("swap = -1", "bad value \"-1\" for swap: expected a size");
        policy_bad("swap = 99999999999T", "bad value \"99999999999T\" for swap: too large");

        policy_ok("pids = 1", &p);
        assert_int_equal(p.pids, 1);
        policy_ok("pids = 4194304", &p);
        assert_int_equal(p.pids, 4194304);
        policy_ok("pids = max", &p);
        assert_true(p.pids == CONF_UNLIMITED);
        policy_bad("pids = 0", "bad value \"0\" for pids: expected 1 to 4194304 or max");
        policy_bad("pids = 4194305", "bad value \"4194305\" for pids");
        policy_bad("pids = 18446744073709551616", "bad value \"18446744073709551616\" for pids");
        policy_bad("pids = 1k", "bad value \"1k\" for pids");
        policy_bad("pids = -5", "bad value \"-5\" for pids");

        policy_ok("max_sessions = 3", &p);
        assert_int_equal(p.max_sessions, 3);
        policy_ok("max_sessions = max", &p);
        assert_true(p.max_sessions == CONF_UNLIMITED);
        policy_bad("max_sessions = 0", "bad value \"0\" for max_sessions: expected a number >= 1 or max");
        policy_bad("max_sessions = unlimited", "bad value \"unlimited\" for max_sessions");

        policy_ok("max_containers = 4", &p);
        assert_int_equal(p.max_containers, 4);
        policy_ok("max_containers = max", &p);
        assert_true(p.max_containers == CONF_UNLIMITED);
        policy_bad("max_containers = 0",
                   "bad value \"0\" for max_containers: expected a number >= 1 or max");

        policy_ok("container = user", &p);
        assert_int_equal(p.container, CONF_CONTAINER_USER);
        assert_string_equal(conf_container_name(p.container), "user");
        policy_ok("container = login", &p);
        assert_int_equal(p.container, CONF_CONTAINER_LOGIN);
        assert_string_equal(conf_container_name(p.container), "login");
        policy_bad("container = session",
                   "bad value \"session\" for container: expected login or user");
        policy_bad("container = User", "bad value \"User\" for container");
        policy_bad("container =", "missing value for \"container\"");
        /* the lifetime of a per-user container */
        policy_ok("linger = 0", &p);
        assert_int_equal(p.linger_s, 0);
        policy_ok("linger = 0s", &p);
        assert_int_equal(p.linger_s, 0);
        policy_ok("linger = 30s", &p);
        assert_int_equal(p.linger_s, 30);
        policy_ok("linger = 15m", &p);
        assert_int_equal(p.linger_s, 900);
        policy_ok("linger = 2h", &p);
        assert_int_equal(p.linger_s, 7200);
        policy_ok("linger = 365d", &p);
        assert_int_equal(p.linger_s, 365 * 86400);
        policy_ok("linger = always", &p);
        assert_true(p.linger_s == CONF_LINGER_ALWAYS);
        policy_bad("linger = 366d", "bad value \"366d\" for linger: at most 365d");
        policy_bad("linger = 99999999999999999999s", "bad value \"99999999999999999999s\" for linger: at most 365d");
        policy_bad("linger = 30", "bad value \"30\" for linger: expected 0, always or a duration like 30s, 15m, 2h or 1d");
        policy_bad("linger = 1.5h", "bad value \"1.5h\" for linger: expected 0, always");
        policy_bad("linger = -1s", "bad value \"-1s\" for linger: expected 0, always");
        policy_bad("linger = +1s", "bad value \"+1s\" for linger: expected 0, always");
        policy_bad("linger = 1 m", "bad value \"1 m\" for linger: expected 0, always");
        policy_bad("linger = 1M", "bad value \"1M\" for linger: expected 0, always");
        policy_bad("linger = 1w", "bad value \"1w\" for linger: expected 0, always");
        policy_bad("linger = s", "bad value \"s\" for linger: expected 0, always");
        policy_bad("linger = never", "bad value \"never\" for linger: expected 0, always");
        policy_bad("linger = Always", "bad value \"Always\" for linger");
        policy_bad("linger =", "missing value for \"linger\"");

        policy_ok("idle_cpu = 5", &p);
        assert_int_equal(p.idle_cpu, 5);
        policy_ok("idle_cpu = 100%", &p);
        assert_int_equal(p.idle_cpu, 100);
        policy_ok("idle_cpu = 1", &p);
        assert_int_equal(p.idle_cpu, 1);
        policy_bad("idle_cpu = 0", "bad value \"0\" for idle_cpu: expected a percent of one CPU from 1 to 100, like 5");
        policy_bad("idle_cpu = 101", "bad value \"101\" for idle_cpu: expected a percent");
        policy_bad("idle_cpu = 2.5", "bad value \"2.5\" for idle_cpu: expected a percent");
        policy_bad("idle_cpu = %", "bad value \"%\" for idle_cpu: expected a percent");
        policy_bad("idle_cpu = 5%%", "bad value \"5%%\" for idle_cpu: expected a percent");
        policy_bad("idle_cpu = -5", "bad value \"-5\" for idle_cpu: expected a percent");

        policy_ok("stop_grace = 0", &p);
        assert_int_equal(p.stop_grace_s, 0);
        policy_ok("stop_grace = 10s", &p);
        assert_int_equal(p.stop_grace_s, 10);
        policy_ok("stop_grace = 1m", &p);
        assert_int_equal(p.stop_grace_s, 60);
        policy_bad("stop_grace = 61s", "bad value \"61s\" for stop_grace: at most 60s");
        policy_bad("stop_grace = 1h", "bad value \"1h\" for stop_grace: at most 60s");
        policy_bad("stop_grace = 5", "bad value \"5\" for stop_grace: expected 0 or a duration like 5s or 1m");
        policy_bad("stop_grace = always", "bad value \"always\" for stop_grace: expected 0 or a duration");
        {
                char b[16];

                conf_duration_format(0, b, sizeof b);
                assert_string_equal(b, "0");
                conf_duration_format(90, b, sizeof b);
                assert_string_equal(b, "90s");
                conf_duration_format(900, b, sizeof b);
                assert_string_equal(b, "15m");
                conf_duration_format(7200, b, sizeof b);
                assert_string_equal(b, "2h");
                conf_duration_format(86400 * 3, b, sizeof b);
                assert_string_equal(b, "3d");
        }
        policy_ok("home_size = 1.5G", &p);
        assert_true(p.home_size == UINT64_C(1610612736));
        policy_ok("home_size = 1M", &p);
        assert_true(p.home_size == UINT64_C(1048576));
        policy_ok("home_size = max", &p);
        assert_true(p.home_size == CONF_UNLIMITED);
        policy_bad("home_size = 512", "bad value \"512\" for home_size: below 1M");
        policy_bad("home_size = lots", "bad value \"lots\" for home_size: expected a size");
        policy_ok("home_inodes = 20000", &p);
        assert_true(p.home_inodes == 20000);
        policy_ok("home_inodes = max", &p);
        assert_true(p.home_inodes == CONF_UNLIMITED);
        policy_bad("home_inodes = 0", "bad value \"0\" for home_inodes: expected 1 to 4294967295 or max");
        policy_bad("home_inodes = 4294967296", "bad value \"4294967296\" for home_inodes");

        policy_ok("network = nat", &p);
        assert_int_equal(p.network, CONF_NETWORK_NAT);
        policy_ok("network = none", &p);
        assert_int_equal(p.network, CONF_NETWORK_NONE);
        policy_bad("network = host", "bad value \"host\" for network: expected none or nat");

        policy_ok("network_fallback = none", &p);
        assert_true(p.network_fallback_none);
        policy_ok("network_fallback = refuse", &p);
        assert_false(p.network_fallback_none);
        policy_bad("network_fallback = host",
                   "bad value \"host\" for network_fallback: expected refuse or none");

        policy_ok("home = ephemeral", &p);
        assert_int_equal(p.home, CONF_HOME_EPHEMERAL);
        policy_ok("home = persistent", &p);
        assert_int_equal(p.home, CONF_HOME_PERSISTENT);
        policy_ok("home = direct", &p);
        assert_int_equal(p.home, CONF_HOME_DIRECT);
        policy_bad("home = tmpfs",
                   "bad value \"tmpfs\" for home: expected persistent, ephemeral or direct");
        policy_bad("home = Direct", "bad value \"Direct\" for home");

        policy_ok("home = persistent", &p);
        assert_false(p.home_lower_static);
        policy_ok("home_lower_static = yes", &p);
        assert_true(p.home_lower_static);
        policy_ok("home_lower_static = no", &p);
        assert_false(p.home_lower_static);
        policy_bad("home_lower_static = maybe",
                   "bad value \"maybe\" for home_lower_static: expected yes or no");

        policy_ok("shell = /usr/bin/zsh", &p);
        assert_string_equal(p.shell, "/usr/bin/zsh");
        policy_bad("shell = bash", "bad value \"bash\" for shell: expected an absolute path");
        policy_bad("shell = /bin/../bin/bash", "bad value \"/bin/../bin/bash\" for shell");
        policy_bad("shell = /bin//bash", "bad value \"/bin//bash\" for shell");
        policy_bad("shell = /bin/bash/", "bad value \"/bin/bash/\" for shell");
        policy_bad("shell = /", "bad value \"/\" for shell");
        policy_bad("shell = /bin/bash -l", "bad value \"/bin/bash -l\" for shell");

        policy_ok("home_lower = /srv/skel", &p);
        assert_string_equal(p.home_lower, "/srv/skel");
        policy_ok("home_lower = /srv/course/%u", &p);
        assert_string_equal(p.home_lower, "/srv/course/%u");
        policy_ok("home_lower = /srv/%u-home", &p);
        assert_string_equal(p.home_lower, "/srv/%u-home");
        policy_bad("home_lower = home/%u", "bad value \"home/%u\" for home_lower: expected an absolute path");
        policy_bad("home_lower = /home/%g", "bad value \"/home/%g\" for home_lower");
        policy_bad("home_lower = /home/%", "bad value \"/home/%\" for home_lower");
        policy_bad("home_lower = /home/../%u", "bad value \"/home/../%u\" for home_lower");

        policy_ok("hostname = %u-%h", &p);
        assert_string_equal(p.hostname, "%u-%h");
        policy_ok("hostname = lab42", &p);
        assert_string_equal(p.hostname, "lab42");
        policy_ok("hostname = "
                  "a23456789a23456789a23456789a23456789a23456789a23456789a23456789",
                  &p);
        policy_bad("hostname = "
                   "a23456789a23456789a23456789a23456789a23456789a23456789a234567890",
                   "bad value \"a23456789");
        policy_bad("hostname = %x", "bad value \"%x\" for hostname: expected 1-63");
        policy_bad("hostname = a.b", "bad value \"a.b\" for hostname");
        policy_bad("hostname = -a", "bad value \"-a\" for hostname");
        policy_bad("hostname = a-", "bad value \"a-\" for hostname");
        policy_bad("hostname = a_b", "bad value \"a_b\" for hostname");
        policy_bad("hostname = %", "bad value \"%\" for hostname");

        policy_ok("services = sshd", &p);
        assert_int_equal(p.n_services, 1);
        assert_string_equal(p.services[0], "sshd");
        policy_ok("services = sshd, login,su   su-l", &p);
        assert_int_equal(p.n_services, 4);
        assert_string_equal(p.services[0], "sshd");
        assert_string_equal(p.services[1], "login");
        assert_string_equal(p.services[2], "su");
        assert_string_equal(p.services[3], "su-l");
        policy_ok("services = a b c d e f g h i j k l m n o p", &p);
        assert_int_equal(p.n_services, CONF_MAX_SERVICES);
        policy_bad("services = a b c d e f g h i j k l m n o p q",
                   "too many services (at most 16)");
        policy_bad("services = sshd ../x", "bad entry \"../x\" in services: not a PAM service name");
        policy_bad("services = ,", "services needs at least one PAM service name");

        policy_ok("hide = /srv /mnt,/media", &p);
        assert_int_equal(p.n_hide, 3);
        assert_string_equal(p.hide[0], "/srv");
        assert_string_equal(p.hide[1], "/mnt");
        assert_string_equal(p.hide[2], "/media");
        policy_ok("hide =", &p);
        assert_int_equal(p.n_hide, 0);
        policy_bad("hide = /srv srv", "bad entry \"srv\" in hide: expected an absolute path");
        policy_bad("hide = /", "bad entry \"/\" in hide");
        policy_bad("hide = /a/./b", "bad entry \"/a/./b\" in hide");
        policy_bad("hide = /1 /2 /3 /4 /5 /6 /7 /8 /9 /10 /11 /12 /13 /14 /15 /16 /17 /18 /19 /20 "
                   "/21 /22 /23 /24 /25 /26 /27 /28 /29 /30 /31 /32 /33",
                   "too many paths in hide (at most 32)");
}

static void test_global_keys(void **state)
{
        Conf c;

        global_ok("admin_group = wheel", &c);
        assert_string_equal(c.global.admin_group, "wheel");
        global_bad("admin_group = a b", "bad value \"a b\" for admin_group: not a group name");
        global_bad("admin_group = .x", "bad value \".x\" for admin_group");

        global_ok("state_dir = /srv/cubby", &c);
        assert_string_equal(c.global.state_dir, "/srv/cubby");
        global_bad("state_dir = srv/cubby", "bad value \"srv/cubby\" for state_dir: expected an absolute");
        global_bad("state_dir = /", "bad value \"/\" for state_dir");
        global_ok("run_dir = /run/cubby-test", &c);
        assert_string_equal(c.global.run_dir, "/run/cubby-test");
        global_bad("run_dir = /run/../tmp", "bad value \"/run/../tmp\" for run_dir");

        global_ok("cgroup_parent = /cubby.slice/x", &c);
        assert_string_equal(c.global.cgroup_parent, "/cubby.slice/x");
        global_ok("cgroup_parent = ./cubby-test-123", &c);
        assert_string_equal(c.global.cgroup_parent, "./cubby-test-123");
        global_ok("cgroup_parent = ./a/b", &c);
        global_bad("cgroup_parent = cubby", "bad value \"cubby\" for cgroup_parent");
        global_bad("cgroup_parent = ./", "bad value \"./\" for cgroup_parent");
        global_bad("cgroup_parent = ./../x", "bad value \"./../x\" for cgroup_parent");
        global_bad("cgroup_parent = ./a/../../x", "bad value \"./a/../../x\" for cgroup_parent");
        global_bad("cgroup_parent = .//x", "bad value \".//x\" for cgroup_parent");
        global_bad("cgroup_parent = /", "bad value \"/\" for cgroup_parent");
        global_bad("cgroup_parent = /a/", "bad value \"/a/\" for cgroup_parent");

        global_ok("network_mode = routed", &c);
        assert_int_equal(c.global.network_mode, CONF_NET_MODE_ROUTED);
        assert_string_equal(conf_net_mode_name(c.global.network_mode), "routed");
        global_ok("network_mode = bridge", &c);
        assert_int_equal(c.global.network_mode, CONF_NET_MODE_BRIDGE);
        global_bad("network_mode = Routed", "bad value \"Routed\" for network_mode: expected bridge or routed");
        global_bad("network_mode = nat", "bad value \"nat\" for network_mode");
        global_bad("network_mode = routed bridge", "bad value \"routed bridge\" for network_mode");
        global_bad("network_mode =", "missing value for \"network_mode\"");
        global_ok("bridge = br0", &c);
        assert_string_equal(c.global.bridge, "br0");
        global_ok("bridge = a23456789012345", &c);
        global_bad("bridge = a234567890123456", "bad value \"a234567890123456\" for bridge");
        global_bad("bridge = br/0", "bad value \"br/0\" for bridge");
        global_bad("bridge = ..", "bad value \"..\" for bridge");
        global_bad("bridge = br:0", "bad value \"br:0\" for bridge");

        global_ok("subnet = 10.99.0.0/16", &c);
        assert_int_equal(c.global.subnet_addr, 0x0a630000);
        assert_int_equal(c.global.subnet_prefix, 16);
        global_ok("subnet = 192.168.77.0/24", &c);
        assert_int_equal(c.global.subnet_addr, 0xc0a84d00);
        assert_int_equal(c.global.subnet_prefix, 24);
        global_ok("subnet = 10.0.0.0/8", &c);
        global_ok("subnet = 172.16.0.4/30", &c);
        global_bad("subnet = 10.213.0.1/16", "bad value \"10.213.0.1/16\" for subnet: expected an IPv4 network");
        global_bad("subnet = 10.0.0.0/31", "bad value \"10.0.0.0/31\" for subnet: prefix must be 8 to 30");
        global_bad("subnet = 10.0.0.0/7", "bad value \"10.0.0.0/7\" for subnet: prefix must be 8 to 30");
        global_bad("subnet = 10.0.0.0/016", "bad value \"10.0.0.0/016\" for subnet");
        global_bad("subnet = 10.0.0.0", "bad value \"10.0.0.0\" for subnet");
        global_bad("subnet = 10.0.0/16", "bad value \"10.0.0/16\" for subnet");
        global_bad("subnet = 010.0.0.0/16", "bad value \"010.0.0.0/16\" for subnet");
        global_bad("subnet = fd00::/64", "bad value \"fd00::/64\" for subnet");
        global_bad("subnet = 127.0.0.0/8", "bad value \"127.0.0.0/8\" for subnet: not a usable");
        global_bad("subnet = 224.0.0.0/8", "bad value \"224.0.0.0/8\" for subnet: not a usable");
        global_bad("subnet = 10.0.0.0/16/1", "bad value \"10.0.0.0/16/1\" for subnet");

        global_ok("dns = auto", &c);
        assert_string_equal(c.global.dns, "auto");
        global_ok("dns = 1.1.1.1", &c);
        assert_string_equal(c.global.dns, "1.1.1.1");
        global_ok("dns = 9.9.9.9, 2620:fe::fe  149.112.112.112", &c);
        assert_string_equal(c.global.dns, "9.9.9.9,2620:fe::fe,149.112.112.112");
        global_ok("dns = 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,2001:db8:ffff:ffff:ffff:ffff:ffff:fffe,"
                  "2001:db8:ffff:ffff:ffff:ffff:ffff:fffd",
                  &c);
        global_bad("dns = 1.1.1.1 8.8.8.8 9.9.9.9 1.0.0.1", "too many dns servers (at most 3)");
        global_bad("dns = 1.1.1.1 auto", "bad entry \"auto\" in dns");
        global_bad("dns = resolver.example", "bad entry \"resolver.example\" in dns");
        global_bad("dns = 1.1.1.1/32", "bad entry \"1.1.1.1/32\" in dns");
        global_bad("dns = fe80::1%eth0", "bad entry \"fe80::1%eth0\" in dns");
        global_bad("dns = ,", "bad value \",\" for dns");
        global_bad("dns =", "missing value for \"dns\"");

        global_ok("deny = 203.0.113.0/24, 2001:db8::/32", &c);
        assert_int_equal(c.global.n_deny, 2);
        assert_string_equal(c.global.deny[0], "203.0.113.0/24");
        assert_string_equal(c.global.deny[1], "2001:db8::/32");
        global_ok("deny =", &c);
        assert_int_equal(c.global.n_deny, 0);
        global_ok("deny = 0.0.0.0/0 ::/0 192.0.2.7/32", &c);
        assert_int_equal(c.global.n_deny, 3);
        global_ok("deny = 0:0:0:0:0:ffff:192.168.100.228/128", &c);
        global_bad("deny = 10.0.0.0/8 192.168.1.1", "bad entry \"192.168.1.1\" in deny: expected a network");
        global_bad("deny = 10.0.0.1/8", "bad entry \"10.0.0.1/8\" in deny");
        global_bad("deny = fe80::1/10", "bad entry \"fe80::1/10\" in deny");
        global_bad("deny = 10.0.0.0/33", "bad entry \"10.0.0.0/33\" in deny");
        global_bad("deny = ::/129", "bad entry \"::/129\" in deny");
        global_bad("deny = /8", "bad entry \"/8\" in deny");
        global_bad("deny = 10.0.0.0/", "bad entry \"10.0.0.0/\" in deny");
        global_bad("deny = 10.0.0.0/8x", "bad entry \"10.0.0.0/8x\" in deny");
        {
                char line[2048] = "deny =";

                for (int i = 0; i < 33; i++)
                        sprintf(line + strlen(line), " 10.%d.0.0/16", i);
                global_bad(line, "too many networks in deny (at most 32)");
                line[strlen(line) - strlen(" 10.32.0.0/16")] = 0;
                global_ok(line, &c);
                assert_int_equal(c.global.n_deny, 32);
                assert_string_equal(c.global.deny[31], "10.31.0.0/16");
        }

        global_ok("gateway_ports = 53, 8080 3128", &c);
        assert_int_equal(c.global.n_gateway_ports, 3);
        assert_int_equal(c.global.gateway_ports[0], 53);
        assert_int_equal(c.global.gateway_ports[1], 8080);
        assert_int_equal(c.global.gateway_ports[2], 3128);
        global_ok("gateway_ports = 1 65535", &c);
        global_ok("gateway_ports =", &c);
        assert_int_equal(c.global.n_gateway_ports, 0);
        global_bad("gateway_ports = 0", "bad entry \"0\" in gateway_ports: expected a port 1-65535");
        global_bad("gateway_ports = 65536", "bad entry \"65536\" in gateway_ports");
        global_bad("gateway_ports = 80-90", "bad entry \"80-90\" in gateway_ports");
        global_bad("gateway_ports = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
                   "too many gateway_ports (at most 16)");
}

static void test_resolve(void **state)
{
        static const char text[] =
                "[default]\n"                 /* 1 */
                "sandbox = yes\n"
                "cpu = 1\n"
                "memory = 1G\n"
                "[group students]\n"          /* 5 */
                "cpu = 2\n"
                "network = nat\n"
                "[user alice]\n"              /* 8 */
                "cpu = 0.5\n"
                "[group staff]\n"             /* 10 */
                "sandbox = no\n"
                "memory = 4G\n"
                "[default]\n"                 /* 13 */
                "memory = 2G\n"
                "pids = 100\n"
                "[group students]\n"          /* 16 */
                "pids = 200\n";
        const ConfSection *src[_CONF_KEY_MAX];
        ConfPolicy p;
        Conf c;
        ConfError e;

        assert_int_equal(parse(&c, text, &e), 0);
        assert_int_equal(c.n_sections, 6);

        /* nobody special: both [default]s, the later one wins */
        conf_resolve(&c, "carol", (const char *const[]){ "users" }, 1, &p, src);
        assert_true(p.sandbox);
        assert_int_equal(p.cpu_milli, 1000);
        assert_int_equal(p.memory, 2 * GIB);
        assert_int_equal(p.pids, 100);
        assert_int_equal(p.network, CONF_NETWORK_NONE);
        assert_ptr_equal(src[CONF_KEY_SANDBOX], &c.sections[0]);
        assert_ptr_equal(src[CONF_KEY_MEMORY], &c.sections[4]);
        assert_int_equal(src[CONF_KEY_MEMORY]->line, 13);
        assert_null(src[CONF_KEY_NETWORK]);
        assert_null(src[CONF_KEY_SHELL]);

        /* group beats every default, even a later one; both [group students] apply */
        conf_resolve(&c, "bob", (const char *const[]){ "users", "students" }, 2, &p, src);
        assert_int_equal(p.cpu_milli, 2000);
        assert_int_equal(p.network, CONF_NETWORK_NAT);
        assert_int_equal(p.pids, 200);
        assert_int_equal(p.memory, 2 * GIB);
        assert_ptr_equal(src[CONF_KEY_CPU], &c.sections[1]);
        assert_ptr_equal(src[CONF_KEY_PIDS], &c.sections[5]);
        assert_ptr_equal(src[CONF_KEY_MEMORY], &c.sections[4]);

        /* user beats group; groups in file order, later wins */
        conf_resolve(&c, "alice", (const char *const[]){ "staff", "students" }, 2, &p, src);
        assert_int_equal(p.cpu_milli, 500);
        assert_false(p.sandbox);
        assert_int_equal(p.memory, 4 * GIB);
        assert_ptr_equal(src[CONF_KEY_CPU], &c.sections[2]);
        assert_ptr_equal(src[CONF_KEY_SANDBOX], &c.sections[3]);
        assert_string_equal(src[CONF_KEY_SANDBOX]->name, "staff");

        /* a user section does not match a group of the same name and vice versa */
        conf_resolve(&c, "students", (const char *const[]){ "alice" }, 1, &p, NULL);
        assert_int_equal(p.cpu_milli, 1000);
        assert_int_equal(p.network, CONF_NETWORK_NONE);

        /* no user, no groups, no sources */
        conf_resolve(&c, NULL, NULL, 0, &p, NULL);
        assert_true(p.sandbox);
        conf_resolve(&c, "x", (const char *const[]){ NULL, "students" }, 2, &p, NULL);
        assert_int_equal(p.pids, 200);
        conf_free(&c);

        /* cpus: the last section wins; an empty value clears a group's list */
        assert_int_equal(parse(&c,
                               "[default]\ncpus = 0-3\n"
                               "[group students]\ncpus = 1\n"
                               "[user bob]\ncpus =\n",
                               &e),
                         0);
        conf_resolve(&c, "carol", NULL, 0, &p, src);
        assert_string_equal(p.cpus, "0-3");
        assert_ptr_equal(src[CONF_KEY_CPUS], &c.sections[0]);
        conf_resolve(&c, "alice", (const char *const[]){ "students" }, 1, &p, src);
        assert_string_equal(p.cpus, "1");
        assert_ptr_equal(src[CONF_KEY_CPUS], &c.sections[1]);
        conf_resolve(&c, "bob", (const char *const[]){ "students" }, 1, &p, src);
        assert_string_equal(p.cpus, "");
        assert_ptr_equal(src[CONF_KEY_CPUS], &c.sections[2]);
        conf_free(&c);

        /* list keys replace, they do not append */
        assert_int_equal(parse(&c,
                               "[default]\nhide = /srv /mnt\nservices = sshd login\n"
                               "[user bob]\nhide = /data\n",
                               &e),
                         0);
        conf_resolve(&c, "bob", NULL, 0, &p, NULL);
        assert_int_equal(p.n_hide, 1);
        assert_string_equal(p.hide[0], "/data");
        assert_int_equal(p.n_services, 2);
        conf_free(&c);
}

static void test_misc(void **state)
{
        ConfError e = { .line = 12 };
        char buf[64];

        strcpy(e.file, "cubby.conf");
        strcpy(e.msg, "unknown key \"memroy\" in [default]");
        conf_error_format(&e, buf, sizeof buf);
        assert_string_equal(buf, "cubby.conf:12: unknown key \"memroy\" in [default]");
        e.line = 0;
        strcpy(e.msg, "not owned by root");
        conf_error_format(&e, buf, sizeof buf);
        assert_string_equal(buf, "cubby.conf: not owned by root");
        conf_error_format(&e, buf, 8);
        assert_string_equal(buf, "cubby.c");

        assert_string_equal(conf_key_name(CONF_KEY_SANDBOX), "sandbox");
        assert_string_equal(conf_key_name(CONF_KEY_MAX_SESSIONS), "max_sessions");
        assert_string_equal(conf_key_name(CONF_KEY_NETWORK_FALLBACK), "network_fallback");
        assert_string_equal(conf_key_name(CONF_KEY_MAX_CONTAINERS), "max_containers");
        assert_string_equal(conf_key_name(CONF_KEY_CONTAINER), "container");
        assert_string_equal(conf_key_name(CONF_KEY_LINGER), "linger");
        assert_string_equal(conf_key_name(CONF_KEY_IDLE_CPU), "idle_cpu");
        assert_string_equal(conf_key_name(CONF_KEY_STOP_GRACE), "stop_grace");
        assert_string_equal(conf_key_name(CONF_KEY_HOME_SIZE), "home_size");
        assert_string_equal(conf_key_name(CONF_KEY_HOME_INODES), "home_inodes");
        for (int k = 0; k < _CONF_KEY_MAX; k++)
                assert_non_null(conf_key_name(k));
        assert_null(conf_key_name(-1));
        assert_null(conf_key_name(_CONF_KEY_MAX));
}

/* ---- conf_load ---- */

static char tmpdir[64];

static int setup_dir(void **state)
{
        strcpy(tmpdir, "/tmp/test-conf-XXXXXX");
        if (!mkdtemp(tmpdir))
                return -1;
        /* mkdtemp gives 0700; the drop-in checks want no group/other write */
        return 0;
}

static int teardown_dir(void **state)
{
        char cmd[PATH_MAX + 16];

        if (tmpdir[0] && strncmp(tmpdir, "/tmp/test-conf-", 15) == 0) {
                snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
                if (system(cmd) != 0)
                        return -1;
        }
        return 0;
}

static void write_at(const char *rel, const char *text, mode_t mode)
{
        char path[PATH_MAX];
        _cleanup_close_ int fd = -1;

        snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
        (void)unlink(path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        assert_int_equal(fchmod(fd, mode), 0);
}

static void tmp_path(char *buf, const char *rel)
{
        snprintf(buf, PATH_MAX, "%s/%s", tmpdir, rel);
}

static int load(Conf *c, ConfError *e, uid_t uid)
{
        char path[PATH_MAX];

        tmp_path(path, "cubby.conf");
        memset(e, 0, sizeof *e);
        return conf_load(c, path, uid, e);
}

static void expect_load_error(uid_t uid, const char *rel, const char *msg_prefix)
{
        char path[PATH_MAX];
        Conf c;
        ConfError e;
        int r = load(&c, &e, uid);

        if (r >= 0 || strncmp(e.msg, msg_prefix, strlen(msg_prefix)) != 0)
                print_error("want %s: %s, got r=%d %s: %s\n", rel, msg_prefix, r, e.file, e.msg);
        assert_true(r < 0);
        tmp_path(path, rel);
        assert_string_equal(e.file, path);
        assert_int_equal(strncmp(e.msg, msg_prefix, strlen(msg_prefix)), 0);
        conf_free(&c);
}

static void test_load(void **state)
{
        const ConfSection *src[_CONF_KEY_MAX];
        char path[PATH_MAX], path2[PATH_MAX];
        uid_t me = getuid();
        ConfPolicy p;
        Conf c;
        ConfError e;

        /* missing main file: an error; missing drop-in dir: fine */
        expect_load_error(me, "cubby.conf", "cannot open: No such file or directory");
        write_at("cubby.conf", "[default]\ncpu = 1\nmemory = 1G\n", 0644);
        assert_int_equal(load(&c, &e, me), 0);
        assert_int_equal(c.n_sections, 1);
        conf_free(&c);

        /* drop-ins in strcmp order; other names and dotfiles skipped */
        tmp_path(path, "cubby.conf.d");
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(chmod(path, 0755), 0);
        write_at("cubby.conf.d/20-b.conf", "[default]\ncpu = 3\n", 0644);
        write_at("cubby.conf.d/10-a.conf", "[default]\ncpu = 2\nmemory = 2G\n", 0600);
        write_at("cubby.conf.d/9-c.conf", "[user bob]\npids = 9\n", 0444);
        write_at("cubby.conf.d/.hidden.conf", "garbage\n", 0644);
        write_at("cubby.conf.d/README", "garbage\n", 0644);
        write_at("cubby.conf.d/30-x.conf~", "garbage\n", 0644);
        write_at("cubby.conf.d/30-x.conf.dpkg-old", "garbage\n", 0644);
        write_at("cubby.conf.d/.conf", "garbage\n", 0644);
        assert_int_equal(load(&c, &e, me), 0);
        assert_int_equal(c.n_sections, 4);
        tmp_path(path, "cubby.conf");
        assert_string_equal(c.sections[0].file, path);
        tmp_path(path, "cubby.conf.d/10-a.conf");
        assert_string_equal(c.sections[1].file, path);
        tmp_path(path, "cubby.conf.d/20-b.conf");
        assert_string_equal(c.sections[2].file, path);
        tmp_path(path, "cubby.conf.d/9-c.conf");
        assert_string_equal(c.sections[3].file, path);
        conf_resolve(&c, "bob", NULL, 0, &p, src);
        assert_int_equal(p.cpu_milli, 3000);
        assert_int_equal(p.memory, 2 * GIB);
        assert_int_equal(p.pids, 9);
        tmp_path(path, "cubby.conf.d/20-b.conf");
        assert_string_equal(src[CONF_KEY_CPU]->file, path);
        assert_int_equal(src[CONF_KEY_CPU]->line, 1);
        conf_free(&c);

        /* a parse error in a drop-in names that file and line */
        write_at("cubby.conf.d/15-bad.conf", "\n[default]\nmemroy = 1G\n", 0644);
        assert_int_equal(load(&c, &e, me), -EINVAL);
        tmp_path(path, "cubby.conf.d/15-bad.conf");
        assert_string_equal(e.file, path);
        assert_int_equal(e.line, 3);
        assert_string_equal(e.msg, "unknown key \"memroy\" in [default]");
        conf_free(&c);
        tmp_path(path, "cubby.conf.d/15-bad.conf");
        assert_int_equal(unlink(path), 0);

        /* conf_load starts from scratch: no conf_init needed, and a
         * conf_free()d Conf can be loaded again */
        assert_int_equal(load(&c, &e, me), 0);
        conf_free(&c);
        assert_int_equal(load(&c, &e, me), 0);
        assert_int_equal(c.n_sections, 4);
        conf_free(&c);

        /* wrong owner: main file first */
        expect_load_error(me + 1, "cubby.conf", "not owned by uid");

        /* group- or other-writable file refused */
        write_at("cubby.conf.d/50-w.conf", "[default]\n", 0664);
        expect_load_error(me, "cubby.conf.d/50-w.conf", "writable by group or others (mode 0664)");
        write_at("cubby.conf.d/50-w.conf", "[default]\n", 0646);
        expect_load_error(me, "cubby.conf.d/50-w.conf", "writable by group or others (mode 0646)");
        tmp_path(path, "cubby.conf.d/50-w.conf");
        assert_int_equal(unlink(path), 0);
        write_at("cubby.conf", "[default]\n", 0620);
        expect_load_error(me, "cubby.conf", "writable by group or others");
        write_at("cubby.conf", "[default]\ncpu = 1\nmemory = 1G\n", 0644);

        /* group-writable drop-in dir refused */
        tmp_path(path, "cubby.conf.d");
        assert_int_equal(chmod(path, 0775), 0);
        expect_load_error(me, "cubby.conf.d", "writable by group or others (mode 0775)");
        assert_int_equal(chmod(path, 0755), 0);
        assert_int_equal(load(&c, &e, me), 0);
        conf_free(&c);

        /* symlinks refused: a drop-in, the main file, the drop-in dir */
        tmp_path(path, "cubby.conf.d/10-a.conf");
        tmp_path(path2, "cubby.conf.d/60-link.conf");
        assert_int_equal(symlink(path, path2), 0);
        expect_load_error(me, "cubby.conf.d/60-link.conf", "is a symbolic link");
        assert_int_equal(unlink(path2), 0);

        tmp_path(path, "cubby.conf");
        tmp_path(path2, "real.conf");
        assert_int_equal(rename(path, path2), 0);
        assert_int_equal(symlink(path2, path), 0);
        expect_load_error(me, "cubby.conf", "is a symbolic link");
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rename(path2, path), 0);

        tmp_path(path, "cubby.conf.d");
        tmp_path(path2, "real.d");
        assert_int_equal(rename(path, path2), 0);
        assert_int_equal(symlink(path2, path), 0);
        expect_load_error(me, "cubby.conf.d", "");
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rename(path2, path), 0);

        /* a directory or a FIFO where a file should be: refused, no hang */
        tmp_path(path, "cubby.conf.d/70-dir.conf");
        assert_int_equal(mkdir(path, 0755), 0);
        expect_load_error(me, "cubby.conf.d/70-dir.conf", "not a regular file");
        assert_int_equal(rmdir(path), 0);

        alarm(10); /* a hang fails the test instead of blocking it */
        tmp_path(path, "cubby.conf.d/80-fifo.conf");
        assert_int_equal(mkfifo(path, 0644), 0);
        expect_load_error(me, "cubby.conf.d/80-fifo.conf", "not a regular file");
        assert_int_equal(unlink(path), 0);

        tmp_path(path, "cubby.conf");
        tmp_path(path2, "real.conf");
        assert_int_equal(rename(path, path2), 0);
        assert_int_equal(mkfifo(path, 0644), 0);
        expect_load_error(me, "cubby.conf", "not a regular file");
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rename(path2, path), 0);
        alarm(0);

        /* the drop-in "dir" is a file */
        tmp_path(path, "cubby.conf.d");
        tmp_path(path2, "real.d");
        assert_int_equal(rename(path, path2), 0);
        write_at("cubby.conf.d", "", 0644);
        expect_load_error(me, "cubby.conf.d", "not a directory");
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rename(path2, path), 0);

        /* too large */
        {
                _cleanup_free_ char *big = malloc(CONF_MAX_FILE_SIZE + 2);

                assert_non_null(big);
                memset(big, '#', CONF_MAX_FILE_SIZE + 1);
                big[CONF_MAX_FILE_SIZE + 1] = 0;
                write_at("cubby.conf.d/90-big.conf", big, 0644);
                expect_load_error(me, "cubby.conf.d/90-big.conf", "larger than 1048576 bytes");
                tmp_path(path, "cubby.conf.d/90-big.conf");
                assert_int_equal(unlink(path), 0);
        }

        /* too many files */
        for (int i = 0; i < CONF_MAX_FILES; i++) {
                char rel[64];

                snprintf(rel, sizeof rel, "cubby.conf.d/m%03d.conf", i);
                write_at(rel, "# nothing\n", 0644);
        }
        expect_load_error(me, "cubby.conf.d", "too many files");
}

/* The sample shipped to admins parses, documents the defaults, and
 * sandboxes nobody. */
static void test_sample_config(void **state)
{
        const char *root = getenv("CUBBY_SOURCE_ROOT");
        _cleanup_free_ char *text = NULL;
        char path[PATH_MAX], buf[PATH_MAX + 300];
        const ConfSection *src[_CONF_KEY_MAX];
        ConfPolicy p, d;
        Conf c, def;
        ConfError e;
        size_t len;

        if (!root) {
                print_message("CUBBY_SOURCE_ROOT not set\n");
                fail();
        }
        snprintf(path, sizeof path, "%s/etc/security/cubby.conf", root);
        assert_int_equal(read_file_at(AT_FDCWD, path, CONF_MAX_FILE_SIZE, &text, &len, NULL), 0);
        conf_init(&c);
        if (conf_parse(&c, text, len, "cubby.conf", &e) < 0) {
                conf_error_format(&e, buf, sizeof buf);
                print_error("%s\n", buf);
                fail();
        }
        /* the [global] values shown are the compiled-in defaults */
        conf_init(&def);
        assert_memory_equal(&c.global, &def.global, sizeof def.global);

        conf_resolve(&c, "alice", (const char *const[]){ "students", "users" }, 2, &p, src);
        assert_false(p.sandbox);
        assert_non_null(src[CONF_KEY_SANDBOX]);
        assert_int_equal(src[CONF_KEY_SANDBOX]->kind, CONF_SECTION_DEFAULT);
        /* and so are the [default] ones */
        conf_resolve(&def, "alice", NULL, 0, &d, NULL);
        assert_memory_equal(&p, &d, sizeof p);
        conf_free(&c);

        /* Every "#key = value" and "#[section]" line, uncommented, is valid,
         * and the documented defaults are the compiled-in ones. */
        for (size_t i = 0; i < len; i++)
                if ((i == 0 || text[i - 1] == '\n') && text[i] == '#' &&
                    ((text[i + 1] >= 'a' && text[i + 1] <= 'z') || text[i + 1] == '['))
                        text[i] = ' ';
        conf_init(&c);
        if (conf_parse(&c, text, len, "cubby.conf", &e) < 0) {
                conf_error_format(&e, buf, sizeof buf);
                print_error("uncommented: %s\n", buf);
                fail();
        }
        assert_memory_equal(&c.global, &def.global, sizeof def.global);
        conf_resolve(&c, "bob", NULL, 0, &p, src);
        assert_memory_equal(&p, &d, sizeof p);
        for (int k = 0; k < _CONF_KEY_MAX; k++) {
                if (!src[k])
                        print_error("key %s is not documented in [default]\n", conf_key_name(k));
                assert_non_null(src[k]);
        }
        /* the examples really sandbox */
        conf_resolve(&c, "bob", (const char *const[]){ "students" }, 1, &p, NULL);
        assert_true(p.sandbox);
        conf_free(&c);
}

/* A cut at 63 characters must not leave a trailing '-'; names
 * of users and hosts never make an invalid label. */
static void test_hostname_expand(void **state)
{
        char out[64], want[64];
        char pat[64];

        (void)state;
        conf_hostname_expand("%u-%h", "alice", "lab1.example.org", out, sizeof out);
        assert_string_equal(out, "alice-lab1");
        conf_hostname_expand("%h", "alice", "lab1", out, sizeof out);
        assert_string_equal(out, "lab1");
        /* 61 characters, then the user: the cut at 63 falls after a '-' */
        memset(pat, 'a', 61);
        strcpy(pat + 61, "%u");
        memset(want, 'a', 61);
        strcpy(want + 61, "b");
        conf_hostname_expand(pat, "b-c", "h", out, sizeof out);
        assert_string_equal(out, want);
        conf_hostname_expand(pat, "_x", "h", out, sizeof out); /* an inner '-' stays */
        strcpy(want + 61, "-x");
        assert_string_equal(out, want);
        conf_hostname_expand(pat, "x_", "h", out, sizeof out); /* '_' maps to a last '-' */
        strcpy(want + 61, "x");
        assert_string_equal(out, want);
        /* a user name of nothing but mapped characters: leading/trailing '-' */
        conf_hostname_expand("%u", "_a_", "h", out, sizeof out);
        assert_string_equal(out, "a");
        conf_hostname_expand("%u", "._", "h", out, sizeof out);
        assert_string_equal(out, "cubby");
        conf_hostname_expand("%u-%h", "_", "_", out, sizeof out);
        assert_string_equal(out, "cubby");
        /* never longer than size - 1 and never ending in '-' at any cut */
        for (size_t size = 2; size <= sizeof out; size++) {
                conf_hostname_expand("%u-%u-%u-%u-%u-%u-%u-%u", "abcdefgh", "h", out, size);
                assert_true(strlen(out) < size);
                assert_true(out[0] != '-' && out[strlen(out) - 1] != '-');
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_parse_cpu),
                cmocka_unit_test(test_parse_size),
                cmocka_unit_test(test_syntax),
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_policy_keys),
                cmocka_unit_test(test_global_keys),
                cmocka_unit_test(test_resolve),
                cmocka_unit_test(test_misc),
                cmocka_unit_test_setup_teardown(test_load, setup_dir, teardown_dir),
                cmocka_unit_test(test_sample_config),
                cmocka_unit_test(test_hostname_expand),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
