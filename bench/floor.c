/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * floor: the kernel's own cost of what a cubby login builds, with no policy,
 * no checks and no logging. Run as root; makes, in order:
 *
 *   record    with -r DIR: a record-sized file (-R BYTES, 1024) written to
 *             a temp name in DIR and renamed into place, as cubby files a
 *             session record (no fsync: run_dir is a tmpfs; give DIR on
 *             one); removed at the teardown;
 *   cgroups   a directory below each -c PARENT (one per hierarchy), with a
 *             cpu quota, a memory limit and a pids limit where the files
 *             exist; the cgroup2 one is used for CLONE_INTO_CGROUP, the v1
 *             ones are joined by the child writing "0" into their tasks
 *             file (what cubby-shell does on hybrid hosts);
 *   overlay   upper/work under -s STATE, lower = -l LOWER, mounted in a
 *             private staging mount namespace (cubby: the anchor);
 *   root      open_tree(/) recursive clone made read-only, nosuid, nodev;
 *             a staging tmpfs; host proc/sys detached; fresh tmpfs on
 *             /tmp, /var/tmp, /run, /dev (null zero full random urandom
 *             tty bound from the host, pts/, shm/), the home's parent
 *             (tmpfs) with the overlay bound at the home, the state dir
 *             hidden, /etc/passwd, group, hostname, resolv.conf bound;
 *   clone3    NEWUSER|NEWNS|NEWPID|NEWUTS|NEWNET|NEWIPC (+NEWCGROUP),
 *             uid/gid maps "U U 1", setgroups deny;
 *   veth      host end on -b BRIDGE, port isolated, peer created in the
 *             child's netns; inside: lo up, eth0 up, address, default
 *             route (two netlink batches, raw rtnetlink);
 *   child     joins the v1 cgroups, own cgroup ns, binds the root, becomes
 *             the user, hostname, proc, sysfs, devpts, pivot_root, clears
 *             every capability set, NO_NEW_PRIVS, a small seccomp filter,
 *             PDEATHSIG, and execs the command (default /bin/true).
 *
 * Then it waits for the command, removes the cgroups and prints one line:
 *   floor record_us=.. cgroup_us=.. overlay_us=.. root_us=.. start_us=.. setup_us=..
 *         run_us=.. teardown_us=.. total_us=.. status=..
 * setup_us is main() to "exec done" (the CLOEXEC pipe closed), the same
 * span as cubby-shell's setup_ms; total_us includes waiting for the command
 * and the teardown.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#define MAX_CG 8

static struct {
        const char *cg_parent[MAX_CG];
        int n_cg;
        uid_t uid;
        gid_t gid;
        const char *home, *lower, *state, *stage, *bridge, *hostname, *records;
        size_t record_size;
        uint32_t addr, gateway;
        unsigned prefix;
        char **cmd;
} opt = { .uid = (uid_t)-1, .hostname = "floor", .record_size = 1024 };

static char cg_dir[MAX_CG][PATH_MAX];
static int v1_tasks[MAX_CG], n_v1, v2_fd = -1;
static char stage_root[PATH_MAX];

static long long now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static _Noreturn void die(const char *what)
{
        fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
        exit(1);
}

static int write_at(int dfd, const char *name, const char *s)
{
        int fd = openat(dfd, name, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -1;
        n = write(fd, s, strlen(s));
        close(fd);
        return n == (ssize_t)strlen(s) ? 0 : -1;
}

static void write_file(const char *path, const char *s)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
                die(path);
        close(fd);
}

/* ------------------------------------------------------------ cgroups */

