/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl shell USER [CMD...]: an admin enters a student's running
 * container as that student (container = user), to help them.
 *
 * cubbyctl only decides and logs; the entering is the helper's root-only
 * mode `cubby-shell --enter UID --run-dir DIR [-- CMD...]`, which takes the
 * container lock, checks the record and the init again, joins and drops to
 * the user.
 * Here: the container must be running (its record verified against its
 * init with ct_open_init, as a login's join does), else nothing is run;
 * the entry is logged with the admin's login uid before the exec; the
 * helper is the compiled-in path, exec'd with a fixed environment. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "cubby-build.h"
#include "ctl.h"
#include "cubby/log.h"
#include "cubby/util.h"

/* /proc/self/loginuid: the uid the admin logged in as, kept across su and
 * sudo; "4294967295" where none was set. "?" if unreadable. */
static void login_uid(char *buf, size_t size)
{
        _cleanup_free_ char *t = NULL;
        size_t n;

        snprintf(buf, size, "?");
        if (read_file_at(AT_FDCWD, "/proc/self/loginuid", 32, &t, &n, NULL) < 0)
                return;
        n = strcspn(t, "\n");
        if (n == 0 || n >= size || strspn(t, "0123456789") != n)
                return;
        memcpy(buf, t, n);
        buf[n] = 0;
}

/* TERM is passed on when it is a plain terminal name: it reaches the
 * user's shell, and nothing else of root's environment should. */
static bool term_ok(const char *t)
{
        size_t n = t ? strlen(t) : 0;

        if (n == 0 || n > 64 || t[0] == '-' || t[0] == '.')
                return false;
        return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") == n;
}

/* The user's container: the record of the user's uid (passwd) or name,
 * a running one before a stale one. NULL if there is none. */
static const CtlContainer *find_container(const CtlContainer *cts, size_t n, const char *user)
{
        const struct passwd *pw = getpwnam(user);
        const CtlContainer *found = NULL;

        for (size_t i = 0; i < n; i++) {
                const CtRecord *r = &cts[i].rec;

                if (pw ? r->uid != pw->pw_uid : strcmp(r->user, user) != 0)
                        continue;
                if (!found || (found->alive != 0 && cts[i].alive == 0))
                        found = &cts[i];
        }
        return found;
}

static int shell_usage(void)
{
        fprintf(stderr, "usage: cubbyctl shell USER [[--] CMD [ARG...]]\n");
        return 2;
}

int cmd_shell(Ctl *c, int argc, char **argv)
{
        _cleanup_free_ CtlContainer *cts = NULL;
        _cleanup_free_ CtlRunDirs *dirs = NULL;
        _cleanup_free_ char **args = NULL;
        const CtlContainer *ct;
        const char *user, *term = getenv("TERM");
        char uid[16], pid[16], luid[16], cmd[1024], env_term[80], *envp[2] = { NULL, NULL };
        size_t n = 0, n_cmd, o = 0;
        char **cmdv;
        int r;

        if (argc < 2 || argv[1][0] == '-')
                return shell_usage();
        user = argv[1];
        cmdv = argv + 2;
        n_cmd = (size_t)argc - 2;
        if (n_cmd > 0 && strcmp(cmdv[0], "--") == 0) {
                cmdv++;
                n_cmd--;
        }
        dirs = malloc(sizeof *dirs);
        if (!dirs)
                return 1;
        r = ctl_run_dirs(c, dirs);
        if (r >= 0)
                r = ctl_containers(dirs, &cts, &n);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: shell: %s\n", strerror(-r));
                return 1;
        }
        ct = find_container(cts, n, user);
        if (!ct) {
                fprintf(stderr, "cubbyctl: %s has no running container (container = user "
                                "starts one at the user's login)\n", user);
                return 1;
        }
        if (ct->alive != 0) {
                fprintf(stderr, "cubbyctl: %s has no running container: its record is stale "
                                "(%s); cubbyctl gc removes it\n", user,
                        ct->alive == -ESRCH ? "its init is gone"
                        : ct->alive == -ESTALE ? "its init's namespaces differ"
                                               : strerror(-ct->alive));
                return 1;
        }

        snprintf(uid, sizeof uid, "%u", (unsigned)ct->rec.uid);
        snprintf(pid, sizeof pid, "%d", (int)ct->rec.init_pid);
        login_uid(luid, sizeof luid);
        cmd[0] = 0;
        for (size_t i = 0; i < n_cmd && o < sizeof cmd; i++)
                o += (size_t)snprintf(cmd + o, sizeof cmd - o, "%s%s", i ? " " : "", cmdv[i]);
        /* before the exec: an entry that then fails is still on record */
        log_event(LOG_NOTICE, "container_shell", "loginuid", luid, "uid", uid, "user", ct->rec.user,
                  "init_pid", pid, "command", n_cmd ? cmd : "-", NULL);

        args = calloc(n_cmd + 8, sizeof *args);
        if (!args)
                return 1;
        n = 0;
        args[n++] = (char *)"cubby-shell";
        args[n++] = (char *)"--enter";
        args[n++] = uid;
        /* the run dir whose record was checked here, the policy's */
        args[n++] = (char *)"--run-dir";
        args[n++] = (char *)ct->run_dir;
        if (n_cmd > 0) {
                args[n++] = (char *)"--";
                for (size_t i = 0; i < n_cmd; i++)
                        args[n++] = cmdv[i];
        }
        args[n] = NULL;
        if (term_ok(term)) {
                snprintf(env_term, sizeof env_term, "TERM=%s", term);
                envp[0] = env_term;
        }
        if (fflush(stdout) == EOF) {
                fprintf(stderr, "cubbyctl: shell: stdout: %m\n");
                return 1;
        }
        closelog();
        /* the helper gets stdio only */
        if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0) {
                fprintf(stderr, "cubbyctl: shell: close_range: %m\n");
                return 1;
        }
        execve(CUBBY_HELPER_PATH, args, envp);
        fprintf(stderr, "cubbyctl: shell: cannot run %s: %m\n", CUBBY_HELPER_PATH);
        return 1;
}
