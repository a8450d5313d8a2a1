/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What cubbyctl's command files share (private to cubbyctl): the command
 * context, the policy, the session records and the output. Every command
 * builds its result once as a jansson value; output.c prints it as JSON
 * (--json) or as the command's text form. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "cubby/conf.h"
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

/* sessions.c: calls fn for each readable record; fn returns non-zero to
 * stop, a negative value to fail. */
typedef int (*CtlRecordFn)(Ctl *c, const Record *rec, const char *key, void *userdata);
int ctl_for_each_record(CtlRecordFn fn, Ctl *c, void *userdata);


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
