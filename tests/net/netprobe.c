/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netprobe: the per-container network (helper/veth.c) against the rules that
 * `cubbyctl net up` installed, with real packets. Run by probe.sh inside a
 * test network namespace ("the host": bridge up, NAT, ext0 towards a fake
 * outside host in a second test namespace); never in the machine's own.
 *
 * Containers are children that unshare(CLONE_NEWNET) and wait on a pipe while
 * net_setup_veth() wires them up, then probe with TCP connects:
 *   A: eth0 has its address; the gateway's allowed port answers; the outside
 *      host answers and sees the router's address (NAT); the fake resolver
 *      (inside a denied range) answers on port 53 but not on another port;
 *      169.254.169.254, container B, a closed gateway port and the host's
 *      other address do not answer.
 *   Each negative check has a positive control from the host side.
 *   A also sends raw UDP datagrams to the outside host: with its own source
 *      (must arrive: the control), with a source outside the subnet, and
 *      with container B's address (both must not arrive in routed mode; in
 *      bridge mode only the first is dropped, the second is reported).
 * With --routed (network_mode = routed) there is no bridge: the host ends
 *   carry the gateway address with the container as peer.
 * Then: the veth disappears after the container exits; network = none gives
 * lo only; a failing setup leaves no host end; and the median time of 20
 * setups; with --preload N, again with N containers' veths held. Prints
 * "N passed, N failed"; exit 0, 1, or 77 when not root.
 * Measured: the host end goes 25-45 ms after a container exits, but about
 * 1 s after A, whose timed-out connects leave SYN retransmit timers that
 * pin its netns until they fire (a real container would do the same). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "veth.h"
#include "cubby/host-netcfg.h"

#define NEG_TIMEOUT_MS 700
#define POS_TIMEOUT_MS 2000

static struct {
        const char *bridge, *outside_ns, *host_ns;
        uint32_t subnet, outside, router, meta, resolver;
        unsigned prefix;
        uint16_t port, closed_port;
        int bench, preload;
        bool routed;
} opt = { .port = 8765, .closed_port = 8766, .bench = 20 };

/* What net_setup_veth() takes: the bridge, or NULL in routed mode. */
static const char *br(void)
{
        return opt.routed ? NULL : opt.bridge;
}

static int passed, failed;

static void check(bool ok, const char *what)
{
        printf("%s - %s\n", ok ? "ok" : "not ok", what);
        fflush(stdout);
        if (ok)
                passed++;
        else
                failed++;
}

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
        struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)((ms - (time_t)(ms / 1000) * 1000) * 1e6) };

        nanosleep(&ts, NULL);
}

/* TCP connect with a timeout, then read one line. 0 and the line when
 * something answered; -errno otherwise. */
static int probe_tcp(uint32_t addr, uint16_t port, int timeout_ms, char *line, size_t size)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(addr) };
        struct pollfd p;
        int fd, err = 0, r;
        socklen_t len = sizeof err;
        ssize_t n;

        if (size)
                line[0] = 0;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
                r = -errno;
                close(fd);
                return r;
        }
        p = (struct pollfd){ .fd = fd, .events = POLLOUT };
        r = poll(&p, 1, timeout_ms);
        if (r == 0) {
                close(fd);
                return -ETIMEDOUT;
        }
        if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
                close(fd);
                return err ? -err : -EIO;
        }
        p = (struct pollfd){ .fd = fd, .events = POLLIN };
        if (poll(&p, 1, timeout_ms) <= 0) {
                close(fd);
                return -ETIMEDOUT;
        }
        n = read(fd, line, size - 1);
        close(fd);
        if (n < 0)
                return -errno;
        line[n] = 0;
        line[strcspn(line, "\n")] = 0;
        return 0;
}

static int listen_on(uint16_t port)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* Answer every connection on the fds with "<tag> <peer address>", for at
 * most 60 s; exits when the parent dies. */
