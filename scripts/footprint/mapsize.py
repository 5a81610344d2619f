"""Sizes per input object from a GNU ld map file (text, data, bss)."""

from __future__ import annotations

import re
import sys
from collections import defaultdict

_ENTRY = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_NAMED = re.compile(r"^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_OUT = re.compile(r"^(\.\S+|COMMON)")


def _kind(out: str) -> str:
    if out.startswith((".bss", ".noinit", "._user_heap", ".heap", ".stack")):
        return "bss"
    if out.startswith((".data", ".init_array", ".fini_array", ".preinit_array", ".tm_clone")):
        return "data"
    return "text"


def _owner(path: str) -> str:
    m = re.search(r"([^/]+)\.a\(([^)]+)\)$", path)
    if m:
        lib, obj = m.group(1), m.group(2)
        obj = re.sub(r"\.c\.obj$|\.o$", ".c" if obj.endswith(".c.obj") else "", obj)
        return f"{lib}:{obj}"
    return path.rsplit("/", 1)[-1]


def parse(text: str) -> dict[str, dict[str, int]]:
    sizes: dict[str, dict[str, int]] = defaultdict(lambda: {"text": 0, "data": 0, "bss": 0})
    lines = text.split("\n")
    try:
        start = lines.index("Linker script and memory map")
    except ValueError:
        start = 0
    out = ""
    pending = False
    for line in lines[start:]:
        m = _OUT.match(line)
        if m:
            out = m.group(1)
            continue
        m2 = _NAMED.match(line)
        if m2:
            size, path = int(m2.group(3), 16), m2.group(4)
        elif pending and (m3 := _ENTRY.match(line)):
            size, path = int(m3.group(2), 16), m3.group(3)
        else:
            pending = bool(re.match(r"^ \S+$", line))
            continue
        pending = False
        if size == 0 or not out or out.startswith((".debug", ".comment", ".ARM.attributes")):
            continue
        sizes[_owner(path.strip())][_kind(out)] += size
    return dict(sizes)


if __name__ == "__main__":
    res = parse(open(sys.argv[1]).read())
    tot = {"text": 0, "data": 0, "bss": 0}
    for k, v in sorted(res.items(), key=lambda kv: -kv[1]["text"]):
        print(f"{v['text']:7d} {v['data']:6d} {v['bss']:7d}  {k}")
        if k.startswith("libustack:"):
            for f in tot:
                tot[f] += v[f]
    print("ustack total", tot)
