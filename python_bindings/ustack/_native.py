"""The compiled cffi extension, imported in one place with a helpful error."""

from __future__ import annotations

from typing import Any

try:
    from ustack._ffi import ffi, lib
except ImportError as exc:  # pragma: no cover - only without a build
    raise ImportError(
        "ustack: the C extension ustack._ffi is not built "
        f"({exc}); run `pip install -e .` (or `invoke build`) in the ustack checkout"
    ) from exc

UINT64_MAX = (1 << 64) - 1

__all__ = ["ffi", "lib", "UINT64_MAX", "struct_to_dict", "cstr"]


def struct_to_dict(obj: Any, fields: tuple[str, ...]) -> dict[str, int]:
    """Copy the named integer fields of a cffi struct into a plain dict."""
    return {name: int(getattr(obj, name)) for name in fields}


def cstr(ptr: Any) -> str | None:
    """A C string (const char *) as str, or None for NULL."""
    if ptr == ffi.NULL:
        return None
    return str(ffi.string(ptr).decode("utf-8", "replace"))
