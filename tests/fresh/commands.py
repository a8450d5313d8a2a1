#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every command the project's scripts call must come from a package that a
minimal Debian 12 has (debootstrap --variant=minbase) or that
tools/install-deps installs (with its dependencies).

This machine has far more installed than a fresh one, so a script calling
`bc` works here and fails there. The check reads every shell script of the
project (tools/, tests/, bench/, .ci/, the VM guest scripts), finds the
words in command position (after a separator, `then`, `do`, `!`, or a
wrapper such as nsenter, unshare, timeout, env, setpriv, xargs), resolves
each one that this machine has to its file and, through dpkg, to its
package, and fails for a package in neither set. Commands that this machine
lacks cannot be mapped; they are listed, not judged (the test that needs
them fails or skips on its own).

Usage: commands.py SRC_DIR   (exit 0 clean, 1 on a missing package, 77 when
dpkg or apt-cache is absent)
"""
import os
import re
import shutil
import subprocess
import sys

SRC = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
MINBASE = os.path.join(SRC, "tests/fresh/minbase-packages.txt")

# Words that start a command but are not one, or take a command after them.
KEYWORDS = set("""if then else elif fi for in do done while until case esac
function select time coproc ! { } [[ ]] [ ]""".split())
# Commands that run the next non-option word as a command.
WRAPPERS = {"nsenter", "unshare", "timeout", "env", "setpriv", "xargs", "exec",
            "command", "nice", "ionice", "chroot", "stdbuf", "sudo", "flock",
            "setsid", "runuser", "nohup", "taskset", "strace", "valgrind",
            "script", "then", "do", "else", "!", "time", "builtin"}
# Options of wrappers that take a separate argument (the next word).
OPT_ARGS = {"timeout": {"-s", "-k", "--signal", "--kill-after"},
            "flock": {"-w", "-E", "--timeout", "--conflict-exit-code"},
            "nice": {"-n"}, "ionice": {"-c", "-n"}, "taskset": {},
            "setpriv": set(), "nsenter": {"-t", "--target"},
            "runuser": {"-u", "-g", "-G", "--user", "--group"},
            "script": {"-c", "-T", "-t", "-O", "-I", "-B"},
            "sudo": {"-u", "-g"}}
# A pipe counts when spaced (`a | b`): an unspaced one is a regular
# expression's alternation ('systemd|init') far more often than a pipe.
SEPARATORS = re.compile(r"(?:^|\s)\|\|?(?=\s|$)|&&|[;&(){}`]|\$\(")
# The PATH of a fresh machine: a tool of the developer's own (pyenv,
# /usr/local) must not stand in for the packaged one.
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def shell_scripts():
    roots = ["tools", "tests", "bench", ".ci"]
    for root in roots:
        top = os.path.join(SRC, root)
        for d, dirs, files in os.walk(top):
            dirs[:] = [x for x in dirs if x not in ("corpus", "regressions")]
            for f in files:
                path = os.path.join(d, f)
                try:
                    with open(path, "rb") as fh:
                        head = fh.read(128)
                except OSError:
                    continue
                first = head.split(b"\n", 1)[0]
                if f.endswith(".sh") or (first.startswith(b"#!") and
                                         re.search(rb"\b(ba|da)?sh\b", first)):
                    yield path


def strip_comment(line):
    # a '#' at the start of a word begins a comment (not inside ${#x} or $#)
    out = []
    prev = " "
    quote = None
    for ch in line:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and prev in " \t;|&(":
            break
        out.append(ch)
        prev = ch
    return "".join(out)


def heredoc_bodies_removed(text):
    """Drop the bodies of here-documents that are data (config files,
    policies), keep those fed to a shell (bash/sh <<)."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?", line)
        if m and "<<<" not in line:
            tag = m.group(1)
            is_shell = re.search(r"\b(bash|sh)\b[^<|]*<<", line) is not None
            j = i + 1
            while j < len(lines) and lines[j].strip() != tag:
                if is_shell:
                    out.append(lines[j])
                j += 1
            i = j
        i += 1
    return "\n".join(out)


def command_words(text):
    words = set()
    text = heredoc_bodies_removed(text)
    for raw in text.split("\n"):
        line = strip_comment(raw)
        # a case pattern ("systemd)", "a|b)") at the start of a line
        line = re.sub(r"^\s*[A-Za-z0-9_.*|-]+\)(?!\))", " ", line)
        # a parameter expansion is a word, not a group: ${IT_P}ex
        line = re.sub(r"\$\{[^}]*\}", "V", line)
        line = line.replace("'", " ").replace('"', " ")
        for seg in SEPARATORS.split(line):
            toks = seg.split()
            k = 0
            while k < len(toks):
                t = toks[k]
                if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", t) or t in KEYWORDS - WRAPPERS:
                    k += 1
                    continue
                if t in WRAPPERS:
                    w = t
                    words.add(t)
                    k += 1
                    # skip the wrapper's options (and their arguments)
                    while k < len(toks) and (toks[k].startswith("-") or
                                             re.match(r"^[A-Za-z_]+=", toks[k]) or
                                             (w == "timeout" and re.match(r"^[0-9.]+[smhd]?$", toks[k]))):
                        if toks[k] in OPT_ARGS.get(w, ()):
                            k += 1
                        k += 1
                    continue
                words.add(t)
                break
    return {w for w in words if re.match(r"^[a-z][a-z0-9._+-]*$", w)}


