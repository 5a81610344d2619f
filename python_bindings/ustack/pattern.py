"""The deterministic byte pattern ``ustack serve --http`` answers ``/bytes/N`` with.

The byte at stream offset ``i`` is ``(i ^ (i >> 8) ^ (i >> 16)) & 0xff``, the
counting pattern of ``examples/tcp_bulk.c``: cheap to make and to check
anywhere, and with a period of 16 MiB, so a lost, duplicated or misplaced TCP
segment (any shift that is not a multiple of 16 MiB) changes the SHA-256.
A client verifies a download of N bytes against :func:`sha256` (N)::

    python3 -c 'import ustack.pattern as p; print(p.sha256(1000000))'

or without ustack, with the same formula::

    python3 -c 'import hashlib; n = 1000000; print(hashlib.sha256(bytes(
        (i ^ i >> 8 ^ i >> 16) & 255 for i in range(n))).hexdigest())'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import cache

__all__ = ["BLOCK", "block", "chunks", "pattern", "sha256"]

BLOCK = 1 << 16
"""Blocks of 64 KiB: inside one, only the low 16 bits of the offset vary."""


@cache
def _low() -> bytes:
    # (i ^ i >> 8) for the low 16 bits; the i >> 16 term is constant per block.
    return bytes((j ^ (j >> 8)) & 0xFF for j in range(BLOCK))


@cache
def _table(high: int) -> bytes:
    return bytes(x ^ high for x in range(256))


def block(index: int) -> bytes:
    """The 64 KiB block at offset ``index * BLOCK``."""
    return _low().translate(_table(index & 0xFF))


def chunks(size: int, offset: int = 0) -> Iterator[memoryview]:
    """The pattern from ``offset`` for ``size`` bytes, at most a block at a time."""
    end = offset + size
    while offset < end:
        idx, start = divmod(offset, BLOCK)
        n = min(BLOCK - start, end - offset)
        yield memoryview(block(idx))[start : start + n]
        offset += n


def pattern(size: int, offset: int = 0) -> bytes:
    """``size`` bytes of the pattern from ``offset``."""
    return b"".join(chunks(size, offset))


def sha256(size: int) -> str:
    """Hex SHA-256 of the first ``size`` bytes (what ``/bytes/<size>`` serves)."""
    h = hashlib.sha256()
    for c in chunks(size):
        h.update(c)
    return h.hexdigest()