static _Noreturn void serve(const char *tag, const int *fds, size_t n)
{
        struct pollfd p[4];
        double end = now_ms() + 60000;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (size_t i = 0; i < n; i++)
                p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
        while (now_ms() < end) {
                if (poll(p, n, 1000) <= 0)
                        continue;
                for (size_t i = 0; i < n; i++) {
                        struct sockaddr_in peer;
                        socklen_t len = sizeof peer;
                        char buf[64], a[INET_ADDRSTRLEN];
                        int c;

                        if (!(p[i].revents & POLLIN))
                                continue;
                        c = accept4(fds[i], (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
                        if (c < 0)
                                continue;
                        snprintf(buf, sizeof buf, "%s %s\n", tag,
                                 inet_ntop(AF_INET, &peer.sin_addr, a, sizeof a));
                        (void)!write(c, buf, strlen(buf));
                        close(c);
                }
        }
        _exit(0);
}

/* A listener child, optionally in another netns (by path). */
static pid_t spawn_server(const char *tag, const char *netns, const uint16_t *ports, size_t n)
{
        int ready[2];
        pid_t pid;
        char c;

        if (pipe2(ready, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                int fds[4];

                close(ready[0]);
                if (netns) {
                        int nsfd = open(netns, O_RDONLY | O_CLOEXEC);

                        if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
                                _exit(1);
                        close(nsfd);
                }
                for (size_t i = 0; i < n; i++)
                        if ((fds[i] = listen_on(ports[i])) < 0)
                                _exit(1);
                (void)!write(ready[1], "r", 1);
                close(ready[1]);
                serve(tag, fds, n);
        }
        close(ready[1]);
        if (pid < 0 || read(ready[0], &c, 1) != 1) {
                close(ready[0]);
                return -1;
        }
        close(ready[0]);
        return pid;
}

/* A UDP listener in another netns: each datagram's payload and source
 * address, one line each, go to the returned pipe (read end). */
static int spawn_udp_logger(const char *netns, uint16_t port, pid_t *ret_pid)
{
        int out[2], ready[2];
        pid_t pid;
        char c;

        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
                int nsfd = open(netns, O_RDONLY | O_CLOEXEC), fd;
                double end = now_ms() + 60000;

                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
                        _exit(1);
                fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                        _exit(1);
                (void)!write(ready[1], "r", 1);
                while (now_ms() < end) {
                        struct pollfd p = { .fd = fd, .events = POLLIN };
                        struct sockaddr_in peer;
                        socklen_t len = sizeof peer;
                        char buf[64], line[128], a[INET_ADDRSTRLEN];
                        ssize_t n;

                        if (poll(&p, 1, 1000) <= 0)
                                continue;
                        n = recvfrom(fd, buf, sizeof buf - 1, 0, (struct sockaddr *)&peer, &len);
                        if (n < 0)
                                continue;
                        buf[n] = 0;
                        buf[strcspn(buf, "\n ")] = 0;
                        snprintf(line, sizeof line, "%s %s\n", buf,
                                 inet_ntop(AF_INET, &peer.sin_addr, a, sizeof a));
                        (void)!write(out[1], line, strlen(line));
                }
                _exit(0);
        }
        close(out[1]);
        close(ready[1]);
        if (pid < 0 || read(ready[0], &c, 1) != 1) {
                close(ready[0]);
                close(out[0]);
                return -1;
        }
        close(ready[0]);
        *ret_pid = pid;
        return out[0];
}

/* Everything the logger has written within ms milliseconds. */
static void drain(int fd, double ms, char *buf, size_t size)
{
        double end = now_ms() + ms;
        size_t len = 0;

        buf[0] = 0;
        while (len < size - 1) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                double left = end - now_ms();
                ssize_t n;

                if (left <= 0 || poll(&p, 1, (int)left) <= 0)
                        break;
                n = read(fd, buf + len, size - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = 0;
}

/* A UDP datagram with any source address, through a raw socket (the probe's
 * containers are root in their own netns; a sandboxed user has no
 * CAP_NET_RAW, this stands for a kernel bug or a relaxed seccomp). */
static int send_forged_udp(uint32_t src, uint32_t dst, uint16_t port, const char *payload)
{
        struct {
                struct iphdr ip;
                struct udphdr udp;
                char data[32];
        } __attribute__((packed)) pkt = { 0 };
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(dst) };
        size_t n = strlen(payload);
        int fd, r = 0;

        if (n > sizeof pkt.data)
                return -EINVAL;
        memcpy(pkt.data, payload, n);
        pkt.ip.version = 4;
        pkt.ip.ihl = 5;
        pkt.ip.ttl = 64;
        pkt.ip.protocol = IPPROTO_UDP;
        pkt.ip.saddr = htonl(src);
        pkt.ip.daddr = htonl(dst);
        pkt.ip.tot_len = htons((uint16_t)(sizeof pkt.ip + sizeof pkt.udp + n));
        pkt.udp.source = htons(40000);
        pkt.udp.dest = htons(port);
        pkt.udp.len = htons((uint16_t)(sizeof pkt.udp + n));
        pkt.udp.check = 0; /* none: allowed for UDP over IPv4 */
        fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
        if (fd < 0)
                return -errno;
        if (sendto(fd, &pkt, sizeof pkt.ip + sizeof pkt.udp + n, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
                r = -errno;
        close(fd);
        return r;
}

typedef struct Container {
        pid_t pid;
        int go;                               /* write end: release the child */
        int result;                           /* read end: the child's report */
} Container;

typedef int (*ContainerFn)(void *arg, int out);

/* Fork a child into a fresh netns; it runs fn once released. */
static int container_start(Container *c, ContainerFn fn, void *arg)
{
        int ready[2], go[2], res[2];
        char ch;

        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
                return -errno;
        c->pid = fork();
        if (c->pid < 0)
                return -errno;
        if (c->pid == 0) {
                close(ready[0]);
                close(go[1]);
                close(res[0]);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(2);
                (void)!write(ready[1], "r", 1);
                if (read(go[0], &ch, 1) != 1)
                        _exit(0);
                _exit(fn(arg, res[1]));
        }
        close(ready[1]);
        close(go[0]);
        close(res[1]);
        c->go = go[1];
        c->result = res[0];
        if (read(ready[0], &ch, 1) != 1) {
                close(ready[0]);
                return -EIO;
        }
        close(ready[0]);
        return 0;
}

static void container_release(Container *c)
{
        (void)!write(c->go, "g", 1);
}

static int container_wait(Container *c)
{
        int st = 0;

        close(c->go);
        close(c->result);
        waitpid(c->pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static double wait_ifname_gone(const char *name, double limit_ms)
{
        double t0 = now_ms();

        while (if_nametoindex(name) != 0) {
                if (now_ms() - t0 > limit_ms)
                        return -1;
                sleep_ms(0.5);
        }
        return now_ms() - t0;
}

/* --- inside container A: one report line per check, "1 text" or "0 text" --- */

static __attribute__((format(printf, 3, 4))) void report(int out, bool ok, const char *fmt, ...)
{
        char buf[256];
        va_list ap;

        snprintf(buf, sizeof buf, "%d ", ok);
        va_start(ap, fmt);
        vsnprintf(buf + 2, sizeof buf - 3, fmt, ap);
        va_end(ap);
        strcat(buf, "\n");
        (void)!write(out, buf, strlen(buf));
}

static bool eth0_has(uint32_t addr)
{
        struct ifaddrs *ifa, *i;
        bool found = false;

        if (getifaddrs(&ifa) < 0)
                return false;
        for (i = ifa; i; i = i->ifa_next)
                if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && strcmp(i->ifa_name, "eth0") == 0 &&
                    ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr) == addr)
                        found = true;
        freeifaddrs(ifa);
        return found;
}

typedef struct ProbeArgs {
        uint32_t self, other;
} ProbeArgs;

static int probe_a(void *arg, int out)
{
        const ProbeArgs *pa = arg;
        uint32_t gw = netcfg_gateway(opt.subnet);
        char line[128], expect[64], a[INET_ADDRSTRLEN];
        int r;

        report(out, eth0_has(pa->self), "eth0 has the leased address %s", netcfg_ipv4_str(pa->self, a, sizeof a));

        r = probe_tcp(gw, opt.port, POS_TIMEOUT_MS, line, sizeof line);
        report(out, r == 0 && strncmp(line, "host ", 5) == 0, "gateway's allowed port answers (%s)",
               r == 0 ? line : strerror(-r));

        snprintf(expect, sizeof expect, "outside %s", netcfg_ipv4_str(opt.router, a, sizeof a));
        r = probe_tcp(opt.outside, opt.port, POS_TIMEOUT_MS, line, sizeof line);
        report(out, r == 0 && strcmp(line, expect) == 0,
               "outside host answers and sees the router's address (NAT): %s", r == 0 ? line : strerror(-r));

        r = probe_tcp(opt.resolver, 53, POS_TIMEOUT_MS, line, sizeof line);
        report(out, r == 0 && strncmp(line, "outside ", 8) == 0,
               "the configured resolver (in a denied range) answers on port 53: %s",
               r == 0 ? line : strerror(-r));

        r = probe_tcp(opt.resolver, opt.port, NEG_TIMEOUT_MS, line, sizeof line);
        report(out, r < 0, "the resolver's other ports are denied: %s", r == 0 ? line : strerror(-r));

        r = probe_tcp(opt.meta, opt.port, NEG_TIMEOUT_MS, line, sizeof line);
        report(out, r < 0, "169.254.169.254 (deny list) is not reachable: %s", r == 0 ? line : strerror(-r));

        r = probe_tcp(pa->other, opt.port, NEG_TIMEOUT_MS, line, sizeof line);
        report(out, r < 0, "another container is not reachable: %s", r == 0 ? line : strerror(-r));

        r = probe_tcp(gw, opt.closed_port, NEG_TIMEOUT_MS, line, sizeof line);
        report(out, r < 0, "a listener on the gateway's other port is not reachable: %s",
               r == 0 ? line : strerror(-r));

        r = probe_tcp(opt.router, opt.port, NEG_TIMEOUT_MS, line, sizeof line);
        report(out, r < 0, "the host's other address is not reachable: %s", r == 0 ? line : strerror(-r));

        /* The parent reads what arrived from the outside host's logger. */
        r = send_forged_udp(pa->self, opt.outside, opt.port, "own-source");
        report(out, r == 0, "raw UDP with its own source sent: %s", strerror(-r));
        r = send_forged_udp(203u << 24 | 113u << 8 | 9, opt.outside, opt.port, "forged-outside");
        report(out, r == 0, "raw UDP from 203.0.113.9 sent: %s", strerror(-r));
        r = send_forged_udp(pa->other, opt.outside, opt.port, "forged-sibling");
        report(out, r == 0, "raw UDP from container B's address sent: %s", strerror(-r));
        return 0;
}

/* Routed: the host end has the gateway as local address and the container
 * as point-to-point peer. (That there is no bridge main() checked.) */
static bool host_end_is_routed(const char *name, uint32_t gateway, uint32_t peer)
{
        struct ifaddrs *ifa, *i;
        bool found = false;

        if (getifaddrs(&ifa) < 0)
                return false;
        for (i = ifa; i; i = i->ifa_next)
                if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && strcmp(i->ifa_name, name) == 0 &&
                    ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr) == gateway && i->ifa_dstaddr &&
                    ntohl(((struct sockaddr_in *)i->ifa_dstaddr)->sin_addr.s_addr) == peer)
                        found = true;
        freeifaddrs(ifa);
        return found;
}

static int serve_b(void *arg, int out)
{
        int fd = listen_on(opt.port);

        if (fd < 0)
                return 1;
        (void)!write(out, "1 container B listens\n", 22);
        close(out);
        serve("container-b", &fd, 1);
}

static int idle(void *arg, int out)
{
        return 0;
}

static int check_lo_only(void *arg, int out)
{
        struct ifreq ifr = { 0 };
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        bool lo_up;

        strcpy(ifr.ifr_name, "lo");
        lo_up = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
        return lo_up && if_nametoindex("eth0") == 0 ? 0 : 1;
}

static void relay_report(Container *c)
{
        char buf[4096];
        size_t len = 0;
        ssize_t n;

        while (len < sizeof buf - 1 && (n = read(c->result, buf + len, sizeof buf - 1 - len)) > 0)
                len += (size_t)n;
        buf[len] = 0;
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
                check(line[0] == '1', line + 2);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static int parse_addr(const char *s, uint32_t *ret)
{
        struct in_addr in;

        if (inet_pton(AF_INET, s, &in) != 1)
                return -1;
        *ret = ntohl(in.s_addr);
        return 0;
}

static void bench(uint32_t addr, const char *label)
{
        double setup[64], gone[64];
        int n = opt.bench > 64 ? 64 : opt.bench, ok = 0;
        char host[NET_IFNAME_SIZE], what[96];

        net_host_ifname(addr, host);
        for (int i = 0; i < n; i++) {
                Container c;
                double t0;
                int r;

                if (container_start(&c, idle, NULL) < 0)
                        break;
                t0 = now_ms();
                r = net_setup_veth(c.pid, br(), addr, opt.prefix, netcfg_gateway(opt.subnet), NULL);
                setup[ok] = now_ms() - t0;
                container_release(&c);
                container_wait(&c);
                gone[ok] = wait_ifname_gone(host, 2000);
                if (r < 0 || gone[ok] < 0) {
                        fprintf(stderr, "bench %d: setup %s\n", i, strerror(-r));
                        break;
                }
                ok++;
        }
        snprintf(what, sizeof what, "%d setups and teardowns in a row%s", n, label);
        check(ok == n, what);
        if (ok > 0) {
                qsort(setup, ok, sizeof *setup, cmp_double);
                qsort(gone, ok, sizeof *gone, cmp_double);
                printf("# veth setup%s: median %.3f ms (min %.3f, max %.3f, n=%d)\n", label, setup[ok / 2],
                       setup[0], setup[ok - 1], ok);
                printf("# veth gone after container exit%s: median %.1f ms (max %.1f)\n", label, gone[ok / 2],
                       gone[ok - 1]);
        }
}

/* --preload N: N idle containers with their veths held while bench() runs
 * again, to see what the number of host ends (bridge ports, or routed
 * host ends) does to one more setup. Only pids are kept (no fds: N may be
 * past RLIMIT_NOFILE); they die with us (PDEATHSIG) or by SIGKILL. */
static void bench_preloaded(uint32_t bench_addr, int n)
{
        pid_t *pids = calloc((size_t)n, sizeof *pids);
        int held = 0, r = 0;
        double t0, t_setup, t_gone = -1;
        char label[48], host[NET_IFNAME_SIZE];

        if (!pids)
                return;
        t0 = now_ms();
        for (; held < n; held++) {
                int ready[2];
                char c;

                if (pipe2(ready, O_CLOEXEC) < 0)
                        break;
                pids[held] = fork();
                if (pids[held] == 0) {
                        close(ready[0]);
                        prctl(PR_SET_PDEATHSIG, SIGKILL);
                        if (unshare(CLONE_NEWNET) < 0)
                                _exit(2);
                        (void)!write(ready[1], "r", 1);
                        close(ready[1]);
                        for (;;)
                                pause();
                }
                close(ready[1]);
                if (pids[held] < 0 || read(ready[0], &c, 1) != 1) {
                        close(ready[0]);
                        break;
                }
                close(ready[0]);
                /* addresses from subnet + 16 on, clear of A, B and the bench */
                r = net_setup_veth(pids[held], br(), opt.subnet + 16 + (uint32_t)held, opt.prefix,
                                   netcfg_gateway(opt.subnet), NULL);
                if (r < 0) {
                        fprintf(stderr, "preload %d: %s\n", held, strerror(-r));
                        held++;
                        break;
                }
        }
        t_setup = now_ms() - t0;
        check(r == 0 && held == n, "preloaded containers all have their veth");
        printf("# %d containers set up in %.0f ms (%.3f ms each, fork included)\n", held, t_setup,
               held ? t_setup / held : 0);
        snprintf(label, sizeof label, " with %d held", held);
        bench(bench_addr, label);
        t0 = now_ms();
        for (int i = 0; i < held; i++)
                if (pids[i] > 0)
                        kill(pids[i], SIGKILL);
        for (int i = 0; i < held; i++)
                if (pids[i] > 0)
                        waitpid(pids[i], NULL, 0);
        /* every host end gone (the kernel tears the netns down in batches,
         * not in order) */
        t_gone = 0;
        for (int i = 0; i < held && t_gone >= 0; i++) {
                net_host_ifname(opt.subnet + 16 + (uint32_t)i, host);
                t_gone = wait_ifname_gone(host, 60000 - (now_ms() - t0));
        }
        check(t_gone >= 0, "all preloaded host ends gone after their containers were killed");
        printf("# %d preloaded containers killed: host ends gone after %.0f ms\n", held, now_ms() - t0);
        free(pids);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "bridge", required_argument, NULL, 'b' },   { "subnet", required_argument, NULL, 's' },
                { "outside-ns", required_argument, NULL, 'n' }, { "outside", required_argument, NULL, 'o' },
                { "router", required_argument, NULL, 'r' },   { "meta", required_argument, NULL, 'm' },
                { "resolver", required_argument, NULL, 'd' }, { "port", required_argument, NULL, 'p' },
                { "closed-port", required_argument, NULL, 'c' }, { "bench", required_argument, NULL, 'B' },
                { "host-ns", required_argument, NULL, 'H' },
                { "routed", no_argument, NULL, 'R' },
                { "preload", required_argument, NULL, 'P' },
                {},
        };
        struct stat self_ns, test_ns;
        uint16_t ports[2];
        pid_t host_srv, out_srv, udp_srv = -1;
        int udp_log;
        char got[1024];
        Container ca, cb, cn;
        ProbeArgs pa;
        char line[128], host_a[NET_IFNAME_SIZE], host_b[NET_IFNAME_SIZE];
        int c, r;
        double t0, gone;

        if (geteuid() != 0) {
                printf("SKIP: netprobe needs root\n");
                return 77;
        }
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                NetCidr cidr;

                switch (c) {
                case 'b': opt.bridge = optarg; break;
                case 's':
                        if (netcfg_parse_cidr(optarg, &cidr) < 0 || cidr.family != AF_INET)
                                return 2;
                        opt.subnet = ntohl(*(uint32_t *)cidr.addr);
                        opt.prefix = cidr.prefix;
                        break;
                case 'n': opt.outside_ns = optarg; break;
                case 'H': opt.host_ns = optarg; break;
                case 'o': if (parse_addr(optarg, &opt.outside) < 0) return 2; break;
                case 'r': if (parse_addr(optarg, &opt.router) < 0) return 2; break;
                case 'm': if (parse_addr(optarg, &opt.meta) < 0) return 2; break;
                case 'd': if (parse_addr(optarg, &opt.resolver) < 0) return 2; break;
                case 'p': opt.port = (uint16_t)atoi(optarg); break;
                case 'c': opt.closed_port = (uint16_t)atoi(optarg); break;
                case 'B': opt.bench = atoi(optarg); break;
                case 'R': opt.routed = true; break;
                case 'P': opt.preload = atoi(optarg); if (opt.preload < 0 || opt.preload > 4000) return 2; break;
                default: return 2;
                }
        }
        if (!opt.bridge || !opt.outside_ns || !opt.host_ns || !opt.subnet || !opt.outside || !opt.router || !opt.meta ||
            !opt.resolver) {
                fprintf(stderr, "netprobe: missing arguments\n");
                return 2;
        }
        /* docs/TESTING.md, rule 1: never in the machine's own network namespace; only in
         * the one the test made (and named with --host-ns). */
        if (stat("/proc/self/ns/net", &self_ns) < 0 || stat(opt.host_ns, &test_ns) < 0 ||
            self_ns.st_ino != test_ns.st_ino || self_ns.st_dev != test_ns.st_dev ||
            (!opt.routed && if_nametoindex(opt.bridge) == 0) || (opt.routed && if_nametoindex(opt.bridge) != 0)) {
                fprintf(stderr, "netprobe: not inside a test namespace with%s bridge %s\n",
                        opt.routed ? "out" : "", opt.bridge);
                return 2;
        }
        alarm(120 + (unsigned)opt.preload / 10);

        /* Listeners: the host (all its addresses, both ports), the outside. */
        ports[0] = opt.port;
        ports[1] = opt.closed_port;
        host_srv = spawn_server("host", NULL, ports, 2);
        ports[1] = 53;
        out_srv = spawn_server("outside", opt.outside_ns, ports, 2);
        udp_log = spawn_udp_logger(opt.outside_ns, opt.port, &udp_srv);
        check(host_srv > 0 && out_srv > 0 && udp_log >= 0, "listeners started");

        /* Container B listens on its own address, A probes. */
        pa.self = opt.subnet + 2;
        pa.other = opt.subnet + 3;
        r = container_start(&cb, serve_b, NULL);
        check(r == 0, "container B started");
        r = container_start(&ca, probe_a, &pa);
        check(r == 0, "container A started");

        /* A failing setup (a bridge that does not exist) leaves nothing. */
        net_host_ifname(pa.self, host_a);
        if (!opt.routed) {
                r = net_setup_veth(ca.pid, "cbt-nobridge", pa.self, opt.prefix, netcfg_gateway(opt.subnet), NULL);
                check(r == -ENODEV && if_nametoindex(host_a) == 0, "missing bridge: -ENODEV, no host end left");
        }
        r = net_setup_veth(getpid(), br(), pa.self, opt.prefix, netcfg_gateway(opt.subnet), NULL);
        check(r == -EINVAL, "refuses a pid in our own netns");

        {
                /* A stale host end under A's name: its container is gone,
                 * its netns not yet (held here by an fd, as the kernel's
                 * asynchronous teardown would). The setup must delete it
                 * (it is a veth) and go on. */
                Container c0;
                int held = -1;
                char path[64];

                r = container_start(&c0, idle, NULL);
                if (r == 0) {
                        r = net_setup_veth(c0.pid, br(), pa.self, opt.prefix, netcfg_gateway(opt.subnet), NULL);
                        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)c0.pid);
                        held = open(path, O_RDONLY | O_CLOEXEC);
                        container_release(&c0);
                        container_wait(&c0);
                }
                check(r == 0 && held >= 0 && if_nametoindex(host_a) != 0, "stale host end left by a gone container");
                r = net_setup_veth(ca.pid, br(), pa.self, opt.prefix, netcfg_gateway(opt.subnet), host_a);
                check(r == 0, "veth for container A over the stale host end");
                if (held >= 0)
                        close(held);
                check(net_remove_veth("eth0") == -EINVAL && net_remove_veth("cb0000000") == -ENODEV,
                      "remove: only cb* names; -ENODEV when there is none");
        }
        r = net_setup_veth(cb.pid, br(), pa.other, opt.prefix, netcfg_gateway(opt.subnet), host_b);
        check(r == 0, "veth for container B");
        if (opt.routed)
                check(host_end_is_routed(host_a, netcfg_gateway(opt.subnet), pa.self),
                      "routed: A's host end has the gateway address with A as its peer");
        {
                char name[NET_IFNAME_SIZE];

                net_host_ifname(pa.self + 100, name);
                /* A second pair for A: its netns already has an eth0. */
                r = net_setup_veth(ca.pid, br(), pa.self + 100, opt.prefix, netcfg_gateway(opt.subnet), NULL);
                printf("# second veth for A: %s\n", strerror(-r));
                check(r < 0 && if_nametoindex(name) == 0, "a failing veth setup leaves no host end");
        }

        container_release(&cb);
        r = (int)read(cb.result, line, 22);
        check(r == 22 && line[0] == '1', "container B listens");
        /* Positive controls from the host: what A must not reach is up. */
        r = probe_tcp(pa.other, opt.port, POS_TIMEOUT_MS, line, sizeof line);
        check(r == 0 && strncmp(line, "container-b", 11) == 0, "control: the host reaches container B");
        r = probe_tcp(opt.meta, opt.port, POS_TIMEOUT_MS, line, sizeof line);
        check(r == 0, "control: the host reaches 169.254.169.254 on the outside host");
        r = probe_tcp(opt.resolver, opt.port, POS_TIMEOUT_MS, line, sizeof line);
        check(r == 0, "control: the host reaches the resolver's other port");
        r = probe_tcp(netcfg_gateway(opt.subnet), opt.closed_port, POS_TIMEOUT_MS, line, sizeof line);
        check(r == 0, "control: the gateway's other port listens");

        container_release(&ca);
        relay_report(&ca);
        drain(udp_log, 500, got, sizeof got);
        {
                char want[64], a[INET_ADDRSTRLEN];

                snprintf(want, sizeof want, "own-source %s\n", netcfg_ipv4_str(opt.router, a, sizeof a));
                check(strstr(got, want) != NULL, "control: raw UDP with A's own source arrives outside (NAT'd)");
                check(!strstr(got, "forged-outside"), "a source outside the subnet is dropped");
                if (opt.routed)
                        check(!strstr(got, "forged-sibling"), "routed: a source forged as container B is dropped");
                else
                        printf("# bridge mode: a source forged as container B %s\n",
                               strstr(got, "forged-sibling") ? "gets out (bridge mode checks only the subnet)"
                                                             : "is dropped");
                for (char *q = got; *q; q++)
                        if (*q == '\n')
                                *q = q[1] ? ';' : 0;
                printf("# the outside host got: %s\n", got[0] ? got : "nothing");
        }
        t0 = now_ms();
        r = container_wait(&ca);
        check(r == 0, "container A exited cleanly");
        gone = wait_ifname_gone(host_a, 2000);
        check(gone >= 0, "A's host end disappears after A exits");
        printf("# A's veth gone %.1f ms after exit\n", gone >= 0 ? gone : now_ms() - t0);
        kill(cb.pid, SIGKILL);
        container_wait(&cb);
        check(wait_ifname_gone(host_b, 2000) >= 0, "B's host end disappears after B is killed");

        /* network = none */
        r = container_start(&cn, check_lo_only, NULL);
        if (r == 0) {
                r = net_setup_loopback(cn.pid);
                container_release(&cn);
                r = r < 0 ? r : container_wait(&cn);
        }
        check(r == 0, "network = none: lo up, no eth0");

        bench(pa.self, "");
        if (opt.preload > 0)
                bench_preloaded(pa.self, opt.preload);

        kill(host_srv, SIGKILL);
        kill(out_srv, SIGKILL);
        waitpid(host_srv, NULL, 0);
        waitpid(out_srv, NULL, 0);
        if (udp_srv > 0) {
                kill(udp_srv, SIGKILL);
                waitpid(udp_srv, NULL, 0);
        }
        printf("%d passed, %d failed\n", passed, failed);
        return failed ? 1 : 0;
}