static void make_cgroups(void)
{
        for (int i = 0; i < opt.n_cg; i++) {
                struct statfs sf;
                int fd;

                snprintf(cg_dir[i], sizeof cg_dir[i], "%s/f%d", opt.cg_parent[i], (int)getpid());
                if (mkdir(cg_dir[i], 0755) < 0)
                        die(cg_dir[i]);
                fd = open(cg_dir[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0 || fstatfs(fd, &sf) < 0)
                        die(cg_dir[i]);
                /* limits where this hierarchy has them (cubby: the user level) */
                (void)write_at(fd, "cpu.cfs_quota_us", "100000");
                (void)write_at(fd, "memory.limit_in_bytes", "536870912");
                (void)write_at(fd, "pids.max", "1024");
                (void)write_at(fd, "cpu.max", "100000 100000");
                (void)write_at(fd, "memory.max", "536870912");
                if (sf.f_type == CGROUP2_SUPER_MAGIC) {
                        v2_fd = fd;
                } else {
                        v1_tasks[n_v1] = openat(fd, "tasks", O_WRONLY | O_CLOEXEC);
                        if (v1_tasks[n_v1] < 0)
                                die("tasks");
                        n_v1++;
                        close(fd);
                }
        }
}

static void remove_cgroups(void)
{
        for (int i = opt.n_cg - 1; i >= 0; i--)
                for (int t = 0; t < 200; t++) {
                        if (rmdir(cg_dir[i]) == 0 || errno != EBUSY)
                                break;
                        usleep(1000); /* a v1 css can lag the reap by a moment */
                }
}

/* ------------------------------------------------------------ record */

static char record_path[PATH_MAX];

/* What a session record costs the kernel: a temp file, one write, a rename
 * over the final name (cubby's write_file_atomic_at_nosync). */
static void write_record(void)
{
        char tmp[PATH_MAX], *buf;
        int fd;

        snprintf(record_path, sizeof record_path, "%s/f%d", opt.records, (int)getpid());
        snprintf(tmp, sizeof tmp, "%s/.f%d.tmp", opt.records, (int)getpid());
        buf = malloc(opt.record_size);
        if (!buf)
                die("malloc");
        memset(buf, 'r', opt.record_size);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || write(fd, buf, opt.record_size) != (ssize_t)opt.record_size || close(fd) < 0 ||
            rename(tmp, record_path) < 0)
                die(tmp);
        free(buf);
}

static void remove_record(void)
{
        if (record_path[0])
                unlink(record_path);
        record_path[0] = '\0';
}

/* ------------------------------------------------------------ mounts */

static void mnt(const char *src, const char *dst, const char *type, unsigned long fl, const char *data)
{
        if (mount(src, dst, type, fl, data) < 0) {
                fprintf(stderr, "floor: mount %s on %s: %s\n", src ? src : "-", dst, strerror(errno));
                exit(1);
        }
}

static void in_root(char *buf, size_t size, const char *path)
{
        snprintf(buf, size, "%s%s", stage_root, path);
}

static void tmpfs_on(const char *path, unsigned long fl, const char *data)
{
        char p[PATH_MAX];

        in_root(p, sizeof p, path);
        (void)umount2(p, MNT_DETACH); /* whatever the host had there goes */
        mnt("tmpfs", p, "tmpfs", fl, data);
}

static void bind_on(const char *src, const char *path, unsigned long fl)
{
        char p[PATH_MAX];

        in_root(p, sizeof p, path);
        mnt(src, p, NULL, MS_BIND, NULL);
        mnt(NULL, p, NULL, MS_REMOUNT | MS_BIND | fl, NULL);
}

static void touch(const char *path, mode_t mode)
{
        char p[PATH_MAX];
        int fd;

        in_root(p, sizeof p, path);
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0)
                die(p);
        close(fd);
}

static char merged[PATH_MAX];

static void make_overlay(void)
{
        char base[PATH_MAX], up[PATH_MAX], wk[PATH_MAX], data[3 * PATH_MAX + 64];

        snprintf(base, sizeof base, "%s/f%d", opt.state, (int)getpid());
        snprintf(up, sizeof up, "%s/upper", base);
        snprintf(wk, sizeof wk, "%s/work", base);
        snprintf(merged, sizeof merged, "%s/merged", base);
        if (mkdir(base, 0700) < 0 || mkdir(up, 0755) < 0 || mkdir(wk, 0700) < 0 ||
            mkdir(merged, 0755) < 0 || chown(up, opt.uid, opt.gid) < 0)
                die(base);
        snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", opt.lower, up, wk);
        mnt("floor-home", merged, "overlay", MS_NOSUID | MS_NODEV, data);
}

