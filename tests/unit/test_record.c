/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The session record: format/parse, strictness, safe reading, and the
 * helper's ancestry lookup against a fake /proc tree. Unprivileged: the
 * expected owner is the test's own uid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cubby/conf.h"
#include "cubby/proc.h"
#include "cubby/record-write.h"
#include "cubby/record.h"
#include "cubby/util.h"

static Record *sample(void)
{
        Record *r = calloc(1, sizeof *r);

        r->version = 1;
        strcpy(r->id, "0123456789abcdef");
        r->ready = true;
        r->opener_pid = 4242;
        r->opener_start = 987654;
        r->uid = 1001;
        r->gid = 1002;
        strcpy(r->user, "alice");
        strcpy(r->home, "/home/alice");
        strcpy(r->shell, "/bin/bash");
        strcpy(r->gecos, "Alice \"A\" Liddell\\");
        r->mode = RECORD_MODE_REDIRECT;
        strcpy(r->redirect, "/bin/bash");
        r->sandbox = true;
        strcpy(r->service, "sshd");
        strcpy(r->rhost, "198.51.100.7");
        strcpy(r->hostname, "lab-alice");
        r->seccomp = true;
        r->created = 1700000000;
        strcpy(r->state_dir, "/var/lib/cubby");
        strcpy(r->run_dir, "/run/cubby");
        strcpy(r->home_mount, "/var/lib/cubby/users/alice/merged");
        r->cgroup.n = 2;
        r->cgroup.dir[0] = (CgDir){ .v2 = false, .ctrl = CG_CTRL_MEMORY };
        strcpy(r->cgroup.dir[0].path, "/sys/fs/cgroup/memory/cubby/u1001/s0123456789abcdef");
        r->cgroup.dir[1] = (CgDir){ .v2 = true, .ctrl = CG_CTRL_NONE_V2 };
        strcpy(r->cgroup.dir[1].path, "/sys/fs/cgroup/unified/cubby/u1001/s0123456789abcdef");
        r->n_env = 2;
        strcpy(r->env[0], "LANG=C.UTF-8");
        strcpy(r->env[1], "WEIRD=tab\there\nnewline");
        r->n_hide = 1;
        strcpy(r->hide[0], "/srv");
        r->network = 1;
        strcpy(r->bridge, "cubby0");
        r->subnet = 0x0ad50000;
        r->prefix = 16;
        strcpy(r->resolv, "nameserver 192.0.2.53\nsearch example.org\n");
        return r;
}

static void test_roundtrip(void **state)
{
        _cleanup_free_ Record *r = sample(), *p = calloc(1, sizeof *p);
        _cleanup_free_ char *text = NULL, *text2 = NULL;

        assert_int_equal(record_format(r, &text), 0);
        /* one line per key: escaped values cannot add lines */
        assert_null(strstr(text, "\nnewline"));
        assert_int_equal(record_parse(text, strlen(text), p), 0);
        assert_int_equal(record_format(p, &text2), 0);
        assert_string_equal(text, text2);
        assert_string_equal(p->gecos, r->gecos);
        assert_string_equal(p->env[1], r->env[1]);
        assert_string_equal(p->resolv, r->resolv);
        assert_int_equal(p->opener_pid, 4242);
        assert_int_equal(p->opener_start, 987654);
        assert_int_equal(p->cgroup.n, 2);
        assert_true(p->cgroup.dir[1].v2);
        assert_int_equal(p->subnet, 0x0ad50000);
        assert_int_equal(p->prefix, 16);
        assert_true(p->sandbox && p->ready && p->seccomp);
        assert_false(p->net_routed);
        /* network_mode = routed travels as a last word of net= */
        {
                _cleanup_free_ char *t3 = NULL;

                r->net_routed = true;
                assert_int_equal(record_format(r, &t3), 0);
                assert_non_null(strstr(t3, "\nnet=cubby0 10.213.0.0/16 refuse routed\n"));
                assert_int_equal(record_parse(t3, strlen(t3), p), 0);
                assert_true(p->net_routed);
        }
}

