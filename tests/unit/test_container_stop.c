/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stop of a per-user container (lib/container-life.c, cubbyctl stop,
 * the sweep, gc) against a real stand-in (root; exit 77 otherwise): a
 * process tree in pid, user, mount, uts, ipc, net and cgroup namespaces of
 * its own, whose PID 1 plays the init, with a job in it that ignores
 * SIGTERM and a "supervisor" outside its pid namespace in a session
 * cgroup, all in cgroups <own>/cubby-ctstop-<pid>/u<uid>/ct/{init,s<id>}
 * made below this process's own cgroup in every hierarchy (docs/TESTING.md,
 * rule 2); an address lease owned by the init, two references on the
 * user's home and a container record written here. After each stop
 * nothing may be left: no process, cgroup dir, lease, record or idle
 * state, and one home reference less.
 *
 * The tests run in a forked process; the parent removes the whole
 * ./cubby-ctstop-<pid> tree afterwards whatever happened, and fails if
 * anything was left. */
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cubby/anchor-holder.h"
#include "cubby/anchor.h"
#include "cubby/cgroup-layout.h"
#include "cubby/cgroup-lifecycle.h"
#include "cubby/container-life.h"
#include "cubby/ipam.h"
#include "cubby/proc.h"
#include "cubby/record-write.h"
#include "cubby/session.h"
#include "cubby/util.h"
#include "scratch.h"

#define SUBNET ((10u << 24) | (213u << 16))
#define SID "0123456789abcdef"

static char dir[] = "/tmp/cubby-ctstop-XXXXXX";
static char run_dir[PATH_MAX], conf_path[PATH_MAX], spec[64];
static uid_t uid;
static Conf conf;
static int locks = -1, sessions = -1;

typedef struct StandIn {
        pid_t reaper;   /* our child: the subreaper everything below ends at */
        pid_t init;     /* PID 1 of the stand-in's namespaces (host pid) */
        pid_t sup;      /* the "supervisor": in ct/s<id>, outside the pid namespace */
        CgSet user, ct;
} StandIn;

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_conf(const char *extra)
{
        FILE *f = fopen(conf_path, "w");
        ConfError e;

        assert_non_null(f);
        fprintf(f, "[global]\nrun_dir = %s\nstate_dir = %s/state\ncgroup_parent = %s\n"
                   "[default]\nsandbox = yes\nstop_grace = 1s\n%s\n",
                run_dir, dir, spec, extra);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(conf_path, 0644), 0);
        conf_free(&conf);
        if (conf_load(&conf, conf_path, 0, &e) < 0) {
                char buf[PATH_MAX + 300];

                conf_error_format(&e, buf, sizeof buf);
                fail_msg("policy: %s", buf);
        }
}

static void join(const CgSet *set)
{
        for (size_t i = 0; i < set->n; i++) {
                _cleanup_close_ int fd = -1;

                if (cg_dir_open(&set->dir[i], &fd) < 0 || write_string_at(fd, "cgroup.procs", "0") < 0)
                        _exit(90);
        }
}

/* The init: reaps, ignores everything else (as PID 1 it gets no signal
 * from outside its namespace but SIGKILL). Its job ignores SIGTERM and,
 * with burn, uses a whole CPU. */
_Noreturn static void init_main(bool burn)
{
        pid_t job = fork();

        if (job == 0) {
                signal(SIGTERM, SIG_IGN);
                prctl(PR_SET_NAME, burn ? "ct-burn" : "ct-job");
                for (;;)
                        if (!burn)
                                pause();
        }
        prctl(PR_SET_NAME, "ct-init");
        for (;;)
                if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
                        pause();
}

/* The reaper: makes the init (through a child that unshares and exits)
 * and the supervisor, reports their pids, reaps until all are gone. */
