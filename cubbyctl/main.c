/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl: the admin's tool. Root only. Reads the same policy file as
 * pam_cubby and the session records under the compiled-in run dir. One file
 * per verb group: sessions.c (list, show, kill) with containers.c and
 * ct-output.c (the per-user containers), stop.c (stop, the anchor holder's
 * sweep), shell.c, gc.c, check.c, explain.c, home.c, host-net.c (net:
 * libnl, libnftables), hold.c; output.c prints each command's result as JSON or
 * text. */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cubby-build.h"
#include "ctl.h"
#include "cubby/anchor-holder.h"
#include "cubby/home.h"
#include "cubby/util.h"
#include "host-net.h"

int ctl_load_config(Ctl *c, bool required)
{
        ConfError err;
        char buf[PATH_MAX + 300];
        int r;

        conf_init(&c->conf);
        r = conf_load(&c->conf, c->config, 0, &err);
        if (r < 0) {
                conf_error_format(&err, buf, sizeof buf);
                if (required)
                        fprintf(stderr, "cubbyctl: %s\n", buf);
                return r;
        }
        c->conf_ok = true;
        return 0;
}

static int cmd_net(Ctl *c, int argc, char **argv)
{
        char *args[8];
        int n = 0;

        if (ctl_load_config(c, true) < 0)
                return 1;
        /* the global --json applies to net status too */
        for (int i = 0; i < argc && n < 6; i++)
                args[n++] = argv[i];
        if (c->json && n >= 2 && strcmp(args[1], "status") == 0)
                args[n++] = (char *)"--json";
        args[n] = NULL;
        return ctl_net(&c->conf, n, args);
}

static void usage(FILE *f)
{
        fprintf(f, "usage: cubbyctl [--config PATH] [--json] COMMAND\n"
                   "commands:\n"
                   "  list               live sessions and per-user containers\n"
                   "  show ID|USER       one session's record, or a user's container and\n"
                   "                     sessions\n"
                   "  kill ID|USER       end a session, or all of a user's\n"
                   "  gc                 remove what crashed sessions left\n"
                   "  stop USER|--all    stop the user's container (or every container) now\n"
                   "  check [--sshd-config PATH] [--pam-dir DIR]\n"
                   "                     validate the policy, the installation and sshd's\n"
                   "                     settings for sandboxed users; warn of PAM stacks\n"
                   "                     without pam_cubby and of root's open unix sockets\n"
                   "  explain USER       the policy that applies to USER\n"
                   "  home show|reset USER  the user's persistent home\n"
                   "  net up|down|status the host network (bridge, NAT)\n"
                   "  shell USER [CMD...] enter USER's running container as USER\n"
                   "  hold [--stop]      keep cubby.service's cgroup (its ExecStartPost=)\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const struct {
                const char *name;
                int (*fn)(Ctl *, int, char **);
        } cmds[] = {
                { "gc", cmd_gc },     { "list", cmd_list },   { "show", cmd_show },
                { "kill", cmd_kill }, { "check", cmd_check }, { "explain", cmd_explain },
                { "home", cmd_home }, { "net", cmd_net },     { "stop", cmd_stop },
                { "shell", cmd_shell },   { "hold", cmd_hold },
        };
        Ctl c = { .config = CUBBY_CONFIG_PATH };
        int o, r;

        while ((o = getopt_long(argc, argv, "+c:jh", opts, NULL)) >= 0) {
                switch (o) {
                case 'c':
                        c.config = optarg;
                        break;
                case 'j':
                        c.json = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return 2;
        }
        /* internal: the anchor holder, exec'd by pam_cubby with the report
         * pipe on fd 3; its tick is the containers' sweep (stop.c) */
        if (strcmp(argv[optind], "__anchor") == 0 && geteuid() == 0 && fcntl(3, F_GETFD) >= 0)
                anchor_hold(3, ctl_anchor_tick, &c);
        if (geteuid() != 0) {
                fprintf(stderr, "cubbyctl: must be run as root\n");
                return 1;
        }
        openlog("cubbyctl", LOG_PID, LOG_AUTHPRIV);
        for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
                if (strcmp(argv[optind], cmds[i].name) == 0) {
                        r = cmds[i].fn(&c, argc - optind, argv + optind);
                        conf_free(&c.conf);
                        return r;
                }
        fprintf(stderr, "cubbyctl: unknown command %s\n", argv[optind]);
        usage(stderr);
        return 2;
}
