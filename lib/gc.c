/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gc: what crashed sessions left. Records whose opener is gone
 * (session_gc), and, as flags ask, session cgroups that no record names,
 * overlays of users with no live session, the idle anchor holder, stale
 * address leases. The PAM module runs it before each login (throttled,
 * records only), `cubbyctl gc` runs all of it. Each removal is logged here,
 * where it is decided; note() hears one line of each for cubbyctl's
 * output. */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "cubby/anchor-holder.h"
#include "cubby/anchor.h"
#include "cubby/cgroup-layout.h"
#include "cubby/cgroup-lifecycle.h"
#include "cubby/container-life.h"
#include "cubby/gc.h"
#include "cubby/home.h"
#include "cubby/ipam.h"
#include "cubby/log.h"
#include "cubby/util.h"

static void gc_note(const GcCtx *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void gc_note(const GcCtx *g, const char *fmt, ...)
{
        char line[PATH_MAX + 256];
        va_list ap;

        if (!g->note)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        g->note(line, g->userdata);
}

static void gc_reaped(const Record *rec, int result, void *userdata)
{
        const GcCtx *g = userdata;
        char uid[16], res[16];

        snprintf(uid, sizeof uid, "%u", (unsigned)rec->uid);
        snprintf(res, sizeof res, "%d", result);
        log_event(result < 0 ? LOG_ERR : LOG_INFO, "gc_reaped", "session", rec->id, "uid", uid,
                  "user", rec->user, "service", rec->service, "result", res, NULL);
        gc_note(g, "reaped session %s (user %s): %s", rec->id, rec->user,
                result < 0 ? strerror(-result) : "ok");
}

/* Overlays of users with no live session are unmounted; with no session
 * left at all, the anchor holder is stopped too. Both under the user lock
 * taken by the PAM module, so they cannot race a login. */
static void gc_homes(const GcCtx *g)
{
        _cleanup_close_ int anchor = -1;
        char users[PATH_MAX];
        struct dirent *de;
        bool busy = false;
        DIR *d;
        int r;

        /* no live holder (it was killed, or its opener died before it
         * was recorded): no overlay is mounted, but the counts, the stale
         * record and the holder's cgroup are still ours to clean up */
        r = anchor_open(g->global->run_dir, &anchor);
        if (r < 0 && r != -ENOENT)
                return;
        if (snprintf(users, sizeof users, "%s/users", g->global->state_dir) >= (int)sizeof users)
                return;
        d = opendir(users);
        while (d && (de = readdir(d))) {
                _cleanup_close_ int lock = -1;
                HomeSpec hs;

                if (de->d_name[0] == '.' || home_spec_of(g->global->state_dir, g->global->run_dir, de->d_name, &hs) < 0)
                        continue;
                if (session_lock_user(g->locks, hs.uid, 5000, &lock) < 0) {
                        busy = true;
                        continue;
                }
                {
                        /* reconcile the home's reference count with the
                         * sessions that are really alive, and the user's
                         * container (it holds one reference while it runs) */
                        int live = session_count_live(g->sessions, hs.uid, NULL, false);
                        int ct = ct_exists(g->global->run_dir, hs.uid);

                        if (live < 0 || ct < 0) {
                                busy = true;
                                continue;
                        }
                        live += ct;
                        (void)session_home_refs_set(g->locks, hs.uid, (unsigned)live);
                        if (live > 0) {
                                busy = true;
                                continue;
                        }
                }
                if (anchor >= 0 && home_is_mounted(&hs, anchor) > 0) {
                        r = home_umount(&hs, anchor);
                        gc_note(g, "gc: unmounted the home of %s%s%s", hs.user, r < 0 ? ": " : "",
                               r < 0 ? strerror(-r) : "");
                        if (r < 0)
                                busy = true;
                }
        }
        if (d)
                closedir(d);
        /* the holder also runs the containers' sweep: it lives while any
         * container does */
        if (!busy && ct_any(g->global->run_dir) != 0)
                busy = true;
        if (!busy) {
                CgSet user, sess, parents;

                /* the parent dirs of <parent>/u<uid>: where the holder's cgroup is */
                if (cg_paths(g->global->cgroup_parent, 0, 0, "0000000000000000", &user, &sess) < 0)
                        user.n = 0;
                parents = user;
                for (size_t i = 0; i < parents.n; i++) {
                        char *slash = strrchr(parents.dir[i].path, '/');

                        if (slash && slash != parents.dir[i].path)
                                *slash = 0;
                }
                if (anchor_stop(g->global->run_dir, &parents) > 0)
                        gc_note(g, "gc: stopped the idle anchor namespace");
        }
}

typedef struct Ids {
        char (*id)[CUBBY_ID_LEN + 1];
        size_t n, cap;
} Ids;

/* The ids of the records in the sessions dir (unreadable ones left out:
 * their cgroups stay until an admin looks). */
static int collect_one(int dirfd, const char *key, const Record *rec, int err, void *userdata)
{
        Ids *ids = userdata;

        (void)dirfd;
        (void)key;
        if (err < 0)
                return 0;
        if (ids->n == ids->cap) {
                size_t cap = ids->cap ? ids->cap * 2 : 64;
                void *n = realloc(ids->id, cap * sizeof *ids->id);

                if (!n)
                        return -ENOMEM;
                ids->id = n;
                ids->cap = cap;
        }
        memcpy(ids->id[ids->n++], rec->id, sizeof ids->id[0]);
        return 0;
}

static int collect_ids(int sessions, Ids *ids)
{
        return session_walk(sessions, NULL, NULL, collect_one, ids, NULL);
}

/* Whether uid has a user dir in a hierarchy where sessions have dirs of
 * their own (1), none (0), or it cannot be told (-errno). */
static int user_dir_elsewhere(const GcCtx *g, uid_t uid)
{
        CgSet su, ss;
        struct stat st;
        int r = cg_paths(g->global->cgroup_parent, 0, uid, "0000000000000000", &su, &ss);

        if (r < 0)
                return r;
        for (size_t j = 0; j < ss.n; j++) {
                if (cg_dir_at_user(&ss.dir[j]))
                        continue;
                if (lstat(su.dir[j].path, &st) == 0)
                        return 1;
                if (errno != ENOENT)
                        return -errno;
        }
        return 0;
}

/* User dirs in a hierarchy that sessions join (memory) whose user has no
 * dir in any other: left when the last teardown's rmdir found the dir
 * busy (a task still listed), or by an orphan from before sessions joined
 * it. Under the user lock (a login makes all of a user's dirs under it):
 * the empty session dirs of old in it, then the dir; a busy one stays. */
static void gc_lone_user_dirs(const GcCtx *g, const CgDir *joined_user)
{
        char parent[PATH_MAX], *slash;
        struct dirent *ud;
        DIR *d;

        if (snprintf(parent, sizeof parent, "%s", joined_user->path) >= (int)sizeof parent ||
            !(slash = strrchr(parent, '/')) || slash == parent)
                return;
        *slash = 0;
        d = opendir(parent);
        while (d && (ud = readdir(d))) {
                _cleanup_close_ int lock = -1, ufd = -1;
                struct dirent *sd;
                uint64_t uid;
                DIR *u;

                if (ud->d_name[0] != 'u' || parse_u64(ud->d_name + 1, &uid) < 0 || uid >= UINT32_MAX)
                        continue;
                if (user_dir_elsewhere(g, (uid_t)uid) != 0)
                        continue; /* the user is there: a live one */
                if (session_lock_user(g->locks, (uid_t)uid, 5000, &lock) < 0 ||
                    user_dir_elsewhere(g, (uid_t)uid) != 0)
                        continue;
                ufd = openat(dirfd(d), ud->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (ufd < 0)
                        continue;
                u = fdopendir(ufd);
                if (!u)
                        continue;
                (void)TAKE_FD(ufd); /* u owns it now */
                while ((sd = readdir(u)))
                        if (sd->d_name[0] == 's' && strlen(sd->d_name) == CUBBY_ID_LEN + 1 &&
                            strspn(sd->d_name + 1, "0123456789abcdef") == CUBBY_ID_LEN)
                                (void)unlinkat(dirfd(u), sd->d_name, AT_REMOVEDIR);
                closedir(u);
                if (unlinkat(dirfd(d), ud->d_name, AT_REMOVEDIR) == 0)
                        gc_note(g, "gc: removed the memory cgroup of uid %llu, which no session had",
                                (unsigned long long)uid);
        }
        if (d)
                closedir(d);
}

/* Session cgroups that no record names (a record lost after a failed
 * teardown, or a crash between steps): kill and remove them. Works from
 * the listing of the first hierarchy where sessions have dirs of their
 * own; each is then handled in all. */
static void gc_orphan_cgroups(const GcCtx *g)
{
        CgSet user, sess;
        Ids ids = {};
        DIR *d;
        struct dirent *ud;
        char parent[PATH_MAX - 64];
        char *slash;
        size_t h;

        if (collect_ids(g->sessions, &ids) < 0)
                goto out;
        if (cg_paths(g->global->cgroup_parent, 0, 0, "0000000000000000", &user, &sess) < 0)
                goto out;
        /* a hierarchy where sessions have dirs of their own */
        for (h = 0; h < sess.n && cg_dir_at_user(&sess.dir[h]); h++)
                ;
        if (h == sess.n || snprintf(parent, sizeof parent, "%s", user.dir[h].path) >= (int)sizeof parent)
                goto out;
        slash = strrchr(parent, '/');
        if (!slash)
                goto out;
        *slash = 0;
        d = opendir(parent);
        while (d && (ud = readdir(d))) {
                char udir[PATH_MAX];
                struct dirent *sd;
                uint64_t uid;
                DIR *u;

                if (ud->d_name[0] != 'u' || parse_u64(ud->d_name + 1, &uid) < 0 || uid >= UINT32_MAX)
                        continue;
                if (snprintf(udir, sizeof udir, "%s/%s", parent, ud->d_name) >= (int)sizeof udir)
                        continue;
                u = opendir(udir);
                while (u && (sd = readdir(u))) {
                        _cleanup_close_ int lock = -1;
                        bool known = false;
                        CgSet su, ss;

                        if (sd->d_name[0] != 's' || strlen(sd->d_name) != CUBBY_ID_LEN + 1 ||
                            strspn(sd->d_name + 1, "0123456789abcdef") != CUBBY_ID_LEN)
                                continue;
                        for (size_t i = 0; i < ids.n && !known; i++)
                                known = strcmp(ids.id[i], sd->d_name + 1) == 0;
                        /* a login writes its record before its cgroup, but
                         * one may have begun after the records were listed:
                         * only cgroups older than a minute are orphans */
                        {
                                struct stat st;

                                if (fstatat(dirfd(u), sd->d_name, &st, 0) < 0 ||
                                    st.st_mtime + 60 > time(NULL))
                                        continue;
                        }
                        if (known || cg_paths(g->global->cgroup_parent, 0, (uid_t)uid,
                                              sd->d_name + 1, &su, &ss) < 0 ||
                            cg_set_unjoin(&ss, sd->d_name) < 0)
                                continue;
                        if (cg_kill(&ss, CG_KILL_TIMEOUT_MS, CG_KILL_CAP_MS) < 0 ||
                            session_lock_user(g->locks, (uid_t)uid, 5000, &lock) < 0 ||
                            cg_remove(&su, &ss) < 0) {
                                gc_note(g, "gc: cannot remove orphan session cgroup %s of uid %llu",
                                       sd->d_name + 1, (unsigned long long)uid);
                                continue;
                        }
                        log_event(LOG_INFO, "gc_reaped", "session", sd->d_name + 1, "what",
                                  "orphan cgroup", NULL);
                        gc_note(g, "gc: removed orphan session cgroup %s of uid %llu", sd->d_name + 1,
                               (unsigned long long)uid);
                }
                if (u)
                        closedir(u);
        }
        if (d)
                closedir(d);
        for (size_t i = 0; i < sess.n; i++)
                if (cg_dir_at_user(&sess.dir[i]))
                        gc_lone_user_dirs(g, &user.dir[i]);
out:
        free(ids.id);
}


/* At most every GC_INTERVAL_S (it reads every record, which a login storm
 * must not pay each time); a stamp in the future counts as stale. */
static bool gc_due(int locks)
{
        struct stat st;
        time_t now = time(NULL);

        if (fstatat(locks, "gc.stamp", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtime + GC_INTERVAL_S > now &&
            st.st_mtime <= now)
                return false;
        (void)write_file_atomic_at_nosync(locks, "gc.stamp", "", 0, 0600);
        return true;
}

int gc_run(const GcCtx *g, unsigned flags, unsigned *ret_reaped)
{
        unsigned reaped = 0;
        size_t n_leases = 0;
        IpamLease *gone = NULL;
        int r;

        if ((flags & GC_THROTTLE) && !gc_due(g->locks)) {
                if (ret_reaped)
                        *ret_reaped = 0;
                return 0;
        }
        r = session_gc(g->sessions, g->locks, gc_reaped, (void *)g, &reaped);
        if (flags & GC_ORPHAN_CGROUPS)
                gc_orphan_cgroups(g);
        if (flags & GC_CONTAINERS) {
                CtLife life = { .global = g->global, .sessions = g->sessions, .locks = g->locks,
                                .note = g->note, .userdata = g->userdata,
                                .lock_ms = CT_LOCK_TIMEOUT_MS };
                unsigned stopped = 0;

                (void)ct_sweep(&life, g->conf, &stopped);
                (void)ct_gc_orphans(&life);
        }
        if (flags & GC_HOMES)
                gc_homes(g);
        if ((flags & GC_LEASES) && ipam_gc(g->global->run_dir, &gone, &n_leases) > 0)
                gc_note(g, "gc: released %zu stale address leases", n_leases);
        free(gone);
        if (ret_reaped)
                *ret_reaped = reaped;
        return r;
}
