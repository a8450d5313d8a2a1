/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pamdrive: open a PAM session through libpam, optionally run a command while
 * it is open, close it, and print what happened as key=value lines.
 *
 *   pamdrive [-d CONFDIR] [-t TTY] [-r RHOST] [-R RUSER]
 *            [-M MODULE.so [-a ARG]...] SERVICE USER [-- CMD [ARG]...]
 *
 * Without -M the session is opened through the stack of SERVICE (read from
 * CONFDIR with pam_start_confdir(), else from /etc/pam.d) and the printed
 * codes are libpam's aggregate. With -M the module's pam_sm_open_session()
 * and pam_sm_close_session() are called directly (on a handle started for
 * SERVICE), so its own return code is printed, e.g. PAM_IGNORE. libpam
 * refuses pam_set_data() to a caller that is not inside pam_open_session(),
 * so -M only shows returns that come before the module keeps its session
 * data (PAM_IGNORE, refusals); use the stack for sessions that open.
 *
 * Output (stdout):
 *   pam_error=TEXT / pam_info=TEXT   messages the conversation received
 *   open=PAM_NAME                    pam_open_session / pam_sm_open_session
 *   cmd=exit:N | cmd=signal:N        CMD's end (run as root, with
 *                                    PAMDRIVE_PID=<this process>)
 *   close=PAM_NAME                   only after a successful (or ignored) open
 * Exit: 0 when the session opened (PAM_SUCCESS or PAM_IGNORE), 1 when it
 * was refused, 2 on usage or setup errors. Test code, never installed. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_modules.h>

#define MAX_ARGS 32

typedef int (*sm_func)(pam_handle_t *, int, int, const char **);

static const char *code_name(int code)
{
        static const char *const names[] = {
                [PAM_SUCCESS] = "PAM_SUCCESS",
                [PAM_OPEN_ERR] = "PAM_OPEN_ERR",
                [PAM_SYMBOL_ERR] = "PAM_SYMBOL_ERR",
                [PAM_SERVICE_ERR] = "PAM_SERVICE_ERR",
                [PAM_SYSTEM_ERR] = "PAM_SYSTEM_ERR",
                [PAM_BUF_ERR] = "PAM_BUF_ERR",
                [PAM_PERM_DENIED] = "PAM_PERM_DENIED",
                [PAM_AUTH_ERR] = "PAM_AUTH_ERR",
                [PAM_CRED_INSUFFICIENT] = "PAM_CRED_INSUFFICIENT",
                [PAM_AUTHINFO_UNAVAIL] = "PAM_AUTHINFO_UNAVAIL",
                [PAM_USER_UNKNOWN] = "PAM_USER_UNKNOWN",
                [PAM_MAXTRIES] = "PAM_MAXTRIES",
                [PAM_NEW_AUTHTOK_REQD] = "PAM_NEW_AUTHTOK_REQD",
                [PAM_ACCT_EXPIRED] = "PAM_ACCT_EXPIRED",
                [PAM_SESSION_ERR] = "PAM_SESSION_ERR",
                [PAM_CRED_UNAVAIL] = "PAM_CRED_UNAVAIL",
                [PAM_CRED_EXPIRED] = "PAM_CRED_EXPIRED",
                [PAM_CRED_ERR] = "PAM_CRED_ERR",
                [PAM_NO_MODULE_DATA] = "PAM_NO_MODULE_DATA",
                [PAM_CONV_ERR] = "PAM_CONV_ERR",
                [PAM_AUTHTOK_ERR] = "PAM_AUTHTOK_ERR",
                [PAM_AUTHTOK_RECOVERY_ERR] = "PAM_AUTHTOK_RECOVERY_ERR",
                [PAM_AUTHTOK_LOCK_BUSY] = "PAM_AUTHTOK_LOCK_BUSY",
                [PAM_AUTHTOK_DISABLE_AGING] = "PAM_AUTHTOK_DISABLE_AGING",
                [PAM_TRY_AGAIN] = "PAM_TRY_AGAIN",
                [PAM_IGNORE] = "PAM_IGNORE",
                [PAM_ABORT] = "PAM_ABORT",
                [PAM_AUTHTOK_EXPIRED] = "PAM_AUTHTOK_EXPIRED",
                [PAM_MODULE_UNKNOWN] = "PAM_MODULE_UNKNOWN",
                [PAM_BAD_ITEM] = "PAM_BAD_ITEM",
                [PAM_CONV_AGAIN] = "PAM_CONV_AGAIN",
                [PAM_INCOMPLETE] = "PAM_INCOMPLETE",
        };
        static char buf[32];

        if (code >= 0 && (size_t)code < sizeof names / sizeof names[0] && names[code])
                return names[code];
        snprintf(buf, sizeof buf, "PAM_CODE_%d", code);
        return buf;
}

