#!/usr/bin/env python3
"""Fails when two files of one crate import each other, directly or through a chain.

Builds the file-level import graph of every crate target in the workspace (each `lib.rs`,
`main.rs`, bin, test, bench and example root with the files its `mod` declarations reach) from
`use crate::`/`use super::`/`use self::` lines, `use child::` lines naming a child module, and
`crate::x::`/`super::x::` paths in code. A path is followed down the module tree to the file
that defines the item; `pub use` re-exports are looked through (a re-export is a door, not a
dependency of the file that opens it), so `crate::Error` leads to `error.rs`, not `lib.rs`.
Comments (doc links included) and `$crate::` in macros are ignored.

Not counted: a parent module's `child::item` paths in code (outside `use` lines). A module file
and the private submodules it declares call each other that way as one unit (a renderer and the
`Report` it renders, a platform reader and the snapshot it fills); `use child::...` lines and
every `crate::`/`super::` path are counted.

Prints every cycle as `crate-root: a.rs -> b.rs -> a.rs`, each edge with the line that makes it,
and exits 1; exits 0 when there is none. Usage: `python3 scripts/check-cycles.py [workspace dir]`.
"""

import os
import re
import sys

SKIP_DIRS = {"target", ".git", "node_modules", "ui"}
MOD_DECL = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;")
PATH_ATTR = re.compile(r'^\s*#\[path\s*=\s*"([^"]+)"\]')
INLINE_MOD = re.compile(r"^(\s*)(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*\{\s*$")
USE_START = re.compile(r"^\s*(pub(?:\([^)]*\))?\s+)?use\s")
CODE_PATH = re.compile(r"(?<![\w$:])((?:crate|super)(?:::(?:super|\w+))+)")


def strip_comment(line):
    """The line without its `//` comment (a `//` inside a string literal is kept)."""
    in_str = False
    i = 0
    while i < len(line):
        c = line[i]
        if in_str:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif line.startswith("//", i):
            return line[:i]
        i += 1
    return line


def strip_strings(line):
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', line)


def expand_use(tree):
    """`a::{b, c::{d as e, self}}` -> [(["a", "b"], "b"), (["a", "c", "d"], "e"), (["a", "c"], "c")]."""
    tree = re.sub(r"\s+as\s+", "@", tree)
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, text):
        depth = 0
        start = 0
        parts = []
        for i, c in enumerate(text):
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            elif c == "," and depth == 0:
                parts.append(text[start:i])
                start = i + 1
        parts.append(text[start:])
        for part in parts:
            if not part:
                continue
            brace = part.find("{")
            if brace >= 0:
                head = [s for s in part[:brace].split("::") if s]
                walk(prefix + head, part[brace + 1 : part.rindex("}")])
                continue
            alias = None
            if "@" in part:
                part, alias = part.split("@", 1)
            segs = part.split("::")
            if segs[-1] == "self":
                segs = segs[:-1]
            path = prefix + segs
            out.append((path, alias or (path[-1] if path else "")))

    walk([], tree)
    return out


class Module:
    def __init__(self, path, file):
        self.path = path  # tuple of segment names from the crate root
        self.file = file
        self.children = {}  # name -> Module
        self.reexports = {}  # name -> absolute path (list of segments)


class Crate:
    def __init__(self, root_file):
        self.root_file = root_file
        self.files = {}  # file -> Module (the file's own module)
        self.root = self.load(root_file, (), True)

    def load(self, file, path, owns_dir):
        module = Module(path, file)
        self.files[file] = module
        base = os.path.dirname(file)
        child_dir = base if owns_dir else os.path.join(base, os.path.splitext(os.path.basename(file))[0])
        with open(file, encoding="utf-8") as f:
            lines = f.read().split("\n")
        explicit = None
        for line in lines:
            a = PATH_ATTR.match(line)
            if a:
                explicit = a.group(1)
                continue
            m = MOD_DECL.match(line)
            if m and not line.startswith((" ", "\t")):
                name = m.group(1)
                candidates = (
                    [os.path.join(base if owns_dir else child_dir, explicit)]
                    if explicit
                    else [os.path.join(child_dir, name + ".rs"), os.path.join(child_dir, name, "mod.rs")]
                )
                for c in candidates:
                    if os.path.isfile(c) and c not in self.files:
                        owns = os.path.basename(c) == "mod.rs"
                        module.children[name] = self.load(c, path + (name,), owns)
                        break
            if not line.strip().startswith("#"):
                explicit = None
        return module

    def module_at(self, path):
        m = self.root
        for seg in path:
            m = m.children.get(seg)
            if m is None:
                return None
        return m

    def resolve(self, segs, seen=None):
        """The file that defines the item at absolute path `segs`."""
        seen = seen or set()
        m = self.root
        for i, seg in enumerate(segs):
            if seg in m.children:
                m = m.children[seg]
                continue
            target = m.reexports.get(seg)
            key = (m.file, seg)
            if target is not None and key not in seen:
                seen.add(key)
                return self.resolve(target + segs[i + 1 :], seen)
            return m.file  # an item defined in this module's file (or outside the crate)
        return m.file


