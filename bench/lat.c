/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lat: run one command and append one CSV row about it, with as little of
 * its own cost inside the measured span as possible (no shell, no pipes
 * unless asked):
 *
 *   lat -o FILE -l LABEL [-i ITER] [-c] [-t | -T] -- COMMAND ARGS...
 *
 * Row: label,iter,start_us,wall_us,status,out
 *   start_us  CLOCK_REALTIME at the fork, in microseconds (comparable with
 *             bash's $EPOCHREALTIME printed inside a sandbox: no time
 *             namespace is involved)
 *   wall_us   fork to reaped (and, with -c, its stdout at EOF)
 *   status    the exit status, or 128+signal
 *   out       with -c: the command's first line of stdout (commas and
 *             control characters dropped); with -T: bytes=N; else empty
 * -t: the command leads a new session whose controlling terminal is a new
 *     pty, on its stdin (as `su` typed at a terminal, with its output
 *     captured or not); -T: the pty on stdin, stdout and stderr, its output
 *     read and counted here (a terminal that keeps up).
 * The row is written with one O_APPEND write, so concurrent lat runs can
 * share a file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long clock_us(clockid_t c)
{
        struct timespec ts;

        clock_gettime(c, &ts);
        return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
        const char *file = NULL, *label = "run", *iter = "0";
        char out[4096] = "", row[8192];
        long long start_rt, t0, t1;
        int c, capture = 0, tty = 0, p[2] = { -1, -1 }, status = 0, fd, master = -1, slave = -1;
        long long bytes = 0;
        size_t o = 0;
        pid_t pid;

        while ((c = getopt(argc, argv, "+o:l:i:ctT")) != -1) {
                switch (c) {
                case 'o': file = optarg; break;
                case 'l': label = optarg; break;
                case 'i': iter = optarg; break;
                case 'c': capture = 1; break;
                case 't': tty = 1; break;
                case 'T': tty = 2; break;
                default:
                        fprintf(stderr, "usage: lat -o FILE -l LABEL [-i ITER] [-c] [-t|-T] -- COMMAND...\n");
                        return 2;
                }
        }
        if (!file || optind >= argc || (capture && tty == 2)) {
                fprintf(stderr, "usage: lat -o FILE -l LABEL [-i ITER] [-c] [-t|-T] -- COMMAND...\n");
                return 2;
        }
        if (tty) {
                int unlock = 0;

                /* the slave opened here, so that the master reads EIO only
                 * once every holder of it is gone */
                master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
                    (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
                        perror("lat: pty");
                        return 2;
                }
        }
        if (capture && pipe2(p, O_CLOEXEC) < 0) {
                perror("lat: pipe");
                return 2;
        }
        start_rt = clock_us(CLOCK_REALTIME);
        t0 = clock_us(CLOCK_MONOTONIC);
        pid = fork();
        if (pid < 0) {
                perror("lat: fork");
                return 2;
        }
        if (pid == 0) {
                if (tty && (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 ||
                            (tty == 2 && (dup2(slave, 1) < 0 || dup2(slave, 2) < 0)))) {
                        perror("lat: the pty");
                        _exit(127);
                }
                if (capture)
                        dup2(p[1], 1);
                execvp(argv[optind], argv + optind);
                perror("lat: exec");
                _exit(127);
        }
        if (capture) {
                ssize_t n;

                close(p[1]);
                while ((n = read(p[0], out + o, sizeof out - 1 - o)) > 0) {
                        o += (size_t)n;
                        if (o == sizeof out - 1) {
                                char sink[4096];

                                while (read(p[0], sink, sizeof sink) > 0)
                                        ;
                                break;
                        }
                }
                out[o] = 0;
        }
        if (slave >= 0)
                close(slave);
        if (tty == 2) {
                char buf[65536];
                ssize_t n;

                /* until no one holds the pty's other end (EIO) */
                while ((n = read(master, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
                        bytes += n > 0 ? n : 0;
                snprintf(out, sizeof out, "bytes=%lld", bytes);
        }
        while (waitpid(pid, &status, 0) < 0)
                ;
        if (master >= 0)
                close(master);
        t1 = clock_us(CLOCK_MONOTONIC);
        {
                char *nl = strchr(out, '\n'), *w = out;

                if (nl)
                        *nl = 0;
                for (char *r = out; *r; r++)
                        if (*r != ',' && (unsigned char)*r >= 0x20)
                                *w++ = *r;
                *w = 0;
        }
        snprintf(row, sizeof row, "%s,%s,%lld,%lld,%d,%s\n", label, iter, start_rt, t1 - t0,
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out);
        fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, row, strlen(row)) != (ssize_t)strlen(row)) {
                perror("lat: write");
                return 2;
        }
        close(fd);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
