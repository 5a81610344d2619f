"""Where the live commands run: an existing TAP device (``--tap``, no root)
and an existing namespace (``--netns``).

Root sets the stage the way a user's administrator would, inside a namespace
the test makes (addresses from 198.18.0.0/15; removed afterwards): a TAP
device owned by an unprivileged uid (65534, nobody), up, with the kernel's
address.  The commands then run as that uid, with no capabilities (the
packetdrill peer with CAP_NET_RAW only).  Where /dev/net/tun is root's only
(mode 0600, as in some containers; distributions make it 0666), the user
gets a 0666 node for the same device bind-mounted over it, in the mount
namespace of ``ip netns exec`` alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ustack import netns, pattern
from ustack.packetdrill.suite import default_suite_dir

ROOT = Path(__file__).resolve().parents[2]
BINDINGS = str(ROOT / "python_bindings")
ENV = {**os.environ, "PYTHONPATH": BINDINGS}
UID = 65534
TAP = "ut0"
SUITE = default_suite_dir()
REQUIRE_ALL = os.environ.get("USTACK_REQUIRE_ALL") == "1"

needs_root = pytest.mark.skipif(
    netns.unavailable_reason() is not None and not REQUIRE_ALL,
    reason=f"{netns.unavailable_reason()}",
)


def _user_python() -> str | None:
    """An interpreter that the unprivileged uid can run and that imports
    this tree's ustack (the venv's may live under /root)."""
    if shutil.which("setpriv") is None:
        return None
    for exe in dict.fromkeys((sys.executable, "/usr/bin/python3")):
        probe = subprocess.run(
            [*_as_user(), exe, "-c", "import ustack.commands"],
            capture_output=True,
            cwd="/",
            check=False,
        )
        if probe.returncode == 0:
            return exe
    return None


def _as_user(*caps: str) -> list[str]:
    argv = ["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups"]
    for cap in caps:
        argv += [f"--inh-caps=+{cap}", f"--ambient-caps=+{cap}"]
    return [*argv, "env", f"PYTHONPATH={BINDINGS}", "PATH=/usr/bin:/bin"]


class UserTap:
    """A namespace with a TAP device owned by ``UID``; ``run`` runs ustack
    in it as that uid."""

    def __init__(self, ns: netns.NetNs, python: str, kernel: str, tmp: Path) -> None:
        self.ns, self.python, self.tmp = ns, python, tmp
        ns.run("ip", "tuntap", "add", "dev", TAP, "mode", "tap", "user", str(UID))
        ns.run("ip", "addr", "add", kernel, "dev", TAP)
        ns.run("ip", "link", "set", TAP, "up")
        self.prefix = ""
        if not os.stat("/dev/net/tun").st_mode & stat.S_IWOTH:
            node = tmp / "tun"
            tun = os.stat("/dev/net/tun").st_rdev
            os.mknod(node, 0o666 | stat.S_IFCHR, tun)
            os.chmod(node, 0o666)
            self.prefix = f"mount --bind {node} /dev/net/tun && "

    def argv(self, *args: str, caps: tuple[str, ...] = ()) -> list[str]:
        user = " ".join(_as_user(*caps))
        cmd = f'{self.prefix}exec {user} {self.python} -m ustack "$@"'
        return self.ns.exec_argv("sh", "-c", cmd, "sh", *args)

    def run(
        self, *args: str, caps: tuple[str, ...] = (), timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args, caps=caps),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
            check=False,
        )

    def device_left(self) -> bool:
        return self.ns.run("ip", "link", "show", TAP, check=False).returncode == 0


def _user_tap(kernel: str) -> Iterator[UserTap]:
    reason = netns.unavailable_reason()
    if reason is not None:
        if REQUIRE_ALL:
            pytest.fail(reason)
        pytest.skip(reason)
    python = _user_python()
    if python is None:
        if REQUIRE_ALL:
            pytest.fail(f"no interpreter uid {UID} can run with ustack importable")
        pytest.skip(f"no interpreter uid {UID} can run with ustack importable")
    tun_mode = os.stat("/dev/net/tun").st_mode
    with tempfile.TemporaryDirectory(prefix="ustack-clitap-") as tmp:
        os.chmod(tmp, 0o755)
        with netns.NetNs("clitap") as ns:
            yield UserTap(ns, python, kernel, Path(tmp))
    assert os.stat("/dev/net/tun").st_mode == tun_mode  # the host's node untouched
    assert not netns.leaked()


@pytest.fixture
def user_tap() -> Iterator[UserTap]:
    """The kernel at 198.18.0.2/24 on the user's device."""
    yield from _user_tap("198.18.0.2/24")


@pytest.fixture
def user_tap_kernel_first() -> Iterator[UserTap]:
    """The kernel at 198.18.0.1/24, the address ustack takes by default."""
    yield from _user_tap("198.18.0.1/24")


