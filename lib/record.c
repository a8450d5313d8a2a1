/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The session record. The PAM module (root) writes it; the setuid helper
 * reads it and trusts nothing else about the session. Parsing is strict
 * because a record that does not parse must refuse the login, never be
 * half-read. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cubby/conf.h"
#include "cubby/proc.h"
#include "cubby/record.h"

int record_key(pid_t pid, uint64_t starttime, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%d-%llu", (int)pid, (unsigned long long)starttime);

        if (pid <= 0 || n < 0 || (size_t)n >= size)
                return -EINVAL;
        return 0;
}

int record_escape(const char *in, char *out, size_t size)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
                if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
                        if (o + 1 >= size)
                                return -ENAMETOOLONG;
                        out[o++] = (char)*p;
                } else {
                        if (o + 4 >= size)
                                return -ENAMETOOLONG;
                        out[o++] = '\\';
                        out[o++] = 'x';
                        out[o++] = hex[*p >> 4];
                        out[o++] = hex[*p & 15];
                }
        }
        if (o >= size)
                return -ENAMETOOLONG;
        out[o] = 0;
        return 0;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int record_unescape(const char *in, char *out, size_t size)
{
        size_t o = 0;

        for (const char *p = in; *p; p++) {
                char c = *p;

                if (c == '\\') {
                        int hi, lo;

                        if (p[1] != 'x')
                                return -EINVAL;
                        hi = hexval(p[2]);
                        lo = hi < 0 ? -1 : hexval(p[3]);
                        if (hi < 0 || lo < 0)
                                return -EINVAL;
                        c = (char)(hi << 4 | lo);
                        if (c == 0)
                                return -EINVAL;
                        p += 3;
                } else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
                        return -EINVAL;
                }
                if (o + 1 >= size)
                        return -ENAMETOOLONG;
                out[o++] = c;
        }
        out[o] = 0;
        return 0;
}

enum {
        F_VERSION, F_ID, F_STATE, F_OPENER, F_UID, F_GID, F_USER, F_HOME, F_SHELL,
        F_GECOS, F_MODE, F_REDIRECT, F_SANDBOX, F_SERVICE, F_RHOST, F_TTY, F_HOSTNAME,
        F_SECCOMP, F_NETWORK, F_CREATED, F_STATE_DIR, F_RUN_DIR, F_HOME_MOUNT, F_NET, F_RESOLV, F_GROUPS,
        F_MAX_CONTAINERS, F_CONTAINER, F_HOME_DIRECT, _F_SINGLE,
};

static const char *const single_keys[_F_SINGLE] = {
        [F_VERSION] = "version", [F_ID] = "id", [F_STATE] = "state", [F_OPENER] = "opener",
        [F_UID] = "uid", [F_GID] = "gid", [F_USER] = "user", [F_HOME] = "home",
        [F_SHELL] = "shell", [F_GECOS] = "gecos", [F_MODE] = "mode",
        [F_REDIRECT] = "redirect", [F_SANDBOX] = "sandbox", [F_SERVICE] = "service",
        [F_RHOST] = "rhost", [F_TTY] = "tty", [F_HOSTNAME] = "hostname",
        [F_SECCOMP] = "seccomp", [F_NETWORK] = "network", [F_CREATED] = "created",
        [F_STATE_DIR] = "state_dir", [F_RUN_DIR] = "run_dir", [F_HOME_MOUNT] = "home_mount",
        [F_NET] = "net", [F_RESOLV] = "resolv", [F_GROUPS] = "groups",
        [F_MAX_CONTAINERS] = "max_containers", [F_CONTAINER] = "container",
        [F_HOME_DIRECT] = "home_direct",
};

