"""`ustack link`, the user-space netem (tools/link/ustack_link.c): two Linux
namespaces joined by two TAP devices that the link bridges through the seeded
fault injector.

Root only for the device tests: each makes its own namespaces (IPv6 off, static
neighbours, so that the link carries only the test's frames and the seeded fates
are predictable), addresses from 198.18.0.0/15, and checks that no namespace,
device or process is left behind.  The unit parsers run anywhere.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ustack import netns
from ustack.commands import link as cli
from ustack.commands.link import LinkProcess, find_program, predict_losses

REASON = netns.unavailable_reason() or (
    None if find_program() is not None else "ustack-link is not built (cmake --build build)"
)
root = pytest.mark.skipif(
    REASON is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1", reason=f"{REASON}"
)
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "python_bindings")}
MAC_A, MAC_B = "02:00:00:00:0a:01", "02:00:00:00:0b:01"
IP_A, IP_B = "198.18.0.1", "198.18.0.2"


def _ns() -> netns.NetNs:
    ns = netns.NetNs("link")
    for knob in ("all", "default"):
        ns.run("sysctl", "-qw", f"net.ipv6.conf.{knob}.disable_ipv6=1")
    return ns


@pytest.fixture
def pair() -> Iterator[tuple[netns.NetNs, netns.NetNs]]:
    a, b = _ns(), _ns()
    try:
        yield a, b
    finally:
        a.close()
        b.close()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert a.name not in listed and b.name not in listed


def _up(a: netns.NetNs, b: netns.NetNs, **fault: Any) -> LinkProcess:
    link = LinkProcess(f"tap:la@{a.name}", f"tap:lb@{b.name}", **fault)
    for ns, dev, mac, ip, peer, peer_mac in (
        (a, "la", MAC_A, IP_A, IP_B, MAC_B),
        (b, "lb", MAC_B, IP_B, IP_A, MAC_A),
    ):
        ns.run("ip", "link", "set", dev, "address", mac)
        ns.run("ip", "addr", "add", f"{ip}/24", "dev", dev)
        ns.run("ip", "neigh", "replace", peer, "lladdr", peer_mac, "dev", dev, "nud", "permanent")
    return link


def _gone(link: LinkProcess, a: netns.NetNs) -> None:
    """The program ended and its TAP went with it."""
    assert link.proc.poll() is not None
    assert a.run("ip", "link", "show", "la", check=False).returncode != 0


def _ping(ns: netns.NetNs, count: int, interval: float = 0.01) -> tuple[set[int], list[float]]:
    out = ns.run(
        "ping", "-n", "-c", str(count), "-i", str(interval), "-W", "1", IP_B, check=False
    ).stdout
    seqs = {int(m) for m in re.findall(r"icmp_seq=(\d+)", out)}
    rtts = [float(m) for m in re.findall(r"time=([0-9.]+) ms", out)]
    return seqs, rtts


def _expected_replies(count: int, seed: int, loss_ppm: int) -> set[int]:
    """icmp_seq (from 1) of the echoes that come back: request k is frame k-1
    of a2b; its reply, when the request passed, is the next frame of b2a."""
    pred = predict_losses(count, loss_ppm=loss_ppm, seed=seed)
    lost_a, lost_b = set(pred["a2b"]), set(pred["b2a"])
    replies, j = set(), 0
    for k in range(count):
        if k in lost_a:
            continue
        if j not in lost_b:
            replies.add(k + 1)
        j += 1
    return replies


SINK = textwrap.dedent(
    """
    import hashlib, socket, sys
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], 5001)); s.listen(1); print("ready", flush=True)
    c, _ = s.accept(); h = hashlib.sha256(); n = 0
    while True:
        d = c.recv(1 << 16)
        if not d: break
        h.update(d); n += len(d)
    print(n, h.hexdigest(), flush=True)
    """
)
SOURCE = textwrap.dedent(
    """
    import random, socket, sys, time
    n, seed = int(sys.argv[2]), int(sys.argv[3])
    data = random.Random(seed).randbytes(n)
    s = socket.create_connection((sys.argv[1], 5001), timeout=60)
    t0 = time.monotonic(); s.sendall(data); s.shutdown(socket.SHUT_WR)
    s.recv(1); print(f"{time.monotonic() - t0:.6f}", flush=True)
    """
)


def _transfer(a: netns.NetNs, b: netns.NetNs, nbytes: int, seed: int) -> float:
    """Sends nbytes from A to B; checks them; returns the sender's seconds."""
    import random

    sink = subprocess.Popen(
        b.exec_argv(sys.executable, "-c", SINK, IP_B), stdout=subprocess.PIPE, text=True
    )
    try:
        assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
        out = a.run(sys.executable, "-c", SOURCE, IP_B, str(nbytes), str(seed))
        n, digest = sink.stdout.readline().split()
        want = hashlib.sha256(random.Random(seed).randbytes(nbytes)).hexdigest()
        assert (int(n), digest) == (nbytes, want), f"seed {seed}"
        return float(out.stdout.strip())
    finally:
        sink.kill()
        sink.wait()


