/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl [--config PATH] COMMAND ...: minimal dispatcher (only "net" so
 * far; the other commands come with their issues). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cubby-build.h"
#include "cubby/conf.h"
#include "cubby/ctl-net.h"

int main(int argc, char **argv)
{
        const char *config = CUBBY_CONFIG_PATH;
        ConfError err = { 0 };
        Conf conf;
        int i = 1, r;

        if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
                config = argv[i + 1];
                i += 2;
        }
        if (i >= argc || strcmp(argv[i], "net") != 0) {
                fprintf(stderr, "usage: cubbyctl [--config PATH] net up|down|status [--json]\n");
                return 1;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "cubbyctl: must be run as root\n");
                return 1;
        }
        conf_init(&conf);
        r = conf_load(&conf, config, 0, &err);
        if (r < 0) {
                char msg[PATH_MAX + 300];

                conf_error_format(&err, msg, sizeof msg);
                fprintf(stderr, "cubbyctl: %s\n", msg);
                conf_free(&conf);
                return 1;
        }
        r = ctl_net(&conf, argc - i, argv + i);
        conf_free(&conf);
        return r;
}