_Noreturn static void reaper_main(int report, const StandIn *s, const CgSet *init_set,
                                  const CgSet *sess_set, bool burn)
{
        int p[2];
        pid_t mid, pids[2] = { 0, 0 };

        prctl(PR_SET_CHILD_SUBREAPER, 1);
        prctl(PR_SET_NAME, "ct-reaper");
        if (pipe(p) < 0)
                _exit(91);
        mid = fork();
        if (mid == 0) {
                pid_t init;

                join(init_set);
                if (unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                            CLONE_NEWNET | CLONE_NEWCGROUP) < 0)
                        _exit(92);
                init = fork();
                if (init == 0)
                        init_main(burn);
                (void)!write(p[1], &init, sizeof init);
                _exit(0);
        }
        if (read(p[0], &pids[0], sizeof pids[0]) != sizeof pids[0])
                _exit(93);
        pids[1] = fork();
        if (pids[1] == 0) {
                join(sess_set);
                signal(SIGTERM, SIG_IGN);
                prctl(PR_SET_NAME, "ct-sup");
                for (;;)
                        pause();
        }
        (void)!write(report, pids, sizeof pids);
        close(report);
        (void)s;
        while (waitpid(-1, NULL, 0) >= 0 || errno == EINTR)
                ;
        _exit(0);
}

static int tree_procs(const CgSet *set)
{
        int n = 0;

        for (size_t i = 0; i < set->n; i++) {
                char cmd[PATH_MAX + 64];
                FILE *f;
                char line[64];

                if (cg_dir_at_user(&set->dir[i]))
                        continue; /* the user dir: not the tree's own */
                snprintf(cmd, sizeof cmd, "find %s -name cgroup.procs -exec cat {} + 2>/dev/null",
                         set->dir[i].path);
                f = popen(cmd, "r");
                if (!f)
                        return -1;
                while (fgets(line, sizeof line, f))
                        n++;
                pclose(f);
                if (n)
                        return n; /* the first hierarchy with processes says it */
        }
        return n;
}

/* A stand-in container of uid; with record, its record, its lease and its
 * home reference (two counted: a session's and the container's). */
static void standin_start(StandIn *s, bool record, bool burn)
{
        CgSet sess, init_set, sset;
        CgLimits lim = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, NULL };
        int p[2];
        pid_t pids[2];

        memset(s, 0, sizeof *s);
        assert_int_equal(cg_paths(spec, 0, uid, SID, &s->user, &sess), 0);
        assert_int_equal(ct_cgroup_set(&s->user, &s->ct), 0);
        assert_int_equal(ct_init_cgroup_set(&s->user, &init_set), 0);
        assert_int_equal(ct_session_cgroup_set(&s->user, SID, &sset), 0);
        assert_int_equal(cg_create(&s->user, &s->ct, &lim), 0);
        /* as the module makes them: no limits below the user dir */
        assert_int_equal(cg_create_below(&init_set, false), 0);
        assert_int_equal(cg_create_below(&sset, true), 0);
        assert_int_equal(pipe(p), 0);
        fflush(NULL);
        s->reaper = fork();
        assert_true(s->reaper >= 0);
        if (s->reaper == 0) {
                close(p[0]);
                reaper_main(p[1], s, &init_set, &sset, burn);
        }
        close(p[1]);
        assert_int_equal(read(p[0], pids, sizeof pids), (ssize_t)sizeof pids);
        close(p[0]);
        s->init = pids[0];
        s->sup = pids[1];
        /* init, its job and the supervisor (the init's parent, which
         * unshared, is gone) */
        for (int i = 0; i < 1000 && tree_procs(&s->ct) != 3; i++)
                usleep(2000);
        if (tree_procs(&s->ct) != 3) {
                char cmd[PATH_MAX + 128];

                snprintf(cmd, sizeof cmd, "for f in $(find %s -name cgroup.procs); do echo $f; "
                                          "for p in $(cat $f); do cat /proc/$p/comm; done; done",
                         s->ct.dir[0].path);
                (void)!system(cmd);
                fail_msg("the stand-in has %d processes, not 3", tree_procs(&s->ct));
        }
        if (!record)
                return;
        {
                _cleanup_free_ CtRecord *r = calloc(1, sizeof *r);
                _cleanup_close_ int ctdir = -1;
                IpamOwner owner;

                assert_non_null(r);
                r->version = 1;
                r->uid = uid;
                r->gid = uid;
                strcpy(r->user, "ctstop-user");
                strcpy(r->session, SID);
                r->init_pid = s->init;
                assert_int_equal(proc_stat("/proc", s->init, NULL, &r->init_start), 0);
                assert_int_equal(ct_ns_read("/proc", s->init, &r->ns_dev, r->ns_ino), 0);
                assert_int_equal(ipam_owner_init(&owner, SID, s->init, uid, "ctstop-user"), 0);
                assert_int_equal(ipam_acquire(run_dir, SUBNET, 16, &owner, &r->addr), 0);
                /* one more under the creating session's id (a helper's) */
                {
                        uint32_t a2;

                        assert_int_equal(ipam_owner_init(&owner, SID, s->sup, uid, "ctstop-user"), 0);
                        assert_int_equal(ipam_acquire(run_dir, SUBNET, 16, &owner, &a2), 0);
                }
                r->created = (uint64_t)time(NULL);
                r->cgroup = s->ct;
                strcpy(r->home, "/home/ctstop-user");
                strcpy(r->shell, "/bin/sh");
                r->seccomp = CONF_SECCOMP_YES;
                r->groups[0] = uid;
                r->n_groups = 1;
                assert_int_equal(ct_dir_open(run_dir, true, &ctdir), 0);
                assert_int_equal(ct_write(ctdir, r), 0);
        }
        assert_int_equal(session_home_refs_set(locks, uid, 2), 0);
}