def test_units() -> None:
    assert cli.parse_percent("1%") == 10_000 and cli.parse_percent("0.1") == 1_000
    assert cli.parse_time("10ms") == 10_000_000 and cli.parse_time("10") == 10_000_000
    assert cli.parse_time("250us") == 250_000 and cli.parse_time("1s") == 10**9
    assert cli.parse_rate("1gbit") == 10**9 and cli.parse_rate("100mbit") == 10**8
    assert cli.parse_rate("1mbps") == 8 * 10**6
    for bad, fn in (("101%", cli.parse_percent), ("5 parsecs", cli.parse_time),
                    ("fast", cli.parse_rate), ("0gbit", cli.parse_rate)):  # fmt: skip
        with pytest.raises(ValueError):
            fn(bad)
    assert cli.parse_port("tap:la@ns1") == ("tap", "la", "ns1")
    assert cli.parse_port("dev:veth1") == ("dev", "veth1", None)
    with pytest.raises(ValueError):
        cli.parse_port("tun:x")


@pytest.mark.skipif(find_program() is None, reason="ustack-link is not built")
def test_predict_is_seeded() -> None:
    one = predict_losses(10_000, loss_ppm=10_000, seed=5)
    assert one == predict_losses(10_000, loss_ppm=10_000, seed=5)
    assert one != predict_losses(10_000, loss_ppm=10_000, seed=6)
    # 1% of 10,000 each way, within a broad binomial band; the two directions
    # draw from different streams.
    assert 50 < len(one["a2b"]) < 150 and 50 < len(one["b2a"]) < 150
    assert one["a2b"] != one["b2a"]


@root
def test_ping_and_tcp_through_the_link(pair: tuple[netns.NetNs, netns.NetNs]) -> None:
    a, b = pair
    link = _up(a, b, delay_ns=1_000_000, loss_ppm=5_000, seed=11)
    seqs, _ = _ping(a, 5, 0.05)
    assert seqs, "no echo came back"
    _transfer(a, b, 2 << 20, seed=11)
    c = link.stop()
    _gone(link, a)
    # Every frame taken was forwarded, lost or (none here) dropped.
    for d in ("a2b", "b2a"):
        k = c[d]
        assert k["rx_frames"] == k["forwarded"] + k["lost"] + k["dropped_queue"], (d, k)
        assert k["lost"] == len(predict_losses(k["rx_frames"], loss_ppm=5_000, seed=11)[d])
    assert c["a2b"]["rx_bytes"] > 2 << 20 and c["a2b"]["lost"] > 0


@root
def test_loss_follows_the_seed(pair: tuple[netns.NetNs, netns.NetNs]) -> None:
    a, b = pair
    count, ppm = 60, 200_000
    got: dict[int, list[set[int]]] = {}
    for seed in (21, 21, 22):
        link = _up(a, b, loss_ppm=ppm, seed=seed)
        seqs, _ = _ping(a, count)
        c = link.stop()
        _gone(link, a)
        # Only the echoes crossed the link, so each frame's fate is known.
        assert c["a2b"]["rx_frames"] == count, c
        pred = predict_losses(count, loss_ppm=ppm, seed=seed)
        assert c["a2b"]["lost"] == len(pred["a2b"]), f"seed {seed}: {c}"
        assert c["b2a"]["lost"] == len([i for i in pred["b2a"] if i < c["b2a"]["rx_frames"]])
        assert seqs == _expected_replies(count, seed, ppm), f"seed {seed}"
        got.setdefault(seed, []).append(seqs)
    assert got[21][0] == got[21][1] and got[21][0] != got[22][0]


