/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cubby-shell: the setuid-root helper that turns a login into a container.
 *
 * Theory of operation
 * -------------------
 * sshd, su and login exec the user's shell after pam_cubby opened the
 * session. In redirect mode pam_cubby bound this program over pw_shell in
 * the opener's mount namespace; in login-shell mode pw_shell *is* this
 * program. Either way it starts with euid 0 and the user's real uid, and
 * trusts nothing it was given: argv, environment, fds, rlimits, signal
 * state, cwd and umask all belong to the user.
 *
 * Processes and privileges:
 *  - the parent (this process): takes privileges once (setresuid(0,0,0),
 *    so the user can neither signal nor ptrace it during setup), finds the
 *    session record that pam_cubby wrote for an ancestor (the only source
 *    of decisions), builds the container's root in a private staging mount
 *    namespace, clone3()s the child, writes its id maps, and then drops to
 *    the user for good to become a small supervisor (in the session's
 *    cgroups, so it counts against the user's limits): it forwards signals,
 *    reports the shell's exit status, and kills the container when the
 *    opener goes away.
 *  - the child: PID 1 of fresh user, mount, pid, uts, net, ipc and cgroup
 *    namespaces, in the session cgroup from its first instruction. It
 *    enters the new root, becomes the user (uid_map "U U 1": no root
 *    inside), mounts proc, sys and devpts of its own namespaces,
 *    pivot_root()s, takes the terminal, clears every capability set, sets
 *    NO_NEW_PRIVS and a seccomp filter, and execs the real shell with the
 *    argv shape its caller used.
 *
 * main() runs the parent's steps in order, each a function of the file
 * that owns its concern:
 *   1. a clean process: start_clean(), check_invocation(), load_session()
 *   2. privileges up, once: take_privileges()
 *   3. the user's groups and the tty: set_user_groups(), release_tty()
 *   4. the container's root: mnt_build_root() (mount.c, mount-dev.c,
 *      mount-etc.c); the opener's pidfd: open_opener()
 *   5. clone3 into the session cgroup: cg_attach_open() (lib),
 *      ns_clone_container() (ns.c), then mnt_leave_staging()
 *   6. the id maps: ns_write_id_maps() (ns.c)
 *   7. the network: netup_container() (netup.c, net.c)
 *   8. release the child, wait for its exec: ns_release_child() (ns.c)
 *   9. privileges down for good: drop_privileges(), then supervise()
 * The child's own steps (child steps 1 to 7) are in ns.c. A failed step
 * is reported once, by fail(): a line to the user and a syslog line
 * (authpriv) with the same incident id.
 *
 * container = user (the record says container=user): after step 1 the
 * login joins the user's container instead (join_main(), join.c), which
 * pam_cubby made sure runs; a join never creates one. Two modes are for
 * root only, checked before anything is read (root_mode()):
 * --start-container UID KEY (start.c: the container and its cubby-init, for
 * pam_cubby) and --enter UID (join.c, for `cubbyctl shell`).
 *
 * Without a valid record nothing starts: the helper is useless when run
 * directly. A user the policy does not sandbox (login-shell mode only)
 * gets a pass-through record: privileges are dropped at once and the
 * real shell runs on the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cubby-build.h"
#include "cubby/cgroup-attach.h"
#include "cubby/conf.h"
#include "cubby/fault.h"
#include "cubby/home-direct.h"
#include "cubby/log.h"
#include "cubby/proc.h"
#include "cubby/record.h"
#include "cubby/sanitizer.h"
#include "cubby/shellargs.h"
#include "cubby/util.h"
#include "helper.h"

/* sshd: helper -> user child -> monitor (depth 1); su, login: depth 0. */
#define MAX_ANCESTRY 3
#define GRACE_MS 5000

extern char **environ;

/* The helper's state: static, so fail() can name the session. */
static Helper helper;

/* A failed step: one line to the user and one syslog line (authpriv) with
 * the same incident id, as pam_cubby does for a refused session. Only
 * fixed texts and the errno text reach stderr; the log line's values are
 * escaped by log_event (the user name and session id come from the
 * root-owned record, but are escaped all the same). */