static int parse_modified(const char *find, const char *replace)
{
        _cleanup_free_ Record *r = sample(), *p = calloc(1, sizeof *p);
        _cleanup_free_ char *text = NULL, *mod = NULL;
        char *at;
        int k;

        assert_int_equal(record_format(r, &text), 0);
        at = strstr(text, find);
        assert_non_null(at);
        mod = malloc(strlen(text) + strlen(replace) + 1);
        memcpy(mod, text, (size_t)(at - text));
        strcpy(mod + (at - text), replace);
        strcat(mod, at + strlen(find));
        k = record_parse(mod, strlen(mod), p);
        return k;
}

static void test_strict(void **state)
{
        assert_int_equal(parse_modified("version=1\n", ""), -EINVAL);           /* missing */
        assert_int_equal(parse_modified("version=1\n", "version=2\n"), -EINVAL);
        assert_int_equal(parse_modified("user=alice\n", "user=alice\nuser=bob\n"), -EINVAL);
        assert_int_equal(parse_modified("user=alice\n", "user=al/ice\n"), -EINVAL);
        assert_int_equal(parse_modified("user=alice\n", "user=../x\n"), -EINVAL);
        assert_int_equal(parse_modified("home=/home/alice\n", "home=/home/../etc\n"), -EINVAL);
        assert_int_equal(parse_modified("home=/home/alice\n", "home=/home/a:b\n"), -EINVAL);
        assert_int_equal(parse_modified("uid=1001\n", "uid=-1\n"), -EINVAL);
        assert_int_equal(parse_modified("uid=1001\n", "uid=4294967295\n"), -EINVAL);
        assert_int_equal(parse_modified("uid=1001\n", "uid=1001\nbogus=1\n"), -EINVAL);
        assert_int_equal(parse_modified("sandbox=yes\n", "sandbox=maybe\n"), -EINVAL);
        assert_int_equal(parse_modified("id=0123456789abcdef\n", "id=0123456789ABCDEF\n"), -EINVAL);
        assert_int_equal(parse_modified("opener=4242-987654\n", "opener=0-987654\n"), -EINVAL);
        assert_int_equal(parse_modified("opener=4242-987654\n", "opener=4242\n"), -EINVAL);
        assert_int_equal(parse_modified("cgroup=v2:", "cgroup=v2:16:/etc/../sys/fs/cgroup\ncgroup=v2:"), -EINVAL);
        assert_int_equal(parse_modified("cgroup=v2:", "cgroup=v2:16:/tmp/evil\ncgroup=v2:"), -EINVAL);
        assert_int_equal(parse_modified("hostname=lab-alice\n", "hostname=a b\n"), -EINVAL);
        assert_int_equal(parse_modified("gecos=", "gecos=x\\x0a"), -EINVAL); /* a passwd line break */
        assert_int_equal(parse_modified("gecos=", "gecos=a:b"), -EINVAL);
        assert_int_equal(parse_modified("service=sshd\n", "service=ss\\x00hd\n"), -EINVAL);
        assert_int_equal(parse_modified("service=sshd\n", "service=ss\\q\n"), -EINVAL);
        assert_int_equal(parse_modified("net=cubby0 ", "net=cubby0/x "), -EINVAL);
        assert_int_equal(parse_modified(" refuse\n", " refuse routed\n"), 0);
        assert_int_equal(parse_modified(" refuse\n", " refuse routedx\n"), -EINVAL);
        assert_int_equal(parse_modified(" refuse\n", " refuse bridge\n"), -EINVAL);
        assert_int_equal(parse_modified(" refuse\n", " refuse  routed\n"), -EINVAL);
        assert_int_equal(parse_modified(" refuse\n", " refuse routed routed\n"), -EINVAL);
        /* the net value: strict numbers, no wrap-around, single spaces */
        assert_int_equal(parse_modified("net=cubby0 10.213.0.0/16 refuse\n",
                                        "net=cubby0 10.213.0.0/16 fallback-none\n"), 0);
        assert_int_equal(parse_modified("net=cubby0 10.213.0.0/16 ", "net=cubby0 4294967306.213.0.0/16 "), -EINVAL);
        assert_int_equal(parse_modified("net=cubby0 10.213.0.0/16 ", "net=cubby0 10.256.0.0/16 "), -EINVAL);
        assert_int_equal(parse_modified("net=cubby0 10.213.0.0/16 ", "net=cubby0 10.213.0.0/4294967312 "), -EINVAL);
        assert_int_equal(parse_modified("net=cubby0 10.213.0.0/16 ", "net=cubby0 10.213.0.0/31 "), -EINVAL);
        assert_int_equal(parse_modified("net=cubby0 10.213.0.0/16 ", "net=cubby0 10.213.0/16 "), -EINVAL);
        assert_int_equal(parse_modified("net=cubby0 10.213.0.0/16 ", "net=cubby0 10.213.0.0.1/16 "), -EINVAL);
        assert_int_equal(parse_modified("net=cubby0 10.213.0.0/16 ", "net=cubby0 +10.213.0.0/16 "), -EINVAL);
        assert_int_equal(parse_modified("net=cubby0 10.213.0.0/16 ", "net=cubby0  10.213.0.0/16 "), -EINVAL);
        assert_int_equal(parse_modified("net=cubby0 10.213.0.0/16 refuse\n", "net=cubby0 10.213.0.0/16 refuse x\n"), -EINVAL);
        assert_int_equal(parse_modified("net=cubby0 ", "net=cubby01234567890 "), -EINVAL);
        /* no trailing newline on the last line: a truncated write */
        {
                _cleanup_free_ Record *r = sample(), *p = calloc(1, sizeof *p);
                _cleanup_free_ char *text = NULL;

                assert_int_equal(record_format(r, &text), 0);
                assert_int_equal(record_parse(text, strlen(text) - 1, p), -EINVAL);
        }
        /* a sandboxed record without cgroups is refused */
        {
                _cleanup_free_ Record *r = sample(), *p = calloc(1, sizeof *p);
                _cleanup_free_ char *text = NULL;

                r->cgroup.n = 0;
                assert_int_equal(record_format(r, &text), 0);
                assert_int_equal(record_parse(text, strlen(text), p), -EINVAL);
        }
}