def absolute(crate, module_path, inline, segs):
    """Turns a `crate::`/`super::`/`self::`/child path written in a module into an absolute one."""
    here = list(module_path) + list(inline)
    if not segs:
        return None
    if segs[0] == "crate":
        return segs[1:]
    if segs[0] in ("super", "self"):
        cur = here
        i = 0
        while i < len(segs) and segs[i] in ("super", "self"):
            if segs[i] == "super":
                if not cur:
                    return None
                cur = cur[:-1]
            i += 1
        return cur + segs[i:]
    module = crate.module_at(tuple(here))
    if module is not None and segs[0] in module.children:
        return here + segs
    return None


def scan(crate, file):
    """Yields (absolute path, line number, text, is_pub_use) for every in-crate reference."""
    module = crate.files[file]
    with open(file, encoding="utf-8") as f:
        lines = f.read().split("\n")
    inline = []  # stack of (indent, name)
    pending = None
    for n, raw in enumerate(lines, 1):
        line = strip_strings(strip_comment(raw))
        while inline and re.match(r"^%s\}" % re.escape(inline[-1][0]), raw):
            inline.pop()
            break
        m = INLINE_MOD.match(raw)
        if m:
            inline.append((m.group(1), m.group(2)))
            continue
        names = [name for _, name in inline]
        if pending is None and USE_START.match(line):
            pending = (n, raw.strip(), line, bool(USE_START.match(line).group(1)))
        elif pending is not None:
            pending = (pending[0], pending[1], pending[2] + " " + line, pending[3])
        if pending is not None:
            if ";" not in pending[2]:
                continue
            start, text, stmt, is_pub = pending
            pending = None
            tree = stmt.split("use", 1)[1].split(";", 1)[0].strip()
            if tree.startswith("::"):
                continue
            for segs, alias in expand_use(tree):
                path = absolute(crate, module.path, names, segs)
                if path is not None:
                    yield path, alias, start, text, is_pub and not names
            continue
        for m in CODE_PATH.finditer(line):
            segs = m.group(1).split("::")
            path = absolute(crate, module.path, names, segs)
            if path is not None:
                yield path, None, n, raw.strip(), False


def find_roots(crate_dir):
    files = []
    for d, dirs, fs in os.walk(crate_dir):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS and not x.startswith(".")]
        if os.path.isfile(os.path.join(d, "Cargo.toml")) and d != crate_dir:
            dirs[:] = []
            continue
        files += [os.path.join(d, f) for f in fs if f.endswith(".rs")]
    declared = set()
    for f in files:
        declared |= _declared(f)
    return [f for f in sorted(files) if f not in declared]


def _declared(file):
    """Files that `file` declares as modules."""
    base = os.path.dirname(file)
    name = os.path.basename(file)
    owns = name in ("mod.rs", "lib.rs", "main.rs")
    child_dir = base if owns else os.path.join(base, os.path.splitext(name)[0])
    out = set()
    with open(file, encoding="utf-8") as f:
        for line in f:
            m = MOD_DECL.match(line)
            if m and not line.startswith((" ", "\t")):
                out.add(os.path.join(child_dir, m.group(1) + ".rs"))
                out.add(os.path.join(child_dir, m.group(1), "mod.rs"))
    return out


def crate_dirs(workspace):
    for d, dirs, fs in os.walk(workspace):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("."))
        if "Cargo.toml" in fs and any(os.path.isdir(os.path.join(d, s)) for s in ("src", "tests", "benches", "examples")):
            yield d


def cycles_of(graph):
    """Strongly connected components of more than one file (Tarjan), each as one concrete cycle."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    result = []
    for comp in out:
        members = set(comp)
        start = comp[0]
        # Shortest way back to `start` inside the component (breadth first).
        prev = {start: None}
        queue = [start]
        end = None
        while queue and end is None:
            v = queue.pop(0)
            for w in sorted(graph.get(v, {})):
                if w not in members:
                    continue
                if w == start:
                    end = v
                    break
                if w not in prev:
                    prev[w] = v
                    queue.append(w)
        path = [end]
        while prev[path[-1]] is not None:
            path.append(prev[path[-1]])
        path.reverse()
        result.append((comp, path + [start]))
    return result


def main():
    workspace = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    found = 0
    seen_cycles = set()
    for crate_dir in crate_dirs(workspace):
        for root in find_roots(crate_dir):
            crate = Crate(root)
            refs = {f: list(scan(crate, f)) for f in crate.files}
            # Re-exports first, so paths can be followed through them.
            for f, items in refs.items():
                for path, alias, _, _, is_pub in items:
                    if is_pub and alias and alias != "*":
                        crate.files[f].reexports[alias] = path
            graph = {}
            for f, items in refs.items():
                for path, alias, n, text, is_pub in items:
                    if is_pub:
                        continue  # a re-export: looked through, not an edge
                    target = crate.resolve(path)
                    if target != f:
                        graph.setdefault(f, {}).setdefault(target, (n, text))
            for comp, cycle in cycles_of(graph):
                key = tuple(comp)
                if key in seen_cycles:
                    continue
                seen_cycles.add(key)
                found += 1
                rel = lambda p: os.path.relpath(p, workspace)
                print(f"import cycle in {rel(root)}: " + " -> ".join(rel(p) for p in cycle))
                for a, b in zip(cycle, cycle[1:]):
                    n, text = graph[a][b]
                    print(f"  {rel(a)}:{n}: {text}")
                if len(comp) > len(cycle) - 1:
                    print("  (files in the same tangle: " + ", ".join(rel(p) for p in comp) + ")")
    if found:
        print(f"{found} import cycle(s): move what both files need into a module below both", file=sys.stderr)
        return 1
    print("no import cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
