/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper's seccomp program (helper/seccomp.c, compiled into this test
 * too) on the running kernel: every rule, every mode, and the foreign ABIs.
 *   test_seccomp native|i386|x32
 *
 * Each system call runs in a fresh process (this program re-executed with
 * --probe, so that valgrind's unit run leaves the probes native):
 *   R  without any filter: what the kernel itself answers;
 *   F  under the generated program, as the helper installs it;
 *   M  under a marker filter alone, which answers MARK to exactly this call;
 *   V  under the marker filter with the generated program stacked on top.
 * The kernel runs every stacked filter and, between two errno answers,
 * takes the newer filter's: so V is MARK exactly when the generated
 * program allowed the call, and its errno when it denied it. That verdict
 * holds even where the kernel's own answer looks like the filter's (x32 on
 * a kernel without x32 answers ENOSYS to everything). M shows the call
 * reaches seccomp at all; where it does not, the ABI is missing (77).
 * An allowed call must give R under F; a denied one the rule's errno.
 * Arguments are chosen so that the kernel refuses every call that the
 * filter should deny (EINVAL, EFAULT, EBADF): nothing here ever creates
 * a namespace, key or ring, whatever the filter does. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include "cubby/util.h"
#include "seccomp.h"

#define MARK 4000 /* no real errno */
#define X32_BIT 0x40000000L /* __X32_SYSCALL_BIT */
#define NO_FILTER (-1)

typedef enum { ABI_NATIVE, ABI_I386, ABI_X32, _ABI_MAX } Abi;
static const char *const abi_names[_ABI_MAX] = { "native", "i386", "x32" };

typedef struct Case {
        const char *name;
        long nr;             /* in the ABI's own table (x32: without the bit) */
        long arg[6];
        int err[_CONF_SECCOMP_MAX]; /* 0: allowed; else the errno the filter gives */
} Case;

/* Denied in every mode, or by the default rules (yes, allow_io_uring), or
 * by yes alone. Indexed by ConfSeccomp: no, yes, allow_io_uring. */
#define ALWAYS(e) { e, e, e }
#define DEFAULT(e) { 0, e, e }
#define IO_URING(e) { 0, e, 0 }
#define ALLOWED { 0, 0, 0 }

static const Case native_cases[] = {
        { "getppid", SYS_getppid, { 0 }, ALLOWED },
        { "ioctl(TIOCGWINSZ)", SYS_ioctl, { -1, TIOCGWINSZ }, ALLOWED },
        { "ioctl(TIOCSTI)", SYS_ioctl, { -1, TIOCSTI }, ALWAYS(EPERM) },
        { "ioctl(TIOCLINUX)", SYS_ioctl, { -1, TIOCLINUX }, ALWAYS(EPERM) },
        /* the kernel takes the command as 32 bits: a high word changes nothing */
        { "ioctl(TIOCSTI | 1<<32)", SYS_ioctl, { -1, (long)(TIOCSTI | (1ULL << 32)) }, ALWAYS(EPERM) },
        { "clone3", SYS_clone3, { 0, 0 }, DEFAULT(ENOSYS) },
        /* bit 0 is no unshare flag: EINVAL from the kernel */
        { "unshare(NEWUSER)", SYS_unshare, { CLONE_NEWUSER | 1 }, DEFAULT(EPERM) },
        { "unshare(other)", SYS_unshare, { CLONE_NEWNS | 1 }, ALLOWED },
        /* NEWUSER with FS, NEWNS with FS: EINVAL before anything is copied */
        { "clone(NEWUSER)", SYS_clone, { CLONE_NEWUSER | CLONE_FS }, DEFAULT(EPERM) },
        { "clone(other)", SYS_clone, { CLONE_NEWNS | CLONE_FS }, ALLOWED },
        { "keyctl", SYS_keyctl, { -1 }, DEFAULT(EPERM) },
        { "add_key", SYS_add_key, { 0 }, DEFAULT(EPERM) },
        { "request_key", SYS_request_key, { 0 }, DEFAULT(EPERM) },
        { "bpf", SYS_bpf, { -1, 0, 0 }, DEFAULT(EPERM) },
        /* UFFD_USER_MODE_ONLY (allowed unprivileged) with an unknown flag */
        { "userfaultfd", SYS_userfaultfd, { 1 | (1L << 30) }, DEFAULT(EPERM) },
        { "perf_event_open", SYS_perf_event_open, { 0, 0, -1, -1, -1 }, DEFAULT(EPERM) },
        { "io_uring_setup", SYS_io_uring_setup, { 1, 0 }, IO_URING(EPERM) },
        { "io_uring_enter", SYS_io_uring_enter, { -1 }, IO_URING(EPERM) },
        { "io_uring_register", SYS_io_uring_register, { -1 }, IO_URING(EPERM) },
};

/* The i386 table (int $0x80): every call refused, allowed ones too. */
static const Case i386_cases[] = {
        { "getppid", 64, { 0 }, ALWAYS(ENOSYS) },
        { "ioctl(TIOCGWINSZ)", 54, { -1, TIOCGWINSZ }, ALWAYS(ENOSYS) },
        { "ioctl(TIOCSTI)", 54, { -1, TIOCSTI }, ALWAYS(ENOSYS) },
        { "unshare(NEWUSER)", 310, { CLONE_NEWUSER | 1 }, ALWAYS(ENOSYS) },
        { "keyctl", 288, { -1 }, ALWAYS(ENOSYS) },
        { "io_uring_setup", 425, { 1, 0 }, ALWAYS(ENOSYS) },
};

/* The x32 table (x86-64's entry, bit 30 set in the number). */
static const Case x32_cases[] = {
        { "getppid", 110, { 0 }, ALWAYS(ENOSYS) },
        { "ioctl(TIOCGWINSZ)", 514, { -1, TIOCGWINSZ }, ALWAYS(ENOSYS) },
        { "ioctl(TIOCSTI)", 514, { -1, TIOCSTI }, ALWAYS(ENOSYS) },
        { "unshare(NEWUSER)", 272, { CLONE_NEWUSER | 1 }, ALWAYS(ENOSYS) },
        { "keyctl", 250, { -1 }, ALWAYS(ENOSYS) },
        { "io_uring_setup", 425, { 1, 0 }, ALWAYS(ENOSYS) },
};

static const struct {
        const Case *cases;
        size_t n;
} abi_cases[_ABI_MAX] = {
        [ABI_NATIVE] = { native_cases, ELEMENTSOF(native_cases) },
        [ABI_I386] = { i386_cases, ELEMENTSOF(i386_cases) },
        [ABI_X32] = { x32_cases, ELEMENTSOF(x32_cases) },
};

static char self[PATH_MAX];

/* ---- the probe: one call in this process, its raw result on stdout ---- */

#if defined(__x86_64__)
/* int $0x80 from 64-bit code enters the i386 table with the i386 audit
 * arch (where IA32 emulation is on). It clobbers r8-r11. */
static long syscall_i386(long nr, const long *a)
{
        long ret;

        __asm__ volatile("int $0x80"
                         : "=a"(ret)
                         : "a"(nr), "b"(a[0]), "c"(a[1]), "d"(a[2]), "S"(a[3]), "D"(a[4])
                         : "r8", "r9", "r10", "r11", "memory");
        return (int)ret;
}
#endif

static uint32_t abi_arch(Abi abi)
{
        if (abi == ABI_I386)
                return AUDIT_ARCH_I386;
#if defined(__x86_64__)
        return AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
        return AUDIT_ARCH_AARCH64;
#endif
}

static long abi_nr(Abi abi, long nr)
{
        return abi == ABI_X32 ? nr | X32_BIT : nr;
}

/* Answers MARK to exactly (arch, nr), allows everything else. */
static int install_marker(Abi abi, long nr)
{
        struct sock_filter prog[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, abi_arch(abi), 0, 3),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)abi_nr(abi, nr), 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | MARK),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog fprog = { .len = ELEMENTSOF(prog), .filter = prog };

        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
                return -errno;
        return 0;
}

