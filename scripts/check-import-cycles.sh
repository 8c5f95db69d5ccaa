#!/usr/bin/env bash
# Reports import cycles between the files of one folder, for every folder of
# every crate's src/ (crates/*/src), and exits non-zero when there is one.
#
# In a folder, each file `x.rs` and each subfolder `x/` is one node. File A
# uses sibling B when A (or, for a subfolder, any file inside it) names B by a
# path: `use super::B…`, `use crate::<folder>::B…`, `super::B::item`,
# `crate::<folder>::B::item`, also inside `use` groups (`use super::{B, C}`).
# A module's parent (its mod.rs or the file that declares it) is not a
# sibling: children naming items of their parent, and parents re-exporting
# their children, are the usual shape and not counted. Comments and string
# literals are ignored; `use super::*` inside an inline `mod tests` resolves
# to its own file.
#
# Usage: scripts/check-import-cycles.sh [repo root]   (default: this script's repo)
set -euo pipefail
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
exec python3 - "$root" <<'PY'
import os
import sys
from collections import defaultdict

ROOT = sys.argv[1]


def strip(text):
    """The code of `text` with comments and string/char literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and nxt == "*":
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
            continue
        prev_ident = bool(out) and (out[-1].isalnum() or out[-1] == "_")
        if c in "rb" and not prev_ident:
            # Raw strings: r"…", r#"…"#, br"…", br#"…"#.
            j = i + 1 if c == "r" else (i + 2 if nxt == "r" else -1)
            if j > 0:
                k = j
                while k < n and text[k] == "#":
                    k += 1
                if k < n and text[k] == '"':
                    end = text.find('"' + "#" * (k - j), k + 1)
                    end = n if end < 0 else end + 1 + (k - j)
                    out.append(" " + "\n" * text.count("\n", i, end))
                    i = end
                    continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(" " + "\n" * text.count("\n", i, j))
            i = j + 1
            continue
        if c == "'":
            if nxt == "\\":
                j = text.find("'", i + 2)
                i = n if j < 0 else j + 1
                out.append(" ")
                continue
            if i + 2 < n and text[i + 2] == "'":
                i += 3
                out.append(" ")
                continue
        out.append(c)
        i += 1
    return "".join(out)


def tokens(code):
    """(token, line) pairs: identifiers, `::` and single punctuation characters."""
    i, n, line = 0, len(code), 1
    while i < n:
        c = code[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c.isalnum() or c == "_":
            j = i
            while j < n and (code[j].isalnum() or code[j] == "_"):
                j += 1
            yield code[i:j], line
            i = j
        elif code.startswith("::", i):
            yield "::", line
            i += 2
        else:
            yield c, line
            i += 1


def use_paths(toks):
    """The paths a `use` tree (its tokens, without `use` and `;`) names."""
    paths = []

    def tree(pos, prefix):
        path = list(prefix)
        while pos < len(toks):
            t = toks[pos]
            if t == "{":
                pos += 1
                while pos < len(toks) and toks[pos] != "}":
                    pos = tree(pos, path)
                    if pos < len(toks) and toks[pos] == ",":
                        pos += 1
                return pos + 1
            if t in (",", "}"):
                break
            if t == "as":
                pos += 2
                continue
            if t != "::":
                path.append("" if t == "*" else t)
            pos += 1
        paths.append([p for p in path if p and p != "self"])
        return pos

    tree(0, [])
    return paths


def crate_modules(src):
    """Module path (tuple) -> file (relative to src), for a crate's src folder."""
    mods = {}
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d != "bin")
        rel_dir = os.path.relpath(dirpath, src)
        parts = [] if rel_dir == "." else rel_dir.split(os.sep)
        for f in filenames:
            if not f.endswith(".rs"):
                continue
            stem = f[:-3]
            if not parts and stem in ("lib", "main"):
                mod = ()
            elif stem == "mod":
                mod = tuple(parts)
            else:
                mod = tuple(parts + [stem])
            mods[mod] = os.path.join(rel_dir, f) if parts else f
    return mods


