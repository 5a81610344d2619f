"""radvd as the IPv6 router of a test's namespace: the kernel's side sends
router advertisements (RFC 4861 6.2) for a prefix inside 2001:2::/48, so
that ustack autoconfigures an address from it (SLAAC, RFC 4862).

Call :func:`radvd` from a process that already runs inside the test's
namespace (the ustack-side script of test_interop_linux6.py): it turns
IPv6 forwarding on there (radvd refuses to advertise otherwise), writes a
configuration in a temporary directory, runs ``radvd -C CONF -n -p PID``
in the foreground and kills it at the end.  Nothing here touches the
host's namespace; the namespace's removal would end radvd anyway.
"""

from __future__ import annotations

import contextlib
import ipaddress
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from shutil import which

RADVD = "/usr/sbin/radvd"
BENCH_NET6 = ipaddress.IPv6Network("2001:2::/48")


def radvd_path() -> str | None:
    """radvd's path, or None when it is not installed."""
    if Path(RADVD).exists():
        return RADVD
    return which("radvd")


@dataclass(frozen=True)
class RadvdConfig:
    """What the advertisements carry (radvd.conf(5) names)."""

    ifname: str
    prefix: str = "2001:2::/64"
    min_interval: float = 3.0  # MinRtrAdvInterval (radvd's minimum is 3 s)
    max_interval: float = 4.0  # MaxRtrAdvInterval
    router_lifetime: int = 30  # AdvDefaultLifetime: a default router for ustack
    valid_lifetime: int = 600  # AdvValidLifetime
    preferred_lifetime: int = 300  # AdvPreferredLifetime
    mtu: int = 0  # AdvLinkMTU: 0 sends no MTU option

    def text(self) -> str:
        net = ipaddress.IPv6Network(self.prefix)
        if not net.subnet_of(BENCH_NET6):
            raise ValueError(f"{net} is outside {BENCH_NET6} (RFC 5180)")
        return (
            f"interface {self.ifname} {{\n"
            "    AdvSendAdvert on;\n"
            f"    MinRtrAdvInterval {self.min_interval};\n"
            f"    MaxRtrAdvInterval {self.max_interval};\n"
            f"    AdvDefaultLifetime {self.router_lifetime};\n"
            f"    AdvLinkMTU {self.mtu};\n"
            f"    prefix {net} {{\n"
            "        AdvOnLink on;\n"
            "        AdvAutonomous on;\n"
            f"        AdvValidLifetime {self.valid_lifetime};\n"
            f"        AdvPreferredLifetime {self.preferred_lifetime};\n"
            "    };\n"
            "};\n"
        )


def _sysctl(name: str, value: str) -> None:
    subprocess.run(["sysctl", "-qw", f"{name}={value}"], check=True, capture_output=True)


@contextlib.contextmanager
def radvd(config: RadvdConfig) -> Iterator[subprocess.Popen[bytes]]:
    """radvd advertising ``config`` on ``config.ifname`` of this namespace
    until the block ends (then terminated, killed after 5 s).  RuntimeError
    with radvd's log when it exits within its first second (a refused
    configuration, a missing interface)."""
    path = radvd_path()
    if path is None:
        raise RuntimeError("radvd is not installed (apt-get install radvd)")
    _sysctl("net.ipv6.conf.all.forwarding", "1")
    with tempfile.TemporaryDirectory(prefix="ustack-radvd-") as tmp:
        conf, pid, log = Path(tmp) / "radvd.conf", Path(tmp) / "radvd.pid", Path(tmp) / "log"
        conf.write_text(config.text())
        conf.chmod(0o644)  # radvd refuses a configuration others may write
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [path, "-C", str(conf), "-n", "-p", str(pid), "-m", "stderr", "-d", "1"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            time.sleep(1.0)
            if proc.poll() is not None:
                raise RuntimeError(
                    f"radvd exited with {proc.returncode}:\n{log.read_text(errors='replace')}"
                )
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
