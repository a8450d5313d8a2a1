/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "cubby/fault.h"
#include "cubby/ipam.h"
#include "cubby/proc.h"
#include "cubby/util.h"
#include "ipam-internal.h"

#define LEASES_DIR "leases.d"
#define CURSOR_FILE "next"
#define OLD_FILE "leases"     /* the single file of earlier versions */
#define OLD_LOCK "leases.lock"
#define HEADER "cubby-leases 1"
#define LEASES_MAX_SIZE ((size_t)IPAM_MAX_LEASES * 128 + 64)
#define LINE_MAX_LEN 160
#define CURSOR_LEN 21 /* "next " + 15 + padding + "\n": rewritten in place */
#define INDEX_NAME_LEN 72 /* A.B.C.D,PID,START,SESSION: 15 + 11 + 21 + 17, and the NUL */

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ipam_lock_bounded(int fd, unsigned timeout_ms)
{
        int64_t deadline = now_ms() + timeout_ms;
        long sleep_us = 500;

        for (;;) {
                struct timespec ts;

                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        return 0;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -errno;
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                ts = (struct timespec){ .tv_nsec = sleep_us * 1000 };
                nanosleep(&ts, NULL);
                if (sleep_us < 10000)
                        sleep_us *= 2;
        }
}

int ipam_cmp_lease(const void *a, const void *b)
{
        uint32_t x = ((const IpamLease *)a)->addr, y = ((const IpamLease *)b)->addr;

        return x < y ? -1 : x > y;
}

static bool session_valid(const char *s)
{
        size_t n = 0;

        for (; s[n]; n++)
                if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
                        return false;
        return n == CUBBY_ID_LEN;
}

static int parse_ipv4(const char *s, uint32_t *ret)
{
        struct in_addr in;

        /* glibc's inet_pton takes only a.b.c.d in decimal, no leading zeros. */
        if (inet_pton(AF_INET, s, &in) != 1)
                return -EINVAL;
        *ret = ntohl(in.s_addr);
        return 0;
}

static int parse_lease_line(char *line, IpamLease *l)
{
        char *tok[7];
        size_t n = 0;
        uint64_t v;
        char *p = line;

        for (;;) {
                char *sp = strchr(p, ' ');

                if (n == ELEMENTSOF(tok))
                        return -EBADMSG;
                tok[n++] = p;
                if (!sp)
                        break;
                *sp = 0;
                p = sp + 1;
        }
        if (n != ELEMENTSOF(tok))
                return -EBADMSG;
        *l = (IpamLease){ 0 };
        if (parse_ipv4(tok[0], &l->addr) < 0)
                return -EBADMSG;
        if (!session_valid(tok[1]))
                return -EBADMSG;
        memcpy(l->owner.session, tok[1], CUBBY_ID_LEN + 1);
        if (parse_pid(tok[2], &l->owner.pid) < 0 || parse_u64(tok[3], &l->owner.starttime) < 0 ||
            parse_uid(tok[4], &l->owner.uid) < 0)
                return -EBADMSG;
        if (!name_is_safe(tok[5], CONF_NAME_MAX - 1))
                return -EBADMSG;
        if (strscpy(l->owner.user, sizeof l->owner.user, tok[5]) < 0)
                return -EBADMSG;
        if (parse_u64(tok[6], &v) < 0 || v > INT64_MAX)
                return -EBADMSG;
        l->owner.time = (int64_t)v;
        return 0;
}

