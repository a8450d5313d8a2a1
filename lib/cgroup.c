/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubby's cgroups.
 *
 * Theory of operation. The caller (the PAM module, as root) asks cg_paths
 * for the user and session directories in every hierarchy cubby uses, found
 * from /proc/self/mountinfo; only hierarchies mounted at or below
 * /sys/fs/cgroup count, so every path here is under it. cg_create makes the
 * tree and writes the user's limits before the session directory exists, so
 * no process ever runs unlimited. The helper opens the session directories
 * (cg_attach_open) before clone3: the child enters the v2 one through
 * CLONE_INTO_CGROUP and moves itself into each v1 one by writing "0" into
 * the "tasks" file the parent opened. At close, cg_kill empties the session
 * (cgroup.kill, or the v1 freezer, or a bounded kill loop) and cg_remove
 * deletes it, and the user level once the last session is gone.
 *
 * Every directory is reached by walking its path from "/" with O_NOFOLLOW
 * and checked to be on a cgroup file system before anything is created,
 * written or removed in it; paths from records pass cg_dir_parse first.
 * Nothing here logs; every function returns 0 or -errno. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>

#include "cubby/cgroup.h"
#include "cubby/fault.h"
#include "cubby/util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif

#define CG_ROOT "/sys/fs/cgroup"
#define CG_PERIOD_US 100000
#define CG_SID_MAX 64
#define CG_CTRL_LIMITS (CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS)
#define CG_CTRL_ALL (CG_CTRL_LIMITS | CG_CTRL_FREEZER | CG_CTRL_NONE_V2 | CG_CTRL_CPUSET)
#define CPUS_ARG_MAX 256
/* a cpuset.cpus or cpuset.mems value as the kernel prints it */
#define CPUSET_KNOB_MAX (64u << 10)
#define MOUNTINFO_MAX (4u << 20)
#define PROC_CGROUP_MAX (64u << 10)
#define PROCS_MAX (4u << 20)
#define KILL_CHUNK 256
#define CREATE_ATTEMPTS 3
#define BACKOFF_START_NS 100000L
#define BACKOFF_MAX_NS 10000000L

static const struct {
        const char *name;
        unsigned bit;
} ctrl_names[] = {
        { "cpu", CG_CTRL_CPU },
        { "memory", CG_CTRL_MEMORY },
        { "pids", CG_CTRL_PIDS },
        { "freezer", CG_CTRL_FREEZER },
        { "cpuset", CG_CTRL_CPUSET },
};

/* One mounted hierarchy: where it is mounted, and which of its cgroups is
 * the root of that mount (not "/" inside a container's cgroup namespace). */
typedef struct CgHier {
        bool v2;
        unsigned ctrl;
        uint64_t mount_id, parent_id;
        char mnt[PATH_MAX];
        char root[PATH_MAX];
} CgHier;

typedef struct CgLayout {
        size_t n;
        CgHier h[CG_MAX_DIRS];
} CgLayout;

/* ---- pure helpers ---------------------------------------------------- */

/* p is dir or below it (both absolute, normalised). */
static bool path_is_under(const char *p, const char *dir)
{
        size_t n = strlen(dir);

        if (strcmp(dir, "/") == 0)
                return true;
        return strncmp(p, dir, n) == 0 && (p[n] == '/' || p[n] == 0);
}

