/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* canarywatch: report every open, read, write or creation on a set of
 * canary files and directories (inotify), for the hostile-environment test
 * (A-environment-canary.sh). Test code, never installed; run as root.
 *
 *   canarywatch SECONDS PATH...
 *
 * Prints "ready" once every watch is in place, then one line per event,
 * "canary=PATH[/NAME] EVENTS", until SIGTERM, SIGINT or SECONDS pass; then
 * "done". The canaries are root-only, so an unprivileged process cannot
 * open them: any event is a privileged open (or the test's own control).
 * A lookup of a missing name inside a watched directory makes no event;
 * the test puts the names that the audited readers open into each
 * directory. Exit 0, or 2 on usage or setup errors. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_WATCHES 128
#define EVENTS (IN_OPEN | IN_ACCESS | IN_MODIFY | IN_CREATE | IN_MOVED_TO)

static const char *paths[MAX_WATCHES];
static int wds[MAX_WATCHES];
static int n_watches;

static const char *path_of(int wd)
{
        for (int i = 0; i < n_watches; i++)
                if (wds[i] == wd)
                        return paths[i];
        return "?";
}

/* Print the queued events; returns -1 on a read error. */
static int drain(int fd)
{
        union {
                struct inotify_event align;
                char buf[16384];
        } u;

        for (;;) {
                ssize_t n = read(fd, u.buf, sizeof u.buf);

                if (n < 0)
                        return errno == EAGAIN ? 0 : -1;
                for (char *p = u.buf; p < u.buf + n;) {
                        const struct inotify_event *e = (const struct inotify_event *)p;

                        if (e->mask & IN_Q_OVERFLOW)
                                printf("canary=? overflow\n");
                        else
                                printf("canary=%s%s%s%s%s%s%s%s\n", path_of(e->wd), e->len ? "/" : "",
                                       e->len ? e->name : "", e->mask & IN_OPEN ? " open" : "",
                                       e->mask & IN_ACCESS ? " access" : "", e->mask & IN_MODIFY ? " modify" : "",
                                       e->mask & IN_CREATE ? " create" : "", e->mask & IN_MOVED_TO ? " moved-to" : "");
                        p += sizeof *e + e->len;
                }
                fflush(stdout);
        }
}

int main(int argc, char **argv)
{
        struct pollfd pfd[2];
        struct timespec end, now;
        sigset_t mask;
        int fd, sfd;

        if (argc < 3 || argc - 2 > MAX_WATCHES) {
                fprintf(stderr, "usage: canarywatch SECONDS PATH... (at most %d paths)\n", MAX_WATCHES);
                return 2;
        }
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0 ||
            (fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0) {
                perror("canarywatch: setup");
                return 2;
        }
        for (int i = 2; i < argc; i++) {
                paths[n_watches] = argv[i];
                wds[n_watches] = inotify_add_watch(fd, argv[i], EVENTS);
                if (wds[n_watches] < 0) {
                        fprintf(stderr, "canarywatch: %s: %s\n", argv[i], strerror(errno));
                        return 2;
                }
                n_watches++;
        }
        printf("ready\n");
        fflush(stdout);
        clock_gettime(CLOCK_MONOTONIC, &end);
        end.tv_sec += atoi(argv[1]);
        pfd[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
        for (;;) {
                long ms;

                clock_gettime(CLOCK_MONOTONIC, &now);
                ms = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
                if (ms <= 0 || poll(pfd, 2, (int)ms) < 0 || pfd[1].revents)
                        break;
                if (pfd[0].revents && drain(fd) < 0)
                        break;
        }
        (void)drain(fd);
        printf("done\n");
        return 0;
}