static _Noreturn void fail(const char *what, int err)
{
        char id[CUBBY_ID_LEN + 1] = "0000000000000000", uid[16];
        const char *e = err ? strerror(err < 0 ? -err : err) : "";

        (void)random_id(id);
        snprintf(uid, sizeof uid, "%u", (unsigned)getuid());
        log_event(LOG_ERR, "helper_failed", "incident", id, "uid", uid, "user",
                  helper.rec.user[0] ? helper.rec.user : "-", "session",
                  helper.rec.id[0] ? helper.rec.id : "-", "reason", what, "error", err ? e : "-",
                  NULL);
        if (err)
                fprintf(stderr, "cubby-shell: %s: %s (incident %s)\n", what, e, id);
        else
                fprintf(stderr, "cubby-shell: %s (incident %s)\n", what, id);
        _exit(1);
}

_Noreturn void helper_fail(const char *what, int err)
{
        fail(what, err);
}

/* fds 0-2 must be open, or the files we open next would become the
 * shell's stdio; everything else inherited is closed. */
static void sanitize_fds(void)
{
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0) {
                        int n = open("/dev/null", O_RDWR);

                        if (n != fd)
                                _exit(1);
                }
        if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
                for (int fd = 3; fd < 1024; fd++)
                        close(fd);
}

static char **copy_env(char **env)
{
        size_t n = 0;
        char **c;

        while (env && env[n])
                n++;
        c = calloc(n + 1, sizeof *c);
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(env[i]);
                if (!c[i]) {
                        while (i > 0)
                                free(c[--i]);
                        free(c);
                        return NULL;
                }
        }
        return c;
}

static int find_record(Record *ret)
{
        _cleanup_close_ int dfd = -1, udfd = -1;
        struct stat st;
        int r;

        dfd = open(CUBBY_SESSIONS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -ENOENT;
        if (fstat(dfd, &st) < 0)
                return -errno;
        /* only root can have made what we are about to believe */
        if (st.st_uid != 0 || (st.st_mode & 022))
                return -EPERM;
        /* only the caller's own records: <sessions>/u<uid> */
        r = record_user_dir(dfd, getuid(), false, &udfd);
        if (r < 0)
                return r;
        return record_find_ancestor("/proc", udfd, getppid(), MAX_ANCESTRY, 0, getuid(), getgid(),
                                    ret, NULL);
}

/* Not sandboxed by the policy (login-shell mode): drop privileges for good
 * and run the real shell on the host with the caller's environment (the
 * dynamic loader, ld.so, dropped LD_* and friends for the setuid exec). */
static _Noreturn void pass_through(Helper *h, char **caller_env, int cwd_fd)
{
        uid_t uid = getuid();
        gid_t gid = getgid();

        if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                fail("cannot drop privileges", errno);
        if (geteuid() != uid || getegid() != gid)
                fail("privileges were not dropped", 0);
        if (cwd_fd >= 0)
                (void)!fchdir(cwd_fd);
        sbx_restore_process_state(h);
        execve(h->rec.shell, h->argv, caller_env);
        fail("cannot execute the shell", errno);
}

/* The tty: when we lead its session (sshd with a pty, login), let go of it
 * so the container's shell can make it its own controlling terminal in a
 * session of its own. Letting go sends SIGHUP and SIGCONT to our own
 * process group; our signals are blocked, so they stay pending (Linux
 * never discards a blocked signal, ignored or not) and the supervisor
 * would forward the SIGHUP to the shell. Setting SIG_IGN after the ioctl
 * discards them. */
void helper_release_tty(Helper *h)
{
        h->has_tty = isatty(0);
        if (!h->has_tty || getsid(0) != getpid())
                return;
        if (ioctl(0, TIOCNOTTY) == 0)
                h->gave_up_tty = true;
        (void)signal(SIGHUP, SIG_IGN);
        (void)signal(SIGCONT, SIG_IGN);
        (void)signal(SIGHUP, SIG_DFL);
        (void)signal(SIGCONT, SIG_DFL);
}

int helper_open_opener(const Record *rec)
{
        uint64_t start;
        int fd = (int)syscall(SYS_pidfd_open, rec->opener_pid, 0);

        if (fd < 0)
                return -errno;
        /* pidfd first, then the check: the pid cannot be reused under it */
        if (proc_stat("/proc", rec->opener_pid, NULL, &start) < 0 || start != rec->opener_start) {
                close(fd);
                return -ESRCH;
        }
        return fd;
}

static _Noreturn void exit_like(const siginfo_t *si)
{
        CUBBY_FAULT("helper.reaped");
        if (si->si_code == CLD_EXITED)
                _exit(si->si_status);
        /* died of a signal: so do we, for the caller to see (no core: we
         * are not dumpable and RLIMIT_CORE is 0) */
        (void)signal(si->si_status, SIG_DFL);
        {
                sigset_t s;

                sigemptyset(&s);
                sigaddset(&s, si->si_status);
                sigprocmask(SIG_UNBLOCK, &s, NULL);
        }
        (void)raise(si->si_status);
        _exit(128 + si->si_status);
}

static long long us_since(const struct timespec *t0)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (long long)(now.tv_sec - t0->tv_sec) * 1000000 + (now.tv_nsec - t0->tv_nsec) / 1000;
}