/* The stand-in's reaper exited (all of it is gone), within ms. */
static bool reaper_done(StandIn *s, int ms)
{
        int status;

        for (int i = 0; s->reaper > 0 && i < ms; i++) {
                pid_t w = waitpid(s->reaper, &status, WNOHANG);

                if (w == s->reaper) {
                        s->reaper = 0;
                        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
                }
                usleep(1000);
        }
        return s->reaper == 0;
}

/* Nothing of the stand-in is left; the home's count is reset: no record
 * of the user holds it, so the container was its last holder. */
static void assert_gone(StandIn *s, bool recorded)
{
        _cleanup_close_ int ctdir = -1;
        IpamLease *leases = NULL;
        size_t n = 0;
        unsigned refs = 9;

        assert_true(reaper_done(s, 3000));
        for (size_t i = 0; i < s->user.n; i++) {
                struct stat st;

                if (lstat(s->ct.dir[i].path, &st) == 0)
                        fail_msg("%s is left", s->ct.dir[i].path);
                if (lstat(s->user.dir[i].path, &st) == 0)
                        fail_msg("%s is left", s->user.dir[i].path);
        }
        if (!recorded)
                return;
        assert_true(ipam_list(run_dir, &leases, &n) >= 0);
        for (size_t i = 0; i < n; i++) {
                assert_int_not_equal(leases[i].owner.pid, s->init);
                assert_string_not_equal(leases[i].owner.session, SID);
        }
        free(leases);
        assert_int_equal(ct_dir_open(run_dir, false, &ctdir), 0);
        {
                CtRecord *r = malloc(sizeof *r);

                assert_int_equal(ct_read(ctdir, uid, r), -ENOENT);
                free(r);
        }
        {
                char name[32];
                struct stat st;

                snprintf(name, sizeof name, "u%u.idle", (unsigned)uid);
                assert_int_equal(fstatat(ctdir, name, &st, 0), -1);
        }
        assert_int_equal(session_home_refs_get(locks, uid, &refs), 0);
        assert_int_equal(refs, 0);
}

static CtLife life(void)
{
        return (CtLife){ .global = &conf.global, .sessions = sessions, .locks = locks };
}

/* cubbyctl [--json] --config CONF ARGS...: its exit status, stdout in out. */
static int ctl(char *out, size_t size, const char *a1, const char *a2)
{
        int p[2], status;
        pid_t pid;
        ssize_t n, got = 0;

        assert_int_equal(pipe(p), 0);
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(p[1], 1);
                execl(TEST_CUBBYCTL, "cubbyctl", "--json", "--config", conf_path, a1, a2, (char *)NULL);
                _exit(127);
        }
        close(p[1]);
        while ((n = read(p[0], out + got, size - 1 - (size_t)got)) > 0)
                got += n;
        out[got] = 0;
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* ---- the tests ---------------------------------------------------------- */

