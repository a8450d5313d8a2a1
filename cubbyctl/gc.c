/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl gc: the library's gc (lib/gc.c) with everything on (GC_FULL):
 * records whose opener is gone, session cgroups that no record names,
 * per-user containers (the sweep: dead inits reaped, lingering ones
 * stopped as the policy says; container cgroups no record names),
 * overlays of users with no live session, the idle anchor holder, stale
 * address leases. What it did is a list of lines (JSON: {"messages":
 * [...], "reaped": N}). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cubby-build.h"
#include "ctl.h"
#include "cubby/container-life.h"
#include "cubby/gc.h"
#include "cubby/session.h"
#include "cubby/util.h"

static void gc_text(const json_t *v)
{
        const json_t *msgs = json_object_get(v, "messages");

        for (size_t i = 0; i < json_array_size(msgs); i++)
                printf("%s\n", json_string_value(json_array_get(msgs, i)));
}

static int gc_emit(const Ctl *c, json_t *msgs, unsigned reaped)
{
        json_t *v = json_object();
        int r;

        out_set(v, "messages", msgs);
        out_set(v, "reaped", json_integer(reaped));
        r = out_emit(c, v, gc_text);
        if (r < 0)
                fprintf(stderr, "cubbyctl: gc: %s\n", strerror(-r));
        return r;
}

/* One line of what gc did. */
static void note_line(const char *line, void *userdata)
{
        out_append(userdata, out_str(line));
}

int cmd_gc(Ctl *c, int argc, char **argv)
{
        _cleanup_close_ int sessions = -1, locks = -1;
        char lockdir[PATH_MAX], line[64];
        unsigned reaped = 0;
        json_t *msgs;
        GcCtx gc;
        int r, e;

        if (ctl_load_config(c, true) < 0)
                return 1;
        if (session_lock_dir_path(c->conf.global.run_dir, lockdir, sizeof lockdir) < 0) {
                fprintf(stderr, "cubbyctl: run_dir is too long\n");
                return 1;
        }
        r = session_dir_open(CUBBY_SESSIONS_DIR, false, &sessions);
        if (r == -ENOENT) {
                /* no session ever (or the run dir was wiped): containers
                 * may still run, recorded or not */
                CtLife life = { .global = &c->conf.global, .sessions = -1, .note = note_line,
                                .lock_ms = CT_LOCK_TIMEOUT_MS };

                msgs = json_array();
                life.userdata = msgs;
                note_line("gc: no sessions", msgs);
                if (session_dir_open(lockdir, true, &locks) == 0) {
                        life.locks = locks;
                        (void)ct_sweep(&life, &c->conf, NULL);
                        (void)ct_gc_orphans(&life);
                }
                return gc_emit(c, msgs, 0) < 0 ? 1 : 0;
        }
        if (r < 0 || (r = session_dir_open(lockdir, true, &locks)) < 0) {
                fprintf(stderr, "cubbyctl: cannot open the run directories: %s\n", strerror(-r));
                return 1;
        }
        msgs = json_array();
        gc = (GcCtx){ .global = &c->conf.global, .conf = &c->conf, .sessions = sessions, .locks = locks, .note = note_line,
                      .userdata = msgs };
        r = gc_run(&gc, GC_FULL, &reaped);
        if (r < 0)
                fprintf(stderr, "cubbyctl: gc: %s\n", strerror(-r));
        snprintf(line, sizeof line, "gc: %u sessions reaped", reaped);
        note_line(line, msgs);
        e = gc_emit(c, msgs, reaped);
        return r < 0 || e < 0 ? 1 : 0;
}

