/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lifetime of a per-user container (container-life.h): stop, release,
 * the linger decision and its sweep, gc of dead and unrecorded containers.
 * Not in the helper's core: pam_cubby (close_session), the anchor holder's
 * sweep and cubbyctl (stop, gc) run it, as root.
 *
 * Everything a stop touches is named by the container record (root's, in
 * a root-only dir) and checked again here: its cgroup dirs must end in
 * /u<uid>/ct, its init is signalled only through ct_open_init's verified
 * pidfd, and every other process only through a pidfd taken while it was
 * listed in the container's cgroups and still listed afterwards (a pid
 * reused meanwhile is never signalled). */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cubby/cgroup-layout.h"
#include "cubby/cgroup-lifecycle.h"
#include "cubby/container-life.h"
#include "cubby/fault.h"
#include "cubby/ipam.h"
#include "cubby/log.h"
#include "cubby/session.h"
#include "cubby/user-policy.h"
#include "cubby/util.h"

#define PROC_ROOT "/proc"
#define TREE_DEPTH_MAX 8
#define PIDS_MAX_READ (4u << 20)
#define SIGNAL_CHUNK 256
#define KILL_TIMEOUT_MS 5000
#define INIT_EXIT_MS 2000
#define RMDIR_TRIES 200
#define USER_LOCK_MS 10000
#define SWEEP_LOCK_MS 200

static const char *const reason_names[_CT_STOP_MAX] = {
        [CT_STOP_LINGER] = "linger",
        [CT_STOP_IDLE] = "idle",
        [CT_STOP_ADMIN] = "admin",
        [CT_STOP_GC] = "gc",
        [CT_STOP_POLICY] = "policy",
};

const char *ct_stop_reason_name(CtStopReason reason)
{
        return reason >= 0 && reason < _CT_STOP_MAX ? reason_names[reason] : "unknown";
}

static void life_note(const CtLife *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void life_note(const CtLife *l, const char *fmt, ...)
{
        char line[PATH_MAX + 256];
        va_list ap;

        if (!l->note)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        l->note(line, l->userdata);
}

static void sleep_ms(unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static uint64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t boot_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A session keeps the user's container in use: one that joins it
 * (container = user), its opener alive. */
static bool record_counts(const Record *rec)
{
        return rec->sandbox && rec->container == CONF_CONTAINER_USER &&
               session_opener_alive(rec) != 0;
}

/* Ids of live sessions. */
typedef struct Ids {
        char (*id)[CUBBY_ID_LEN + 1];
        size_t n, cap;
} Ids;

/* The walks below go through session_walk over one user's records:
 * O(that user's sessions), whatever else the host runs. */
typedef struct {
        const char *exclude_key;
        int n;
        Ids *ids; /* live_session_ids: collect the ids too */
} LiveWalk;

static int live_one(int dirfd, const char *key, const Record *rec, int err, void *userdata)
{
        LiveWalk *w = userdata;

        (void)dirfd;
        /* unreadable: not a record cubby wrote (cubbyctl list shows it) */
        if (err < 0 || (w->exclude_key && strcmp(key, w->exclude_key) == 0) || !record_counts(rec))
                return 0;
        w->n++;
        if (w->ids) {
                Ids *out = w->ids;

                if (out->n == out->cap) {
                        size_t cap = out->cap ? out->cap * 2 : 16;
                        void *np = realloc(out->id, cap * sizeof *out->id);

                        if (!np)
                                return -ENOMEM;
                        out->id = np;
                        out->cap = cap;
                }
                memcpy(out->id[out->n++], rec->id, sizeof out->id[0]);
        }
        return 0;
}

int ct_live_sessions(const CtLife *l, uid_t uid, const char *exclude_key)
{
        LiveWalk w = { .exclude_key = exclude_key };
        int r;

        if (l->sessions < 0)
                return 0;
        r = session_walk(l->sessions, &uid, NULL, live_one, &w, NULL);
        return r < 0 ? r : w.n;
}

/* ---- the cgroup tree ---------------------------------------------------- */

/* Every dir of r's set is .../u<uid>/ct (or .../u<uid> where marked as
 * the user's): a record can only ever name the tree of its own user. */
static int tree_check(const CgSet *ct, uid_t uid)
{
        char tail[32];
        int n = snprintf(tail, sizeof tail, "/u%u/ct", (unsigned)uid);

        if (n < 0 || (size_t)n >= sizeof tail || cg_set_check(ct) < 0)
                return -EINVAL;
        for (size_t i = 0; i < ct->n; i++) {
                size_t l = strlen(ct->dir[i].path), m = (size_t)n;

                if (cg_dir_at_user(&ct->dir[i]))
                        m -= strlen("/ct");
                if (l <= m || strncmp(ct->dir[i].path + l - m, tail, m) != 0)
                        return -EINVAL;
        }
        return 0;
}

typedef struct Pids {
        pid_t *p;
        size_t n, cap;
} Pids;

static int pids_add(Pids *s, pid_t pid)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 64;
                pid_t *np = realloc(s->p, cap * sizeof *np);

                if (!np)
                        return -ENOMEM;
                s->p = np;
                s->cap = cap;
        }
        s->p[s->n++] = pid;
        return 0;
}