static int parse_yesno(const char *v, bool *ret)
{
        if (strcmp(v, "yes") == 0)
                *ret = true;
        else if (strcmp(v, "no") == 0)
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

/* The values that end up in generated /etc/passwd lines must not be able to
 * add fields or lines there. */
static bool passwd_safe(const char *s)
{
        return !strchr(s, ':') && !strchr(s, '\n');
}

static int parse_opener(const char *v, pid_t *ret_pid, uint64_t *ret_start)
{
        char pid[16];
        const char *dash = strchr(v, '-');

        if (!dash || (size_t)(dash - v) >= sizeof pid)
                return -EINVAL;
        memcpy(pid, v, (size_t)(dash - v));
        pid[dash - v] = 0;
        if (parse_pid(pid, ret_pid) < 0 || parse_u64(dash + 1, ret_start) < 0)
                return -EINVAL;
        return 0;
}

/* "G1,G2,..." decimal gids */
static int parse_groups(Record *r, const char *v)
{
        char buf[16];

        r->n_groups = 0;
        while (*v) {
                size_t n = strcspn(v, ",");
                gid_t g;

                if (n == 0 || n >= sizeof buf || r->n_groups >= RECORD_MAX_GROUPS)
                        return -EINVAL;
                memcpy(buf, v, n);
                buf[n] = 0;
                if (parse_uid(buf, &g) < 0)
                        return -EINVAL;
                r->groups[r->n_groups++] = g;
                v += n;
                if (*v == ',' && *++v == 0)
                        return -EINVAL;
        }
        return 0;
}

/* "A.B.C.D/P" with 8 <= P <= 30, in place: each number strictly decimal
 * and range checked (sscanf's %u would wrap 4294967297 to 1). */
static int parse_ipv4_prefix(char *s, uint32_t *ret_addr, unsigned *ret_prefix)
{
        char *slash = strchr(s, '/');
        uint32_t addr = 0;
        uint64_t v;

        if (!slash)
                return -EINVAL;
        *slash = 0;
        for (int i = 0; i < 4; i++) {
                char *dot = strchr(s, '.');

                if ((i < 3) != (dot != NULL))
                        return -EINVAL;
                if (dot)
                        *dot = 0;
                if (parse_u64(s, &v) < 0 || v > 255)
                        return -EINVAL;
                addr = addr << 8 | (uint32_t)v;
                if (dot)
                        s = dot + 1;
        }
        if (parse_u64(slash + 1, &v) < 0 || v < 8 || v > 30)
                return -EINVAL;
        *ret_addr = addr;
        *ret_prefix = (unsigned)v;
        return 0;
}

/* "BRIDGE A.B.C.D/P refuse|fallback-none[ routed]", single spaces, as
 * record_format writes it */
static int parse_net(Record *r, const char *v)
{
        char buf[64], *cidr, *mode, *extra;
        uint32_t addr;
        unsigned prefix;

        if (strscpy(buf, sizeof buf, v) < 0)
                return -EINVAL;
        cidr = strchr(buf, ' ');
        if (!cidr)
                return -EINVAL;
        *cidr++ = 0;
        mode = strchr(cidr, ' ');
        if (!mode)
                return -EINVAL;
        *mode++ = 0;
        extra = strchr(mode, ' ');
        if (extra) {
                *extra++ = 0;
                if (strcmp(extra, "routed") != 0)
                        return -EINVAL;
                r->net_routed = true;
        }
        if (!name_is_safe(buf, 15) || parse_ipv4_prefix(cidr, &addr, &prefix) < 0)
                return -EINVAL;
        if (strcmp(mode, "refuse") == 0)
                r->net_fallback_none = false;
        else if (strcmp(mode, "fallback-none") == 0)
                r->net_fallback_none = true;
        else
                return -EINVAL;
        if (strscpy(r->bridge, sizeof r->bridge, buf) < 0)
                return -EINVAL;
        r->subnet = addr;
        r->prefix = prefix;
        return 0;
}

static int set_single(Record *r, int f, const char *v)
{
        uint64_t u;

        switch (f) {
        case F_VERSION:
                if (strcmp(v, "1") != 0)
                        return -EPROTONOSUPPORT;
                r->version = 1;
                return 0;
        case F_ID:
                if (strlen(v) != CUBBY_ID_LEN || strspn(v, "0123456789abcdef") != CUBBY_ID_LEN)
                        return -EINVAL;
                return strscpy(r->id, sizeof r->id, v);
        case F_STATE:
                if (strcmp(v, "ready") == 0)
                        r->ready = true;
                else if (strcmp(v, "preparing") == 0)
                        r->ready = false;
                else
                        return -EINVAL;
                return 0;
        case F_OPENER:
                return parse_opener(v, &r->opener_pid, &r->opener_start);
        case F_UID:
                return parse_uid(v, &r->uid);
        case F_GID:
                return parse_uid(v, &r->gid);
        case F_USER:
                if (!name_is_safe(v, sizeof r->user - 1))
                        return -EINVAL;
                return strscpy(r->user, sizeof r->user, v);
        case F_HOME:
                if (!path_is_normalized_absolute(v) || !passwd_safe(v))
                        return -EINVAL;
                return strscpy(r->home, sizeof r->home, v);
        case F_SHELL:
                if (!path_is_normalized_absolute(v) || !passwd_safe(v))
                        return -EINVAL;
                return strscpy(r->shell, sizeof r->shell, v);
        case F_GECOS:
                if (!passwd_safe(v))
                        return -EINVAL;
                return strscpy(r->gecos, sizeof r->gecos, v);
        case F_MODE:
                if (strcmp(v, "redirect") == 0)
                        r->mode = RECORD_MODE_REDIRECT;
                else if (strcmp(v, "login-shell") == 0)
                        r->mode = RECORD_MODE_LOGIN_SHELL;
                else
                        return -EINVAL;
                return 0;
        case F_REDIRECT:
                if (!path_is_normalized_absolute(v))
                        return -EINVAL;
                return strscpy(r->redirect, sizeof r->redirect, v);
        case F_SANDBOX:
                return parse_yesno(v, &r->sandbox);
        case F_SERVICE:
                return strscpy(r->service, sizeof r->service, v);
        case F_RHOST:
                return strscpy(r->rhost, sizeof r->rhost, v);
        case F_TTY:
                return strscpy(r->tty, sizeof r->tty, v);
        case F_HOSTNAME:
                /* a UTS name: letters, digits, '-' and '.', at most 63 */
                if (strlen(v) > 63 || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != strlen(v))
                        return -EINVAL;
                return strscpy(r->hostname, sizeof r->hostname, v);
        case F_SECCOMP:
                for (int s = 0; s < _CONF_SECCOMP_MAX; s++)
                        if (strcmp(v, conf_seccomp_name(s)) == 0) {
                                r->seccomp = s;
                                return 0;
                        }
                return -EINVAL;
        case F_NETWORK:
                if (strcmp(v, "none") == 0)
                        r->network = 0;
                else if (strcmp(v, "nat") == 0)
                        r->network = 1;
                else
                        return -EINVAL;
                return 0;
        case F_CREATED:
                if (parse_u64(v, &u) < 0)
                        return -EINVAL;
                r->created = u;
                return 0;
        case F_STATE_DIR:
                if (!path_is_normalized_absolute(v))
                        return -EINVAL;
                return strscpy(r->state_dir, sizeof r->state_dir, v);
        case F_RUN_DIR:
                if (!path_is_normalized_absolute(v))
                        return -EINVAL;
                return strscpy(r->run_dir, sizeof r->run_dir, v);
        case F_HOME_MOUNT:
                if (!path_is_normalized_absolute(v))
                        return -EINVAL;
                return strscpy(r->home_mount, sizeof r->home_mount, v);
        case F_HOME_DIRECT:
                return parse_yesno(v, &r->home_direct);
        case F_NET:
                return parse_net(r, v);
        case F_RESOLV:
                return strscpy(r->resolv, sizeof r->resolv, v);
        case F_GROUPS:
                return parse_groups(r, v);
        case F_MAX_CONTAINERS:
                if (parse_u64(v, &u) < 0 || u == 0 || u > UINT32_MAX)
                        return -EINVAL;
                r->max_containers = (uint32_t)u;
                return 0;
        case F_CONTAINER:
                if (strcmp(v, conf_container_name(CONF_CONTAINER_LOGIN)) == 0)
                        r->container = CONF_CONTAINER_LOGIN;
                else if (strcmp(v, conf_container_name(CONF_CONTAINER_USER)) == 0)
                        r->container = CONF_CONTAINER_USER;
                else
                        return -EINVAL;
                return 0;
        }
        return -EINVAL;
}

/* Everything zero but the entries of env and hide, which are written as
 * they are parsed and read only below n_env and n_hide. Those two arrays
 * are 384 of the Record's 442 KiB: the setuid helper parses into a zeroed
 * static Record, and a memset of all of it cost it 96 page faults more
 * per login. */
static void record_reset(Record *r)
{
        memset(r, 0, offsetof(Record, env));
        memset(&r->n_env, 0, offsetof(Record, hide) - offsetof(Record, n_env));
        memset(&r->n_hide, 0, sizeof *r - offsetof(Record, n_hide));
}

int record_parse(const char *text, size_t len, Record *ret)
{
        _cleanup_free_ char *val = NULL;
        bool seen[_F_SINGLE] = {};
        const char *p = text, *end = text + len;
        Record *r = ret;
        int k;

        if (len > RECORD_MAX_SIZE)
                return -E2BIG;
        val = malloc(RECORD_VALUE_MAX + 1);
        if (!val)
                return -ENOMEM;
        record_reset(r);
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p)), *eq;
                char key[32], raw[RECORD_VALUE_MAX * 4 + 1];
                size_t n;
                int f = -1;

                if (!nl) /* every line, the last one too, ends in '\n' */
                        return -EINVAL;
                n = (size_t)(nl - p);
                if (n >= sizeof raw || memchr(p, 0, n))
                        return -EINVAL;
                eq = memchr(p, '=', n);
                if (!eq || eq == p || (size_t)(eq - p) >= sizeof key)
                        return -EINVAL;
                memcpy(key, p, (size_t)(eq - p));
                key[eq - p] = 0;
                memcpy(raw, eq + 1, (size_t)(nl - eq - 1));
                raw[nl - eq - 1] = 0;
                p = nl + 1;
                if (record_unescape(raw, val, RECORD_VALUE_MAX + 1) < 0)
                        return -EINVAL;

                for (int i = 0; i < _F_SINGLE; i++)
                        if (strcmp(key, single_keys[i]) == 0)
                                f = i;
                if (f >= 0) {
                        if (seen[f])
                                return -EINVAL;
                        seen[f] = true;
                        k = set_single(r, f, val);
                        if (k < 0)
                                return -EINVAL;
                } else if (strcmp(key, "cgroup") == 0) {
                        if (r->cgroup.n >= CG_MAX_DIRS)
                                return -EINVAL;
                        if (cg_dir_parse(val, &r->cgroup.dir[r->cgroup.n]) < 0)
                                return -EINVAL;
                        r->cgroup.n++;
                } else if (strcmp(key, "env") == 0) {
                        const char *e = strchr(val, '=');

                        if (r->n_env >= RECORD_MAX_ENV || !e || e == val)
                                return -EINVAL;
                        if (strscpy(r->env[r->n_env], sizeof r->env[0], val) < 0)
                                return -EINVAL;
                        r->n_env++;
                } else if (strcmp(key, "group_name") == 0) {
                        char *sp = strchr(val, ' ');
                        size_t gi = r->n_group_names;

                        if (gi >= RECORD_MAX_GROUPS || !sp)
                                return -EINVAL;
                        *sp = 0;
                        if (parse_uid(val, &r->group_names[gi].gid) < 0 ||
                            !name_is_safe(sp + 1, sizeof r->group_names[gi].name - 1) ||
                            strscpy(r->group_names[gi].name, sizeof r->group_names[gi].name,
                                    sp + 1) < 0)
                                return -EINVAL;
                        r->n_group_names++;
                } else if (strcmp(key, "hide") == 0) {
                        if (r->n_hide >= RECORD_MAX_HIDE || !path_is_normalized_absolute(val))
                                return -EINVAL;
                        if (strscpy(r->hide[r->n_hide], sizeof r->hide[0], val) < 0)
                                return -EINVAL;
                        r->n_hide++;
                } else {
                        return -EINVAL;
                }
        }
        for (int f = 0; f < _F_SINGLE; f++) {
                bool optional = f == F_REDIRECT || f == F_GECOS || f == F_RHOST ||
                                f == F_TTY || f == F_STATE_DIR || f == F_HOSTNAME ||
                                f == F_RUN_DIR || f == F_HOME_MOUNT || f == F_NET ||
                                f == F_RESOLV || f == F_GROUPS || f == F_MAX_CONTAINERS ||
                                f == F_CONTAINER || f == F_HOME_DIRECT;

                if (!seen[f] && !optional)
                        return -EINVAL;
        }
        if (r->mode == RECORD_MODE_REDIRECT && r->sandbox && !r->redirect[0])
                return -EINVAL;
        if (r->sandbox && r->cgroup.n == 0)
                return -EINVAL;
        if (r->home_mount[0] && !r->run_dir[0])
                return -EINVAL;
        /* one home: the overlay or the real one */
        if (r->home_direct && r->home_mount[0])
                return -EINVAL;
        if (r->network && (!seen[F_NET] || !r->run_dir[0]))
                return -EINVAL;
        /* a joined session needs the run_dir of its container's record */
        if (r->container == CONF_CONTAINER_USER && (!r->sandbox || !r->run_dir[0]))
                return -EINVAL;
        return 0;
}

