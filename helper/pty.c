/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's terminal when the helper does not own the caller's.
 *
 * sshd and login make the helper the leader of its terminal's session:
 * the helper lets go of it and the container's shell takes it (main.c,
 * release_tty). `su STUDENT` typed at root's terminal does not: that
 * terminal stays the controlling terminal of root's session and root's
 * shell reads it again after su returns. A container given fds of it
 * could hand them (SCM_RIGHTS) to another process of the student that
 * outlives su, which could then print a fake prompt there and read what
 * root types next; and a shell with job control inside would leave the
 * terminal's foreground group naming its dead process group, so a script
 * of root's reading the terminal afterwards gets EIO.
 *
 * So in that case the container never sees the caller's terminal: the
 * child opens a pty in its own devpts instance, sends the master to the
 * parent, puts the slave on the fds that were the terminal, makes a
 * session of its own with the slave as controlling terminal, and the
 * supervisor copies bytes between the master and the caller's terminal
 * (which it puts in raw mode while it does, as `su --pty` does; the pty
 * carries the caller's modes and size, so line editing, Ctrl-C and
 * Ctrl-Z are the pty's own). When the container ends, the caller's
 * modes are restored; its foreground group was never touched. A slave
 * fd smuggled out refers to a pty whose master is gone: EIO. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cubby/util.h"
#include "pty.h"

/* What a pty can hold (the line discipline's 4 KiB and the flip buffers'
 * 64 KiB), with room to spare: all the session wrote before its end. */
#define DRAIN_MAX ((size_t)128 * 1024)

/* In a session it does not lead, the parent (su) is in the caller's
 * session, not the helper: is su's process group the terminal's
 * foreground group? Read as root, before /proc may hide it. */
static bool parent_in_foreground(int fd)
{
        _cleanup_close_ int sfd = -1;
        char path[32], buf[512], *p;
        long f[6] = { 0 }; /* fields 3-8: state, ppid, pgrp, session, tty_nr, tpgid */
        unsigned tty_nr;
        struct stat st;
        ssize_t n;

        if (fstat(fd, &st) < 0)
                return false;
        snprintf(path, sizeof path, "/proc/%d/stat", (int)getppid());
        sfd = open(path, O_RDONLY | O_CLOEXEC);
        if (sfd < 0)
                return false;
        n = read(sfd, buf, sizeof buf - 1);
        if (n <= 0)
                return false;
        buf[n] = 0;
        /* comm may hold ')': the fields follow the last one */
        p = strrchr(buf, ')');
        if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
                return false;
        p += 3;
        for (int i = 1; i < 6; i++) {
                char *end;

                errno = 0;
                f[i] = strtol(p, &end, 10);
                if (errno || end == p || (*end != ' ' && *end != '\n'))
                        return false;
                p = end;
        }
        /* tty_nr: minor in bits 0-7 and 20-31, major in 8-19 */
        tty_nr = (unsigned)f[4];
        return f[5] > 0 && f[5] == f[2] && major(st.st_rdev) == ((tty_nr >> 8) & 0xfff) &&
               minor(st.st_rdev) == ((tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00));
}

int pty_plan(PtyPlan *p, bool gave_up_tty)
{
        int ref = -1;

        memset(p, 0, sizeof *p);
        p->sock[0] = p->sock[1] = -1;
        if (gave_up_tty)
                return 0;
        for (int fd = 0; fd < 3; fd++)
                if (isatty(fd)) {
                        p->tty_fds |= 1U << fd;
                        if (ref < 0)
                                ref = fd;
                }
        /* In a session we do not lead, its controlling terminal (the
         * caller's) would open as /dev/tty inside: the child leaves it. */
        p->own_session = p->tty_fds != 0 || getsid(0) != getpid();
        if (!p->tty_fds)
                return 0;
        p->relay = true;
        if (tcgetattr(ref, &p->tio) < 0)
                return -errno;
        if (ioctl(ref, TIOCGWINSZ, &p->ws) < 0)
                memset(&p->ws, 0, sizeof p->ws);
        /* Output only (stdin is not the terminal): the caller's terminal
         * keeps its own output processing, the pty passes bytes as they are. */
        if (!(p->tty_fds & 1))
                p->tio.c_oflag &= ~(tcflag_t)OPOST;
        if (p->tty_fds & 1)
                p->foreground = tcgetsid(0) >= 0 ? tcgetpgrp(0) == getpgrp() : parent_in_foreground(0);
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p->sock) < 0)
                return -errno;
        return 0;
}

