/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the shell inherits: no capabilities in any set, NO_NEW_PRIVS, a
 * seccomp filter, the caller's rlimits and umask, default signal state. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cap-ng.h>

#include "cubby/util.h"
#include "helper.h"
#include "seccomp.h"

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

/* The filter itself is in seccomp.c, shared with its unit test. */
int sbx_seccomp(int mode)
{
        return seccomp_filter_install(mode);
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