static void build_root(void)
{
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                .propagation = MS_PRIVATE,
        };
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
        char p[PATH_MAX], src[PATH_MAX], parent[PATH_MAX], *slash;
        int tree;

        tree = (int)syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (tree < 0)
                die("open_tree");
        if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
                die("mount_setattr");
        mnt("floor-stage", opt.stage, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=4m");
        snprintf(stage_root, sizeof stage_root, "%s/root", opt.stage);
        if (mkdir(stage_root, 0755) < 0)
                die(stage_root);
        if (syscall(SYS_move_mount, tree, "", AT_FDCWD, stage_root, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                die("move_mount");
        close(tree);

        in_root(p, sizeof p, "/proc");
        (void)umount2(p, MNT_DETACH);
        in_root(p, sizeof p, "/sys");
        (void)umount2(p, MNT_DETACH);
        tmpfs_on("/tmp", MS_NOSUID | MS_NODEV, "mode=1777");
        tmpfs_on("/var/tmp", MS_NOSUID | MS_NODEV, "mode=1777");
        tmpfs_on("/run", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755");

        tmpfs_on("/dev", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k");
        in_root(p, sizeof p, "/dev/pts");
        if (mkdir(p, 0755) < 0)
                die(p);
        in_root(p, sizeof p, "/dev/shm");
        if (mkdir(p, 01777) < 0)
                die(p);
        in_root(p, sizeof p, "/dev/ptmx");
        if (symlink("pts/ptmx", p) < 0)
                die(p);
        in_root(p, sizeof p, "/dev/fd");
        if (symlink("/proc/self/fd", p) < 0)
                die(p);
        for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
                snprintf(src, sizeof src, "/dev/%s", nodes[i]);
                touch(src, 0666);
                bind_on(src, src, MS_NOSUID | MS_NOEXEC);
        }
        touch("/dev/console", 0600);
        tmpfs_on("/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777");

        /* the home's parent empty but for the home, the overlay bound there */
        snprintf(parent, sizeof parent, "%s", opt.home);
        slash = strrchr(parent, '/');
        if (!slash || slash == parent) {
                errno = EINVAL;
                die("home");
        }
        *slash = 0;
        tmpfs_on(parent, MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k");
        in_root(p, sizeof p, opt.home);
        if (mkdir(p, 0755) < 0)
                die(p);
        bind_on(merged, opt.home, MS_NOSUID | MS_NODEV);

        /* the state dir hidden (if the fresh /tmp, /var/tmp or /run did
         * not cover it already) */
        in_root(p, sizeof p, opt.state);
        if (access(p, F_OK) == 0)
                mnt("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4k");

        /* /etc files from the staging tmpfs */
        snprintf(p, sizeof p, "%s/passwd", opt.stage);
        snprintf(src, sizeof src, "root:x:0:0:root:/root:/bin/bash\nu:x:%u:%u::%s:/bin/bash\n",
                 (unsigned)opt.uid, (unsigned)opt.gid, opt.home);
        write_file(p, src);
        bind_on(p, "/etc/passwd", MS_RDONLY | MS_NOSUID | MS_NODEV);
        snprintf(p, sizeof p, "%s/group", opt.stage);
        snprintf(src, sizeof src, "root:x:0:\nu:x:%u:\n", (unsigned)opt.gid);
        write_file(p, src);
        bind_on(p, "/etc/group", MS_RDONLY | MS_NOSUID | MS_NODEV);
        snprintf(p, sizeof p, "%s/hostname", opt.stage);
        write_file(p, "floor\n");
        bind_on(p, "/etc/hostname", MS_RDONLY | MS_NOSUID | MS_NODEV);
        if (opt.bridge) {
                struct stat st;

                in_root(src, sizeof src, "/etc/resolv.conf");
                if (lstat(src, &st) == 0 && S_ISREG(st.st_mode)) {
                        snprintf(p, sizeof p, "%s/resolv.conf", opt.stage);
                        write_file(p, "nameserver 10.213.0.1\n");
                        bind_on(p, "/etc/resolv.conf", MS_RDONLY | MS_NOSUID | MS_NODEV);
                }
        }
}

/* ------------------------------------------------------------ netlink */

typedef struct Buf {
        char data[4096];
        size_t len;
} Buf;

static struct nlmsghdr *msg_start(Buf *b, int type, int flags, const void *hdr, size_t hlen)
{
        struct nlmsghdr *h = (struct nlmsghdr *)(b->data + b->len);
        static unsigned seq;

        memset(h, 0, NLMSG_SPACE(hlen));
        h->nlmsg_len = (uint32_t)NLMSG_LENGTH(hlen);
        h->nlmsg_type = (uint16_t)type;
        h->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
        h->nlmsg_seq = ++seq;
        memcpy(NLMSG_DATA(h), hdr, hlen);
        return h;
}

static void msg_end(Buf *b, struct nlmsghdr *h)
{
        b->len += NLMSG_ALIGN(h->nlmsg_len);
}

static struct rtattr *attr(struct nlmsghdr *h, int type, const void *data, size_t len)
{
        struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

        a->rta_type = (unsigned short)type;
        a->rta_len = (unsigned short)RTA_LENGTH(len);
        if (len)
                memcpy(RTA_DATA(a), data, len);
        h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
        return a;
}

static struct rtattr *nest(struct nlmsghdr *h, int type)
{
        return attr(h, type, NULL, 0);
}

static void nest_end(struct nlmsghdr *h, struct rtattr *a)
{
        a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a);
}

static int nl_open(void)
{
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

        if (fd < 0)
                die("netlink socket");
        return fd;
}

/* Send all messages at once, then read one ack per message. */
static void nl_batch(int fd, Buf *b, int n_msgs, const char *what)
{
        char rbuf[8192];
        int acks = 0;

        if (send(fd, b->data, b->len, 0) != (ssize_t)b->len)
                die(what);
        while (acks < n_msgs) {
                ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);

                if (n < 0)
                        die(what);
                for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (size_t)n);
                     h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                struct nlmsgerr *e = NLMSG_DATA(h);

                                if (e->error) {
                                        errno = -e->error;
                                        die(what);
                                }
                                acks++;
                        }
                }
        }
}