/* home = direct and the names of the user's (LDAP) groups: round trip,
 * and only what the helper may trust parses. */
static void test_home_direct_and_group_names(void **state)
{
        _cleanup_free_ Record *r = sample(), *p = calloc(1, sizeof *p);
        _cleanup_free_ char *text = NULL;

        r->home_mount[0] = 0;
        r->home_direct = true;
        r->n_groups = 2;
        r->groups[0] = 1002;
        r->groups[1] = 70001;
        r->n_group_names = 2;
        r->group_names[0].gid = 1002;
        strcpy(r->group_names[0].name, "2026-Students@EXAMPLE.ORG");
        r->group_names[1].gid = 70001;
        strcpy(r->group_names[1].name, "lab.a");
        assert_int_equal(record_format(r, &text), 0);
        assert_non_null(strstr(text, "\nhome_direct=yes\n"));
        assert_non_null(strstr(text, "\ngroup_name=1002 2026-Students@EXAMPLE.ORG\n"));
        assert_int_equal(record_parse(text, strlen(text), p), 0);
        assert_true(p->home_direct);
        assert_int_equal(p->n_group_names, 2);
        assert_int_equal(p->group_names[1].gid, 70001);
        assert_string_equal(p->group_names[1].name, "lab.a");
        /* a direct home and an overlay at once: refused */
        assert_int_equal(parse_modified("home_mount=", "home_direct=yes\nhome_mount="), -EINVAL);
        assert_int_equal(parse_modified("home_mount=", "home_direct=maybe\nhome_mount="), -EINVAL);
        /* names that could break a line of /etc/group, or no name */
        assert_int_equal(parse_modified("hide=", "group_name=1002 students\nhide="), 0);
        assert_int_equal(parse_modified("hide=", "group_name=1002 a:b\nhide="), -EINVAL);
        assert_int_equal(parse_modified("hide=", "group_name=1002 a\\x0ab\nhide="), -EINVAL);
        assert_int_equal(parse_modified("hide=", "group_name=1002 a b\nhide="), -EINVAL);
        assert_int_equal(parse_modified("hide=", "group_name=1002\nhide="), -EINVAL);
        assert_int_equal(parse_modified("hide=", "group_name=x students\nhide="), -EINVAL);
        assert_int_equal(parse_modified("hide=", "group_name=1002 \nhide="), -EINVAL);
}

/* Every seccomp setting reaches the helper as it was; only the exact names
 * parse. */