static int cmp_pid(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

        return (x > y) - (x < y);
}

static void pids_sort_unique(Pids *s)
{
        size_t j = 0;

        if (s->n < 2)
                return;
        qsort(s->p, s->n, sizeof *s->p, cmp_pid);
        for (size_t i = 0; i < s->n; i++)
                if (j == 0 || s->p[j - 1] != s->p[i])
                        s->p[j++] = s->p[i];
        s->n = j;
}

static bool pids_has(const Pids *s, pid_t pid)
{
        return s->n > 0 && bsearch(&pid, s->p, s->n, sizeof *s->p, cmp_pid) != NULL;
}

/* A subdir of a cgroup dir worth walking: a plain name, no symlink. */
static bool child_name_ok(const struct dirent *de)
{
        return de->d_type == DT_DIR && de->d_name[0] != '.' && strlen(de->d_name) < NAME_MAX;
}

/* The pids of dfd's cgroup and every cgroup below it. */
static int tree_collect_fd(int dfd, unsigned depth, Pids *out)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int dup = -1;
        char *p, *save = NULL;
        struct dirent *de;
        DIR *d;
        int r;

        if (depth > TREE_DEPTH_MAX)
                return -ELOOP;
        r = read_file_at(dfd, "cgroup.procs", PIDS_MAX_READ, &text, NULL, NULL);
        if (r == -ENOENT || r == -ENODEV)
                return 0; /* removed meanwhile */
        if (r < 0)
                return r;
        for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
                pid_t pid;

                /* 0: outside our pid namespace; nothing we can signal */
                if (strcmp(p, "0") == 0)
                        continue;
                if (parse_pid(p, &pid) < 0)
                        return -EBADMSG;
                r = pids_add(out, pid);
                if (r < 0)
                        return r;
        }
        dup = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dup < 0)
                return -errno;
        d = fdopendir(dup);
        if (!d)
                return -errno;
        (void)TAKE_FD(dup);
        r = 0;
        while (r == 0 && (de = readdir(d))) {
                _cleanup_close_ int cfd = -1;

                if (!child_name_ok(de))
                        continue;
                cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd < 0)
                        continue; /* removed meanwhile */
                r = tree_collect_fd(cfd, depth + 1, out);
        }
        closedir(d);
        return r;
}

/* Every process in the tree, in every hierarchy, sorted, once each. A
 * dir marked as the user's is not the tree's: the user's sessions outside
 * the container may be there too. */
static int tree_pids(const CgSet *ct, Pids *out)
{
        out->n = 0;
        for (size_t i = 0; i < ct->n; i++) {
                _cleanup_close_ int fd = -1;
                int r;

                if (cg_dir_at_user(&ct->dir[i]))
                        continue;
                r = cg_dir_open(&ct->dir[i], &fd);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                r = tree_collect_fd(fd, 0, out);
                if (r < 0)
                        return r;
        }
        pids_sort_unique(out);
        return 0;
}

/* Send sig to every process of the tree but except: each pinned with a
 * pidfd first and signalled only if still listed afterwards. Returns how
 * many were signalled. */
static int tree_signal(const CgSet *ct, int sig, pid_t except)
{
        Pids first = { 0 }, now = { 0 };
        int r, sent = 0;

        r = tree_pids(ct, &first);
        for (size_t off = 0; r >= 0 && off < first.n; off += SIGNAL_CHUNK) {
                size_t m = first.n - off < SIGNAL_CHUNK ? first.n - off : SIGNAL_CHUNK;
                int pfd[SIGNAL_CHUNK];

                for (size_t i = 0; i < m; i++) {
                        pid_t pid = first.p[off + i];

                        pfd[i] = pid == except ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
                }
                r = tree_pids(ct, &now);
                for (size_t i = 0; i < m; i++) {
                        if (pfd[i] < 0)
                                continue;
                        if (r >= 0 && pids_has(&now, first.p[off + i]) &&
                            syscall(SYS_pidfd_send_signal, pfd[i], sig, NULL, 0) == 0)
                                sent++;
                        close(pfd[i]);
                }
        }
        free(first.p);
        free(now.p);
        return r < 0 ? r : sent;
}

/* How many processes are in the tree, except `except`. */
static int tree_count(const CgSet *ct, pid_t except)
{
        Pids s = { 0 };
        int r = tree_pids(ct, &s);

        if (r >= 0)
                r = (int)s.n - (pids_has(&s, except) ? 1 : 0);
        free(s.p);
        return r;
}

