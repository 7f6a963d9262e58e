#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of test_install.sh: what a library's public API is, three ways.

  public_api.py headers BUILD_DIR SRC_DIR
      Installed path of every header that `meson install` installs from
      SRC_DIR (e.g. lib/relay), from `meson introspect --installed`.
  public_api.py functions HEADER
      Functions HEADER declares, read from the C preprocessor's output on
      stdin (`cc -E HEADER`): only declarations written in HEADER itself
      (by its line markers), neither static nor inline, so the static
      inline helpers are left out; they are not symbols. An object
      declared there is an error: the API exports functions only.
  public_api.py version-map MAP
      Symbols the GNU ld version script MAP lists as global. A wildcard
      is an error: every exported symbol is listed by name.

Each prints one name a line, sorted; errors go to stderr, exit status 1.
"""

import json
import os
import re
import subprocess
import sys

KEYWORD_TYPES = {
    'void', 'char', 'short', 'int', 'long', 'float', 'double', 'signed',
    'unsigned', '_Bool', '_Complex', '__int128', '__signed__',
}
QUALIFIERS = {
    'extern', 'const', 'volatile', 'restrict', '__restrict', '__restrict__',
    '_Atomic', '__extension__', '_Noreturn', '_Thread_local', '__thread',
    'register', 'auto', '__const', '__volatile__',
}
TAGS = {'struct', 'union', 'enum'}
# Drop these with their parenthesised argument: they qualify, never name.
ATTRIBUTE_RE = re.compile(r'\b(__attribute__|__attribute|__asm__|__asm|asm|'
                          r'__declspec|_Alignas|__typeof__|typeof)\s*\(')
TOKEN_RE = re.compile(r'[A-Za-z_]\w*|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|\S')


def fail(msg):
    sys.stderr.write('public_api.py: %s\n' % msg)
    sys.exit(1)


def own_text(cpp_out, header):
    """The lines of the preprocessed output that come from header."""
    want = os.path.realpath(header)
    lines, cur, seen = [], None, False
    for line in cpp_out.splitlines():
        m = re.match(r'#\s*(?:line\s+)?\d+\s+"((?:\\.|[^"\\])*)"', line)
        if m:
            cur = os.path.realpath(m.group(1))
            seen = seen or cur == want
            continue
        if line.startswith('#'):	# #pragma and the like
            continue
        if cur == want:
            lines.append(line)
    if not seen:
        fail('no line marker for %s in the preprocessor output' % header)
    return '\n'.join(lines)


def strip_calls(text):
    """Remove __attribute__((...)), asm(...) and the like, balanced."""
    while True:
        m = ATTRIBUTE_RE.search(text)
        if not m:
            return text
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {'(': 1, ')': -1}.get(text[i], 0)
            i += 1
        text = text[:m.start()] + ' ' + text[i:]


def top_level(tokens):
    """Split tokens into top-level declarations. Brace bodies become one
    '{}' token; a function definition (body after ')') is returned with
    is_def True."""
    decls, cur, depth = [], [], 0
    for t in tokens:
        if t == '{':
            if depth == 0:
                is_def = bool(cur) and cur[-1] == ')'
            depth += 1
        elif t == '}':
            depth -= 1
            if depth < 0:
                fail('unbalanced }')
            if depth == 0:
                if is_def:
                    decls.append((cur, True))
                    cur = []
                else:
                    cur.append('{}')
        elif depth:
            continue
        elif t == ';':
            if cur:
                decls.append((cur, False))
            cur = []
        else:
            cur.append(t)
    if depth or cur:
        fail('declaration not terminated: %s' % ' '.join(cur))
    return decls


def split_commas(tokens):
    parts, cur, depth = [], [], 0
    for t in tokens:
        if t in '([':
            depth += 1
        elif t in ')]':
            depth -= 1
        if t == ',' and depth == 0:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    parts.append(cur)
    return parts


def is_ident(t):
    return re.match(r'[A-Za-z_]\w*$', t) is not None


def declarators(tokens):
    """(name, is_function) for each declarator of one declaration."""
    i, have_type = 0, False
    while i < len(tokens):
        t = tokens[i]
        if t in QUALIFIERS:
            i += 1
        elif t in KEYWORD_TYPES:
            have_type = True
            i += 1
        elif t in TAGS:
            have_type = True
            i += 1
            if i < len(tokens) and is_ident(tokens[i]):
                i += 1
            if i < len(tokens) and tokens[i] == '{}':
                i += 1
        elif is_ident(t) and not have_type:
            have_type = True	# a typedef name
            i += 1
        else:
            break
    out = []
    for part in split_commas(tokens[i:]):
        names = [(j, t) for j, t in enumerate(part)
                 if is_ident(t) and t not in QUALIFIERS]
        if not names:
            continue	# e.g. "struct vrelay_queue;"
        j, name = names[0]
        out.append((name, j + 1 < len(part) and part[j + 1] == '('))
    return out


def functions(header):
    text = strip_calls(own_text(sys.stdin.read(), header))
    funcs, objects = set(), set()
    for tokens, is_def in top_level(TOKEN_RE.findall(text)):
        if is_def or 'typedef' in tokens or 'static' in tokens or \
           {'inline', '__inline', '__inline__'} & set(tokens):
            continue
        for name, is_func in declarators(tokens):
            (funcs if is_func else objects).add(name)
    if objects:
        fail('%s declares objects, not functions: %s' %
             (header, ' '.join(sorted(objects))))
    return funcs


def version_map(path):
    text = re.sub(r'#[^\n]*|/\*.*?\*/', ' ', open(path).read(), flags=re.S)
    names, section = set(), None
    for t in re.findall(r'[^\s{};:]+|[{};:]', text):
        if t in ('global', 'local') or t in '{};:':
            if t in ('global', 'local'):
                section = t
            elif t == '}':
                section = None
            continue
        if section != 'global':
            continue
        if re.search(r'[*?\[]', t) or t in ('extern',):
            fail('%s: "%s" in a global section: list each symbol by name' %
                 (path, t))
        names.add(t)
    return names


def installed_headers(build_dir, src_dir):
    out = subprocess.run(['meson', 'introspect', build_dir, '--installed'],
                         check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    src = os.path.realpath(src_dir) + os.sep
    return {dst for s, dst in json.loads(out).items()
            if s.endswith('.h') and os.path.realpath(s).startswith(src)}


def main(argv):
    if len(argv) == 4 and argv[1] == 'headers':
        res = installed_headers(argv[2], argv[3])
        if not res:
            fail('nothing installed from %s' % argv[3])
    elif len(argv) == 3 and argv[1] == 'functions':
        res = functions(argv[2])
    elif len(argv) == 3 and argv[1] == 'version-map':
        res = version_map(argv[2])
    else:
        fail('usage: see the top of this file')
    for name in sorted(res):
        print(name)


if __name__ == '__main__':
    main(sys.argv)
