/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secprobe: the small attacks of the security suite that a shell cannot
 * make by itself. Test code, never installed. Every subcommand prints
 * "NAME=RESULT" lines (RESULT: ok, or the errno name) and exits 0 unless
 * the usage is wrong; the scripts decide what is expected.
 *
 *   secprobe noargv PATH            execve(PATH) with argc == 0
 *   secprobe argv PATH ARG0 ARGS... execve(PATH) with that exact argv
 *   secprobe keepfds FILE N -- CMD  open FILE N times without CLOEXEC, exec CMD
 *   secprobe closestdio -- CMD      exec CMD with fds 0, 1 and 2 closed
 *   secprobe tiocsti TEXT           push TEXT into fd 0's input (TIOCSTI)
 *   secprobe tioclinux              TIOCLINUX on fd 0
 *   secprobe kernel                 the syscalls the sandbox must refuse
 *   secprobe io_uring               set up a ring, enter it, register on it
 *   secprobe mount DIR              mount a tmpfs on DIR
 *   secprobe umount DIR             unmount DIR (to uncover what is below)
 *   secprobe flip A B SECONDS       renameat2(RENAME_EXCHANGE) A<->B in a loop
 *   secprobe forkbomb SECONDS       fork until refused, hold for SECONDS
 *   secprobe hog MB                 touch MB MiB of memory, then say so
 *   secprobe pdeath                 print pid, ppid and PDEATHSIG
 *   secprobe ptrace PID             PTRACE_ATTACH, /proc/PID/mem and environ
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/io_uring.h>
#include <linux/sched.h>

static void say(const char *name, int r)
{
        if (r < 0)
                printf("%s=%s\n", name, strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
        else
                printf("%s=ok\n", name);
        fflush(stdout);
}

static int usage(void)
{
        fprintf(stderr, "usage: see the comment at the top of secprobe.c\n");
        return 2;
}

static double now(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmd_kernel(void)
{
        struct clone_args ca = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
        long r;
        pid_t p;

        /* these would change the host when run by root outside a sandbox */
        if (getuid() == 0 || geteuid() == 0) {
                fprintf(stderr, "secprobe kernel: refusing to run as root\n");
                return 2;
        }

        /* clone3 must be ENOSYS (seccomp cannot read its flags) */
        r = syscall(SYS_clone3, &ca, sizeof ca);
        if (r == 0)
                _exit(0);
        if (r > 0)
                waitpid((pid_t)r, NULL, 0);
        say("clone3_newuser", (int)r);
        ca.flags = 0;
        r = syscall(SYS_clone3, &ca, sizeof ca);
        if (r == 0)
                _exit(0);
        if (r > 0)
                waitpid((pid_t)r, NULL, 0);
        say("clone3_plain", (int)r);
        p = fork();
        if (p == 0) {
                _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : errno);
        }
        {
                int st = 0;

                waitpid(p, &st, 0);
                errno = WEXITSTATUS(st);
                say("unshare_newuser", WEXITSTATUS(st) ? -1 : 0);
        }
        r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
        if (r == 0)
                _exit(0);
        if (r > 0)
                waitpid((pid_t)r, NULL, 0);
        say("clone_newuser", (int)r);
        say("unshare_newns", unshare(CLONE_NEWNS));
        say("unshare_newnet", unshare(CLONE_NEWNET));
        say("setgroups", setgroups(0, NULL));
        say("setuid0", setuid(0));
        say("add_key", (int)syscall(SYS_add_key, "user", "cubby-sec", "x", 1, -1 /* thread keyring: gone with us */));
        say("keyctl", (int)syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0));
        say("request_key", (int)syscall(SYS_request_key, "user", "cubby-sec", NULL, 0));
        say("bpf", (int)syscall(SYS_bpf, 0, NULL, 0));
        say("userfaultfd", (int)syscall(SYS_userfaultfd, 0));
        say("perf_event_open", (int)syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
        say("raw_socket", socket(AF_INET, SOCK_RAW, 255));
        say("packet_socket", socket(AF_PACKET, SOCK_RAW, 0));
        say("chroot", chroot("/"));
        say("sethostname", sethostname("cubby-sec-x", 11));
        say("mknod", mknod("/tmp/cubby-sec-null", 0020666, makedev(1, 3)));
        say("ptrace_traceme", (int)syscall(SYS_ptrace, 0 /* TRACEME */, 0, 0, 0));
        return 0;
}

/* A ring of one entry, entered once, and a register call that the kernel
 * answers ENXIO (no buffers to unregister) when it runs at all. Without a
 * ring, enter and register go to fd -1 (EBADF from the kernel). */
static int cmd_io_uring(void)
{
        struct io_uring_params p = { 0 };
        long fd;

        fd = syscall(SYS_io_uring_setup, 1, &p);
        say("io_uring_setup", fd < 0 ? -1 : 0);
        say("io_uring_enter", (int)syscall(SYS_io_uring_enter, fd < 0 ? -1 : fd, 0, 0, 0, NULL, 0));
        say("io_uring_register",
            (int)syscall(SYS_io_uring_register, fd < 0 ? -1 : fd, IORING_UNREGISTER_BUFFERS, NULL, 0));
        if (fd >= 0)
                close((int)fd);
        return 0;
}

static int cmd_flip(const char *a, const char *b, const char *secs)
{
        double end = now() + atof(secs);
        unsigned long n = 0, ok = 0;

        /* bounded: at most SECONDS and 50 million swaps */
        while (now() < end && n < 50000000UL) {
                if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */) == 0)
                        ok++;
                n++;
        }
        printf("flips=%lu ok=%lu\n", n, ok);
        return 0;
}

