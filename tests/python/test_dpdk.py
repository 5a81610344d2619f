"""ustack.dpdk: two stacks over a net_ring pair in one child process.

DPDK's EAL starts once per process and never again, so every case runs a
child Python (``_CHILD``) that starts the EAL without hugepages, PCI or
shared config, joins two stacks through ``ustack.dpdk.ring_pair`` and moves
TCP data both ways byte-exact, then reports the ports' counters as JSON.
The EAL's runtime directory (/var/run/dpdk/<prefix>) is removed afterwards.
Skipped with the reason when ustack was built without libdpdk;
USTACK_REQUIRE_ALL=1 (CI) makes that a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ustack import dpdk, dpdklink

REQUIRE_ALL = os.environ.get("USTACK_REQUIRE_ALL") == "1"

if not dpdk.available():
    if REQUIRE_ALL:
        pytest.fail(f"USTACK_REQUIRE_ALL=1: {dpdk.why_unavailable()}", pytrace=False)
    pytest.skip(dpdk.why_unavailable(), allow_module_level=True)

_CHILD = r"""
import hashlib, json, sys, time
import ustack
from ustack import dpdk

prefix, nbytes, zero_copy, caps = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
dpdk.eal_init(f"--no-huge -m 256 --no-shconf --no-pci --log-level=warning --file-prefix={prefix}")
dpdk.eal_init("ignored: the EAL is up")  # a second call is a no-op
a, b = dpdk.ring_pair("t" + prefix[-8:])
mask = None if caps == "all" else int(caps)
pa = dpdk.Port(a, zero_copy=zero_copy, caps_mask=mask)
pb = dpdk.Port(b, zero_copy=zero_copy, caps_mask=mask)
sa, sb = ustack.Stack(seed=1), ustack.Stack(seed=2)
ia = sa.add_interface(pa.queue(0), "dp0", "198.18.0.1/24")
sb.add_interface(pb.queue(0), "dp0", "198.18.0.2/24")
srv = sb.create_server(("198.18.0.2", 5001))
cli = sa.create_connection(("198.18.0.2", 5001), timeout=5)
conn, _ = srv.accept()
for s in (cli, conn):
    s.settimeout(0.0)
data = bytes((i * 7 + (i >> 9)) & 0xFF for i in range(nbytes))
out = {"a_to_b": hashlib.sha256(data).hexdigest()}
t0 = time.perf_counter()
for name, tx, rx in (("a_to_b", cli, conn), ("b_to_a", conn, cli)):
    sent, got = 0, []
    deadline = time.monotonic() + 60
    while sum(map(len, got)) < nbytes and time.monotonic() < deadline:
        if sent < nbytes:
            try:
                sent += tx.send(data[sent : sent + 262144])
            except BlockingIOError:
                pass
        sa.poll()
        sb.poll()
        try:
            while chunk := rx.recv(262144):
                got.append(chunk)
        except BlockingIOError:
            pass
    out[name + "_ok"] = b"".join(got) == data
out["seconds"] = time.perf_counter() - t0
out["caps"] = ia.caps if hasattr(ia, "caps") else None
out["link"] = list(pa.link())
out["stats_a"], out["stats_b"] = pa.stats(), pb.stats()
cli.close(); conn.close(); srv.close()
for _ in range(200):
    sa.poll(); sb.poll()
out["lent_after_close"] = pb.stats()["rx_lent_now"] + pa.stats()["rx_lent_now"]
sa.close(); sb.close()
pa.close(); pb.close()
print(json.dumps(out))
"""


def _child(script: str, prefix: str, *args: str, wrap: list[str] | None = None) -> Any:
    """Runs script in a child Python (inside wrap, e.g. a namespace's exec
    prefix) with EAL file prefix `prefix`, removes the EAL's runtime
    directory, and returns the JSON the child printed last."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root / "python_bindings")}
    try:
        proc = subprocess.run(
            [*(wrap or []), sys.executable, "-c", script, prefix, *args],
            capture_output=True,
            text=True,
            timeout=180,
            env=env,
        )
    finally:
        dpdklink.remove_runtime(prefix)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run(tmp_path: Path, nbytes: int, *, zero_copy: bool = True, caps: str = "all") -> Any:
    prefix = f"ustpy{os.getpid()}_{tmp_path.name[-12:]}"
    return _child(_CHILD, prefix, str(nbytes), "1" if zero_copy else "0", caps)


@pytest.mark.parametrize(
    ("zero_copy", "caps"),
    [(True, "all"), (False, "all"), (True, "0")],
    ids=["zero-copy+offloads", "copy+offloads", "zero-copy+no-offloads"],
)
def test_tcp_both_ways_over_net_ring(tmp_path: Path, zero_copy: bool, caps: str) -> None:
    out = _run(tmp_path, 2_000_000, zero_copy=zero_copy, caps=caps)
    assert out["a_to_b_ok"] and out["b_to_a_ok"]
    sa, sb = out["stats_a"], out["stats_b"]
    # rte_eth_stats: what a sent b received (a ring drops nothing).
    assert sa["opackets"] > 1000 and sa["opackets"] == sb["ipackets"]
    assert sb["opackets"] == sa["ipackets"] and sa["oerrors"] == 0
    if zero_copy:
        assert sb["rx_lent"] > 1000 and sb["rx_copied"] == 0
    else:
        assert sb["rx_lent"] == 0 and sb["rx_copied"] == sb["ipackets"]
    # Every lent buffer came back once the sockets closed.
    assert out["lent_after_close"] == 0
    # net_ring hands the rte_mbuf itself to the peer: transmit copies.
    assert sa["tx_copied"] == sa["opackets"]
    if caps == "all":
        # net_ring has no offload: TSO frames cut by the driver in software.
        assert sa["tx_sw_csum"] > 0 and sa["tx_tso"] == 0
    else:
        assert sa["tx_sw_csum"] == 0
    assert out["link"][0] is True


