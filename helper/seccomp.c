/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The seccomp filter of the container's shell. Every rule returns an
 * errno (never kills): a login shell that meets a denied call should see a
 * failing call it can report, not die. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include "cubby/util.h"
#include "seccomp.h"

#if defined(__x86_64__)
#define ARCH_NR AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH_NR AUDIT_ARCH_AARCH64
#else
#error "cubby-shell: add this architecture's AUDIT_ARCH to the seccomp filter"
#endif

#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LD_ARG_LO(i) \
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args) + sizeof(__u64) * (i))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define ERR(e) RET(SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
/* if nr == n: return e (2 instructions) */
#define DENY(n, e) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 1), ERR(e)
/* if nr == n: deny when the low word of arg i has bit set (5 instructions) */
#define DENY_FLAG(n, i, bit, e)                                       \
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 4), LD_ARG_LO(i), \
                BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, (bit), 0, 1), ERR(e), RET(SECCOMP_RET_ALLOW)

/* The tty rule is never relaxed: a sandbox on a terminal that a more
 * privileged process keeps using (`su student` typed by an admin) must not
 * be able to push input into it (TIOCSTI) or the console (TIOCLINUX).
 * The kernel compares ioctl numbers as 32 bits, so only the low word is
 * checked. Foreign ABIs (i386 through int $0x80, x32 through the same
 * entry as x86-64 with bit 30 set in the number) have other numbers for
 * every call, so this filter cannot speak about them: denied whole. */
static const struct sock_filter filter_head[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_NR, 1, 0),
        ERR(ENOSYS),
        LD_NR,
#if defined(__x86_64__)
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1), /* __X32_SYSCALL_BIT */
        ERR(ENOSYS),
#endif
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 5),
        LD_ARG_LO(1),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 1, 0),
        RET(SECCOMP_RET_ALLOW),
        ERR(EPERM),
};

/* The default rules (seccomp = yes and allow_io_uring): no nested user
 * namespaces (clone3 passes its flags in memory, which seccomp cannot
 * read, so it gets ENOSYS and libc falls back to clone), no kernel
 * keyrings shared across the host, no bpf, userfaultfd or perf (kernel
 * attack surface with no use in a login shell). */
static const struct sock_filter filter_default[] = {
        DENY(__NR_clone3, ENOSYS),
        DENY_FLAG(__NR_unshare, 0, CLONE_NEWUSER, EPERM),
        DENY_FLAG(__NR_clone, 0, CLONE_NEWUSER, EPERM),
        DENY(__NR_keyctl, EPERM),
        DENY(__NR_add_key, EPERM),
        DENY(__NR_request_key, EPERM),
        DENY(__NR_bpf, EPERM),
        DENY(__NR_userfaultfd, EPERM),
        DENY(__NR_perf_event_open, EPERM),
};

/* io_uring (seccomp = yes): a large kernel attack surface, the source of
 * many local privilege escalations, which container runtimes' default
 * profiles deny too. EPERM is what kernel.io_uring_disabled gives, so
 * programs already fall back to plain system calls on it. Its operations
 * are not seen by seccomp, but none of them does what a rule here denies. */
static const struct sock_filter filter_io_uring[] = {
        DENY(__NR_io_uring_setup, EPERM),
        DENY(__NR_io_uring_enter, EPERM),
        DENY(__NR_io_uring_register, EPERM),
};

_Static_assert(ELEMENTSOF(filter_head) + ELEMENTSOF(filter_default) + ELEMENTSOF(filter_io_uring) + 1 <=
                       SECCOMP_FILTER_MAX,
               "SECCOMP_FILTER_MAX is too small");

static size_t append(struct sock_filter *prog, size_t n, const struct sock_filter *part, size_t len)
{
        memcpy(prog + n, part, len * sizeof *part);
        return n + len;
}

size_t seccomp_filter_build(ConfSeccomp mode, struct sock_filter prog[static SECCOMP_FILTER_MAX])
{
        size_t n = 0;

        n = append(prog, n, filter_head, ELEMENTSOF(filter_head));
        if (mode != CONF_SECCOMP_NO)
                n = append(prog, n, filter_default, ELEMENTSOF(filter_default));
        if (mode != CONF_SECCOMP_NO && mode != CONF_SECCOMP_ALLOW_IO_URING)
                n = append(prog, n, filter_io_uring, ELEMENTSOF(filter_io_uring));
        prog[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
        return n;
}

int seccomp_filter_install(ConfSeccomp mode)
{
        struct sock_filter prog[SECCOMP_FILTER_MAX];
        struct sock_fprog fprog = { .filter = prog };

        fprog.len = (unsigned short)seccomp_filter_build(mode, prog);
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
                return -errno;
        return 0;
}
