"""Shared fixtures for the Python tests (pytest through the cffi bindings)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ustack import Pipe, Stack, VirtualClock
from ustack.sim import PipeRig


@pytest.fixture
def clock() -> VirtualClock:
    """A fresh virtual clock at t=0."""
    return VirtualClock()


@pytest.fixture
def stack(clock: VirtualClock) -> Iterator[Stack]:
    """One seeded stack on the virtual clock, closed afterwards."""
    with Stack(clock=clock, seed=1) as st:
        yield st


@pytest.fixture
def rig() -> Iterator[PipeRig]:
    """Stacks A and B on a perfect pipe and a virtual clock."""
    with PipeRig(seed=1) as r:
        yield r


@pytest.fixture
def pipe(clock: VirtualClock) -> Iterator[Pipe]:
    """A perfect pipe on the virtual clock."""
    with Pipe(clock=clock, seed=1) as p:
        yield p


@pytest.fixture
def net() -> Iterator[PipeRig]:
    """Stacks A (198.18.0.1/24 on pa0) and B (198.18.0.2/24 on pb0) on a
    perfect pipe and a virtual clock."""
    with PipeRig(seed=1, addresses=True) as r:
        yield r
