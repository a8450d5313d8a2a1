/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Session lifecycle pieces shared by the PAM module and cubbyctl: per-user
 * locks, teardown and the garbage collector. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "cubby/home.h"
#include "cubby/record.h"

/* flock <dirfd>/u<uid>.lock exclusively, waiting at most timeout_ms. The
 * returned fd holds the lock until closed. */
int session_lock_user(int lock_dirfd, uid_t uid, unsigned timeout_ms, int *ret_fd);

/* The user level dirs (parents of the session dirs). */
int session_user_set(const CgSet *session, CgSet *ret_user);

/* 1 if the record's opener (pid and start time) is still alive, 0 if not. */
int session_opener_alive(const Record *rec);

/* The records: <sessions dir>/u<uid>/<key>, each user's in a dir of its
 * own (root-only like the sessions dir), so that whatever a login checks
 * reads only its own user's records (record_user_dir, record_read_user).
 * Records of an older cubby, directly in the sessions dir, are found only
 * by a walk of everything (gc, list). */

/* Remove <sessions>/u<uid> if it is empty. */
void session_user_dir_prune(int sessions_fd, uid_t uid);

/* record_write into rec's user dir (made if missing). */
int session_record_write(int sessions_fd, const Record *rec);

/* Unlink uid's record key, and the user dir if that was its last. */
int session_record_remove(int sessions_fd, uid_t uid, const char *key);

/* Called for each entry of a walk: rec is the record read from key in
 * dirfd, or NULL with err (< 0) when it cannot be read (not a record
 * cubby wrote, or one filed under another user's dir). Return 0 to go
 * on; anything else stops the walk and is its result. */
typedef int (*session_walk_fn)(int dirfd, const char *key, const Record *rec, int err, void *userdata);
/* Optional, before a record is read: false skips key unread. */
typedef bool (*session_key_fn)(const char *key, void *userdata);
typedef struct {
        unsigned read; /* records opened and parsed */
} SessionWalkStats;

/* Every record of *uid, or with uid NULL every record on the host (those
 * whose key want accepts, if given). The one walker over the records: gc,
 * the counts of the login path, the container code and cubbyctl all use
 * it. stats (optional) counts. */
int session_walk(int sessions_fd, const uid_t *uid, session_key_fn want, session_walk_fn fn,
                 void *userdata, SessionWalkStats *stats);

/* Kill the session cgroup, wait until it is empty (cg_kill: timeout_ms,
 * then while its processes are certain to go, at most cap_ms), remove it
 * and the user level if that was the last session. Holds the user lock
 * only for the user level (a few rmdirs; timeout_ms to get it). A
 * session of a container = user record is not killed: its dir
 * (<user>/ct/s<sid>) is removed if empty and left otherwise. */
int session_teardown(const Record *rec, int lock_dirfd, unsigned timeout_ms, unsigned cap_ms);

/* Reap the sessions whose opener is gone: teardown, then remove the record.
 * Safe to run concurrently (a second gc skips while one runs) and twice.
 * on_reap, if given, is called for each reaped record (for the log line). */
typedef void (*session_reap_fn)(const Record *rec, int result, void *userdata);
int session_gc(int sessions_dirfd, int lock_dirfd, session_reap_fn on_reap, void *userdata,
               unsigned *ret_reaped);

/* How many sessions use the user's overlay home: <lock dir>/u<uid>.homes,
 * read and written only under the user lock; missing is 0. gc reconciles
 * it with the live records after a crash. */
int session_home_refs_get(int lock_dirfd, uid_t uid, unsigned *ret);
int session_home_refs_set(int lock_dirfd, uid_t uid, unsigned n);

/* Whether rec's session may use the user's overlay home: a sandboxed
 * session with an overlay home, or one not ready yet (between its record
 * and its home). */
bool session_holds_home(const Record *rec);
/* The HomeSpec (run_dir, state_dir, user, uid, gid) of rec's home. */
void session_home_spec(const Record *rec, HomeSpec *ret);

/* The caller's hold on the user's overlay home ends; its own record (or
 * container record) is already gone. If no record of the user may hold
 * the home (session_holds_home) and the user has no container, then, under
 * the user lock and checked again there, the count is reset and the
 * overlay unmounted in the anchor: the last one to leave always does it
 * (each removes its own part before it looks). The others only lower the
 * count, and only if the lock is free at once (never waiting for it): a
 * count left one too high is corrected by gc's recount, and a login only
 * asks whether it is 0. sessions_fd -1: there is no sessions dir (so no
 * record). 1 if it unmounted, 0 if not, -errno. */
int session_home_release(int sessions_fd, int lock_dirfd, const HomeSpec *hs, unsigned timeout_ms);

/* <run_dir>/locks, where the per-user and gc locks live. */
int session_lock_dir_path(const char *run_dir, char *buf, size_t size);

/* How many records of uid (sandboxed ones) have a live opener, other than
 * the one named exclude_key; with ready_only, only those past their
 * preparation. */
int session_count_live(int sessions_dirfd, uid_t uid, const char *exclude_key, bool ready_only);

/* Remove the temp files of atomic writes (".NAME.ID.PID.tmp") in dirfd
 * whose writer is gone or that are older than a minute. Returns how many
 * were removed, or -errno. */
int remove_stale_temp_files(int dirfd);