static bool cg_path_ok(const char *p)
{
        if (!path_is_normalized_absolute(p) || strncmp(p, CG_ROOT "/", strlen(CG_ROOT "/")) != 0)
                return false;
        for (const char *c = p; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return false;
        return true;
}

static bool sid_ok(const char *sid)
{
        size_t n;

        if (!sid)
                return false;
        n = strlen(sid);
        return n > 0 && n <= CG_SID_MAX && strspn(sid, "0123456789abcdef") == n;
}

/* Bits of the controller names in a list separated by sep ("rw,cpu,cpuacct"
 * or "cpu io memory pids"). Only whole names count. */
static unsigned ctrl_bits_of_list(const char *s, size_t len, char sep)
{
        unsigned bits = 0;
        const char *end = s + len;

        while (s < end) {
                const char *e = memchr(s, sep, (size_t)(end - s));
                size_t l;

                if (!e)
                        e = end;
                l = (size_t)(e - s);
                for (size_t i = 0; i < ELEMENTSOF(ctrl_names); i++)
                        if (strlen(ctrl_names[i].name) == l && memcmp(ctrl_names[i].name, s, l) == 0)
                                bits |= ctrl_names[i].bit;
                s = e + 1;
        }
        return bits;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static int unescape_field(const char *s, size_t len, char *ret, size_t size)
{
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                char c = s[i];

                if (c == '\\') {
                        if (i + 3 >= len || s[i + 1] < '0' || s[i + 1] > '3' || s[i + 2] < '0' ||
                            s[i + 2] > '7' || s[i + 3] < '0' || s[i + 3] > '7')
                                return -EINVAL;
                        c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
                        i += 3;
                }
                if (o + 1 >= size)
                        return -ENAMETOOLONG;
                ret[o++] = c;
        }
        ret[o] = 0;
        return 0;
}

/* Forget hierarchies hidden by a later mount at or above their mount point
 * (mountinfo lists mounts in the order they were attached), except by the
 * mount they sit on: a tmpfs at /sys/fs/cgroup is the parent of the v1
 * mounts, whatever order the lines come in. */
static void layout_hide_below(CgLayout *l, const char *mnt, uint64_t mount_id)
{
        size_t j = 0;

        for (size_t i = 0; i < l->n; i++) {
                if (path_is_under(l->h[i].mnt, mnt) && l->h[i].parent_id != mount_id)
                        continue;
                if (i != j)
                        l->h[j] = l->h[i];
                j++;
        }
        l->n = j;
}

static int layout_parse_line(CgLayout *l, const char *line, size_t len)
{
        /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
        const char *f[64];
        size_t fl[64], nf = 0, sep = 0;
        const char *p = line, *end = line + len;
        char mnt[PATH_MAX], root[PATH_MAX];
        char num[24];
        uint64_t mount_id, parent_id;
        unsigned v1_bits = 0, bits;
        bool v2;
        int r;

        while (p < end && nf < ELEMENTSOF(f)) {
                const char *e = memchr(p, ' ', (size_t)(end - p));

                if (!e)
                        e = end;
                f[nf] = p;
                fl[nf] = (size_t)(e - p);
                if (nf >= 6 && !sep && fl[nf] == 1 && *p == '-')
                        sep = nf;
                nf++;
                p = e + 1;
        }
        if (!sep || sep + 3 >= nf)
                return -EINVAL;
        for (size_t k = 0; k < 2; k++) {
                if (fl[k] == 0 || fl[k] >= sizeof num)
                        return -EINVAL;
                memcpy(num, f[k], fl[k]);
                num[fl[k]] = 0;
                r = parse_u64(num, k == 0 ? &mount_id : &parent_id);
                if (r < 0)
                        return r;
        }
        r = unescape_field(f[4], fl[4], mnt, sizeof mnt);
        if (r < 0)
                return r;
        if (!path_is_normalized_absolute(mnt))
                return -EINVAL;
        layout_hide_below(l, mnt, mount_id);
        if (!path_is_under(mnt, CG_ROOT))
                return 0;

        if (fl[sep + 1] == 7 && memcmp(f[sep + 1], "cgroup2", 7) == 0)
                v2 = true;
        else if (fl[sep + 1] == 6 && memcmp(f[sep + 1], "cgroup", 6) == 0)
                v2 = false;
        else
                return 0;

        r = unescape_field(f[3], fl[3], root, sizeof root);
        if (r < 0)
                return r;
        if (!path_is_normalized_absolute(root))
                return -EINVAL;

        for (size_t i = 0; i < l->n; i++)
                if (!l->h[i].v2)
                        v1_bits |= l->h[i].ctrl;
        if (v2) {
                for (size_t i = 0; i < l->n; i++)
                        if (l->h[i].v2)
                                return 0; /* the same hierarchy mounted twice: first wins */
                bits = 0;
        } else {
                bits = ctrl_bits_of_list(f[sep + 3], fl[sep + 3], ',');
                if (bits == 0 || (bits & v1_bits))
                        return 0; /* not ours, or a second mount of one we have */
        }
        if (l->n >= CG_MAX_DIRS)
                return -E2BIG;
        l->h[l->n].v2 = v2;
        l->h[l->n].ctrl = bits;
        l->h[l->n].mount_id = mount_id;
        l->h[l->n].parent_id = parent_id;
        memcpy(l->h[l->n].mnt, mnt, sizeof mnt);
        memcpy(l->h[l->n].root, root, sizeof root);
        l->n++;
        return 0;
}

static int layout_parse(const char *mountinfo, CgLayout *l)
{
        const char *p = mountinfo;

        l->n = 0;
        while (*p) {
                const char *e = strchrnul(p, '\n');
                int r;

                if (e > p) {
                        r = layout_parse_line(l, p, (size_t)(e - p));
                        if (r < 0)
                                return r;
                }
                p = *e ? e + 1 : e;
        }
        return l->n > 0 ? 0 : -ENOMEDIUM;
}

/* Which of cubby's controllers the v2 hierarchy carries: those its root
 * lists in cgroup.controllers (a controller bound to v1 is never listed).
 * Without any it is the controller-less hierarchy of a hybrid host, used
 * for membership and cgroup.kill only. */
static void layout_apply_v2(CgLayout *l, const char *v2_controllers)
{
        for (size_t i = 0; i < l->n; i++) {
                CgHier *h = &l->h[i];

                if (!h->v2)
                        continue;
                h->ctrl = v2_controllers ? ctrl_bits_of_list(v2_controllers, strcspn(v2_controllers, "\n"),
                                                             ' ') &
                                                   CG_CTRL_LIMITS
                                         : 0;
                if (h->ctrl == 0)
                        h->ctrl = CG_CTRL_NONE_V2;
        }
}

/* The path of the cgroup of hierarchy h in the text of /proc/PID/cgroup:
 * "0::/path" for v2, "N:ctrl,ctrl:/path" for v1 (matched by controller). */
static int proc_cgroup_lookup(const char *text, const CgHier *h, char *ret, size_t size)
{
        const char *p = text;

        while (*p) {
                const char *e = strchrnul(p, '\n');
                const char *c1 = memchr(p, ':', (size_t)(e - p)), *c2;
                bool match;

                if (!c1)
                        return -EINVAL;
                c2 = memchr(c1 + 1, ':', (size_t)(e - c1 - 1));
                if (!c2)
                        return -EINVAL;
                if (h->v2)
                        match = c1 - p == 1 && *p == '0' && c2 == c1 + 1;
                else
                        match = (ctrl_bits_of_list(c1 + 1, (size_t)(c2 - c1 - 1), ',') & h->ctrl) != 0;
                if (match) {
                        size_t n = (size_t)(e - c2 - 1);

                        if (n + 1 > size)
                                return -ENAMETOOLONG;
                        memcpy(ret, c2 + 1, n);
                        ret[n] = 0;
                        return path_is_normalized_absolute(ret) ? 0 : -EINVAL;
                }
                p = *e ? e + 1 : e;
        }
        return -ENOENT;
}

static int paths_build(const CgLayout *l, const char *proc_cgroup, const char *parent_spec, uid_t uid,
                       const char *sid, CgSet *ret_user, CgSet *ret_session)
{
        char spec[PATH_MAX], cg[PATH_MAX], parent[PATH_MAX];
        bool relative;
        CgSet *u, *s;
        int r;

        if (!parent_spec || uid == (uid_t)-1 || !sid_ok(sid))
                return -EINVAL;
        if (parent_spec[0] == '/') {
                relative = false;
                r = strscpy(spec, sizeof spec, parent_spec);
        } else if (strncmp(parent_spec, "./", 2) == 0 && parent_spec[2]) {
                relative = true;
                r = strscpy(spec, sizeof spec, parent_spec + 1);
        } else
                return -EINVAL;
        if (r < 0)
                return r;
        if (!path_is_normalized_absolute(spec))
                return -EINVAL;
        if (relative && !proc_cgroup)
                return -EINVAL;

        u = calloc(1, sizeof *u);
        s = calloc(1, sizeof *s);
        if (!u || !s) {
                free(u);
                free(s);
                return -ENOMEM;
        }
        for (size_t i = 0; i < l->n; i++) {
                const CgHier *h = &l->h[i];
                const char *sub = "";
                int n;

                if (relative) {
                        r = proc_cgroup_lookup(proc_cgroup, h, cg, sizeof cg);
                        if (r < 0)
                                goto fail;
                        /* Only a cgroup inside what this mount shows can be reached. */
                        if (!path_is_under(cg, h->root)) {
                                r = -ENOENT;
                                goto fail;
                        }
                        sub = cg + (strcmp(h->root, "/") == 0 ? 0 : strlen(h->root));
                }
                n = snprintf(parent, sizeof parent, "%s%s%s", h->mnt, strcmp(sub, "/") == 0 ? "" : sub,
                             strcmp(spec, "/") == 0 ? "" : spec);
                if (n < 0 || (size_t)n >= sizeof parent) {
                        r = -ENAMETOOLONG;
                        goto fail;
                }
                u->dir[i].v2 = s->dir[i].v2 = h->v2;
                u->dir[i].ctrl = s->dir[i].ctrl = h->ctrl;
                n = snprintf(u->dir[i].path, sizeof u->dir[i].path, "%s/u%u", parent, (unsigned)uid);
                if (n < 0 || (size_t)n >= sizeof u->dir[i].path) {
                        r = -ENAMETOOLONG;
                        goto fail;
                }
                n = snprintf(s->dir[i].path, sizeof s->dir[i].path, "%s/s%s", u->dir[i].path, sid);
                if (n < 0 || (size_t)n >= sizeof s->dir[i].path) {
                        r = -ENAMETOOLONG;
                        goto fail;
                }
                if (!cg_path_ok(u->dir[i].path) || !cg_path_ok(s->dir[i].path)) {
                        r = -EINVAL;
                        goto fail;
                }
        }
        u->n = s->n = l->n;
        *ret_user = *u;
        *ret_session = *s;
        r = 0;
fail:
        free(u);
        free(s);
        return r;
}

int cg_paths_from_text(const char *mountinfo, const char *proc_cgroup, const char *v2_controllers,
                       const char *parent_spec, uid_t uid, const char *sid, CgSet *ret_user,
                       CgSet *ret_session)
{
        _cleanup_free_ CgLayout *l = NULL;
        int r;

        if (!mountinfo)
                return -EINVAL;
        l = malloc(sizeof *l);
        if (!l)
                return -ENOMEM;
        r = layout_parse(mountinfo, l);
        if (r < 0)
                return r;
        layout_apply_v2(l, v2_controllers);
        return paths_build(l, proc_cgroup, parent_spec, uid, sid, ret_user, ret_session);
}

/* ---- directories by fd ----------------------------------------------- */

static int fd_is_cgroupfs(int fd, bool v2)
{
        struct statfs sf;

        if (fstatfs(fd, &sf) < 0)
                return -errno;
        if ((unsigned long)sf.f_type != (v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC))
                return -ENOMEDIUM;
        return 0;
}

static int open_child_dir(int dfd, const char *name)
{
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

/* Enable cubby's controllers for the children of dfd where this cgroup has
 * them available and they are not on yet. One write per controller, so a
 * controller the kernel refuses is reported by name (errno) and not hidden
 * by an all-or-nothing write. */
static int enable_controllers(int dfd, unsigned want)
{
        _cleanup_free_ char *avail = NULL, *on = NULL;
        unsigned have, enabled;
        int r;

        want &= CG_CTRL_LIMITS | CG_CTRL_CPUSET;
        if (!want)
                return 0;
        r = read_file_at(dfd, "cgroup.controllers", 4096, &avail, NULL, NULL);
        if (r < 0)
                return r;
        r = read_file_at(dfd, "cgroup.subtree_control", 4096, &on, NULL, NULL);
        if (r < 0)
                return r;
        have = ctrl_bits_of_list(avail, strcspn(avail, "\n"), ' ');
        enabled = ctrl_bits_of_list(on, strcspn(on, "\n"), ' ');
        /* cpuset is only asked for when cpus is set: a session must not
         * run without the CPU list it was promised. */
        if ((want & CG_CTRL_CPUSET) && !(have & CG_CTRL_CPUSET))
                return -EOPNOTSUPP;
        for (size_t i = 0; i < ELEMENTSOF(ctrl_names); i++) {
                char cmd[32];

                if (!(want & have & ctrl_names[i].bit) || (enabled & ctrl_names[i].bit))
                        continue;
                snprintf(cmd, sizeof cmd, "+%s", ctrl_names[i].name);
                r = write_string_at(dfd, "cgroup.subtree_control", cmd);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cpuset_v1_fill_if_empty(int pfd, int dfd, bool created);

/* Open the directory path (absolute, normalised) by walking it from "/"
 * without following symlinks. With create, missing components are made,
 * but only inside a cgroup file system of the expected version; v2
 * controllers (enable) are switched on in each created component and in
 * the last one, top-down, so each child sees them available. On v1 with
 * CG_CTRL_CPUSET in enable, each component made (or found with no CPUs)
 * gets its parent's cpuset.mems and cpuset.cpus. The result is checked to
 * be on the cgroup file system. */
static int walk_dir(const char *path, bool v2, bool create, unsigned enable, int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        const char *p = path;
        int r;

        if (!path_is_normalized_absolute(path))
                return -EINVAL;
        fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (*p == '/' && p[1]) {
                char comp[NAME_MAX + 1];
                const char *e = strchrnul(p + 1, '/');
                size_t n = (size_t)(e - p - 1);
                bool created = false;
                int nfd;

                if (n > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(comp, p + 1, n);
                comp[n] = 0;
                nfd = open_child_dir(fd, comp);
                if (nfd == -ENOENT && create) {
                        r = fd_is_cgroupfs(fd, v2);
                        if (r < 0)
                                return r;
                        if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        created = true;
                        nfd = open_child_dir(fd, comp);
                }
                if (nfd < 0)
                        return nfd;
                if (!v2 && create && (enable & CG_CTRL_CPUSET)) {
                        r = cpuset_v1_fill_if_empty(fd, nfd, created);
                        if (r < 0) {
                                close(nfd);
                                return r;
                        }
                }
                closep(&fd);
                fd = nfd;
                p = e;
                if (v2 && enable && (created || !*p)) {
                        r = enable_controllers(fd, enable);
                        if (r < 0)
                                return r;
                }
        }
        r = fd_is_cgroupfs(fd, v2);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Split "/a/b/c" into the open parent "/a/b" and the name "c". */
static int open_parent(const CgDir *d, int *ret_fd, const char **ret_base)
{
        char parent[PATH_MAX];
        const char *slash;

        if (!cg_path_ok(d->path))
                return -EINVAL;
        slash = strrchr(d->path, '/');
        memcpy(parent, d->path, (size_t)(slash - d->path));
        parent[slash - d->path] = 0;
        *ret_base = slash + 1;
        return walk_dir(parent, d->v2, false, 0, ret_fd);
}

static int open_cg_dir(const CgDir *d, int *ret_fd)
{
        if (!cg_path_ok(d->path))
                return -EINVAL;
        return walk_dir(d->path, d->v2, false, 0, ret_fd);
}

/* user->dir[i] and session->dir[i] are the same hierarchy, the session one
 * exactly one level below. */
static int sets_check(const CgSet *user, const CgSet *session)
{
        if (!user || !session || user->n != session->n || user->n == 0 || user->n > CG_MAX_DIRS)
                return -EINVAL;
        for (size_t i = 0; i < user->n; i++) {
                const CgDir *u = &user->dir[i], *s = &session->dir[i];
                size_t n = strlen(u->path);

                if (!cg_path_ok(u->path) || !cg_path_ok(s->path) || u->v2 != s->v2 ||
                    strncmp(s->path, u->path, n) != 0 || s->path[n] != '/' || strchr(s->path + n + 1, '/'))
                        return -EINVAL;
        }
        return 0;
}

static int set_check(const CgSet *set)
{
        if (!set || set->n > CG_MAX_DIRS)
                return -EINVAL;
        for (size_t i = 0; i < set->n; i++)
                if (!cg_path_ok(set->dir[i].path))
                        return -EINVAL;
        return 0;
}

/* ---- limits ---------------------------------------------------------- */

static int knob_exists(int dfd, const char *name)
{
        struct stat st;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

/* Write a limit knob. A missing knob is fine when there is nothing to
 * limit, and refused (-EOPNOTSUPP) when a limit was asked for: a session
 * must never run without the budget it was promised. If the whole directory
 * vanished (a concurrent cg_remove), -ENOENT lets cg_create retry. */
static int knob_write(int dfd, const char *name, const char *val, bool limited)
{
        int r = write_string_at(dfd, name, val);

        if (r != -ENOENT)
                return r;
        if (knob_exists(dfd, "cgroup.procs") == 0)
                return -ENOENT;
        return limited ? -EOPNOTSUPP : 0;
}

static void fmt_u64(char *buf, size_t size, uint64_t v, const char *unlimited)
{
        if (v == UINT64_MAX)
                snprintf(buf, size, "%s", unlimited);
        else
                snprintf(buf, size, "%llu", (unsigned long long)v);
}

static int limits_cpu(int dfd, bool v2, uint64_t milli)
{
        bool limited = milli != UINT64_MAX;
        char q[32], buf[64];
        int r;

        /* quota = milli * period / 1000; v1 keeps quotas in a signed long long */
        if (limited && milli > (uint64_t)INT64_MAX / (CG_PERIOD_US / 1000))
                return -ERANGE;
        if (limited)
                snprintf(q, sizeof q, "%llu", (unsigned long long)(milli * (CG_PERIOD_US / 1000)));
        if (v2) {
                snprintf(buf, sizeof buf, "%s %d", limited ? q : "max", CG_PERIOD_US);
                return knob_write(dfd, "cpu.max", buf, limited);
        }
        snprintf(buf, sizeof buf, "%d", CG_PERIOD_US);
        r = knob_write(dfd, "cpu.cfs_period_us", buf, limited);
        if (r < 0)
                return r;
        return knob_write(dfd, "cpu.cfs_quota_us", limited ? q : "-1", limited);
}

static int limits_memory_v1(int dfd, uint64_t mem, uint64_t swap)
{
        _cleanup_free_ char *cur_s = NULL;
        uint64_t cur, memsw;
        char m[32], ms[32];
        int r;

        fmt_u64(m, sizeof m, mem, "-1");
        r = knob_exists(dfd, "memory.memsw.limit_in_bytes");
        if (r < 0)
                return r;
        /* Without swap accounting (swapaccount=0) there is no memory+swap
         * knob and swap cannot be limited on v1: memory alone is. */
        if (r == 0)
                return knob_write(dfd, "memory.limit_in_bytes", m, mem != UINT64_MAX);

        if (mem == UINT64_MAX || swap == UINT64_MAX || mem > UINT64_MAX - 1 - swap)
                memsw = UINT64_MAX;
        else
                memsw = mem + swap;
        fmt_u64(ms, sizeof ms, memsw, "-1");

        /* v1 refuses memory.limit_in_bytes > memory.memsw.limit_in_bytes in
         * either write: raise memsw first, lower memory first. */
        r = read_file_at(dfd, "memory.limit_in_bytes", 64, &cur_s, NULL, NULL);
        if (r < 0)
                return r == -ENOENT ? -EOPNOTSUPP : r;
        cur_s[strcspn(cur_s, "\n")] = 0;
        r = parse_u64(cur_s, &cur);
        if (r < 0)
                return r;
        if (mem >= cur) {
                r = knob_write(dfd, "memory.memsw.limit_in_bytes", ms, memsw != UINT64_MAX);
                if (r < 0)
                        return r;
                return knob_write(dfd, "memory.limit_in_bytes", m, mem != UINT64_MAX);
        }
        r = knob_write(dfd, "memory.limit_in_bytes", m, true);
        if (r < 0)
                return r;
        return knob_write(dfd, "memory.memsw.limit_in_bytes", ms, memsw != UINT64_MAX);
}

static int limits_memory_v2(int dfd, uint64_t mem, uint64_t swap)
{
        char m[32], s[32];
        int r;

        fmt_u64(m, sizeof m, mem, "max");
        fmt_u64(s, sizeof s, swap, "max");
        r = knob_write(dfd, "memory.max", m, mem != UINT64_MAX);
        if (r < 0)
                return r;
        /* memory.swap.max is absent without swap accounting; as on v1, the
         * memory limit then stands alone. */
        if (knob_exists(dfd, "memory.max") > 0 && knob_exists(dfd, "memory.swap.max") == 0)
                return 0;
        return knob_write(dfd, "memory.swap.max", s, swap != UINT64_MAX);
}

/* ---- cpuset ---------------------------------------------------------- */

/* limits->cpus, "" when not set; -EINVAL unless digits, ',' and '-' (the
 * policy parser checks the grammar; the kernel has the last word). */
static int cpus_arg(const CgLimits *l, const char **ret)
{
        const char *c = l->cpus ? l->cpus : "";
        size_t n = strnlen(c, CPUS_ARG_MAX + 1);

        if (n > CPUS_ARG_MAX || strspn(c, "0123456789,-") != n)
                return -EINVAL;
        *ret = c;
        return 0;
}

static bool set_has_v1_cpuset(const CgSet *set)
{
        for (size_t i = 0; i < set->n; i++)
                if (!set->dir[i].v2 && (set->dir[i].ctrl & CG_CTRL_CPUSET))
                        return true;
        return false;
}

static int cpuset_read(int dfd, const char *name, char **ret)
{
        int r = read_file_at(dfd, name, CPUSET_KNOB_MAX, ret, NULL, NULL);

        return r == -ENOENT && knob_exists(dfd, "cgroup.procs") > 0 ? -EOPNOTSUPP : r;
}

/* Copy a v1 cpuset knob from the dir pfd to its child dfd. */
static int cpuset_copy(int pfd, int dfd, const char *name)
{
        _cleanup_free_ char *v = NULL;
        int r = cpuset_read(pfd, name, &v);

        if (r < 0)
                return r;
        return knob_write(dfd, name, v, true);
}

/* A new v1 cpuset dir has empty cpuset.cpus and cpuset.mems, and no task
 * may enter it (ENOSPC) until both are set: give it its parent's. */
static int cpuset_v1_inherit(int pfd, int dfd)
{
        int r = cpuset_copy(pfd, dfd, "cpuset.mems");

        if (r < 0)
                return r;
        return cpuset_copy(pfd, dfd, "cpuset.cpus");
}

/* For walk_dir: a component it made, or one with no CPUs (made by another
 * login a moment ago that has not filled it yet; nobody can be in it). A
 * component without the knob is no cpuset dir (/sys, the tmpfs). */
static int cpuset_v1_fill_if_empty(int pfd, int dfd, bool created)
{
        _cleanup_free_ char *v = NULL;
        int r;

        if (!created) {
                r = read_file_at(dfd, "cpuset.cpus", CPUSET_KNOB_MAX, &v, NULL, NULL);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
                if (v[strspn(v, " \n")] != 0)
                        return 0;
        }
        r = fd_is_cgroupfs(dfd, false);
        if (r < 0)
                return r;
        return cpuset_v1_inherit(pfd, dfd);
}

static void closedirp(DIR **d)
{
        if (*d)
                (void)closedir(*d);
}

/* Set cpuset.cpus in every session dir (s<sid>) of the v1 user dir dfd
 * that does not have it yet. */
static int cpuset_v1_sessions(int dfd, const char *cpus)
{
        _cleanup_(closedirp) DIR *d = NULL;
        int fd;

        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -ENOMEM;
        }
        for (;;) {
                _cleanup_close_ int sfd = -1;
                _cleanup_free_ char *cur = NULL;
                struct dirent *de;
                int r;

                errno = 0;
                de = readdir(d);
                if (!de)
                        return -errno;
                if (de->d_type != DT_DIR || de->d_name[0] != 's' || !sid_ok(de->d_name + 1))
                        continue;
                sfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sfd < 0 && errno == ENOENT)
                        continue; /* removed meanwhile */
                if (sfd < 0)
                        return -errno;
                r = read_file_at(sfd, "cpuset.cpus", CPUSET_KNOB_MAX, &cur, NULL, NULL);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                /* an equal write would be a no-op for the kernel too */
                if (strcmp(cur, cpus) == 0)
                        continue;
                r = write_string_at(sfd, "cpuset.cpus", cpus);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
}

/* The user dir dfd of a v1 cpuset hierarchy: mems from its parent, cpus
 * from the policy or else the parent's, and the same cpus in the user's
 * session dirs (on v2 they would inherit them). When a session has CPUs
 * outside the new list (the policy changed), v1 refuses to narrow the user
 * dir (EBUSY): it is widened to the parent's CPUs, the sessions are set,
 * then the user dir. */
static int cpuset_v1_user(int dfd, const char *cpus)
{
        _cleanup_close_ int pfd = -1;
        _cleanup_free_ char *pcpus = NULL, *now = NULL;
        int r;

        pfd = openat(dfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0)
                return -errno;
        r = fd_is_cgroupfs(pfd, false);
        if (r < 0)
                return r;
        r = cpuset_read(pfd, "cpuset.cpus", &pcpus);
        if (r < 0)
                return r;
        r = cpuset_copy(pfd, dfd, "cpuset.mems");
        if (r < 0)
                return r;
        r = knob_write(dfd, "cpuset.cpus", *cpus ? cpus : pcpus, true);
        if (r == -EBUSY) {
                r = knob_write(dfd, "cpuset.cpus", pcpus, true);
                if (r < 0)
                        return r;
                r = cpuset_v1_sessions(dfd, *cpus ? cpus : pcpus);
                if (r < 0)
                        return r;
                return knob_write(dfd, "cpuset.cpus", *cpus ? cpus : pcpus, true);
        }
        if (r < 0)
                return r;
        /* as the kernel prints it, to compare with the sessions' */
        r = cpuset_read(dfd, "cpuset.cpus", &now);
        if (r < 0)
                return r;
        return cpuset_v1_sessions(dfd, now);
}

static int limits_dir(int dfd, const CgDir *d, const CgLimits *l, bool cpus_on_v2)
{
        const char *cpus;
        char buf[32];
        int r;

        r = cpus_arg(l, &cpus);
        if (r < 0)
                return r;
        if (!d->v2 && (d->ctrl & CG_CTRL_CPUSET)) {
                r = cpuset_v1_user(dfd, cpus);
                if (r < 0)
                        return r;
        }
        /* v2: the list, or "" (inherit) to undo an earlier one; no knob is
         * fine then (cpuset not enabled). */
        if (d->v2 && cpus_on_v2 && (d->ctrl & CG_CTRL_LIMITS)) {
                r = knob_write(dfd, "cpuset.cpus", *cpus ? cpus : "\n", *cpus != 0);
                if (r < 0)
                        return r;
        }

        if (d->ctrl & CG_CTRL_CPU) {
                r = limits_cpu(dfd, d->v2, l->cpu_milli);
                if (r < 0)
                        return r;
        }
        if (d->ctrl & CG_CTRL_MEMORY) {
                r = d->v2 ? limits_memory_v2(dfd, l->memory, l->swap) : limits_memory_v1(dfd, l->memory, l->swap);
                if (r < 0)
                        return r;
        }
        if (d->ctrl & CG_CTRL_PIDS) {
                fmt_u64(buf, sizeof buf, l->pids, "max");
                r = knob_write(dfd, "pids.max", buf, l->pids != UINT64_MAX);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A limit that no hierarchy here can enforce is refused, as a missing knob
 * is: never run a session without the budget it was promised. */
static int limits_enforceable(const CgSet *set, const CgLimits *l)
{
        unsigned have = 0, need = 0;
        const char *cpus;
        int r;

        if (!l)
                return -EINVAL;
        for (size_t i = 0; i < set->n; i++)
                have |= set->dir[i].ctrl;
        if (l->cpu_milli != UINT64_MAX)
                need |= CG_CTRL_CPU;
        if (l->memory != UINT64_MAX || l->swap != UINT64_MAX)
                need |= CG_CTRL_MEMORY;
        if (l->pids != UINT64_MAX)
                need |= CG_CTRL_PIDS;
        if (need & ~have)
                return -EOPNOTSUPP;
        r = cpus_arg(l, &cpus);
        if (r < 0)
                return r;
        /* a v1 cpuset hierarchy, or v2 with controllers (cpuset is checked
         * when it is enabled) */
        if (*cpus && !set_has_v1_cpuset(set)) {
                for (size_t i = 0; i < set->n; i++)
                        if (set->dir[i].v2 && (set->dir[i].ctrl & CG_CTRL_LIMITS))
                                return 0;
                return -EOPNOTSUPP;
        }
        return 0;
}

int cg_set_limits(const CgSet *user, const CgLimits *limits)
{
        int r;

        r = set_check(user);
        if (r < 0)
                return r;
        r = limits_enforceable(user, limits);
        if (r < 0)
                return r;
        for (size_t i = 0; i < user->n; i++) {
                _cleanup_close_ int fd = -1;

                r = open_cg_dir(&user->dir[i], &fd);
                if (r < 0)
                        return r;
                r = limits_dir(fd, &user->dir[i], limits, !set_has_v1_cpuset(user));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- create and remove ----------------------------------------------- */

static int create_once(const CgSet *user, const CgSet *session, const CgLimits *limits)
{
        int pfd[CG_MAX_DIRS], ufd[CG_MAX_DIRS];
        bool ucreated[CG_MAX_DIRS] = { 0 }, screated[CG_MAX_DIRS] = { 0 };
        bool cpus_on_v2 = !set_has_v1_cpuset(user);
        size_t n = user->n, i;
        int r = 0;

        for (i = 0; i < CG_MAX_DIRS; i++)
                pfd[i] = ufd[i] = -1;

        /* Every user dir with its limits first, in every hierarchy ... */
        for (i = 0; i < n; i++) {
                const CgDir *u = &user->dir[i];
                const char *ubase = strrchr(u->path, '/') + 1;
                char parent[PATH_MAX];
                unsigned enable = u->v2 ? u->ctrl & CG_CTRL_LIMITS : u->ctrl & CG_CTRL_CPUSET;

                memcpy(parent, u->path, (size_t)(ubase - 1 - u->path));
                parent[ubase - 1 - u->path] = 0;
                if (enable && u->v2 && cpus_on_v2 && limits->cpus && *limits->cpus)
                        enable |= CG_CTRL_CPUSET;
                r = walk_dir(parent, u->v2, true, enable, &pfd[i]);
                if (r < 0)
                        goto undo;
                if (mkdirat(pfd[i], ubase, 0755) == 0)
                        ucreated[i] = true;
                else if (errno != EEXIST) {
                        r = -errno;
                        goto undo;
                }
                ufd[i] = open_child_dir(pfd[i], ubase);
                if (ufd[i] < 0) {
                        r = ufd[i];
                        goto undo;
                }
                if (enable && u->v2) {
                        r = enable_controllers(ufd[i], enable);
                        if (r < 0)
                                goto undo;
                }
                r = limits_dir(ufd[i], u, limits, cpus_on_v2);
                if (r < 0)
                        goto undo;
                CUBBY_FAULT("lib.cgroup.user_limited");
        }
        /* ... then the session dirs, the only place a process will enter. */
        for (i = 0; i < n; i++) {
                const char *sbase = strrchr(session->dir[i].path, '/') + 1;

                if (mkdirat(ufd[i], sbase, 0755) < 0) {
                        r = -errno;
                        goto undo;
                }
                screated[i] = true;
                CUBBY_FAULT("lib.cgroup.session_made");
                /* v1 cpuset: the user dir's CPUs and memory nodes, before
                 * anything can be attached */
                if (!user->dir[i].v2 && (user->dir[i].ctrl & CG_CTRL_CPUSET)) {
                        _cleanup_close_ int sfd = open_child_dir(ufd[i], sbase);

                        if (sfd < 0) {
                                r = sfd;
                                goto undo;
                        }
                        r = cpuset_v1_inherit(ufd[i], sfd);
                        if (r < 0)
                                goto undo;
                }
        }
        r = 0;
        goto out;

undo:
        for (i = n; i-- > 0;) {
                if (screated[i])
                        (void)unlinkat(ufd[i], strrchr(session->dir[i].path, '/') + 1, AT_REMOVEDIR);
                /* EBUSY here: another session of this user got in meanwhile. */
                if (ucreated[i] && pfd[i] >= 0)
                        (void)unlinkat(pfd[i], strrchr(user->dir[i].path, '/') + 1, AT_REMOVEDIR);
        }
out:
        for (i = 0; i < n; i++) {
                closep(&pfd[i]);
                closep(&ufd[i]);
        }
        return r;
}

int cg_create(const CgSet *user, const CgSet *session, const CgLimits *limits)
{
        int r;

        r = sets_check(user, session);
        if (r < 0)
                return r;
        r = limits_enforceable(user, limits);
        if (r < 0)
                return r;
        /* -ENOENT: the last other session of this user removed the user dir
         * between our mkdir and our use of it. Start over, a few times. */
        for (int attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
                r = create_once(user, session, limits);
                if (r != -ENOENT)
                        break;
        }
        return r;
}

static int rmdir_cg(const CgDir *d, bool busy_ok)
{
        _cleanup_close_ int pfd = -1;
        const char *base;
        int r;

        r = open_parent(d, &pfd, &base);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (unlinkat(pfd, base, AT_REMOVEDIR) < 0) {
                if (errno == ENOENT)
                        return 0;
                if (busy_ok && (errno == EBUSY || errno == ENOTEMPTY))
                        return 0;
                return -errno;
        }
        return 0;
}

int cg_remove(const CgSet *user, const CgSet *session)
{
        int r = 0, k;

        if (set_check(user) < 0 || set_check(session) < 0)
                return -EINVAL;
        for (size_t i = 0; i < session->n; i++) {
                k = rmdir_cg(&session->dir[i], false);
                if (k < 0 && r == 0)
                        r = k;
        }
        /* The parent of the user dirs is never removed: it may be delegated
         * to cubby by a unit that owns it. */
        for (size_t i = 0; i < user->n; i++) {
                k = rmdir_cg(&user->dir[i], true);
                if (k < 0 && r == 0)
                        r = k;
        }
        return r;
}

/* ---- populated, kill ------------------------------------------------- */

/* 1 if any process is in dfd (v2: or below it), 0 if not. */
static int dir_populated(int dfd, bool v2)
{
        _cleanup_close_ int fd = -1;
        char buf[64];
        ssize_t n;

        if (v2) {
                _cleanup_free_ char *ev = NULL;
                const char *p;
                int r = read_file_at(dfd, "cgroup.events", 4096, &ev, NULL, NULL);

                if (r < 0)
                        return r;
                for (p = ev; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                        if (strncmp(p, "populated ", 10) == 0)
                                return p[10] == '1';
                return -EBADMSG;
        }
        fd = openat(dfd, "cgroup.procs", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        do
                n = read(fd, buf, sizeof buf);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return n > 0;
}

static int dir_populated_cg(const CgDir *d)
{
        _cleanup_close_ int fd = -1;
        int r = open_cg_dir(d, &fd);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return dir_populated(fd, d->v2);
}

int cg_populated(const CgSet *set)
{
        int r = set_check(set);

        if (r < 0)
                return r;
        for (size_t i = 0; i < set->n; i++) {
                r = dir_populated_cg(&set->dir[i]);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int cmp_pid(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

        return (x > y) - (x < y);
}

/* The pids in dfd's cgroup.procs, sorted. */
static int read_pids(int dfd, pid_t **ret, size_t *ret_n)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, cap = 0;
        char *p, *save = NULL;
        int r;

        r = read_file_at(dfd, "cgroup.procs", PROCS_MAX, &text, NULL, NULL);
        if (r < 0)
                return r;
        for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
                pid_t pid;

                /* 0: a process outside our pid namespace; nothing to signal. */
                if (strcmp(p, "0") == 0)
                        continue;
                r = parse_pid(p, &pid);
                if (r < 0)
                        return r;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        pid_t *np = realloc(pids, ncap * sizeof *np);

                        if (!np)
                                return -ENOMEM;
                        pids = np;
                        cap = ncap;
                }
                pids[n++] = pid;
        }
        if (n > 1)
                qsort(pids, n, sizeof *pids, cmp_pid);
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

/* SIGKILL every process listed in dfd's cgroup.procs without ever hitting a
 * process outside the cgroup when a pid is recycled: pin each pid with a
 * pidfd first, then signal only those still listed afterwards (a pidfd of
 * a process that is still alive and listed is that same process). */
static int kill_listed(int dfd)
{
        _cleanup_free_ pid_t *first = NULL;
        size_t n = 0;
        int r;

        r = read_pids(dfd, &first, &n);
        if (r < 0)
                return r;
        for (size_t off = 0; off < n; off += KILL_CHUNK) {
                _cleanup_free_ pid_t *now = NULL;
                int pfd[KILL_CHUNK];
                size_t m = n - off < KILL_CHUNK ? n - off : KILL_CHUNK, n_now = 0;

                for (size_t i = 0; i < m; i++) {
                        long k = syscall(__NR_pidfd_open, first[off + i], 0);

                        /* ENOSYS (before 5.3): plain kill() below, the old race. */
                        pfd[i] = k < 0 ? (errno == ENOSYS ? -2 : -1) : (int)k;
                }
                r = read_pids(dfd, &now, &n_now);
                for (size_t i = 0; i < m; i++) {
                        if (r >= 0 && pfd[i] != -1 &&
                            bsearch(&first[off + i], now, n_now, sizeof *now, cmp_pid)) {
                                if (pfd[i] >= 0)
                                        (void)syscall(__NR_pidfd_send_signal, pfd[i], SIGKILL, NULL, 0);
                                else
                                        (void)kill(first[off + i], SIGKILL);
                        }
                        if (pfd[i] >= 0)
                                close(pfd[i]);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleep the current backoff step (never past deadline) and grow it. */
static void backoff(long *step, int64_t deadline)
{
        int64_t left = deadline - now_ns();
        struct timespec ts;

        if (left <= 0)
                return;
        if (left > *step)
                left = *step;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)left;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        if (*step < BACKOFF_MAX_NS)
                *step *= 2;
}

/* v1 freezer: nothing in a frozen cgroup can fork, exit or be reaped, so the
 * pids read while frozen are exactly its processes. A task that does not
 * freeze in time (stuck in D state) is killed anyway, with the pidfd check. */
static void freeze_kill(int ffd, int64_t deadline)
{
        int64_t half = now_ns() + (deadline - now_ns()) / 2;
        long step = BACKOFF_START_NS;

        if (write_string_at(ffd, "freezer.state", "FROZEN") >= 0)
                for (;;) {
                        _cleanup_free_ char *st = NULL;

                        if (read_file_at(ffd, "freezer.state", 64, &st, NULL, NULL) < 0)
                                break;
                        if (strncmp(st, "FROZEN", 6) == 0 || now_ns() >= half)
                                break;
                        backoff(&step, half);
                }
        (void)kill_listed(ffd);
        /* SIGKILL is delivered once the tasks run again. */
        (void)write_string_at(ffd, "freezer.state", "THAWED");
}

int cg_kill(const CgSet *session, unsigned timeout_ms)
{
        int fds[CG_MAX_DIRS];
        int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
        long step = BACKOFF_START_NS;
        int v2_killed = -1, r;
        bool loop = false;

        r = set_check(session);
        if (r < 0)
                return r;
        for (size_t i = 0; i < CG_MAX_DIRS; i++)
                fds[i] = -1;
        for (size_t i = 0; i < session->n; i++) {
                r = open_cg_dir(&session->dir[i], &fds[i]);
                if (r < 0 && r != -ENOENT)
                        goto out;
        }

        /* cgroup.kill (5.14+) kills the whole subtree atomically, forks included. */
        for (size_t i = 0; i < session->n && v2_killed < 0; i++)
                if (session->dir[i].v2 && fds[i] >= 0 &&
                    write_string_at(fds[i], "cgroup.kill", "1") >= 0)
                        v2_killed = (int)i;
        if (v2_killed < 0) {
                loop = true;
                for (size_t i = 0; i < session->n; i++)
                        if (!session->dir[i].v2 && (session->dir[i].ctrl & CG_CTRL_FREEZER) && fds[i] >= 0) {
                                freeze_kill(fds[i], deadline);
                                break;
                        }
        }

        /* Wait for every dir to empty. Processes listed in a dir that the
         * first method did not reach (no cgroup.kill and no freezer, or
         * strays present in a v1 dir only) are swept with the kill loop. */
        for (unsigned round = 0;; round++) {
                bool any = false, v2_busy = false;
                int pop[CG_MAX_DIRS];

                for (size_t i = 0; i < session->n; i++) {
                        pop[i] = fds[i] >= 0 ? dir_populated(fds[i], session->dir[i].v2) : 0;
                        if (pop[i] == -ENOENT || pop[i] == -ENODEV)
                                pop[i] = 0; /* removed meanwhile */
                        if (pop[i] < 0) {
                                r = pop[i];
                                goto out;
                        }
                        any |= pop[i] > 0;
                }
                if (!any) {
                        r = 0;
                        goto out;
                }
                if (now_ns() >= deadline) {
                        r = -ETIMEDOUT;
                        goto out;
                }
                if (v2_killed >= 0)
                        v2_busy = pop[v2_killed] > 0;
                for (size_t i = 0; i < session->n; i++)
                        if (pop[i] > 0 && (loop ? true : (round >= 2 && !v2_busy)))
                                (void)kill_listed(fds[i]);
                backoff(&step, deadline);
        }
out:
        for (size_t i = 0; i < CG_MAX_DIRS; i++)
                closep(&fds[i]);
        return r;
}

/* ---- attach ---------------------------------------------------------- */

void cg_attach_close(CgAttach *a)
{
        if (!a)
                return;
        closep(&a->v2_fd);
        a->v2_fd = -1;
        for (size_t i = 0; i < a->n_v1 && i < CG_MAX_DIRS; i++) {
                closep(&a->v1_fds[i]);
                a->v1_fds[i] = -1;
        }
        a->n_v1 = 0;
}

int cg_attach_open(const CgSet *session, CgAttach *ret)
{
        CgAttach a = { .v2_fd = -1 };
        int r;

        for (size_t i = 0; i < CG_MAX_DIRS; i++)
                a.v1_fds[i] = -1;
        if (!ret)
                return -EINVAL;
        r = set_check(session);
        if (r < 0)
                return r;
        for (size_t i = 0; i < session->n; i++) {
                _cleanup_close_ int fd = -1;

                r = open_cg_dir(&session->dir[i], &fd);
                if (r < 0)
                        goto fail;
                if (session->dir[i].v2) {
                        if (a.v2_fd >= 0) {
                                r = -EINVAL;
                                goto fail;
                        }
                        a.v2_fd = TAKE_FD(fd);
                        continue;
                }
                /* Opened by root here: the kernel checks the opener's creds
                 * on v1, so the child may write it after it changed. */
                a.v1_fds[a.n_v1] = openat(fd, "tasks", O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (a.v1_fds[a.n_v1] < 0) {
                        r = -errno;
                        goto fail;
                }
                a.n_v1++;
        }
        *ret = a;
        return 0;
fail:
        cg_attach_close(&a);
        return r;
}

/* Runs in the child between clone3 and exec: no allocation, no locks. */
int cg_attach_self_v1(CgAttach *a)
{
        int r = 0;

        if (!a)
                return -EINVAL;
        for (size_t i = 0; i < a->n_v1 && i < CG_MAX_DIRS; i++) {
                ssize_t n;

                do
                        n = write(a->v1_fds[i], "0", 1);
                while (n < 0 && errno == EINTR);
                if (n < 0 && r == 0)
                        r = -errno;
                else if (n == 0 && r == 0)
                        r = -EIO;
                close(a->v1_fds[i]);
                a->v1_fds[i] = -1;
        }
        a->n_v1 = 0;
        return r;
}

int cg_join(const CgSet *session)
{
        CgAttach a;
        int r;

        r = cg_attach_open(session, &a);
        if (r < 0)
                return r;
        r = cg_attach_self_v1(&a);
        for (size_t i = 0; r >= 0 && a.v2_fd >= 0 && i < session->n; i++) {
                _cleanup_close_ int fd = -1;
                ssize_t n;

                if (!session->dir[i].v2 || (session->dir[i].ctrl & CG_CTRL_NONE_V2) ||
                    !(session->dir[i].ctrl & (CG_CTRL_MEMORY | CG_CTRL_PIDS | CG_CTRL_CPU)))
                        continue;
                fd = openat(a.v2_fd, "cgroup.procs", O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                n = fd < 0 ? -1 : write(fd, "0", 1);
                if (n != 1)
                        r = n < 0 ? -errno : -EIO;
        }
        cg_attach_close(&a);
        return r;
}

/* ---- cg_paths, records ----------------------------------------------- */

int cg_paths(const char *parent_spec, pid_t pid, uid_t uid, const char *sid, CgSet *ret_user,
             CgSet *ret_session)
{
        _cleanup_free_ CgLayout *l = NULL;
        _cleanup_free_ char *mi = NULL, *pc = NULL, *ctl = NULL;
        int r;

        if (!parent_spec || pid < 0 || !ret_user || !ret_session)
                return -EINVAL;
        r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", MOUNTINFO_MAX, &mi, NULL, NULL);
        if (r < 0)
                return r;
        l = malloc(sizeof *l);
        if (!l)
                return -ENOMEM;
        r = layout_parse(mi, l);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_close_ int fd = -1;

                if (!l->h[i].v2)
                        continue;
                r = walk_dir(l->h[i].mnt, true, false, 0, &fd);
                if (r < 0)
                        return r;
                r = read_file_at(fd, "cgroup.controllers", 4096, &ctl, NULL, NULL);
                if (r < 0)
                        return r;
                break;
        }
        layout_apply_v2(l, ctl);
        if (parent_spec[0] != '/') {
                char p[64];

                if (pid == 0)
                        snprintf(p, sizeof p, "/proc/self/cgroup");
                else
                        snprintf(p, sizeof p, "/proc/%d/cgroup", (int)pid);
                r = read_file_at(AT_FDCWD, p, PROC_CGROUP_MAX, &pc, NULL, NULL);
                if (r < 0)
                        return r;
        }
        return paths_build(l, pc, parent_spec, uid, sid, ret_user, ret_session);
}

int cg_dir_format(const CgDir *d, char *buf, size_t size)
{
        int n;

        if (!d || !buf || !cg_path_ok(d->path) || d->ctrl == 0 || (d->ctrl & ~CG_CTRL_ALL))
                return -EINVAL;
        n = snprintf(buf, size, "%s:%u:%s", d->v2 ? "v2" : "v1", d->ctrl, d->path);
        if (n < 0)
                return -EINVAL;
        if ((size_t)n >= size)
                return -ENOSPC;
        return 0;
}

int cg_dir_parse(const char *s, CgDir *ret)
{
        char num[12];
        const char *c;
        uint64_t ctrl;
        size_t n;
        bool v2;
        int r;

        if (!s || !ret)
                return -EINVAL;
        if (strncmp(s, "v2:", 3) == 0)
                v2 = true;
        else if (strncmp(s, "v1:", 3) == 0)
                v2 = false;
        else
                return -EINVAL;
        s += 3;
        c = strchr(s, ':');
        if (!c)
                return -EINVAL;
        n = (size_t)(c - s);
        if (n == 0 || n >= sizeof num)
                return -EINVAL;
        memcpy(num, s, n);
        num[n] = 0;
        r = parse_u64(num, &ctrl);
        if (r < 0)
                return r;
        if (ctrl == 0 || (ctrl & ~(uint64_t)CG_CTRL_ALL))
                return -EINVAL;
        /* The freezer and the cpuset bit only exist on v1; the controller-less
         * marker only on v2. */
        if ((v2 && (ctrl & (CG_CTRL_FREEZER | CG_CTRL_CPUSET))) || (!v2 && (ctrl & CG_CTRL_NONE_V2)))
                return -EINVAL;
        if (!cg_path_ok(c + 1))
                return -EINVAL;
        r = strscpy(ret->path, sizeof ret->path, c + 1);
        if (r < 0)
                return r;
        ret->v2 = v2;
        ret->ctrl = (unsigned)ctrl;
        return 0;
}
