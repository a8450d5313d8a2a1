/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where cubby's cgroups are: the hierarchies mounted at or below
 * /sys/fs/cgroup (from /proc/self/mountinfo), the controllers each one
 * carries, and, in each, the user and session directories below the
 * configured parent. Pure lookup: nothing
 * here creates, writes or logs; every function returns 0 or -errno. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cubby/cgroup-layout.h"
#include "cubby/cgroup-lifecycle.h"
#include "cubby/mountinfo.h"
#include "cubby/util.h"

#define MOUNTINFO_MAX (4u << 20)
#define PROC_CGROUP_MAX (64u << 10)
#define CG_SID_MAX 64

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

const char *cg_ctrl_name(unsigned bit)
{
        for (size_t i = 0; i < ELEMENTSOF(ctrl_names); i++)
                if (ctrl_names[i].bit == bit)
                        return ctrl_names[i].name;
        return NULL;
}


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


/* p is dir or below it (both absolute, normalised). */
static bool path_is_under(const char *p, const char *dir)
{
        size_t n = strlen(dir);

        if (strcmp(dir, "/") == 0)
                return true;
        return strncmp(p, dir, n) == 0 && (p[n] == '/' || p[n] == 0);
}

bool cg_sid_ok(const char *sid)
{
        size_t n;

        if (!sid)
                return false;
        n = strlen(sid);
        return n > 0 && n <= CG_SID_MAX && strspn(sid, "0123456789abcdef") == n;
}

/* Bits of the controller names in a list separated by sep ("rw,cpu,cpuacct"
 * or "cpu io memory pids"). Only whole names count. */
unsigned cg_ctrl_bits_of_list(const char *s, size_t len, char sep)
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

static int layout_parse_line(CgLayout *l, char *line)
{
        unsigned v1_bits = 0, bits;
        MountInfo mi;
        bool v2;
        int r;

        r = mountinfo_parse_line(line, &mi);
        if (r < 0)
                return r;
        if (strlen(mi.mnt) >= PATH_MAX)
                return -ENAMETOOLONG;
        if (!path_is_normalized_absolute(mi.mnt))
                return -EINVAL;
        layout_hide_below(l, mi.mnt, mi.id);
        if (!path_is_under(mi.mnt, CG_ROOT))
                return 0;

        if (strcmp(mi.fstype, "cgroup2") == 0)
                v2 = true;
        else if (strcmp(mi.fstype, "cgroup") == 0)
                v2 = false;
        else
                return 0;

        if (strlen(mi.root) >= PATH_MAX)
                return -ENAMETOOLONG;
        if (!path_is_normalized_absolute(mi.root))
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
                bits = cg_ctrl_bits_of_list(mi.super_opts, strlen(mi.super_opts), ',');
                if (bits == 0 || (bits & v1_bits))
                        return 0; /* not ours, or a second mount of one we have */
        }
        if (l->n >= CG_MAX_DIRS)
                return -E2BIG;
        l->h[l->n].v2 = v2;
        l->h[l->n].ctrl = bits;
        l->h[l->n].mount_id = mi.id;
        l->h[l->n].parent_id = mi.parent_id;
        (void)strscpy(l->h[l->n].mnt, sizeof l->h[l->n].mnt, mi.mnt);
        (void)strscpy(l->h[l->n].root, sizeof l->h[l->n].root, mi.root);
        l->n++;
        return 0;
}

static int layout_parse(const char *mountinfo, CgLayout *l)
{
        _cleanup_free_ char *text = strdup(mountinfo);
        char *save = NULL;
        int r;

        if (!text)
                return -ENOMEM;
        l->n = 0;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                r = layout_parse_line(l, line);
                if (r < 0)
                        return r;
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
                h->ctrl = v2_controllers ? cg_ctrl_bits_of_list(v2_controllers, strcspn(v2_controllers, "\n"),
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
                        match = (cg_ctrl_bits_of_list(c1 + 1, (size_t)(c2 - c1 - 1), ',') & h->ctrl) != 0;
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

        if (!parent_spec || uid == (uid_t)-1 || !cg_sid_ok(sid))
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
        /* memory: the session is charged to its user dir */
        for (size_t i = 0; i < s->n && cg_set_joins_user(u); i++)
                if (cg_hier_at_user(s->dir[i].v2, s->dir[i].ctrl)) {
                        s->dir[i].ctrl |= CG_DIR_USER;
                        memcpy(s->dir[i].path, u->dir[i].path, sizeof s->dir[i].path);
                }
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
                r = cg_walk_dir(l->h[i].mnt, true, false, NULL, NULL, &fd);
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
