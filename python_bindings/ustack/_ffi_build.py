"""cffi build script for ``ustack._ffi`` (API mode).

The cdef text lives in ``python_bindings/cdef/*.h``, one file per public
header, read in file-name order (which is header order).  The extension is
compiled against the real headers in ``include/``, so any drift between the
cdef and the headers fails the C compile, and linked with the static
``libustack.a`` that setup.py builds with CMake first.

Run by setuptools through ``cffi_modules`` (setup.py); it also runs on its own
(``python python_bindings/ustack/_ffi_build.py``) once ``build/py`` exists.
"""

from __future__ import annotations

import os
from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parents[2]
CDEF_DIR = ROOT / "python_bindings" / "cdef"
INCLUDE_DIR = ROOT / "include"
BUILD_DIR = Path(os.environ.get("USTACK_PY_BUILD_DIR", ROOT / "build" / "py"))
LIBUSTACK = BUILD_DIR / "libustack.a"

HEADERS = (
    "ustack/ustack_osal.h",
    "ustack/ustack.h",
    "ustack/ustack_driver.h",
    "ustack/ustack_pipe.h",
    "ustack/ustack_pcap.h",
)

# Make drift between the cdef and the headers a hard error, not a warning.
STRICT_FLAGS = [
    "-Werror=incompatible-pointer-types",
    "-Werror=int-conversion",
    "-Werror=implicit-function-declaration",
    "-Werror=return-type",
]


def cdef_text() -> str:
    """All cdef files, concatenated in order."""
    parts = []
    for path in sorted(CDEF_DIR.glob("*.h")):
        parts.append(f"/* ---- {path.name} ---- */\n" + path.read_text(encoding="utf-8"))
    if not parts:
        raise RuntimeError(f"no cdef files in {CDEF_DIR}")
    return "\n".join(parts)


ffibuilder = FFI()
ffibuilder.cdef(cdef_text())
ffibuilder.set_source(
    "ustack._ffi",
    "\n".join(f"#include <{h}>" for h in HEADERS) + "\n",
    include_dirs=[str(INCLUDE_DIR)],
    extra_objects=[str(LIBUSTACK)],
    libraries=["pthread"],
    extra_compile_args=STRICT_FLAGS,
    depends=[str(LIBUSTACK), *(str(INCLUDE_DIR / h) for h in HEADERS)],
)

if __name__ == "__main__":
    ffibuilder.compile(tmpdir=str(BUILD_DIR / "cffi"), verbose=True)