static long parse_long(const char *s)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 0);
        if (errno || end == s || *end) {
                fprintf(stderr, "probe: bad number \"%s\"\n", s);
                _exit(2);
        }
        return v;
}

/* --probe ABI NR A0..A5 MODE MARKER */
static int probe(char **argv)
{
        long nr = parse_long(argv[1]), a[6], ret;
        int abi = (int)parse_long(argv[0]), mode = (int)parse_long(argv[8]), r;
        bool marker = parse_long(argv[9]);

        for (int i = 0; i < 6; i++)
                a[i] = parse_long(argv[2 + i]);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                perror("probe: PR_SET_NO_NEW_PRIVS");
                return 2;
        }
        if (marker && (r = install_marker(abi, nr)) < 0) {
                fprintf(stderr, "probe: marker filter: %s\n", strerror(-r));
                return 2;
        }
        if (mode != NO_FILTER && (r = seccomp_filter_install(mode)) < 0) {
                fprintf(stderr, "probe: seccomp_filter_install: %s\n", strerror(-r));
                return 2;
        }
#if defined(__x86_64__)
        if (abi == ABI_I386)
                ret = syscall_i386(nr, a);
        else
#endif
        {
                ret = syscall(abi_nr(abi, nr), a[0], a[1], a[2], a[3], a[4], a[5]);
                if (ret == -1)
                        ret = -errno;
        }
        printf("%ld\n", ret);
        /* no exit handlers under the filters: LeakSanitizer's would call
         * getppid, which the marker may be answering */
        _exit(fflush(stdout) == 0 ? 0 : 2);
}