static void test_seccomp_values(void **state)
{
        for (int s = 0; s < _CONF_SECCOMP_MAX; s++) {
                _cleanup_free_ Record *r = sample(), *p = calloc(1, sizeof *p);
                _cleanup_free_ char *text = NULL;

                r->seccomp = s;
                assert_int_equal(record_format(r, &text), 0);
                assert_int_equal(record_parse(text, strlen(text), p), 0);
                assert_int_equal(p->seccomp, s);
        }
        assert_int_equal(parse_modified("seccomp=yes\n", "seccomp=allow_io_uring\n"), 0);
        assert_int_equal(parse_modified("seccomp=yes\n", "seccomp=true\n"), -EINVAL);
        assert_int_equal(parse_modified("seccomp=yes\n", "seccomp=3\n"), -EINVAL);
        assert_int_equal(parse_modified("seccomp=yes\n", "seccomp=allow_io_uring \n"), -EINVAL);
}

/* container=login|user: written as set, only the exact names parse, and a
 * record without the key (written before it existed) is a login container. */
static void test_container_values(void **state)
{
        for (int c = CONF_CONTAINER_LOGIN; c <= CONF_CONTAINER_USER; c++) {
                _cleanup_free_ Record *r = sample(), *p = calloc(1, sizeof *p);
                _cleanup_free_ char *text = NULL;

                r->container = c;
                assert_int_equal(record_format(r, &text), 0);
                assert_non_null(strstr(text, c == CONF_CONTAINER_USER ? "\ncontainer=user\n"
                                                                      : "\ncontainer=login\n"));
                assert_int_equal(record_parse(text, strlen(text), p), 0);
                assert_int_equal(p->container, c);
        }
        assert_int_equal(parse_modified("container=login\n", "container=user\n"), 0);
        assert_int_equal(parse_modified("container=login\n", ""), 0);
        assert_int_equal(parse_modified("container=login\n", "container=User\n"), -EINVAL);
        assert_int_equal(parse_modified("container=login\n", "container=\n"), -EINVAL);
        assert_int_equal(parse_modified("container=login\n", "container=login\ncontainer=login\n"),
                         -EINVAL);
        /* a joined session without the run_dir its container record is in */
        {
                _cleanup_free_ Record *r = sample(), *p = calloc(1, sizeof *p);
                _cleanup_free_ char *text = NULL;

                r->container = CONF_CONTAINER_USER;
                r->network = 0;
                r->home_mount[0] = 0;
                r->run_dir[0] = 0;
                assert_int_equal(record_format(r, &text), 0);
                assert_int_equal(record_parse(text, strlen(text), p), -EINVAL);
        }
        {
                _cleanup_free_ Record *r = sample(), *p = calloc(1, sizeof *p);
                _cleanup_free_ char *text = NULL;

                assert_int_equal(record_format(r, &text), 0);
                assert_int_equal(record_parse(text, strlen(text), p), 0);
                assert_int_equal(p->container, CONF_CONTAINER_LOGIN);
        }
}

static void test_escape(void **state)
{
        char out[64], back[64];

        assert_int_equal(record_escape("a\\b\n\x7f\xc3\xa9", out, sizeof out), 0);
        assert_string_equal(out, "a\\x5cb\\x0a\\x7f\\xc3\\xa9");
        assert_int_equal(record_unescape(out, back, sizeof back), 0);
        assert_string_equal(back, "a\\b\n\x7f\xc3\xa9");
        assert_int_equal(record_escape("abcdef", out, 4), -ENAMETOOLONG);
        assert_int_equal(record_unescape("\\x4", back, sizeof back), -EINVAL);
        assert_int_equal(record_unescape("\\x00", back, sizeof back), -EINVAL);
        assert_int_equal(record_unescape("raw\ttab", back, sizeof back), -EINVAL);
}

static void test_proc_stat_parse(void **state)
{
        pid_t ppid;
        uint64_t start;
        const char *odd = "77 (a) b) c (d) S 12 77 77 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 "
                          "55555 1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0";

        assert_int_equal(proc_stat_parse(odd, &ppid, &start), 0);
        assert_int_equal(ppid, 12);
        assert_int_equal(start, 55555);
        assert_int_equal(proc_stat_parse("1 (x) S", &ppid, &start), -EINVAL);
        assert_int_equal(proc_stat_parse("no paren", &ppid, &start), -EINVAL);
        assert_int_equal(proc_stat_parse("1 (x) S -5 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9", &ppid, &start),
                         -EINVAL);
}

