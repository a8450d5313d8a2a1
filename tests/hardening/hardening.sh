#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hardening of the binaries as built (nothing installed, no root): each of
# the setuid helper, cubbyctl and the PAM module is position independent
# (ET_DYN; the executables flagged PIE), has full RELRO (a GNU_RELRO
# segment and BIND_NOW), a non-executable stack (GNU_STACK RW, not RWE), no
# RPATH or RUNPATH, FORTIFY (__*_chk calls) and the stack protector
# (__stack_chk_fail), and no sanitizer runtime; the PAM module exports
# pam_sm_* and nothing else. The setuid helper loads exactly the shared
# libraries audited in SECURITY.md ("Libraries of cubby-shell": what runs
# before main() and what environment it reads): its DT_NEEDED, and what
# ld.so resolves from it (ldd), are that list, so a new dependency fails
# here until it is audited. tests/security/H-install.sh checks the
# installed setuid copy of the helper.
#   hardening.sh HELPER CUBBYCTL PAM_MODULE SECURITY.md
set -u
if [ $# -ne 4 ]; then
        echo "usage: $0 HELPER CUBBYCTL PAM_MODULE SECURITY.md" >&2
        exit 2
fi
for t in readelf nm; do
        command -v "$t" >/dev/null || { echo "SKIP: $t not installed (binutils)"; exit 77; }
done
if [ "${CUBBY_SANITIZE:-none}" != none ]; then
        # FORTIFY is off and the sanitizer runtime is in on purpose: such a
        # build is never installed (docs/TESTING.md, rule 9), its hardening is not what ships
        echo "SKIP: sanitized build (b_sanitize=$CUBBY_SANITIZE)"
        exit 77
fi
helper=$1 ctl=$2 mod=$3 security=$4
fails=0 checks=0

check() { # DESCRIPTION RESULT(0 = good) [DETAIL]
        checks=$((checks + 1))
        if [ "$2" = 0 ]; then
                echo "ok   $1"
        else
                echo "FAIL $1${3:+ ($3)}"
                fails=$((fails + 1))
        fi
}
has() { grep -Eq -- "$1" <<<"$2"; echo $?; }
hasnt() { grep -Eq -- "$1" <<<"$2" && echo 1 || echo 0; }

for f in "$helper" "$ctl" "$mod"; do
        n=$(basename "$f")
        if [ ! -f "$f" ]; then
                check "$n: built" 1 "$f missing"
                continue
        fi
        hdr=$(readelf -hW "$f") dyn=$(readelf -dW "$f") seg=$(readelf -lW "$f") syms=$(nm -D "$f")
        check "$n: ET_DYN (position independent)" "$(has '^ *Type: +DYN ' "$hdr")"
        [ "$f" != "$mod" ] && check "$n: PIE executable (FLAGS_1 PIE)" "$(has '\(FLAGS_1\).* PIE' "$dyn")"
        check "$n: GNU_RELRO segment" "$(has '^ *GNU_RELRO ' "$seg")"
        check "$n: BIND_NOW (full RELRO)" "$(has '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).* NOW' "$dyn")"
        stack=$(awk '$1 == "GNU_STACK" { print $7 }' <<<"$seg")
        check "$n: stack not executable (GNU_STACK ${stack:-missing})" "$([ "$stack" = RW ]; echo $?)" \
                "$([ -n "$stack" ] || echo 'without a GNU_STACK header the stack is executable')"
        check "$n: no RPATH/RUNPATH" "$(hasnt '\((RPATH|RUNPATH)\)' "$dyn")"
        check "$n: stack protector (__stack_chk_fail)" "$(has ' U __stack_chk_fail' "$syms")"
        if [ "${CUBBY_OPTIMIZATION:-2}" = 0 ]; then
                echo "skip $n: FORTIFY (an -O0 build cannot fortify; meson.build sets it when optimizing)"
        else
                check "$n: FORTIFY (__*_chk calls)" "$(has ' U __[a-z0-9_]+_chk@' "$(grep -v __stack_chk_fail <<<"$syms")")"
        fi
        check "$n: no sanitizer runtime" "$(hasnt '__(asan|ubsan|tsan|msan|sanitizer)' "$syms")"
done

if [ -f "$mod" ]; then
        exported=$(nm -D --defined-only "$mod" | awk '$2 ~ /^[TDBRVWiu]$/ { print $3 }' | sort)
        check "pam_cubby.so: exports pam_sm_open_session and pam_sm_close_session" \
                "$( [ "$(grep -c -x -E 'pam_sm_(open|close)_session' <<<"$exported")" = 2 ]; echo $?)"
        others=$(grep -v -E '^pam_sm_' <<<"$exported" | tr '\n' ' ')
        check "pam_cubby.so: exports nothing but pam_sm_*" "$([ -z "$others" ]; echo $?)" "also: $others"
fi
# The audited libraries: the first column of the table after the heading
# "## Libraries of cubby-shell", e.g. | `libc.so.6` | ...
audited=$(awk '/^## /{ s = ($0 == "## Libraries of cubby-shell") } s && /^\| `[^`]+` \|/ { split($0, f, "`"); print f[2] }' \
        "$security" | sort)
if [ -f "$helper" ]; then
        check "SECURITY.md lists the helper's audited libraries" "$([ -n "$audited" ]; echo $?)" "no table in $security"
        # ld.so itself is the PT_INTERP, never in DT_NEEDED
        needed=$(readelf -dW "$helper" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | sort)
        check "cubby-shell: DT_NEEDED is exactly the audited list" \
                "$([ "$needed" = "$(grep -v '^ld-linux' <<<"$audited")" ]; echo $?)" \
                "needed: $(echo $needed); audited: $(echo $audited)"
        if command -v ldd >/dev/null; then
                loaded=$(ldd "$helper" | awk '$1 !~ /^linux-vdso/ { n = $1; sub(".*/", "", n); print n }' | sort)
                extra=$(comm -23 <(echo "$loaded") <(echo "$audited") | tr '\n' ' ')
                check "cubby-shell: ld.so loads no library outside the audited list" "$([ -z "$extra" ]; echo $?)" \
                        "not audited: $extra"
        fi
fi
echo "hardening: $((checks - fails)) of $checks checks passed"
[ "$fails" = 0 ]