static long long ms_since(const struct timespec *t0)
{
        return us_since(t0) / 1000;
}

/* The caller's terminal as it was, then the shell's status. */
static _Noreturn void finish(PtyRelay *relay, const siginfo_t *si)
{
        pty_relay_end(relay);
        exit_like(si);
}

/* The supervisor, as the user: forward what the caller sends us, relay
 * the container's pty if it has one, report the shell's status, and end
 * the container if the opener dies. PID 1 ignores signals it has no
 * handler for, so a forwarded SIGHUP/SIGTERM is followed by SIGKILL after
 * a grace period. joined: the shell is one process of the user's
 * container, not its PID 1: the opener's death hangs it up (SIGHUP, then
 * SIGKILL to the shell alone after the grace period), so what it started
 * in the background lives on with the container. */
static _Noreturn void supervise(Helper *h, int child_pidfd, int opener_fd, int master,
                                sigset_t *fwd, bool joined)
{
        _cleanup_close_ int sfd = -1;
        struct timespec deadline_start;
        bool deadline = false;
        PtyRelay relay;
        siginfo_t si;

        CUBBY_FAULT("helper.supervise");
        pty_relay_start(&relay, &h->pty, master);
        sfd = signalfd(-1, fwd, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                syscall(SYS_pidfd_send_signal, child_pidfd, SIGKILL, NULL, 0);
        }
        for (;;) {
                struct pollfd pfd[3 + PTY_POLLFDS] = {
                        { .fd = child_pidfd, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = opener_fd, .events = POLLIN },
                };
                int timeout = -1, n;

                if (deadline) {
                        long long left = GRACE_MS - ms_since(&deadline_start);

                        timeout = left < 0 ? 0 : (int)left;
                }
                pty_relay_poll(&relay, pfd + 3);
                n = poll(pfd, ELEMENTSOF(pfd), timeout);
                if (n < 0 && errno != EINTR)
                        break;
                if (n == 0 && deadline) {
                        syscall(SYS_pidfd_send_signal, child_pidfd, SIGKILL, NULL, 0);
                        deadline = false;
                        continue;
                }
                if (pfd[0].revents & POLLIN) {
                        memset(&si, 0, sizeof si);
                        if (waitid(P_PIDFD, (id_t)child_pidfd, &si, WEXITED) == 0)
                                finish(&relay, &si);
                        break;
                }
                /* Signals before the terminal's bytes: a resize (SIGWINCH)
                 * made before a line was typed reaches the pty before that
                 * line does, also when one wakeup sees both. */
                if (pfd[1].revents & POLLIN) {
                        struct signalfd_siginfo ssi;

                        while (read(sfd, &ssi, sizeof ssi) == (ssize_t)sizeof ssi) {
                                int sig = (int)ssi.ssi_signo;

                                if (!pty_relay_signal(&relay, sig))
                                        syscall(SYS_pidfd_send_signal, child_pidfd, sig, NULL, 0);
                                if ((sig == SIGHUP || sig == SIGTERM) && !deadline) {
                                        deadline = true;
                                        clock_gettime(CLOCK_MONOTONIC, &deadline_start);
                                }
                        }
                }
                if (n > 0)
                        pty_relay_io(&relay, pfd + 3);
                if (pfd[2].revents & POLLIN) {
                        /* the session's opener is gone: so is the session */
                        if (joined) {
                                syscall(SYS_pidfd_send_signal, child_pidfd, SIGHUP, NULL, 0);
                                if (!deadline) {
                                        deadline = true;
                                        clock_gettime(CLOCK_MONOTONIC, &deadline_start);
                                }
                        } else {
                                syscall(SYS_pidfd_send_signal, child_pidfd, SIGKILL, NULL, 0);
                        }
                        opener_fd = -1;
                }
        }
        syscall(SYS_pidfd_send_signal, child_pidfd, SIGKILL, NULL, 0);
        memset(&si, 0, sizeof si);
        if (waitid(P_PIDFD, (id_t)child_pidfd, &si, WEXITED) == 0)
                finish(&relay, &si);
        pty_relay_end(&relay);
        _exit(1);
}