/* Print one message on a single line: control characters as \xHH. */
static void print_msg(const char *key, const char *text)
{
        fputs(key, stdout);
        putchar('=');
        for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        printf("\\x%02x", *p);
                else
                        putchar(*p);
        }
        putchar('\n');
        fflush(stdout);
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
        struct pam_response *r;

        if (n <= 0 || n > PAM_MAX_NUM_MSG)
                return PAM_CONV_ERR;
        r = calloc((size_t)n, sizeof *r);
        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++) {
                switch (msg[i]->msg_style) {
                case PAM_ERROR_MSG:
                        print_msg("pam_error", msg[i]->msg);
                        break;
                case PAM_TEXT_INFO:
                        print_msg("pam_info", msg[i]->msg);
                        break;
                default:
                        /* Nobody is there to answer a prompt. */
                        print_msg("pam_prompt", msg[i]->msg);
                        free(r);
                        return PAM_CONV_ERR;
                }
        }
        *resp = r;
        return PAM_SUCCESS;
}

static void usage(void)
{
        fprintf(stderr, "usage: pamdrive [-d CONFDIR] [-t TTY] [-r RHOST] [-R RUSER] "
                        "[-M MODULE.so [-a ARG]...] SERVICE USER [-- CMD [ARG]...]\n");
        exit(2);
}

static void run_cmd(char **cmd)
{
        char pidbuf[32];
        pid_t pid;
        int status;

        fflush(stdout);
        snprintf(pidbuf, sizeof pidbuf, "%ld", (long)getpid());
        pid = fork();
        if (pid < 0) {
                printf("cmd=fork-failed:%d\n", errno);
                return;
        }
        if (pid == 0) {
                setenv("PAMDRIVE_PID", pidbuf, 1);
                execvp(cmd[0], cmd);
                fprintf(stderr, "pamdrive: exec %s: %s\n", cmd[0], strerror(errno));
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR) {
                        printf("cmd=wait-failed:%d\n", errno);
                        return;
                }
        }
        if (WIFEXITED(status))
                printf("cmd=exit:%d\n", WEXITSTATUS(status));
        else
                printf("cmd=signal:%d\n", WTERMSIG(status));
        fflush(stdout);
}

int main(int argc, char **argv)
{
        const char *confdir = NULL, *tty = NULL, *rhost = NULL, *ruser = NULL, *module = NULL;
        const char *margs[MAX_ARGS];
        int n_margs = 0, opt, r, opened;
        struct pam_conv pc = { .conv = conv };
        pam_handle_t *h = NULL;
        sm_func sm_open = NULL, sm_close = NULL;
        void *dl = NULL;
        char **cmd = NULL;

        while ((opt = getopt(argc, argv, "+d:t:r:R:M:a:h")) != -1) {
                switch (opt) {
                case 'd': confdir = optarg; break;
                case 't': tty = optarg; break;
                case 'r': rhost = optarg; break;
                case 'R': ruser = optarg; break;
                case 'M': module = optarg; break;
                case 'a':
                        if (n_margs >= MAX_ARGS)
                                usage();
                        margs[n_margs++] = optarg;
                        break;
                default: usage();
                }
        }
        if (argc - optind < 2)
                usage();
        if (argc - optind > 2) {
                if (strcmp(argv[optind + 2], "--") != 0 || argc - optind < 4)
                        usage();
                cmd = &argv[optind + 3];
        }

        if (module) {
                dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
                if (!dl) {
                        fprintf(stderr, "pamdrive: dlopen %s: %s\n", module, dlerror());
                        return 2;
                }
                sm_open = (sm_func)dlsym(dl, "pam_sm_open_session");
                sm_close = (sm_func)dlsym(dl, "pam_sm_close_session");
                if (!sm_open || !sm_close) {
                        fprintf(stderr, "pamdrive: %s lacks pam_sm_open/close_session\n", module);
                        return 2;
                }
        }

        if (confdir)
                r = pam_start_confdir(argv[optind], argv[optind + 1], &pc, confdir, &h);
        else
                r = pam_start(argv[optind], argv[optind + 1], &pc, &h);
        if (r != PAM_SUCCESS) {
                fprintf(stderr, "pamdrive: pam_start: %s\n", code_name(r));
                return 2;
        }
        if ((tty && pam_set_item(h, PAM_TTY, tty) != PAM_SUCCESS) ||
            (rhost && pam_set_item(h, PAM_RHOST, rhost) != PAM_SUCCESS) ||
            (ruser && pam_set_item(h, PAM_RUSER, ruser) != PAM_SUCCESS)) {
                fprintf(stderr, "pamdrive: pam_set_item failed\n");
                pam_end(h, PAM_SYSTEM_ERR);
                return 2;
        }

        r = module ? sm_open(h, 0, n_margs, margs) : pam_open_session(h, 0);
        printf("open=%s\n", code_name(r));
        fflush(stdout);
        opened = (r == PAM_SUCCESS || r == PAM_IGNORE);
        if (opened && cmd)
                run_cmd(cmd);
        if (opened) {
                int c = module ? sm_close(h, 0, n_margs, margs) : pam_close_session(h, 0);
                printf("close=%s\n", code_name(c));
        }
        fflush(stdout);
        pam_end(h, r);
        if (dl)
                dlclose(dl);
        return opened ? 0 : 1;
}