/* ct_stop: SIGTERM (ignored by the job and the supervisor), the grace,
 * SIGKILL to the init (its pid namespace goes with it), the supervisor
 * killed through its cgroup, then everything released. */
static void test_stop(void **state)
{
        CtLife l = life();
        StandIn s;
        int64_t t0, ms;
        (void)state;

        write_conf("");
        standin_start(&s, true, false);
        t0 = now_ms();
        assert_int_equal(ct_stop(&l, uid, CT_STOP_ADMIN, 1, false, NULL), 0);
        ms = now_ms() - t0;
        print_message("stop with a 1 s grace (a job ignoring SIGTERM): %lld ms\n", (long long)ms);
        if (ms < 1000 || ms >= 4000)
                fail_msg("the stop took %lld ms, not the 1 s grace and a little", (long long)ms);
        assert_gone(&s, true);
        assert_int_equal(ct_stop(&l, uid, CT_STOP_ADMIN, 1, false, NULL), -ENOENT);
}

/* stop_grace = 0: no wait; a record whose cgroup names another user's
 * tree is refused. */
static void test_stop_no_grace(void **state)
{
        CtLife l = life();
        StandIn s;
        int64_t t0;
        (void)state;

        write_conf("");
        standin_start(&s, true, false);
        t0 = now_ms();
        assert_int_equal(ct_stop(&l, uid, CT_STOP_ADMIN, 0, false, NULL), 0);
        print_message("stop with no grace: %lld ms\n", (long long)(now_ms() - t0));
        assert_true(now_ms() - t0 < 1000);
        assert_gone(&s, true);
}

static void test_ctl_stop(void **state)
{
        char out[4096], arg[16];
        StandIn s;
        (void)state;

        write_conf("");
        standin_start(&s, true, false);
        snprintf(arg, sizeof arg, "%u", (unsigned)uid);
        assert_int_equal(ctl(out, sizeof out, "stop", arg), 0);
        assert_non_null(strstr(out, "\"stopped\":true"));
        assert_gone(&s, true);
        assert_int_equal(ctl(out, sizeof out, "stop", arg), 3);
        assert_int_equal(ctl(out, sizeof out, "stop", "no-such-user-ctstop"), 1);
}

/* A record of a live session of the user (its opener: this process) with
 * id sid; its key (to remove it) in key. */
static void put_live_session(const char *sid, char *key, size_t size)
{
        _cleanup_free_ Record *rec = calloc(1, sizeof *rec);

        assert_non_null(rec);
        rec->version = 1;
        strcpy(rec->id, sid);
        rec->ready = true;
        rec->opener_pid = getpid();
        assert_int_equal(proc_stat("/proc", getpid(), NULL, &rec->opener_start), 0);
        rec->uid = rec->gid = uid;
        strcpy(rec->user, "ctstop-user");
        strcpy(rec->home, "/home/ctstop-user");
        strcpy(rec->shell, "/bin/bash");
        rec->mode = RECORD_MODE_REDIRECT;
        strcpy(rec->redirect, "/bin/bash");
        rec->sandbox = true;
        rec->container = CONF_CONTAINER_USER;
        strcpy(rec->service, "sshd");
        strcpy(rec->hostname, "lab");
        rec->created = 1700000000;
        strcpy(rec->state_dir, "/var/lib/cubby");
        strcpy(rec->run_dir, run_dir);
        rec->cgroup.n = 1;
        rec->cgroup.dir[0] = (CgDir){ .v2 = true, .ctrl = CG_CTRL_NONE_V2 };
        snprintf(rec->cgroup.dir[0].path, sizeof rec->cgroup.dir[0].path,
                 "/sys/fs/cgroup/cubby-ctstop-absent/u%u/ct/s%s", (unsigned)uid, sid);
        assert_int_equal(session_record_write(sessions, rec), 0);
        assert_int_equal(record_key(rec->opener_pid, rec->opener_start, key, size), 0);
}

/* A live session keeps it: ct_stop(if_unused) gives up, the sweep keeps
 * it whatever the linger; once the session is gone, linger = 0 stops it. */