int ipam_parse(const char *text, size_t len, IpamLease **ret, size_t *ret_n, uint32_t *ret_next)
{
        _cleanup_free_ IpamLease *leases = NULL;
        size_t n = 0, cap = 0, lineno = 0;
        uint32_t next = 0;
        const char *p = text, *end = text + len;

        if (len == 0) {
                *ret = NULL;
                *ret_n = 0;
                *ret_next = 0;
                return 0;
        }
        if (memchr(text, 0, len) || text[len - 1] != '\n')
                return -EBADMSG;
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                size_t ll = (size_t)(eol - p);
                char line[LINE_MAX_LEN];

                if (ll >= sizeof line)
                        return -EBADMSG;
                memcpy(line, p, ll);
                line[ll] = 0;
                p = eol + 1;
                if (lineno == 0) {
                        if (strcmp(line, HEADER) != 0)
                                return -EBADMSG;
                } else if (lineno == 1) {
                        if (strncmp(line, "next ", 5) != 0 || parse_ipv4(line + 5, &next) < 0)
                                return -EBADMSG;
                } else {
                        if (n == IPAM_MAX_LEASES)
                                return -EBADMSG;
                        if (n == cap) {
                                size_t nc = cap ? cap * 2 : 16;
                                IpamLease *nl = reallocarray(leases, nc, sizeof *nl);

                                if (!nl)
                                        return -ENOMEM;
                                leases = nl;
                                cap = nc;
                        }
                        if (parse_lease_line(line, &leases[n]) < 0)
                                return -EBADMSG;
                        n++;
                }
                lineno++;
        }
        if (lineno < 2)
                return -EBADMSG;
        if (n > 0)
                qsort(leases, n, sizeof *leases, ipam_cmp_lease);
        /* Two leases of one address, or two of one owner, mean the file was
         * not written by us: refuse it rather than guess. */
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && leases[i].addr == leases[i - 1].addr)
                        return -EBADMSG;
                for (size_t j = i + 1; j < n && n <= 4096; j++)
                        if (leases[i].owner.pid == leases[j].owner.pid &&
                            leases[i].owner.starttime == leases[j].owner.starttime)
                                return -EBADMSG;
        }
        *ret = TAKE_PTR(leases);
        *ret_n = n;
        *ret_next = next;
        return 0;
}

/* One lease file: its single line, and its name is its address. */
int ipam_parse_lease(const char *name, const char *text, size_t len, IpamLease *ret)
{
        char line[LINE_MAX_LEN], a[INET_ADDRSTRLEN];
        struct in_addr in;
        IpamLease l;

        if (len == 0 || len >= sizeof line || text[len - 1] != '\n' || memchr(text, '\n', len - 1) ||
            memchr(text, 0, len))
                return -EBADMSG;
        memcpy(line, text, len - 1);
        line[len - 1] = 0;
        if (parse_lease_line(line, &l) < 0)
                return -EBADMSG;
        in.s_addr = htonl(l.addr);
        if (!inet_ntop(AF_INET, &in, a, sizeof a) || strcmp(a, name) != 0)
                return -EBADMSG;
        *ret = l;
        return 0;
}

static int format_lease(const IpamLease *l, char *buf, size_t size)
{
        const IpamOwner *w = &l->owner;
        char a[INET_ADDRSTRLEN];
        struct in_addr in = { .s_addr = htonl(l->addr) };
        int k;

        if (!session_valid(w->session) || !name_is_safe(w->user, CONF_NAME_MAX - 1) || w->pid <= 0 ||
            w->time < 0)
                return -EINVAL;
        k = snprintf(buf, size, "%s %s %d %llu %u %s %lld\n", inet_ntop(AF_INET, &in, a, sizeof a),
                     w->session, (int)w->pid, (unsigned long long)w->starttime, (unsigned)w->uid,
                     w->user, (long long)w->time);
        if (k < 0 || (size_t)k >= size)
                return -ENOBUFS;
        return k;
}

static void addr_name(uint32_t addr, char name[static INET_ADDRSTRLEN])
{
        struct in_addr in = { .s_addr = htonl(addr) };

        inet_ntop(AF_INET, &in, name, INET_ADDRSTRLEN);
}

/* A user's index entry is named A.B.C.D,PID,START,SESSION, its lease's
 * address and owner: the owner's lookups read the directory and open only
 * the entries named for them. An earlier version named it A.B.C.D alone
 * (full false), as the leases dir names the lease itself. */
static void index_name(const IpamLease *l, bool full, char name[static INDEX_NAME_LEN])
{
        char a[INET_ADDRSTRLEN];

        addr_name(l->addr, a);
        if (full)
                snprintf(name, INDEX_NAME_LEN, "%s,%d,%llu,%s", a, (int)l->owner.pid,
                         (unsigned long long)l->owner.starttime, l->owner.session);
        else
                snprintf(name, INDEX_NAME_LEN, "%s", a);
}

/* What a name states (ret: the address, and with 1 returned the owner's
 * pid, start time and session; 0: an address alone). Only the exact form
 * index_name writes is taken (inet_pton refuses leading zeros, the pid's
 * and the start time's are refused here): a name is never trusted, its
 * file's content must agree with it (lease_open). Not by formatting the
 * name again to compare: snprintf was most of a walk of 200 names. */
