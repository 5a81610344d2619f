"""Build glue for the Python package ``ustack``.

``pip install .`` / ``pip install -e .`` need no manual step: the build_ext
command below configures and builds libustack.a with CMake into build/py,
then cffi compiles the API-mode extension ``ustack._ffi`` against the public
headers and links it with that library.  Metadata lives in pyproject.toml.

Environment:
  USTACK_PY_BUILD_DIR   CMake build directory (default: <root>/build/py)
  USTACK_CMAKE_ARGS     extra arguments for the CMake configure step
  CMAKE_BUILD_PARALLEL_LEVEL  jobs for the CMake build (default: CPU count)
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _build_dir() -> Path:
    return Path(os.environ.get("USTACK_PY_BUILD_DIR", ROOT / "build" / "py"))


def _configure_cmd(cmake: str) -> list[str]:
    return [
        cmake,
        "-S",
        str(ROOT),
        "-B",
        str(_build_dir()),
        "-DCMAKE_BUILD_TYPE=Release",
        "-DUSTACK_BUILD_TESTS=OFF",
        "-DUSTACK_BUILD_SHARED=OFF",
        *shlex.split(os.environ.get("USTACK_CMAKE_ARGS", "")),
    ]


def _configure_early() -> None:
    """Configure once before setup() when the build directory is new: cffi
    reads <build>/ustack_drivers.txt (which drivers' cdefs to compile in)
    and ustack_link.txt (their libraries, DPDK's) when setup() starts,
    before build_ext runs CMake."""
    cmake = shutil.which("cmake")
    if cmake is None or (_build_dir() / "ustack_link.txt").exists():
        return
    subprocess.run(_configure_cmd(cmake), cwd=ROOT, check=False, stdout=subprocess.DEVNULL)


class CMakeBuildExt(build_ext):
    """build_ext that builds libustack.a with CMake before compiling the extension."""

    def run(self) -> None:
        self._build_libustack()
        super().run()

    def _run(self, cmd: list[str]) -> None:
        print("+ " + shlex.join(cmd), flush=True)
        try:
            subprocess.run(cmd, check=True, cwd=ROOT)
        except FileNotFoundError as exc:
            sys.exit(f"ustack: {cmd[0]} not found ({exc}); install CMake >= 3.16 and a C compiler")
        except subprocess.CalledProcessError as exc:
            sys.exit(f"ustack: command failed with status {exc.returncode}: {shlex.join(cmd)}")

    def _build_libustack(self) -> None:
        cmake = shutil.which("cmake")
        if cmake is None:
            sys.exit("ustack: cmake not found; install CMake >= 3.16 (apt-get install cmake)")
        bdir = _build_dir()
        self._run(_configure_cmd(cmake))
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
        self._run([cmake, "--build", str(bdir), "--target", "ustack_static", "-j", jobs])
        lib = bdir / "libustack.a"
        if not lib.exists():
            sys.exit(f"ustack: CMake finished but {lib} is missing")
        # The extension depends on the library: relink it whenever it changed.
        for ext in self.extensions:
            ext.depends = [*ext.depends, str(lib)]


class DriverBuildPy(build_py):
    """build_py that also puts each driver folder's Python module
    (drivers/<name>/*.py) into the package, listed in ustack/_drivers.txt, so
    that an installed ustack has ustack.pipe, ustack.tap, ... as the source
    tree does (an editable install finds them in drivers/ itself)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dest = Path(self.build_lib) / "ustack"
        names = []
        for src in sorted(ROOT.glob("drivers/*/*.py")):
            self.copy_file(str(src), str(dest / src.name))
            names.append(src.stem)
        (dest / "_drivers.txt").write_text("\n".join(names) + "\n", encoding="utf-8")


_configure_early()
setup(
    cmdclass={"build_ext": CMakeBuildExt, "build_py": DriverBuildPy},
    cffi_modules=["python_bindings/ustack/_ffi_build.py:ffibuilder"],
)
