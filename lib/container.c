/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container record, the container lock and the verified pidfd of a
 * container's init (container.h). In the helper's core: the helper writes
 * the record when it starts a container and reads it to join one. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cubby/conf.h"
#include "cubby/container.h"
#include "cubby/proc.h"

const char *const ct_ns_names[_CT_NS_MAX] = {
        [CT_NS_USER] = "user", [CT_NS_MNT] = "mnt", [CT_NS_PID] = "pid",
        [CT_NS_NET] = "net",   [CT_NS_UTS] = "uts", [CT_NS_IPC] = "ipc",
        [CT_NS_CGROUP] = "cgroup",
};

int ct_name(uid_t uid, char *buf, size_t size)
{
        int n = snprintf(buf, size, "u%u", (unsigned)uid);

        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

enum {
        K_VERSION, K_UID, K_GID, K_USER, K_SESSION, K_INIT_PID, K_INIT_START, K_NS, K_ADDR,
        K_CREATED, K_HOME, K_SHELL, K_SECCOMP, K_GROUPS, _K_SINGLE,
};

static const char *const single_keys[_K_SINGLE] = {
        [K_VERSION] = "version",   [K_UID] = "uid",           [K_GID] = "gid",
        [K_USER] = "user",         [K_SESSION] = "session",   [K_INIT_PID] = "init_pid",
        [K_INIT_START] = "init_start", [K_NS] = "ns",         [K_ADDR] = "addr",
        [K_CREATED] = "created",   [K_HOME] = "home",         [K_SHELL] = "shell",
        [K_SECCOMP] = "seccomp",   [K_GROUPS] = "groups",
};

/* "DEV:I1:...:I7", all decimal */
static int parse_ns(CtRecord *r, const char *v)
{
        char buf[24];

        for (int i = -1; i < _CT_NS_MAX; i++) {
                size_t n = strcspn(v, ":");
                uint64_t x;

                if (n == 0 || n >= sizeof buf)
                        return -EINVAL;
                memcpy(buf, v, n);
                buf[n] = 0;
                if (parse_u64(buf, &x) < 0)
                        return -EINVAL;
                if (i < 0)
                        r->ns_dev = x;
                else if (x == 0)
                        return -EINVAL;
                else
                        r->ns_ino[i] = x;
                v += n;
                if (i < _CT_NS_MAX - 1) {
                        if (*v != ':')
                                return -EINVAL;
                        v++;
                }
        }
        return *v ? -EINVAL : 0;
}

static int parse_groups(CtRecord *r, const char *v)
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

static int parse_path(const char *v, char *out, size_t size)
{
        if (record_unescape(v, out, size) < 0 || !path_is_normalized_absolute(out))
                return -EINVAL;
        return 0;
}

static int parse_single(CtRecord *r, int k, const char *v)
{
        uint64_t u;
        struct in_addr a;

        switch (k) {
        case K_VERSION:
                if (parse_u64(v, &u) < 0 || u != 1)
                        return -EINVAL;
                r->version = 1;
                return 0;
        case K_UID:
                return parse_uid(v, &r->uid);
        case K_GID:
                return parse_uid(v, &r->gid);
        case K_USER:
                return name_is_safe(v, sizeof r->user - 1) ? strscpy(r->user, sizeof r->user, v)
                                                           : -EINVAL;
        case K_SESSION:
                if (strlen(v) != CUBBY_ID_LEN || strspn(v, "0123456789abcdef") != CUBBY_ID_LEN)
                        return -EINVAL;
                return strscpy(r->session, sizeof r->session, v);
        case K_INIT_PID:
                return parse_pid(v, &r->init_pid);
        case K_INIT_START:
                return parse_u64(v, &r->init_start);
        case K_NS:
                return parse_ns(r, v);
        case K_ADDR:
                if (strcmp(v, "-") == 0) {
                        r->addr = 0;
                        return 0;
                }
                if (inet_pton(AF_INET, v, &a) != 1 || a.s_addr == 0)
                        return -EINVAL;
                r->addr = ntohl(a.s_addr);
                return 0;
        case K_CREATED:
                return parse_u64(v, &r->created);
        case K_HOME:
                return parse_path(v, r->home, sizeof r->home);
        case K_SHELL:
                return parse_path(v, r->shell, sizeof r->shell);
        case K_SECCOMP:
                for (int s = CONF_SECCOMP_NO; s <= CONF_SECCOMP_ALLOW_IO_URING; s++)
                        if (strcmp(v, conf_seccomp_name(s)) == 0) {
                                r->seccomp = s;
                                return 0;
                        }
                return -EINVAL;
        case K_GROUPS:
                return parse_groups(r, v);
        }
        return -EINVAL;
}

int ct_parse(const char *text, size_t len, CtRecord *ret)
{
        _cleanup_free_ char *copy = NULL;
        bool seen[_K_SINGLE] = { false };
        CtRecord r = { 0 };
        char *line, *save = NULL;

        if (len > CT_RECORD_MAX_SIZE)
                return -E2BIG;
        if (memchr(text, 0, len))
                return -EINVAL;
        copy = strndup(text, len);
        if (!copy)
                return -ENOMEM;
        if (len == 0 || copy[len - 1] != '\n')
                return -EINVAL;
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');
                int k;

                if (!eq)
                        return -EINVAL;
                *eq = 0;
                if (strcmp(line, "cgroup") == 0) {
                        if (r.cgroup.n >= CG_MAX_DIRS ||
                            cg_dir_parse(eq + 1, &r.cgroup.dir[r.cgroup.n]) < 0)
                                return -EINVAL;
                        r.cgroup.n++;
                        continue;
                }
                for (k = 0; k < _K_SINGLE; k++)
                        if (strcmp(line, single_keys[k]) == 0)
                                break;
                if (k == _K_SINGLE || seen[k] || parse_single(&r, k, eq + 1) < 0)
                        return -EINVAL;
                seen[k] = true;
        }
        for (int k = 0; k < _K_SINGLE; k++)
                if (!seen[k])
                        return -EINVAL;
        if (r.cgroup.n == 0 || cg_set_check(&r.cgroup) < 0)
                return -EINVAL;
        *ret = r;
        return 0;
}

