"""The cffi bindings themselves: layouts, constants and the package surface."""

from __future__ import annotations

import ustack
from ustack import ffi, lib


def test_every_cdef_struct_matches_the_c_layout() -> None:
    # Completing a struct makes cffi compare the cdef with the C compiler's layout.
    _typedefs, structs, _unions = ffi.list_types()
    checked = 0
    for name in structs:
        try:
            size = ffi.sizeof(f"struct {name}")
        except ffi.error as exc:
            assert "know the size" in str(exc), f"struct {name}: {exc}"  # opaque
            continue
        assert size > 0
        checked += 1
    assert checked >= 10


def test_constants_come_from_the_headers() -> None:
    assert lib.UST_VERSION_MAJOR == 0
    assert lib.UST_EWOULDBLOCK == lib.UST_EAGAIN
    assert lib.UST_PIPE_A_TO_B != lib.UST_PIPE_B_TO_A
    assert lib.UST_RX_BURST_MAX >= 1


def test_version_strings() -> None:
    assert ustack.c_version().startswith(f"{lib.UST_VERSION_MAJOR}.{lib.UST_VERSION_MINOR}")
    assert ustack.__version__


def test_seeded_rng_is_portable() -> None:
    rng = ffi.new("struct ust_rng *")
    lib.ust_rng_seed(rng, 1)
    first = [int(lib.ust_rng_u64(rng)) for _ in range(3)]
    lib.ust_rng_seed(rng, 1)
    assert [int(lib.ust_rng_u64(rng)) for _ in range(3)] == first
    assert len(set(first)) == 3
