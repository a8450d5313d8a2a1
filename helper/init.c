/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubby-init: PID 1 of a user's container (container = user).
 *
 * The helper's child execs it where a login container's child execs the
 * shell: it already runs as the user, with every capability set cleared,
 * NO_NEW_PRIVS and the seccomp filter, stdio on /dev/null, no terminal and
 * an empty environment. It reads nothing and trusts nothing; its only work
 * is what the kernel asks of a PID 1: reap the orphans of the container.
 * It blocks every signal and waits for them: SIGCHLD reaps every child
 * that has exited, anything else is ignored. It never exits on its own;
 * the container ends when its stop (or the host's root) kills it, and the
 * kernel then kills the rest of its pid namespace. Not setuid; linked
 * statically where the toolchain allows (helper/meson.build). */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

int main(void)
{
        sigset_t all;

        /* nobody of the user attaches to PID 1 */
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        (void)prctl(PR_SET_NAME, "cubby-init", 0, 0, 0);
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);

                if (sig != SIGCHLD)
                        continue; /* EINTR, or a signal a PID 1 ignores */
                /* one SIGCHLD may stand for several children */
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
        }
}