/* Kill everything left in the tree: SIGKILL through pidfds (tree_signal)
 * until every dir of every hierarchy is empty, at most KILL_TIMEOUT_MS.
 * Not cgroup.kill: a v2 cgroup that was killed that way kills every
 * process later cloned into it with CLONE_INTO_CGROUP (its kill count no
 * longer matches, measured on 6.18), and ct/init is where the next
 * container's init is cloned when a login raced this stop. Once the init
 * is dead nothing in the container's pid namespace can fork; what is left
 * (supervisors, a helper about to join) is a handful of processes. */
static int tree_kill(const CgSet *ct)
{
        uint64_t deadline = mono_ms() + KILL_TIMEOUT_MS;
        unsigned step = 1;

        for (;;) {
                int n = tree_count(ct, 0);

                if (n <= 0)
                        return n;
                if (mono_ms() >= deadline)
                        return -ETIMEDOUT;
                n = tree_signal(ct, SIGKILL, 0);
                if (n < 0)
                        return n;
                sleep_ms(step);
                if (step < 50)
                        step *= 2;
        }
}

/* rmdir name in dfd; a v1 cgroup keeps an exiting task listed for a
 * moment (EBUSY), so retry a little. */
static int rmdir_retry(int dfd, const char *name)
{
        for (int tries = 0;; tries++) {
                if (unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY || tries >= RMDIR_TRIES)
                        return -errno;
                sleep_ms(10);
        }
}

/* The ids of the live sessions of uid (records with a live opener). */
static int live_session_ids(const CtLife *l, uid_t uid, Ids *out)
{
        LiveWalk w = { .exclude_key = l->exclude_key, .ids = out };

        if (l->sessions < 0)
                return 0;
        return session_walk(l->sessions, &uid, NULL, live_one, &w, NULL);
}

/* A dir of the container's top level that a live session still needs:
 * its own s<id>, and, while any session lives, the init's dir (the login
 * that raced this stop starts a new container there). */
static bool kept_for(const char *name, const Ids *live)
{
        if (live->n == 0)
                return false;
        if (strcmp(name, "init") == 0)
                return true;
        for (size_t i = 0; name[0] == 's' && i < live->n; i++)
                if (strcmp(name + 1, live->id[i]) == 0)
                        return true;
        return false;
}

/* rmdir everything below dfd, depth first; at the top level not what
 * kept_for keeps (live may be NULL below it). Returns how many dirs were
 * kept. */
static int rm_below(int dfd, unsigned depth, const Ids *live)
{
        _cleanup_close_ int dup = -1;
        struct dirent *de;
        DIR *d;
        int r = 0, kept = 0;

        if (depth > TREE_DEPTH_MAX)
                return -ELOOP;
        dup = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dup < 0)
                return -errno;
        d = fdopendir(dup);
        if (!d)
                return -errno;
        (void)TAKE_FD(dup);
        while ((de = readdir(d))) {
                _cleanup_close_ int cfd = -1;
                int k;

                if (!child_name_ok(de))
                        continue;
                if (live && kept_for(de->d_name, live)) {
                        kept++;
                        continue;
                }
                cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd < 0)
                        continue;
                k = rm_below(cfd, depth + 1, NULL);
                if (k >= 0)
                        k = rmdir_retry(dirfd(d), de->d_name);
                if (k < 0 && r == 0)
                        r = k;
        }
        closedir(d);
        return r < 0 ? r : kept;
}

/* Split "/a/b/c" into the open parent "/a/b" and the name "c". */
static int open_parent(const CgDir *d, int *ret_fd, char *name, size_t size)
{
        CgDir parent = *d;
        char *slash = strrchr(parent.path, '/');

        if (!slash || slash == parent.path || strscpy(name, size, slash + 1) < 0)
                return -EINVAL;
        *slash = 0;
        return cg_dir_open(&parent, ret_fd);
}

/* rmdir the tree in every hierarchy, then each user dir if empty. Under
 * the user lock, where a login makes its ct/s<id> (after writing its
 * record): the dirs of sessions that are live now stay, and while any is,
 * so do ct/init and ct (a login that raced the stop is then starting a
 * new container in them). */
