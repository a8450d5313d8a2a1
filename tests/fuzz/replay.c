/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs a libFuzzer target's entry point once per input file, without
 * libFuzzer: the seed corpus and every crash ever found (tests/fuzz/
 * regressions/<target>/) become ordinary tests of the normal build, so a
 * fixed crash stays fixed even where clang is not used. The target's own
 * abort() is the failure; this driver only reads files.
 *   replay DIR|FILE...      (a directory: every regular file in it) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cubby/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(int dirfd, const char *name, const char *shown)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        if (fd < 0) {
                fprintf(stderr, "replay: %s: %s\n", shown, strerror(errno));
                return -errno;
        }
        r = read_fd(fd, 16u << 20, &buf, &len);
        if (r < 0) {
                fprintf(stderr, "replay: %s: %s\n", shown, strerror(-r));
                return r;
        }
        printf("replay %s (%zu bytes)\n", shown, len);
        fflush(stdout);
        LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
        return 0;
}

int main(int argc, char *argv[])
{
        unsigned n = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                struct stat st;
                DIR *d;
                struct dirent *de;

                if (stat(argv[i], &st) < 0) {
                        if (errno == ENOENT)
                                continue; /* no regressions for this target yet */
                        fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (run_file(AT_FDCWD, argv[i], argv[i]) < 0)
                                return 1;
                        n++;
                        continue;
                }
                d = opendir(argv[i]);
                if (!d) {
                        fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                while ((de = readdir(d))) {
                        char shown[PATH_MAX];

                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(shown, sizeof shown, "%s/%s", argv[i], de->d_name);
                        if (run_file(dirfd(d), de->d_name, shown) < 0) {
                                closedir(d);
                                return 1;
                        }
                        n++;
                }
                closedir(d);
        }
        if (n == 0) {
                fprintf(stderr, "replay: no inputs\n");
                return 1;
        }
        printf("replay: %u inputs, no failure\n", n);
        return 0;
}
