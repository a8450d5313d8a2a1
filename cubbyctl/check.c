/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl check: the policy parses, the helper is installed so that it can
 * work, and nothing on the host runs a sandboxed user's code outside the
 * container (sshd's forwarding, internal-sftp). Each problem is one line on
 * stderr, where it is found; the result counts them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/socket.h>
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
#include "cubby/home-fs.h"
#include "cubby/home-quota.h"
#include "cubby/spawn.h"
#include "cubby/user-policy.h"
#include "cubby/util.h"

static void check_text(const json_t *v)
{
        if (out_get_int(v, "problems") == 0)
                printf("%s: ok (%lld sections)\n", out_get_str(v, "config"), out_get_int(v, "sections"));
}

/* The policy of a candidate user: 1 when it is sandboxed (not an admin),
 * with *ret_ct_user telling its container mode; 0 when it is not; -1 when
 * it cannot be worked out. */
static int user_sandboxed(const Conf *conf, const char *name, bool *ret_ct_user)
{
        const struct passwd *pw = getpwnam(name);
        ConfPolicy pol;
        bool admin = false;

        if (!pw)
                return 0;
        if (user_policy(conf, conf->global.admin_group, pw, &admin, &pol, NULL) < 0)
                return -1;
        *ret_ct_user = pol.container == CONF_CONTAINER_USER;
        return !admin && pol.sandbox;
}

/* A user the section applies to, to ask sshd about: the [user] itself, or
 * the first member of the [group] (supplementary, or primary) whose policy
 * as a whole sandboxes it (an admin in the group is not one). 1: found,
 * 0: none, -1: a policy that cannot be worked out. */
static int section_user(const Conf *conf, const ConfSection *sec, char *buf, size_t size,
                        bool *ret_ct_user)
{
        struct group *gr;
        struct passwd *pw;
        int r = 0;

        if (sec->kind == CONF_SECTION_USER) {
                if (strscpy(buf, size, sec->name) < 0)
                        return 0;
                return user_sandboxed(conf, sec->name, ret_ct_user);
        }
        if (sec->kind != CONF_SECTION_GROUP || !(gr = getgrnam(sec->name)))
                return 0;
        /* user_policy looks groups up itself: getgrnam's static buffer is
         * copied first (the first 64 members are enough to find one) */
        {
                char members[64][CONF_NAME_MAX];
                gid_t gid = gr->gr_gid;
                size_t n = 0;

                for (char **m = gr->gr_mem; m && *m && n < ELEMENTSOF(members); m++)
                        if (strscpy(members[n], sizeof members[n], *m) >= 0)
                                n++;
                for (size_t i = 0; i < n; i++) {
                        r = user_sandboxed(conf, members[i], ret_ct_user);
                        if (r != 0) {
                                (void)strscpy(buf, size, members[i]);
                                return r;
                        }
                }

                setpwent();
                while ((pw = getpwent()))
                        if (pw->pw_gid == gid) {
                                char name[CONF_NAME_MAX];

                                if (strscpy(name, sizeof name, pw->pw_name) < 0)
                                        continue;
                                r = user_sandboxed(conf, name, ret_ct_user);
                                if (r != 0) {
                                        (void)strscpy(buf, size, name);
                                        break;
                                }
                        }
                endpwent();
        }
        return r;
}

/* sshd's effective settings for user (sshd -T -C): everything that runs
 * outside the container must be off. With container = user, TCP and agent
 * forwarding may be on: pam_cubby moves sshd's process for the connection
 * into the container's network namespace and the helper puts the agent's
 * socket inside. Unix socket (StreamLocal) and X11 forwarding stay off
 * for everyone: sshd makes and reaches those sockets in the host's file
 * system. Returns the number of problems, -1 if sshd could not be asked. */
static int check_sshd_for(const char *sshd_config, const char *user, bool ct_user)
{
        /* fwd: covered by DisableForwarding, which "overrides all other
         * forwarding-related options" (sshd_config(5)): X11, agent, TCP and
         * StreamLocal; not tunnels (PermitTunnel) nor ~/.ssh/rc. ct: any
         * value is fine for a container = user user. */
        static const struct {
                const char *key, *want;
                bool fwd, ct;
        } want[] = {
                { "allowtcpforwarding", "no", true, true },
                { "allowstreamlocalforwarding", "no", true, false },
                { "x11forwarding", "no", true, false },
                { "allowagentforwarding", "no", true, true },
                { "permittunnel", "no", false, false },
                { "permituserrc", "no", false, false },
        };
        _cleanup_free_ char *out = NULL;
        char conn[128], *line, *save = NULL;
        char *const args[] = { (char *)"sshd", (char *)"-T", (char *)"-f", (char *)sshd_config,
                               (char *)"-C", conn, NULL };
        size_t len = 0;
        int p[2], bad = 0, seen = 0, st = 0;
        bool disable_fwd = false;
        FILE *f;
        pid_t pid;

        snprintf(conn, sizeof conn, "user=%s,host=localhost,addr=127.0.0.1", user);
        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        if (spawn_fixed("/usr/sbin/sshd", args, p[1], &pid) < 0) {
                close(p[0]);
                close(p[1]);
                return -1;
        }
        close(p[1]);
        /* all of it first: DisableForwarding comes after the options it
         * overrides in sshd -T's output */
        f = open_memstream(&out, &len);
        if (f) {
                char buf[4096];
                size_t total = 0;
                ssize_t n;

                /* read to the end so that sshd never blocks; keep 1 MiB */
                while ((n = read(p[0], buf, sizeof buf)) > 0)
                        if ((total += (size_t)n) <= (1u << 20))
                                (void)fwrite(buf, 1, (size_t)n, f); /* short: seen below */
                (void)fclose(f);
        }
        close(p[0]);
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !out)
                return -1;
        for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                disable_fwd |= strcmp(line, "disableforwarding yes") == 0;
        for (char *l = out; l < out + len; l += strlen(l) + 1) {
                char key[64], val[256];

                if (sscanf(l, "%63s %255[^\n]", key, val) != 2)
                        continue;
                seen++;
                for (size_t i = 0; i < ELEMENTSOF(want); i++)
                        if (strcmp(key, want[i].key) == 0 && strcmp(val, want[i].want) != 0 &&
                            !(want[i].fwd && disable_fwd) && !(want[i].ct && ct_user)) {
                                fprintf(stderr, "cubbyctl: sshd gives %s %s for sandboxed user %s (want %s%s)\n",
                                        key, val, user, want[i].want,
                                        want[i].ct ? ": its container = login forwards on the host; "
                                                     "with container = user it may be on"
                                                   : "");
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
        return seen == 0 ? -1 : bad;
}

/* A warning: one line on stderr where it is found, and an entry of the
 * result's "warnings" (kind, what it is about, the line). Warnings do not
 * fail check: they name host services the policy may mean to leave open. */
static void warn(json_t *warnings, const char *kind, const char *key, const char *what,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void warn(json_t *warnings, const char *kind, const char *key, const char *what,
                 const char *fmt, ...)
{
        char msg[PATH_MAX + 512];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fprintf(stderr, "cubbyctl: warning: %s\n", msg);
        out_append(warnings, json_pack("{s:s,s:o,s:o}", "kind", kind, key, out_str(what), "message",
                                       out_str(msg)));
}

/* --- PAM stacks ------------------------------------------------------------
 * A stack can start a sandboxed user's shell when it is the stack of a
 * program that runs a shell or a command as the user (sshd, login, su,
 * su-l, runuser, runuser-l, sudo-i), or is named in the policy's services,
 * or includes common-session, Debian's stack for interactive sessions
 * (non-interactive ones, cron's, include common-session-noninteractive).
 * Not: the common-* files themselves, `other`, and the programs that only
 * change account data (chfn, chsh, passwd, chpasswd, newusers). Such a
 * stack is fine when a session line of it, or of a file it includes, names
 * pam_cubby.so. */

typedef struct PamScan {
        bool cubby;                     /* pam_cubby.so in a session line */
        bool common_session;            /* the top file includes common-session */
} PamScan;

static void pam_scan(int dirfd, const char *name, unsigned depth, PamScan *ps);

/* One line of a PAM file: "@include FILE", or "[-]TYPE CONTROL MODULE ...",
 * CONTROL a word or "[...]" with spaces. */
static void pam_scan_line(int dirfd, char *l, unsigned depth, PamScan *ps)
{
        char *save = NULL, *type = strtok_r(l, " \t", &save), *ctl, *mod;

        if (!type || type[0] == '#')
                return;
        if (strcmp(type, "@include") == 0) {
                mod = strtok_r(NULL, " \t", &save);
                if (mod && depth == 0 && strcmp(mod, "common-session") == 0)
                        ps->common_session = true;
                if (mod)
                        pam_scan(dirfd, mod, depth + 1, ps);
                return;
        }
        if (strcmp(type + (type[0] == '-'), "session") != 0 || !(ctl = strtok_r(NULL, " \t", &save)))
                return;
        if (ctl[0] == '[')
                while (ctl && !strchr(ctl, ']'))
                        ctl = strtok_r(NULL, " \t", &save);
        mod = ctl ? strtok_r(NULL, " \t", &save) : NULL;
        if (!mod)
                return;
        if (strcmp(ctl, "include") == 0 || strcmp(ctl, "substack") == 0) {
                if (depth == 0 && strcmp(mod, "common-session") == 0)
                        ps->common_session = true;
                pam_scan(dirfd, mod, depth + 1, ps);
                return;
        }
        {
                const char *base = strrchr(mod, '/');

                ps->cubby |= strcmp(base ? base + 1 : mod, "pam_cubby.so") == 0;
        }
}

static void pam_scan(int dirfd, const char *name, unsigned depth, PamScan *ps)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;

        /* bounded: includes may loop; names are files of this directory */
        if (depth > 8 || strchr(name, '/') || name[0] == '.' ||
            read_file_at(dirfd, name, 1 << 20, &text, NULL, NULL) < 0)
                return;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                pam_scan_line(dirfd, l, depth, ps);
}

static bool pam_named(const Conf *conf, const char *name)
{
        static const char *const shells[] = { "sshd",    "login",     "su",    "su-l",
                                              "runuser", "runuser-l", "sudo-i" };

        for (size_t i = 0; i < ELEMENTSOF(shells); i++)
                if (strcmp(name, shells[i]) == 0)
                        return true;
        for (size_t i = 0; i < conf->n_sections; i++) {
                const ConfSection *sec = &conf->sections[i];

                if (!(sec->set & (1u << CONF_KEY_SERVICES)))
                        continue;
                for (size_t k = 0; k < sec->values.n_services; k++)
                        if (strcmp(name, sec->values.services[k]) == 0)
                                return true;
        }
        return false;
}

static void check_pam(const Conf *conf, const char *pam_dir, json_t *warnings)
{
        static const char *const not_shells[] = { "other", "chfn", "chsh", "passwd", "chpasswd", "newusers" };
        _cleanup_close_ int fd = open(pam_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent **names = NULL;
        int n;

        if (fd < 0)
                return;
        /* in name order, so that the warnings read the same every time */
        n = scandirat(fd, ".", &names, NULL, alphasort);
        for (int k = 0; k < n; k++) {
                const char *name = names[k]->d_name;
                PamScan ps = {};
                bool named, skip = false;

                for (size_t i = 0; i < ELEMENTSOF(not_shells); i++)
                        skip |= strcmp(name, not_shells[i]) == 0;
                if (name[0] == '.' || strncmp(name, "common-", 7) == 0 || strchr(name, '~') ||
                    strstr(name, ".dpkg-"))
                        skip = true;
                named = pam_named(conf, name);
                if (skip && !named)
                        continue;
                pam_scan(fd, name, 0, &ps);
                if ((named || ps.common_session) && !ps.cubby)
                        warn(warnings, "pam", "stack", name,
                             "PAM stack %s can start a sandboxed user's shell but does not run "
                             "pam_cubby: add 'session required pam_cubby.so' to %s/%s",
                             name, pam_dir, name);
        }
        for (int k = 0; k < n; k++)
                free(names[k]);
        free(names);
}

/* --- host sockets ----------------------------------------------------------
 * The sandbox sees the host's file system (read-only, which does not stop
 * connect()), with its own /run, /tmp, /var/tmp, /dev, /proc and /sys. A
 * unix socket elsewhere that a root daemon listens on and that everyone
 * may write to is a service of root's reachable from inside: listed, with
 * the `hide` line that makes it unreachable, unless the policy or the
 * helper's built-in list (CONF_BUILTIN_HIDE) hides it. */

static bool path_under(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        while (n > 1 && dir[n - 1] == '/')
                n--;
        return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/' || n == 1);
}

static bool hidden_by_policy(const Conf *conf, const char *path)
{
        static const char *const builtin[] = CONF_BUILTIN_HIDE;

        for (size_t i = 0; i < ELEMENTSOF(builtin); i++)
                if (path_under(path, builtin[i]))
                        return true;
        for (size_t i = 0; i < conf->n_sections; i++) {
                const ConfSection *sec = &conf->sections[i];

                if (!(sec->set & (1u << CONF_KEY_HIDE)))
                        continue;
                for (size_t k = 0; k < sec->values.n_hide; k++)
                        if (path_under(path, sec->values.hide[k]))
                                return true;
        }
        return false;
}

/* Every directory above path lets others through (x for "other"): a
 * sandboxed user is not root, nor the owner of root's directories. */
static bool dirs_searchable(const char *path)
{
        char dir[PATH_MAX];
        char *slash;
        struct stat st;

        if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
                return false;
        while ((slash = strrchr(dir, '/')) && slash != dir) {
                *slash = 0;
                if (stat(dir, &st) < 0 || !(st.st_mode & S_IXOTH))
                        return false;
        }
        return true;
}

/* One line of /proc/net/unix: "Num RefCount Protocol Flags Type St Inode
 * Path", the numbers in hex but Inode; the path may hold spaces. */
static int unix_line_parse(char *line, unsigned long *ret_flags, unsigned long *ret_type, char **ret_path)
{
        char *field[7], *p = line, *end;

        for (size_t i = 0; i < ELEMENTSOF(field); i++) {
                p += strspn(p, " ");
                field[i] = p;
                p += strcspn(p, " \n");
                if (*p != ' ')
                        return -EINVAL;
                *p++ = 0;
        }
        errno = 0;
        *ret_flags = strtoul(field[3], &end, 16);
        if (errno || *end)
                return -EINVAL;
        *ret_type = strtoul(field[4], &end, 16);
        if (errno || *end)
                return -EINVAL;
        p += strspn(p, " ");
        p[strcspn(p, "\n")] = 0;
        *ret_path = p;
        return 0;
}

static void check_sockets(const Conf *conf, json_t *warnings)
{
        static const char *const private_dirs[] = { "/run", "/tmp", "/var/tmp", "/dev", "/proc", "/sys" };
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        json_t *seen = json_object();
        FILE *f = fopen("/proc/net/unix", "re");

        if (!f) {
                json_decref(seen);
                return;
        }
        /* Num RefCount Protocol Flags Type St Inode Path */
        while (getline(&line, &cap, f) > 0) {
                char real[PATH_MAX], dir[PATH_MAX];
                unsigned long flags, type;
                bool priv = false;
                struct stat st;
                char *path, *slash;

                if (unix_line_parse(line, &flags, &type, &path) < 0)
                        continue;
                /* listening stream/seqpacket (__SO_ACCEPTCON), or datagram */
                if (path[0] != '/' || !((flags & 0x10000) || type == SOCK_DGRAM))
                        continue;
                if (!realpath(path, real) || stat(real, &st) < 0 || !S_ISSOCK(st.st_mode) ||
                    st.st_uid != 0 || !(st.st_mode & S_IWOTH) || !dirs_searchable(real))
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(private_dirs); i++)
                        priv |= path_under(real, private_dirs[i]);
                if (priv || hidden_by_policy(conf, real) || json_object_get(seen, real))
                        continue;
                out_set(seen, real, json_true());
                snprintf(dir, sizeof dir, "%s", real);
                slash = strrchr(dir, '/');
                if (slash && slash != dir)
                        *slash = 0;
                warn(warnings, "socket", "path", real,
                     "%s: a unix socket of root's that anyone may connect to, reachable from "
                     "inside the sandbox; if sandboxed users must not use it: hide = %s",
                     real, dir);
        }
        (void)fclose(f);
        json_decref(seen);
}

/* home_size / home_inodes on persistent homes need project quotas on the
 * file system of state_dir (or, before it is made, of its nearest
 * existing parent). Returns the number of problems. */
static int check_home_quota(const Conf *conf)
{
        bool limited = false, persistent = true;
        char path[PATH_MAX], why[512];
        int fd = -1, r;

        for (size_t i = 0; i < conf->n_sections; i++) {
                const ConfSection *sec = &conf->sections[i];

                if ((sec->set & (1u << CONF_KEY_HOME_SIZE)) && sec->values.home_size != CONF_UNLIMITED)
                        limited = true;
                if ((sec->set & (1u << CONF_KEY_HOME_INODES)) &&
                    sec->values.home_inodes != CONF_UNLIMITED)
                        limited = true;
                if (sec->set & (1u << CONF_KEY_HOME)) {
                        if (sec->kind == CONF_SECTION_DEFAULT)
                                persistent = sec->values.home == CONF_HOME_PERSISTENT;
                        else if (sec->values.home == CONF_HOME_PERSISTENT)
                                persistent = true;
                }
        }
        if (!limited || !persistent)
                return 0;
        snprintf(path, sizeof path, "%s", conf->global.state_dir);
        while ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 && errno == ENOENT) {
                char *slash = strrchr(path, '/');

                if (!slash)
                        break;
                slash[slash == path] = 0;
        }
        if (fd < 0) {
                fprintf(stderr, "cubbyctl: home_size/home_inodes: cannot open %s: %s\n", path,
                        strerror(errno));
                return 1;
        }
        r = quota_fs_check(fd, why, sizeof why);
        close(fd);
        if (r == 0)
                return 0;
        fprintf(stderr,
                "cubbyctl: home_size/home_inodes are set, but state_dir %s (on %s) has no project "
                "quotas; sandboxed logins with a persistent home are refused: %s\n",
                conf->global.state_dir, path,
                r == -ESRCH || r == -ENOLINK || r == -EOPNOTSUPP ? why : strerror(-r));
        return 1;
}

/* One policy's home_lower: on a network file system, and not declared
 * static, an overlay home there is refused at login (home-fs.h). The
 * part of the pattern before %u is what exists for every user (or its
 * nearest existing parent). 1 for a problem (reported once per path). */
static int check_lower_of(const ConfPolicy *p, const char *where, json_t *seen,
                          json_t *warnings)
{
        char path[PATH_MAX];
        const char *fs;
        int fd;

        /* quotas of a direct home are the file server's */
        if (p->sandbox && p->home == CONF_HOME_DIRECT &&
            (p->home_size != CONF_UNLIMITED || p->home_inodes != CONF_UNLIMITED))
                warn(warnings, "home", "section", where,
                     "%s: home_size/home_inodes are ignored with home = direct (quotas stay with "
                     "the file server)",
                     where);
        if (!p->sandbox || p->home == CONF_HOME_DIRECT || p->home_lower_static)
                return 0;
        if (home_fs_pattern_prefix(p->home_lower, path, sizeof path) < 0)
                return 0;
        if (json_object_get(seen, path))
                return 0;
        out_set(seen, path, json_true());
        while ((fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 && errno == ENOENT) {
                char *slash = strrchr(path, '/');

                if (!slash || slash == path)
                        return 0;
                *slash = 0;
        }
        if (fd < 0)
                return 0;
        fs = home_fs_network_name_fd(fd);
        close(fd);
        if (!fs)
                return 0;
        fprintf(stderr,
                "cubbyctl: home_lower %s (%s) is on a network file system (%s), which may change "
                "under the overlay: logins with home = persistent or ephemeral there are refused; "
                "use home = direct, or home_lower_static = yes if it never changes\n",
                p->home_lower, where, fs);
        return 1;
}

/* The policy of [default] alone, of a member of each [group] alone, and
 * of each [user] (with the user's groups when NSS knows the user). */
static int check_home_lower(const Conf *conf, json_t *warnings)
{
        json_t *seen = json_object();
        char where[CONF_NAME_MAX + 16];
        int problems = 0;
        ConfPolicy p;

        conf_resolve(conf, "", NULL, 0, &p, NULL);
        problems += check_lower_of(&p, "[default]", seen, warnings);
        for (size_t i = 0; i < conf->n_sections; i++) {
                const ConfSection *sec = &conf->sections[i];
                const char *g = sec->name;

                if (sec->kind == CONF_SECTION_DEFAULT)
                        continue;
                if (sec->kind == CONF_SECTION_GROUP) {
                        conf_resolve(conf, "", &g, 1, &p, NULL);
                } else {
                        /* the user's own policy, with the user's groups */
                        struct passwd *pw = getpwnam(sec->name);
                        bool admin = false;

                        if (!pw || user_policy(conf, conf->global.admin_group, pw, &admin, &p,
                                               NULL) < 0)
                                conf_resolve(conf, sec->name, NULL, 0, &p, NULL);
                        if (admin)
                                continue;
                }
                snprintf(where, sizeof where, "[%s %s]",
                         sec->kind == CONF_SECTION_GROUP ? "group" : "user", sec->name);
                problems += check_lower_of(&p, where, seen, warnings);
        }
        json_decref(seen);
        return problems;
}

int cmd_check(Ctl *c, int argc, char **argv)
{
        const char *sshd_config = "/etc/ssh/sshd_config", *pam_dir = "/etc/pam.d";
        bool sandboxes = false;
        const char *why = NULL;
        json_t *warnings;
        int problems = 0, r;
        json_t *v;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--sshd-config") == 0 && i + 1 < argc) {
                        sshd_config = argv[++i];
                } else if (strcmp(argv[i], "--pam-dir") == 0 && i + 1 < argc) {
                        pam_dir = argv[++i];
                } else {
                        fprintf(stderr, "usage: cubbyctl check [--sshd-config PATH] [--pam-dir PATH]\n");
                        return 2;
                }
        }
        if (ctl_load_config(c, true) < 0)
                return 1;
        r = spawn_helper_check(NULL, &why);
        if (r == -EACCES) {
                fprintf(stderr, "cubbyctl: %s is on a nosuid mount; logins would be refused\n",
                        CUBBY_HELPER_PATH);
                problems++;
        } else if (r < 0) {
                fprintf(stderr, "cubbyctl: %s is not installed setuid root\n", CUBBY_HELPER_PATH);
                problems++;
        }
        /* sshd's settings for one user of every section that sandboxes */
        if (access("/usr/sbin/sshd", X_OK) == 0 && access(sshd_config, R_OK) == 0) {
                for (size_t i = 0; i < c->conf.n_sections; i++) {
                        const ConfSection *sec = &c->conf.sections[i];
                        char user[CONF_NAME_MAX];

                        bool ct_user = false;
                        int k;

                        /* the sections that sandbox, and those that choose
                         * the container mode: one sandboxed user of each,
                         * with the policy that user gets as a whole */
                        if (!((sec->set & (1u << CONF_KEY_SANDBOX)) && sec->values.sandbox) &&
                            !(sec->set & (1u << CONF_KEY_CONTAINER)))
                                continue;
                        k = section_user(&c->conf, sec, user, sizeof user, &ct_user);
                        if (k < 0) {
                                fprintf(stderr, "cubbyctl: cannot work out the policy of %s\n", user);
                                problems++;
                        }
                        if (k <= 0)
                                continue;
                        r = check_sshd_for(sshd_config, user, ct_user);
                        if (r < 0)
                                fprintf(stderr, "cubbyctl: cannot ask sshd about %s (sshd -T failed)\n",
                                        user);
                        problems += r < 0 ? 1 : r;
                }
        }
        problems += check_home_quota(&c->conf);
        warnings = json_array();
        problems += check_home_lower(&c->conf, warnings);
        for (size_t i = 0; i < c->conf.n_sections; i++)
                sandboxes |= (c->conf.sections[i].set & (1u << CONF_KEY_SANDBOX)) &&
                             c->conf.sections[i].values.sandbox;
        if (sandboxes) {
                check_pam(&c->conf, pam_dir, warnings);
                check_sockets(&c->conf, warnings);
        }
        v = json_object();
        out_set(v, "config", out_str(c->config));
        out_set(v, "sections", json_integer((json_int_t)c->conf.n_sections));
        out_set(v, "problems", json_integer(problems));
        out_set(v, "warnings", warnings);
        if (out_emit(c, v, check_text) < 0)
                return 1;
        return problems ? 1 : 0;
}