static int tree_remove(const CtLife *l, const CgSet *ct, uid_t uid)
{
        _cleanup_close_ int lock = -1;
        Ids live = { 0 };
        int r, k;

        r = session_lock_user(l->locks, uid, USER_LOCK_MS, &lock);
        if (r < 0)
                return r;
        r = live_session_ids(l, uid, &live);
        for (size_t i = 0; r == 0 && i < ct->n; i++) {
                _cleanup_close_ int fd = -1, pfd = -1;
                char name[NAME_MAX + 1];

                if (cg_dir_at_user(&ct->dir[i]))
                        continue; /* the user dir: no tree of its own here */
                k = cg_dir_open(&ct->dir[i], &fd);
                if (k == -ENOENT)
                        continue;
                if (k == 0)
                        k = rm_below(fd, 0, &live);
                if (k > 0)
                        continue; /* kept for a live session */
                if (k == 0)
                        k = open_parent(&ct->dir[i], &pfd, name, sizeof name);
                if (k == 0)
                        k = rmdir_retry(pfd, name);
                if (k < 0)
                        r = k;
        }
        /* the user dirs; the one marked as the user's (memory, where no
         * session has a dir of its own) last, once every other is gone */
        if (r == 0 && live.n == 0) {
                bool kept = false;

                for (int pass = 0; pass < 2 && !kept; pass++)
                        for (size_t i = 0; i < ct->n; i++) {
                                _cleanup_close_ int gfd = -1;
                                char name[NAME_MAX + 1];
                                CgDir user = ct->dir[i];

                                if (cg_dir_at_user(&user) != (pass == 1))
                                        continue;
                                if (pass == 0)
                                        *strrchr(user.path, '/') = 0;
                                if (open_parent(&user, &gfd, name, sizeof name) < 0)
                                        continue;
                                /* busy: a login-model session of the user */
                                if (unlinkat(gfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                                        kept = true;
                        }
        }
        free(live.id);
        return r;
}

/* ---- the idle state ------------------------------------------------------ */

static void idle_name(uid_t uid, char *buf, size_t size)
{
        snprintf(buf, size, "u%u.idle", (unsigned)uid);
}

int ct_idle_parse(const char *text, size_t len, CtIdleState *ret)
{
        char buf[128], *f[4], *save = NULL;
        uint64_t v[4];
        size_t n = 0;

        if (len == 0 || len >= sizeof buf || memchr(text, 0, len) || text[len - 1] != '\n')
                return -EINVAL;
        memcpy(buf, text, len - 1);
        buf[len - 1] = 0;
        for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                if (n >= 4)
                        return -EINVAL;
                f[n++] = t;
        }
        if (n != 4)
                return -EINVAL;
        for (size_t i = 0; i < 4; i++)
                if (parse_u64(f[i], &v[i]) < 0)
                        return -EINVAL;
        *ret = (CtIdleState){ .init_start = v[0], .sample_ns = v[1], .usage_ns = v[2], .active_ns = v[3] };
        return 0;
}

int ct_idle_format(const CtIdleState *s, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%llu %llu %llu %llu\n", (unsigned long long)s->init_start,
                         (unsigned long long)s->sample_ns, (unsigned long long)s->usage_ns,
                         (unsigned long long)s->active_ns);

        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

static void idle_read(int ctdir, uid_t uid, CtIdleState *ret)
{
        _cleanup_free_ char *text = NULL;
        char name[32];
        struct stat st;
        size_t len;

        memset(ret, 0, sizeof *ret);
        idle_name(uid, name, sizeof name);
        /* a state that is not ours (or unreadable) starts afresh */
        if (read_file_at(ctdir, name, 128, &text, &len, &st) < 0 || !S_ISREG(st.st_mode) ||
            st.st_uid != 0 || ct_idle_parse(text, len, ret) < 0)
                memset(ret, 0, sizeof *ret);
}

static int idle_write(int ctdir, uid_t uid, const CtIdleState *s)
{
        char name[32], text[128];
        int n = ct_idle_format(s, text, sizeof text);

        if (n < 0)
                return n;
        idle_name(uid, name, sizeof name);
        return write_file_atomic_at_nosync(ctdir, name, text, (size_t)n, 0600);
}

CtVerdict ct_idle_decide(const CtIdleInput *in, CtIdleState *s, bool *ret_busy)
{
        uint64_t now = in->now_ns;
        bool busy = false, averaged = false;

        if (s->init_start != in->init_start || s->sample_ns > now || s->active_ns > now)
                *s = (CtIdleState){ .init_start = in->init_start, .active_ns = now };
        if (!in->have_usage) {
                s->sample_ns = s->usage_ns = 0;
        } else if (s->sample_ns == 0 || in->usage_ns < s->usage_ns) {
                /* the first sample (or a counter that went back) */
                s->sample_ns = now;
                s->usage_ns = in->usage_ns;
        } else if (now - s->sample_ns >= CT_SAMPLE_MIN_NS) {
                unsigned __int128 used = in->usage_ns - s->usage_ns, span = now - s->sample_ns;

                /* CPU time per wall time, in percent of one CPU */
                busy = used * 100 >= span * in->idle_cpu;
                averaged = true;
                s->sample_ns = now;
                s->usage_ns = in->usage_ns;
        }
        if (in->live > 0 || busy)
                s->active_ns = now;
        if (ret_busy)
                *ret_busy = busy;
        if (in->live > 0 || in->linger_s == CONF_LINGER_ALWAYS)
                return CT_KEEP;
        if (in->linger_s == 0)
                return CT_STOP_NOW_LINGER;
        /* no average yet (the first sample, say of a container made and left
         * between two sweeps): whether it is busy is known at the next one */
        if (in->have_usage && !averaged)
                return CT_KEEP;
        if ((now - s->active_ns) / 1000000000ULL >= in->linger_s)
                return CT_STOP_NOW_IDLE;
        return CT_KEEP;
}

/* ---- CPU ---------------------------------------------------------------- */

static int counter_after(const char *text, const char *key, uint64_t *ret)
{
        const char *p = text;
        size_t kl = strlen(key);
        char num[24];

        for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                size_t n;

                if (strncmp(p, key, kl) != 0 || p[kl] != ' ')
                        continue;
                p += kl + 1;
                n = strcspn(p, "\n");
                if (n == 0 || n >= sizeof num)
                        return -EBADMSG;
                memcpy(num, p, n);
                num[n] = 0;
                return parse_u64(num, ret) < 0 ? -EBADMSG : 0;
        }
        return -ENODATA;
}