static void test_sweep_linger_zero(void **state)
{
        char key[RECORD_KEY_MAX];
        CtLife l;
        StandIn s;
        unsigned stopped = 9;
        (void)state;

        write_conf("");
        standin_start(&s, true, false);
        put_live_session("fedcba9876543210", key, sizeof key);
        l = life();
        assert_int_equal(ct_live_sessions(&l, uid, NULL), 1);
        assert_int_equal(ct_stop(&l, uid, CT_STOP_LINGER, 1, true, NULL), -EBUSY);
        assert_int_equal(ct_sweep(&l, &conf, &stopped), 0);
        assert_int_equal(stopped, 0);
        assert_int_equal(tree_procs(&s.ct), 3);
        assert_int_equal(session_record_remove(sessions, uid, key), 0);
        assert_int_equal(ct_live_sessions(&l, uid, NULL), 0);
        assert_int_equal(ct_sweep(&l, &conf, &stopped), 0);
        assert_int_equal(stopped, 1);
        assert_gone(&s, true);
}

/* An admin stop while a login of the user is live (one that raced the
 * stop, say, with its ct/s<id> made and its record written): everything
 * of the container goes but that session's dir and ct/init, where the
 * login starts a new container; gc removes them once it is gone. */
static void test_stop_racing_login(void **state)
{
        char key[RECORD_KEY_MAX], path[PATH_MAX + 32];
        CtLife l;
        StandIn s;
        struct stat st;
        (void)state;

        write_conf("");
        standin_start(&s, true, false);
        put_live_session(SID, key, sizeof key);
        l = life();
        assert_int_equal(ct_stop(&l, uid, CT_STOP_ADMIN, 0, false, NULL), 0);
        assert_true(reaper_done(&s, 3000));
        for (size_t i = 0; i < s.ct.n; i++) {
                if (cg_dir_at_user(&s.ct.dir[i]))
                        continue;
                snprintf(path, sizeof path, "%s/s%s", s.ct.dir[i].path, SID);
                assert_int_equal(stat(path, &st), 0);
                snprintf(path, sizeof path, "%s/init", s.ct.dir[i].path);
                assert_int_equal(stat(path, &st), 0);
        }
        assert_int_equal(ct_exists(run_dir, uid), 0);
        /* the next init, cloned into the kept ct/init (v2: CLONE_INTO_CGROUP),
         * lives: the stop did not leave that cgroup killing what enters */
        for (size_t i = 0; i < s.ct.n; i++) {
                struct clone_args ca = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD };
                int cfd, status;
                pid_t child;

                if (!s.ct.dir[i].v2)
                        continue;
                snprintf(path, sizeof path, "%s/init", s.ct.dir[i].path);
                cfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(cfd >= 0);
                ca.cgroup = (uint64_t)cfd;
                child = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
                if (child == 0) {
                        usleep(100 * 1000);
                        _exit(7);
                }
                assert_true(child > 0);
                close(cfd);
                assert_int_equal(waitpid(child, &status, 0), child);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
                        fail_msg("a process cloned into the kept %s died (status 0x%x)", path, status);
        }
        assert_int_equal(session_record_remove(sessions, uid, key), 0);
        assert_int_equal(ct_gc_orphans(&l), 1);
        assert_gone(&s, true);
}

/* linger = always: the sweep never stops it. linger = 2s: kept at first,
 * stopped once 2 s passed without use. */
static void test_sweep_linger(void **state)
{
        CtLife l = life();
        StandIn s;
        unsigned stopped = 9;
        (void)state;

        write_conf("[user ctstop-user]\nlinger = always\n");
        standin_start(&s, true, false);
        assert_int_equal(ct_sweep(&l, &conf, &stopped), 0);
        assert_int_equal(stopped, 0);
        /* the policy as it is when the sweep decides, not at creation */
        write_conf("[user ctstop-user]\nlinger = 2s\n");
        l = life();
        assert_int_equal(ct_sweep(&l, &conf, &stopped), 0);
        assert_int_equal(stopped, 0);
        usleep(1200 * 1000);
        assert_int_equal(ct_sweep(&l, &conf, &stopped), 0);
        assert_int_equal(stopped, 0);
        usleep(1200 * 1000);
        assert_int_equal(ct_sweep(&l, &conf, &stopped), 0);
        assert_int_equal(stopped, 1);
        assert_gone(&s, true);
}

