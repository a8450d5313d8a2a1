/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test-only fault injection; see include/cubby/fault.h. Compiled only into
 * a -Dfault_injection=true build. The one place in the library that may end
 * the process: that is its purpose. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "cubby-build.h"
#include "cubby/fault.h"
#include "cubby/util.h"

#define FAULT_SPEC "fault"
#define FAULT_HIT "fault.hit"
#define FAULT_KERNEL_ARG "cubby.fault_injection=1"

typedef enum FaultMode {
        FAULT_NONE,
        FAULT_ABORT,
        FAULT_EXIT,
        FAULT_KILL,
} FaultMode;

/* Per process (the static state is the point: the spec must outlive the
 * child's pivot_root). */
static struct {
        bool loaded;
        FaultMode mode;
        char point[128];
        int hit_fd;
} fault = { .hit_fd = -1 };

static void fault_load(void)
{
        _cleanup_close_ int dfd = -1, fd = -1;
        char buf[256], *mode;
        struct stat st;
        ssize_t n;

        fault.loaded = true;
        dfd = open(CUBBY_RUNDIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0 || fstat(dfd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022))
                return;
        fd = openat(dfd, FAULT_SPEC, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
            (st.st_mode & 022))
                return;
        n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        mode = strchr(buf, ' ');
        if (!mode)
                return;
        *mode++ = 0;
        if (strscpy(fault.point, sizeof fault.point, buf) < 0)
                return;
        if (strcmp(mode, "abort") == 0)
                fault.mode = FAULT_ABORT;
        else if (strcmp(mode, "exit") == 0)
                fault.mode = FAULT_EXIT;
        else if (strcmp(mode, "kill") == 0)
                fault.mode = FAULT_KILL;
        else
                return;
        /* opened now: the container's child fires after it lost sight of
         * the run dir (close-on-exec: the shell never has it) */
        fault.hit_fd = openat(dfd, FAULT_HIT, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                              0600);
}

void fault_prepare(void)
{
        if (!fault.loaded)
                fault_load();
}

void fault_point(const char *name)
{
        char line[160];
        int n;

        if (!fault.loaded)
                fault_load();
        if (fault.mode == FAULT_NONE || strcmp(fault.point, name) != 0)
                return;
        n = snprintf(line, sizeof line, "%s\n", name);
        if (fault.hit_fd >= 0 && n > 0 && n < (int)sizeof line)
                (void)!write(fault.hit_fd, line, (size_t)n);
        switch (fault.mode) {
        case FAULT_ABORT:
                abort();
        case FAULT_EXIT:
                _exit(1);
        case FAULT_KILL:
                /* the init of a pid namespace ignores SIGKILL from inside
                 * it; a trap is forced on it */
                if (getpid() == 1)
                        __builtin_trap();
                kill(getpid(), SIGKILL);
                __builtin_trap();
        case FAULT_NONE:
                break;
        }
}

int fault_guard(void)
{
        _cleanup_close_ int fd = -1;
        char buf[4096], *save = NULL;
        struct statfs sf;
        ssize_t n;

        fd = open("/proc/cmdline", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        /* the kernel's own file, not something bound over it */
        if (fd < 0 || fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
                return -EPERM;
        n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return -EPERM;
        buf[n] = 0;
        for (char *w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
                if (strcmp(w, FAULT_KERNEL_ARG) == 0)
                        return 0;
        return -EPERM;
}

int fault_guard_setuid(void)
{
        if (!getauxval(AT_SECURE) && geteuid() == getuid() && getegid() == getgid())
                return 0;
        return fault_guard();
}