int ct_cpu_usage(const CgSet *set, uint64_t *ret_ns)
{
        /* v2 first: on a hybrid host the controller-less v2 hierarchy
         * counts every cgroup's CPU time (cpu.stat is a core file there) */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < set->n; i++) {
                        const CgDir *d = &set->dir[i];
                        _cleanup_close_ int fd = -1;
                        _cleanup_free_ char *t = NULL;
                        uint64_t v;
                        int r;

                        if (d->v2 != (pass == 0) || cg_dir_open(d, &fd) < 0)
                                continue;
                        if (d->v2) {
                                if (read_file_at(fd, "cpu.stat", 4096, &t, NULL, NULL) < 0 ||
                                    counter_after(t, "usage_usec", &v) < 0 || v > UINT64_MAX / 1000)
                                        continue;
                                *ret_ns = v * 1000;
                                return 0;
                        }
                        r = read_file_at(fd, "cpuacct.usage", 64, &t, NULL, NULL);
                        if (r < 0)
                                continue;
                        t[strcspn(t, "\n")] = 0;
                        if (parse_u64(t, &v) < 0)
                                continue;
                        *ret_ns = v;
                        return 0;
                }
        return -ENODATA;
}

/* ---- release and stop ------------------------------------------------- */

int ct_release(const CtLife *l, const CtRecord *r)
{
        _cleanup_close_ int ctdir = -1;
        HomeSpec hs = { .state_dir = l->global->state_dir, .run_dir = l->global->run_dir,
                        .user = r->user, .uid = r->uid, .gid = r->gid };
        char name[32];
        int k;

        k = tree_check(&r->cgroup, r->uid);
        if (k < 0)
                return k;
        /* Nothing is released while a process is left: what it holds
         * stays recorded for a later gc. */
        k = tree_count(&r->cgroup, 0);
        if (k != 0)
                return k < 0 ? k : -EBUSY;
        k = tree_remove(l, &r->cgroup, r->uid);
        if (k < 0)
                return k;
        CUBBY_FAULT("lib.ct.release.tree_removed");
        if (r->addr) {
                k = ipam_release(l->global->run_dir, r->uid, r->init_pid, r->init_start);
                if (k < 0 && k != -ENOENT)
                        return k;
        }
        /* and whatever else the container's start took under the id of the
         * session that made it (a joined session leases nothing itself) */
        (void)ipam_release_session(l->global->run_dir, r->uid, r->session);
        CUBBY_FAULT("lib.ct.release.leases_released");
        k = ct_dir_open(l->global->run_dir, false, &ctdir);
        if (k < 0)
                return k;
        idle_name(r->uid, name, sizeof name);
        (void)unlinkat(ctdir, name, 0);
        /* the record goes before the home reference: a crash between the two
         * leaves one reference too many, which gc's recount heals; the other
         * order could drop it twice, unmounting a home in use */
        k = ct_remove(ctdir, r->uid);
        if (k < 0)
                return k;
        CUBBY_FAULT("lib.ct.release.record_removed");
        k = session_home_release(l->sessions, l->locks, &hs, USER_LOCK_MS);
        return k < 0 ? k : 0;
}

/* Wait until the pidfd's process has exited, at most ms. */
static void pidfd_wait(int pidfd, int ms)
{
        struct pollfd p = { .fd = pidfd, .events = POLLIN };

        while (poll(&p, 1, ms) < 0 && errno == EINTR)
                ;
}