int record_read(int sessions_dirfd, const char *key, uid_t owner_uid, Record *ret)
{
        _cleanup_free_ char *text = NULL;
        char want[RECORD_KEY_MAX];
        struct stat st;
        size_t len;
        int k;

        k = read_file_at(sessions_dirfd, key, RECORD_MAX_SIZE, &text, &len, &st);
        if (k == -ELOOP || k == -EBADFD)
                return -EPERM;
        if (k < 0)
                return k;
        /* Only root may have written what decides about a sandbox. */
        if (st.st_uid != owner_uid || (st.st_mode & 022) || st.st_nlink != 1)
                return -EPERM;
        k = record_parse(text, len, ret);
        if (k < 0)
                return k;
        k = record_key(ret->opener_pid, ret->opener_start, want, sizeof want);
        if (k < 0 || strcmp(want, key) != 0)
                return -EINVAL;
        return 0;
}

int record_user_dir_name(uid_t uid, char *buf, size_t size)
{
        int n = snprintf(buf, size, "u%u", (unsigned)uid);

        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int record_user_dir(int sessions_fd, uid_t uid, bool create, int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        struct stat top, st;
        char name[16];
        int r;

        r = record_user_dir_name(uid, name, sizeof name);
        if (r < 0)
                return r;
        if (create && mkdirat(sessions_fd, name, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(sessions_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ELOOP || errno == ENOTDIR ? -EPERM : -errno;
        /* as private as the sessions dir it is in, and owned alike */
        if (fstat(sessions_fd, &top) < 0 || fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != top.st_uid || (st.st_mode & 077))
                return -EPERM;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int record_read_user(int sessions_fd, uid_t uid, const char *key, Record *ret)
{
        _cleanup_close_ int ufd = -1;
        int r;

        r = record_user_dir(sessions_fd, uid, false, &ufd);
        if (r < 0)
                return r;
        r = record_read(ufd, key, 0, ret);
        if (r == 0 && ret->uid != uid)
                return -EPERM;
        return r;
}

int record_find_ancestor(const char *proc_root, int sessions_dirfd, pid_t start_pid,
                         unsigned max_depth, uid_t owner_uid, uid_t uid, gid_t gid,
                         Record *ret, unsigned *ret_depth)
{
        pid_t pid = start_pid;

        for (unsigned depth = 0; depth <= max_depth && pid > 1; depth++) {
                char key[RECORD_KEY_MAX];
                uint64_t start;
                pid_t ppid;
                int k;

                k = proc_stat(proc_root, pid, &ppid, &start);
                if (k < 0)
                        return k;
                k = record_key(pid, start, key, sizeof key);
                if (k < 0)
                        return k;
                k = record_read(sessions_dirfd, key, owner_uid, ret);
                if (k == 0) {
                        /* The record must be about the caller. */
                        if (ret->uid != uid || ret->gid != gid)
                                return -EPERM;
                        if (!ret->ready)
                                return -EAGAIN;
                        if (ret_depth)
                                *ret_depth = depth;
                        return 0;
                }
                if (k != -ENOENT)
                        return k;
                pid = ppid;
        }
        return -ENOENT;
}