static void setup_net(pid_t child)
{
        char host[IFNAMSIZ], path[64];
        int self_ns, child_ns, sk, sk_in, br, eth0;
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        struct nlmsghdr *h;
        struct rtattr *li, *data, *peer;
        uint32_t u32, be;
        uint8_t one = 1;
        Buf b = { .len = 0 };

        snprintf(host, sizeof host, "cbf%06x", (unsigned)getpid() & 0xffffff);
        self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)child);
        child_ns = open(path, O_RDONLY | O_CLOEXEC);
        if (self_ns < 0 || child_ns < 0)
                die("netns");
        br = (int)if_nametoindex(opt.bridge);
        if (!br)
                die(opt.bridge);
        sk = nl_open();

        /* the pair, host end up on the bridge, peer born in the child's netns */
        ifi.ifi_flags = IFF_UP;
        ifi.ifi_change = IFF_UP;
        h = msg_start(&b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
        attr(h, IFLA_IFNAME, host, strlen(host) + 1);
        u32 = (uint32_t)br;
        attr(h, IFLA_MASTER, &u32, 4);
        li = nest(h, IFLA_LINKINFO);
        attr(h, IFLA_INFO_KIND, "veth", 5);
        data = nest(h, IFLA_INFO_DATA);
        peer = nest(h, VETH_INFO_PEER);
        {
                struct ifinfomsg pi = { .ifi_family = AF_UNSPEC };

                /* the peer's ifinfomsg is the nest's payload header */
                memcpy((char *)h + h->nlmsg_len, &pi, sizeof pi);
                h->nlmsg_len += NLMSG_ALIGN(sizeof pi);
        }
        attr(h, IFLA_IFNAME, "eth0", 5);
        u32 = (uint32_t)child_ns;
        attr(h, IFLA_NET_NS_FD, &u32, 4);
        nest_end(h, peer);
        nest_end(h, data);
        nest_end(h, li);
        msg_end(&b, h);
        /* port isolation, as cubby does */
        memset(&ifi, 0, sizeof ifi);
        ifi.ifi_family = AF_UNSPEC;
        h = msg_start(&b, RTM_NEWLINK, 0, &ifi, sizeof ifi);
        attr(h, IFLA_IFNAME, host, strlen(host) + 1);
        li = nest(h, IFLA_LINKINFO);
        attr(h, IFLA_INFO_SLAVE_KIND, "bridge", 7);
        data = nest(h, IFLA_INFO_SLAVE_DATA);
        attr(h, IFLA_BRPORT_ISOLATED, &one, 1);
        nest_end(h, data);
        nest_end(h, li);
        msg_end(&b, h);
        nl_batch(sk, &b, 2, "veth");

        /* one hop into the child's netns for a socket there */
        if (setns(child_ns, CLONE_NEWNET) < 0)
                die("setns child net");
        sk_in = nl_open();
        eth0 = (int)if_nametoindex("eth0");
        if (setns(self_ns, CLONE_NEWNET) < 0)
                die("setns back");
        if (!eth0)
                die("eth0");

        b.len = 0;
        memset(&ifi, 0, sizeof ifi);
        ifi.ifi_family = AF_UNSPEC;
        ifi.ifi_flags = IFF_UP;
        ifi.ifi_change = IFF_UP;
        ifi.ifi_index = 1;
        h = msg_start(&b, RTM_NEWLINK, 0, &ifi, sizeof ifi);
        msg_end(&b, h);
        ifi.ifi_index = eth0;
        h = msg_start(&b, RTM_NEWLINK, 0, &ifi, sizeof ifi);
        msg_end(&b, h);
        {
                struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)opt.prefix,
                                         .ifa_index = (unsigned)eth0 };

                h = msg_start(&b, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
                be = htonl(opt.addr);
                attr(h, IFA_LOCAL, &be, 4);
                attr(h, IFA_ADDRESS, &be, 4);
                msg_end(&b, h);
        }
        {
                struct rtmsg rt = { .rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN,
                                    .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE,
                                    .rtm_type = RTN_UNICAST };

                h = msg_start(&b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof rt);
                be = htonl(opt.gateway);
                attr(h, RTA_GATEWAY, &be, 4);
                u32 = (uint32_t)eth0;
                attr(h, RTA_OIF, &u32, 4);
                msg_end(&b, h);
        }
        nl_batch(sk_in, &b, 4, "inside");
        close(sk_in);
        close(sk);
        close(self_ns);
        close(child_ns);
}