def test_serve_on_a_users_tap_without_root(user_tap: UserTap) -> None:
    run = "curl -s http://198.18.0.1:8080/bytes/1000000 | sha256sum; id -u"
    proc = user_tap.run("serve", "--http", "8080", "--tap", TAP, "--no-control", "--run", run)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert pattern.sha256(1_000_000) in out, out
    assert f"\n{UID}\n" in out  # curl ran as the user too, on the kernel's side
    assert f"ustack on {TAP} (198.18.0.1, kernel 198.18.0.2)" in out
    assert user_tap.device_left()  # the user's device stays


def test_ping_on_a_users_tap_takes_a_free_address(user_tap_kernel_first: UserTap) -> None:
    proc = user_tap_kernel_first.run("ping", "--tap", TAP, "-c", "2", "-i", "0.2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PING 198.18.0.1 (198.18.0.1) from 198.18.0.2" in proc.stdout
    assert "2 packets transmitted, 2 received" in proc.stdout


def test_fetch_on_a_users_tap(user_tap: UserTap) -> None:
    body = os.urandom(300_000)
    (user_tap.tmp / "f.bin").write_bytes(body)
    os.chmod(user_tap.tmp / "f.bin", 0o644)
    server = f"exec {user_tap.python} -m http.server 8000 --bind 198.18.0.2 -d {user_tap.tmp}"
    proc = user_tap.run(
        "fetch", "--tap", TAP, "http://198.18.0.2:8000/f.bin", "--run-server", server, "-q"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import hashlib

    assert f"sha256 {hashlib.sha256(body).hexdigest()}" in proc.stdout


def test_without_root_or_tap_the_error_names_tap(user_tap: UserTap) -> None:
    proc = user_tap.run("serve", "--http", "8080", "--no-control", "--duration", "1")
    assert proc.returncode != 0
    assert "need root" in proc.stderr and "--tap NAME" in proc.stderr, proc.stderr


def test_tap_that_is_not_the_users_is_refused(user_tap: UserTap) -> None:
    user_tap.ns.run("ip", "tuntap", "add", "dev", "other0", "mode", "tap", "user", "0")
    user_tap.ns.run("ip", "link", "set", "other0", "up")
    proc = user_tap.run("ping", "--tap", "other0", "-c", "1", "--peer-address", "198.18.0.2/24")
    assert proc.returncode != 0
    assert "belongs to uid 0" in proc.stderr, proc.stderr


def _ustack(*args: str) -> subprocess.CompletedProcess[str]:
    """ustack run as this process's user (root in CI), in this namespace."""
    argv = [sys.executable, "-m", "ustack", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=60, check=False)


def test_a_missing_tap_says_how_to_make_it() -> None:
    proc = _ustack("serve", "--http", "8080", "--tap", "nosuchtap9")
    assert proc.returncode != 0
    assert "no device nosuchtap9" in proc.stderr and "ip tuntap add" in proc.stderr


@pytest.mark.skipif(not SUITE.is_dir(), reason=f"FreeBSD's suite not found at {SUITE}")
def test_packetdrill_on_a_users_tap_with_cap_net_raw_only(user_tap: UserTap) -> None:
    groups = [str(SUITE / "snippets"), str(SUITE / "rcv-icmp")]
    args = ("packetdrill", "--tap", TAP, "--ipv4-only", *groups)
    ok = user_tap.run(*args, caps=("net_raw",), timeout=600)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip().splitlines()[-1].startswith("25 passed, 0 failed, 0 skipped")
    bare = user_tap.run("packetdrill", "--tap", TAP, groups[1])
    assert bare.returncode == 2 and "CAP_NET_RAW" in bare.stderr, bare.stderr


@needs_root
def test_serve_in_an_existing_namespace() -> None:
    """serve --netns: the TAP device is made in the namespace the user
    gave, other programs there reach ustack, and the namespace is left as
    it was (without the device) when serve ends."""
    with netns.NetNs("clins") as ns:
        argv = [sys.executable, "-m", "ustack", "serve", "--http", "8080", "--netns", ns.name]
        proc = subprocess.Popen(
            [*argv, "--no-control", "--duration", "60"],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert "http 198.18.0.1:8080" in line, line + (
                proc.stderr.read() if proc.stderr else ""
            )
            url = "http://198.18.0.1:8080/bytes/100000"
            curl = ns.run("sh", "-c", f"curl -s {url} | sha256sum", check=False)
            assert curl.stdout.split()[0] == pattern.sha256(100_000), curl.stdout
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, out + err
        assert "stopping (SIGTERM)" in out
        time.sleep(0.1)
        assert os.path.exists(f"/run/netns/{ns.name}")
        assert ns.run("ip", "link", "show", "ust0", check=False).returncode != 0
    assert not netns.leaked()


@needs_root
def test_netns_that_does_not_exist() -> None:
    proc = _ustack("ping", "--netns", "ustack-no-such-ns", "-c", "1")
    assert proc.returncode != 0 and "no network namespace ustack-no-such-ns" in proc.stderr
