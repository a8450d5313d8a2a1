/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The programs cubby runs from the PAM module and cubbyctl: the setuid
 * helper a login is handed to, and fixed paths run with a fixed
 * environment. */
#pragma once

#include <sys/types.h>

/* The helper at CUBBY_HELPER_PATH is a regular file, owned by root, setuid,
 * writable by root only, and not on a nosuid mount; else the shell exec
 * would run it without privileges. Returns 0 and, if ret_fd, an O_PATH fd
 * of it; -errno when it cannot be opened, -EPERM when it is not installed
 * setuid root, -EACCES when it is on a nosuid mount. *ret_why says which. */
int spawn_helper_check(int *ret_fd, const char **ret_why);

/* fork + execve(path, argv) with only PATH in the environment, stdin and
 * stderr on /dev/null, stdout on stdout_fd (or /dev/null if it is -1) and
 * no other fd inherited, and, when the caller's effective uid is root,
 * root in every uid and gid (a setuid su's real uid is its caller's). No
 * PATH search: path is absolute. Returns 0 and the child's pid, or -errno if it cannot fork. */
int spawn_fixed(const char *path, char *const argv[], int stdout_fd, pid_t *ret_pid);