int ct_stop_locked(const CtLife *l, const CtRecord *r, CtStopReason reason, unsigned grace_s)
{
        _cleanup_close_ int pidfd = -1;
        uint64_t t0 = mono_ms(), deadline = t0 + (uint64_t)grace_s * 1000;
        char uid[16], ms[24], res[16], sig[16];
        bool init_alive;
        int k, r_init;

        k = tree_check(&r->cgroup, r->uid);
        if (k < 0)
                return k;
        r_init = ct_open_init(PROC_ROOT, r, &pidfd);
        init_alive = r_init == 0;
        /* SIGTERM to every process of the container but its init (which
         * ignores it), then the grace for them to exit */
        k = tree_signal(&r->cgroup, SIGTERM, init_alive ? r->init_pid : 0);
        snprintf(sig, sizeof sig, "%d", k < 0 ? 0 : k);
        CUBBY_FAULT("lib.ct.stop.terminated");
        while (k > 0 && mono_ms() < deadline) {
                int left = tree_count(&r->cgroup, init_alive ? r->init_pid : 0);

                if (left <= 0)
                        break;
                sleep_ms(20);
        }
        /* The init through its verified pidfd: the kernel then kills every
         * process of its pid namespace. */
        if (init_alive) {
                (void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                pidfd_wait(pidfd, INIT_EXIT_MS);
        }
        CUBBY_FAULT("lib.ct.stop.init_killed");
        /* What is left (the supervisors of joined sessions, which live
         * outside the pid namespace; anything of a dead init's). */
        k = tree_kill(&r->cgroup);
        if (k == 0)
                k = ct_release(l, r);

        snprintf(uid, sizeof uid, "%u", (unsigned)r->uid);
        snprintf(ms, sizeof ms, "%llu", (unsigned long long)(mono_ms() - t0));
        snprintf(res, sizeof res, "%d", k);
        log_event(k < 0 ? LOG_ERR : LOG_INFO, "container_stop", "uid", uid, "user", r->user,
                  "session", r->session, "reason", ct_stop_reason_name(reason), "init",
                  init_alive ? "alive" : "dead", "terminated", sig, "duration_ms", ms, "result",
                  res, NULL);
        life_note(l, "%s the container of %s (%s)%s%s", init_alive ? "stopped" : "reaped", r->user,
                  ct_stop_reason_name(reason), k < 0 ? ": " : "", k < 0 ? strerror(-k) : "");
        return k;
}

int ct_stop(const CtLife *l, uid_t uid, CtStopReason reason, unsigned grace_s, bool if_unused,
            const char *exclude_key)
{
        _cleanup_close_ int lock = -1, ctdir = -1;
        CtRecord *r;
        int k;

        k = ct_dir_open(l->global->run_dir, false, &ctdir);
        if (k < 0)
                return k; /* -ENOENT: no container at all */
        k = ct_lock(l->global->run_dir, uid, CT_LOCK_TIMEOUT_MS, &lock);
        if (k < 0)
                return k;
        r = malloc(sizeof *r);
        if (!r)
                return -ENOMEM;
        k = ct_read(ctdir, uid, r);
        if (k == 0 && if_unused) {
                int live = ct_live_sessions(l, uid, exclude_key);

                if (live != 0)
                        k = live < 0 ? live : -EBUSY;
        }
        if (k == 0)
                k = ct_stop_locked(l, r, reason, grace_s);
        free(r);
        return k;
}

int ct_mark_active(const CtLife *l, uid_t uid)
{
        _cleanup_close_ int lock = -1, ctdir = -1;
        CtIdleState s;
        CtRecord *r;
        int k;

        k = ct_dir_open(l->global->run_dir, false, &ctdir);
        if (k < 0)
                return k == -ENOENT ? 0 : k;
        k = ct_lock(l->global->run_dir, uid, CT_LOCK_TIMEOUT_MS, &lock);
        if (k < 0)
                return k;
        r = malloc(sizeof *r);
        if (!r)
                return -ENOMEM;
        k = ct_read(ctdir, uid, r);
        if (k == 0) {
                idle_read(ctdir, uid, &s);
                if (s.init_start != r->init_start)
                        s = (CtIdleState){ .init_start = r->init_start };
                s.active_ns = boot_ns();
                k = idle_write(ctdir, uid, &s);
        } else if (k == -ENOENT) {
                k = 0;
        }
        free(r);
        return k;
}

/* ---- the sweep ------------------------------------------------------------ */

/* The policy of the record's user now: by name (with the user's groups),
 * or, for a user that no longer exists, [default] and [user NAME]. */
static int policy_of(const Conf *conf, const CtRecord *r, ConfPolicy *ret)
{
        _cleanup_free_ char *buf = NULL;
        struct passwd pw, *res = NULL;
        size_t size = 16384;
        bool admin;

        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        if (getpwnam_r(r->user, &pw, buf, size, &res) != 0)
                return -EIO;
        if (!res || pw.pw_uid != r->uid) {
                conf_resolve(conf, r->user, NULL, 0, ret, NULL);
                return 0;
        }
        return user_policy(conf, conf->global.admin_group, &pw, &admin, ret, NULL);
}

/* "u<uid>" exactly (the record's name; not u<uid>.idle or a temp file). */
static bool record_name(const char *name, uid_t *ret)
{
        char back[16];

        if (name[0] != 'u' || parse_uid(name + 1, ret) < 0)
                return false;
        return ct_name(*ret, back, sizeof back) == 0 && strcmp(back, name) == 0;
}

typedef struct Uids {
        uid_t *u;
        size_t n, cap;
} Uids;

static int uids_add(Uids *s, uid_t uid)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->u[i] == uid)
                        return 0;
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 32;
                uid_t *nu = realloc(s->u, cap * sizeof *nu);

                if (!nu)
                        return -ENOMEM;
                s->u = nu;
                s->cap = cap;
        }
        s->u[s->n++] = uid;
        return 0;
}

