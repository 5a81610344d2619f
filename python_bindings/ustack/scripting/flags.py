"""TCP flags and TCP options as scripts write them (scapy's and packetdrill's spellings)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ustack.packetdrill.wire import Option, decode_options, encode_options

__all__ = ["Flags", "Options", "flag_bits", "option_name", "encode_tcp_options"]

# Letters of both spellings: scapy's A and C, packetdrill's "." and W.
_BITS: dict[str, int] = {
    "F": 0x01,
    "S": 0x02,
    "R": 0x04,
    "P": 0x08,
    "A": 0x10,
    ".": 0x10,
    "U": 0x20,
    "E": 0x40,
    "C": 0x80,
    "W": 0x80,
    "N": 0x100,  # the AE (former NS) bit, RFC 3540
}
_ORDER = "FSRPAUECN"


def flag_bits(flags: str | int) -> int:
    """The bits of ``flags``: an int, or letters in any order ("SA", "S.", "FPA");
    ValueError for an unknown letter."""
    if isinstance(flags, int):
        return flags
    bits = 0
    for ch in flags.upper():
        if ch in " |+-":
            continue
        if ch not in _BITS:
            raise ValueError(f"unknown TCP flag {ch!r} in {flags!r} (letters: FSRPAUEC, '.' = A)")
        bits |= _BITS[ch]
    return bits


class Flags(int):
    """TCP flags: an int that compares equal to its letters in any order
    (``flags == "SA"``, ``flags == "AS"``, ``flags == "S."``), with one
    boolean per flag (``flags.S``, ``flags.A``, ...) and ``"S" in flags``
    (all of the letters set)."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                return int(self) == flag_bits(other)
            except ValueError:
                return False
        if isinstance(other, int):
            return int(self) == int(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = int.__hash__

    def __contains__(self, letters: str) -> bool:
        bits = flag_bits(letters)
        return int(self) & bits == bits

    def __str__(self) -> str:
        """scapy's letters (``SA``, ``FPA``)."""
        return "".join(ch for ch in _ORDER if int(self) & _BITS[ch]) or ""

    def __repr__(self) -> str:
        return f"Flags({str(self)!r})"

    @property
    def packetdrill(self) -> str:
        """packetdrill's spelling (``S.``, ``FP.``, ``R``)."""
        order = "FSRP.UEW"
        return "".join(ch for ch in order if int(self) & _BITS[ch]) or "-"

    F = property(lambda self: bool(self & 0x01), doc="FIN")
    S = property(lambda self: bool(self & 0x02), doc="SYN")
    R = property(lambda self: bool(self & 0x04), doc="RST")
    P = property(lambda self: bool(self & 0x08), doc="PSH")
    A = property(lambda self: bool(self & 0x10), doc="ACK")
    U = property(lambda self: bool(self & 0x20), doc="URG")
    E = property(lambda self: bool(self & 0x40), doc="ECE")
    C = property(lambda self: bool(self & 0x80), doc="CWR")


# Canonical option names and the spellings accepted for each (lower case):
# ours, scapy's ("MSS", "WScale", "SAckOK", "SAck", "Timestamp", "NOP", "EOL")
# and packetdrill's ("TS", "sackOK").
_NAMES: dict[str, str] = {
    "mss": "mss",
    "maxseg": "mss",
    "wscale": "wscale",
    "ws": "wscale",
    "sackok": "sackOK",
    "sack_perm": "sackOK",
    "sack": "sack",
    "ts": "ts",
    "timestamp": "ts",
    "timestamps": "ts",
    "nop": "nop",
    "eol": "eol",
    "md5": "md5",
    "tfo": "tfo",
    "fo": "tfo",
    "fastopen": "tfo",
}


def option_name(name: str) -> str:
    """The canonical name of a TCP option (``mss``, ``wscale``, ``sackOK``,
    ``sack``, ``ts``, ``nop``, ``eol``, ``md5``, ``tfo``) from any accepted
    spelling; KeyError for an unknown one."""
    try:
        return _NAMES[name.lower()]
    except KeyError:
        raise KeyError(
            f"unknown TCP option {name!r} (known: mss, wscale, sackOK, sack, ts, nop, eol, "
            "md5, tfo, or (kind: int, data: bytes))"
        ) from None


def _ts_pair(opt: tuple[Any, ...]) -> tuple[int, int]:
    # ("ts", val, ecr) or scapy's ("Timestamp", (val, ecr))
    if len(opt) == 2 and isinstance(opt[1], (tuple, list)):
        val, ecr = opt[1]
        return int(val), int(ecr)
    if len(opt) == 3:
        return int(opt[1]), int(opt[2])
    raise ValueError(f"a timestamp option is ('ts', val, ecr), not {opt!r}")


def encode_tcp_options(opts: Iterable[tuple[Any, ...] | str], sack_base: int = 0) -> bytes:
    """Option bytes of a list in script spelling (``[("mss", 1460), ("sackOK",),
    ("ts", 1, 0), ("nop",), ("wscale", 7), ("sack", [(l, r)])]``; a bare name
    for the options without a value); SACK blocks are relative: ``sack_base`` is added."""
    wire: list[Option] = []
    for opt in opts:
        if isinstance(opt, str):
            opt = (opt,)
        head = opt[0]
        if isinstance(head, int):  # (kind, data): anything else, raw
            data = opt[1] if len(opt) > 1 else b""
            wire.append(("kind", head, bytes(data)))
            continue
        name = option_name(str(head))
        value = opt[1] if len(opt) > 1 else None
        if name in ("nop", "eol", "sackOK"):
            wire.append(("sackOK",) if name == "sackOK" else (name,))
        elif name in ("mss", "wscale"):
            wire.append((name, int(value)))  # type: ignore[arg-type]
        elif name == "ts":
            wire.append(("TS", *_ts_pair(opt)))
        elif name == "sack":
            blocks = tuple(
                ((int(left) + sack_base) & 0xFFFFFFFF, (int(right) + sack_base) & 0xFFFFFFFF)
                for left, right in (value or ())
            )
            wire.append(("sack", blocks))
        elif name == "md5":
            wire.append(("md5", bytes(value) if value is not None else bytes(16)))
        else:  # tfo
            wire.append(("FO", bytes(value) if value is not None else b""))
    return encode_options(wire)


class Options(Mapping[str, Any]):
    """The options of a TCP header, by name (any accepted spelling):
    ``opts["mss"]`` 1460, ``opts["wscale"]`` 7, ``opts["sackOK"]`` True,
    ``opts["ts"]`` (val, ecr), ``opts["sack"]`` [(left, right), ...] relative
    to the ISN of the side they acknowledge, ``opts["nop"]`` how many;
    ``.list`` in header order as tuples in the builders' spelling."""

    def __init__(self, raw: bytes, sack_base: int = 0) -> None:
        self.raw = bytes(raw)
        self.list: list[tuple[Any, ...]] = []
        self._map: dict[str, Any] = {}
        for opt in decode_options(self.raw):
            name = opt[0]
            item: tuple[Any, ...]
            if name == "TS":
                item = ("ts", opt[1], opt[2])
                self._map["ts"] = (opt[1], opt[2])
            elif name == "sack":
                blocks = [
                    ((int(lo) - sack_base) & 0xFFFFFFFF, (int(hi) - sack_base) & 0xFFFFFFFF)
                    for lo, hi in opt[1]  # type: ignore[attr-defined]
                ]
                item = ("sack", blocks)
                self._map["sack"] = blocks
            elif name in ("nop", "eol"):
                item = (str(name),)
                self._map[str(name)] = self._map.get(str(name), 0) + 1
            elif name == "sackOK":
                item = ("sackOK",)
                self._map["sackOK"] = True
            elif name in ("mss", "wscale", "md5"):
                item = (str(name), opt[1])
                self._map[str(name)] = opt[1]
            elif name == "FO":
                item = ("tfo", opt[1])
                self._map["tfo"] = opt[1]
            elif name == "kind":
                item = (opt[1], opt[2])
                self._map[f"kind{opt[1]}"] = opt[2]
            else:  # ("bad", rest): a malformed option ends the list
                item = ("bad", opt[1])
                self._map["bad"] = opt[1]
            self.list.append(item)

    @staticmethod
    def _key(name: str) -> str:
        try:
            return option_name(name)
        except KeyError:
            return name

    def __getitem__(self, name: str) -> Any:
        return self._map[self._key(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Options):
            return self.raw == other.raw
        if isinstance(other, list):
            return self.list == [tuple(o) if not isinstance(o, str) else (o,) for o in other]
        if isinstance(other, Mapping):
            return dict(self._map) == {self._key(k): v for k, v in other.items()}
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        """packetdrill's spelling: ``mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7``."""
        parts = []
        for item in self.list:
            name = item[0]
            if name == "ts":
                parts.append(f"TS val {item[1]} ecr {item[2]}")
            elif name == "sack":
                parts.append("sack " + " ".join(f"{lo}:{hi}" for lo, hi in item[1]))
            elif name in ("mss", "wscale"):
                parts.append(f"{name} {item[1]}")
            elif name == "md5":
                parts.append("md5")
            elif name == "tfo":
                parts.append(f"FO {item[1].hex()}" if item[1] else "FO")
            elif isinstance(name, int):
                parts.append(f"kind {name} {item[1].hex()}")
            else:
                parts.append(str(name))
        return ",".join(parts)

    def __repr__(self) -> str:
        return f"Options({self.list!r})"
