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
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ustack import dpdk

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


def _run(tmp_path: Path, nbytes: int, *, zero_copy: bool = True, caps: str = "all") -> Any:
    prefix = f"ustpy{os.getpid()}_{tmp_path.name[-12:]}"
    env = dict(os.environ)
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = str(root / "python_bindings") + os.pathsep + env.get("PYTHONPATH", "")
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, prefix, str(nbytes), "1" if zero_copy else "0", caps],
            capture_output=True,
            text=True,
            timeout=180,
            env=env,
        )
    finally:
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


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
    if caps == "all":
        # net_ring has no offload: TSO frames cut by the driver in software.
        assert sa["tx_sw_csum"] > 0 and sa["tx_tso"] == 0
    else:
        assert sa["tx_sw_csum"] == 0
    assert out["link"][0] is True