def references(text, module):
    """(resolved path, line, source text) of every crate/super/self path in a file."""
    toks = list(tokens(strip(text)))
    words = [t for t, _ in toks]
    inline = []  # (name, brace depth inside it)
    depth = 0
    found = []

    def resolve(path, line):
        base = list(module) + [name for name, _ in inline]
        head, rest = path[0], path[1:]
        if head == "crate":
            res = []
        elif head == "self":
            res = base
        elif head == "super":
            res = base[:-1]
            while rest and rest[0] == "super":
                res, rest = res[:-1], rest[1:]
        else:
            return
        found.append((tuple(res + rest), line, "::".join(path)))

    i = 0
    while i < len(toks):
        t, line = toks[i]
        if t == "{":
            depth += 1
        elif t == "}":
            if inline and inline[-1][1] == depth:
                inline.pop()
            depth -= 1
        elif t == "mod" and i + 2 < len(toks) and words[i + 2] == "{":
            inline.append((words[i + 1], depth + 1))
        elif t == "use" and (i == 0 or words[i - 1] != "::"):
            j = i + 1
            while j < len(toks) and words[j] != ";":
                j += 1
            for path in use_paths(words[i + 1 : j]):
                if path and path[0] in ("crate", "super", "self"):
                    resolve(path, line)
            i = j
            continue
        elif (
            t in ("crate", "super", "self")
            and i + 1 < len(toks)
            and words[i + 1] == "::"
            and (i == 0 or words[i - 1] not in ("::", "in"))
        ):
            path, j = [t], i + 1
            while j + 1 < len(toks) and words[j] == "::" and (
                words[j + 1].isidentifier() or words[j + 1] == "super"
            ):
                path.append(words[j + 1])
                j += 2
            resolve(path, line)
            i = j
            continue
        i += 1
    return found


def shortest_cycle(graph, members, start):
    """A shortest cycle through `start` inside the strongly connected `members`."""
    prev, queue = {start: None}, [start]
    for node in queue:
        for nxt in sorted(graph[node]):
            if nxt == start:
                path = [node]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if nxt in members and nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return [start]


def components(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
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
    return out


def main():
    sys.setrecursionlimit(10000)
    crates_dir = os.path.join(ROOT, "crates")
    srcs = sorted(
        os.path.join(crates_dir, c, "src")
        for c in os.listdir(crates_dir)
        if os.path.isdir(os.path.join(crates_dir, c, "src"))
    )
    cycles = 0
    folders = 0
    for src in srcs:
        mods = crate_modules(src)
        # folder module -> node -> set(node); witnesses per edge
        graphs = defaultdict(lambda: defaultdict(set))
        witness = {}
        for module, rel in sorted(mods.items()):
            with open(os.path.join(src, rel), encoding="utf-8") as f:
                text = f.read()
            for path, line, shown in references(text, module):
                target = next(
                    (path[:k] for k in range(len(path), -1, -1) if path[:k] in mods), ()
                )
                common = 0
                while (
                    common < min(len(module), len(target))
                    and module[common] == target[common]
                ):
                    common += 1
                if common == len(module) or common == len(target):
                    continue  # the file itself, its parent or its own child
                folder = module[:common]
                a, b = module[common], target[common]
                graphs[folder][a].add(b)
                graphs[folder].setdefault(b, set())
                witness.setdefault((folder, a, b), f"{rel}:{line}: {shown}")

        def label(folder, node):
            return node + "/" if mods.get(folder + (node,), "").endswith("mod.rs") else node + ".rs"

        for folder in sorted(graphs):
            folders += 1
            where = os.path.relpath(os.path.join(src, *folder), ROOT)
            for comp in components(graphs[folder]):
                cycles += 1
                cycle = shortest_cycle(graphs[folder], set(comp), comp[0])
                print(f"{where}/: cycle {' -> '.join(label(folder, n) for n in cycle)}")
                if len(comp) > len(cycle) - 1:
                    print(f"  (all files in this cycle: {', '.join(label(folder, n) for n in comp)})")
                for a, b in zip(cycle, cycle[1:]):
                    print(f"  {label(folder, a)} uses {label(folder, b)}: {witness[(folder, a, b)]}")
    if cycles:
        print(f"{cycles} import cycle(s) found", file=sys.stderr)
        return 1
    print(f"no import cycles ({len(srcs)} crates, {folders} folders with sibling imports)")
    return 0


sys.exit(main())
PY
