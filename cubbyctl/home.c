/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl home show|reset USER: a user's persistent home (the overlay's
 * state tree under state_dir, mounted in the anchor namespace while the
 * user has sessions). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cubby-build.h"
#include "ctl.h"
#include "cubby/anchor.h"
#include "cubby/home-quota.h"
#include "cubby/session.h"
#include "cubby/util.h"

static void home_text(const json_t *v)
{
        const json_t *q = json_object_get(v, "disk");
        char used[32], limit[32];

        printf("user %s (uid %lld)\nstate %s\nupper %s\nmounted %s\nsessions %lld\n",
               out_get_str(v, "user"), out_get_int(v, "uid"), out_get_str(v, "dir"),
               out_get_str(v, "upper"), out_get_bool(v, "mounted") ? "yes" : "no",
               out_get_int(v, "sessions"));
        if (!json_is_object(q)) {
                printf("disk not counted (no project quota on the home)\n");
                return;
        }
        quota_format_size((uint64_t)out_get_int(q, "bytes"), used, sizeof used);
        if (out_get_int(q, "bytes_limit"))
                quota_format_size((uint64_t)out_get_int(q, "bytes_limit"), limit, sizeof limit);
        else
                snprintf(limit, sizeof limit, "no limit");
        printf("disk %s of %s (project %lld)\n", used, limit, out_get_int(q, "project"));
        if (out_get_int(q, "inodes_limit"))
                printf("files %lld of %lld\n", out_get_int(q, "inodes"), out_get_int(q, "inodes_limit"));
        else
                printf("files %lld of no limit\n", out_get_int(q, "inodes"));
}

/* The home's project quota (usage, hard limits), or JSON null when the
 * upper dir below user_dir (<state_dir>/users/<user>) is not in the
 * user's project. */
json_t *home_disk_json(const char *user_dir, uid_t uid)
{
        _cleanup_close_ int fd = -1;
        char path[PATH_MAX];
        uint32_t proj;
        bool inherit;
        QuotaUsage u;

        if (snprintf(path, sizeof path, "%s/upper", user_dir) >= (int)sizeof path)
                return json_null();
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || quota_dir_project(fd, &proj, &inherit) < 0 ||
            proj != quota_project_of(uid) || !inherit || quota_get(fd, proj, &u) < 0)
                return json_null();
        return json_pack("{s:I,s:I,s:I,s:I,s:I}", "project", (json_int_t)u.projid, "bytes",
                         (json_int_t)u.bytes, "bytes_limit", (json_int_t)u.bytes_limit, "inodes",
                         (json_int_t)u.inodes, "inodes_limit", (json_int_t)u.inodes_limit);
}

static void home_reset_text(const json_t *v)
{
        printf("home of %s reset; the old files are in %s\n", out_get_str(v, "user"),
               out_get_str(v, "old_files"));
}

static int home_show(Ctl *c, const HomeSpec *hs, int mounted, int live)
{
        char merged[PATH_MAX], dir[PATH_MAX + 80];
        json_t *v = json_object();
        int r;

        (void)home_merged_path(hs->state_dir, hs->user, merged, sizeof merged);
        snprintf(dir, sizeof dir, "%s/users/%s", hs->state_dir, hs->user);
        out_set(v, "user", out_str(hs->user));
        out_set(v, "uid", json_integer(hs->uid));
        out_set(v, "state", out_str(merged));
        out_set(v, "dir", out_str(dir));
        snprintf(dir, sizeof dir, "%s/users/%s/upper", hs->state_dir, hs->user);
        out_set(v, "upper", out_str(dir));
        out_set(v, "mounted", json_boolean(mounted > 0));
        out_set(v, "sessions", json_integer(live));
        snprintf(dir, sizeof dir, "%s/users/%s", hs->state_dir, hs->user);
        out_set(v, "disk", home_disk_json(dir, hs->uid));
        r = out_emit(c, v, home_text);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: home show: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}

int cmd_home(Ctl *c, int argc, char **argv)
{
        _cleanup_close_ int anchor = -1, sessions = -1, locks = -1, lock = -1;
        char lockdir[PATH_MAX], moved[64];
        HomeSpec hs;
        int mounted = 0, live = 0, r;

        if (argc != 3 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "reset") != 0)) {
                fprintf(stderr, "usage: cubbyctl home show|reset USER\n");
                return 2;
        }
        if (ctl_load_config(c, true) < 0)
                return 1;
        if (home_spec_of(c->conf.global.state_dir, c->conf.global.run_dir, argv[2], &hs) < 0) {
                fprintf(stderr, "cubbyctl: no user or home %s\n", argv[2]);
                return 1;
        }
        if (anchor_open(hs.run_dir, &anchor) == 0)
                mounted = home_is_mounted(&hs, anchor);
        if (session_dir_open(CUBBY_SESSIONS_DIR, false, &sessions) == 0)
                live = session_count_live(sessions, hs.uid, NULL, false);
        if (strcmp(argv[1], "show") == 0)
                return home_show(c, &hs, mounted, live);
        /* reset: only while the user has no session, under the user lock */
        if (session_lock_dir_path(hs.run_dir, lockdir, sizeof lockdir) < 0 ||
            session_dir_open(lockdir, true, &locks) < 0 ||
            session_lock_user(locks, hs.uid, 5000, &lock) < 0) {
                fprintf(stderr, "cubbyctl: cannot lock the user's sessions\n");
                return 1;
        }
        if (sessions >= 0)
                live = session_count_live(sessions, hs.uid, NULL, false);
        if (live != 0) {
                fprintf(stderr, "cubbyctl: %s has %d live session(s); end them first (cubbyctl kill %s)\n",
                        hs.user, live, hs.user);
                return 1;
        }
        if (anchor >= 0 && home_is_mounted(&hs, anchor) > 0 && (r = home_umount(&hs, anchor)) < 0) {
                fprintf(stderr, "cubbyctl: cannot unmount the home: %s\n", strerror(-r));
                return 1;
        }
        r = home_reset(&hs, moved, sizeof moved);
        if (r == -ENOENT) {
                fprintf(stderr,
                        "cubbyctl: %s has no overlay home in %s (with home = direct the home is "
                        "the user's real one, which cubby never resets)\n",
                        hs.user, hs.state_dir);
                return 1;
        }
        if (r < 0) {
                fprintf(stderr, "cubbyctl: cannot reset the home of %s: %s\n", hs.user, strerror(-r));
                return 1;
        }
        {
                char old[PATH_MAX + 160];
                json_t *v = json_object();

                snprintf(old, sizeof old, "%s/users/%s/%s", hs.state_dir, hs.user, moved);
                out_set(v, "user", out_str(hs.user));
                out_set(v, "old_files", out_str(old));
                return out_emit(c, v, home_reset_text) < 0 ? 1 : 0;
        }
}
