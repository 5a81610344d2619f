"""Plain-text tables for the CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None
) -> str:
    """Rows under headers; numbers right-aligned, text left-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) if rows else False
        for i in range(len(headers))
    ]

    def fmt(row: Sequence[str]) -> str:
        out = []
        for i, c in enumerate(row):
            out.append(c.rjust(widths[i]) if numeric[i] else c.ljust(widths[i]))
        return "  ".join(out).rstrip()

    lines = []
    if title:
        lines.append(title)
    lines.append(fmt(list(headers)))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(fmt(row) for row in cells)
    return "\n".join(lines)


def counters_table(columns: Mapping[str, Mapping[str, int]], title: str | None = None) -> str:
    """Counter dicts side by side: one row per counter, one column per dict."""
    names: list[str] = []
    for counters in columns.values():
        for name in counters:
            if name not in names:
                names.append(name)
    rows = [[name, *(columns[c].get(name, 0) for c in columns)] for name in names]
    return table(["counter", *columns], rows, title)
