/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/ipam.c driven from the command line, for ipam-reads.sh (what one
 * acquire and release read, under strace) and for the micro-bench in
 * docs/PERFORMANCE.md:
 *   ipam-probe fill DIR N [UID]  N leases of other users (uids 2000..2009),
 *                             or all of UID; owners made up (this pid,
 *                             later start times)
 *   ipam-probe once DIR UID   one acquire and one release as UID
 *   ipam-probe bench DIR K    K acquires + releases as uid 1000: median
 *                             and p90 in us
 * The pool is 10.213.0.0/16; the cap (max_containers) is above what fill
 * makes, so that the count stays below it: at the cap every lease of the
 * user is opened (their owners asked whether alive). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cubby/ipam.h"
#include "cubby/util.h"

#define SUBNET 0x0ad50000u
#define SESSION "00000000000000aa"
#define CAP 1000

static int one(const char *dir, uid_t uid)
{
        IpamOwner o;
        uint32_t a;
        int r;

        r = ipam_owner_init(&o, SESSION, 0, uid, "probe");
        if (r >= 0)
                r = ipam_acquire_capped(dir, SUBNET, 16, &o, CAP, &a);
        if (r >= 0)
                r = ipam_release(dir, uid, o.pid, o.starttime);
        return r;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        uint64_t n;
        uid_t uid = 0;
        int r = 0;

        if (argc < 4 || argc > 5 || parse_u64(argv[3], &n) < 0 || n > IPAM_MAX_LEASES ||
            (argc == 5 && (strcmp(argv[1], "fill") != 0 || parse_uid(argv[4], &uid) < 0))) {
                fprintf(stderr, "usage: ipam-probe fill|once|bench DIR N [UID]\n");
                return 2;
        }
        if (strcmp(argv[1], "fill") == 0) {
                IpamOwner o;
                uint32_t a;

                r = ipam_owner_init(&o, SESSION, 0, 0, "other");
                for (uint64_t i = 0; r >= 0 && i < n; i++) {
                        o.starttime++;
                        o.uid = argc == 5 ? uid : 2000 + (uid_t)(i % 10);
                        r = ipam_acquire(argv[2], SUBNET, 16, &o, &a);
                }
        } else if (strcmp(argv[1], "once") == 0) {
                r = one(argv[2], (uid_t)n);
        } else if (strcmp(argv[1], "bench") == 0 && n > 0) {
                _cleanup_free_ uint64_t *t = calloc(n, sizeof *t);

                if (!t)
                        return 1;
                for (uint64_t i = 0; r >= 0 && i < n; i++) {
                        struct timespec t0, t1;

                        clock_gettime(CLOCK_MONOTONIC, &t0);
                        r = one(argv[2], 1000);
                        clock_gettime(CLOCK_MONOTONIC, &t1);
                        t[i] = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
                               (uint64_t)(t1.tv_nsec - t0.tv_nsec) / 1000;
                }
                qsort(t, n, sizeof *t, cmp_u64);
                if (r >= 0)
                        printf("acquire+release: median %llu us, p90 %llu us (%llu runs)\n",
                               (unsigned long long)t[n / 2], (unsigned long long)t[n * 9 / 10],
                               (unsigned long long)n);
        } else {
                fprintf(stderr, "ipam-probe: unknown command %s\n", argv[1]);
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "ipam-probe %s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        return 0;
}