/* Step 1: a process the user cannot inspect, with nothing inherited that
 * we did not ask for. Signals stay blocked through setup; their
 * dispositions are reset for the shell. Returns a copy of the caller's
 * environment (untrusted data) and leaves ours empty. */
static char **start_clean(Helper *h, int *ret_cwd_fd)
{
        sigset_t all;
        char **caller_env;

        (void)prctl(PR_SET_DUMPABLE, 0);
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        sanitize_fds();
        /* A fixed ident (the default would be argv[0], the user's), no
         * console fallback; connected now, in the caller's mount namespace,
         * before any fd is opened that the shell could inherit (the socket
         * is close-on-exec). */
        openlog("cubby-shell", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
        sbx_save_process_state(h);
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void)signal(s, SIG_DFL);
        /* the caller's environment is data from here on, before anything
         * (syslog's time zone lookup included) could read it */
        caller_env = copy_env(environ);
        clearenv();
        if (!caller_env)
                fail("out of memory", ENOMEM);
        *ret_cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        /* the caller's cwd must not leak into the container (runc
         * CVE-2024-21626) */
        if (chdir("/") < 0)
                fail("cannot change to /", errno);
        return caller_env;
}

/* Step 1: only as the setuid shell of a user, never for root. */
static void check_invocation(void)
{
        if (geteuid() != 0)
                fail("not installed setuid root; refusing", 0);
        if (getuid() == 0)
                fail("refusing to run for root (root is never sandboxed)", 0);
        if (fault_guard_setuid() < 0)
                fail("this is a fault-injection test build: it runs setuid only in a test VM "
                     "booted with cubby.fault_injection=1; refusing", 0);
        if (sbx_setup_limits() < 0)
                fail("cannot set up resource limits", errno);
}

/* The modes for root only (SECURITY.md): --start-container UID KEY, for
 * pam_cubby's open_session, and --enter UID [--run-dir DIR] [-- CMD...],
 * for `cubbyctl shell`. A user calling them is refused here, before
 * anything is read. */
static _Noreturn void root_mode(Helper *h, int argc, char *argv[], char **caller_env)
{
        if (getuid() != 0 || geteuid() != 0)
                fail("this mode of cubby-shell is root's only; refusing", 0);
        if (fault_guard_setuid() < 0)
                fail("this is a fault-injection test build: it runs setuid only in a test VM "
                     "booted with cubby.fault_injection=1; refusing", 0);
        if (sbx_setup_limits() < 0)
                fail("cannot set up resource limits", errno);
        if (strcmp(argv[1], "--start-container") == 0) {
                uid_t uid;

                if (argc != 4 || parse_uid(argv[2], &uid) < 0)
                        fail("usage: cubby-shell --start-container UID KEY", 0);
                shell_env_free(caller_env);
                start_container_main(h, uid, argv[3]);
        }
        enter_main(h, argc, argv, caller_env);
}

/* Step 1: the record pam_cubby wrote for an ancestor (the only source of
 * decisions), and the argv shape for the real shell. */