# Inside a namespace: ustack on a net_tap vdev (198.18.0.1), the kernel on
# its TAP (198.18.0.2); a kernel TCP client sends data to a ustack echo
# server and reads it back, so transmit goes through the gather path
# (external buffers) with net_tap's checksum and TSO offloads.
_TAP_CHILD = r"""
import json, os, socket, subprocess, sys, time
import ustack
from ustack import dpdk

prefix, nbytes = sys.argv[1], int(sys.argv[2])
dpdk.eal_init(f"--no-huge -m 256 --no-shconf --no-pci --log-level=warning "
              f"--file-prefix={prefix} --vdev=net_tap0,iface=dtap0")
port = dpdk.Port("net_tap0")
st = ustack.Stack()
ifc = st.add_interface(port.queue(0), "dp0", "198.18.0.1/24")
subprocess.run(["ip", "link", "set", "dtap0", "up"], check=True)
subprocess.run(["ip", "addr", "add", "198.18.0.2/24", "dev", "dtap0"], check=True)
srv = st.socket(ustack.AF_INET, ustack.SOCK_STREAM)
srv.bind(("", 7))
srv.listen(4)
srv.setblocking(False)
data = os.urandom(nbytes)
k = socket.socket()
k.setblocking(False)
try:
    k.connect(("198.18.0.1", 7))
except BlockingIOError:
    pass
conn, sent, got, pend = None, 0, [], b""
deadline = time.monotonic() + 60
while sum(map(len, got)) < nbytes and time.monotonic() < deadline:
    st.poll()
    if conn is None:
        try:
            conn, _ = srv.accept()
            conn.setblocking(False)
        except BlockingIOError:
            pass
    if sent < nbytes:
        try:
            sent += k.send(data[sent : sent + 65536])
        except (BlockingIOError, OSError):
            pass
    if conn is not None:
        try:
            while chunk := conn.recv(65536):
                pend += chunk
        except BlockingIOError:
            pass
        if pend:
            try:
                n = conn.send(pend)
                pend = pend[n:]
            except BlockingIOError:
                pass
    try:
        while chunk := k.recv(65536):
            got.append(chunk)
    except BlockingIOError:
        pass
out = {"ok": b"".join(got) == data, "caps": ifc.caps if hasattr(ifc, "caps") else None,
       "link": list(port.link()), "stats": port.stats()}
k.close()
conn.close()
for _ in range(100):
    st.poll()
st.close()
port.close()
print(json.dumps(out))
"""


def test_echo_with_the_kernel_over_net_tap(tmp_path: Path) -> None:
    from ustack import netns

    reason = netns.unavailable_reason()
    if reason is not None:
        if REQUIRE_ALL:
            pytest.fail(f"USTACK_REQUIRE_ALL=1: {reason}")
        pytest.skip(reason)
    with netns.NetNs("dpdk") as ns:
        out = _child(_TAP_CHILD, f"ustpy{os.getpid()}_tap", "4000000", wrap=ns.exec_argv())
    assert out["ok"], out
    s = out["stats"]
    assert s["opackets"] > 0 and s["oerrors"] == 0 and s["rx_lent"] > 0
    # The stack gets checksum and TSO offload from the driver, which does
    # them in software on net_tap: the PMD's own L4 checksums are wrong for
    # some multi-segment frames in DPDK 22.11 (drivers/dpdk/dpdk.c).
    # RXCSUM | TXCSUM | TSO4, and TXCSUM_IPV6 | TSO6 for IPv6.
    assert out["caps"] == 0x67 and s["tx_tso"] == 0 and s["tx_sw_csum"] > 0
    # Gather transmit: the stack's buffers went out by reference, never
    # flattened.
    assert s["tx_copied"] == 0


# Two queue pairs of one net_ring pair, each an interface of its own pair
# of stacks on its own subnet: each flow arrives whole on its own queue.
_QUEUES_CHILD = r"""
import json, sys
import ustack
from ustack import dpdk

prefix = sys.argv[1]
dpdk.eal_init(f"--no-huge -m 256 --no-shconf --no-pci --log-level=warning --file-prefix={prefix}")
a, b = dpdk.ring_pair("q" + prefix[-8:], queues=2)
pa, pb = dpdk.Port(a, queues=2), dpdk.Port(b, queues=2)
out = {}
stacks = []
for q in range(2):
    sa, sb = ustack.Stack(seed=10 + q), ustack.Stack(seed=20 + q)
    stacks += [sa, sb]
    sa.add_interface(pa.queue(q), f"dp{q}", f"198.18.{q}.1/24")
    sb.add_interface(pb.queue(q), f"dp{q}", f"198.18.{q}.2/24")
    srv = sb.create_server((f"198.18.{q}.2", 6000))
    cli = sa.create_connection((f"198.18.{q}.2", 6000), timeout=5)
    conn, _ = srv.accept()
    data = bytes([q + 1]) * 50000  # within the socket buffers: sendall returns
    cli.sendall(data)
    cli.shutdown(1)
    got = b""
    while chunk := conn.recv(65536):
        got += chunk
    out[f"queue{q}"] = got == data
    out[f"rx_frames{q}"] = sb.interface(f"dp{q}").stats["ipackets"]
    cli.close(); conn.close(); srv.close()
for s in stacks:
    s.close()
pa.close(); pb.close()
print(json.dumps(out))
"""


def test_two_queues_carry_their_own_flows() -> None:
    out = _child(_QUEUES_CHILD, f"ustpy{os.getpid()}_queues")
    assert out["queue0"] and out["queue1"], out
    assert out["rx_frames0"] > 30 and out["rx_frames1"] > 30
