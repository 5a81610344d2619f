"""A multi-queue TAP (``Tap(queues=2)``, Linux IFF_MULTI_QUEUE) against the kernel.

Root only: the test makes its own network namespace (198.18.0.0/15 inside it)
and removes it.  Two ordinary stacks (no group), both 198.18.0.1, each on one
queue of one TAP device; the kernel's side is 198.18.0.2.  Checked:

- the kernel spreads its flows over both queue descriptors (by its own flow
  hash: which queue a flow takes is the kernel's choice, not Toeplitz);
- frames written on either queue reach the kernel;
- per-queue counters, summed by ``Tap.stats``;
- tun's automatic flow steering (``rss_steer=False``: no steering
  program): once we write a frame of a flow on queue j, the kernel sends
  that flow's next frames to queue j (the report's fact for re-steer
  counts: a group's replies pull the flow to the queue of the stack that
  sent them);
- with the steering program (the default): every flow arrives on the queue
  its Toeplitz hash names (``rss_queue(rss_hash_v4(...), 2)``), and stays
  there whatever queue we write its replies on;
- ``queues=1`` is the one-queue device as before.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ustack import netns

REASON = netns.unavailable_reason()
pytestmark = pytest.mark.skipif(
    REASON is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
    reason=f"{REASON}",
)
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "python_bindings")}
FLOWS = 32

SCRIPT = textwrap.dedent(
    """
    import json, os, socket, subprocess, time
    import ustack
    from ustack.tap import Tap

    FLOWS = int(os.environ["UST_FLOWS"])
    STEER = os.environ["UST_STEER"] == "1"
    tap = Tap("ust0", queues=2, offload=os.environ.get("UST_OFFLOAD", "1") == "1",
              rss_steer=STEER)
    assert tap.rss_steered == STEER, tap.rss_steering_note()
    assert tap.queues == 2 and tap.queue(0).fileno() != tap.queue(1).fileno()
    assert tap.fileno() == tap.queue(0).fileno()
    sts = [ustack.Stack(seed=1 + i) for i in range(2)]
    ifcs = [st.add_interface(tap.queue(i), "tap0", "198.18.0.1/24") for i, st in enumerate(sts)]
    subprocess.run(["ip", "link", "set", "ust0", "up"], check=True)
    subprocess.run(["ip", "addr", "add", "198.18.0.2/24", "dev", "ust0"], check=True)
    # Static neighbours both ways: an ARP reply would leave on one queue only.
    subprocess.run(["ip", "neigh", "replace", "198.18.0.1", "lladdr", ifcs[0].mac,
                    "dev", "ust0", "nud", "permanent"], check=True)
    kmac = open("/sys/class/net/ust0/address").read().strip()
    for st, ifc in zip(sts, ifcs):
        st.arp_add(ifc, "198.18.0.2", kmac)
    socks = []
    for st in sts:
        s = st.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
        s.bind(("", 9000))
        s.setblocking(False)
        socks.append(s)
    ks = []
    for f in range(FLOWS):
        k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        k.bind(("198.18.0.2", 30000 + f))
        k.setblocking(False)
        ks.append(k)

    def kernel_round(r):
        for f, k in enumerate(ks):
            k.sendto(b"flow %d round %d" % (f, r), ("198.18.0.1", 9000))
        got = {}
        end = time.monotonic() + 10
        while len(got) < FLOWS and time.monotonic() < end:
            for q, (st, s) in enumerate(zip(sts, socks)):
                st.poll()
                while True:
                    try:
                        data, peer = s.recvfrom(2048)
                    except BlockingIOError:
                        break
                    f, rr = int(data.split()[1]), int(data.split()[3])
                    assert peer == ("198.18.0.2", 30000 + f), peer
                    if rr == r:
                        got[f] = q
            time.sleep(0.001)
        assert len(got) == FLOWS, (r, got)
        return got

    first = kernel_round(0)
    per_queue = [tap.queue_stats(i) for i in range(2)]
    # Replies: flow f answered from the other queue's stack, so written on
    # the queue it did not arrive on; every reply must reach the kernel.
    for f in range(FLOWS):
        q = 1 - first[f]
        socks[q].sendto(b"reply %d" % f, ("198.18.0.2", 30000 + f))
        sts[q].poll()
    replies = 0
    end = time.monotonic() + 10
    while replies < FLOWS and time.monotonic() < end:
        for st in sts:
            st.poll()
        for f, k in enumerate(ks):
            try:
                data = k.recv(2048)
            except BlockingIOError:
                continue
            assert data == b"reply %d" % f, data
            replies += 1
        time.sleep(0.001)
    second = kernel_round(1)
    moved = sum(1 for f in range(FLOWS) if second[f] == 1 - first[f])
    total = tap.stats
    qs = [tap.queue_stats(i) for i in range(2)]
    for key in total:
        assert total[key] == qs[0][key] + qs[1][key], key
    toeplitz = [ustack.rss_queue(ustack.rss_hash_v4("198.18.0.2", "198.18.0.1", 30000 + f,
                                                   9000), 2) for f in range(FLOWS)]
    print("RESULT " + json.dumps({
        "toeplitz": toeplitz,
        "first": [first[f] for f in range(FLOWS)],
        "second": [second[f] for f in range(FLOWS)],
        "moved": moved, "replies": replies, "per_queue_first": per_queue,
        "queues": qs, "total": total}))
    for s in socks:
        s.close()
    for st in sts:
        st.poll()
    for ifc in ifcs:
        ifc.detach()
    tap.close()
    for st in sts:
        st.close()

    # One queue: as before.
    one = Tap("ust1")
    assert one.queues == 1 and one.queue(0).fileno() == one.fileno()
    assert one.rss_steering == 0  # one queue: nothing to steer
    st = ustack.Stack()
    st.add_interface(one, "tap1", "198.18.2.1/24")
    try:
        st.add_interface(one.queue(0), "tap1b")
        raise AssertionError("queue 0 is the Tap: a second attach must be EBUSY")
    except ustack.Error:
        pass
    try:
        one.queue(1)
        raise AssertionError("queue 1 of a one-queue Tap")
    except ValueError:
        pass
    one.close()
    st.close()
    print("ONE-OK")
    """
)


def _run(offload: bool, steer: bool = False) -> dict[str, object]:
    with netns.NetNs("tapmq") as ns:
        proc = subprocess.run(
            ns.exec_argv(sys.executable, "-c", SCRIPT),
            capture_output=True,
            text=True,
            env={
                **ENV,
                "UST_OFFLOAD": "1" if offload else "0",
                "UST_FLOWS": str(FLOWS),
                "UST_STEER": "1" if steer else "0",
            },
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0 and "ONE-OK" in proc.stdout, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, object] = json.loads(line[len("RESULT ") :])
    print(f"offload={offload} steer={steer}: {result}")
    assert not netns.leaked(), netns.leaked()
    return result


@pytest.mark.parametrize("offload", [True, False])
def test_two_queue_tap_with_the_kernel(offload: bool) -> None:
    r = _run(offload)
    first = r["first"]
    assert isinstance(first, list)
    # The kernel spread 32 flows over both queues (all on one: p = 2^-31).
    assert 0 < sum(first) < FLOWS, first
    # Every reply, written on the queue its flow did not arrive on, reached
    # the kernel, and both queues wrote.
    assert r["replies"] == FLOWS
    queues = r["queues"]
    assert isinstance(queues, list)
    assert all(q["tx_frames"] > 0 and q["rx_frames"] > 0 for q in queues), queues
    # tun's automatic flow steering: every flow followed its replies.
    assert r["moved"] == FLOWS, r


@pytest.mark.parametrize("offload", [True, False])
def test_two_queue_tap_with_the_steering_program(offload: bool) -> None:
    r = _run(offload, steer=True)
    # Every flow on the queue its Toeplitz hash names, before and after
    # its replies were written on the other queue: no flow learning.
    assert r["first"] == r["toeplitz"], r
    assert r["second"] == r["toeplitz"], r
    assert r["moved"] == 0 and r["replies"] == FLOWS, r


FALLBACK = textwrap.dedent(
    """
    from ustack.errors import errname
    from ustack.tap import Tap

    a, b = Tap("ust0", queues=2), Tap("ust1", queues=3)
    assert a.rss_steering < 0 and errname(a.rss_steering) == "EPERM", a.rss_steering
    assert b.rss_steering == a.rss_steering, b.rss_steering
    assert not a.rss_steered and "refused" in a.rss_steering_note()
    a.close()
    b.close()
    print("FALLBACK-OK")
    """
)


@pytest.mark.skipif(shutil.which("capsh") is None, reason="no capsh to drop CAP_BPF")
def test_refused_steering_program_leaves_the_kernels_spreading() -> None:
    """Without CAP_BPF and CAP_SYS_ADMIN (unprivileged BPF off) the kernel
    refuses the program: the TAP still opens, says why, and one line (per
    process) goes to stderr."""
    with netns.NetNs("tapmq") as ns:
        proc = subprocess.run(
            ns.exec_argv(
                "capsh",
                "--drop=cap_bpf,cap_sys_admin,cap_perfmon",
                "--",
                "-c",
                f"{sys.executable} -c '{FALLBACK}'",
            ),
            capture_output=True,
            text=True,
            env=ENV,
            timeout=60,
            check=False,
        )
    if "unprivileged" in proc.stderr:
        pytest.skip(proc.stderr)
    assert proc.returncode == 0 and "FALLBACK-OK" in proc.stdout, proc.stdout + proc.stderr
    assert proc.stderr.count("no steering program") == 1, proc.stderr
