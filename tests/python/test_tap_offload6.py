"""TCP over IPv6 between ustack and the Linux kernel over a TAP with the vnet
header offloads on (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6): the kernel hands
ustack GSO TCPv6 frames (taken whole, LRO) and, once TCP asks for it, ustack
hands the kernel TSO6 packets and IPv6 checksums to fill.  Both directions
byte-exact.  Runs in a network namespace of its own (root), 2001:2::/64 only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ustack
from ustack import netns

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "python_bindings")}
ENV.pop(netns.INSIDE_ENV, None)
REASON = netns.unavailable_reason()
needs_netns = pytest.mark.skipif(
    REASON is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1", reason=f"{REASON}"
)
# tcp_output asks for TSO over IPv6 (branch offload6-tcp): ustack's own
# segments then go to the kernel as TSO6 / checksum requests.
TCP_ASKS_TSO6 = True

_SCRIPT = r"""
import hashlib, json, random, socket, threading
from ustack.hostlink import HostLink

N = 4 << 20
up = random.Random(1).randbytes(N)
down = random.Random(2).randbytes(N)
res = {}

def kernel_side(srv):
    c, _ = srv.accept()
    got = bytearray()
    while len(got) < N:
        b = c.recv(1 << 16)
        if not b:
            break
        got += b
    res["kernel_got"] = hashlib.sha256(got).hexdigest()
    c.sendall(down)
    c.close()

with HostLink() as link:
    assert link.tap.offload if hasattr(link.tap, "offload") else True
    link.enable_ipv6("2001:2::1/64", "2001:2::2/64", kernel_ifname="ust0", static_neighbors=True)
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("2001:2::2", 9006))
    srv.listen(1)
    t = threading.Thread(target=kernel_side, args=(srv,))
    t.start()
    s = link.connect(("2001:2::2", 9006), timeout=10)
    sent = 0
    def pump():
        global sent
        while sent < N:
            try:
                k = s.send(up[sent:sent + (1 << 16)])
            except BlockingIOError:
                return False
            sent += k
        return True
    assert link.poll_until(pump, 60), sent
    got = bytearray()
    def drain():
        while True:
            try:
                b = s.recv(1 << 16)
            except BlockingIOError:
                return False
            if not b:
                return True
            got.extend(b)
    assert link.poll_until(drain, 60), len(got)
    s.close()
    link.poll_until(lambda: not t.is_alive(), 10)
    t.join(10)
    srv.close()
    res["up_ok"] = res.get("kernel_got") == hashlib.sha256(up).hexdigest()
    res["down_ok"] = bytes(got) == down
    res["tap"] = dict(link.driver_stats)
    res["tcp"] = {k: v for k, v in link.stack.netstat("tcp")["tcp"].items()
                  if k in ("tcps_rcvbadsum", "tcps_sndtotal", "tcps_sndpack")}
print("RESULT " + json.dumps(res))
"""


@needs_netns
@pytest.mark.skipif(not ustack.UST_HAS_INET6, reason="built with UST_INET6=0")
def test_tcp6_with_vnet_offload_against_the_kernel() -> None:
    with netns.NetNs("offload6") as ns:
        proc = subprocess.run(
            ns.exec_argv(sys.executable, "-c", _SCRIPT),
            env=ENV,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    res = json.loads(line[len("RESULT ") :])
    assert res["up_ok"] and res["down_ok"], res
    assert res["tcp"]["tcps_rcvbadsum"] == 0, res
    tap = res["tap"]
    assert tap["tx_errors"] == 0, res
    # The kernel sent GSO TCPv6 frames (TUN_F_TSO6), taken whole.
    assert tap["rx_gso"] > 0 and tap["rx_csum"] > 0, res
    if TCP_ASKS_TSO6:
        assert tap["tx_tso"] > 0 and tap["tx_csum"] > 0, res
