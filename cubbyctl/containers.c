/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-user containers (container = user) as cubbyctl sees them: the
 * container records of every run dir in use, each checked against its
 * init (ct_open_init: a record whose init is gone or whose namespaces
 * differ is stale), with the processes, CPU time and memory of its
 * cgroups (<user>/ct and below). Reads only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "cubby/cgroup.h"
#include "cubby/conf.h"
#include "cubby/container.h"
#include "cubby/container-life.h"
#include "cubby/util.h"

void ctl_run_dirs_add(CtlRunDirs *d, const char *dir)
{
        if (!dir[0] || d->n >= CTL_MAX_RUN_DIRS)
                return;
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->dir[i], dir) == 0)
                        return;
        if (strscpy(d->dir[d->n], sizeof d->dir[d->n], dir) == 0)
                d->n++;
}

static int run_dir_of_record(Ctl *c, const Record *rec, const char *key, void *userdata)
{
        ctl_run_dirs_add(userdata, rec->run_dir);
        return 0;
}

void ctl_run_dirs_conf(Ctl *c, CtlRunDirs *ret)
{
        ret->n = 0;
        /* the policy's run_dir first: a container may outlive every
         * session record that names it (linger) */
        if (c->conf_ok || ctl_load_config(c, false) == 0)
                ctl_run_dirs_add(ret, c->conf.global.run_dir);
}

int ctl_run_dirs(Ctl *c, CtlRunDirs *ret)
{
        ctl_run_dirs_conf(c, ret);
        return ctl_for_each_record(run_dir_of_record, c, ret);
}

/* The number of processes in the cgroup dir dfd and below (depth bounded:
 * cubby makes two levels under ct/, a user may add some on v2). */
static long long count_procs(int dfd, unsigned depth)
{
        _cleanup_free_ char *text = NULL;
        long long n = 0;
        struct dirent *de;
        DIR *d;
        int fd;

        if (read_file_at(dfd, "cgroup.procs", 4 << 20, &text, NULL, NULL) < 0)
                return -1;
        for (const char *p = text; *p; p++)
                if (*p == '\n')
                        n++;
        if (depth == 0)
                return n;
        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -1;
        }
        while ((de = readdir(d))) {
                _cleanup_close_ int sub = -1;
                long long k;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        continue; /* removed meanwhile */
                k = count_procs(sub, depth - 1);
                if (k < 0) {
                        n = -1;
                        break;
                }
                n += k;
        }
        closedir(d);
        return n;
}

/* Processes of the container: in the hierarchy that holds every process
 * (v2, or the controller-less v2 of a hybrid host), else in pids, else in
 * the first. */
static long long container_procs(const CgSet *ct)
{
        _cleanup_close_ int fd = -1;
        size_t best = 0;
        int best_rank = -1;

        for (size_t i = 0; i < ct->n; i++) {
                const CgDir *d = &ct->dir[i];
                /* never the user dir (memory): not the container's alone */
                int rank = cg_dir_at_user(d) ? -1 : d->v2 ? 2 : (d->ctrl & CG_CTRL_PIDS) ? 1 : 0;

                if (rank > best_rank) {
                        best_rank = rank;
                        best = i;
                }
        }
        if (best_rank < 0 || cg_dir_open(&ct->dir[best], &fd) < 0)
                return -1;
        return count_procs(fd, 8);
}

int ctl_session_place(const Record *rec, CtlSessionPlace *ret)
{
        *ret = (CtlSessionPlace){
                .uid = rec->uid,
                .sandbox = rec->sandbox,
                .joins = rec->container == CONF_CONTAINER_USER,
        };
        for (size_t i = 0; i < rec->cgroup.n && i < CG_MAX_DIRS; i++) {
                ret->cgroup[i] = strdup(rec->cgroup.dir[i].path);
                if (!ret->cgroup[i]) {
                        ctl_session_place_free(ret);
                        return -ENOMEM;
                }
                ret->n++;
        }
        return 0;
}

void ctl_session_place_free(CtlSessionPlace *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->cgroup[i]);
        p->n = 0;
}

bool ctl_session_in_container(const CtlSessionPlace *s, const CtRecord *ct)
{
        if (!s->sandbox || !s->joins || s->uid != ct->uid)
                return false;
        /* and in this container's cgroup tree (after a change of
         * cgroup_parent, a container of the same uid lives elsewhere) */
        for (size_t i = 0; i < s->n; i++)
                for (size_t j = 0; j < ct->cgroup.n; j++) {
                        const char *p = ct->cgroup.dir[j].path;
                        size_t l = strlen(p);

                        if (strncmp(s->cgroup[i], p, l) == 0 && s->cgroup[i][l] == '/')
                                return true;
                }
        return false;
}

static int containers_of_dir(const char *run_dir, CtlContainer **list, size_t *n)
{
        _cleanup_close_ int dfd = -1;
        struct dirent *de;
        DIR *d;
        int r = ct_dir_open(run_dir, false, &dfd);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        dfd = -1;
        while ((de = readdir(d))) {
                CtlContainer *more, *ct;
                _cleanup_close_ int pidfd = -1;
                uint64_t ns;
                uid_t uid;

                if (de->d_name[0] != 'u' || parse_uid(de->d_name + 1, &uid) < 0)
                        continue;
                more = realloc(*list, (*n + 1) * sizeof **list);
                if (!more) {
                        r = -ENOMEM;
                        break;
                }
                *list = more;
                ct = &more[*n];
                memset(ct, 0, sizeof *ct);
                if (ct_read(dirfd(d), uid, &ct->rec) < 0) {
                        fprintf(stderr, "cubbyctl: unreadable container record %s/%s/%s\n", run_dir,
                                CT_DIR_NAME, de->d_name);
                        continue;
                }
                (void)strscpy(ct->run_dir, sizeof ct->run_dir, run_dir);
                /* the same check a login's join makes */
                ct->alive = ct_open_init("/proc", &ct->rec, &pidfd);
                ct->procs = container_procs(&ct->rec.cgroup);
                /* as the linger sweep measures it: from v2 first, where a
                 * hybrid host's controller-less hierarchy counts it too */
                ct->cpu_ms = ct_cpu_usage(&ct->rec.cgroup, &ns) == 0 && ns / 1000000 <= INT64_MAX
                                     ? (long long)(ns / 1000000)
                                     : -1;
                ct->memory_bytes = ctl_memory(&ct->rec.cgroup);
                (*n)++;
        }
        closedir(d);
        return r;
}

int ctl_containers(const CtlRunDirs *dirs, CtlContainer **ret, size_t *ret_n)
{
        CtlContainer *list = NULL;
        size_t n = 0;

        for (size_t i = 0; i < dirs->n; i++) {
                int r = containers_of_dir(dirs->dir[i], &list, &n);

                if (r < 0) {
                        free(list);
                        return r;
                }
        }
        *ret = list;
        *ret_n = n;
        return 0;
}