/* A zombie (exited, not reaped) is not alive: a lease or session that it
 * owned is free (the supervisor whose opener was killed stays a
 * zombie until init reaps it). */
static void test_proc_alive(void **state)
{
        uint64_t me, start;
        pid_t child;
        int fd[2];
        char c;

        (void)state;
        assert_int_equal(proc_stat("/proc", getpid(), NULL, &me), 0);
        assert_int_equal(proc_alive("/proc", getpid(), me), 1);
        assert_int_equal(proc_alive("/proc", getpid(), me + 1), 0); /* a later process */
        assert_int_equal(pipe(fd), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                close(fd[0]);
                _exit(0); /* closes fd[1]: the parent's read sees EOF once we are gone */
        }
        close(fd[1]);
        assert_int_equal(read(fd[0], &c, 1), 0);
        close(fd[0]);
        assert_int_equal(proc_stat("/proc", child, NULL, &start), 0);
        /* the exit may still be under way: wait for the zombie, bounded */
        for (int i = 0; i < 500 && proc_alive("/proc", child, start) != 0; i++)
                usleep(2000);
        assert_int_equal(proc_alive("/proc", child, start), 0);
        assert_int_equal(waitpid(child, NULL, 0), child);
        assert_int_equal(proc_alive("/proc", child, start), 0);
        assert_int_equal(proc_stat_state("1 (a) b) Z 1 2"), 'Z');
        assert_int_equal(proc_stat_state("1 (x) S 1"), 'S');
        assert_int_equal(proc_stat_state("no paren"), 0);
}

/* ---- ancestry, against a fake proc tree -------------------------------- */

typedef struct Fixture {
        char root[64];
        char proc[96];
        char sessions[96];
        int sfd;
} Fixture;

static void fake_proc(Fixture *f, pid_t pid, pid_t ppid, uint64_t start)
{
        char path[256], text[256];
        FILE *fp;

        snprintf(path, sizeof path, "%s/%d", f->proc, (int)pid);
        mkdir(path, 0755);
        strcat(path, "/stat");
        fp = fopen(path, "w");
        assert_non_null(fp);
        snprintf(text, sizeof text,
                 "%d (sshd: x [priv]) S %d 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu 1 1 1\n",
                 (int)pid, (int)ppid, (unsigned long long)start);
        fputs(text, fp);
        fclose(fp);
}

