"""Human units for the ``ustack`` marker: ``"5ms"``, ``"1Gbit"``, ``"1%"``.

Durations: a number is seconds (``0.005``); a string is a number with one
of ``ns``, ``us`` (or ``µs``), ``ms``, ``s``, ``min`` (``"5ms"``,
``"1.5 s"``; no unit: seconds).  Rates: a number is bit/s; a string is a
number with an optional SI prefix (``k``, ``M``, ``G``, ``T``: powers of
1000) and a unit, ``bit``, ``bps``, ``bit/s`` or ``b/s`` for bits,
``B``, ``Bps`` or ``B/s`` for bytes (``"1Gbit"``, ``"100 Mbps"``,
``"12.5MB/s"``; no unit: bits).  Fractions (loss, duplicate, ...): a
number in [0, 1] (``0.01``) or a percentage string (``"1%"``).
"""

from __future__ import annotations

import re

__all__ = ["duration_ns", "rate_bps", "fraction", "format_ns", "format_rate"]

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)\s*(ns|us|µs|ms|s|min)?\s*$", re.I)
_TIME_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "min": 60 * 10**9}
_RATE = re.compile(
    r"^\s*([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)\s*([kmgt]?)(bit/s|bits/s|bits|bit|bps|b/s|B/s|Bps|B)?"
    r"\s*$",
    re.I,
)
_PREFIX = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def duration_ns(value: float | int | str, what: str = "duration") -> int:
    """``value`` (seconds, or a string with a unit) in nanoseconds."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: {value!r} is not a duration")
    if isinstance(value, (int, float)):
        ns = value * 1e9
    elif isinstance(value, str):
        m = _DURATION.match(value)
        if m is None:
            raise ValueError(
                f"{what}: {value!r} is not a duration (use seconds or e.g. '5ms', '250us', '2s')"
            )
        unit = (m.group(2) or "s").lower().replace("µ", "u")
        ns = float(m.group(1)) * _TIME_UNITS[unit]
    else:
        raise ValueError(f"{what}: {value!r} is not a duration")
    if ns < 0:
        raise ValueError(f"{what}: {value!r} is negative")
    return int(round(ns))


def rate_bps(value: float | int | str, what: str = "rate") -> int:
    """``value`` (bit/s, or a string such as ``"1Gbit"``) in bit/s."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: {value!r} is not a rate")
    if isinstance(value, (int, float)):
        bps = float(value)
    elif isinstance(value, str):
        m = _RATE.match(value)
        if m is None:
            raise ValueError(
                f"{what}: {value!r} is not a rate (use bit/s or e.g. '1Gbit', '100Mbps', '10MB/s')"
            )
        unit = m.group(3) or "bit"
        per = 8 if unit in ("B", "Bps", "B/s") else 1
        bps = float(m.group(1)) * _PREFIX[m.group(2).lower()] * per
    else:
        raise ValueError(f"{what}: {value!r} is not a rate")
    if bps < 0:
        raise ValueError(f"{what}: {value!r} is negative")
    return int(round(bps))


def fraction(value: float | int | str, what: str = "probability") -> float:
    """``value`` (a fraction in [0, 1], or ``"N%"``) as a float in [0, 1]."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: {value!r} is not a probability")
    if isinstance(value, str):
        text = value.strip()
        try:
            f = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not a probability (0.01 or '1%')") from None
    elif isinstance(value, (int, float)):
        f = float(value)
    else:
        raise ValueError(f"{what}: {value!r} is not a probability")
    if not 0.0 <= f <= 1.0:
        raise ValueError(f"{what}: {value!r} is not in [0, 1] (1% is 0.01 or '1%')")
    return f


def format_ns(ns: int) -> str:
    """A duration for people: ``5ms``, ``250us``, ``2s``."""
    for unit, size in (("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if ns >= size and ns % size == 0:
            return f"{ns // size}{unit}"
    if ns >= 10**6:
        return f"{ns / 1e6:g}ms"
    return f"{ns}ns"


def format_rate(bps: int) -> str:
    """A rate for people: ``1Gbit``, ``100Mbit``."""
    for unit, size in (("Tbit", 10**12), ("Gbit", 10**9), ("Mbit", 10**6), ("kbit", 10**3)):
        if bps >= size:
            return f"{bps / size:g}{unit}"
    return f"{bps}bit"