/* The message that carries the master: one byte and one fd. */
typedef struct FdMsg {
        char c;
        struct iovec iov;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u;
        struct msghdr msg;
} FdMsg;

static struct msghdr *fdmsg_init(FdMsg *m)
{
        memset(m, 0, sizeof *m);
        m->c = 'm';
        m->iov = (struct iovec){ .iov_base = &m->c, .iov_len = 1 };
        m->msg = (struct msghdr){ .msg_iov = &m->iov, .msg_iovlen = 1, .msg_control = m->u.buf,
                                  .msg_controllen = sizeof m->u.buf };
        return &m->msg;
}

static int send_fd(int sock, int fd)
{
        FdMsg m;
        struct msghdr *msg = fdmsg_init(&m);
        struct cmsghdr *cm = CMSG_FIRSTHDR(msg);

        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof fd);
        return sendmsg(sock, msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

int pty_child_open(const PtyPlan *p)
{
        _cleanup_close_ int master = -1, slave = -1;
        int unlock = 0, r;
        char src[32];

        if (!p->relay)
                return 0;
        /* the devpts instance the child just mounted, not the host's */
        master = open("dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return -errno;
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return -errno;
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return -errno;
        if (tcsetattr(slave, TCSANOW, &p->tio) < 0 || ioctl(slave, TIOCSWINSZ, &p->ws) < 0)
                return -errno;
        /* /dev/console is the session's terminal, for tools that look for
         * it; best effort, as a shell works without it */
        snprintf(src, sizeof src, "/proc/self/fd/%d", slave);
        if (!p->joined)
                (void)mount(src, "dev/console", NULL, MS_BIND, NULL);
        r = send_fd(p->sock[1], master);
        if (r < 0)
                return r;
        /* from here on no fd of the caller's terminal is left in here */
        for (int fd = 0; fd < 3; fd++)
                if ((p->tty_fds & (1U << fd)) && dup2(slave, fd) < 0)
                        return -errno;
        return 0;
}

int pty_child_session(const PtyPlan *p)
{
        if (!p->own_session)
                return 0;
        if (setsid() < 0)
                return -errno;
        if (!p->relay)
                return 0;
        for (int fd = 0; fd < 3; fd++)
                if (p->tty_fds & (1U << fd))
                        return ioctl(fd, TIOCSCTTY, 0) < 0 ? -errno : 0;
        return 0;
}

int pty_take_master(PtyPlan *p, int *ret_master)
{
        FdMsg m;
        struct msghdr *msg = fdmsg_init(&m);
        struct cmsghdr *cm;
        int fd = -1;
        ssize_t n;

        *ret_master = -1;
        if (!p->relay)
                return 0;
        /* the child sent it before its exec, which we have seen */
        n = recvmsg(p->sock[0], msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0)
                return -errno;
        if (n != 1)
                return -EPROTO;
        cm = CMSG_FIRSTHDR(msg);
        if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
            cm->cmsg_len != CMSG_LEN(sizeof(int)) || (msg->msg_flags & MSG_CTRUNC))
                return -EPROTO;
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        closep(&p->sock[0]);
        closep(&p->sock[1]);
        *ret_master = fd;
        return 0;
}

/* Raw mode on the caller's terminal while we are its reader (in its
 * foreground): the pty does the line discipline. */
static void take_terminal(PtyRelay *r, bool foreground)
{
        struct termios t;

        r->in_paused = !foreground;
        if (!foreground)
                return;
        if (!r->raw && tcgetattr(r->in, &r->saved) < 0) {
                r->in_paused = true;
                return;
        }
        t = r->saved;
        cfmakeraw(&t);
        if (tcsetattr(r->in, TCSANOW, &t) == 0)
                r->raw = true;
}

void pty_relay_start(PtyRelay *r, const PtyPlan *p, int master)
{
        r->master = master;
        r->in = r->out = -1;
        r->ctty = false;
        r->raw = false;
        r->in_paused = true;
        r->master_done = false;
        r->ilen = r->ioff = 0;
        if (master < 0)
                return;
        /* our own fd; the caller's stay as they are (their file status
         * flags are shared with the caller) */
        (void)fcntl(master, F_SETFL, O_NONBLOCK);
        r->out = (p->tty_fds & 2) ? 1 : (p->tty_fds & 4) ? 2 : (p->tty_fds & 1) ? 0 : -1;
        if (p->tty_fds & 1) {
                r->in = 0;
                r->ctty = tcgetsid(0) >= 0;
                take_terminal(r, p->foreground);
        }
}

void pty_relay_poll(const PtyRelay *r, struct pollfd pfd[PTY_POLLFDS])
{
        pfd[0] = (struct pollfd){ .fd = -1 };
        pfd[1] = (struct pollfd){ .fd = -1 };
        if (r->master < 0)
                return;
        if (!r->master_done)
                pfd[0] = (struct pollfd){ .fd = r->master, .events = POLLIN | (r->ilen ? POLLOUT : 0) };
        if (r->in >= 0 && !r->in_paused && !r->ilen)
                pfd[1] = (struct pollfd){ .fd = r->in, .events = POLLIN };
}

/* Blocking writes to the caller's terminal (its reader keeps up, or the
 * caller is stuck anyway); a terminal that fails is dropped, the
 * container's output then discarded. */
static void write_out(PtyRelay *r, const char *b, size_t n)
{
        while (n > 0 && r->out >= 0) {
                ssize_t w = write(r->out, b, n);

                if (w > 0) {
                        b += w;
                        n -= (size_t)w;
                } else if (w < 0 && errno == EINTR) {
                        continue;
                } else if (w < 0 && errno == EAGAIN) {
                        struct pollfd pfd = { .fd = r->out, .events = POLLOUT };

                        if (poll(&pfd, 1, 1000) <= 0)
                                r->out = -1;
                } else {
                        r->out = -1;
                }
        }
}

/* One read of the master; false when nothing more will come from it. */
static bool copy_out(PtyRelay *r)
{
        char buf[4096];
        ssize_t n = read(r->master, buf, sizeof buf);

        if (n > 0) {
                write_out(r, buf, (size_t)n);
                return true;
        }
        /* EIO: no slave is open any more (the container's last fd of it
         * closed). It could be reopened by path inside, but the session's
         * end is the child's exit, seen on its pidfd. */
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
                r->master_done = true;
        return false;
}

void pty_relay_io(PtyRelay *r, const struct pollfd pfd[PTY_POLLFDS])
{
        if (r->master < 0)
                return;
        if (pfd[1].fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t n = read(r->in, r->ibuf, sizeof r->ibuf);

                if (n > 0) {
                        r->ilen = (size_t)n;
                        r->ioff = 0;
                } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                        /* hung up, or EIO in the background: until SIGCONT */
                        r->in_paused = true;
                }
        }
        if (r->ilen > 0) {
                ssize_t n = r->master_done ? -1 : write(r->master, r->ibuf + r->ioff, r->ilen);

                if (n > 0) {
                        r->ioff += (size_t)n;
                        r->ilen -= (size_t)n;
                } else if (r->master_done || (errno != EAGAIN && errno != EINTR)) {
                        r->ilen = 0;
                }
        }
        /* a few reads per wakeup: a pty hands out at most 4 KiB at a time */
        if (pfd[0].fd >= 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
                for (int i = 0; i < 16 && copy_out(r); i++)
                        ;
}

bool pty_relay_signal(PtyRelay *r, int sig)
{
        if (r->master < 0)
                return false;
        if (sig == SIGWINCH) {
                struct winsize ws;
                int fd = r->in >= 0 ? r->in : r->out;

                /* the pty's own foreground group gets SIGWINCH from the kernel */
                if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0)
                        (void)ioctl(r->master, TIOCSWINSZ, &ws);
                return true;
        }
        /* continued (fg): the caller's shell may have reset the modes */
        if (sig == SIGCONT && r->in >= 0 && r->ctty)
                take_terminal(r, tcgetpgrp(r->in) == getpgrp());
        return false;
}

void pty_relay_end(PtyRelay *r)
{
        size_t total = 0;

        if (r->master < 0)
                return;
        /* what the container wrote last (a read of the master first
         * flushes what the slave queued); bounded, as a process of the
         * student outside could hold the slave and keep writing */
        while (!r->master_done && total < DRAIN_MAX && copy_out(r))
                total += 4096;
        if (r->raw)
                (void)tcsetattr(r->in, TCSANOW, &r->saved);
        r->raw = false;
        closep(&r->master);
}