static void load_session(Helper *h, int argc, char *argv[])
{
        int r = find_record(&h->rec);

        if (r == -ENOENT)
                fail("no cubby session for this login; cubby-shell only runs as the shell of a "
                     "PAM session opened by pam_cubby. Refusing.", 0);
        if (r < 0)
                fail("the cubby session record is not usable; refusing", r);
        CUBBY_FAULT("helper.record");

        r = shell_argv(h->rec.shell, argc, argv, &h->argv);
        if (r < 0)
                fail("unsupported arguments (only SHELL and SHELL -c COMMAND are accepted)", 0);
}

/* Step 2: privileges up, once. Real root during setup, so the user can
 * neither signal nor ptrace us. */
void helper_take_privileges(void)
{
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                fail("cannot take privileges", errno);
        CUBBY_FAULT("helper.privileged");
}

/* The supervisor this process becomes serves the student: its memory and
 * its pid count against the student's budget, not the host's (sessions
 * would otherwise cost the host memory outside every limit). As early as
 * possible, so that what setup allocates is charged too. */
static void join_session_cgroup(Helper *h)
{
        int r = cg_join(&h->rec.cgroup);

        if (r < 0)
                fail("cannot join the session cgroup", r);
}

/* Step 3: exactly the user's groups, from the record (root's
 * getgrouplist), not the caller's: a group that denies access must keep
 * denying it inside (CVE-2014-8989); setgroups is denied in the container,
 * so they cannot be dropped there. */
void helper_set_user_groups(const Helper *h)
{
        if (setgroups(h->rec.n_groups, h->rec.groups) < 0)
                fail("cannot set the user's groups", errno);
}

/* Steps 5 to 8 failed: the child goes, then we report. */
static _Noreturn void fail_container(Helper *h, const char *what, int err)
{
        ns_kill_child(h);
        fail(what, err);
}

void helper_log_start(const Helper *h, const char *event, const struct timespec *t0)
{
        char uid[16], ms[24], pid[16];
        long long us = us_since(t0);

        snprintf(uid, sizeof uid, "%u", (unsigned)h->rec.uid);
        snprintf(ms, sizeof ms, "%lld.%02lld", us / 1000, us % 1000 / 10);
        snprintf(pid, sizeof pid, "%d", (int)h->child);
        log_event(LOG_INFO, event, "session", h->rec.id[0] ? h->rec.id : "-", "uid", uid,
                  "user", h->rec.user,
                  "pid", pid, "setup_ms", ms, h->steps.len ? "steps_us" : NULL, h->steps.text,
                  NULL);
}

/* Step 9: privileges down, once and for good. */
static void drop_privileges(Helper *h)
{
        if (setresgid(h->rec.gid, h->rec.gid, h->rec.gid) < 0 ||
            setresuid(h->rec.uid, h->rec.uid, h->rec.uid) < 0) {
                syscall(SYS_pidfd_send_signal, h->child_pidfd, SIGKILL, NULL, 0);
                fail("cannot drop privileges", errno);
        }
        CUBBY_FAULT("helper.dropped");
}

