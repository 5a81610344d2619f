"""The pytest fixture ``ustack_peer``: a seeded stack on a virtual clock with a
:class:`~ustack.scripting.Peer` attached (docs/scripting.md).

The ``ustack.testing`` plugin imports it; without the plugin, import it into a
test module or conftest.py (``from ustack.scripting.fixtures import ustack_peer``).

Settings, in increasing priority: the seed of the plugin (``ustack_seed``,
``--ustack-seed``) when it is loaded, else 1; the ``seed`` of a
``@pytest.mark.ustack(...)`` marker; the keywords of a
``@pytest.mark.ustack_peer(...)`` marker; a dict given by indirect
parametrization (``@pytest.mark.parametrize("ustack_peer", [{"mtu": 1280}],
indirect=True)``).  Keywords: ``seed``, ``sysctl`` (a dict of knobs set on
the stack before its interface exists), and :class:`Peer`'s (``addr``,
``stack_addr``, ``prefixlen``, ``mtu``, ``isn``, ``win``).  Knobs can also be
set afterwards with ``ustack_peer.sysctl(name, value)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ustack.clock import VirtualClock
from ustack.scripting.peer import Peer
from ustack.stack import Stack

__all__ = ["PeerRig", "ustack_peer", "peer_rig", "MARKERS"]

# For the plugin's pytest_configure (config.addinivalue_line("markers", ...)).
MARKERS = [
    "ustack_peer(seed=N, sysctl={...}, addr=..., stack_addr=..., mtu=..., isn=..., win=...): "
    "settings of the ustack_peer fixture",
]

# The clock starts at 1 s so that nothing in the stack sees time zero.
_T0_NS = 1_000_000_000


class PeerRig:
    """A stack (``stack``) on a virtual clock (``clock``) with a :class:`Peer`
    (``peer``) wired to it; ``seed`` seeds the stack and the pipe."""

    def __init__(self, *, seed: int = 1, sysctl: dict[str, Any] | None = None, **peer: Any) -> None:
        self.seed = seed
        self.clock = VirtualClock(_T0_NS)
        self.stack = Stack(clock=self.clock, seed=seed)
        try:
            for name, value in (sysctl or {}).items():
                self.stack.sysctl(name, value)
            self.peer = Peer(self.stack, seed=seed, **peer)
        except BaseException:
            self.stack.close()
            raise

    def sysctl(self, name: str, value: Any = None) -> Any:
        """The stack's knob ``name`` (set to ``value`` when given)."""
        return self.stack.sysctl(name, value)

    def close(self) -> None:
        """Close the peer, then the stack."""
        self.peer.close()
        self.stack.close()

    def __enter__(self) -> PeerRig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PeerRig(seed={self.seed}, {self.peer!r})"


def _settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    try:
        opts["seed"] = int(request.getfixturevalue("ustack_seed"))
    except pytest.FixtureLookupError:
        opts["seed"] = 1
    node = getattr(request, "node", None)
    if node is not None:
        marker = node.get_closest_marker("ustack")
        if marker is not None and "seed" in marker.kwargs:
            opts["seed"] = int(marker.kwargs["seed"])
        marker = node.get_closest_marker("ustack_peer")
        if marker is not None:
            opts.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, dict):
        opts.update(param)
    return opts


def peer_rig(request: pytest.FixtureRequest) -> Iterator[PeerRig]:
    """The body of :func:`ustack_peer`, for a fixture of another name or scope
    (``yield from peer_rig(request)``)."""
    opts = _settings(request)
    rig = PeerRig(**opts)
    print(f"ustack_peer: seed {rig.seed}")
    try:
        yield rig
    finally:
        rig.close()


@pytest.fixture
def ustack_peer(request: pytest.FixtureRequest) -> Iterator[PeerRig]:
    """A seeded stack on a virtual clock with a Peer attached (see the module)."""
    yield from peer_rig(request)
