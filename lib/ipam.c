/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "cubby/fault.h"
#include "cubby/ipam.h"
#include "cubby/proc.h"
#include "cubby/util.h"

#define LEASES_FILE "leases"
#define LOCK_FILE "leases.lock"
#define HEADER "cubby-leases 1"
#define LEASES_MAX_SIZE ((size_t)IPAM_MAX_LEASES * 128 + 64)
#define LINE_MAX_LEN 160

/* One locked read-modify-write of the leases file. */
typedef struct Db {
        int dirfd;
        int lockfd;
        IpamLease *leases;                    /* sorted by addr */
        size_t n;
        uint32_t next;
} Db;

static void db_close(Db *db)
{
        free(db->leases);
        db->leases = NULL;
        /* Closing the lock fd releases the flock. */
        closep(&db->lockfd);
        closep(&db->dirfd);
        db->lockfd = db->dirfd = -1;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int lock_bounded(int fd, unsigned timeout_ms)
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

static int cmp_lease(const void *a, const void *b)
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
                qsort(leases, n, sizeof *leases, cmp_lease);
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

int ipam_format(const IpamLease *leases, size_t n, uint32_t next, char **ret, size_t *ret_len)
{
        size_t cap = 64 + n * LINE_MAX_LEN, o = 0;
        _cleanup_free_ char *buf = malloc(cap);
        char a[INET_ADDRSTRLEN];
        struct in_addr in;
        int k;

        if (!buf)
                return -ENOMEM;
        in.s_addr = htonl(next);
        k = snprintf(buf, cap, HEADER "\nnext %s\n", inet_ntop(AF_INET, &in, a, sizeof a));
        if (k < 0 || (size_t)k >= cap)
                return -ENOBUFS;
        o = (size_t)k;
        for (size_t i = 0; i < n; i++) {
                const IpamOwner *w = &leases[i].owner;

                if (!session_valid(w->session) || !name_is_safe(w->user, CONF_NAME_MAX - 1) ||
                    w->pid <= 0 || w->time < 0)
                        return -EINVAL;
                in.s_addr = htonl(leases[i].addr);
                k = snprintf(buf + o, cap - o, "%s %s %d %llu %u %s %lld\n",
                             inet_ntop(AF_INET, &in, a, sizeof a), w->session, (int)w->pid,
                             (unsigned long long)w->starttime, (unsigned)w->uid, w->user,
                             (long long)w->time);
                if (k < 0 || (size_t)k >= cap - o)
                        return -ENOBUFS;
                o += (size_t)k;
        }
        *ret = TAKE_PTR(buf);
        *ret_len = o;
        return 0;
}

static int db_open(const char *run_dir, Db *db)
{
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len = 0;
        int r;

        *db = (Db){ .dirfd = -1, .lockfd = -1 };
        if (!run_dir || !path_is_normalized_absolute(run_dir))
                return -EINVAL;
        db->dirfd = open(run_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (db->dirfd < 0)
                return -errno;
        /* The leases decide which address a container gets: only a directory
         * of our own that nobody else can write may hold them. */
        if (fstat(db->dirfd, &st) < 0) {
                r = -errno;
                goto fail;
        }
        if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
                r = -EPERM;
                goto fail;
        }
        db->lockfd = openat(db->dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                            0600);
        if (db->lockfd < 0) {
                r = -errno;
                goto fail;
        }
        r = lock_bounded(db->lockfd, IPAM_LOCK_TIMEOUT_MS);
        if (r < 0)
                goto fail;
        r = read_file_at(db->dirfd, LEASES_FILE, LEASES_MAX_SIZE, &text, &len, &st);
        if (r == -ENOENT)
                return 0;
        if (r == -EFBIG || r == -EBADFD) {
                r = -EBADMSG;
                goto fail;
        }
        if (r < 0)
                goto fail;
        if (st.st_uid != geteuid() || (st.st_mode & 077)) {
                r = -EPERM;
                goto fail;
        }
        r = ipam_parse(text, len, &db->leases, &db->n, &db->next);
        if (r < 0)
                goto fail;
        return 0;
fail:
        db_close(db);
        return r;
}

static int db_commit(Db *db)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = ipam_format(db->leases, db->n, db->next, &text, &len);
        if (r < 0)
                return r;
        /* Runtime state: the rename keeps it whole if we die mid-write;
         * after a power loss no lease matters (every veth and container is
         * gone), so no fsync on the login path (1-4 ms where /run is not
         * a tmpfs). */
        return write_file_atomic_at_nosync(db->dirfd, LEASES_FILE, text, len, 0600);
}