/* A growing string. */
typedef struct Text {
        char *p;
        size_t len, cap;
        int err;
} Text;

static void put(Text *t, const char *key, const char *value)
{
        size_t need = strlen(key) + 1 + strlen(value) + 1;

        if (t->err)
                return;
        if (t->len + need + 1 > t->cap) {
                size_t cap = (t->cap ? t->cap * 2 : 1024) + need;
                char *p = realloc(t->p, cap);

                if (!p) {
                        t->err = -ENOMEM;
                        return;
                }
                t->p = p;
                t->cap = cap;
        }
        t->len += (size_t)sprintf(t->p + t->len, "%s=%s\n", key, value);
}

static void putu(Text *t, const char *key, unsigned long long v)
{
        char s[24];

        snprintf(s, sizeof s, "%llu", v);
        put(t, key, s);
}

static void put_path(Text *t, const char *key, const char *path)
{
        char esc[PATH_MAX * 4 + 1];

        if (!path_is_normalized_absolute(path) || record_escape(path, esc, sizeof esc) < 0) {
                t->err = t->err ? t->err : -EINVAL;
                return;
        }
        put(t, key, esc);
}

int ct_format(const CtRecord *r, char **ret, size_t *ret_len)
{
        Text t = { 0 };
        char s[512];
        size_t o = 0;

        if (!name_is_safe(r->user, sizeof r->user - 1) || r->init_pid <= 0 || r->cgroup.n == 0)
                return -EINVAL;
        putu(&t, "version", 1);
        putu(&t, "uid", r->uid);
        putu(&t, "gid", r->gid);
        put(&t, "user", r->user);
        put(&t, "session", r->session);
        putu(&t, "init_pid", (unsigned long long)r->init_pid);
        putu(&t, "init_start", r->init_start);
        o = (size_t)snprintf(s, sizeof s, "%llu", (unsigned long long)r->ns_dev);
        for (int i = 0; i < _CT_NS_MAX && o < sizeof s; i++)
                o += (size_t)snprintf(s + o, sizeof s - o, ":%llu",
                                      (unsigned long long)r->ns_ino[i]);
        put(&t, "ns", s);
        if (r->addr) {
                struct in_addr a = { .s_addr = htonl(r->addr) };

                if (!inet_ntop(AF_INET, &a, s, sizeof s))
                        return -EINVAL;
                put(&t, "addr", s);
        } else {
                put(&t, "addr", "-");
        }
        putu(&t, "created", r->created);
        for (size_t i = 0; i < r->cgroup.n; i++) {
                char d[PATH_MAX + 32];

                if (cg_dir_format(&r->cgroup.dir[i], d, sizeof d) < 0) {
                        free(t.p);
                        return -EINVAL;
                }
                put(&t, "cgroup", d);
        }
        put_path(&t, "home", r->home);
        put_path(&t, "shell", r->shell);
        put(&t, "seccomp", conf_seccomp_name(r->seccomp));
        o = 0;
        s[0] = 0;
        for (size_t i = 0; i < r->n_groups && o < sizeof s; i++)
                o += (size_t)snprintf(s + o, sizeof s - o, "%s%u", i ? "," : "",
                                      (unsigned)r->groups[i]);
        if (o >= sizeof s) {
                free(t.p);
                return -E2BIG;
        }
        put(&t, "groups", s);
        if (t.err) {
                free(t.p);
                return t.err;
        }
        *ret = t.p;
        *ret_len = t.len;
        return 0;
}

int ct_dir_open(const char *run_dir, bool create, int *ret_fd)
{
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s", run_dir, CT_DIR_NAME);

        if (n < 0 || (size_t)n >= sizeof path)
                return -ENAMETOOLONG;
        return session_dir_open(path, create, ret_fd);
}

