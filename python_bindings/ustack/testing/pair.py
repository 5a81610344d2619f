"""``ustack_pair``: two stacks on a faulty pipe and a virtual clock.

:func:`pair_config` turns the ``ustack`` marker's keywords (or an indirect
parametrize dict) into a :class:`PairConfig`; :class:`UstackPair` is what
the fixture gives the test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ustack.testing.units import duration_ns, format_ns, format_rate, fraction, rate_bps

if TYPE_CHECKING:
    from ustack.clock import VirtualClock
    from ustack.pipe import Pipe
    from ustack.sim import PipeRig
    from ustack.sockets import Socket
    from ustack.stack import Interface, Stack

__all__ = ["FAULT_KEYS", "PAIR_KEYS", "PairConfig", "UstackPair", "pair_config", "sockopt"]

# Marker key -> (Faults field, converter).  Aliases share a field.
_FRACTION_KEYS = {
    "loss": "loss",
    "duplicate": "dup",
    "dup": "dup",
    "reorder": "reorder",
    "corrupt": "corrupt",
    "ce": "ce",
}
_DURATION_KEYS = {
    "delay": "delay_ns",
    "jitter": "jitter_ns",
    "reorder_delay": "reorder_ns",
}
_INT_KEYS = {
    "queue_limit": "queue_limit",
    "ce_threshold": "ce_threshold",
    "max_frame": "mtu",
}
FAULT_KEYS: tuple[str, ...] = (
    *_FRACTION_KEYS,
    *_DURATION_KEYS,
    "rate",
    *_INT_KEYS,
    "delay_ns",
    "jitter_ns",
    "reorder_ns",
    "rate_bps",
)
"""Keys that set faults (both directions, or one inside ``a_to_b``/``b_to_a``)."""

PAIR_KEYS: tuple[str, ...] = (
    *FAULT_KEYS,
    "a_to_b",
    "b_to_a",
    "mtu",
    "seed",
    "knobs",
    "a_knobs",
    "b_knobs",
    "ipv6",
    "ring_size",
    "pcap",
    "kernel_sysctl",
)
"""Every key the ``ustack`` marker takes (``kernel_sysctl`` is for the
fixtures facing the Linux kernel)."""


def _faults_fields(spec: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in spec.items():
        what = f"{where}{key}"
        if key in _FRACTION_KEYS:
            out[_FRACTION_KEYS[key]] = fraction(value, what)
        elif key in _DURATION_KEYS:
            out[_DURATION_KEYS[key]] = duration_ns(value, what)
        elif key == "rate":
            out["rate_bps"] = rate_bps(value, what)
        elif key in ("delay_ns", "jitter_ns", "reorder_ns", "rate_bps", *_INT_KEYS):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{what}: {value!r} must be a non-negative int")
            out[_INT_KEYS.get(key, key)] = value
        else:
            raise ValueError(f"{what}: unknown fault (known: {', '.join(FAULT_KEYS)})")
    return out


@dataclass(frozen=True)
class PairConfig:
    """What the marker and parametrize asked for, in the pipe's units."""

    a_to_b: dict[str, Any] = field(default_factory=dict)
    """Fields of :class:`ustack.Faults` for frames from A to B."""
    b_to_a: dict[str, Any] = field(default_factory=dict)
    mtu: int = 1500
    seed: int | None = None
    """Fixed by the marker (``seed=7``); None: the test's derived seed."""
    a_knobs: dict[str, int | str] = field(default_factory=dict)
    b_knobs: dict[str, int | str] = field(default_factory=dict)
    ipv6: bool = False
    ring_size: int = 1024
    pcap: str | None = None
    """Per-test override of ``--ustack-pcap`` (``"all"``, ``"failed"``, ``"none"``)."""
    kernel_sysctl: dict[str, int | str] = field(default_factory=dict)
    """Knobs of the Linux kernel in the namespace of ``ustack_linux`` and the others."""

    def describe(self) -> str:
        """One line per direction, in the marker's units."""
        lines = []
        for name, spec in (("a_to_b", self.a_to_b), ("b_to_a", self.b_to_a)):
            parts = []
            for key, value in spec.items():
                if key.endswith("_ns"):
                    parts.append(f"{key[:-3]}={format_ns(value)}")
                elif key == "rate_bps":
                    parts.append(f"rate={format_rate(value)}")
                elif key == "dup":
                    parts.append(f"duplicate={value:g}")
                elif isinstance(value, float):
                    parts.append(f"{key}={value:g}")
                else:
                    parts.append(f"{key}={value}")
            lines.append(f"{name}: {', '.join(parts) or 'perfect'}")
        lines.append(f"mtu={self.mtu}")
        return "; ".join(lines)