@root
def test_delay_adds_to_the_rtt(pair: tuple[netns.NetNs, netns.NetNs]) -> None:
    a, b = pair
    link = _up(a, b, delay_ns=15_000_000, jitter_ns=2_000_000, seed=3)
    _, rtts = _ping(a, 5, 0.05)
    c = link.stop()
    _gone(link, a)
    assert len(rtts) == 5 and c["a2b"]["delayed"] == 5 and c["b2a"]["delayed"] == 5
    # 15 ms each way plus jitter up to 2 ms each way; broad upper bound (load).
    assert all(30.0 <= r < 30.0 + 4.0 + 100.0 for r in rtts), rtts


@root
def test_rate_limits_throughput(pair: tuple[netns.NetNs, netns.NetNs]) -> None:
    a, b = pair
    link = _up(a, b, rate_bps=20_000_000, limit=4096, seed=4)
    secs = _transfer(a, b, 2 << 20, seed=4)
    c = link.stop()
    _gone(link, a)
    mbit = (2 << 20) * 8 / secs / 1e6
    # Frames carry headers too: the goodput stays under the link rate; the
    # lower bound only says the link is not stuck (benchmarks measure).
    assert 2.0 < mbit < 20.0, f"{mbit:.1f} Mbit/s"
    assert c["a2b"]["dropped_queue"] == 0 and c["a2b"]["lost"] == 0


@root
def test_drop_byte_drops_the_last_segment_once(pair: tuple[netns.NetNs, netns.NetNs]) -> None:
    a, b = pair
    size = 10 * 1024
    link = _up(a, b, delay_ns=2_000_000, drop_byte=size, seed=5)
    _transfer(a, b, size, seed=5)
    c = link.stop()
    _gone(link, a)
    assert c["a2b"]["dropped_chosen"] == 1 and c["b2a"]["dropped_chosen"] == 0, c


@root
def test_cli_makes_and_removes_namespaces() -> None:
    tag = f"{os.getpid()}"
    na, nb = f"ustack-linkcli-{tag}-a", f"ustack-linkcli-{tag}-b"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ustack", "link", "--netns", "--addr-a", "198.18.0.1/24",
         "--addr-b", "198.18.0.2/24", "--delay", "5ms", "--loss", "0%", "--seed", "9",
         "--duration", "3", "--json", "--progress", f"tap:la@{na}", f"tap:lb@{nb}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 5
        while not os.path.exists(f"/run/netns/{nb}") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        ping = subprocess.run(
            ["ip", "netns", "exec", na, "ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.0.2"],
            capture_output=True, text=True,
        )  # fmt: skip
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "2 received" in ping.stdout, ping.stdout + ping.stderr
    import json

    final = json.loads(out.strip().splitlines()[-1])
    assert final["a2b"]["forwarded"] >= 2 and final["b2a"]["delayed"] >= 2
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert na not in listed and nb not in listed
    left = subprocess.run(["pgrep", "-f", f"ustack-link.*{na}"], capture_output=True, text=True)
    assert left.stdout.strip() == ""


def test_cli_rejects_bad_options() -> None:
    for argv in (["--loss", "150%", "tap:a", "tap:b"], ["--rate", "fast", "tap:a", "tap:b"],
                 ["tun:a", "tap:b"], ["--addr-a", "10.0.0.1/24", "tap:a", "tap:b"]):  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-m", "ustack", "link", *argv], capture_output=True, text=True,
            env=ENV,
        )  # fmt: skip
        assert proc.returncode == 2, (argv, proc.stderr)


@root
def test_duplicate_and_reorder_are_counted(pair: tuple[netns.NetNs, netns.NetNs]) -> None:
    a, b = pair
    link = _up(a, b, duplicate_ppm=300_000, reorder_ppm=300_000, reorder_ns=5_000_000, seed=8)
    out = a.run("ping", "-n", "-c", "30", "-i", "0.01", "-W", "1", IP_B, check=False).stdout
    c = link.stop()
    _gone(link, a)
    for d in ("a2b", "b2a"):
        k = c[d]
        assert k["duplicated"] > 0 and k["reordered"] > 0, (d, k)
        # Each frame leaves once, twice when duplicated; none lost.
        assert k["forwarded"] == k["rx_frames"] + k["duplicated"], (d, k)
    assert "DUP!" in out, out
