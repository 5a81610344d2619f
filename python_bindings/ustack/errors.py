"""Errors: negative ``UST_E*`` codes become Python exceptions.

ustack's C functions return a negative ``UST_E*`` code on failure, with
ustack's own (FreeBSD) numbering.  :func:`check` turns such a code into an
exception whose class inherits both :class:`Error` (an :class:`OSError`) and
the built-in the standard :mod:`socket` module would raise for the same errno
name (``ConnectionResetError`` for ``ECONNRESET``, ``BlockingIOError`` for
``EAGAIN``, ...).  ``.errno`` is the *host's* errno of the same name, so
``exc.errno == errno.ECONNRESET`` holds as it does for a host socket;
``.ust_errno`` keeps ustack's number and ``.strerror`` is ``ust_strerror()``.
"""

from __future__ import annotations

import errno as _errno

from ustack._native import cstr, lib

__all__ = [
    "Error",
    "check",
    "error_class",
    "error_from_code",
    "errname",
    "strerror",
    "UST_ERRNO_NAMES",
]


class Error(OSError):
    """Base of every error ustack raises (an OSError with a host errno)."""

    ust_errno: int = 0
    errname: str = ""


# Built-in exception (besides Error) for each errno name, as the standard
# library's OSError constructor maps them (PEP 3151).
_BUILTIN_FOR: dict[str, type[OSError]] = {
    "EAGAIN": BlockingIOError,
    "EINPROGRESS": BlockingIOError,
    "EALREADY": BlockingIOError,
    "EPIPE": BrokenPipeError,
    "ESHUTDOWN": BrokenPipeError,
    "ECONNABORTED": ConnectionAbortedError,
    "ECONNREFUSED": ConnectionRefusedError,
    "ECONNRESET": ConnectionResetError,
    "EEXIST": FileExistsError,
    "ENOENT": FileNotFoundError,
    "EPERM": PermissionError,
    "EACCES": PermissionError,
    "ETIMEDOUT": TimeoutError,
}


def _is_errno_name(const: str) -> bool:
    # UST_E* constants that ust_errname() gives back under their own name:
    # leaves out aliases (EWOULDBLOCK is EAGAIN) and UST_EV_*/UST_EVQ_*.
    if not const.startswith("UST_E"):
        return False
    value = getattr(lib, const)
    return isinstance(value, int) and cstr(lib.ust_errname(value)) == const[4:]


# Every UST_E* error name the public header defines.
UST_ERRNO_NAMES: tuple[str, ...] = tuple(
    sorted(
        {n[4:] for n in dir(lib) if _is_errno_name(n)},
        key=lambda n: int(getattr(lib, "UST_" + n)),
    )
)

_by_code: dict[int, type[Error]] = {}
_by_name: dict[str, type[Error]] = {}


def _make_class(name: str) -> type[Error]:
    code = int(getattr(lib, "UST_" + name))
    builtin = _BUILTIN_FOR.get(name)
    bases: tuple[type, ...] = (Error, builtin) if builtin is not None else (Error,)
    doc = f"ustack {name} ({cstr(lib.ust_strerror(code))})"
    if builtin is not None:
        doc += f"; also a {builtin.__name__}"
    cls = type(
        name, bases, {"__doc__": doc, "__module__": __name__, "ust_errno": code, "errname": name}
    )
    return cls


for _name in UST_ERRNO_NAMES:
    _cls = _make_class(_name)
    _by_code[_cls.ust_errno] = _cls
    _by_name[_name] = _cls
    globals()[_name] = _cls
    __all__.append(_name)
del _name, _cls
_by_name["EWOULDBLOCK"] = _by_name["EAGAIN"]


def errname(code: int) -> str | None:
    """Symbolic name of a ustack error code (sign ignored), or None if unknown."""
    return cstr(lib.ust_errname(abs(code)))


def strerror(code: int) -> str:
    """``ust_strerror()`` of a ustack error code (sign ignored)."""
    return cstr(lib.ust_strerror(abs(code))) or f"unknown error {abs(code)}"


def error_class(code_or_name: int | str) -> type[Error]:
    """The exception class for a ustack code (either sign) or an errno name."""
    if isinstance(code_or_name, str):
        return _by_name.get(code_or_name.upper(), Error)
    return _by_code.get(abs(code_or_name), Error)


def _host_errno(name: str | None, code: int) -> int:
    if name is not None:
        host = getattr(_errno, name, None)
        if isinstance(host, int):
            return host
    return code


def error_from_code(code: int, subject: str | None = None) -> Error:
    """Build (not raise) the exception for a ustack error code (either sign)."""
    code = abs(code)
    name = errname(code)
    cls = _by_name.get(name, Error) if name is not None else Error
    message = strerror(code)
    exc = (
        cls(_host_errno(name, code), message)
        if subject is None
        else cls(_host_errno(name, code), message, subject)
    )
    exc.ust_errno = code
    exc.errname = name or f"E{code}"
    return exc


def check(rc: int, subject: str | None = None) -> int:
    """Return ``rc`` if it is not negative, else raise the matching exception.

    ``subject`` (an interface name, a path) shows in the message the way a file
    name does in ``FileExistsError: [Errno 17] File exists: 'a0'``.
    """
    if rc >= 0:
        return rc
    raise error_from_code(rc, subject)


def __getattr__(name: str) -> type[Error]:
    """Typed access to the generated classes (``errors.ECONNRESET``) for checkers."""
    cls = _by_name.get(name)
    if cls is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return cls
