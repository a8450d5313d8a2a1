/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lifetime of per-user containers from cubbyctl: `cubbyctl stop USER`
 * and `cubbyctl stop --all` (now, reason admin), and the anchor holder's
 * tick, the sweep that stops lingering containers as the current policy
 * says (lib/container-life.c).
 * The holder is `cubbyctl [--config PATH] __anchor`; its tick runs in a
 * child of it every few seconds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cubby-build.h"
#include "ctl.h"
#include "cubby/anchor-holder.h"
#include "cubby/anchor.h"
#include "cubby/container-life.h"
#include "cubby/session.h"
#include "cubby/user-policy.h"
#include "cubby/util.h"

/* The run dirs the lifetime code needs: the session records (-1 when
 * there are none at all) and <run_dir>/locks. */
static int open_dirs(const Ctl *c, int *ret_sessions, int *ret_locks)
{
        char lockdir[PATH_MAX];
        int r;

        r = session_lock_dir_path(c->conf.global.run_dir, lockdir, sizeof lockdir);
        if (r < 0)
                return r;
        r = session_dir_open(CUBBY_SESSIONS_DIR, false, ret_sessions);
        if (r == -ENOENT)
                *ret_sessions = -1;
        else if (r < 0)
                return r;
        r = session_dir_open(lockdir, true, ret_locks);
        if (r < 0 && *ret_sessions >= 0) {
                close(*ret_sessions);
                *ret_sessions = -1;
        }
        return r;
}

int ctl_anchor_tick(void *userdata)
{
        Ctl *c = userdata;
        _cleanup_close_ int run = -1, sessions = -1, locks = -1;
        AnchorId id;
        int r;

        openlog("cubby-anchor", LOG_PID, LOG_AUTHPRIV);
        /* a policy that cannot be read decides nothing now */
        if (ctl_load_config(c, false) < 0)
                return 0;
        r = session_dir_open(c->conf.global.run_dir, false, &run);
        if (r == -ENOENT)
                return ANCHOR_TICK_ORPHANED;
        if (r < 0)
                return 0;
        r = anchor_read(run, &id);
        if (r == -ENOENT || (r == 0 && id.pid != getppid()))
                return ANCHOR_TICK_ORPHANED;
        if (open_dirs(c, &sessions, &locks) < 0)
                return 0;
        {
                CtLife life = { .global = &c->conf.global, .sessions = sessions, .locks = locks };

                (void)ct_sweep(&life, &c->conf, NULL);
        }
        return 0;
}

static void stop_text(const json_t *v)
{
        printf("stopped the container of %s (uid %lld) in %lld ms\n", out_get_str(v, "user"),
               out_get_int(v, "uid"), out_get_int(v, "duration_ms"));
}

/* USER is a name, or a uid (a user removed from passwd may still have a
 * container): its uid and name, and its passwd entry in pw (pw_name NULL
 * when there is none). */
static int user_of(const char *arg, uid_t *ret_uid, char *name, size_t size, struct passwd *pw,
                   char *buf, size_t bufsize)
{
        struct passwd *res = NULL;

        if (getpwnam_r(arg, pw, buf, bufsize, &res) == 0 && res) {
                *ret_uid = pw->pw_uid;
                return strscpy(name, size, pw->pw_name);
        }
        if (parse_uid(arg, ret_uid) < 0)
                return -ENOENT;
        if (getpwuid_r(*ret_uid, pw, buf, bufsize, &res) != 0 || !res) {
                pw->pw_name = NULL;
                return strscpy(name, size, arg);
        }
        return strscpy(name, size, pw->pw_name);
}

/* The stop_grace of uid's policy as it is now (for a user no longer in
 * passwd, the default's). */
static unsigned grace_of(Ctl *c, const char *name, const struct passwd *pw)
{
        ConfPolicy *p = malloc(sizeof *p);
        unsigned grace = CONF_DEFAULT_STOP_GRACE_S;
        bool admin;

        if (!p)
                return grace;
        if (pw->pw_name) {
                if (user_policy(&c->conf, c->conf.global.admin_group, pw, &admin, p, NULL) == 0)
                        grace = (unsigned)p->stop_grace_s;
        } else {
                conf_resolve(&c->conf, name, NULL, 0, p, NULL);
                grace = (unsigned)p->stop_grace_s;
        }
        free(p);
        return grace;
}

/* Stop the container of uid (its user named name) as `stop USER` does:
 * ct_stop, reason admin, the policy's grace. 0 with the result in *ret,
 * or -errno (-ENOENT: it has no container). */
