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
#include "cubby/anchor.h"
#include "cubby/fault.h"
#include "cubby/home.h"
#include "cubby/ipam.h"
#include "cubby/proc.h"
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
                char *slash = strrchr(ret_user->dir[i].path, '/');

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

int session_teardown(const Record *rec, int lock_dirfd, unsigned timeout_ms)
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
                k = session_lock_user(lock_dirfd, rec->uid, timeout_ms, &lock);
                if (k < 0)
                        return k;
                k = cg_remove_dirs(&rec->cgroup, true);
                return k < 0 ? k : 0;
        }
        r = cg_kill(&rec->cgroup, timeout_ms);
        CUBBY_FAULT("lib.teardown.killed");
        k = session_lock_user(lock_dirfd, rec->uid, timeout_ms, &lock);
        if (k < 0)
                return r < 0 ? r : k;
        k = cg_remove(&user, &rec->cgroup);
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

int session_gc(int sessions_dirfd, int lock_dirfd, session_reap_fn on_reap, void *userdata,
               unsigned *ret_reaped)
{
        _cleanup_close_ int gclock = -1, dfd = -1;
        unsigned reaped = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        /* One collector at a time; a second one has nothing to add. */
        gclock = openat(lock_dirfd, "gc.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (gclock < 0)
                return -errno;
        if (flock(gclock, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 0 : -errno;

        dfd = openat(sessions_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        (void)TAKE_FD(dfd); /* d owns it now */
        while ((de = readdir(d))) {
                Record *rec;
                int alive, k;

                if (de->d_name[0] == '.')
                        continue; /* temp files: below */
                rec = malloc(sizeof *rec);
                if (!rec) {
                        r = -ENOMEM;
                        break;
                }
                k = record_read(dirfd(d), de->d_name, 0, rec);
                if (k < 0) {
                        /* Not a record we can read: leave it for an admin to
                         * look at (cubbyctl list shows it) rather than guess. */
                        free(rec);
                        continue;
                }
                alive = session_opener_alive(rec);
                if (alive == 0) {
                        k = session_teardown(rec, lock_dirfd, 5000);
                        if (k >= 0 && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
                                k = -errno;
                        /* The session's containers are gone with its cgroup,
                         * but their supervisors may still be exiting and
                         * own the leases: release them with the record, as
                         * close_session does, not at some later gc. A
                         * session that joined its user's container holds
                         * none: the container's lease is its init's. */
                        if (k >= 0 && rec->network && rec->run_dir[0] &&
                            rec->container != CONF_CONTAINER_USER)
                                (void)ipam_release_session(rec->run_dir, rec->id);
                        if (on_reap)
                                on_reap(rec, k, userdata);
                        if (k >= 0)
                                reaped++;
                        else if (r == 0)
                                r = k;
                }
                free(rec);
        }
        closedir(d);
        /* Temp files of writers that died before their rename: in the
         * sessions dir, the lock dir and the run dir above it. */
        (void)remove_stale_temp_files(sessions_dirfd);
        (void)remove_stale_temp_files(lock_dirfd);
        {
                _cleanup_close_ int run = openat(lock_dirfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                if (run >= 0)
                        (void)remove_stale_temp_files(run);
        }
        if (ret_reaped)
                *ret_reaped = reaped;
        return r;
}

int session_lock_dir_path(const char *run_dir, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%s/locks", run_dir);

        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int session_count_live(int sessions_dirfd, uid_t uid, const char *exclude_key, bool ready_only)
{
        _cleanup_close_ int dfd = -1;
        struct dirent *de;
        int n = 0;
        DIR *d;

        dfd = openat(sessions_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        (void)TAKE_FD(dfd); /* d owns it now */
        while ((de = readdir(d))) {
                _cleanup_free_ Record *rec = NULL;

                if (de->d_name[0] == '.' || (exclude_key && strcmp(de->d_name, exclude_key) == 0))
                        continue;
                rec = malloc(sizeof *rec);
                if (!rec) {
                        closedir(d);
                        return -ENOMEM;
                }
                /* unreadable: not a record this code wrote (cubbyctl list
                 * reports it) */
                if (record_read(dirfd(d), de->d_name, 0, rec) < 0)
                        continue;
                if (rec->uid != uid || !rec->sandbox || (ready_only && !rec->ready))
                        continue;
                if (session_opener_alive(rec) != 0)
                        n++;
        }
        closedir(d);
        return n;
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

int session_home_release(int lock_dirfd, const HomeSpec *hs, unsigned timeout_ms)
{
        _cleanup_close_ int anchor = -1, lock = -1;
        unsigned refs = 0;
        int r;

        r = session_lock_user(lock_dirfd, hs->uid, timeout_ms, &lock);
        if (r < 0)
                return r; /* gc reconciles later */
        r = session_home_refs_get(lock_dirfd, hs->uid, &refs);
        if (r < 0)
                return r;
        if (refs > 1)
                return session_home_refs_set(lock_dirfd, hs->uid, refs - 1);
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
