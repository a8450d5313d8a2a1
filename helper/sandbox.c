/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the shell inherits: no capabilities in any set, NO_NEW_PRIVS, a
 * seccomp filter, the caller's rlimits and umask, default signal state. */
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cap-ng.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include "cubby/util.h"
#include "helper.h"

#if defined(__x86_64__)
#define ARCH_NR AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH_NR AUDIT_ARCH_AARCH64
#else
#error "cubby-shell: add this architecture's AUDIT_ARCH to the seccomp filter"
#endif

void sbx_save_process_state(Helper *h)
{
        for (int i = 0; i < RLIM_NLIMITS; i++)
                getrlimit(i, &h->rlim[i]);
        h->umask = umask(022);
}

/* The caller's rlimits are hostile during setup (docs/THREATS.md, A): tiny NOFILE
 * or FSIZE must not make a write fail half way. Root may raise them; a
 * hard limit is never lowered, because the child (privileged only in its
 * own user namespace) could not raise it back for the shell. No core
 * file of the setup (soft 0; it is also not dumpable). */
int sbx_setup_limits(void)
{
        struct rlimit inf = { RLIM_INFINITY, RLIM_INFINITY }, nf, core;

        if (getrlimit(RLIMIT_NOFILE, &nf) < 0 || getrlimit(RLIMIT_CORE, &core) < 0)
                return -errno;
        if (nf.rlim_cur < 1024)
                nf.rlim_cur = 1024;
        if (nf.rlim_max < nf.rlim_cur)
                nf.rlim_max = nf.rlim_cur;
        core.rlim_cur = 0;
        if (setrlimit(RLIMIT_CORE, &core) < 0)
                return -errno;
        /* best effort without CAP_SYS_RESOURCE: what still fails later
         * refuses the login */
        if (setrlimit(RLIMIT_FSIZE, &inf) < 0) {
                getrlimit(RLIMIT_FSIZE, &inf);
                inf.rlim_cur = inf.rlim_max;
                (void)setrlimit(RLIMIT_FSIZE, &inf);
        }
        if (setrlimit(RLIMIT_NOFILE, &nf) < 0) {
                getrlimit(RLIMIT_NOFILE, &nf);
                nf.rlim_cur = nf.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &nf);
        }
        return 0;
}

void sbx_restore_process_state(const Helper *h)
{
        sigset_t all;

        for (int i = 0; i < RLIM_NLIMITS; i++)
                (void)setrlimit(i, &h->rlim[i]);
        umask(h->umask);
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void)signal(s, SIG_DFL);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
}

/* setresuid() inside the new user namespace keeps the capabilities the
 * namespace gave (the old ids were not root in it): clear every set,
 * bounding and ambient included, explicitly. */
int sbx_drop_all_caps(void)
{
        capng_clear(CAPNG_SELECT_ALL);
        if (capng_apply(CAPNG_SELECT_ALL) != 0)
                return -EPERM;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

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
 * checked. Foreign ABIs (i386, x32) cannot be filtered by number: denied. */
static const struct sock_filter filter_head[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_NR, 1, 0),
        ERR(ENOSYS),
        LD_NR,
#if defined(__x86_64__)
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1), /* x32 */
        ERR(ENOSYS),
#endif
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 5),
        LD_ARG_LO(1),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 1, 0),
        RET(SECCOMP_RET_ALLOW),
        ERR(EPERM),
};

/* The default rules (seccomp = yes): no nested user namespaces (clone3
 * passes its flags in memory, which seccomp cannot read, so it gets ENOSYS
 * and libc falls back to clone), no kernel keyrings shared across the
 * host, no bpf, userfaultfd or perf (kernel attack surface with no use in
 * a login shell). */
static const struct sock_filter filter_strict[] = {
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

int sbx_seccomp(bool strict)
{
        struct sock_filter prog[ELEMENTSOF(filter_head) + ELEMENTSOF(filter_strict) + 1];
        struct sock_fprog fprog = { .filter = prog };
        size_t n = 0;

        memcpy(prog, filter_head, sizeof filter_head);
        n += ELEMENTSOF(filter_head);
        if (strict) {
                memcpy(prog + n, filter_strict, sizeof filter_strict);
                n += ELEMENTSOF(filter_strict);
        }
        prog[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
        fprog.len = (unsigned short)n;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
                return -errno;
        return 0;
}

/* In the container's own network namespace (the child owns it through its
 * user namespace): loopback up, nothing else. */
int sbx_loopback_up(void)
{
        _cleanup_close_ int fd = -1;
        struct ifreq ifr = {};

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return -errno;
        return 0;
}
