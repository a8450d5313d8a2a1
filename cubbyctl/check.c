/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl check: the policy parses, the helper is installed so that it can
 * work, and nothing on the host runs a sandboxed user's code outside the
 * container (sshd's forwarding, internal-sftp). Each problem is one line on
 * stderr, where it is found; the result counts them. */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cubby-build.h"
#include "ctl.h"
#include "cubby/util.h"

static void check_text(const json_t *v)
{
        if (out_get_int(v, "problems") == 0)
                printf("%s: ok (%lld sections)\n", out_get_str(v, "config"), out_get_int(v, "sections"));
}

/* A user the section applies to, to ask sshd about: the [user] itself, or
 * a member of the [group] (supplementary, or primary). */
static bool section_user(const ConfSection *sec, char *buf, size_t size)
{
        struct group *gr;
        struct passwd *pw;

        if (sec->kind == CONF_SECTION_USER) {
                snprintf(buf, size, "%s", sec->name);
                return getpwnam(sec->name) != NULL;
        }
        if (sec->kind != CONF_SECTION_GROUP || !(gr = getgrnam(sec->name)))
                return false;
        if (gr->gr_mem && gr->gr_mem[0]) {
                snprintf(buf, size, "%s", gr->gr_mem[0]);
                return true;
        }
        setpwent();
        while ((pw = getpwent()))
                if (pw->pw_gid == gr->gr_gid) {
                        snprintf(buf, size, "%s", pw->pw_name);
                        endpwent();
                        return true;
                }
        endpwent();
        return false;
}

/* sshd's effective settings for user (sshd -T -C): everything that runs
 * outside the container must be off. Returns the number of problems, -1
 * if sshd could not be asked. */
static int check_sshd_for(const char *sshd_config, const char *user)
{
        static const char *const want[][2] = {
                { "allowtcpforwarding", "no" }, { "allowstreamlocalforwarding", "no" },
                { "x11forwarding", "no" },      { "allowagentforwarding", "no" },
                { "permittunnel", "no" },       { "permituserrc", "no" },
        };
        char conn[128], *line = NULL;
        size_t cap = 0;
        int p[2], bad = 0, seen = 0, st = 0;
        FILE *f;
        pid_t pid;

        snprintf(conn, sizeof conn, "user=%s,host=localhost,addr=127.0.0.1", user);
        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                char *const args[] = { (char *)"sshd", (char *)"-T", (char *)"-f", (char *)sshd_config,
                                       (char *)"-C", conn, NULL };
                char *const envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
                int null = open("/dev/null", O_RDWR);

                dup2(p[1], 1);
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 2);
                }
                execve("/usr/sbin/sshd", args, envp);
                _exit(127);
        }
        close(p[1]);
        f = fdopen(p[0], "r");
        while (f && getline(&line, &cap, f) > 0) {
                char key[64], val[256];

                if (sscanf(line, "%63s %255[^\n]", key, val) != 2)
                        continue;
                seen++;
                for (size_t i = 0; i < ELEMENTSOF(want); i++)
                        if (strcmp(key, want[i][0]) == 0 && strcmp(val, want[i][1]) != 0) {
                                fprintf(stderr, "cubbyctl: sshd gives %s %s for sandboxed user %s (want %s)\n",
                                        key, val, user, want[i][1]);
                                bad++;
                        }
                /* internal-sftp runs inside sshd, outside any container */
                if ((strcmp(key, "subsystem") == 0 || strcmp(key, "forcecommand") == 0) &&
                    strstr(val, "internal-sftp")) {
                        fprintf(stderr, "cubbyctl: sshd uses internal-sftp for %s (%s); use the "
                                        "external sftp-server\n", user, key);
                        bad++;
                }
        }
        free(line);
        if (f)
                (void)fclose(f);
        else
                close(p[0]);
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || seen == 0)
                return -1;
        return bad;
}

int cmd_check(Ctl *c, int argc, char **argv)
{
        const char *sshd_config = "/etc/ssh/sshd_config";
        struct statvfs sv;
        struct stat st;
        int problems = 0;
        json_t *v;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--sshd-config") == 0 && i + 1 < argc) {
                        sshd_config = argv[++i];
                } else {
                        fprintf(stderr, "usage: cubbyctl check [--sshd-config PATH]\n");
                        return 2;
                }
        }
        if (ctl_load_config(c, true) < 0)
                return 1;
        if (stat(CUBBY_HELPER_PATH, &st) < 0 || st.st_uid != 0 || !(st.st_mode & S_ISUID) ||
            (st.st_mode & 022)) {
                fprintf(stderr, "cubbyctl: %s is not installed setuid root\n", CUBBY_HELPER_PATH);
                problems++;
        } else if (statvfs(CUBBY_HELPER_PATH, &sv) == 0 && (sv.f_flag & ST_NOSUID)) {
                fprintf(stderr, "cubbyctl: %s is on a nosuid mount; logins would be refused\n",
                        CUBBY_HELPER_PATH);
                problems++;
        }
        /* sshd's settings for one user of every section that sandboxes */
        if (access("/usr/sbin/sshd", X_OK) == 0 && access(sshd_config, R_OK) == 0) {
                for (size_t i = 0; i < c->conf.n_sections; i++) {
                        const ConfSection *sec = &c->conf.sections[i];
                        char user[CONF_NAME_MAX];
                        int r;

                        if (!(sec->set & (1u << CONF_KEY_SANDBOX)) || !sec->values.sandbox ||
                            !section_user(sec, user, sizeof user))
                                continue;
                        r = check_sshd_for(sshd_config, user);
                        if (r < 0)
                                fprintf(stderr, "cubbyctl: cannot ask sshd about %s (sshd -T failed)\n",
                                        user);
                        problems += r < 0 ? 1 : r;
                }
        }
        v = json_object();
        out_set(v, "config", out_str(c->config));
        out_set(v, "sections", json_integer((json_int_t)c->conf.n_sections));
        out_set(v, "problems", json_integer(problems));
        if (out_emit(c, v, check_text) < 0)
                return 1;
        return problems ? 1 : 0;
}