static void db_remove(Db *db, size_t i)
{
        memmove(&db->leases[i], &db->leases[i + 1], (db->n - i - 1) * sizeof *db->leases);
        db->n--;
}

static bool db_has_addr(const Db *db, uint32_t addr)
{
        IpamLease key = { .addr = addr };

        return db->n > 0 && bsearch(&key, db->leases, db->n, sizeof key, cmp_lease);
}

bool ipam_owner_alive(const IpamOwner *owner)
{
        /* Only a pid that is gone, a zombie (its container died before it
         * did), or now a later process frees a lease; any other error (no
         * /proc?) keeps it: never hand out an address twice. */
        return proc_alive("/proc", owner->pid, owner->starttime) != 0;
}

/* Drop dead leases (copying them to *reaped when given). */
static int db_reap(Db *db, IpamLease **reaped, size_t *n_reaped)
{
        size_t k = 0;
        int count = 0;

        if (reaped) {
                *reaped = NULL;
                *n_reaped = 0;
        }
        for (size_t i = 0; i < db->n; i++) {
                if (ipam_owner_alive(&db->leases[i].owner)) {
                        db->leases[k++] = db->leases[i];
                        continue;
                }
                if (reaped) {
                        IpamLease *nr = reallocarray(*reaped, *n_reaped + 1, sizeof **reaped);

                        if (!nr) {
                                /* Keep the remaining leases: nothing is lost. */
                                for (; i < db->n; i++)
                                        db->leases[k++] = db->leases[i];
                                break;
                        }
                        *reaped = nr;
                        (*reaped)[(*n_reaped)++] = db->leases[i];
                }
                count++;
        }
        db->n = k;
        return count;
}