int ct_read(int ct_dirfd, uid_t uid, CtRecord *ret)
{
        _cleanup_free_ char *text = NULL;
        struct stat st;
        char name[16];
        size_t len;
        int r;

        r = ct_name(uid, name, sizeof name);
        if (r < 0)
                return r;
        r = read_file_at(ct_dirfd, name, CT_RECORD_MAX_SIZE, &text, &len, &st);
        if (r < 0)
                return r == -ELOOP ? -EPERM : r;
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077) || st.st_nlink != 1)
                return -EPERM;
        r = ct_parse(text, len, ret);
        if (r < 0)
                return r;
        return ret->uid == uid ? 0 : -EINVAL;
}

int ct_write(int ct_dirfd, const CtRecord *r)
{
        _cleanup_free_ char *text = NULL;
        char name[16];
        size_t len;
        int k;

        k = ct_name(r->uid, name, sizeof name);
        if (k < 0)
                return k;
        k = ct_format(r, &text, &len);
        if (k < 0)
                return k;
        return write_file_atomic_at_nosync(ct_dirfd, name, text, len, 0600);
}

int ct_remove(int ct_dirfd, uid_t uid)
{
        char name[16];
        int r = ct_name(uid, name, sizeof name);

        if (r < 0)
                return r;
        if (unlinkat(ct_dirfd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static void sleep_ms(unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int ct_lock(const char *run_dir, uid_t uid, unsigned timeout_ms, int *ret_fd)
{
        _cleanup_close_ int dfd = -1, fd = -1;
        char path[PATH_MAX], name[32];
        unsigned waited = 0;
        int n = snprintf(path, sizeof path, "%s/locks", run_dir), r;

        if (n < 0 || (size_t)n >= sizeof path)
                return -ENAMETOOLONG;
        r = session_dir_open(path, true, &dfd);
        if (r < 0)
                return r;
        snprintf(name, sizeof name, "u%u.ct.lock", (unsigned)uid);
        fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return -errno;
                if (waited >= timeout_ms)
                        return -ETIMEDOUT;
                sleep_ms(10);
                waited += 10;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int ct_ns_read(const char *proc_root, pid_t pid, uint64_t *ret_dev,
               uint64_t ret_ino[_CT_NS_MAX])
{
        uint64_t dev = 0;

        for (int i = 0; i < _CT_NS_MAX; i++) {
                char path[PATH_MAX];
                struct stat st;
                int n = snprintf(path, sizeof path, "%s/%d/ns/%s", proc_root, (int)pid,
                                 ct_ns_names[i]);

                if (n < 0 || (size_t)n >= sizeof path)
                        return -ENAMETOOLONG;
                if (stat(path, &st) < 0)
                        return errno == ENOENT ? -ESRCH : -errno;
                if (i > 0 && (uint64_t)st.st_dev != dev)
                        return -ESTALE;
                dev = (uint64_t)st.st_dev;
                ret_ino[i] = (uint64_t)st.st_ino;
        }
        *ret_dev = dev;
        return 0;
}

int ct_open_init(const char *proc_root, const CtRecord *r, int *ret_pidfd)
{
        _cleanup_close_ int fd = -1;
        uint64_t start = 0, dev = 0, ino[_CT_NS_MAX] = { 0 };
        int k;

        fd = (int)syscall(SYS_pidfd_open, r->init_pid, 0);
        if (fd < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        /* the pidfd first: from here the pid cannot name another process
         * without the checks below seeing it */
        if (proc_alive(proc_root, r->init_pid, r->init_start) != 1)
                return -ESRCH;
        if (proc_stat(proc_root, r->init_pid, NULL, &start) < 0 || start != r->init_start)
                return -ESRCH;
        k = ct_ns_read(proc_root, r->init_pid, &dev, ino);
        if (k < 0)
                return k;
        if (dev != r->ns_dev || memcmp(ino, r->ns_ino, sizeof ino) != 0)
                return -ESTALE;
        /* still that process: what was read was its */
        if (syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) < 0)
                return -ESRCH;
        *ret_pidfd = TAKE_FD(fd);
        return 0;
}

int ct_cgroup_set(const CgSet *user, CgSet *ret_ct)
{
        return cg_set_append(user, "ct", ret_ct);
}

int ct_init_cgroup_set(const CgSet *user, CgSet *ret_init)
{
        return cg_set_append(user, "ct/init", ret_init);
}

int ct_session_cgroup_set(const CgSet *user, const char *sid, CgSet *ret_session)
{
        char s[CUBBY_ID_LEN + 8];
        int n = snprintf(s, sizeof s, "ct/s%s", sid);

        if (n < 0 || (size_t)n >= sizeof s || !*sid || strchr(sid, '/'))
                return -EINVAL;
        return cg_set_append(user, s, ret_session);
}
