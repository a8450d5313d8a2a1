/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What cubbyctl's command files share (private to cubbyctl): the command
 * context, the policy, the session records and the output. Every command
 * builds its result once as a jansson value; output.c prints it as JSON
 * (--json) or as the command's text form. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "cubby/conf.h"
#include "cubby/container.h"
#include "cubby/home.h"
#include "cubby/record.h"

typedef struct Ctl {
        const char *config;
        bool json;
        Conf conf;
        bool conf_ok;
} Ctl;

/* main.c */
int ctl_load_config(Ctl *c, bool required);

/* The verbs: argv[0] is the verb; the return value is the exit code. */
int cmd_list(Ctl *c, int argc, char **argv);
int cmd_show(Ctl *c, int argc, char **argv);
int cmd_kill(Ctl *c, int argc, char **argv);
int cmd_gc(Ctl *c, int argc, char **argv);
int cmd_check(Ctl *c, int argc, char **argv);
int cmd_explain(Ctl *c, int argc, char **argv);
int cmd_home(Ctl *c, int argc, char **argv);
int cmd_hold(Ctl *c, int argc, char **argv);
int cmd_stop(Ctl *c, int argc, char **argv);

/* stop.c: the anchor holder's tick (anchor_hold): the containers' sweep
 * under the current policy. */
int ctl_anchor_tick(void *userdata);
int cmd_shell(Ctl *c, int argc, char **argv);
/* home.c: the project quota of the home in user_dir (<state_dir>/users/<user>)
 * as JSON (usage and limits), null if it is not counted */
json_t *home_disk_json(const char *user_dir, uid_t uid);

/* sessions.c: calls fn for each readable record; fn returns non-zero to
 * stop, a negative value to fail. */
typedef int (*CtlRecordFn)(Ctl *c, const Record *rec, const char *key, void *userdata);
int ctl_for_each_record(CtlRecordFn fn, Ctl *c, void *userdata);
/* A cgroup set's CPU time in ms and memory in bytes, -1 where unknown. */
long long ctl_cpu_ms(const CgSet *set);
long long ctl_memory(const CgSet *set);

/* containers.c: the per-user containers (container = user), from the
 * container records of every run dir in use. */
typedef struct CtlContainer {
        CtRecord rec;
        char run_dir[PATH_MAX];    /* where its record is */
        int alive;                 /* 0: its init verified (ct_open_init), else -errno */
        long long procs;           /* processes in ct/ and below; -1: unknown */
        long long cpu_ms;          /* -1: unknown */
        long long memory_bytes;    /* -1: unknown */
} CtlContainer;
/* The run dirs in use: the policy's (when it loads) and those the session
 * records name, at most CTL_MAX_RUN_DIRS. */
#define CTL_MAX_RUN_DIRS 16
typedef struct CtlRunDirs {
        char dir[CTL_MAX_RUN_DIRS][PATH_MAX];
        size_t n;
} CtlRunDirs;
int ctl_run_dirs(Ctl *c, CtlRunDirs *ret);
/* Only the policy's (when it loads), and one more. */
void ctl_run_dirs_conf(Ctl *c, CtlRunDirs *ret);
void ctl_run_dirs_add(CtlRunDirs *d, const char *dir);
/* Every readable container record of those run dirs, with its state and
 * counters; *ret is freed by the caller. */
int ctl_containers(const CtlRunDirs *dirs, CtlContainer **ret, size_t *ret_n);
/* Where a session lives, enough to tell which container it joined. */
typedef struct CtlSessionPlace {
        uid_t uid;
        bool sandbox;
        bool joins;                     /* its record says container=user */
        size_t n;
        char *cgroup[CG_MAX_DIRS];      /* its cgroup dirs */
} CtlSessionPlace;
int ctl_session_place(const Record *rec, CtlSessionPlace *ret);
void ctl_session_place_free(CtlSessionPlace *p);
/* Whether the session joined the container: a sandboxed session of its
 * uid, container=user, whose cgroup lies below the container's ct/. */
bool ctl_session_in_container(const CtlSessionPlace *s, const CtRecord *ct);

/* ct-output.c: a container as a row of `list` and the fields of `show`
 * (kind, container, user, uid, state, alive, reason, init_pid, started,
 * age_s, address, sessions, processes, cpu_ms, memory_bytes, home, shell,
 * cgroup); sessions (an array of session ids) is taken. */
json_t *ctl_ct_row(const CtlContainer *ct, json_t *sessions, time_t now);
/* The containers table of `list` (nothing when rows is empty), and
 * `show USER`'s key=value lines of one row. */
void ctl_ct_table(FILE *f, const json_t *rows);
void ctl_ct_fields(FILE *f, const json_t *row);
/* "45s", "12m05s", "3h04m", "2d05h" */
const char *ctl_age(char *buf, size_t size, long long seconds);


/* output.c. A string for a JSON value: strict UTF-8, each byte that is not
 * part of a valid sequence replaced by U+FFFD (a record's rhost or tty, a
 * path, are bytes as the kernel or the client gave them). NULL on ENOMEM. */
json_t *out_str(const char *s);
/* obj[key] = value, taking the reference; a NULL value (ENOMEM) sets the
 * error flag that out_emit reports. */
void out_set(json_t *obj, const char *key, json_t *value);
void out_append(json_t *array, json_t *value);
/* out_get_*: obj[key] as text ("" if absent), as an integer, as a bool. */
const char *out_get_str(const json_t *obj, const char *key);
long long out_get_int(const json_t *obj, const char *key);
bool out_get_bool(const json_t *obj, const char *key);
/* Text cells escaped as in the log (control and non-ASCII bytes as \xHH). */
const char *out_text(char *buf, size_t size, const char *s);

/* One column of a text table: the key, its header, its width (negative:
 * left-aligned, as printf) and, for strings, the text of "" (e.g. "-"). */
typedef struct OutColumn {
        const char *key, *header;
        int width;
        const char *empty;
} OutColumn;
void out_table(FILE *f, const json_t *rows, const OutColumn *cols, size_t n_cols);

/* Prints value (its reference is taken): compact JSON and a newline with
 * --json, else text(value) when text is not NULL. Returns 0, or -ENOMEM if
 * building the value failed anywhere (nothing printed then), -EIO if stdout
 * failed. */
typedef void (*OutTextFn)(const json_t *value);
int out_emit(const Ctl *c, json_t *value, OutTextFn text);