/* ------------------------------------------------------------ child */

static _Noreturn void child_fail(int fd, int step)
{
        int e[2] = { step, errno };

        (void)!write(fd, e, sizeof e);
        _exit(127);
}

static _Noreturn void child_main(int sync_fd, int err_fd)
{
        static struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_keyctl, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof filter / sizeof filter[0], .filter = filter };
        struct __user_cap_header_struct ch = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct cd[2] = {};
        char go;

        if (read(sync_fd, &go, 1) != 1)
                _exit(127);
        close(sync_fd);
        for (int i = 0; i < n_v1; i++)
                if (write(v1_tasks[i], "0", 1) != 1)
                        child_fail(err_fd, 1);
        if (n_v1 && unshare(CLONE_NEWCGROUP) < 0)
                child_fail(err_fd, 2);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount(stage_root, stage_root, NULL, MS_BIND | MS_REC, NULL) < 0 || chdir(stage_root) < 0)
                child_fail(err_fd, 3);
        if (setresgid(opt.gid, opt.gid, opt.gid) < 0 || setresuid(opt.uid, opt.uid, opt.uid) < 0)
                child_fail(err_fd, 4);
        if (sethostname(opt.hostname, strlen(opt.hostname)) < 0)
                child_fail(err_fd, 5);
        if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
            mount("sysfs", "sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
            mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0)
                child_fail(err_fd, 6);
        if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0 ||
            chdir(opt.home) < 0)
                child_fail(err_fd, 7);
        for (int c = 0; c <= 63; c++)
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        child_fail(err_fd, 8);
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 || syscall(SYS_capset, &ch, cd) < 0)
                child_fail(err_fd, 8);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                child_fail(err_fd, 9);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                child_fail(err_fd, 10);
        execv(opt.cmd[0], opt.cmd);
        child_fail(err_fd, 11);
}

/* ------------------------------------------------------------ main */

static int parse_addr(const char *s, uint32_t *a, unsigned *prefix)
{
        char buf[64], *slash;
        struct in_addr in;

        snprintf(buf, sizeof buf, "%s", s);
        slash = strchr(buf, '/');
        if (slash) {
                *slash = 0;
                if (prefix)
                        *prefix = (unsigned)atoi(slash + 1);
        }
        if (inet_pton(AF_INET, buf, &in) != 1)
                return -1;
        *a = ntohl(in.s_addr);
        return 0;
}

static _Noreturn void usage(void)
{
        fprintf(stderr,
                "usage: floor -u UID -g GID -H HOME -l LOWER -s STATE_DIR -S STAGE_DIR\n"
                "             [-c CGROUP_PARENT]... [-b BRIDGE -a ADDR/PREFIX -G GATEWAY]\n"
                "             [-r RECORD_DIR [-R BYTES]]\n"
                "             [-- COMMAND ARGS...]   (default /bin/true)\n");
        exit(2);
}

