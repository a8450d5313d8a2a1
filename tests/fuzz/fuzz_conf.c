/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the policy parser on arbitrary bytes, then resolution
 * of a few users against whatever parsed, and the two value parsers on the
 * input as a C string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cubby/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const groups[] = { "students", "staff", "exam" };
        static ConfPolicy policy; /* 140 KiB: not on the stack */
        const ConfSection *src[_CONF_KEY_MAX];
        char buf[PATH_MAX + 300];
        ConfError err;
        Conf conf;
        char *s;
        uint64_t v;
        int r;

        /* The real bound is CONF_MAX_FILE_SIZE; larger inputs only test the
         * size check. */
        if (size > CONF_MAX_FILE_SIZE + 1)
                return -1;

        conf_init(&conf);
        memset(&err, 0, sizeof err);
        r = conf_parse(&conf, (const char *)data, size, "fuzz.conf", &err);
        if (r < 0) {
                conf_error_format(&err, buf, sizeof buf);
                if (err.msg[0] == 0 || memchr(err.msg, 0, sizeof err.msg) == NULL)
                        abort(); /* every error must say something */
        } else {
                conf_resolve(&conf, "alice", groups, 3, &policy, src);
                for (int k = 0; k < _CONF_KEY_MAX; k++)
                        if (src[k] && !(src[k]->set & (1u << k)))
                                abort();
                if (policy.n_services > CONF_MAX_SERVICES || policy.n_hide > CONF_MAX_HIDE ||
                    conf.global.n_deny > 32 || conf.global.n_gateway_ports > 16 ||
                    conf.n_sections > CONF_MAX_SECTIONS || policy.cpu_milli == 0)
                        abort();
                conf_resolve(&conf, "bob", NULL, 0, &policy, NULL);
        }
        conf_free(&conf);

        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        if (conf_parse_cpu(s, &v) == 0 && (v == 0 || (v > 4096000 && v != CONF_UNLIMITED)))
                abort();
        (void)conf_parse_size(s, &v);
        free(s);
        return 0;
}