static int index_name_parse(const char *name, IpamLease *ret)
{
        char buf[INDEX_NAME_LEN], *f[4];
        IpamLease k = { 0 };
        size_t n = 0;

        if (strscpy(buf, sizeof buf, name) < 0)
                return -EINVAL;
        f[0] = buf;
        for (char *p = buf; (p = strchr(p, ','));) {
                if (n == 3)
                        return -EINVAL;
                *p++ = 0;
                f[++n] = p;
        }
        if ((n != 0 && n != 3) || parse_ipv4(f[0], &k.addr) < 0)
                return -EINVAL;
        if (n == 3 && (f[1][0] == '0' || parse_pid(f[1], &k.owner.pid) < 0 ||
                       (f[2][0] == '0' && f[2][1]) || parse_u64(f[2], &k.owner.starttime) < 0 ||
                       !session_valid(f[3])))
                return -EINVAL;
        if (n == 3)
                memcpy(k.owner.session, f[3], CUBBY_ID_LEN + 1);
        *ret = k;
        return n == 3;
}

static bool match_owner(const IpamMatch *m, const IpamOwner *o)
{
        return m->session ? strcmp(o->session, m->session) == 0
                          : o->pid == m->pid && o->starttime == m->starttime;
}

/* Root-only directories of ours: owned by us, nobody else may enter. */
static int dir_open_owned(int dirfd, const char *name, bool create, int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
                if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
                        return -errno;
                fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != geteuid() || (st.st_mode & 077))
                return -EPERM;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int convert_old(int runfd, int dfd);

/* The old single file is converted once, under its old lock, by the first
 * call of any kind that finds it. */
