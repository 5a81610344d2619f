"""Many cores on DPDK: ``ustack serve --stacks 2 --driver dpdk`` against the
real kernel, a threaded StackGroup on the two queue pairs of a net_tap port
(the kernel's TAP device gets two queues), in a namespace of its own.

* 200 concurrent kernel connections to ``--http`` (a Python asyncio client
  pool in the namespace, each checking the SHA-256 of /bytes/N), 20 more
  over IPv6, 16 through ``--echo`` and 8 into ``--discard`` at the same
  time: all byte-exact;
  both stacks accept connections, both queues receive frames, the summary
  and the control socket's JSON report the steering counts (frames the
  kernel put on the other stack's queue, re-steered) and the port's
  counters, and no hand-off ring overflowed;
* the user's port: a net_memif server with two queue pairs named in
  --dpdk-args (no namespace) serves a peer process whose two stacks use a
  2-queue memif client, byte-exact;
* the option checks: --stacks with --driver dpdk is accepted, netmap and
  --pcap are refused, and so are more than 4 stacks on net_tap (no root
  needed).

The EAL runs without hugepages (``--no-huge``), as every DPDK test here.
Root, netns and ustack built with libdpdk are needed: skipped with the
reason otherwise, and when the EAL cannot start on this machine; under
USTACK_REQUIRE_ALL=1 (CI) those are failures.  No EAL runtime folder, no
namespace and no device may be left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from live_cli import ENV, command_namespace, run_cli, show, unavailable_reason

from ustack import dpdklink, netns
from ustack.commands import serve
from ustack.grouplinks import GroupDpdkLink

REQUIRE_ALL = os.environ.get("USTACK_REQUIRE_ALL") == "1"
REASON = unavailable_reason((), "dpdk")
SEED = int(os.environ.get("USTACK_TEST_SEED", "18"))
RUNTIME = Path("/var/run/dpdk")
EAL_FAILED = "the DPDK EAL did not start"

# HTTP_COUNT connections to --http at once (all open before any asks),
# each asking /bytes/N for its own N and checking the body's SHA-256;
# meanwhile ECHO_COUNT connections send a seeded pattern through --echo
# and read it back, and DISCARD_COUNT send DISCARD_BYTES into --discard.
CLIENT = textwrap.dedent(
    """
    import asyncio, hashlib, random, resource, sys
    import ustack.pattern as pattern

    HOST, HOST6 = "198.18.0.1", "2001:2::1"
    HTTP, ECHO, DISCARD = (int(a) for a in sys.argv[1:4])
    HTTP_COUNT, V6_COUNT, ECHO_COUNT, DISCARD_COUNT, DISCARD_BYTES, SEED = (
        int(a) for a in sys.argv[4:10])
    total = HTTP_COUNT + V6_COUNT + ECHO_COUNT + DISCARD_COUNT
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * total + 64)), hard))
    rng = random.Random(SEED)
    sizes = [rng.randrange(1000, 60000) for _ in range(HTTP_COUNT + V6_COUNT)]
    echoes = [rng.randbytes(rng.randrange(10000, 200000)) for _ in range(ECHO_COUNT)]

    async def http(i, host, barrier):
        size = sizes[i]
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, HTTP), 60)
        if barrier is not None:
            await asyncio.wait_for(barrier.wait(), 90)  # every connection open at once
        request = f"GET /bytes/{size} HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
        writer.write(request.encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 90)
        writer.close()
        head, _, body = data.partition(b"\\r\\n\\r\\n")
        return head.startswith(b"HTTP/1.1 200") and len(body) == size and (
            hashlib.sha256(body).hexdigest() == pattern.sha256(size))

    async def echo(i):
        data = echoes[i]
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, ECHO), 60)

        async def send():
            writer.write(data)
            await writer.drain()
            writer.write_eof()

        sender = asyncio.create_task(send())
        got = await asyncio.wait_for(reader.readexactly(len(data)), 90)
        await sender
        writer.close()
        return got == data

    async def discard(i):
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, DISCARD), 60)
        chunk = bytes(range(256)) * 256
        for _ in range(DISCARD_BYTES // len(chunk)):
            writer.write(chunk)
            await writer.drain()
        writer.write_eof()
        rest = await asyncio.wait_for(reader.read(), 60)  # the server closes: EOF
        writer.close()
        return rest == b""

    async def main():
        barrier = asyncio.Barrier(HTTP_COUNT)
        jobs = [http(i, HOST, barrier) for i in range(HTTP_COUNT)]
        jobs += [http(HTTP_COUNT + i, HOST6, None) for i in range(V6_COUNT)]
        jobs += [echo(i) for i in range(ECHO_COUNT)]
        jobs += [discard(i) for i in range(DISCARD_COUNT)]
        results = await asyncio.gather(*jobs, return_exceptions=True)
        kinds = [("http", HTTP_COUNT), ("http6", V6_COUNT), ("echo", ECHO_COUNT),
                 ("discard", DISCARD_COUNT)]
        at = 0
        failed = False
        for kind, n in kinds:
            mine = results[at : at + n]
            at += n
            good = sum(1 for r in mine if r is True)
            print(f"client: {kind} {good}/{n} byte-exact", flush=True)
            bad = [r for r in mine if r is not True]
            if bad:
                failed = True
                print(f"client: {kind} first failures: {bad[:5]!r}", flush=True)
        return 1 if failed else 0

    sys.exit(asyncio.run(main()))
    """
)


def _ours() -> set[str]:
    """The EAL runtime folders the CLI makes (ustack-serve-<pid>)."""
    if not RUNTIME.is_dir():
        return set()
    return {p.name for p in RUNTIME.iterdir() if p.name.startswith("ustack-serve-")}


def _skip_if_no_eal(proc: subprocess.CompletedProcess[str]) -> None:
    """The EAL could not start on this machine: a skip with DPDK's reason
    (a failure under USTACK_REQUIRE_ALL=1)."""
    if proc.returncode != 0 and EAL_FAILED in proc.stderr:
        reason = proc.stderr.strip().splitlines()[-1]
        if REQUIRE_ALL:
            pytest.fail(f"USTACK_REQUIRE_ALL=1: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.mark.skipif(REASON is not None and not REQUIRE_ALL, reason=f"{REASON}")
def test_serve_two_stacks_on_dpdk_queue_pairs(tmp_path: Path) -> None:
    http_count, v6_count, echo_count, discard_count = 200, 20, 16, 8
    discard_bytes = 2 * 1024 * 1024
    client = tmp_path / "client.py"
    client.write_text(CLIENT)
    ctl = tmp_path / "serve.sock"
    snap_path = tmp_path / "snap.json"
    run = (
        f"{sys.executable} {client} 8080 7 9 {http_count} {v6_count} {echo_count} "
        f"{discard_count} {discard_bytes} {SEED} && "
        f"{sys.executable} -m ustack stats --json --control {ctl} > {snap_path}"
    )
    before = _ours()
    with command_namespace("stacksdpdk", "serve --stacks 2 --driver dpdk's net_tap device") as ns:
        proc = run_cli(
            ns,
            "serve",
            "--stacks",
            "2",
            "--driver",
            "dpdk",
            "--http",
            "8080",
            "--echo",
            "7",
            "--discard",
            "9",
            "--address",
            "2001:2::1/64",
            "--control",
            str(ctl),
            "--run",
            run,
            timeout=300,
        )
    assert not (_ours() - before), f"EAL runtime folders left behind: {_ours() - before}"
    _skip_if_no_eal(proc)
    why = f"seed {SEED}\n{show(proc)}"
    assert proc.returncode == 0, why
    for kind, n in (
        ("http", http_count),
        ("http6", v6_count),
        ("echo", echo_count),
        ("discard", discard_count),
    ):
        assert f"client: {kind} {n}/{n} byte-exact" in proc.stdout, why

    # Every service listened on both stacks; the SYNs' hashes spread the
    # connections over both.
    per_stack = {}
    for kind, port, n in (("http", 8080, http_count + v6_count), ("echo", 7, echo_count)):
        m = re.search(rf"{kind}:{port}: (\d+) connections \(per stack: (\d+), (\d+)\)", proc.stdout)
        assert m is not None, why
        assert int(m.group(1)) == n, why
        per_stack[kind] = (int(m.group(2)), int(m.group(3)))
    assert min(per_stack["http"]) > 0, why
    m = re.search(
        r"discard:9: (\d+) connections \(per stack: \d+, \d+\), (\d+) bytes in", proc.stdout
    )
    assert m is not None and int(m.group(1)) == discard_count, why
    assert int(m.group(2)) == discard_count * discard_bytes, why

    # The summary: the port's counters, the steering line and one per stack.
    assert "ustack on ust0 (198.18.0.1, kernel 198.18.0.2; 2001:2::1, kernel 2001:2::2)" in (
        proc.stdout
    ), why
    m = re.search(r"frames sent \(dpdk: (\d+) ipackets, \d+ ibytes, (\d+) opackets", proc.stdout)
    assert m is not None and int(m.group(1)) > 0 and int(m.group(2)) > 0, why
    m = re.search(r"steering \(2 stacks\): (\d+) frames re-steered .*?, (\d+) dropped", proc.stdout)
    assert m is not None, why
    assert int(m.group(2)) == 0, why  # no hand-off ring overflowed
    assert len(re.findall(r"\tstack \d: ", proc.stdout)) == 2, why

    # The control socket's JSON, taken once the clients were done.
    snap = json.loads(snap_path.read_text())
    assert snap["driver"] == "dpdk" and snap["dpdk"]["ipackets"] > 0, snap
    assert [s["index"] for s in snap["stacks"]] == [0, 1], snap
    accepted = http_count + v6_count + echo_count + discard_count
    assert sum(s["accepted"] for s in snap["stacks"]) == accepted, snap["stacks"]
    rss = snap["rss"]
    assert rss["rss_ring_full"] == 0, rss
    s0, s1 = (s["rss"] for s in snap["stacks"])
    # Both queues received frames from the kernel (local or re-steered).
    for s in (s0, s1):
        assert s["rss_local"] + s["rss_steered_out"] > 0, snap["stacks"]
    # What one stack steered out, the other took in; the group's counts
    # are the stacks' sums.
    assert s0["rss_steered_out"] == s1["rss_steered_in"], snap["stacks"]
    assert s1["rss_steered_out"] == s0["rss_steered_in"], snap["stacks"]
    assert rss["rss_steered_out"] == s0["rss_steered_out"] + s1["rss_steered_out"], snap
    assert snap["stack"]["rx_frames"] == sum(s["stack"]["rx_frames"] for s in snap["stacks"])


# The peer of the memif test: a group of two threaded stacks on a 2-queue
# net_memif client port (an EAL of its own, in the process --run starts),
# each opening connections to serve's /bytes/N and checking the SHA-256.
PEER = textwrap.dedent(
    """
    import hashlib, sys
    from ustack import dpdk, dpdklink, pattern
    from ustack.group import StackGroup

    sock_path, prefix, count, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    vdev = f"--vdev=net_memif0,role=client,socket={sock_path},socket-abstract=no"
    dpdklink.start_eal(dpdklink.eal_arguments(vdev, None, prefix))
    port = dpdk.Port("net_memif0", queues=2)
    group = StackGroup(2, seed=seed)
    group.attach("dp0", port, address="198.18.1.2/24")
    group.start()
    good = 0
    for i in range(count):
        size = 50000 + 1000 * i
        s = group.stacks[i % 2].create_connection(("198.18.1.1", 8080), timeout=20)
        request = f"GET /bytes/{size} HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
        s.sendall(request.encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        s.close()
        body = data.partition(b"\\r\\n\\r\\n")[2]
        good += hashlib.sha256(body).hexdigest() == pattern.sha256(size)
    print(f"peer: {good}/{count} byte-exact", flush=True)
    group.close()
    port.close()
    sys.exit(0 if good == count else 1)
    """
)


@pytest.mark.skipif(REASON is not None and not REQUIRE_ALL, reason=f"{REASON}")
def test_serve_two_stacks_on_the_users_memif_port(tmp_path: Path) -> None:
    """The user's port (a net_memif server named in --dpdk-args, no
    namespace) with two queue pairs, against a peer process whose two
    stacks use a 2-queue memif client: every transfer byte-exact."""
    peer = tmp_path / "peer.py"
    peer.write_text(PEER)
    memif = f"socket={tmp_path / 'm.sock'},socket-abstract=no"
    peer_prefix = f"ustpeer{os.getpid()}"
    run = f"{sys.executable} {peer} {tmp_path / 'm.sock'} {peer_prefix} 8 {SEED}"
    env = {k: v for k, v in ENV.items() if k != netns.INSIDE_ENV}
    before = _ours()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ustack", "serve", "--stacks", "2"]
            + [f"--dpdk-args=--vdev=net_memif0,role=server,{memif}", "--http", "8080"]
            + ["--address", "198.18.1.1/24", "--no-control", "--run", run],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    finally:
        dpdklink.remove_runtime(peer_prefix)
    assert not (_ours() - before), f"EAL runtime folders left behind: {_ours() - before}"
    _skip_if_no_eal(proc)
    why = f"seed {SEED}\n{show(proc)}"
    assert proc.returncode == 0 and "peer: 8/8 byte-exact" in proc.stdout, why
    m = re.search(r"http:8080: 8 connections \(per stack: (\d+), (\d+)\)", proc.stdout)
    assert m is not None, why
    assert "ustack on net_memif0 (198.18.1.1" in proc.stdout, why
    m = re.search(r"steering \(2 stacks\): (\d+) frames re-steered .*?, (\d+) dropped", proc.stdout)
    assert m is not None and int(m.group(2)) == 0, why


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)
    return parser.parse_args(["--http", "80", *argv])


def test_stacks_options_with_dpdk() -> None:
    assert serve._stacks_problem(_args("--stacks", "2", "--driver", "dpdk")) is None
    assert serve._stacks_problem(_args("--stacks", "2", "--dpdk-port", "0000:03:00.0")) is None
    netmap = serve._stacks_problem(_args("--stacks", "2", "--driver", "netmap"))
    assert netmap is not None and "dpdk" in netmap
    pcap = serve._stacks_problem(_args("--stacks", "2", "--driver", "dpdk", "--pcap", "x.pcap"))
    assert pcap is not None and "--pcap" in pcap
    # DPDK 22.11's net_tap crashes when a port with more than 4 queue pairs
    # starts: refused before the EAL starts.
    with pytest.raises(ValueError, match="at most 4 queue pairs"):
        GroupDpdkLink(nstacks=5)