def package_of(cmd):
    if shutil.which(cmd, path=PATH) is None:
        return None
    r = subprocess.run(["bash", "-c", 'type -t -- "$1"', "_", cmd],
                       capture_output=True, text=True, env={"PATH": PATH})
    if r.stdout.strip() != "file":
        return ""
    path = shutil.which(cmd, path=PATH)
    cands = {path, os.path.realpath(path)}
    for p in list(cands):
        for a, b in (("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/")):
            if p.startswith(a):
                cands.add(b + p[len(a):])
            elif p.startswith(b):
                cands.add(a + p[len(b):])
    for p in cands:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            # "diversion by PKG from/to: PATH" lines come first where a
            # package diverts the path (linux-perf's /usr/bin/perf); the
            # owner is the line after them
            for line in r.stdout.strip().split("\n"):
                if not line.startswith("diversion by"):
                    return line.split(":")[0].split(",")[0].strip()
    return "?" + path


def closure(pkgs):
    r = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends",
                        "--no-suggests", "--no-conflicts", "--no-breaks",
                        "--no-replaces", "--no-enhances"] + pkgs,
                       capture_output=True, text=True)
    out = set(pkgs)
    for line in r.stdout.split("\n"):
        line = line.strip()
        if not line:
            continue
        if ":" in line:
            name = line.split(":", 1)[1].strip()
        else:
            name = line
        name = name.strip("<>").split(":")[0]
        if name:
            out.add(name)
    return out


def main():
    for tool in ("dpkg", "apt-cache"):
        if shutil.which(tool) is None:
            print(f"SKIP (fresh-commands): {tool} is not installed")
            return 77
    with open(MINBASE) as fh:
        minbase = {l.strip() for l in fh if l.strip() and not l.startswith("#")}
    listed = subprocess.run([os.path.join(SRC, "tools/install-deps"), "--list", "test"],
                            capture_output=True, text=True, check=True).stdout.split()
    have = minbase | closure(listed)
    if len(have) < len(minbase) + len(listed):
        print("FATAL (fresh-commands): apt-cache depends found nothing "
              "(run apt-get update)")
        return 1
    # The systemd VM's guest script runs in the guest's own Debian root:
    # minbase plus the packages tests/vm/mkroot.sh gives it (PKGS=).
    # The cluster flavour's guest script: those plus the flavour's own
    # (PKGS=$PKGS,... in the cluster branch of mkroot.sh's case).
    with open(os.path.join(SRC, "tests/vm/mkroot.sh")) as fh:
        mk = fh.read()
    m = re.search(r"^PKGS=(\S+)$", mk, re.M)
    base = m.group(1).split(",") if m else []
    m = re.search(r"^\s+PKGS=\$PKGS,(\S+)$", mk, re.M)
    extra = m.group(1).split(",") if m else []
    guest_haves = {"tests/vm/systemd-guest.sh": minbase | closure(base) if base else set(),
                   "tests/vm/cluster-guest.sh": minbase | closure(base + extra) if base and extra else set()}
    guest_haves["tests/vm/guest-lib.sh"] = guest_haves["tests/vm/systemd-guest.sh"]
    users = {}
    guest_users = {}
    for path in shell_scripts():
        with open(path, errors="replace") as fh:
            text = fh.read()
        rel = os.path.relpath(path, SRC)
        for w in command_words(text):
            if rel in guest_haves:
                guest_users.setdefault(w, set()).add(rel)
            else:
                users.setdefault(w, set()).add(rel)
    bad = 0
    unknown = []
    checked = 0
    for cmd in sorted(users):
        pkg = package_of(cmd)
        if pkg is None:
            unknown.append(cmd)
            continue
        if pkg == "":
            continue
        checked += 1
        if pkg.startswith("?"):
            print(f"FAIL: {cmd} ({pkg[1:]}) belongs to no package; used by "
                  + ", ".join(sorted(users[cmd])[:4]))
            bad += 1
        elif pkg not in have:
            print(f"FAIL: {cmd} comes from package {pkg}, which is neither in minbase "
                  f"nor installed by tools/install-deps; used by "
                  + ", ".join(sorted(users[cmd])[:4]))
            bad += 1
    for cmd in sorted(guest_users):
        pkg = package_of(cmd)
        if not pkg:
            continue
        checked += 1
        lacking = sorted(r for r in guest_users[cmd]
                         if pkg.startswith("?") or pkg not in guest_haves[r])
        if lacking:
            print(f"FAIL: {cmd} ({pkg.lstrip('?')}) is not in the guest's root "
                  f"(minbase and the flavour's PKGS in tests/vm/mkroot.sh); used by "
                  + ", ".join(lacking))
            bad += 1
    print(f"fresh-commands: {checked} commands checked, {bad} from packages a fresh "
          f"machine lacks; not on this machine (not judged): {' '.join(unknown)}")
    print(f"{checked - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
