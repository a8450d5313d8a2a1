/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A per-user container as cubbyctl prints it: one jansson object built from
 * its record and what containers.c measured, shown as a row of `list`'s
 * containers table or as `show USER`'s key=value lines. Pure: no file,
 * no /proc (unit-tested). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "cubby/conf.h"

const char *ctl_age(char *buf, size_t size, long long s)
{
        if (s < 0)
                s = 0;
        if (s < 60)
                snprintf(buf, size, "%llds", s);
        else if (s < 3600)
                snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
        else
                snprintf(buf, size, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
        return buf;
}

static json_t *counter(long long v)
{
        return v < 0 ? json_null() : json_integer(v);
}

static const char *state_reason(int alive)
{
        switch (alive) {
        case 0:
                return "";
        case -ESRCH:
                return "init gone";
        case -ESTALE:
                return "namespaces differ";
        default:
                return strerror(-alive);
        }
}

json_t *ctl_ct_row(const CtlContainer *ct, json_t *sessions, time_t now)
{
        const CtRecord *r = &ct->rec;
        json_t *row = json_object(), *cg = json_array();
        time_t t = (time_t)r->created;
        char name[16], started[32], addr[INET_ADDRSTRLEN];
        struct tm tm;

        if (ct_name(r->uid, name, sizeof name) < 0)
                name[0] = 0;
        if (!localtime_r(&t, &tm) || strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                snprintf(started, sizeof started, "?");
        if (r->addr) {
                struct in_addr a = { .s_addr = htonl(r->addr) };

                if (!inet_ntop(AF_INET, &a, addr, sizeof addr))
                        snprintf(addr, sizeof addr, "?");
        } else {
                snprintf(addr, sizeof addr, "-");
        }
        for (size_t i = 0; i < r->cgroup.n; i++)
                out_append(cg, out_str(r->cgroup.dir[i].path));
        out_set(row, "kind", out_str("container"));
        out_set(row, "container", out_str(name));
        out_set(row, "user", out_str(r->user));
        out_set(row, "uid", json_integer(r->uid));
        out_set(row, "state", out_str(ct->alive == 0 ? "running" : "stale"));
        out_set(row, "alive", json_boolean(ct->alive == 0));
        out_set(row, "reason", out_str(state_reason(ct->alive)));
        out_set(row, "init_pid", json_integer(r->init_pid));
        out_set(row, "started", out_str(started));
        out_set(row, "age_s", json_integer(now >= t ? (long long)(now - t) : 0));
        out_set(row, "address", out_str(addr));
        out_set(row, "sessions", sessions ? sessions : json_array());
        out_set(row, "processes", counter(ct->procs));
        out_set(row, "cpu_ms", counter(ct->cpu_ms));
        out_set(row, "memory_bytes", counter(ct->memory_bytes));
        out_set(row, "home", out_str(r->home));
        out_set(row, "shell", out_str(r->shell));
        out_set(row, "cgroup", cg);
        return row;
}

/* The table's view of a row: the age as text and the number of sessions,
 * as extra keys of a copy. */
static json_t *table_row(const json_t *row)
{
        json_t *v = json_copy((json_t *)row);
        char age[32];

        if (!v)
                return NULL;
        out_set(v, "age", out_str(ctl_age(age, sizeof age, out_get_int(row, "age_s"))));
        out_set(v, "n_sessions", json_integer((json_int_t)json_array_size(json_object_get(row, "sessions"))));
        return v;
}

void ctl_ct_table(FILE *f, const json_t *rows)
{
        /* USER second and SESSIONS ninth: a script reading the sessions
         * table by $2 and $9 == "live" does not take these lines for
         * sessions */
        static const OutColumn cols[] = {
                { "container", "CONTAINER", -10, NULL }, { "user", "USER", -12, NULL },
                { "uid", "UID", 6, NULL },              { "init_pid", "INIT", 7, NULL },
                { "started", "STARTED", -19, NULL },    { "age", "AGE", -6, NULL },
                { "state", "STATE", -7, NULL },         { "address", "ADDRESS", -15, NULL },
                { "n_sessions", "SESSIONS", 8, NULL },  { "processes", "PROCS", 5, "-" },
                { "cpu_ms", "CPU_MS", 8, "-" },         { "memory_bytes", "MEMORY", 0, "-" },
        };
        json_t *view;

        if (json_array_size(rows) == 0)
                return;
        view = json_array();
        for (size_t i = 0; i < json_array_size(rows); i++)
                out_append(view, table_row(json_array_get(rows, i)));
        out_table(f, view, cols, ELEMENTSOF(cols));
        json_decref(view);
}

void ctl_ct_fields(FILE *f, const json_t *row)
{
        static const char *const keys[] = {
                "container", "user", "uid", "state", "reason", "init_pid", "started", "age_s",
                "address", "processes", "cpu_ms", "memory_bytes", "home", "shell",
        };
        const json_t *list;
        char esc[1024];

        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                const json_t *v = json_object_get(row, keys[k]);

                if (json_is_integer(v))
                        fprintf(f, "%s=%lld\n", keys[k], (long long)json_integer_value(v));
                else if (json_is_string(v) && json_string_length(v) > 0)
                        fprintf(f, "%s=%s\n", keys[k], out_text(esc, sizeof esc, json_string_value(v)));
                else if (strcmp(keys[k], "reason") != 0)
                        fprintf(f, "%s=-\n", keys[k]);
        }
        list = json_object_get(row, "sessions");
        fprintf(f, "sessions=");
        for (size_t i = 0; i < json_array_size(list); i++)
                fprintf(f, "%s%s", i ? "," : "",
                        out_text(esc, sizeof esc, json_string_value(json_array_get(list, i))));
        fprintf(f, "%s\n", json_array_size(list) ? "" : "-");
        list = json_object_get(row, "cgroup");
        for (size_t i = 0; i < json_array_size(list); i++)
                fprintf(f, "cgroup=%s\n", out_text(esc, sizeof esc, json_string_value(json_array_get(list, i))));
}