int ipam_dir_open(const char *run_dir, bool create, int *ret_fd)
{
        _cleanup_close_ int runfd = -1, dfd = -1;
        struct stat st;
        bool old;
        int r;

        if (!run_dir || !path_is_normalized_absolute(run_dir))
                return -EINVAL;
        runfd = open(run_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (runfd < 0)
                return -errno;
        /* The leases decide which address a container gets: only a directory
         * of our own that nobody else can write may hold them. */
        if (fstat(runfd, &st) < 0)
                return -errno;
        if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return -EPERM;
        old = faccessat(runfd, OLD_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        r = dir_open_owned(runfd, LEASES_DIR, create || old, &dfd);
        if (r == -ENOENT && !create) {
                *ret_fd = -1;
                return 0;
        }
        if (r < 0)
                return r;
        if (old) {
                r = convert_old(runfd, dfd);
                if (r < 0)
                        return r;
        }
        *ret_fd = TAKE_FD(dfd);
        return 0;
}

int ipam_user_dir_open(int dfd, uid_t uid, bool create, int *ret_fd)
{
        char name[16];

        snprintf(name, sizeof name, "u%u", (unsigned)uid);
        return dir_open_owned(dfd, name, create, ret_fd);
}

/* Open and parse the lease NAME in dirfd: a regular file of ours, 0600,
 * one valid line for the address (and owner) it is named by. */
static int lease_open(int dirfd, const char *name, IpamLease *ret, struct stat *ret_st, int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        char buf[LINE_MAX_LEN], a[INET_ADDRSTRLEN];
        IpamLease k;
        struct stat st;
        ssize_t n;
        int full = index_name_parse(name, &k);

        if (full < 0)
                return -EBADMSG;
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
                return -EPERM;
        n = pread(fd, buf, sizeof buf, 0);
        if (n < 0)
                return -errno;
        addr_name(k.addr, a);
        if (ipam_parse_lease(a, buf, (size_t)n, ret) < 0 ||
            (full && (ret->owner.pid != k.owner.pid || ret->owner.starttime != k.owner.starttime ||
                      strcmp(ret->owner.session, k.owner.session) != 0)))
                return -EBADMSG;
        if (ret_st)
                *ret_st = st;
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return 0;
}

int ipam_unlink_same(int dirfd, const char *name, const struct stat *st)
{
        struct stat now;

        if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
                return -ESTALE;
        return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

/* Remove the lease of inode st (open as fd) by both its names. Whoever
 * removes a lease holds the flock of its inode and checks that the name
 * still leads to it: so a lease taken since at that address (a new inode)
 * is never removed by a reaper or a release that read the old one. */
static int lease_drop(int dfd, int fd, const struct stat *st, const IpamLease *l)
{
        _cleanup_close_ int ufd = -1;
        char name[INDEX_NAME_LEN];
        int r;

        r = ipam_lock_bounded(fd, IPAM_DROP_LOCK_TIMEOUT_MS);
        if (r < 0)
                return r;
        addr_name(l->addr, name);
        r = ipam_unlink_same(dfd, name, st);
        CUBBY_FAULT("lib.ipam.dropped");
        /* the address first: an index entry left alone (a crash here)
         * counts for nobody (ipam_index_current); gc removes it */
        if (ipam_user_dir_open(dfd, l->owner.uid, false, &ufd) >= 0) {
                index_name(l, true, name);
                if (ipam_unlink_same(ufd, name, st) == -ENOENT) {
                        index_name(l, false, name); /* an earlier version's entry */
                        (void)ipam_unlink_same(ufd, name, st);
                }
        }
        return r;
}

/* A release removes the address first: a crash between its two unlinks
 * leaves an index entry that is no longer current. */
bool ipam_index_current(int dfd, const IpamLease *l, const struct stat *st)
{
        char name[INET_ADDRSTRLEN];
        struct stat now;

        addr_name(l->addr, name);
        return fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st->st_dev &&
               now.st_ino == st->st_ino;
}

int ipam_dir_list(int dirfd, DIR **ret)
{
        _cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        *ret = fdopendir(fd);
        if (!*ret)
                return -errno;
        (void)TAKE_FD(fd); /* the DIR owns it now */
        return 0;
}

/* Files that are no valid lease are skipped, never removed: their address
 * stays taken. */
int ipam_lease_walk(int dirfd, const IpamMatch *m, IpamLeaseFn fn, void *arg)
{
        struct dirent *de;
        DIR *d = NULL;
        int r, count = 0;

        r = ipam_dir_list(dirfd, &d);
        if (r < 0 || !d)
                return r < 0 ? r : -EIO;
        while (r >= 0 && (errno = 0, de = readdir(d))) {
                _cleanup_close_ int fd = -1;
                struct stat st;
                IpamLease l = { 0 }, k;
                int full = index_name_parse(de->d_name, &k);

                if (full < 0)
                        continue;
                count++;
                if (full && m && !match_owner(m, &k.owner))
                        continue;
                if (lease_open(dirfd, de->d_name, &l, &st, &fd) < 0)
                        continue;
                r = fn(dirfd, de->d_name, fd, &st, &l, arg);
        }
        if (r >= 0 && errno != 0)
                r = -errno;
        closedir(d);
        return r < 0 ? r : count;
}

bool ipam_owner_alive(const IpamOwner *owner)
{
        /* Only a pid that is gone, a zombie (its container died before it
         * did), or now a later process frees a lease; any other error (no
         * /proc?) keeps it: never hand out an address twice. */
        return proc_alive("/proc", owner->pid, owner->starttime) != 0;
}

int ipam_owner_init(IpamOwner *owner, const char *session, pid_t pid, uid_t uid, const char *user)
{
        IpamOwner o = { .uid = uid };
        int r;

        if (!session || !session_valid(session) || !user || !name_is_safe(user, CONF_NAME_MAX - 1))
                return -EINVAL;
        memcpy(o.session, session, CUBBY_ID_LEN + 1);
        if (strscpy(o.user, sizeof o.user, user) < 0)
                return -EINVAL;
        o.pid = pid > 0 ? pid : getpid();
        r = proc_stat("/proc", o.pid, NULL, &o.starttime);
        if (r < 0)
                return r;
        o.time = (int64_t)time(NULL);
        *owner = o;
        return 0;
}

/* The user's own leases (their index dir), for the cap and for an owner
 * that already holds one. The entries are counted by their names, and only
 * those named for the owner are opened; where that count reaches the cap
 * (a stale entry counts there), every one is opened and counted if its
 * owner is alive (a read of its /proc/PID/stat): below the cap no lease
 * needs it. */
typedef struct UserScan {
        int dfd;
        const IpamOwner *owner;
        bool check_alive;
        uint32_t live;
        bool held;
        uint32_t held_addr;
} UserScan;

static int user_scan_one(int dirfd, const char *name, int fd, const struct stat *st,
                         const IpamLease *l, void *arg)
{
        UserScan *s = arg;

        (void)dirfd, (void)name, (void)fd;
        if (l->owner.uid != s->owner->uid || !ipam_index_current(s->dfd, l, st))
                return 0;
        if (l->owner.pid == s->owner->pid && l->owner.starttime == s->owner->starttime) {
                s->held = true;
                s->held_addr = l->addr;
        }
        if (s->check_alive && ipam_owner_alive(&l->owner))
                s->live++;
        return 0;
}

/* The round-robin cursor: the last address handed out, rewritten in place
 * without a lock (two racing acquires at worst try one address twice). */
static uint32_t cursor_read(int fd)
{
        char buf[CURSOR_LEN + 1], *e;
        uint32_t a;
        ssize_t n = pread(fd, buf, CURSOR_LEN, 0);

        if (n != CURSOR_LEN || strncmp(buf, "next ", 5) != 0)
                return 0;
        buf[n] = 0;
        e = strpbrk(buf + 5, " \n");
        if (!e)
                return 0;
        *e = 0;
        return parse_ipv4(buf + 5, &a) < 0 ? 0 : a;
}

static void cursor_write(int fd, uint32_t addr)
{
        char buf[CURSOR_LEN + 1], a[INET_ADDRSTRLEN];

        addr_name(addr, a);
        snprintf(buf, sizeof buf, "next %-15s\n", a);
        (void)!pwrite(fd, buf, CURSOR_LEN, 0);
}

/* The user's index entry for the new lease l (tmp in dfd). */
static int index_link(int ufd, int dfd, const char *tmp, const IpamLease *l)
{
        _cleanup_close_ int ofd = -1;
        char name[INDEX_NAME_LEN];
        struct stat ost;
        IpamLease o;

        index_name(l, true, name);
        if (linkat(dfd, tmp, ufd, name, 0) == 0)
                return 0;
        if (errno != EEXIST)
                return -errno;
        /* an entry left by a crash between the two unlinks of a release:
         * we hold its address now, so its lease is gone */
        if (lease_open(ufd, name, &o, &ost, &ofd) < 0)
                (void)unlinkat(ufd, name, 0);
        else if (!ipam_index_current(dfd, &o, &ost) && ipam_lock_bounded(ofd, IPAM_DROP_LOCK_TIMEOUT_MS) >= 0)
                (void)ipam_unlink_same(ufd, name, &ost);
        return linkat(dfd, tmp, ufd, name, 0) < 0 ? -errno : 0;
}

/* Link the lease as a new file named by its address (never replacing
 * one: EEXIST moves on to the next address), written whole before it has
 * a name, then into the user's index. With tries > 0, addresses from
 * the cursor on; else exactly l->addr. */
static int lease_link(int dfd, int ufd, int fd, const char *tmp, const IpamLease *l,
                      uint32_t *ret_addr, uint32_t first, uint32_t last, uint64_t tries)
{
        _cleanup_close_ int cfd = -1;
        char name[INET_ADDRSTRLEN], line[LINE_MAX_LEN];
        IpamLease c = *l;
        uint64_t i = 0;
        int r, k;

        if (tries > 0) {
                cfd = openat(dfd, CURSOR_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                             0600);
                if (cfd < 0)
                        return -errno;
                c.addr = cursor_read(cfd);
                c.addr = c.addr >= first && c.addr < last ? c.addr + 1 : first;
        }
        for (;;) {
                k = format_lease(&c, line, sizeof line);
                if (k < 0)
                        return k;
                if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)k, 0) != k)
                        return -EIO;
                addr_name(c.addr, name);
                if (linkat(dfd, tmp, dfd, name, 0) == 0)
                        break;
                if (errno != EEXIST)
                        return -errno;
                if (++i >= tries)
                        return -EADDRNOTAVAIL;
                c.addr = c.addr == last ? first : c.addr + 1;
        }
        if (cfd >= 0)
                cursor_write(cfd, c.addr);
        CUBBY_FAULT("lib.ipam.linked");
        r = index_link(ufd, dfd, tmp, &c);
        if (r < 0) {
                struct stat st;

                /* no lease that the user's count would not see */
                if (fstat(fd, &st) == 0)
                        (void)ipam_unlink_same(dfd, name, &st);
                return r;
        }
        *ret_addr = c.addr;
        return 0;
}