int main(int argc, char *argv[])
{
        Helper *h = &helper;
        _cleanup_close_ int cwd_fd = -1;
        const char *child_step;
        char **caller_env;
        struct timespec t0;
        int r, opener_fd, master;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        steps_begin(&h->steps, &t0);
        h->child_pidfd = h->sync_w = h->err_r = h->agent_tree = h->home_tree = -1;

        /* Step 1 */
        caller_env = start_clean(h, &cwd_fd);
        h->init_exe_fd = h->init_procs_fd = h->att_init.v2_fd = -1;
        if (argc >= 2 && (strcmp(argv[1], "--start-container") == 0 ||
                          strcmp(argv[1], "--enter") == 0))
                root_mode(h, argc, argv, caller_env);
        check_invocation();
        load_session(h, argc, argv);
        if (!h->rec.sandbox)
                pass_through(h, caller_env, cwd_fd);
        closep(&cwd_fd);
        r = shell_env(&h->rec, caller_env, &h->envp);
        if (r < 0)
                fail("cannot build the environment", r);
        if (r > 0) {
                char n[16];

                snprintf(n, sizeof n, "%d", r);
                log_event(LOG_NOTICE, "env_dropped", "session", h->rec.id, "user", h->rec.user,
                          "count", n, "why", "more LC_* variables than the bound", NULL);
        }
        if (h->rec.container == CONF_CONTAINER_USER)
                agent_pick(h, caller_env);
        shell_env_free(caller_env);
        caller_env = NULL;
        steps_mark(&h->steps, "record");
        /* container = user: the login joins the user's container (join.c) */
        if (h->rec.container == CONF_CONTAINER_USER)
                join_main(h, &t0);

        /* Step 2 */
        helper_take_privileges();
        join_session_cgroup(h);
        steps_mark(&h->steps, "cgjoin");

        /* Step 3 */
        helper_set_user_groups(h);
        helper_release_tty(h);
        r = pty_plan(&h->pty, h->gave_up_tty);
        if (r < 0)
                fail("cannot set up the terminal", r);
        CUBBY_FAULT("helper.groups_tty");
        steps_mark(&h->steps, "tty");

        /* Step 4 */
        r = mnt_build_root(h);
        if (r < 0)
                fail(h->home_err ? home_direct_strerror(h->home_err)
                                  : "cannot build the container's file system", r);
        CUBBY_FAULT("helper.root_built");
        steps_mark(&h->steps, "root");
        /* The opener's pidfd before the clone, so its death cannot be missed. */
        opener_fd = helper_open_opener(&h->rec);
        if (opener_fd < 0)
                fail("the session's opener is gone; refusing", opener_fd);
        CUBBY_FAULT("helper.opener");

        /* Step 5: the session cgroup, opened by root before the clone */
        r = cg_attach_open(&h->rec.cgroup, &h->att);
        if (r < 0)
                fail("cannot open the session cgroup", r);
        CUBBY_FAULT("helper.cgroup_open");
        steps_mark(&h->steps, "cgopen");
        r = ns_clone_container(h);
        if (r < 0)
                fail("cannot create the container", r);
        steps_mark(&h->steps, "clone");
        r = mnt_leave_staging(h);
        if (r < 0)
                fail_container(h, "cannot set up the sandbox", r);

        /* Step 6 */
        r = ns_write_id_maps(h);
        if (r < 0)
                fail_container(h, "cannot set up the sandbox", r);
        steps_mark(&h->steps, "staging_idmap");

        /* Step 7: the network, from outside (the child has no say in it);
         * netup_container() told the user what failed */
        r = netup_container(h, h->child);
        if (r < 0)
                fail_container(h, "cannot set up the sandbox network", r);
        CUBBY_FAULT("helper.network");
        steps_mark(&h->steps, "net");

        /* Step 8 */
        r = ns_release_child(h, &child_step);
        if (r < 0 && child_step) {
                char what[96];

                /* child_step is a fixed name from ns.c's table */
                snprintf(what, sizeof what, "cannot start the sandbox (%s)", child_step);
                fail_container(h, what, r);
        }
        if (r < 0)
                fail_container(h, "cannot set up the sandbox", r);
        r = pty_take_master(&h->pty, &master);
        if (r < 0)
                fail_container(h, "cannot take the container's terminal", r);
        CUBBY_FAULT("helper.started");
        steps_mark(&h->steps, "release");
        helper_log_start(h, "container_start", &t0);

        /* Sanitizer builds: everything is set up; still root (see there). */
        san_leak_check();

        /* Step 9 */
        drop_privileges(h);
        helper_supervise(h, h->child_pidfd, opener_fd, master, false);
}

_Noreturn void helper_supervise(Helper *h, int child_pidfd, int opener_fd, int master,
                                bool joined)
{
        sigset_t fwd;

        sigemptyset(&fwd);
        sigaddset(&fwd, SIGHUP);
        sigaddset(&fwd, SIGINT);
        sigaddset(&fwd, SIGQUIT);
        sigaddset(&fwd, SIGTERM);
        sigaddset(&fwd, SIGUSR1);
        sigaddset(&fwd, SIGUSR2);
        sigaddset(&fwd, SIGALRM);
        sigaddset(&fwd, SIGWINCH);
        sigaddset(&fwd, SIGCONT);
        supervise(h, child_pidfd, opener_fd, master, &fwd, joined);
}