def pair_config(specs: Sequence[Mapping[str, Any]]) -> PairConfig:
    """Merge marker keyword dicts (farthest first: a class's marker, then the
    function's, then an indirect parametrize dict) into a PairConfig.
    ValueError names an unknown key or a bad value."""
    both: dict[str, Any] = {}
    dirs: dict[str, dict[str, Any]] = {"a_to_b": {}, "b_to_a": {}}
    # The later dict wins per key; a direction's own keys beat the shared ones.
    merged: dict[str, Any] = {}
    knobs: dict[str, dict[str, int | str]] = {"a": {}, "b": {}}
    for spec in specs:
        for key, value in spec.items():
            if key not in PAIR_KEYS:
                raise ValueError(
                    f"ustack marker: unknown key {key!r} (known: {', '.join(PAIR_KEYS)})"
                )
            if key in FAULT_KEYS:
                both.update(_faults_fields({key: value}, ""))
            elif key in dirs:
                if not isinstance(value, Mapping):
                    raise ValueError(f"{key} must be a dict of faults, not {value!r}")
                dirs[key].update(_faults_fields(value, f"{key}."))
            elif key == "kernel_sysctl":
                if not isinstance(value, Mapping):
                    raise ValueError(
                        f"kernel_sysctl must be a dict of Linux sysctls, not {value!r}"
                    )
                merged.setdefault("kernel_sysctl", {}).update(value)
            elif key in ("knobs", "a_knobs", "b_knobs"):
                if not isinstance(value, Mapping):
                    raise ValueError(f"{key} must be a dict of sysctl names, not {value!r}")
                for side in ("a", "b") if key == "knobs" else (key[0],):
                    knobs[side].update(value)
            else:
                merged[key] = value
    mtu = merged.get("mtu", 1500)
    seed = merged.get("seed")
    ring = merged.get("ring_size", 1024)
    for name, value in (("mtu", mtu), ("ring_size", ring)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive int, not {value!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"seed must be a non-negative int, not {seed!r}")
    pcap = merged.get("pcap")
    if pcap is not None and pcap not in ("all", "failed", "none"):
        raise ValueError(f"pcap must be 'all', 'failed' or 'none', not {pcap!r}")
    return PairConfig(
        a_to_b={**both, **dirs["a_to_b"]},
        b_to_a={**both, **dirs["b_to_a"]},
        mtu=mtu,
        seed=seed,
        a_knobs=knobs["a"],
        b_knobs=knobs["b"],
        ipv6=bool(merged.get("ipv6", False)),
        ring_size=ring,
        pcap=pcap,
        kernel_sysctl=dict(merged.get("kernel_sysctl", {})),
    )


_LEVEL_PREFIXES = (("SO_", "SOL_SOCKET"), ("TCP_", "IPPROTO_TCP"), ("IPV6_", "IPPROTO_IPV6"))


def sockopt(name: str) -> tuple[int, int]:
    """``(level, optname)`` of an option named as the socket module names
    it, any case: ``"TCP_NODELAY"``, ``"so_rcvbuf"``; the level follows the
    prefix (``SO_``, ``TCP_``, ``IP_``, ``IPV6_``)."""
    from ustack import constants

    upper = name.upper()
    opt = getattr(constants, upper, None)
    level_name = next((lv for p, lv in _LEVEL_PREFIXES if upper.startswith(p)), None)
    if level_name is None and upper.startswith("IP_"):
        level_name = "IPPROTO_IP"
    if opt is None or level_name is None:
        raise ValueError(f"unknown socket option {name!r} (e.g. tcp_nodelay=1, so_rcvbuf=65536)")
    return int(getattr(constants, level_name)), int(opt)


class UstackPair:
    """Stacks :attr:`a` (198.18.0.1/24 on ``pa0``) and :attr:`b`
    (198.18.0.2/24 on ``pb0``) joined by :attr:`pipe` on the virtual clock
    :attr:`clock`, seeded with :attr:`seed` (A ``seed``, B ``seed + 1``,
    the pipe ``seed``).  With ``ipv6`` also 2001:2::1/64 and 2001:2::2/64."""

    def __init__(self, config: PairConfig, seed: int, clock: VirtualClock) -> None:
        from ustack.pipe import Faults
        from ustack.sim import ADDR6_A, ADDR6_B, ADDR_A, ADDR_B, PipeRig

        self.config = config
        self.seed = seed
        self.rig: PipeRig = PipeRig(
            seed=seed,
            a_to_b=Faults(**config.a_to_b),
            b_to_a=Faults(**config.b_to_a),
            mtu=config.mtu,
            ring_size=config.ring_size,
            clock=clock,
            addresses=True,
            addresses6=config.ipv6,
        )
        self.a_addr = ADDR_A
        self.b_addr = ADDR_B
        self.a_addr6: str | None = ADDR6_A if config.ipv6 else None
        self.b_addr6: str | None = ADDR6_B if config.ipv6 else None
        try:
            for stack, knobs in ((self.a, config.a_knobs), (self.b, config.b_knobs)):
                for name, value in knobs.items():
                    stack.sysctl(name, value)  # type: ignore[arg-type]
        except BaseException:
            self.rig.close()
            raise
        self._ports = itertools.count(5001)

    @property
    def a(self) -> Stack:
        return self.rig.a

    @property
    def b(self) -> Stack:
        return self.rig.b

    @property
    def ia(self) -> Interface:
        """A's interface ``pa0``."""
        return self.rig.ia

    @property
    def ib(self) -> Interface:
        """B's interface ``pb0``."""
        return self.rig.ib

    @property
    def clock(self) -> VirtualClock:
        assert self.rig.clock is not None
        return self.rig.clock

    @property
    def pipe(self) -> Pipe:
        return self.rig.pipe

    @property
    def stacks(self) -> list[Stack]:
        return [self.a, self.b]

    @property
    def now(self) -> int:
        """Virtual time in ns."""
        return self.clock.now

    def run(self, seconds: float | str = 0.0) -> None:
        """Run both stacks for ``seconds`` of virtual time (a number, or
        ``"200ms"``); 0 runs them until nothing is left to do now."""
        from ustack.world import run_for

        ns = duration_ns(seconds, "run()")
        if ns == 0:
            self.rig.run()
        else:
            run_for(self.stacks, ns)

    def run_until(self, done: Callable[[], bool], timeout: float | str = 60.0) -> bool:
        """Run both stacks until ``done()`` holds (True) or ``timeout`` of
        virtual time passes (False)."""
        return self.rig.run(done, timeout_ns=duration_ns(timeout, "timeout"))

    def connect(
        self,
        port: int | None = None,
        *,
        family: int | None = None,
        timeout: float | None = None,
        **sockopts: int | str | bool,
    ) -> tuple[Socket, Socket]:
        """A TCP connection from A to B: ``(client on A, server on B)``,
        both blocking.  ``port`` None takes the next from 5001.  Keyword
        options are socket options by name (``tcp_nodelay=1``,
        ``so_rcvbuf=65536``, ``tcp_congestion="cubic"``), set on the client
        before it connects and on B's listener before it listens (the
        accepted socket inherits them, as on FreeBSD).  ``family``
        ``AF_INET6`` connects over IPv6 (the marker needs ``ipv6=True``).
        ``timeout`` (seconds of virtual time) bounds the handshake."""
        from ustack.constants import AF_INET, AF_INET6, SOCK_STREAM

        fam = AF_INET if family is None else family
        if fam == AF_INET6 and self.b_addr6 is None:
            raise ValueError("an IPv6 connection needs @pytest.mark.ustack(ipv6=True)")
        host = self.b_addr6 if fam == AF_INET6 else self.b_addr
        assert host is not None
        port = next(self._ports) if port is None else port
        opts = [(*sockopt(k), int(v) if isinstance(v, bool) else v) for k, v in sockopts.items()]
        listener = self.b.socket(fam, SOCK_STREAM)
        client = self.a.socket(fam, SOCK_STREAM)
        try:
            for level, opt, value in opts:
                listener.setsockopt(level, opt, value)
                client.setsockopt(level, opt, value)
            listener.bind((host, port))
            listener.listen(8)
            client.settimeout(timeout)
            client.connect((host, port))
            listener.settimeout(timeout)
            server, _ = listener.accept()
            client.settimeout(None)
            server.settimeout(None)
        except BaseException:
            client.close()
            raise
        finally:
            listener.close()
        return client, server

    def stream(self, src: Socket, dst: Socket, data: bytes, **kw: Any) -> bytes:
        """Send ``data`` from ``src`` to ``dst`` and return what arrived
        (:meth:`ustack.sim.PipeRig.stream`: both sockets end non-blocking)."""
        return self.rig.stream(src, dst, data, **kw)

    def set_faults(self, direction: str = "both", **faults: Any) -> None:
        """Change the faults mid-test, in the marker's units:
        ``pair.set_faults(loss=0)``, ``pair.set_faults("a_to_b", delay="50ms")``."""
        from ustack.pipe import Faults

        fields = _faults_fields(faults, "")
        for d in ("a_to_b", "b_to_a") if direction == "both" else (direction,):
            self.pipe.set_faults(d, Faults(**fields))

    def pipe_stats(self) -> dict[str, dict[str, int]]:
        """The pipe's counters per direction."""
        return {d: self.pipe.stats(d) for d in ("a_to_b", "b_to_a")}

    def close(self) -> None:
        self.rig.close()

    def __repr__(self) -> str:
        return f"<UstackPair seed={self.seed} {self.config.describe()}>"
