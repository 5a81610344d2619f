"""Protocol counters (``netstat -s``) and the knob registry (``sysctl``).

Counters come from ``ust_stats_<proto>()`` as dicts built from the cffi
struct fields, so a counter added to ``ustack_stats.h`` (and the cdef, which
the build checks is complete) shows up here without a Python change; its
description comes from the same X-macro list through ``ust_stats_describe``.  The
ICMP and ICMPv6 type histograms and IPv6's next-header histogram become dicts
``{number: count}`` of nonzero entries.

Knobs carry FreeBSD's sysctl names and defaults; :func:`sysctl_info` lists
them (no stack needed), ``Stack.sysctl()`` reads and sets one stack's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ustack._native import cstr, ffi, lib
from ustack.errors import check

__all__ = [
    "PROTOCOLS",
    "ICMP_TYPES",
    "ICMP6_TYPES",
    "IP6_NEXT_HEADERS",
    "SysctlInfo",
    "sysctl_info",
    "read_counters",
    "format_netstat",
    "describe",
    "format_endpoint",
]


@cache
def _counter_table() -> tuple[tuple[str, str, str], ...]:
    """(group, field, description) of every counter, from ``ust_stats_describe``."""
    out = ffi.new("struct ust_stat_desc *")
    rows: list[tuple[str, str, str]] = []
    for idx in range(1 << 16):
        rc = int(lib.ust_stats_describe(idx, out))
        if rc == -int(lib.UST_ENOENT):
            break
        check(rc)
        rows.append((cstr(out.group) or "", cstr(out.name) or "", cstr(out.descr) or ""))
    return tuple(rows)


PROTOCOLS: tuple[str, ...] = tuple(dict.fromkeys(group for group, _, _ in _counter_table()))
"""The counter groups in the library's order; ``ust_stats_<p>()`` fills ``struct ust_<p>stat``."""

_STRUCTS: dict[str, tuple[str, str]] = {
    proto: (f"struct ust_{proto}stat", f"ust_stats_{proto}") for proto in PROTOCOLS
}

# RFC 792 and later assignments (IANA "ICMP Type Numbers"), the names netstat uses.
ICMP_TYPES: dict[int, str] = {
    0: "echo reply",
    3: "destination unreachable",
    4: "source quench",
    5: "routing redirect",
    8: "echo",
    9: "router advertisement",
    10: "router solicitation",
    11: "time exceeded",
    12: "parameter problem",
    13: "time stamp",
    14: "time stamp reply",
    15: "information request",
    16: "information request reply",
    17: "address mask request",
    18: "address mask reply",
}


# RFC 4443, 4861, 2710 and 3810 (IANA "ICMPv6 Parameters"), the names
# FreeBSD's netstat -s -p icmp6 prints in its histograms.
ICMP6_TYPES: dict[int, str] = {
    1: "unreach",
    2: "packet too big",
    3: "time exceed",
    4: "parameter problem",
    128: "echo",
    129: "echo reply",
    130: "multicast listener query",
    131: "MLDv1 listener report",
    132: "MLDv1 listener done",
    133: "router solicitation",
    134: "router advertisement",
    135: "neighbor solicitation",
    136: "neighbor advertisement",
    137: "redirect",
    138: "router renumbering",
    139: "node information request",
    140: "node information reply",
    141: "inverse neighbor solicitation",
    142: "inverse neighbor advertisement",
    143: "MLDv2 listener report",
}

# IPv6 next-header values (IANA "Assigned Internet Protocol Numbers") as
# netstat -s -p ip6 labels its input histogram.
IP6_NEXT_HEADERS: dict[int, str] = {
    0: "hop by hop",
    4: "IP",
    6: "TCP",
    17: "UDP",
    41: "IPv6",
    43: "routing",
    44: "fragment",
    50: "ESP",
    51: "AH",
    58: "ICMP6",
    59: "no next header",
    60: "destination option",
}

# Histogram labels by counter group.
_LABELS: dict[str, dict[int, str]] = {
    "icmp": ICMP_TYPES,
    "icmp6": ICMP6_TYPES,
    "ip6": IP6_NEXT_HEADERS,
}