/* The uids with a record in the containers dir. */
static int record_uids(int ctdir, Uids *out)
{
        _cleanup_close_ int dup = openat(ctdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (dup < 0)
                return -errno;
        d = fdopendir(dup);
        if (!d)
                return -errno;
        (void)TAKE_FD(dup);
        while (r == 0 && (de = readdir(d))) {
                uid_t uid;

                if (record_name(de->d_name, &uid))
                        r = uids_add(out, uid);
        }
        closedir(d);
        return r;
}

/* One container, under its lock; live: the sweep's count of its user's
 * sessions. 1 if it stopped or was reaped. */
static int sweep_one(const CtLife *l, const Conf *conf, int ctdir, uid_t uid, int live)
{
        _cleanup_close_ int lock = -1, pidfd = -1;
        _cleanup_free_ CtRecord *r = NULL;
        CtIdleInput in = { 0 };
        CtIdleState st;
        ConfPolicy *pol = NULL;
        CtVerdict v;
        int k;

        /* busy: a login is creating or joining it, or a stop runs */
        if (ct_lock(l->global->run_dir, uid, l->lock_ms ? l->lock_ms : SWEEP_LOCK_MS, &lock) < 0)
                return 0;
        r = malloc(sizeof *r);
        if (!r)
                return -ENOMEM;
        k = ct_read(ctdir, uid, r);
        if (k == -ENOENT)
                return 0;
        if (k < 0) {
                life_note(l, "cannot read the container record of uid %u: %s", (unsigned)uid,
                          strerror(-k));
                return 0; /* for an admin to look at, never guessed at */
        }
        k = ct_open_init(PROC_ROOT, r, &pidfd);
        if (k == -ESRCH || k == -ESTALE) {
                k = ct_stop_locked(l, r, CT_STOP_GC, 0);
                return k < 0 ? k : 1;
        }
        if (k < 0 || !conf)
                return 0;
        pol = malloc(sizeof *pol);
        if (!pol)
                return -ENOMEM;
        k = policy_of(conf, r, pol);
        if (k < 0) {
                free(pol);
                return 0; /* decided at the next sweep */
        }
        in = (CtIdleInput){ .now_ns = boot_ns(), .init_start = r->init_start,
                            .linger_s = pol->linger_s, .idle_cpu = pol->idle_cpu };
        in.live = live;
        in.have_usage = ct_cpu_usage(&r->cgroup, &in.usage_ns) == 0;
        idle_read(ctdir, uid, &st);
        v = ct_idle_decide(&in, &st, NULL);
        if (v != CT_KEEP) {
                /* counted again under the lock: a login that came since the
                 * sweep's count keeps it */
                in.live = ct_live_sessions(l, uid, NULL);
                if (in.live != 0) {
                        in.live = in.live < 0 ? 1 : in.live;
                        v = ct_idle_decide(&in, &st, NULL);
                }
        }
        (void)idle_write(ctdir, uid, &st);
        k = 0;
        if (v != CT_KEEP) {
                k = ct_stop_locked(l, r, v == CT_STOP_NOW_LINGER ? CT_STOP_LINGER : CT_STOP_IDLE,
                                   (unsigned)pol->stop_grace_s);
                k = k < 0 ? k : 1;
        }
        free(pol);
        return k;
}

int ct_sweep(const CtLife *l, const Conf *conf, unsigned *ret_stopped)
{
        _cleanup_close_ int ctdir = -1;
        Uids uids = { 0 };
        _cleanup_free_ int *live = NULL;
        unsigned stopped = 0;
        int r, first = 0;

        if (ret_stopped)
                *ret_stopped = 0;
        r = ct_dir_open(l->global->run_dir, false, &ctdir);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = record_uids(ctdir, &uids);
        if (r == 0 && uids.n > 0) {
                live = calloc(uids.n, sizeof *live);
                if (!live)
                        r = -ENOMEM;
        }
        /* the sweep's estimate, each user's records only (a stop is
         * decided on a count under the container lock) */
        for (size_t i = 0; r == 0 && i < uids.n; i++) {
                int k = ct_live_sessions(l, uids.u[i], NULL);

                if (k < 0)
                        r = k;
                else
                        live[i] = k;
        }
        for (size_t i = 0; r == 0 && i < uids.n; i++) {
                int k = sweep_one(l, conf, ctdir, uids.u[i], live[i]);

                if (k > 0)
                        stopped++;
                else if (k < 0 && first == 0)
                        first = k;
        }
        free(uids.u);
        (void)remove_stale_temp_files(ctdir);
        if (ret_stopped)
                *ret_stopped = stopped;
        return r < 0 ? r : first;
}

/* ---- gc of unrecorded trees ------------------------------------------------ */

int ct_gc_orphans(const CtLife *l)
{
        CgSet user, sess;
        Uids uids = { 0 };
        int r, n = 0;

        r = cg_paths(l->global->cgroup_parent, 0, 0, "0000000000000000", &user, &sess);
        if (r < 0)
                return r;
        /* the u<uid> dirs in every hierarchy's parent dir */
        for (size_t i = 0; i < user.n && r == 0; i++) {
                CgDir parent = user.dir[i];
                _cleanup_close_ int pfd = -1;
                struct dirent *de;
                DIR *d;

                *strrchr(parent.path, '/') = 0;
                if (cg_dir_open(&parent, &pfd) < 0)
                        continue;
                d = fdopendir(pfd);
                if (!d)
                        continue;
                (void)TAKE_FD(pfd);
                while (r == 0 && (de = readdir(d))) {
                        struct stat st;
                        uid_t uid;

                        if (!record_name(de->d_name, &uid))
                                continue;
                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                            !S_ISDIR(st.st_mode))
                                continue;
                        {
                                char ct[NAME_MAX + 8];

                                snprintf(ct, sizeof ct, "%s/ct", de->d_name);
                                if (fstatat(dirfd(d), ct, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                                    !S_ISDIR(st.st_mode))
                                        continue;
                        }
                        r = uids_add(&uids, uid);
                }
                closedir(d);
        }
        for (size_t i = 0; r == 0 && i < uids.n; i++) {
                _cleanup_close_ int lock = -1, ctdir = -1;
                uid_t uid = uids.u[i];
                CgSet u, s, ct;
                char uidt[16], res[16];
                int k;

                /* Under the container lock: a container being made now has
                 * its tree before its record, and holds this lock. */
                if (ct_lock(l->global->run_dir, uid, CT_LOCK_TIMEOUT_MS, &lock) < 0)
                        continue;
                k = ct_dir_open(l->global->run_dir, false, &ctdir);
                if (k == 0) {
                        char name[16];

                        (void)ct_name(uid, name, sizeof name);
                        if (faccessat(ctdir, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
                                continue; /* recorded (the sweep's), or cannot tell */
                } else if (k != -ENOENT) {
                        continue;
                }
                /* unrecorded: it may be older than the rule that the
                 * container joins the user's memory dir, so its own u/ct
                 * there (if any) is taken too */
                if (cg_paths(l->global->cgroup_parent, 0, uid, "0000000000000000", &u, &s) < 0 ||
                    ct_cgroup_set(&u, &ct) < 0 || cg_set_unjoin(&ct, "ct") < 0)
                        continue;
                k = tree_signal(&ct, SIGKILL, 0);
                if (k >= 0)
                        k = tree_kill(&ct);
                if (k >= 0)
                        k = tree_remove(l, &ct, uid);
                snprintf(uidt, sizeof uidt, "%u", (unsigned)uid);
                snprintf(res, sizeof res, "%d", k < 0 ? k : 0);
                log_event(k < 0 ? LOG_ERR : LOG_INFO, "container_stop", "uid", uidt, "reason",
                          "gc", "what", "unrecorded cgroup", "result", res, NULL);
                life_note(l, "gc: %s the unrecorded container cgroup of uid %u%s%s",
                          k < 0 ? "cannot remove" : "removed", (unsigned)uid, k < 0 ? ": " : "",
                          k < 0 ? strerror(-k) : "");
                if (k >= 0)
                        n++;
        }
        free(uids.u);
        return r < 0 ? r : n;
}

int ct_exists(const char *run_dir, uid_t uid)
{
        _cleanup_close_ int ctdir = -1;
        char name[16];
        int r = ct_dir_open(run_dir, false, &ctdir);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = ct_name(uid, name, sizeof name);
        if (r < 0)
                return r;
        if (faccessat(ctdir, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 1;
        return errno == ENOENT ? 0 : -errno;
}

int ct_any(const char *run_dir)
{
        _cleanup_close_ int ctdir = -1;
        Uids uids = { 0 };
        int r = ct_dir_open(run_dir, false, &ctdir);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = record_uids(ctdir, &uids);
        free(uids.u);
        return r < 0 ? r : uids.n > 0;
}
