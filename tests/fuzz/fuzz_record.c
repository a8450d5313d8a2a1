/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the session record parser (what the setuid helper
 * believes) on arbitrary bytes, and the value unescaper on the input as a
 * C string. Invariants checked on top of "no crash, no UB, no leak":
 *  - whatever parses obeys what record.h promises (safe user name,
 *    normalised absolute paths without ':' or newline where they reach
 *    the generated /etc/passwd, a cgroup for every sandbox, ...);
 *  - format(parse(x)) parses again, to the same text (the record is one
 *    canonical form; nothing is half-read);
 *  - unescape(escape(s)) == s, and unescape never yields control bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cubby/record-write.h"
#include "cubby/record.h"
#include "cubby/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_ctl(const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 && *p != '\t' && *p != '\n')
                        return true;
        return false;
}

static void check_record(const Record *r)
{
        if (r->version != 1 || !name_is_safe(r->user, sizeof r->user - 1))
                abort();
        if (!path_is_normalized_absolute(r->home) || !path_is_normalized_absolute(r->shell))
                abort();
        if (strpbrk(r->home, ":\n") || strpbrk(r->shell, ":\n") || strpbrk(r->gecos, ":\n"))
                abort();
        if (r->opener_pid <= 0 || strlen(r->id) != CUBBY_ID_LEN)
                abort();
        if (r->sandbox && r->cgroup.n == 0)
                abort();
        if (r->mode == RECORD_MODE_REDIRECT && r->sandbox && !r->redirect[0])
                abort();
        if (r->n_env > RECORD_MAX_ENV || r->n_hide > RECORD_MAX_HIDE ||
            r->cgroup.n > CG_MAX_DIRS)
                abort();
        for (size_t i = 0; i < r->n_hide; i++)
                if (!path_is_normalized_absolute(r->hide[i]))
                        abort();
        for (size_t i = 0; i < r->n_env; i++)
                if (!strchr(r->env[i], '=') || r->env[i][0] == '=')
                        abort();
        if (r->home_mount[0] && !r->run_dir[0])
                abort();
        if (r->network && (!r->run_dir[0] || !r->bridge[0] || r->prefix < 8 || r->prefix > 30))
                abort();
        if (strlen(r->hostname) > 63 || has_ctl(r->user))
                abort();
}

static void fuzz_record(const uint8_t *data, size_t size)
{
        /* ~420 KiB each: not on the stack */
        static Record a, b;
        char *text = NULL, *text2 = NULL;
        int r;

        r = record_parse((const char *)data, size, &a);
        if (r < 0) {
                if (r != -EINVAL && r != -E2BIG && r != -EPROTONOSUPPORT && r != -ENOMEM)
                        abort();
                return;
        }
        if (size > RECORD_MAX_SIZE)
                abort(); /* the size bound must hold */
        check_record(&a);
        r = record_format(&a, &text);
        if (r == -E2BIG)
                return; /* empty optional keys make the canonical form longer */
        if (r < 0)
                abort(); /* what parsed must be writable again */
        if (record_parse(text, strlen(text), &b) < 0)
                abort();
        check_record(&b);
        if (record_format(&b, &text2) < 0 || strcmp(text, text2) != 0)
                abort();
        free(text);
        free(text2);
}

static void fuzz_escape(const uint8_t *data, size_t size)
{
        char *s, *esc, *back;
        size_t cap = size * 4 + 1;
        int r;

        if (size > 8192)
                return;
        s = malloc(size + 1);
        esc = malloc(cap);
        back = malloc(size + 1);
        if (!s || !esc || !back)
                goto out;
        memcpy(s, data, size);
        s[size] = 0;

        /* the input as an escaped value */
        r = record_unescape(s, back, size + 1);
        if (r == 0) {
                for (const unsigned char *p = (const unsigned char *)back; *p; p++)
                        if (*p == 0)
                                abort();
                if (strlen(back) > strlen(s))
                        abort(); /* unescaping never grows */
        } else if (r != -EINVAL && r != -ENAMETOOLONG) {
                abort();
        }
        /* and as a raw value: escape, then back */
        r = record_escape(s, esc, cap);
        if (r < 0)
                abort(); /* 4 bytes per input byte always fit */
        for (const unsigned char *p = (const unsigned char *)esc; *p; p++)
                if (*p < 0x20 || *p >= 0x7f)
                        abort(); /* an escaped value is printable ASCII: one line */
        if (record_unescape(esc, back, size + 1) < 0 || strcmp(back, s) != 0)
                abort();
        /* too small an output buffer is an error, never an overflow */
        if (size > 0 && record_unescape(esc, back, 1) == 0 && s[0])
                abort();
out:
        free(s);
        free(esc);
        free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fuzz_record(data, size);
        fuzz_escape(data, size);
        return 0;
}
