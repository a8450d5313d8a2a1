/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "cubby/conf.h"
#include "cubby/container-life.h"
#include "cubby/anchor.h"
#include "cubby/fault.h"
#include "cubby/home.h"
#include "cubby/ipam.h"
#include "cubby/proc.h"
#include "cubby/record-write.h"
#include "cubby/cgroup-lifecycle.h"
#include "cubby/session.h"

static void sleep_ms(unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int session_lock_user(int lock_dirfd, uid_t uid, unsigned timeout_ms, int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        char name[32];
        unsigned waited = 0;

        snprintf(name, sizeof name, "u%u.lock", (unsigned)uid);
        fd = openat(lock_dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return -errno;
                if (waited >= timeout_ms)
                        return -ETIMEDOUT;
                sleep_ms(5);
                waited += 5;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int session_user_set(const CgSet *session, CgSet *ret_user)
{
        *ret_user = *session;
        for (size_t i = 0; i < ret_user->n; i++) {
                char *slash;

                /* already the user dir (memory): the user level's own */
                if (cg_dir_at_user(&ret_user->dir[i])) {
                        ret_user->dir[i].ctrl &= ~CG_DIR_USER;
                        slash = strrchr(ret_user->dir[i].path, '/');
                        if (!slash || strncmp(slash, "/u", 2) != 0)
                                return -EINVAL;
                        continue;
                }
                slash = strrchr(ret_user->dir[i].path, '/');
                if (!slash || slash == ret_user->dir[i].path || strncmp(slash, "/s", 2) != 0)
                        return -EINVAL;
                *slash = 0;
                slash = strrchr(ret_user->dir[i].path, '/');
                /* container = user: <user>/ct/s<sid> */
                if (slash && strcmp(slash, "/ct") == 0) {
                        *slash = 0;
                        slash = strrchr(ret_user->dir[i].path, '/');
                }
                if (!slash || strncmp(slash, "/u", 2) != 0)
                        return -EINVAL;
        }
        return 0;
}

int session_opener_alive(const Record *rec)
{
        /* a zombie opener will never run close_session: its session is
         * as dead as one whose opener is gone */
        return proc_alive("/proc", rec->opener_pid, rec->opener_start);
}

int session_teardown(const Record *rec, int lock_dirfd, unsigned timeout_ms, unsigned cap_ms)
{
        _cleanup_close_ int lock = -1;
        CgSet user;
        int r, k;

        if (rec->cgroup.n == 0)
                return 0;
        r = session_user_set(&rec->cgroup, &user);
        if (r < 0)
                return r;
        if (rec->container == CONF_CONTAINER_USER) {
                /* A session that joined its user's container: what it left
                 * running (nohup, tmux) belongs to the container and lives
                 * on. Its own dir goes once it is empty; the user dir and
                 * ct/ are the container's, removed by its stop. */
                k = cg_remove_dirs(&rec->cgroup, true);
                if (k < 0)
                        return k;
                /* ct/ (or another session) is there: nothing to remove */
                if (cg_has_children(&user) > 0)
                        return 0;
                k = session_lock_user(lock_dirfd, rec->uid, timeout_ms, &lock);
                if (k < 0)
                        return k;
                /* A session that died before its container's tree was made
                 * (between the user dir and ct/) leaves the user dir alone:
                 * it goes if it is empty. With ct/ in it, it stays. */
                k = cg_remove_dirs(&user, true);
                return k < 0 ? k : 0;
        }
        r = cg_kill(&rec->cgroup, timeout_ms, cap_ms);
        CUBBY_FAULT("lib.teardown.killed");
        /* The session's own dirs need no lock: nobody else makes or uses
         * them. Only the user level does (a login makes it and its session
         * dir under the lock), and that is a few rmdirs that fail at once
         * while other sessions live: many sessions of one user ending
         * together no longer queue on the lock behind each other's
         * cgroup removal (each rmdir of a v1 cgroup waits for the kernel,
         * milliseconds under load). */
        k = cg_remove(NULL, &rec->cgroup);
        if (k < 0)
                return r < 0 ? r : k;
        /* Another session's dir is still there: the user level stays, and
         * the last session to leave removes it (each removes its own dirs
         * before it looks, so the last one sees none). No lock at all:
         * under a load of hundreds (a whole class logging out at once) a
         * lock holder waits long for a CPU, and the others queue behind
         * it past their timeout. */
        if (cg_has_children(&user) > 0)
                return r;
        k = session_lock_user(lock_dirfd, rec->uid, timeout_ms, &lock);
        if (k < 0)
                return r < 0 ? r : k;
        k = cg_remove(&user, NULL);
        CUBBY_FAULT("lib.teardown.removed");
        return r < 0 ? r : k;
}

/* Runs as root over cubby's root-only 0700 dirs, where nobody else can
 * plant a name: it only unlinks regular files named like our temp files. */
int remove_stale_temp_files(int dir_fd)
{
        _cleanup_close_ int dfd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        unsigned n = 0;
        DIR *d;

        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        (void)TAKE_FD(dfd); /* d owns it now */
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char base[NAME_MAX + 1];
                const char *dot;
                struct stat st;
                pid_t pid = 0;
                bool dead;

                /* ".NAME.ID.PID.tmp", as write_atomic() names them */
                if (de->d_name[0] != '.' || len < 6 || strcmp(de->d_name + len - 4, ".tmp") != 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                memcpy(base, de->d_name, len - 4);
                base[len - 4] = 0;
                dot = strrchr(base, '.');
                if (!dot || parse_pid(dot + 1, &pid) < 0)
                        pid = 0; /* no pid in the name: by age only */
                /* a writer takes microseconds: gone, or a minute old */
                dead = pid > 0 && kill(pid, 0) < 0 && errno == ESRCH;
                if ((dead || st.st_mtime + 60 < time(NULL)) && unlinkat(dirfd(d), de->d_name, 0) == 0)
                        n++;
        }
        closedir(d);
        return (int)n;
}

/* ---- the records: <sessions>/u<uid>/<key> ------------------------------ */

/* "u<uid>" exactly as user_dir_name writes it */
static bool user_dir_parse(const char *name, uid_t *ret)
{
        char again[16];
        uint64_t v;

        if (name[0] != 'u' || parse_u64(name + 1, &v) < 0 || v >= UINT32_MAX ||
            record_user_dir_name((uid_t)v, again, sizeof again) < 0 || strcmp(again, name) != 0)
                return false;
        *ret = (uid_t)v;
        return true;
}

void session_user_dir_prune(int sessions_fd, uid_t uid)
{
        char name[16];

        /* only an empty one goes; a login that opened it meanwhile finds
         * its file creation refused (ENOENT) and makes it again */
        if (record_user_dir_name(uid, name, sizeof name) == 0)
                (void)unlinkat(sessions_fd, name, AT_REMOVEDIR);
}

int session_record_write(int sessions_fd, const Record *rec)
{
        int r = -ENOENT;

        /* a few tries: session_user_dir_prune of a last logout may remove
         * the dir between our open and our write */
        for (int tries = 0; tries < 5 && r == -ENOENT; tries++) {
                _cleanup_close_ int ufd = -1;

                r = record_user_dir(sessions_fd, rec->uid, true, &ufd);
                if (r == 0)
                        r = record_write(ufd, rec);
        }
        return r;
}

int session_record_remove(int sessions_fd, uid_t uid, const char *key)
{
        _cleanup_close_ int ufd = -1;
        int r;

        r = record_user_dir(sessions_fd, uid, false, &ufd);
        if (r < 0)
                return r;
        if (unlinkat(ufd, key, 0) < 0)
                return -errno;
        session_user_dir_prune(sessions_fd, uid);
        return 0;
}

/* The records of one dir; want_uid < 0: any uid (a legacy top-level
 * record), else every record must name it. */
static int walk_dir(int dfd, int64_t want_uid, Record *rec, session_key_fn want, session_walk_fn fn,
                    void *userdata, SessionWalkStats *stats)
{
        _cleanup_close_ int dup = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (dup < 0)
                return -errno;
        d = fdopendir(dup);
        if (!d)
                return -errno;
        (void)TAKE_FD(dup); /* d owns it now */
        while (r == 0 && (de = readdir(d))) {
                int k;

                /* temp files of atomic writes, and (at the top) the user dirs */
                if (de->d_name[0] == '.' || (want_uid < 0 && de->d_name[0] == 'u') ||
                    (want && !want(de->d_name, userdata)))
                        continue;
                k = record_read(dirfd(d), de->d_name, 0, rec);
                if (stats)
                        stats->read++;
                /* a record filed under another user would escape that
                 * user's counts: not one cubby wrote */
                if (k == 0 && want_uid >= 0 && rec->uid != (uid_t)want_uid)
                        k = -EPERM;
                r = fn(dirfd(d), de->d_name, k == 0 ? rec : NULL, k, userdata);
        }
        closedir(d);
        return r;
}

int session_walk(int sessions_fd, const uid_t *uid, session_key_fn want, session_walk_fn fn,
                 void *userdata, SessionWalkStats *stats)
{
        _cleanup_free_ Record *rec = malloc(sizeof *rec);
        _cleanup_close_ int dup = -1;
        struct dirent *de;
        DIR *d;
        int r;

        if (!rec)
                return -ENOMEM;
        if (uid) {
                _cleanup_close_ int ufd = -1;

                r = record_user_dir(sessions_fd, *uid, false, &ufd);
                if (r == -ENOENT)
                        return 0;
                return r < 0 ? r : walk_dir(ufd, *uid, rec, want, fn, userdata, stats);
        }
        /* records from before the per-user dirs, at the top */
        r = walk_dir(sessions_fd, -1, rec, want, fn, userdata, stats);
        if (r != 0)
                return r;
        dup = openat(sessions_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dup < 0)
                return -errno;
        d = fdopendir(dup);
        if (!d)
                return -errno;
        (void)TAKE_FD(dup); /* d owns it now */
        while (r == 0 && (de = readdir(d))) {
                _cleanup_close_ int ufd = -1;
                uid_t u;

                if (!user_dir_parse(de->d_name, &u))
                        continue;
                if (record_user_dir(dirfd(d), u, false, &ufd) < 0)
                        continue; /* removed meanwhile, or not ours */
                r = walk_dir(ufd, u, rec, want, fn, userdata, stats);
        }
        closedir(d);
        return r;
}

typedef struct {
        int sessions;
        int locks;
        session_reap_fn on_reap;
        void *userdata;
        unsigned reaped;
        int r;
} GcWalk;

/* The key names the opener (record_read insists): a record whose opener
 * lives is not read at all, so that gc costs a /proc lookup per live
 * session, not a parse. */
static bool opener_gone(const char *key, void *userdata)
{
        pid_t pid;
        uint64_t start;

        return record_key_parse(key, &pid, &start) < 0 || proc_alive("/proc", pid, start) == 0;
}

static int gc_one(int dirfd, const char *key, const Record *rec, int err, void *userdata)
{
        GcWalk *g = userdata;
        int k;

        /* Not a record we can read: leave it for an admin to look at
         * (cubbyctl list shows it) rather than guess. */
        if (err < 0 || session_opener_alive(rec) != 0)
                return 0;
        /* gc runs inside a login (throttled): no long wait there. A
         * teardown it cannot finish keeps the record for the next pass. */
        k = session_teardown(rec, g->locks, CG_KILL_TIMEOUT_MS, CG_KILL_TIMEOUT_MS);
        /* The record goes only once everything it names is gone: a
         * teardown that failed leaves it for the next gc. */
        if (k >= 0 && unlinkat(dirfd, key, 0) < 0 && errno != ENOENT)
                k = -errno;
        if (k >= 0)
                session_user_dir_prune(g->sessions, rec->uid);
        /* Its close never released the home: the last holder unmounts. */
        if (k >= 0 && session_holds_home(rec)) {
                HomeSpec hs;

                session_home_spec(rec, &hs);
                (void)session_home_release(g->sessions, g->locks, &hs, 5000);
        }
        /* The session's containers are gone with its cgroup, but their
         * supervisors may still be exiting and own the leases: release
         * them with the record, as close_session does, not at some later
         * gc. A session that joined its user's container holds none: the
         * container's lease is its init's. */
        if (k >= 0 && rec->network && rec->run_dir[0] && rec->container != CONF_CONTAINER_USER)
                (void)ipam_release_session(rec->run_dir, rec->uid, rec->id);
        if (g->on_reap)
                g->on_reap(rec, k, g->userdata);
        if (k >= 0)
                g->reaped++;
        else if (g->r == 0)
                g->r = k;
        return 0;
}

/* remove_stale_temp_files in every user dir of the sessions dir */
static void stale_temp_files_users(int sessions_fd)
{
        _cleanup_close_ int dup = openat(sessions_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        DIR *d;

        if (dup < 0 || !(d = fdopendir(dup)))
                return;
        (void)TAKE_FD(dup); /* d owns it now */
        while ((de = readdir(d))) {
                _cleanup_close_ int ufd = -1;
                uid_t u;

                if (user_dir_parse(de->d_name, &u) && record_user_dir(dirfd(d), u, false, &ufd) == 0 &&
                    remove_stale_temp_files(ufd) > 0)
                        session_user_dir_prune(dirfd(d), u);
        }
        closedir(d);
}

int session_gc(int sessions_dirfd, int lock_dirfd, session_reap_fn on_reap, void *userdata,
               unsigned *ret_reaped)
{
        _cleanup_close_ int gclock = -1;
        GcWalk g = { .sessions = sessions_dirfd, .locks = lock_dirfd, .on_reap = on_reap,
                     .userdata = userdata };
        int r;

        /* One collector at a time; a second one has nothing to add. */
        gclock = openat(lock_dirfd, "gc.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (gclock < 0)
                return -errno;
        if (flock(gclock, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 0 : -errno;

        r = session_walk(sessions_dirfd, NULL, opener_gone, gc_one, &g, NULL);
        if (r < 0)
                return r;
        /* Temp files of writers that died before their rename: in the
         * sessions dir, the lock dir and the run dir above it. */
        (void)remove_stale_temp_files(sessions_dirfd);
        stale_temp_files_users(sessions_dirfd);
        (void)remove_stale_temp_files(lock_dirfd);
        {
                _cleanup_close_ int run = openat(lock_dirfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                if (run >= 0)
                        (void)remove_stale_temp_files(run);
        }
        if (ret_reaped)
                *ret_reaped = g.reaped;
        return g.r;
}

int session_lock_dir_path(const char *run_dir, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%s/locks", run_dir);

        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

typedef struct {
        const char *exclude_key;
        bool ready_only;
        int n;
} CountWalk;

static int count_one(int dirfd, const char *key, const Record *rec, int err, void *userdata)
{
        CountWalk *c = userdata;

        (void)dirfd;
        /* unreadable: not a record this code wrote (cubbyctl list reports it) */
        if (err < 0 || !rec || (c->exclude_key && strcmp(key, c->exclude_key) == 0))
                return 0;
        if (rec->sandbox && (!c->ready_only || rec->ready) && session_opener_alive(rec) != 0)
                c->n++;
        return 0;
}

int session_count_live(int sessions_dirfd, uid_t uid, const char *exclude_key, bool ready_only)
{
        CountWalk c = { .exclude_key = exclude_key, .ready_only = ready_only };
        int r = session_walk(sessions_dirfd, &uid, NULL, count_one, &c, NULL);

        return r < 0 ? r : c.n;
}

int session_home_refs_get(int lock_dirfd, uid_t uid, unsigned *ret)
{
        _cleanup_free_ char *text = NULL;
        char name[32];
        uint64_t v;
        char *nl;
        int r;

        snprintf(name, sizeof name, "u%u.homes", (unsigned)uid);
        r = read_file_at(lock_dirfd, name, 64, &text, NULL, NULL);
        if (r == -ENOENT) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return r;
        nl = strchr(text, '\n');
        if (nl)
                *nl = 0;
        if (parse_u64(text, &v) < 0 || v > UINT32_MAX)
                return -EBADMSG;
        *ret = (unsigned)v;
        return 0;
}

int session_home_refs_set(int lock_dirfd, uid_t uid, unsigned n)
{
        char name[32], text[16];

        snprintf(name, sizeof name, "u%u.homes", (unsigned)uid);
        if (n == 0) {
                if (unlinkat(lock_dirfd, name, 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        snprintf(text, sizeof text, "%u\n", n);
        return write_file_atomic_at_nosync(lock_dirfd, name, text, strlen(text), 0600);
}

bool session_holds_home(const Record *rec)
{
        /* not ready: a login between its record and its home, which may be
         * about to use the overlay (it writes home_mount after the lock) */
        return rec->sandbox && !rec->home_direct && (rec->home_mount[0] || !rec->ready);
}

void session_home_spec(const Record *rec, HomeSpec *ret)
{
        *ret = (HomeSpec){ .state_dir = rec->state_dir, .run_dir = rec->run_dir, .user = rec->user,
                           .uid = rec->uid, .gid = rec->gid };
}

static int holder_found(int dirfd, const char *key, const Record *rec, int err, void *userdata)
{
        (void)dirfd;
        (void)key;
        (void)userdata;
        /* unreadable: it may hold the home; gc's recount decides */
        return err < 0 || !rec || session_holds_home(rec) ? 1 : 0;
}

/* 1 if a record of the user may hold the home, or the user's container
 * does; 0 if none; -errno. Stops at the first holder: O(1) while the user
 * has sessions, O(this user's records) at worst. */
static int home_holders(int sessions_fd, const HomeSpec *hs)
{
        int r = ct_exists(hs->run_dir, hs->uid);

        if (r != 0)
                return r;
        /* no sessions dir (cubbyctl where none was ever made): no record */
        if (sessions_fd < 0)
                return 0;
        return session_walk(sessions_fd, &hs->uid, NULL, holder_found, NULL, NULL);
}

int session_home_release(int sessions_fd, int lock_dirfd, const HomeSpec *hs, unsigned timeout_ms)
{
        _cleanup_close_ int anchor = -1, lock = -1;
        unsigned refs = 0;
        int r;

        /* The caller removed its own record (or the container's) first.
         * Any holder left ends later and releases then (close_session,
         * gc's reap of a dead one, the container's stop): only the last
         * does the user-level work, seeing none because each removes its
         * own part before it looks. The others never wait for the lock:
         * under a mass logout it queues every session of the user behind
         * holders that wait long for a CPU. */
        r = home_holders(sessions_fd, hs);
        if (r < 0)
                return r;
        if (r > 0) {
                /* the count, if the lock is free now (it tells cubbyctl
                 * and gc how many hold the home; only 0 matters to a
                 * login); taken, it stays one too high until gc's recount */
                if (session_lock_user(lock_dirfd, hs->uid, 0, &lock) == 0 &&
                    session_home_refs_get(lock_dirfd, hs->uid, &refs) == 0 && refs > 1)
                        (void)session_home_refs_set(lock_dirfd, hs->uid, refs - 1);
                return 0;
        }
        r = session_lock_user(lock_dirfd, hs->uid, timeout_ms, &lock);
        if (r < 0)
                return r; /* gc's recount unmounts later */
        /* again under the lock: a login writes its record before it takes
         * the lock to mount, so one that got in meanwhile is seen here */
        r = home_holders(sessions_fd, hs);
        if (r != 0)
                return r < 0 ? r : 0;
        r = session_home_refs_set(lock_dirfd, hs->uid, 0);
        if (r < 0)
                return r;
        r = anchor_open(hs->run_dir, &anchor);
        if (r == -ENOENT)
                return 0; /* no anchor: nothing is mounted */
        if (r < 0)
                return r;
        r = home_umount(hs, anchor);
        return r < 0 ? r : 1;
}
