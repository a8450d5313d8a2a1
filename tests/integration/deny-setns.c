/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* deny-setns PROGRAM [ARGS...]: run PROGRAM (and everything it starts)
 * with setns(fd, CLONE_NEWNET) failing with EPERM; every other setns, a
 * join of several namespaces at once included, works. The test of a
 * failed namespace move runs a second sshd under it. */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "deny-setns: unknown architecture"
#endif

int main(int argc, char *argv[])
{
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_setns, 0, 3),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CLONE_NEWNET, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };

        if (argc < 2) {
                fprintf(stderr, "usage: deny-setns PROGRAM [ARGS...]\n");
                return 2;
        }
        /* no NO_NEW_PRIVS: root installs it, and setuid programs below
         * must still run as they do */
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
                perror("deny-setns: seccomp");
                return 1;
        }
        execv(argv[1], argv + 1);
        perror("deny-setns: exec");
        return 127;
}