static int cmd_forkbomb(const char *secs)
{
        double hold = atof(secs), end = now() + hold;
        unsigned n = 0;
        int err = 0;

        for (unsigned i = 0; i < 100000 && now() < end; i++) {
                pid_t p = fork();

                if (p < 0) {
                        err = errno;
                        if (n > 0)
                                break;
                        continue;
                }
                if (p == 0) {
                        /* children fork too, until refused (a real bomb) */
                        for (int k = 0; k < 64 && now() < end; k++)
                                if (fork() < 0)
                                        break;
                        while (now() < end)
                                usleep(100000);
                        _exit(0);
                }
                n++;
        }
        printf("forked=%u refused=%s\n", n, err ? strerrorname_np(err) : "no");
        fflush(stdout);
        while (now() < end)
                usleep(100000);
        return 0;
}

static int cmd_hog(const char *mb)
{
        size_t n = (size_t)atol(mb) << 20;
        char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED) {
                say("mmap", -1);
                return 1;
        }
        for (size_t i = 0; i < n; i += 4096)
                p[i] = 1;
        printf("hog-survived=%s\n", mb);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 2)
                return usage();
        if (strcmp(argv[1], "noargv") == 0 && argc == 3) {
                char *const none[] = { NULL };
                char *const env[] = { "PATH=/usr/bin:/bin", NULL };

                execve(argv[2], none, env);
                say("execve", -1);
                return 1;
        }
        if (strcmp(argv[1], "argv") == 0 && argc >= 4) {
                char *const env[] = { "PATH=/usr/bin:/bin", NULL };

                execve(argv[2], argv + 3, env);
                say("execve", -1);
                return 1;
        }
        if (strcmp(argv[1], "keepfds") == 0 && argc >= 6 && strcmp(argv[4], "--") == 0) {
                int n = atoi(argv[3]);

                for (int i = 0; i < n && i < 64; i++)
                        if (open(argv[2], O_RDONLY) < 0) {
                                say("open", -1);
                                return 1;
                        }
                execvp(argv[5], argv + 5);
                say("execvp", -1);
                return 1;
        }
        if (strcmp(argv[1], "closestdio") == 0 && argc >= 4 && strcmp(argv[2], "--") == 0) {
                close(0);
                close(1);
                close(2);
                execvp(argv[3], argv + 3);
                return 127;
        }
        if (strcmp(argv[1], "tiocsti") == 0 && argc == 3) {
                int r = 0;

                for (const char *c = argv[2]; *c && r == 0; c++)
                        r = ioctl(0, TIOCSTI, c);
                if (r == 0) {
                        char nl = '\n';

                        r = ioctl(0, TIOCSTI, &nl);
                }
                say("tiocsti", r);
                return 0;
        }
        if (strcmp(argv[1], "tioclinux") == 0) {
                char sub = 6; /* TIOCL_GETSHIFTSTATE: harmless if allowed */

                say("tioclinux", ioctl(0, TIOCLINUX, &sub));
                return 0;
        }
        if (strcmp(argv[1], "kernel") == 0)
                return cmd_kernel();
        if (strcmp(argv[1], "io_uring") == 0)
                return cmd_io_uring();
        if (strcmp(argv[1], "mount") == 0 && argc == 3) {
                say("mount_tmpfs", mount("cubby-sec", argv[2], "tmpfs", 0, NULL));
                say("mount_bind", mount("/", argv[2], NULL, MS_BIND, NULL));
                return 0;
        }
        if (strcmp(argv[1], "umount") == 0 && argc == 3) {
                say("umount", umount2(argv[2], 0));
                say("umount_detach", umount2(argv[2], MNT_DETACH));
                return 0;
        }
        if (strcmp(argv[1], "flip") == 0 && argc == 5)
                return cmd_flip(argv[2], argv[3], argv[4]);
        if (strcmp(argv[1], "forkbomb") == 0 && argc == 3)
                return cmd_forkbomb(argv[2]);
        if (strcmp(argv[1], "hog") == 0 && argc == 3)
                return cmd_hog(argv[2]);
        if (strcmp(argv[1], "pdeath") == 0) {
                int sig = -1;

                prctl(PR_GET_PDEATHSIG, &sig);
                printf("pid=%d ppid=%d pdeathsig=%d\n", (int)getpid(), (int)getppid(), sig);
                return 0;
        }
        if (strcmp(argv[1], "ptrace") == 0 && argc == 3) {
                pid_t pid = atoi(argv[2]);
                char path[64], buf[16];
                int fd;
                long r = syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, pid, 0, 0);

                say("ptrace_attach", (int)r);
                if (r == 0)
                        syscall(SYS_ptrace, 17 /* PTRACE_DETACH */, pid, 0, 0);
                snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
                fd = open(path, O_RDONLY);
                say("open_mem", fd);
                if (fd >= 0)
                        close(fd);
                snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
                fd = open(path, O_RDONLY);
                if (fd >= 0 && read(fd, buf, sizeof buf) < 0)
                        fd = -1;
                say("read_environ", fd);
                if (fd >= 0)
                        close(fd);
                return 0;
        }
        return usage();
}
