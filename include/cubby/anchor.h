/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The anchor's record and namespace (lib/anchor.c). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#define ANCHOR_FILE "anchor"
#define ANCHOR_LOCK "anchor.lock"

/* What <run_dir>/anchor records: "PID START INO\n". */
typedef struct AnchorId {
        pid_t pid;
        uint64_t start;
        uint64_t ino;
} AnchorId;

/* Open the anchor's mount namespace (O_RDONLY fd usable with setns), after
 * checking that the holder recorded in <run_dir>/anchor is the process that
 * was recorded (pid + start time) and still has that namespace. -ENOENT if
 * there is no live anchor. */
int anchor_open(const char *run_dir, int *ret_nsfd);

/* The record in the run dir rundir_fd: root-owned, not group/world
 * writable, three strict decimal numbers. */
int anchor_read(int rundir_fd, AnchorId *ret);
/* The mount namespace of the recorded holder; -ESRCH when it is provably
 * gone (or its pid was reused). */
int anchor_open_id(const AnchorId *id, int *ret_nsfd);