/* A container using a CPU is busy: past its linger it is kept; once
 * ct_mark_active and the linger say so, an admin stop ends it. */
static void test_sweep_busy(void **state)
{
        CtLife l;
        StandIn s;
        unsigned stopped = 9;
        uint64_t a = 0, b = 0;
        (void)state;

        write_conf("[user ctstop-user]\nlinger = 2s\nidle_cpu = 5\n");
        l = life();
        standin_start(&s, true, true);
        assert_int_equal(ct_cpu_usage(&s.ct, &a), 0);
        for (int i = 0; i < 4; i++) {
                assert_int_equal(ct_sweep(&l, &conf, &stopped), 0);
                assert_int_equal(stopped, 0);
                usleep(1100 * 1000);
        }
        assert_int_equal(ct_cpu_usage(&s.ct, &b), 0);
        print_message("CPU of the burning stand-in: %.2f s in 4.4 s\n", (double)(b - a) / 1e9);
        assert_true(b - a > 250000000ULL);
        assert_int_equal(ct_mark_active(&l, uid), 0);
        assert_int_equal(ct_stop(&l, uid, CT_STOP_ADMIN, 1, false, NULL), 0);
        assert_gone(&s, true);
}

/* The init SIGKILLed: the sweep (and gc) reap the rest: the supervisor
 * is killed, cgroups, lease, record, home reference released. */
static void test_reap_dead_init(void **state)
{
        char out[4096];
        StandIn s;
        (void)state;

        write_conf("[user ctstop-user]\nlinger = always\n");
        standin_start(&s, true, false);
        assert_int_equal(kill(s.init, SIGKILL), 0);
        for (int i = 0; i < 500 && tree_procs(&s.ct) > 1; i++)
                usleep(2000);
        assert_int_equal(ctl(out, sizeof out, "gc", NULL), 0);
        print_message("%s", out);
        assert_non_null(strstr(out, "reaped the container of ctstop-user (gc)"));
        assert_gone(&s, true);
}

/* A tree with no record (the run dir wiped): gc kills and removes it. */
static void test_orphan(void **state)
{
        CtLife l = life();
        StandIn s;
        char old[PATH_MAX + 16];
        (void)state;

        write_conf("");
        standin_start(&s, false, false);
        /* where the container joins the user's memory dir, a tree there
         * from before that rule (u/ct/init) goes with it */
        for (size_t i = 0; i < s.ct.n; i++)
                if (cg_dir_at_user(&s.ct.dir[i])) {
                        snprintf(old, sizeof old, "%s/ct", s.ct.dir[i].path);
                        assert_int_equal(mkdir(old, 0755), 0);
                        strcat(old, "/init");
                        assert_int_equal(mkdir(old, 0755), 0);
                }
        assert_int_equal(ct_sweep(&l, &conf, NULL), 0);
        assert_int_equal(tree_procs(&s.ct), 3);
        assert_int_equal(ct_gc_orphans(&l), 1);
        assert_gone(&s, false);
        assert_int_equal(ct_gc_orphans(&l), 0);
}

/* What a sweep costs: N containers kept, then N stopped at once (stop_grace
 * 0: each stop is its kills and releases). */
