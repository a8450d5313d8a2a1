/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pamtime: the PAM session half of a login, timed without a tracer:
 *
 *   pamtime SERVICE USER
 *
 * pam_start, pam_open_session, pam_close_session, pam_end, as su does them
 * (as root, no shell in between: no container is started, so this is the
 * module's own cost: policy, records, cgroups, anchor and overlay, the
 * redirect; and at close the kill, the removals, the unmount). Prints
 *   pamtime start_us=.. open_us=.. close_us=.. end_us=.. rc_open=.. rc_close=..
 * A fresh process per measurement: open_session gives its caller a mount
 * namespace of its own (the redirect).
 */
#define _GNU_SOURCE
#include <security/pam_appl.h>
#include <stdio.h>
#include <time.h>

static long long now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
        for (int i = 0; i < n; i++)
                fprintf(stderr, "pamtime: %s\n", msg[i]->msg);
        *resp = NULL;
        return PAM_CONV_ERR;
}

int main(int argc, char **argv)
{
        struct pam_conv c = { conv, NULL };
        pam_handle_t *h = NULL;
        long long t0, t1, t2, t3, t4;
        int ro, rc;

        if (argc != 3) {
                fprintf(stderr, "usage: pamtime SERVICE USER\n");
                return 2;
        }
        t0 = now_us();
        if (pam_start(argv[1], argv[2], &c, &h) != PAM_SUCCESS)
                return 1;
        t1 = now_us();
        ro = pam_open_session(h, 0);
        t2 = now_us();
        rc = ro == PAM_SUCCESS ? pam_close_session(h, 0) : -1;
        t3 = now_us();
        pam_end(h, ro);
        t4 = now_us();
        printf("pamtime start_us=%lld open_us=%lld close_us=%lld end_us=%lld rc_open=%d rc_close=%d\n",
               t1 - t0, t2 - t1, t3 - t2, t4 - t3, ro, rc);
        return ro == PAM_SUCCESS ? 0 : 1;
}
