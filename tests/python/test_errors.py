"""Negative UST_E* codes become exceptions that are both ustack.Error and the builtin."""

from __future__ import annotations

import errno

import pytest

import ustack
from ustack import errors, lib
from ustack.errors import Error, check, error_class, error_from_code

BUILTINS: list[tuple[str, type[OSError]]] = [
    ("EAGAIN", BlockingIOError),
    ("EINPROGRESS", BlockingIOError),
    ("EALREADY", BlockingIOError),
    ("ECONNRESET", ConnectionResetError),
    ("ECONNREFUSED", ConnectionRefusedError),
    ("ECONNABORTED", ConnectionAbortedError),
    ("ETIMEDOUT", TimeoutError),
    ("EEXIST", FileExistsError),
    ("ENOENT", FileNotFoundError),
    ("EPIPE", BrokenPipeError),
    ("EPERM", PermissionError),
    ("EACCES", PermissionError),
]


def test_check_passes_non_negative_results() -> None:
    assert check(0) == 0
    assert check(42) == 42


@pytest.mark.parametrize(("name", "builtin"), BUILTINS)
def test_builtin_mapping(name: str, builtin: type[OSError]) -> None:
    code = int(getattr(lib, "UST_" + name))
    with pytest.raises(builtin) as info:
        check(-code)
    exc = info.value
    assert isinstance(exc, Error)
    assert isinstance(exc, OSError)
    assert isinstance(exc, ustack.Error)
    assert exc.errno == getattr(errno, name), "errno must be the host's errno of the same name"
    assert exc.ust_errno == code
    assert exc.errname == name
    assert exc.strerror == errors.strerror(code)


def test_every_code_maps_by_name_to_host_errno() -> None:
    assert len(errors.UST_ERRNO_NAMES) >= 40
    for name in errors.UST_ERRNO_NAMES:
        code = int(getattr(lib, "UST_" + name))
        assert errors.errname(code) == name
        assert errors.errname(-code) == name
        exc = error_from_code(-code)
        assert type(exc) is error_class(name) is error_class(code)
        assert exc.errno == getattr(errno, name), name
        assert exc.strerror, name


def test_ustack_numbering_is_not_the_hosts() -> None:
    # FreeBSD numbering: EAGAIN is 35 (Linux: 11) -- .errno is still the host's.
    assert int(lib.UST_EAGAIN) == 35
    exc = error_from_code(-35)
    assert exc.errno == errno.EAGAIN
    assert isinstance(exc, BlockingIOError)
    assert error_class("EWOULDBLOCK") is error_class("EAGAIN")


def test_plain_errors_are_ustack_errors_only() -> None:
    for name in ("EINVAL", "ENOMEM", "ENOBUFS", "EMSGSIZE"):
        exc = error_from_code(-int(getattr(lib, "UST_" + name)))
        assert isinstance(exc, Error)
        assert not isinstance(exc, ConnectionError | BlockingIOError | TimeoutError)
        assert exc.errno == getattr(errno, name)
    assert error_from_code(-int(lib.UST_EINVAL)).errno == errno.EINVAL


def test_class_attributes_and_message() -> None:
    cls = errors.ECONNRESET
    assert issubclass(cls, ConnectionResetError) and issubclass(cls, Error)
    exc = error_from_code(-int(lib.UST_EEXIST), "pa0")
    assert exc.filename == "pa0"
    assert "pa0" in str(exc)
    assert str(errno.EEXIST) in str(exc)


def test_unknown_code_is_plain_error() -> None:
    with pytest.raises(Error) as info:
        check(-9999)
    assert type(info.value) is Error
    assert errors.errname(9999) is None


def test_strerror_names_the_error() -> None:
    text = errors.strerror(int(lib.UST_ECONNRESET))
    assert "ECONNRESET" in text or "reset" in text.lower()


def test_real_call_raises_mapped_error(stack: ustack.Stack, pipe: ustack.Pipe) -> None:
    stack.add_interface(pipe.a, "pa0")
    with pytest.raises(FileExistsError) as info:
        stack.add_interface(pipe.b, "pa0")
    assert isinstance(info.value, ustack.Error)
    assert info.value.errno == errno.EEXIST
    with pytest.raises(ustack.Error) as info2:
        stack.add_interface(pipe.b, "x" * 40)
    assert info2.value.errno == errno.EINVAL
