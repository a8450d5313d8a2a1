/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl's output: each command's result is one jansson value, printed as
 * JSON or handed to the command's text form. Strings come from records,
 * paths and the policy, i.e. bytes; jansson requires UTF-8, so out_str()
 * makes every string valid UTF-8 first (RFC 8259 requires it of JSON).
 * jansson escapes the control characters itself. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "cubby/log.h"

/* Set when a value could not be built (ENOMEM): out_emit prints nothing
 * rather than a document with members missing. */
static bool out_failed;

/* The length of the valid UTF-8 sequence at p (1 to 4), or 0 if the byte
 * at p does not start one: no overlong forms, no surrogates, nothing above
 * U+10FFFF (the rules of RFC 3629). */
static size_t utf8_seq_len(const unsigned char *p)
{
        unsigned c = p[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                n = 2;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 3;
                cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 4;
                cp = c & 0x07;
        } else {
                return 0;
        }
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

json_t *out_str(const char *s)
{
        static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        size_t len = strlen((const char *)p), o = 0;
        char *buf;
        json_t *v;

        /* each byte becomes at most the 3 bytes of U+FFFD */
        buf = malloc(len * 3 + 1);
        if (!buf) {
                out_failed = true;
                return NULL;
        }
        for (size_t i = 0; i < len;) {
                size_t n = utf8_seq_len(p + i);

                if (n == 0) {
                        memcpy(buf + o, replacement, 3);
                        o += 3;
                        i++;
                        continue;
                }
                memcpy(buf + o, p + i, n);
                o += n;
                i += n;
        }
        buf[o] = 0;
        v = json_stringn(buf, o);
        free(buf);
        if (!v)
                out_failed = true;
        return v;
}

void out_set(json_t *obj, const char *key, json_t *value)
{
        if (!obj || !value || json_object_set_new(obj, key, value) < 0)
                out_failed = true;
}

void out_append(json_t *array, json_t *value)
{
        if (!array || !value || json_array_append_new(array, value) < 0)
                out_failed = true;
}

const char *out_get_str(const json_t *obj, const char *key)
{
        const char *s = json_string_value(json_object_get(obj, key));

        return s ? s : "";
}

long long out_get_int(const json_t *obj, const char *key)
{
        return (long long)json_integer_value(json_object_get(obj, key));
}

bool out_get_bool(const json_t *obj, const char *key)
{
        return json_is_true(json_object_get(obj, key));
}

const char *out_text(char *buf, size_t size, const char *s)
{
        return log_escape(buf, size, s);
}

void out_table(FILE *f, const json_t *rows, const OutColumn *cols, size_t n_cols)
{

        for (size_t k = 0; k < n_cols; k++)
                fprintf(f, k + 1 < n_cols ? "%*s " : "%*s\n", k + 1 < n_cols ? cols[k].width : 0,
                        cols[k].header);
        for (size_t i = 0; i < json_array_size(rows); i++) {
                const json_t *row = json_array_get(rows, i);

                for (size_t k = 0; k < n_cols; k++) {
                        const json_t *v = json_object_get(row, cols[k].key);
                        int w = k + 1 < n_cols ? cols[k].width : 0;
                        char esc[256];

                        if (json_is_integer(v))
                                fprintf(f, "%*lld", w, (long long)json_integer_value(v));
                        else if (json_is_boolean(v))
                                fprintf(f, "%*s", w, json_is_true(v) ? "yes" : "no");
                        else if (json_is_string(v) && json_string_length(v) > 0)
                                fprintf(f, "%*s", w, out_text(esc, sizeof esc, json_string_value(v)));
                        else
                                fprintf(f, "%*s", w, cols[k].empty ? cols[k].empty : "");
                        (void)fputc(k + 1 < n_cols ? ' ' : '\n', f);
                }
        }
}

int out_emit(const Ctl *c, json_t *value, OutTextFn text)
{
        int r = 0;

        if (out_failed || !value) {
                json_decref(value);
                return -ENOMEM;
        }
        if (c->json) {
                /* JSON_ENCODE_ANY: a list is an array at the top */
                if (json_dumpf(value, stdout, JSON_COMPACT | JSON_ENCODE_ANY) < 0 || putchar('\n') == EOF)
                        r = -EIO;
        } else if (text) {
                text(value);
        }
        json_decref(value);
        if (fflush(stdout) == EOF)
                r = -EIO;
        return r;
}