/* ---- the driver ---- */

typedef struct Result {
        bool ok;    /* the probe exited 0 and printed a number */
        int signal; /* or was killed by this */
        long ret;
} Result;

static Result run_probe(Abi abi, const Case *c, int mode, bool marker)
{
        char args[10][32], buf[64] = "";
        char *argv[13] = { self, (char *)"--probe" };
        Result res = { 0 };
        int p[2], status;
        ssize_t n, got = 0;
        pid_t pid;

        snprintf(args[0], sizeof args[0], "%d", (int)abi);
        snprintf(args[1], sizeof args[1], "%ld", c->nr);
        for (int i = 0; i < 6; i++)
                snprintf(args[2 + i], sizeof args[2 + i], "%ld", c->arg[i]);
        snprintf(args[8], sizeof args[8], "%d", mode);
        snprintf(args[9], sizeof args[9], "%d", marker);
        for (int i = 0; i < 10; i++)
                argv[2 + i] = args[i];
        if (pipe2(p, O_CLOEXEC) < 0) {
                perror("pipe2");
                exit(1);
        }
        pid = fork();
        if (pid < 0) {
                perror("fork");
                exit(1);
        }
        if (pid == 0) {
                if (dup2(p[1], STDOUT_FILENO) < 0)
                        _exit(2);
                execv(self, argv);
                _exit(127);
        }
        close(p[1]);
        while (got < (ssize_t)sizeof buf - 1 && (n = read(p[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0)
                got += n;
        close(p[0]);
        if (waitpid(pid, &status, 0) < 0) {
                perror("waitpid");
                exit(1);
        }
        if (WIFSIGNALED(status)) {
                res.signal = WTERMSIG(status);
                return res;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && got > 0) {
                res.ok = true;
                res.ret = strtol(buf, NULL, 10);
        }
        return res;
}

static const char *describe(Result r, char *buf, size_t size)
{
        if (r.signal)
                snprintf(buf, size, "killed by signal %d", r.signal);
        else if (!r.ok)
                snprintf(buf, size, "probe failed");
        else if (r.ret == -MARK)
                snprintf(buf, size, "allowed (marker)");
        else if (r.ret < 0 && r.ret > -4096)
                snprintf(buf, size, "-%s", strerrorname_np((int)-r.ret) ?: "?");
        else
                snprintf(buf, size, "%ld", r.ret);
        return buf;
}

static bool same(Result a, Result b)
{
        return a.ok == b.ok && a.signal == b.signal && a.ret == b.ret;
}

static unsigned failures, checks, unclear;

static void check(Abi abi, const Case *c, int mode, const char *what, Result got, Result want)
{
        char g[64], w[64];

        checks++;
        if (same(got, want))
                return;
        failures++;
        printf("FAIL %s %s, seccomp = %s, %s: got %s, expected %s\n", abi_names[abi], c->name,
               conf_seccomp_name(mode), what, describe(got, g, sizeof g), describe(want, w, sizeof w));
}

static void run_case(Abi abi, const Case *c)
{
        Result ref = run_probe(abi, c, NO_FILTER, false);
        Result mark = { .ok = true, .ret = -MARK };
        char buf[64];

        if (!ref.ok) {
                failures++;
                printf("FAIL %s %s without a filter: %s\n", abi_names[abi], c->name, describe(ref, buf, sizeof buf));
                return;
        }
        check(abi, c, NO_FILTER, "marker filter alone", run_probe(abi, c, NO_FILTER, true), mark);
        for (int mode = 0; mode < _CONF_SECCOMP_MAX; mode++) {
                Result deny = { .ok = true, .ret = -c->err[mode] };
                Result filtered = run_probe(abi, c, mode, false);

                check(abi, c, mode, "verdict", run_probe(abi, c, mode, true), c->err[mode] ? deny : mark);
                if (!c->err[mode])
                        check(abi, c, mode, "run", filtered, ref);
                else if (ref.ret != deny.ret)
                        check(abi, c, mode, "run", filtered, deny);
                else
                        unclear++; /* the kernel says the same: the verdict decides */
                printf("%s %-24s seccomp = %-14s kernel %-14s filtered %s\n", abi_names[abi], c->name,
                       conf_seccomp_name(mode), describe(ref, buf, sizeof buf),
                       describe(filtered, (char[64]){ 0 }, 64));
        }
}

/* Whether a call of this ABI reaches seccomp and the kernel's table here:
 * getppid under no filter and under the marker. */
static int abi_present(Abi abi, const Case *getppid_case, char *why, size_t size)
{
        Result ref = run_probe(abi, getppid_case, NO_FILTER, false);
        Result mark = run_probe(abi, getppid_case, NO_FILTER, true);
        char buf[64];

        if (!mark.ok || mark.ret != -MARK) {
                snprintf(why, size, "%s system calls do not reach seccomp here (%s under the marker)",
                         abi_names[abi], describe(mark, buf, sizeof buf));
                return -1;
        }
        /* the probe's parent is this process */
        if (!ref.ok || ref.ret != getpid()) {
                snprintf(why, size, "%s system calls reach seccomp but not the kernel's table (getppid: %s)",
                         abi_names[abi], describe(ref, buf, sizeof buf));
                return 0;
        }
        return 1;
}

int main(int argc, char **argv)
{
        const Case *cases;
        size_t n;
        char why[256];
        Abi abi;
        ssize_t len;

        if (argc == 12 && strcmp(argv[1], "--probe") == 0)
                return probe(argv + 2);
        if (argc != 2) {
                fprintf(stderr, "usage: test_seccomp native|i386|x32\n");
                return 2;
        }
        /* valgrind reports the client here, not itself */
        len = readlink("/proc/self/exe", self, sizeof self - 1);
        if (len <= 0 || (size_t)len >= sizeof self - 1) {
                perror("readlink /proc/self/exe");
                return 1;
        }
        self[len] = 0;
        for (abi = 0; abi < _ABI_MAX && strcmp(argv[1], abi_names[abi]) != 0; abi++)
                ;
        if (abi == _ABI_MAX) {
                fprintf(stderr, "usage: test_seccomp native|i386|x32\n");
                return 2;
        }
#if !defined(__x86_64__)
        if (abi != ABI_NATIVE) {
                printf("SKIP: %s is an x86-64 ABI; this is not an x86-64 machine\n", argv[1]);
                return 77;
        }
#endif
        cases = abi_cases[abi].cases;
        n = abi_cases[abi].n;

        switch (abi_present(abi, &cases[0], why, sizeof why)) {
        case -1:
                /* nothing of this ABI can run on this kernel: i386 without
                 * IA32 emulation */
                printf("SKIP: the running kernel lacks the %s ABI: %s\n", abi_names[abi], why);
                return 77;
        case 0:
                /* x32 on a kernel without CONFIG_X86_X32_ABI: seccomp still
                 * sees the call (and must deny it for the kernels that have
                 * x32), the kernel then answers ENOSYS itself */
                printf("note: the running kernel lacks the %s ABI: %s; the filter's verdicts are "
                       "checked through the marker, real runs cannot tell\n",
                       abi_names[abi], why);
                break;
        default: break;
        }
        for (size_t i = 0; i < n; i++)
                run_case(abi, &cases[i]);
        printf("%s: %u checks, %u failed; %u denials the kernel answers the same way without the "
               "filter (decided by the verdict)\n",
               abi_names[abi], checks, failures, unclear);
        return failures ? 1 : 0;
}