static int lease_create(int dfd, int ufd, const IpamLease *l, uint32_t *ret_addr, uint32_t first,
                        uint32_t last, uint64_t tries)
{
        _cleanup_close_ int fd = -1;
        char tmp[64], id[CUBBY_ID_LEN + 1];
        int r;

        /* a temp name first: no reader sees a lease half written (not
         * O_TMPFILE: on ext4 it costs a journalled orphan, about 1 ms) */
        r = random_id(id);
        if (r < 0)
                return r;
        snprintf(tmp, sizeof tmp, IPAM_TMP_PREFIX "%d.%s", (int)getpid(), id);
        fd = openat(dfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = lease_link(dfd, ufd, fd, tmp, l, ret_addr, first, last, tries);
        (void)unlinkat(dfd, tmp, 0);
        return r;
}

/* Under the old lock, each lease of the old file becomes a lease file (an
 * address already there wins: a conversion that died half way is done
 * again), then the old file goes. Its owners are honoured exactly as
 * before; gc reaps the dead ones. */
static int convert_old(int runfd, int dfd)
{
        _cleanup_close_ int lockfd = -1, cfd = -1;
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ IpamLease *leases = NULL;
        size_t len = 0, n = 0;
        uint32_t next = 0, a;
        struct stat st;
        int r;

        lockfd = openat(runfd, OLD_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (lockfd < 0)
                return -errno;
        r = ipam_lock_bounded(lockfd, IPAM_LOCK_TIMEOUT_MS);
        if (r < 0)
                return r;
        r = read_file_at(runfd, OLD_FILE, LEASES_MAX_SIZE, &text, &len, &st);
        if (r == -ENOENT)
                return 0; /* converted by another process while we waited */
        if (r == -EFBIG || r == -EBADFD)
                return -EBADMSG;
        if (r < 0)
                return r;
        if (st.st_uid != geteuid() || (st.st_mode & 077))
                return -EPERM;
        r = ipam_parse(text, len, &leases, &n, &next);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int ufd = -1;

                r = ipam_user_dir_open(dfd, leases[i].owner.uid, true, &ufd);
                if (r >= 0)
                        r = lease_create(dfd, ufd, &leases[i], &a, 0, 0, 0);
                if (r < 0 && r != -EADDRNOTAVAIL)
                        return r;
        }
        if (next) {
                cfd = openat(dfd, CURSOR_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                             0600);
                if (cfd >= 0)
                        cursor_write(cfd, next);
        }
        if (unlinkat(runfd, OLD_FILE, 0) < 0 && errno != ENOENT)
                return -errno;
        (void)unlinkat(runfd, OLD_LOCK, 0);
        return 0;
}

static int reap_one(int dirfd, const char *name, int fd, const struct stat *st, const IpamLease *l,
                    void *arg)
{
        IpamReap *g = arg;

        (void)name;
        if (ipam_owner_alive(&l->owner) || lease_drop(dirfd, fd, st, l) < 0)
                return 0;
        g->count++;
        if (g->keep) {
                IpamLease *nr = reallocarray(g->reaped, g->n + 1, sizeof *nr);

                if (!nr)
                        return 0; /* the lease is gone all the same; only its log line is lost */
                g->reaped = nr;
                g->reaped[g->n++] = *l;
        }
        return 0;
}

int ipam_reap_dead(int dfd, IpamReap *g)
{
        int r = ipam_lease_walk(dfd, NULL, reap_one, g);

        return r < 0 ? r : g->count;
}

int ipam_acquire(const char *run_dir, uint32_t subnet, unsigned prefix, const IpamOwner *owner,
                 uint32_t *ret_addr)
{
        return ipam_acquire_capped(run_dir, subnet, prefix, owner, 0, ret_addr);
}

int ipam_acquire_capped(const char *run_dir, uint32_t subnet, unsigned prefix,
                        const IpamOwner *owner, uint32_t max_per_uid, uint32_t *ret_addr)
{
        _cleanup_close_ int dfd = -1, ufd = -1;
        UserScan s = { .owner = owner };
        IpamMatch m = { .pid = owner->pid, .starttime = owner->starttime };
        IpamLease l = { .owner = *owner };
        uint32_t first, last;
        uint64_t hosts;
        int r;

        if (prefix < 8 || prefix > 30 || (subnet & ~(UINT32_MAX << (32 - prefix))))
                return -EINVAL;
        if (!session_valid(owner->session) || !name_is_safe(owner->user, CONF_NAME_MAX - 1) ||
            owner->pid <= 0)
                return -EINVAL;
        first = subnet + 2;                                   /* skip network and gateway */
        last = (subnet | ~(UINT32_MAX << (32 - prefix))) - 1; /* skip broadcast */
        hosts = (uint64_t)last - first + 1;
        /* more than IPAM_MAX_LEASES taken in a row: the pool is full */
        if (hosts > IPAM_MAX_LEASES + 1)
                hosts = IPAM_MAX_LEASES + 1;

        r = ipam_dir_open(run_dir, true, &dfd);
        if (r < 0)
                return r;
        r = ipam_user_dir_open(dfd, owner->uid, true, &ufd);
        if (r < 0)
                return r;
        /* The user's lock (a flock of their index dir): their count and
         * their new lease are one step, so two containers of one user
         * cannot both take the last place. Other users never wait. */
        r = ipam_lock_bounded(ufd, IPAM_LOCK_TIMEOUT_MS);
        if (r < 0)
                return r;
        CUBBY_FAULT("lib.ipam.locked");
        s.dfd = dfd;
        r = ipam_lease_walk(ufd, &m, user_scan_one, &s);
        if (r < 0)
                return r;
        if (s.held) {
                *ret_addr = s.held_addr;
                return 0;
        }
        /* One user must not take the pool (and the bridge's ports) from
         * everybody else: counted by their owners alive, where the count
         * of their entries' names reaches the cap. */
        if (max_per_uid > 0 && (uint32_t)r >= max_per_uid) {
                s.check_alive = true;
                s.live = 0;
                r = ipam_lease_walk(ufd, NULL, user_scan_one, &s);
                if (r < 0)
                        return r;
                if (s.live >= max_per_uid)
                        return -EDQUOT;
        }
        r = lease_create(dfd, ufd, &l, ret_addr, first, last, hosts);
        if (r == -EADDRNOTAVAIL) {
                IpamReap g = { 0 };

                /* leases of processes that are gone are reclaimed before
                 * the pool is declared exhausted */
                if (ipam_reap_dead(dfd, &g) > 0)
                        r = lease_create(dfd, ufd, &l, ret_addr, first, last, hosts);
        }
        if (r >= 0)
                CUBBY_FAULT("lib.ipam.committed");
        return r;
}

typedef struct Release {
        int dfd;
        IpamMatch m;
        int count;
} Release;

static int release_one(int dirfd, const char *name, int fd, const struct stat *st,
                       const IpamLease *l, void *arg)
{
        Release *x = arg;

        (void)dirfd, (void)name;
        if (!match_owner(&x->m, &l->owner))
                return 0;
        if (lease_drop(x->dfd, fd, st, l) >= 0)
                x->count++;
        return 0;
}

/* A release reads the owner's index only, and opens the entries named for
 * it (and those of an earlier version, named by their address alone). */
static int release_walk(const char *run_dir, uid_t uid, Release *x)
{
        _cleanup_close_ int dfd = -1, ufd = -1;
        int r;

        r = ipam_dir_open(run_dir, false, &dfd);
        if (r < 0 || dfd < 0)
                return r;
        r = ipam_user_dir_open(dfd, uid, false, &ufd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        x->dfd = dfd;
        r = ipam_lease_walk(ufd, &x->m, release_one, x);
        return r < 0 ? r : x->count;
}

int ipam_release(const char *run_dir, uid_t uid, pid_t pid, uint64_t starttime)
{
        Release x = { .m = { .pid = pid, .starttime = starttime } };
        int r = release_walk(run_dir, uid, &x);

        return r < 0 ? r : r == 0 ? -ENOENT : 0;
}

int ipam_release_session(const char *run_dir, uid_t uid, const char *session)
{
        Release x = { .m = { .session = session } };

        if (!session || !session_valid(session))
                return -EINVAL;
        return release_walk(run_dir, uid, &x);
}
