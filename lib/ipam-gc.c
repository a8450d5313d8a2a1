/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gc of the leases dir and the lists of leases: what reads every lease
 * (pam_cubby's throttled gc, cubbyctl), kept out of the setuid helper,
 * which only takes and gives back its own (ipam.c). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cubby/ipam.h"
#include "cubby/util.h"
#include "ipam-internal.h"

/* Index entries whose lease was released (arg: the leases dir's fd). */
static int reap_index(int dirfd, const char *name, int fd, const struct stat *st,
                      const IpamLease *l, void *arg)
{
        if (!ipam_index_current(*(const int *)arg, l, st) &&
            ipam_lock_bounded(fd, IPAM_DROP_LOCK_TIMEOUT_MS) >= 0)
                (void)ipam_unlink_same(dirfd, name, st);
        return 0;
}

/* The dead leases, then the index entries and temp files left by crashes. */
static int reap_dir(int dfd, IpamReap *g)
{
        struct dirent *de;
        DIR *d;
        int r;

        r = ipam_reap_dead(dfd, g);
        if (r >= 0)
                r = ipam_dir_list(dfd, &d);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                _cleanup_close_ int ufd = -1;
                uid_t uid;
                pid_t pid;

                /* the temp file of an acquire that died before its unlink */
                if (strncmp(de->d_name, IPAM_TMP_PREFIX, strlen(IPAM_TMP_PREFIX)) == 0) {
                        char *dot = strchr(de->d_name + strlen(IPAM_TMP_PREFIX), '.'), num[16];
                        size_t len = dot ? (size_t)(dot - de->d_name) - strlen(IPAM_TMP_PREFIX) : 0;

                        if (len > 0 && len < sizeof num) {
                                memcpy(num, de->d_name + strlen(IPAM_TMP_PREFIX), len);
                                num[len] = 0;
                                if (parse_pid(num, &pid) >= 0 && kill(pid, 0) < 0 && errno == ESRCH)
                                        (void)unlinkat(dfd, de->d_name, 0);
                        }
                        continue;
                }
                if (de->d_name[0] != 'u' || parse_uid(de->d_name + 1, &uid) < 0 ||
                    ipam_user_dir_open(dfd, uid, false, &ufd) < 0)
                        continue;
                (void)ipam_lease_walk(ufd, NULL, reap_index, &dfd);
        }
        closedir(d);
        return g->count;
}

int ipam_gc(const char *run_dir, IpamLease **ret_reaped, size_t *ret_n)
{
        _cleanup_close_ int dfd = -1;
        IpamReap g = { .keep = ret_reaped != NULL };
        int r;

        r = ipam_dir_open(run_dir, false, &dfd);
        if (r >= 0 && dfd >= 0)
                r = reap_dir(dfd, &g);
        if (r < 0) {
                free(g.reaped);
                return r;
        }
        if (ret_reaped) {
                *ret_reaped = g.reaped;
                *ret_n = g.n;
        }
        return r;
}

typedef struct List {
        int dfd;
        IpamLease *l;
        size_t n;
} List;

static int list_one(int dirfd, const char *name, int fd, const struct stat *st, const IpamLease *l,
                    void *arg)
{
        List *x = arg;
        IpamLease *nl;

        (void)dirfd, (void)name, (void)fd, (void)st;
        if (x->n >= IPAM_MAX_LEASES)
                return -EBADMSG;
        nl = reallocarray(x->l, x->n + 1, sizeof *nl);
        if (!nl)
                return -ENOMEM;
        x->l = nl;
        x->l[x->n++] = *l;
        return 0;
}

static int list_one_indexed(int dirfd, const char *name, int fd, const struct stat *st,
                            const IpamLease *l, void *arg)
{
        List *x = arg;

        return ipam_index_current(x->dfd, l, st) ? list_one(dirfd, name, fd, st, l, arg) : 0;
}

/* All leases, or with user, that uid's (from its index). */
static int list_walk(const char *run_dir, bool user, uid_t uid, IpamLease **ret, size_t *ret_n)
{
        _cleanup_close_ int dfd = -1, ufd = -1;
        List x = { 0 };
        int r;

        r = ipam_dir_open(run_dir, false, &dfd);
        if (r >= 0 && dfd >= 0 && !user)
                r = ipam_lease_walk(dfd, NULL, list_one, &x);
        else if (r >= 0 && dfd >= 0) {
                x.dfd = dfd;
                r = ipam_user_dir_open(dfd, uid, false, &ufd);
                if (r >= 0)
                        r = ipam_lease_walk(ufd, NULL, list_one_indexed, &x);
                else if (r == -ENOENT)
                        r = 0;
        }
        if (r < 0) {
                free(x.l);
                return r;
        }
        if (x.n > 0)
                qsort(x.l, x.n, sizeof *x.l, ipam_cmp_lease);
        *ret = x.l;
        *ret_n = x.n;
        return 0;
}

int ipam_list(const char *run_dir, IpamLease **ret, size_t *ret_n)
{
        return list_walk(run_dir, false, 0, ret, ret_n);
}

int ipam_list_user(const char *run_dir, uid_t uid, IpamLease **ret, size_t *ret_n)
{
        return list_walk(run_dir, true, uid, ret, ret_n);
}
