/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conf_resolve(): which section sets each key for a user: [default],
 * then every matching [group], then [user], later wins. */
#include <string.h>

#include "conf-internal.h"
#include "cubby/conf.h"
#include "cubby/util.h"

/* ---- resolution ---- */

static void copy_key(ConfPolicy *dst, const ConfPolicy *src, int key)
{
        switch (key) {
        case CONF_KEY_SANDBOX: dst->sandbox = src->sandbox; break;
        case CONF_KEY_CPU: dst->cpu_milli = src->cpu_milli; break;
        case CONF_KEY_MEMORY: dst->memory = src->memory; break;
        case CONF_KEY_SWAP: dst->swap = src->swap; break;
        case CONF_KEY_PIDS: dst->pids = src->pids; break;
        case CONF_KEY_NETWORK: dst->network = src->network; break;
        case CONF_KEY_SHELL: memcpy(dst->shell, src->shell, sizeof dst->shell); break;
        case CONF_KEY_SERVICES:
                memcpy(dst->services, src->services, sizeof dst->services);
                dst->n_services = src->n_services;
                break;
        case CONF_KEY_HOSTNAME: memcpy(dst->hostname, src->hostname, sizeof dst->hostname); break;
        case CONF_KEY_HIDE:
                memcpy(dst->hide, src->hide, sizeof dst->hide);
                dst->n_hide = src->n_hide;
                break;
        case CONF_KEY_MAX_SESSIONS: dst->max_sessions = src->max_sessions; break;
        case CONF_KEY_HOME: dst->home = src->home; break;
        case CONF_KEY_HOME_LOWER:
                memcpy(dst->home_lower, src->home_lower, sizeof dst->home_lower);
                break;
        case CONF_KEY_SECCOMP: dst->seccomp = src->seccomp; break;
        case CONF_KEY_NETWORK_FALLBACK:
                dst->network_fallback_none = src->network_fallback_none;
                break;
        case CONF_KEY_CPUS: memcpy(dst->cpus, src->cpus, sizeof dst->cpus); break;
        case CONF_KEY_MAX_CONTAINERS: dst->max_containers = src->max_containers; break;
        case CONF_KEY_CONTAINER: dst->container = src->container; break;
        case CONF_KEY_LINGER: dst->linger_s = src->linger_s; break;
        case CONF_KEY_IDLE_CPU: dst->idle_cpu = src->idle_cpu; break;
        case CONF_KEY_STOP_GRACE: dst->stop_grace_s = src->stop_grace_s; break;
        case CONF_KEY_HOME_SIZE: dst->home_size = src->home_size; break;
        case CONF_KEY_HOME_INODES: dst->home_inodes = src->home_inodes; break;
        case CONF_KEY_HOME_LOWER_STATIC: dst->home_lower_static = src->home_lower_static; break;
        default: break;
        }
}

static bool section_matches(const ConfSection *s, ConfSectionKind kind, const char *user,
                            const char *const *groups, size_t n_groups)
{
        if (s->kind != kind)
                return false;
        switch (kind) {
        case CONF_SECTION_DEFAULT:
                return true;
        case CONF_SECTION_USER:
                return user && streq(s->name, user);
        case CONF_SECTION_GROUP:
                for (size_t i = 0; i < n_groups; i++)
                        if (groups && groups[i] && streq(s->name, groups[i]))
                                return true;
                return false;
        }
        return false;
}

void conf_resolve(const Conf *conf, const char *user, const char *const *groups, size_t n_groups,
                  ConfPolicy *ret, const ConfSection **sources)
{
        static const ConfSectionKind order[] = {
                CONF_SECTION_DEFAULT,
                CONF_SECTION_GROUP,
                CONF_SECTION_USER,
        };

        conf_policy_defaults(ret);
        if (sources)
                for (int k = 0; k < _CONF_KEY_MAX; k++)
                        sources[k] = NULL;
        if (!conf)
                return;
        for (size_t o = 0; o < ELEMENTSOF(order); o++)
                for (size_t i = 0; i < conf->n_sections; i++) {
                        const ConfSection *s = &conf->sections[i];

                        if (!section_matches(s, order[o], user, groups, n_groups))
                                continue;
                        for (int k = 0; k < _CONF_KEY_MAX; k++) {
                                if (!(s->set & (1u << k)))
                                        continue;
                                copy_key(ret, &s->values, k);
                                if (sources)
                                        sources[k] = s;
                        }
                }
}
