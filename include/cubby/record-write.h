/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing the session record (lib/record-write.c). */
#pragma once

#include "cubby/record.h"

/* Serialise into a malloc'd NUL-terminated string. */
int record_format(const Record *r, char **ret);

/* Write atomically (temp + rename, 0600) as <key> in the sessions dir. */
int record_write(int sessions_dirfd, const Record *r);

/* The opener of a key, if key is exactly as record_key writes it (not in
 * the helper: only gc needs it). */
int record_key_parse(const char *key, pid_t *ret_pid, uint64_t *ret_start);
