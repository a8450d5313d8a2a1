/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's terminal when the helper does not own the caller's
 * (su typed at a terminal that the caller's shell keeps using): the child
 * gets a pty of its own devpts and the supervisor relays between its
 * master and the caller's terminal, as `su --pty` does. */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <termios.h>
#include <sys/ioctl.h>

/* Decided by the parent before the clone, copied into the child. */
typedef struct PtyPlan {
        bool own_session;     /* the child makes a session of its own (setsid) */
        bool relay;           /* and gets a new pty for the terminals among fds 0-2 */
        unsigned tty_fds;     /* bit n: fd n is the caller's terminal */
        bool foreground;      /* stdin is the terminal, and we (or su) its foreground */
        struct termios tio;   /* the caller's modes and size, for the new pty */
        struct winsize ws;
        int sock[2];          /* the child sends the master back on sock[1] */
        bool joined;          /* a shared container: leave its /dev/console alone */
} PtyPlan;

/* The supervisor's side. master < 0: no relay. */
typedef struct PtyRelay {
        int master;
        int in, out;          /* the caller's terminal: read from, write to (-1: not) */
        bool ctty;            /* it is our controlling terminal (job control applies) */
        bool raw;             /* we changed the caller's modes; saved holds them */
        bool in_paused;       /* not in its foreground: do not read it */
        bool master_done;
        struct termios saved;
        size_t ilen, ioff;    /* caller's input not yet written to the master */
        char ibuf[4096];
} PtyRelay;

#define PTY_POLLFDS 2

/* Parent, before the clone. gave_up_tty: the helper led its terminal's
 * session and let go of it for the child (sshd, login): nothing to do. */
int pty_plan(PtyPlan *p, bool gave_up_tty);
/* Child, cwd at the new root, devpts mounted: open the pty, send its
 * master to the parent and put its slave on the terminal fds. */
int pty_child_open(const PtyPlan *p);
/* Child, after pivot_root: the session of its own and, with a relay, the
 * pty as its controlling terminal. */
int pty_child_session(const PtyPlan *p);
/* Parent, once the child has exec'd: the master it sent. */
int pty_take_master(PtyPlan *p, int *ret_master);

/* Supervisor (as the user). */
void pty_relay_start(PtyRelay *r, const PtyPlan *p, int master);
void pty_relay_poll(const PtyRelay *r, struct pollfd pfd[PTY_POLLFDS]);
void pty_relay_io(PtyRelay *r, const struct pollfd pfd[PTY_POLLFDS]);
/* true: the signal was the relay's (SIGWINCH), do not forward it */
bool pty_relay_signal(PtyRelay *r, int sig);
/* what is left in the pty to the caller, the caller's modes back */
void pty_relay_end(PtyRelay *r);