static int stop_one(Ctl *c, const CtLife *life, uid_t uid, const char *name, const struct passwd *pw,
                    json_t **ret)
{
        struct timespec t0, t1;
        json_t *v;
        int r;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = ct_stop(life, uid, CT_STOP_ADMIN, grace_of(c, name, pw), false, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (r < 0)
                return r;
        v = json_object();
        out_set(v, "user", out_str(name));
        out_set(v, "uid", json_integer(uid));
        out_set(v, "stopped", json_true());
        out_set(v, "duration_ms", json_integer((t1.tv_sec - t0.tv_sec) * 1000 +
                                               (t1.tv_nsec - t0.tv_nsec) / 1000000));
        *ret = v;
        return 0;
}

static void stop_all_text(const json_t *v)
{
        const json_t *list = json_object_get(v, "containers");
        size_t n = json_array_size(list);

        for (size_t i = 0; i < n; i++) {
                const json_t *e = json_array_get(list, i);

                if (out_get_bool(e, "stopped"))
                        stop_text(e);
                else
                        printf("could not stop the container of %s (uid %lld): %s\n", out_get_str(e, "user"),
                               out_get_int(e, "uid"), out_get_str(e, "error"));
        }
        printf("stop --all: %lld stopped, %lld failed\n", out_get_int(v, "stopped"), out_get_int(v, "failed"));
}

/* The uids of the container records in run_dir (u<uid>; not the .idle
 * files beside them), read before any is stopped: a stop removes its
 * record, and a directory changed under readdir may skip entries. */
static int record_uids(const char *run_dir, uid_t **ret, size_t *ret_n)
{
        _cleanup_close_ int dfd = -1;
        uid_t *uids = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *d;
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = ct_dir_open(run_dir, false, &dfd);
        if (r == -ENOENT)
                return 0; /* no container ever */
        if (r < 0)
                return r;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        dfd = -1;
        for (;;) {
                uid_t uid, *more;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        r = -errno;
                        break;
                }
                if (de->d_name[0] != 'u' || parse_uid(de->d_name + 1, &uid) < 0)
                        continue;
                more = realloc(uids, (n + 1) * sizeof *uids);
                if (!more) {
                        r = -ENOMEM;
                        break;
                }
                uids = more;
                uids[n++] = uid;
        }
        closedir(d);
        if (r < 0) {
                free(uids);
                return r;
        }
        *ret = uids;
        *ret_n = n;
        return 0;
}

/* `stop --all`: every container that has a record in the policy's run
 * dir, one after the other through the same path as `stop USER`
 * (cubby-shutdown.service runs it on the way down: a lingering container
 * would otherwise hold the shutdown for the stop timeout). A container
 * that is gone by the time its turn comes (its linger ran out, the sweep
 * reaped it) is no failure; exit 1 only if a stop failed. */
static int stop_all(Ctl *c, const CtLife *life)
{
        _cleanup_free_ uid_t *uids = NULL;
        long long stopped = 0, failed = 0;
        json_t *v, *list;
        size_t n;
        int r;

        r = record_uids(c->conf.global.run_dir, &uids, &n);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: cannot read the container records in %s: %s\n",
                        c->conf.global.run_dir, strerror(-r));
                return 1;
        }
        list = json_array();
        for (size_t i = 0; i < n; i++) {
                char name[CONF_NAME_MAX], pwbuf[16384];
                struct passwd pw, *res = NULL;
                json_t *e = NULL;

                /* a uid no longer in passwd is named by its number, and
                 * gets the default's grace, as in `stop UID` */
                if (getpwuid_r(uids[i], &pw, pwbuf, sizeof pwbuf, &res) != 0 || !res ||
                    strscpy(name, sizeof name, pw.pw_name) < 0) {
                        pw.pw_name = NULL;
                        snprintf(name, sizeof name, "%u", (unsigned)uids[i]);
                }
                r = stop_one(c, life, uids[i], name, &pw, &e);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        fprintf(stderr, "cubbyctl: cannot stop the container of %s: %s\n", name, strerror(-r));
                        e = json_object();
                        out_set(e, "user", out_str(name));
                        out_set(e, "uid", json_integer(uids[i]));
                        out_set(e, "stopped", json_false());
                        out_set(e, "error", out_str(strerror(-r)));
                        failed++;
                } else
                        stopped++;
                out_append(list, e);
        }
        v = json_object();
        out_set(v, "containers", list);
        out_set(v, "stopped", json_integer(stopped));
        out_set(v, "failed", json_integer(failed));
        r = out_emit(c, v, stop_all_text);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: stop: %s\n", strerror(-r));
                return 1;
        }
        return failed > 0 ? 1 : 0;
}

int cmd_stop(Ctl *c, int argc, char **argv)
{
        _cleanup_close_ int sessions = -1, locks = -1;
        char name[CONF_NAME_MAX], pwbuf[16384];
        struct passwd pw;
        bool all;
        uid_t uid;
        json_t *v = NULL;
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: cubbyctl stop USER|--all\n");
                return 2;
        }
        all = strcmp(argv[1], "--all") == 0;
        if (ctl_load_config(c, true) < 0)
                return 1;
        if (!all && user_of(argv[1], &uid, name, sizeof name, &pw, pwbuf, sizeof pwbuf) < 0) {
                fprintf(stderr, "cubbyctl: no user %s\n", argv[1]);
                return 1;
        }
        r = open_dirs(c, &sessions, &locks);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: cannot open the run directories: %s\n", strerror(-r));
                return 1;
        }
        {
                CtLife life = { .global = &c->conf.global, .sessions = sessions, .locks = locks };

                if (all)
                        return stop_all(c, &life);
                r = stop_one(c, &life, uid, name, &pw, &v);
        }
        if (r == -ENOENT) {
                fprintf(stderr, "cubbyctl: %s has no container\n", name);
                return 3;
        }
        if (r < 0) {
                fprintf(stderr, "cubbyctl: cannot stop the container of %s: %s\n", name, strerror(-r));
                return 1;
        }
        r = out_emit(c, v, stop_text);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: stop: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
