#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Lines of project code linked into a binary, from its link map.

    linked-lines.py MAP COMPILE_COMMANDS SOURCE_ROOT LIMIT

The objects come from the linker's map file (-Wl,-Map): every object file
loaded directly ("LOAD x.o") and every archive member the linker pulled in
("Archive member included ..."). Each object is traced back to the .c file
it was compiled from through compile_commands.json; only files inside
SOURCE_ROOT count (libc, libcap-ng and the other system libraries do not).
A whole object counts, as the linker takes whole objects from an archive.

A code line is a line of such a .c file that is neither blank nor only
comment once /* */ and // comments are removed (string and character
literals are respected). Headers are not counted.

Prints one line per file and the total; exits 1 if the total is above
LIMIT, 77 if there is no map to read.
"""
import json
import os
import re
import sys


def code_lines(text):
    out, i, n = [], 0, len(text)
    state = None  # None, 'block', 'line', '"', "'"
    while i < n:
        c = text[i]
        if state is None:
            if text.startswith('/*', i):
                state, i = 'block', i + 2
                out.append(' ')
                continue
            if text.startswith('//', i):
                state, i = 'line', i + 2
                continue
            if c in '"\'':
                state = c
            out.append(c)
        elif state == 'block':
            if text.startswith('*/', i):
                state, i = None, i + 2
                continue
            if c == '\n':
                out.append(c)
        elif state == 'line':
            if c == '\n':
                state = None
                out.append(c)
        else:  # inside a literal
            out.append(c)
            if c == '\\' and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == state or c == '\n':
                state = None
        i += 1
    return sum(1 for line in ''.join(out).split('\n') if line.strip())


def linked_objects(map_text):
    objs = []
    members = re.search(r'^Archive member included.*?\n(.*?)\n\n[A-Z]', map_text, re.S | re.M)
    if members:
        for m in re.finditer(r'^(\S+\.o)\b', members.group(1), re.M):
            objs.append(m.group(1))
    for m in re.finditer(r'^LOAD (\S+\.o)$', map_text, re.M):
        objs.append(m.group(1))
    return objs


def main():
    if len(sys.argv) != 5:
        print(__doc__.strip().split('\n\n')[1], file=sys.stderr)
        return 2
    map_path, cc_path, root, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if not os.path.exists(map_path):
        print(f'SKIP: no link map at {map_path}')
        return 77
    with open(map_path) as f:
        objs = linked_objects(f.read())
    with open(cc_path) as f:
        cc = json.load(f)
    by_output = {}
    for e in cc:
        out = os.path.normpath(os.path.join(e['directory'], e['output']))
        by_output[out] = os.path.normpath(os.path.join(e['directory'], e['file']))
    build = os.path.dirname(os.path.abspath(cc_path))
    root = os.path.realpath(root)
    files, unknown = {}, []
    for o in objs:
        path = os.path.normpath(os.path.join(build, o))
        if os.path.commonpath([path, build]) != build:
            continue  # the C runtime's objects (Scrt1.o, crti.o, ...)
        src = by_output.get(path)
        if src is None:
            unknown.append(o)
            continue
        src = os.path.realpath(src)
        if os.path.commonpath([src, root]) != root:
            continue
        with open(src, errors='replace') as f:
            files[os.path.relpath(src, root)] = code_lines(f.read())
    if unknown:
        # a project object whose source we cannot name would be missed
        print('FAIL: objects in the link map without a compile command: ' + ' '.join(unknown))
        return 1
    if not files:
        print('FAIL: no project object found in the link map')
        return 1
    for name in sorted(files):
        print(f'{files[name]:6d}  {name}')
    total = sum(files.values())
    print(f'{total:6d}  total code lines linked ({len(files)} files; limit {limit})')
    if total > limit:
        print(f'FAIL: {total} code lines linked, above the limit of {limit}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