#define MANY 20
static void test_sweep_many(void **state)
{
        _cleanup_free_ StandIn *s = calloc(MANY, sizeof *s);
        CtLife l;
        uid_t base = uid;
        unsigned stopped = 0;
        int64_t t0, keep_ms, stop_ms;
        (void)state;

        assert_non_null(s);
        write_conf("[default]\nlinger = always\n");
        l = life();
        for (int i = 0; i < MANY; i++) {
                uid = base + 100000 + (uid_t)i;
                standin_start(&s[i], true, false);
        }
        t0 = now_ms();
        assert_int_equal(ct_sweep(&l, &conf, &stopped), 0);
        keep_ms = now_ms() - t0;
        assert_int_equal(stopped, 0);
        write_conf("[default]\nlinger = 0\nstop_grace = 0\n");
        l = life();
        t0 = now_ms();
        assert_int_equal(ct_sweep(&l, &conf, &stopped), 0);
        stop_ms = now_ms() - t0;
        assert_int_equal(stopped, MANY);
        print_message("a sweep over %d containers: %lld ms keeping them, %lld ms stopping them all\n",
                      MANY, (long long)keep_ms, (long long)stop_ms);
        for (int i = 0; i < MANY; i++) {
                uid = base + 100000 + (uid_t)i;
                assert_gone(&s[i], true);
        }
        uid = base;
}

/* The anchor holder (cubbyctl __anchor, started as pam_cubby starts it,
 * with the policy's path) runs the sweep every 5 s: a container with
 * linger = 0 and no session stops within a tick; with its record gone
 * (the run dir wiped) the holder exits by itself. */
static void test_holder_sweep(void **state)
{
        _cleanup_close_ int nsfd = -1, run = -1;
        StandIn s;
        AnchorId id;
        int64_t t0;
        int i;
        (void)state;

        write_conf("");
        assert_int_equal(anchor_ensure(run_dir, NULL, TEST_CUBBYCTL, conf_path, &nsfd), 0);
        assert_int_equal(session_dir_open(run_dir, false, &run), 0);
        assert_int_equal(anchor_read(run, &id), 0);
        standin_start(&s, true, false);
        t0 = now_ms();
        /* the stop is over when the record is gone and the home reference
         * dropped (its last steps) */
        for (i = 0; i < 800; i++) {
                unsigned refs = 9;

                if (ct_exists(run_dir, uid) == 0 && session_home_refs_get(locks, uid, &refs) == 0 &&
                    refs == 0)
                        break;
                usleep(10 * 1000);
        }
        print_message("stopped by the holder's sweep after %lld ms\n", (long long)(now_ms() - t0));
        assert_gone(&s, true);
        assert_int_equal(proc_alive("/proc", id.pid, id.start), 1);
        assert_int_equal(unlinkat(run, ANCHOR_FILE, 0), 0);
        for (i = 0; i < 80 && proc_alive("/proc", id.pid, id.start) == 1; i++)
                usleep(100 * 1000);
        assert_int_equal(proc_alive("/proc", id.pid, id.start), 0);
        (void)waitpid(id.pid, NULL, WNOHANG);
}

/* After each test, whatever happened: nothing of a stand-in is left for
 * the next one (a failed test leaves its processes and dirs). */
static void cleanup_tree(const char *path, int depth);
static int teardown(void **state)
{
        CgSet u, se;
        _cleanup_close_ int ctdir = -1;
        char name[32];
        (void)state;

        if (cg_paths(spec, 0, uid, SID, &u, &se) == 0)
                for (size_t i = 0; i < u.n; i++) {
                        char parent[PATH_MAX];
                        char *slash;

                        snprintf(parent, sizeof parent, "%s", u.dir[i].path);
                        slash = strrchr(parent, '/');
                        if (!slash)
                                continue;
                        *slash = 0;
                        cleanup_tree(parent, 0);
                }
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        if (ct_dir_open(run_dir, false, &ctdir) == 0) {
                (void)ct_remove(ctdir, uid);
                snprintf(name, sizeof name, "u%u.idle", (unsigned)uid);
                (void)unlinkat(ctdir, name, 0);
        }
        (void)session_home_refs_set(locks, uid, 0);
        /* a holder a failed test_holder_sweep left (its policy is about to
         * go with the scratch dir, and without one it decides nothing,
         * exit included) */
        (void)anchor_stop(run_dir, NULL);
        return 0;
}

/* ---- the frame ------------------------------------------------------------ */