int main(int argc, char **argv)
{
        static char *def_cmd[] = { "/bin/true", NULL };
        long long t0 = now_us(), t_rec, t_cg, t_ov, t_root, t_clone, t_exec, t_exit, t_end;
        struct clone_args args = { 0 };
        int sync_p[2], err_p[2], pidfd = -1, orig_mnt, c, status = 0, e[2];
        char map[64], path[64];
        pid_t pid;
        ssize_t n;

        while ((c = getopt(argc, argv, "c:u:g:H:l:s:S:b:a:G:n:r:R:")) != -1) {
                switch (c) {
                case 'c':
                        if (opt.n_cg < MAX_CG)
                                opt.cg_parent[opt.n_cg++] = optarg;
                        break;
                case 'u': opt.uid = (uid_t)atoi(optarg); break;
                case 'g': opt.gid = (gid_t)atoi(optarg); break;
                case 'H': opt.home = optarg; break;
                case 'l': opt.lower = optarg; break;
                case 's': opt.state = optarg; break;
                case 'S': opt.stage = optarg; break;
                case 'b': opt.bridge = optarg; break;
                case 'a': if (parse_addr(optarg, &opt.addr, &opt.prefix) < 0) usage(); break;
                case 'G': if (parse_addr(optarg, &opt.gateway, NULL) < 0) usage(); break;
                case 'n': opt.hostname = optarg; break;
                case 'r': opt.records = optarg; break;
                case 'R':
                        opt.record_size = (size_t)atol(optarg);
                        if (opt.record_size < 1 || opt.record_size > 65536)
                                usage();
                        break;
                default: usage();
                }
        }
        if (opt.uid == (uid_t)-1 || !opt.home || !opt.lower || !opt.state || !opt.stage)
                usage();
        opt.cmd = optind < argc ? argv + optind : def_cmd;

        if (opt.records) {
                write_record();
                atexit(remove_record);
        }
        t_rec = now_us();
        make_cgroups();
        atexit(remove_cgroups);
        t_cg = now_us();
        orig_mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (orig_mnt < 0 || unshare(CLONE_NEWNS) < 0)
                die("unshare");
        mnt(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
        make_overlay();
        t_ov = now_us();
        build_root();
        t_root = now_us();

        if (pipe2(sync_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0)
                die("pipe");
        args.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNET |
                     CLONE_NEWIPC | CLONE_PIDFD;
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        args.exit_signal = SIGCHLD;
        if (v2_fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t)v2_fd;
                if (n_v1 == 0)
                        args.flags |= CLONE_NEWCGROUP;
        }
        pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
        if (pid < 0)
                die("clone3");
        if (pid == 0) {
                close(sync_p[1]);
                close(err_p[0]);
                child_main(sync_p[0], err_p[1]);
        }
        t_clone = now_us();
        close(sync_p[0]);
        close(err_p[1]);
        if (setns(orig_mnt, CLONE_NEWNS) < 0)
                die("setns back");
        snprintf(path, sizeof path, "/proc/%d", (int)pid);
        {
                int dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

                snprintf(map, sizeof map, "%u %u 1\n", (unsigned)opt.uid, (unsigned)opt.uid);
                if (dfd < 0 || write_at(dfd, "uid_map", map) < 0 || write_at(dfd, "setgroups", "deny") < 0)
                        die("uid_map");
                snprintf(map, sizeof map, "%u %u 1\n", (unsigned)opt.gid, (unsigned)opt.gid);
                if (write_at(dfd, "gid_map", map) < 0)
                        die("gid_map");
                close(dfd);
        }
        if (opt.bridge)
                setup_net(pid);
        if (write(sync_p[1], "g", 1) != 1)
                die("sync");
        close(sync_p[1]);
        n = read(err_p[0], e, sizeof e);
        t_exec = now_us();
        if (n == (ssize_t)sizeof e) {
                fprintf(stderr, "floor: child step %d: %s\n", e[0], strerror(e[1]));
                waitpid(pid, NULL, 0);
                return 1;
        }
        if (waitpid(pid, &status, 0) < 0)
                die("waitpid");
        t_exit = now_us();
        remove_cgroups();
        opt.n_cg = 0; /* done: nothing left for atexit */
        remove_record();
        t_end = now_us();
        printf("floor record_us=%lld cgroup_us=%lld overlay_us=%lld root_us=%lld start_us=%lld setup_us=%lld "
               "run_us=%lld teardown_us=%lld total_us=%lld status=%d\n",
               t_rec - t0, t_cg - t_rec, t_ov - t_cg, t_root - t_ov, t_exec - t_root, t_exec - t0, t_exit - t_exec,
               t_end - t_exit, t_end - t0, status);
        (void)t_clone;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