def format_endpoint(host: str, port: int) -> str:
    """``198.18.0.1:80``, or ``[2001:2::1]:80`` for an IPv6 host (RFC 3986)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# The netstat -s phrases come from the C library (ustack_stats.h's X-macro
# lists through ust_stats_describe), so the headers and this module cannot drift.
def _descriptions() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for group, field, descr in _counter_table():
        table.setdefault(group, {})[field] = descr
    return table


_DESCRIPTIONS: dict[str, dict[str, str]] = _descriptions()


def describe(proto: str, field: str) -> str:
    """The netstat -s phrase of a counter (its field name if there is none)."""
    return _DESCRIPTIONS.get(proto, {}).get(field, field)


def read_counters(st: Any, proto: str) -> dict[str, Any]:
    """One protocol's counters of a ``struct ust_stack *`` as a dict.

    Scalar fields are ints; array fields (the ICMP histograms) are dicts of
    their nonzero entries by index (ICMP type).
    """
    try:
        ctype, fn_name = _STRUCTS[proto]
    except KeyError:
        raise ValueError(f"unknown protocol {proto!r}: one of {', '.join(PROTOCOLS)}") from None
    out = ffi.new(ctype + " *")
    getattr(lib, fn_name)(st, out)
    return counters_from_struct(out, ctype)


def read_group_counters(g: Any, proto: str) -> dict[str, Any]:
    """One protocol's counters summed over the stacks of a ``struct
    ust_group *`` (``ust_group_stats_<proto>``), as :func:`read_counters`."""
    try:
        ctype, _ = _STRUCTS[proto]
    except KeyError:
        raise ValueError(f"unknown protocol {proto!r}: one of {', '.join(PROTOCOLS)}") from None
    out = ffi.new(ctype + " *")
    getattr(lib, f"ust_group_stats_{proto}")(g, out)
    return counters_from_struct(out, ctype)


def counters_from_struct(out: Any, ctype: str) -> dict[str, Any]:
    """A filled ``struct ust_<proto>stat`` as :func:`read_counters` gives it."""
    result: dict[str, Any] = {}
    for name, field in ffi.typeof(ctype).fields:
        value = getattr(out, name)
        if field.type.kind == "array":
            result[name] = {i: int(v) for i, v in enumerate(value) if v}
        else:
            result[name] = int(value)
    return result


def format_netstat(stats: Mapping[str, Mapping[str, Any]], *, zeros: bool = True) -> str:
    """Counters as ``netstat -s`` prints them: a block per protocol, one
    ``<count> <description>`` line per counter (``zeros=False``: nonzero
    ones only, like ``netstat -ss``)."""
    lines: list[str] = []
    for proto, counters in stats.items():
        lines.append(f"{proto}:")
        for name, value in counters.items():
            if isinstance(value, Mapping):
                if not value:
                    continue
                lines.append(f"\t{describe(proto, name)}")
                for idx, count in sorted(value.items()):
                    names = _LABELS.get(proto)
                    label = names.get(int(idx), f"#{idx}") if names is not None else str(idx)
                    lines.append(f"\t\t{label}: {count}")
                continue
            if value or zeros:
                lines.append(f"\t{value} {describe(proto, name)}")
    return "\n".join(lines)


# --- knobs -------------------------------------------------------------------


@dataclass(frozen=True)
class SysctlInfo:
    """A knob of the registry (``struct ust_sysctl_info``)."""

    name: str
    description: str
    default: int | str
    """An int, or a str for string knobs (``net.inet.tcp.cc.algorithm``)."""
    min: int
    max: int
    readonly: bool
    """Read-only after the stack is created."""
    string: bool = False
    """A string knob (``UST_SYSCTL_STRING``): min and max mean nothing."""


@cache
def _registry() -> tuple[SysctlInfo, ...]:
    out = ffi.new("struct ust_sysctl_info *")
    knobs: list[SysctlInfo] = []
    for idx in range(1 << 16):
        rc = int(lib.ust_sysctl_info(idx, out))
        if rc == -int(lib.UST_ENOENT):
            break
        check(rc)
        string = bool(int(out.flags) & int(lib.UST_SYSCTL_STRING))
        knobs.append(
            SysctlInfo(
                name=cstr(out.name) or f"knob{idx}",
                description=cstr(out.descr) or "",
                default=(cstr(out.defstr) or "") if string else int(out.defval),
                min=int(out.min),
                max=int(out.max),
                readonly=bool(int(out.flags) & int(lib.UST_SYSCTL_RDONLY)),
                string=string,
            )
        )
    return tuple(knobs)


def sysctl_info(name: str | None = None) -> list[SysctlInfo]:
    """Every knob of the registry in its order, or those whose name starts with ``name``."""
    knobs = _registry()
    if name is None:
        return list(knobs)
    return [k for k in knobs if k.name == name or k.name.startswith(name.rstrip(".") + ".")]
