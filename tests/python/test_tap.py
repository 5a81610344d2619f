"""The TAP driver against the real Linux kernel, and packetdrill over TAP.

Root only (CI runs as root): each test makes its own network namespace with
ustack.netns.NetNs, uses addresses from 198.18.0.0/15 inside it, and removes
it afterwards; nothing touches the host's interfaces.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ustack import netns
from ustack.packetdrill.suite import default_suite_dir

REASON = netns.unavailable_reason()
pytestmark = pytest.mark.skipif(
    REASON is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
    reason=f"{REASON}",
)
SUITE = default_suite_dir()
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "python_bindings")}

# Inside the namespace: ustack on a TAP device (offload unless UST_OFFLOAD=0)
# with 198.18.0.1, the kernel's side 198.18.0.2.
PRELUDE = textwrap.dedent(
    """
    import os, socket, subprocess, time
    import ustack
    from ustack.tap import Tap

    tap = Tap("ust0", offload=os.environ.get("UST_OFFLOAD", "1") == "1",
              io=os.environ.get("UST_IO", "vec"))
    st = ustack.Stack()
    ifc = st.add_interface(tap, "tap0", "198.18.0.1/24")
    subprocess.run(["ip", "link", "set", "ust0", "up"], check=True)
    subprocess.run(["ip", "addr", "add", "198.18.0.2/24", "dev", "ust0"], check=True)
    """
)

# A kernel TCP client sends 64 KB to a ustack echo server
# and must read the same bytes back, then the stack's counters show the frames.
ECHO = PRELUDE + textwrap.dedent(
    """
    srv = st.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.bind(("", 7))
    srv.listen(4)
    srv.setblocking(False)
    data = os.urandom(65536)
    k = socket.socket()
    k.setblocking(False)
    try:
        k.connect(("198.18.0.1", 7))
    except BlockingIOError:
        pass
    conn, sent, got, echoed = None, 0, b"", 0
    end = time.monotonic() + 20
    while len(got) < len(data) and time.monotonic() < end:
        st.poll()
        if conn is None:
            try:
                conn, _ = srv.accept()
                conn.setblocking(False)
            except BlockingIOError:
                pass
        else:
            try:
                chunk = conn.recv(65536)
                conn.sendall(chunk)
            except BlockingIOError:
                pass
        if sent < len(data):
            try:
                sent += k.send(data[sent:sent + 8192])
            except (BlockingIOError, OSError):
                pass
        try:
            got += k.recv(65536)
        except BlockingIOError:
            pass
        time.sleep(0.0002)
    assert got == data, (len(got), len(data))
    stats = tap.stats
    assert stats["rx_frames"] > 10 and stats["tx_frames"] > 10, stats
    print("ECHO-OK", stats["rx_frames"], stats["tx_frames"])
    k.close(); conn.close(); srv.close(); st.poll()
    ifc.detach(); tap.close(); st.close()
    """
)


# 20 MB from a kernel socket to ustack, then 20 MB
# back, over a Tap with offload on or off (UST_OFFLOAD); every byte checked
# by hash; prints the rates and the tap's counters as JSON.
BULK = PRELUDE + textwrap.dedent(
    """
    import hashlib, json

    TOTAL = int(os.environ.get("UST_TOTAL", str(20 * 1024 * 1024)))
    BLOCK = bytes(range(256)) * 256
    srv = st.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.bind(("", 5001))
    srv.listen(4)
    srv.setblocking(False)
    want = hashlib.sha256(BLOCK * (TOTAL // len(BLOCK))).hexdigest()

    def one_way(kernel_sends):
        k = socket.socket()
        k.setblocking(False)
        try:
            k.connect(("198.18.0.1", 5001))
        except BlockingIOError:
            pass
        conn, sent, got, h = None, 0, 0, hashlib.sha256()
        tx, rx = (k, None) if kernel_sends else (None, k)
        t0 = time.monotonic()
        end = t0 + 120
        while got < TOTAL and time.monotonic() < end:
            st.poll()
            if conn is None:
                try:
                    conn, _ = srv.accept()
                    conn.setblocking(False)
                    tx, rx = (k, conn) if kernel_sends else (conn, k)
                except BlockingIOError:
                    continue
            while sent < TOTAL:
                off = sent % len(BLOCK)
                try:
                    n = tx.send(BLOCK[off:off + min(len(BLOCK) - off, TOTAL - sent)])
                except (BlockingIOError, InterruptedError):
                    break
                if not n:
                    break
                sent += n
            while True:
                try:
                    b = rx.recv(262144)
                except (BlockingIOError, InterruptedError):
                    break
                if not b:
                    break
                h.update(b)
                got += len(b)
        dt = time.monotonic() - t0
        assert got == TOTAL and h.hexdigest() == want, (got, TOTAL)
        k.close()
        conn.close()
        for _ in range(50):
            st.poll()
        return TOTAL * 8 / dt / 1e6

    to_ustack = one_way(True)
    to_kernel = one_way(False)
    print("RESULT " + json.dumps({"to_ustack_mbps": to_ustack, "to_kernel_mbps": to_kernel,
                                  **tap.stats}))
    srv.close(); st.poll()
    ifc.detach(); tap.close(); st.close()
    """
)


def _no_namespaces_left() -> None:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"-{os.getpid()}-" not in out, out
    assert not netns.leaked(), netns.leaked()


def test_tap_echo_with_the_linux_kernel() -> None:
    with netns.NetNs("tap") as ns:
        proc = subprocess.run(
            ns.exec_argv(sys.executable, "-c", ECHO),
            capture_output=True,
            text=True,
            env=ENV,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0 and "ECHO-OK" in proc.stdout, proc.stdout + proc.stderr
        # The device went with the process; the namespace goes next.
        links = ns.run("ip", "-o", "link").stdout
        assert "ust0" not in links
    _no_namespaces_left()


def _bulk(offload: bool, io: str = "vec", total: int = 20 << 20) -> dict[str, float]:
    import json

    with netns.NetNs("tso") as ns:
        proc = subprocess.run(
            ns.exec_argv(sys.executable, "-c", BULK),
            capture_output=True,
            text=True,
            env={
                **ENV,
                "UST_OFFLOAD": "1" if offload else "0",
                "UST_IO": io,
                "UST_TOTAL": str(total),
            },
            timeout=600,
            check=False,
        )
    assert proc.returncode == 0 and "RESULT " in proc.stdout, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, float] = json.loads(line[len("RESULT ") :])
    print(f"offload={offload}: {result}")
    return result


def test_tap_bulk_with_offload_uses_tso_and_gro() -> None:
    r = _bulk(True)
    # TSO: the average frame written is far above a full Ethernet frame.
    assert r["tx_tso"] > 0 and r["tx_bytes"] / r["tx_frames"] > 3 * 1514, r
    # GRO/GSO from the kernel: frames above the MTU were taken whole.
    assert r["rx_gso"] > 0 and r["rx_csum"] > 0, r


def test_tap_bulk_without_offload_sends_plain_frames() -> None:
    r = _bulk(False)
    assert r["tx_tso"] == 0 and r["rx_gso"] == 0 and r["tx_csum"] == 0, r
    assert r["tx_bytes"] / r["tx_frames"] <= 1514, r


@pytest.mark.parametrize("offload", [True, False], ids=["offload", "plain"])
@pytest.mark.parametrize("io", ["vec", "copy"])
def test_tap_io_modes_move_chains_and_gso_frames_intact(io: str, offload: bool) -> None:
    # Both ways, every byte checked by hash (BULK).  What the stack sends is
    # a chain (a header mbuf, then the payload's clusters; with offload a
    # 64 KB TSO chain) that "vec" writes buffer by buffer behind a private
    # copy of the headers; with offload the kernel hands up GRO frames
    # larger than the mbuf "vec" reads into, which take the copy path.
    r = _bulk(offload, io=io, total=4 << 20)
    assert r["tx_errors"] == 0 and r["rx_nombuf"] == 0, r
    if offload:
        assert r["tx_tso"] > 0 and r["rx_gso"] > 0 and r["tx_csum"] > 0, r
    else:
        assert r["tx_tso"] == 0 and r["rx_gso"] == 0, r


def test_tap_open_outside_root_namespace_only_here() -> None:
    # A TAP device is never made in the host's namespace by the tests: the
    # echo test above runs in its own; this checks none was left behind.
    out = subprocess.run(
        ["ip", "-o", "link", "show", "type", "tun"], capture_output=True, text=True
    ).stdout
    assert "ust0" not in out and "pdtap0" not in out


@pytest.mark.skipif(not SUITE.is_dir(), reason=f"FreeBSD's suite not found at {SUITE}")
def test_packetdrill_over_tap_passes_and_fails_like_virtual() -> None:
    groups = [str(SUITE / "snippets"), str(SUITE / "rcv-icmp")]
    base = [sys.executable, "-m", "ustack", "packetdrill", "--backend", "tap", "--ipv4-only"]
    ok = subprocess.run(
        [*base, *groups], capture_output=True, text=True, env=ENV, timeout=600, check=False
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip().splitlines()[-1].startswith("25 passed, 0 failed, 0 skipped")
    # The self-test over the real device: a wrong window must fail.
    bad = subprocess.run(
        [
            *base,
            "--force",
            "net.inet.tcp.recvspace=32768",
            str(SUITE / "snippets/syn-rcvd-via-listen-ipv4.pkt"),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 1 and "window" in bad.stdout, bad.stdout + bad.stderr
    _no_namespaces_left()


def test_hostlink_refuses_addresses_outside_the_benchmark_range() -> None:
    from ustack.hostlink import HostLink

    with pytest.raises(ValueError, match="198.18.0.0/15"):
        HostLink(address="10.0.0.1/24")
    with pytest.raises(ValueError, match="198.18.0.0/15"):
        HostLink(peer_address="192.168.1.2/24")


def test_bench_tap_smoke(tmp_path: Path) -> None:
    """The suite's tap module in small (`bench/run.py --quick --only tap`): both sides
    move the bytes and a ratio comes out for each driver mode (copy, vec), with
    frames/s and CPU per GiB (a smoke test: no speed is judged)."""
    import json

    root = Path(__file__).resolve().parents[2]
    sink = root / "build" / "examples" / "tap_sink"
    if not sink.exists():
        pytest.skip(f"{sink} not built (invoke build)")
    proc = subprocess.run(
        [
            sys.executable,
            str(root / "bench" / "run.py"),
            "--quick",
            "--only",
            "tap",
            "--runs",
            "1",
            "--build",
            str(root / "build"),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "results.json").read_text())
    recs = [r for r in data["results"] if r["bench"] == "tap"]
    thr = {r["params"]["mode"]: r for r in recs if r["unit"] == "Mbit/s"}
    cpu = {r["params"]["mode"]: r for r in recs if r["unit"] == "s/GiB"}
    assert sorted(thr) == sorted(cpu) == ["copy", "copy/plain", "vec", "vec/plain"], recs
    for rec in thr.values():
        assert rec["ustack"]["median"] > 0 and rec["linux"]["median"] > 0
        assert rec["ratio"] > 0 and rec["params"]["frames_per_s"] > 0
    for rec in cpu.values():
        assert rec["ustack"]["median"] > 0
    _no_namespaces_left()