static void cleanup_tree(const char *path, int depth)
{
        DIR *d;
        struct dirent *de;

        if (depth > 8)
                return;
        d = opendir(path);
        if (!d)
                return;
        while ((de = readdir(d))) {
                char sub[PATH_MAX];

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) < (int)sizeof sub)
                        cleanup_tree(sub, depth + 1);
        }
        closedir(d);
        for (int k = 0; k < 300; k++) {
                char procs[PATH_MAX + 16], line[32];
                FILE *f;
                bool any = false;

                snprintf(procs, sizeof procs, "%s/cgroup.procs", path);
                f = fopen(procs, "r");
                while (f && fgets(line, sizeof line, f)) {
                        pid_t pid = atoi(line);

                        any = true;
                        if (pid > 1 && pid != getpid())
                                kill(pid, SIGKILL);
                }
                if (f)
                        fclose(f);
                if (!any && (rmdir(path) == 0 || errno == ENOENT))
                        return;
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                usleep(10000);
        }
        (void)rmdir(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_stop, teardown),         cmocka_unit_test_teardown(test_stop_no_grace, teardown),
                cmocka_unit_test_teardown(test_ctl_stop, teardown),     cmocka_unit_test_teardown(test_sweep_linger_zero, teardown),
                cmocka_unit_test_teardown(test_sweep_linger, teardown), cmocka_unit_test_teardown(test_sweep_busy, teardown),
                cmocka_unit_test_teardown(test_reap_dead_init, teardown), cmocka_unit_test_teardown(test_orphan, teardown),
                cmocka_unit_test_teardown(test_holder_sweep, teardown), cmocka_unit_test_teardown(test_sweep_many, teardown),
                cmocka_unit_test_teardown(test_stop_racing_login, teardown),
        };
        CgSet u, s;
        int status, left = 0, r, dfd, stopped;
        char path[PATH_MAX];
        pid_t pid;

        if (geteuid() != 0) {
                printf("SKIP: the stop of a container needs root (euid %u)\n", (unsigned)geteuid());
                return 77;
        }
        snprintf(spec, sizeof spec, "./cubby-ctstop-%d", (int)getpid());
        /* a uid nobody has: the policy then comes from [default] and [user] */
        uid = 3900000u + (uid_t)(getpid() % 90000);
        if (getpwuid(uid)) {
                printf("SKIP: uid %u exists\n", (unsigned)uid);
                return 77;
        }
        r = cg_paths(spec, 0, uid, SID, &u, &s);
        if (r < 0) {
                printf("SKIP: no usable cgroup hierarchy: %s\n", strerror(-r));
                return 77;
        }
        dfd = scratch_make(dir);
        if (dfd < 0)
                return 1;
        close(dfd);
        snprintf(run_dir, sizeof run_dir, "%s/run", dir);
        snprintf(conf_path, sizeof conf_path, "%s/cubby.conf", dir);
        snprintf(path, sizeof path, "%s/run/locks", dir);
        if (mkdir(run_dir, 0700) < 0 || session_dir_open(path, true, &locks) < 0)
                return 1;
        snprintf(path, sizeof path, "%s/run/sessions", dir);
        if (session_dir_open(path, true, &sessions) < 0)
                return 1;
        conf_init(&conf);

        (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return 1;
        if (pid == 0) {
                (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
                _exit(cmocka_run_group_tests_name("container stop", tests, NULL, NULL) ? 1 : 0);
        }
        stopped = scratch_wait_test(pid, &status);
        /* whatever happened, a stop signal included */
        for (size_t i = 0; i < u.n; i++) {
                char parent[PATH_MAX];
                char *slash;
                struct stat st;

                snprintf(parent, sizeof parent, "%s", u.dir[i].path);
                slash = strrchr(parent, '/');
                if (!slash)
                        continue;
                *slash = 0;
                cleanup_tree(parent, 0);
                if (lstat(parent, &st) == 0) {
                        fprintf(stderr, "test_container_stop: %s left behind\n", parent);
                        left++;
                }
        }
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        conf_free(&conf);
        (void)scratch_remove(dir);
        if (left)
                return 1;
        if (stopped) {
                fprintf(stderr, "test_container_stop: stopped by signal %d, cleaned up\n", stopped);
                return 1;
        }
        if (!WIFEXITED(status)) {
                fprintf(stderr, "test_container_stop: test process died (status 0x%x)\n", status);
                return 1;
        }
        return WEXITSTATUS(status);
}