static int setup(void **state)
{
        Fixture *f = calloc(1, sizeof *f);

        strcpy(f->root, "/tmp/cubby-test-record-XXXXXX");
        assert_non_null(mkdtemp(f->root));
        snprintf(f->proc, sizeof f->proc, "%s/proc", f->root);
        snprintf(f->sessions, sizeof f->sessions, "%s/sessions", f->root);
        mkdir(f->proc, 0755);
        mkdir(f->sessions, 0700);
        f->sfd = open(f->sessions, O_RDONLY | O_DIRECTORY);
        /* helper (its parent is 300) -> 300 (user child) -> 200 (monitor) -> 1 */
        fake_proc(f, 300, 200, 3000);
        fake_proc(f, 200, 1, 2000);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        Fixture *f = *state;
        char cmd[200];

        close(f->sfd);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static Record *record_for(pid_t pid, uint64_t start)
{
        Record *r = sample();

        r->opener_pid = pid;
        r->opener_start = start;
        r->uid = getuid();
        r->gid = getgid();
        return r;
}

static void test_ancestry_depth(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ Record *r = record_for(200, 2000), *got = calloc(1, sizeof *got);
        unsigned depth = 99;

        assert_int_equal(record_find_ancestor(f->proc, f->sfd, 300, 3, getuid(), getuid(), getgid(), got, &depth),
                         -ENOENT);
        assert_int_equal(record_write(f->sfd, r), 0);
        assert_int_equal(record_find_ancestor(f->proc, f->sfd, 300, 3, getuid(), getuid(), getgid(), got, &depth), 0);
        assert_int_equal(depth, 1); /* sshd: the monitor is the grandparent */
        assert_int_equal(got->opener_pid, 200);
        /* depth limited to 0: not found */
        assert_int_equal(record_find_ancestor(f->proc, f->sfd, 300, 0, getuid(), getuid(), getgid(), got, NULL),
                         -ENOENT);
        /* a record about another user is not the caller's */
        assert_int_equal(record_find_ancestor(f->proc, f->sfd, 300, 3, getuid(), getuid() + 1, getgid(), got, NULL),
                         -EPERM);
}

static void test_ancestry_pid_reuse(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ Record *r = record_for(200, 1999), *got = calloc(1, sizeof *got);

        /* a record of an earlier process that had pid 200: start time differs */
        assert_int_equal(record_write(f->sfd, r), 0);
        assert_int_equal(record_find_ancestor(f->proc, f->sfd, 300, 3, getuid(), getuid(), getgid(), got, NULL),
                         -ENOENT);
}

static void test_ancestry_not_ready(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ Record *r = record_for(200, 2000), *got = calloc(1, sizeof *got);

        r->ready = false;
        assert_int_equal(record_write(f->sfd, r), 0);
        assert_int_equal(record_find_ancestor(f->proc, f->sfd, 300, 3, getuid(), getuid(), getgid(), got, NULL),
                         -EAGAIN);
}

static void test_unsafe_records(void **state)
{
        Fixture *f = *state;
        _cleanup_free_ Record *r = record_for(200, 2000), *got = calloc(1, sizeof *got);
        _cleanup_free_ char *text = NULL;
        char path[256], link[256], real[256];
        int fd;

        /* group-writable: refused */
        assert_int_equal(record_write(f->sfd, r), 0);
        snprintf(path, sizeof path, "%s/200-2000", f->sessions);
        assert_int_equal(chmod(path, 0620), 0);
        assert_int_equal(record_read(f->sfd, "200-2000", getuid(), got), -EPERM);
        /* owned by someone else than expected: refused */
        assert_int_equal(chmod(path, 0600), 0);
        assert_int_equal(record_read(f->sfd, "200-2000", getuid() + 1, got), -EPERM);
        /* a symlink to a valid record: refused, never followed */
        snprintf(link, sizeof link, "%s/200-2000", f->sessions);
        snprintf(real, sizeof real, "%s/real", f->sessions);
        assert_int_equal(rename(path, real), 0);
        assert_int_equal(symlink("real", link), 0);
        assert_int_equal(record_read(f->sfd, "200-2000", getuid(), got), -EPERM);
        unlink(link);
        /* a record whose content names another opener than its file name */
        assert_int_equal(record_format(r, &text), 0);
        fd = openat(f->sfd, "201-2000", O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        assert_int_equal(record_read(f->sfd, "201-2000", getuid(), got), -EINVAL);
        /* a FIFO where a record should be does not hang the reader */
        assert_int_equal(mkfifoat(f->sfd, "202-2000", 0600), 0);
        assert_int_equal(record_read(f->sfd, "202-2000", getuid(), got), -EPERM);
}

/* record_key_parse takes back exactly what record_key writes. */
static void test_key_parse(void **state)
{
        static const char *const bad[] = { "", "-", "1-", "-1", "0-5", "01-5", "1-05", "1-5x", "x-5",
                                           "1--5", "2147483648-1", "1-2-3", ".1-2.3.tmp" };
        char key[RECORD_KEY_MAX];
        uint64_t start;
        pid_t pid;

        (void)state;
        assert_int_equal(record_key(4242, 987654321, key, sizeof key), 0);
        assert_int_equal(record_key_parse(key, &pid, &start), 0);
        assert_int_equal(pid, 4242);
        assert_int_equal(start, 987654321);
        assert_int_equal(record_key_parse("1-0", &pid, &start), 0);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(record_key_parse(bad[i], &pid, &start), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_key_parse),
                cmocka_unit_test(test_strict),
                cmocka_unit_test(test_home_direct_and_group_names),
                cmocka_unit_test(test_seccomp_values),
                cmocka_unit_test(test_container_values),
                cmocka_unit_test(test_escape),
                cmocka_unit_test(test_proc_stat_parse),
                cmocka_unit_test(test_proc_alive),
                cmocka_unit_test_setup_teardown(test_ancestry_depth, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ancestry_pid_reuse, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ancestry_not_ready, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unsafe_records, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
