"""The cffi bindings themselves: layouts, constants and the package surface."""

from __future__ import annotations

import socket

import pytest

import ustack
from ustack import ffi, inet, lib


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


def test_socket_addresses_are_bsd_sockaddrs() -> None:
    assert ffi.sizeof("struct ust_sockaddr") == 16
    assert ffi.sizeof("struct ust_sockaddr_in") == 16
    assert ffi.sizeof("struct ust_sockaddr_in6") == 28
    assert ffi.sizeof("struct ust_sockaddr_storage") == 128
    assert ffi.sizeof("ust_socklen_t") == 4
    assert lib.UST_AF_INET6 == 28  # FreeBSD's value
    sa = inet.sockaddr(("198.18.0.1", 8080))
    assert sa.length == 16
    assert sa.ptr.sa_len == 16 and sa.ptr.sa_family == lib.UST_AF_INET
    assert bytes(ffi.buffer(sa.storage, 8)) == bytes([16, 2, 0x1F, 0x90, 198, 18, 0, 1])
    assert inet.sockaddr_to_tuple(sa) == ("198.18.0.1", 8080)
    # An output buffer offers the whole storage until a call writes a length.
    assert inet.CSockaddr().length == 128
    with pytest.raises(TypeError):
        inet.sockaddr(("198.18.0.1", 1, 0, 0))
    with pytest.raises(socket.gaierror):
        inet.sockaddr(("::1", 1, 0, 0), family=socket.AF_UNIX)
    with pytest.raises(ValueError):
        inet.sockaddr_to_tuple(inet.CSockaddr())  # nothing written: family 0
