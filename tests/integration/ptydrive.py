#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ptydrive: run a command on a terminal of its own and type into it.

    ptydrive.py STEPS -- COMMAND ARGS...

The command runs as the leader of a new session whose controlling terminal
is a fresh pty (as a login terminal is); this program holds the master, as
a terminal emulator would. STEPS is a file with one step a line:

    expect SECONDS REGEX     wait until the output since the last match
                             matches REGEX (Python syntax); else give up
    send TEXT                type TEXT (backslash escapes: \\n, \\x03 ...)
    winsize ROWS COLS        resize the terminal (the kernel sends SIGWINCH
                             to its foreground process group)
    sleep SECONDS
    waitgrep SECONDS FILE REGEX   wait until FILE holds a line matching REGEX
    # ...                    a comment

Prints the whole output (\\r removed), then `@@drive_tty=D:D:R:R` (the
terminal's devpts instance and device), `@@drive_step=...` for a step that timed out, and
`@@drive_status=N` (the command's exit status, 128+N for a signal). The
command is killed after the last step has had 30 s to finish.
"""
import codecs
import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.stderr.write("usage: ptydrive.py STEPS -- COMMAND ARGS...\n")
        return 2
    with open(sys.argv[1]) as f:
        steps = [s.rstrip("\n") for s in f if s.strip() and not s.lstrip().startswith("#")]
    master, slave = os.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    st = os.fstat(slave)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        os.execvp(sys.argv[3], sys.argv[3:])
    os.close(slave)
    out = bytearray()
    mark = 0
    failed = None
    eof = False

    def pump(timeout):
        nonlocal eof
        if eof:
            time.sleep(min(timeout, 0.05))
            return
        r, _, _ = select.select([master], [], [], timeout)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if data:
                out.extend(data)
            else:
                eof = True

    for step in steps:
        op, _, arg = step.partition(" ")
        if op == "expect":
            secs, _, rx = arg.partition(" ")
            pat = re.compile(rx.encode())
            end = time.monotonic() + float(secs)
            while True:
                m = pat.search(out, mark)
                if m:
                    mark = m.end()
                    break
                if time.monotonic() > end or eof:
                    failed = step
                    break
                pump(0.05)
        elif op == "send":
            os.write(master, codecs.decode(arg, "unicode_escape").encode("latin-1"))
        elif op == "winsize":
            rows, cols = (int(x) for x in arg.split())
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        elif op == "sleep":
            end = time.monotonic() + float(arg)
            while time.monotonic() < end:
                pump(0.05)
        elif op == "waitgrep":
            secs, path, rx = arg.split(" ", 2)
            pat = re.compile(rx)
            end = time.monotonic() + float(secs)
            while True:
                try:
                    with open(path, errors="replace") as f:
                        if any(pat.search(line) for line in f):
                            break
                except OSError:
                    pass
                if time.monotonic() > end:
                    failed = step
                    break
                pump(0.05)
        else:
            failed = "unknown step: " + step
        if failed:
            break
    end = time.monotonic() + (0 if failed else 30)
    status = None
    while status is None:
        wpid, ws = os.waitpid(pid, os.WNOHANG)
        if wpid:
            status = os.waitstatus_to_exitcode(ws)
            status = 128 - status if status < 0 else status
            break
        if time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            end = float("inf")
        pump(0.05)
    # what is still buffered
    while not eof:
        r, _, _ = select.select([master], [], [], 0.2)
        if not r:
            break
        pump(0)
    sys.stdout.write(out.replace(b"\r", b"").decode("utf-8", "replace"))
    sys.stdout.write("\n@@drive_tty=%d:%d:%d:%d\n" % (os.major(st.st_dev), os.minor(st.st_dev),
                                                      os.major(st.st_rdev), os.minor(st.st_rdev)))
    if failed:
        sys.stdout.write("@@drive_step=%s\n" % failed)
    sys.stdout.write("@@drive_status=%d\n" % status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