static int db_pick(const Db *db, uint32_t first, uint32_t last, uint32_t *ret)
{
        uint64_t hosts = (uint64_t)last - first + 1, used = 0;
        uint32_t a;

        for (size_t i = 0; i < db->n; i++)
                if (db->leases[i].addr >= first && db->leases[i].addr <= last)
                        used++;
        if (used >= hosts || db->n >= IPAM_MAX_LEASES)
                return -EADDRNOTAVAIL;
        /* Round-robin: start after the last address handed out, so a freed
         * address is not reused at once (its old veth may still be going). */
        a = db->next >= first && db->next < last ? db->next + 1 : first;
        for (uint64_t tries = 0; tries <= used; tries++) {
                if (!db_has_addr(db, a)) {
                        *ret = a;
                        return 0;
                }
                a = a == last ? first : a + 1;
        }
        return -EADDRNOTAVAIL; /* not reached: used < hosts */
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

/* Leases of uid whose owner still runs. */
static uint32_t db_count_uid(const Db *db, uid_t uid)
{
        uint32_t n = 0;

        for (size_t i = 0; i < db->n; i++)
                if (db->leases[i].owner.uid == uid && ipam_owner_alive(&db->leases[i].owner))
                        n++;
        return n;
}

int ipam_acquire(const char *run_dir, uint32_t subnet, unsigned prefix, const IpamOwner *owner,
                 uint32_t *ret_addr)
{
        return ipam_acquire_capped(run_dir, subnet, prefix, owner, 0, ret_addr);
}

int ipam_acquire_capped(const char *run_dir, uint32_t subnet, unsigned prefix,
                        const IpamOwner *owner, uint32_t max_per_uid, uint32_t *ret_addr)
{
        Db db;
        IpamLease *nl;
        uint32_t first, last, addr = 0;
        int r;

        if (prefix < 8 || prefix > 30 || (subnet & ~(UINT32_MAX << (32 - prefix))))
                return -EINVAL;
        if (!session_valid(owner->session) || !name_is_safe(owner->user, CONF_NAME_MAX - 1) ||
            owner->pid <= 0)
                return -EINVAL;
        first = subnet + 2;                                   /* skip network and gateway */
        last = (subnet | ~(UINT32_MAX << (32 - prefix))) - 1; /* skip broadcast */

        r = db_open(run_dir, &db);
        if (r < 0)
                return r;
        CUBBY_FAULT("lib.ipam.locked");
        for (size_t i = 0; i < db.n; i++)
                if (db.leases[i].owner.pid == owner->pid &&
                    db.leases[i].owner.starttime == owner->starttime) {
                        *ret_addr = db.leases[i].addr;
                        db_close(&db);
                        return 0;
                }
        /* One user must not take the pool (and the bridge's ports) from
         * everybody else. */
        if (max_per_uid > 0 && db_count_uid(&db, owner->uid) >= max_per_uid) {
                r = -EDQUOT;
                goto out;
        }
        r = db_pick(&db, first, last, &addr);
        if (r == -EADDRNOTAVAIL && db_reap(&db, NULL, NULL) > 0)
                r = db_pick(&db, first, last, &addr);
        if (r < 0)
                goto out;
        nl = reallocarray(db.leases, db.n + 1, sizeof *nl);
        if (!nl) {
                r = -ENOMEM;
                goto out;
        }
        db.leases = nl;
        db.leases[db.n++] = (IpamLease){ .addr = addr, .owner = *owner };
        qsort(db.leases, db.n, sizeof *db.leases, cmp_lease);
        db.next = addr;
        r = db_commit(&db);
        if (r >= 0)
                *ret_addr = addr;
        CUBBY_FAULT("lib.ipam.committed");
out:
        db_close(&db);
        return r;
}

int ipam_release(const char *run_dir, pid_t pid, uint64_t starttime)
{
        Db db;
        int r;

        r = db_open(run_dir, &db);
        if (r < 0)
                return r;
        r = -ENOENT;
        for (size_t i = 0; i < db.n; i++)
                if (db.leases[i].owner.pid == pid && db.leases[i].owner.starttime == starttime) {
                        db_remove(&db, i);
                        r = db_commit(&db);
                        break;
                }
        db_close(&db);
        return r;
}

int ipam_release_session(const char *run_dir, const char *session)
{
        Db db;
        int r, count = 0;

        if (!session || !session_valid(session))
                return -EINVAL;
        r = db_open(run_dir, &db);
        if (r < 0)
                return r;
        for (size_t i = 0; i < db.n;)
                if (strcmp(db.leases[i].owner.session, session) == 0) {
                        db_remove(&db, i);
                        count++;
                } else {
                        i++;
                }
        r = count > 0 ? db_commit(&db) : 0;
        db_close(&db);
        return r < 0 ? r : count;
}

int ipam_gc(const char *run_dir, IpamLease **ret_reaped, size_t *ret_n)
{
        IpamLease *reaped = NULL;
        size_t n_reaped = 0;
        Db db;
        int r, count;

        r = db_open(run_dir, &db);
        if (r < 0)
                return r;
        count = db_reap(&db, ret_reaped ? &reaped : NULL, &n_reaped);
        r = count > 0 ? db_commit(&db) : 0;
        db_close(&db);
        if (r < 0) {
                free(reaped);
                return r;
        }
        if (ret_reaped) {
                *ret_reaped = reaped;
                *ret_n = n_reaped;
        }
        return count;
}

int ipam_list(const char *run_dir, IpamLease **ret, size_t *ret_n)
{
        Db db;
        int r;

        r = db_open(run_dir, &db);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(db.leases);
        *ret_n = db.n;
        db_close(&db);
        return 0;
}
