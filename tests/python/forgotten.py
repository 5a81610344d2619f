"""Programs that forget their ustack objects (no close()), run in a
subprocess: the garbage collector then meets stacks, drivers and clocks in
one cycle and finalizes them in an order of its choosing, so a destructor
that touches freed memory crashes that process, not the test run.  The
program prints ``collected`` after its last ``gc.collect()``."""

from __future__ import annotations

import os
import subprocess
import sys


def assert_collected(code: str, *, valgrind: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``code`` and assert it collected its garbage without a crash.
    Freed memory is made garbage at once (``MALLOC_PERTURB_``), or, with
    ``valgrind``, every read of it is reported (the caller looks)."""
    if valgrind:
        argv = ["valgrind", "-q", sys.executable, "-c", code]
        env = dict(os.environ, PYTHONMALLOC="malloc")
    else:
        argv = [sys.executable, "-c", code]
        env = dict(os.environ, MALLOC_PERTURB_="165")
    res = subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=600 if valgrind else 60, env=env
    )
    assert res.returncode == 0 and "collected" in res.stdout, (res.returncode, res.stderr)
    return res
