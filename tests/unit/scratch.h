/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A scratch directory for the unit tests that work on real files: made
 * with mkdtemp (0700, the caller's), removed with everything in it without
 * following a symlink; a private mount namespace for those that mount; and
 * the wait of a harness that cleans up after its test process, also when
 * it is told to stop. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* tmpl: "/tmp/NAME-XXXXXX", filled in. Returns an O_DIRECTORY fd, or -1. */
static inline int scratch_make(char *tmpl)
{
        if (!mkdtemp(tmpl))
                return -1;
        return open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static inline int scratch_rm_entry(const char *path, const struct stat *st, int type,
                                   struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* 0, or -1 with errno set. */
static inline int scratch_remove(const char *dir)
{
        return nftw(dir, scratch_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* For the tests that mount: the caller (root, else why_root says what is
 * missing) moves into a private mount namespace of its own, so that what
 * it mounts goes with it. Exits 77 (skipped) with the reason otherwise. */
static inline void scratch_private_mounts(bool have_all, const char *why_root)
{
        if (geteuid() != 0 || !have_all) {
                fprintf(stderr, "SKIP: needs %s\n", why_root);
                exit(77);
        }
        if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "SKIP: no private mount namespace: %s\n", strerror(errno));
                exit(77);
        }
}

static volatile sig_atomic_t scratch_stop_signal;
static inline void scratch_on_stop(int sig)
{
        scratch_stop_signal = sig;
}

/* Waits for the test process pid (forked by a harness that removes the
 * test's cgroups and files after it). SIGTERM (meson's timeout), SIGINT
 * and SIGHUP do not end the harness before its clean-up: they kill the
 * test process, and the wait goes on until it is gone. Returns the signal
 * that came, 0 if none; *status as waitpid's. */
static inline int scratch_wait_test(pid_t pid, int *status)
{
        struct sigaction sa = { .sa_handler = scratch_on_stop }; /* no SA_RESTART */
        static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };

        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
                (void)sigaction(sigs[i], &sa, NULL);
        while (waitpid(pid, status, 0) < 0) {
                if (errno != EINTR)
                        return scratch_stop_signal;
                if (scratch_stop_signal)
                        (void)kill(pid, SIGKILL);
        }
        return scratch_stop_signal;
}
