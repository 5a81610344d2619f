"""Many cores against the real kernel: a threaded StackGroup on a
multi-queue TAP device (one queue per stack), in a namespace of its own.

* ``ustack serve --stacks 2 --http PORT`` serves 1,000 concurrent kernel
  connections (a Python asyncio client pool in the namespace, each checking
  the SHA-256 of /bytes/N), all byte-exact, the summary reporting each
  stack's connections and the re-steered frame count: none when the TAP's
  steering program is installed (the summary says so), since the kernel
  then sends every frame on its owner's queue, SYNs included;
* outbound connections from every stack to a kernel server all complete,
  and their replies land on their own stack.  With the steering program
  nothing at all is re-steered, handshakes included; without it
  (rss_steer=False, the old behaviour) the kernel's TAP sends a flow's
  packets back on the queue its last frame came from once it has seen one,
  so only the handshake's SYN-ACK may be re-steered, never a frame of the
  transfers (rss_steered_in unchanged);
* a stalled stack (its lock held for 2 s) does not stop the other: kernel
  connections whose SYN reached stack 0's queue and hash to stack 0
  complete during the stall, and every one completes after it.

Root only (CI runs as root); each test makes its own namespace and removes
it, with addresses from 198.18.0.0/15.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from live_cli import ENV, command_namespace, run_cli, show, unavailable_reason

from ustack import netns, pattern

REASON = netns.unavailable_reason()
pytestmark = pytest.mark.skipif(
    REASON is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
    reason=f"{REASON}",
)
SEED = int(os.environ.get("USTACK_TEST_SEED", "18"))

# 1,000 kernel connections at once: all connect, then all ask for /bytes/N
# (N differs per connection) and check the body's SHA-256 against the pattern.
CLIENT = textwrap.dedent(
    """
    import asyncio, hashlib, resource, sys
    import ustack.pattern as pattern

    HOST, PORT, COUNT = "198.18.0.1", int(sys.argv[1]), int(sys.argv[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * COUNT + 64)), hard))

    async def one(i, barrier):
        size = 1000 + (i * 37) % 20000
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), 60)
        await asyncio.wait_for(barrier.wait(), 90)  # every connection open at once
        request = f"GET /bytes/{size} HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
        writer.write(request.encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 60)
        writer.close()
        head, _, body = data.partition(b"\\r\\n\\r\\n")
        ok = head.startswith(b"HTTP/1.1 200") and len(body) == size and (
            hashlib.sha256(body).hexdigest() == pattern.sha256(size))
        return ok

    async def main():
        barrier = asyncio.Barrier(COUNT)
        results = await asyncio.gather(*(one(i, barrier) for i in range(COUNT)),
                                       return_exceptions=True)
        good = sum(1 for r in results if r is True)
        errors = [r for r in results if r is not True]
        print(f"client: {good}/{COUNT} byte-exact", flush=True)
        if errors:
            print(f"client: first failures: {errors[:5]!r}", flush=True)
        return 0 if good == COUNT else 1

    sys.exit(asyncio.run(main()))
    """
)


def test_serve_two_stacks_1000_concurrent_kernel_connections(tmp_path: Path) -> None:
    count = 1000
    client = tmp_path / "client.py"
    client.write_text(CLIENT)
    run = f"{sys.executable} {client} 8080 {count}"
    with command_namespace("stacks", "serve --stacks 2's TAP device") as ns:
        proc = run_cli(
            ns,
            "serve",
            "--stacks",
            "2",
            "--http",
            "8080",
            "--no-control",
            "--run",
            run,
            timeout=300,
        )
    assert proc.returncode == 0, show(proc)
    assert f"client: {count}/{count} byte-exact" in proc.stdout, show(proc)
    m = re.search(r"http:8080: (\d+) connections \(per stack: (\d+), (\d+)\)", proc.stdout)
    assert m is not None, show(proc)
    assert int(m.group(1)) == count, show(proc)
    # Both stacks took connections (the SYNs' hashes spread them).
    assert int(m.group(2)) > 0 and int(m.group(3)) > 0, show(proc)
    m = re.search(r"steering \(2 stacks\): (\d+) frames re-steered .*?, (\d+) dropped", proc.stdout)
    assert m is not None, show(proc)
    assert int(m.group(2)) == 0, show(proc)  # no hand-off ring overflowed
    if "steering program installed" in proc.stdout:
        # Every frame the kernel sent arrived on its owner's queue.
        assert int(m.group(1)) == 0, show(proc)
    else:
        assert "steering program refused" in proc.stdout, show(proc)
    assert len(re.findall(r"\tstack \d: ", proc.stdout)) == 2, show(proc)


AFXDP_REASON = unavailable_reason((), "afxdp")


@pytest.mark.skipif(
    AFXDP_REASON is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
    reason=f"{AFXDP_REASON}",
)
def test_serve_two_stacks_on_afxdp_queues() -> None:
    """--driver afxdp: a stack per AF_XDP queue of a 2-queue veth; the
    kernel's end sends on either queue by its own hash, the group steers."""
    size = 300_000
    run = " ; ".join([f"curl -s --max-time 30 198.18.0.1:8080/bytes/{size} | sha256sum"] * 8)
    with command_namespace("stacks", "serve --stacks 2's veth") as ns:
        proc = run_cli(
            ns,
            "serve",
            "--stacks",
            "2",
            "--driver",
            "afxdp",
            "--http",
            "8080",
            "--no-control",
            "--run",
            run,
        )
    assert proc.returncode == 0, show(proc)
    assert proc.stdout.count(pattern.sha256(size)) == 8, show(proc)
    m = re.search(r"http:8080: 8 connections \(per stack: (\d+), (\d+)\)", proc.stdout)
    assert m is not None, show(proc)
    assert "afxdp:" in proc.stdout and "steering (2 stacks)" in proc.stdout, show(proc)


def test_serve_stacks_control_json_and_stats(tmp_path: Path) -> None:
    ctl = tmp_path / "serve.sock"
    out = tmp_path / "snap.json"
    text = tmp_path / "stats.txt"
    run = (
        "for i in 1 2 3 4 5 6 7 8; do curl -s 198.18.0.1:8080/bytes/5000 >/dev/null; done; "
        f"{sys.executable} -m ustack stats --json --control {ctl} > {out} && "
        f"{sys.executable} -m ustack stats --control {ctl} > {text}"
    )
    with command_namespace("stacks", "serve --stacks 2's TAP device") as ns:
        proc = run_cli(
            ns, "serve", "--stacks", "2", "--http", "8080", "--control", str(ctl), "--run", run
        )
    assert proc.returncode == 0, show(proc)
    snap = json.loads(out.read_text())
    assert [s["index"] for s in snap["stacks"]] == [0, 1]
    assert sum(s["accepted"] for s in snap["stacks"]) == 8
    assert snap["services"][0]["accepted"] == 8 and len(snap["services"][0]["per_stack"]) == 2
    assert {"rss_steered_out", "rss_steered_in", "rss_ring_full"} <= set(snap["rss"])
    out_per_stack = [s["rss"]["rss_steered_out"] for s in snap["stacks"]]
    assert snap["rss"]["rss_steered_out"] == sum(out_per_stack)
    assert snap["stack"]["rx_frames"] == sum(s["stack"]["rx_frames"] for s in snap["stacks"])
    printed = text.read_text()
    assert "rss.rss_steered_out" in printed and "steered out" in printed, printed


def test_serve_stacks_help_and_refusals() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "ustack", "serve", "--help"],
        capture_output=True,
        text=True,
        env=ENV,
        check=True,
    ).stdout
    assert "--stacks N" in help_text and "IFF_MULTI_QUEUE" in help_text
    proc = subprocess.run(
        [sys.executable, "-m", "ustack", "serve", "--stacks", "2", "--http", "80", "--tap", "x"],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    assert proc.returncode == 2 and "--stacks 2" in proc.stderr, proc.stderr


# In the namespace: a threaded group of 2 stacks on a 2-queue TAP (ust0),
# ustack 198.18.0.1, the kernel 198.18.0.2.
PRELUDE = textwrap.dedent(
    """
    import os, socket, sys, threading, time
    import ustack
    from ustack.hostlink import GroupHostLink

    STEER = os.environ.get("STEER", "1") == "1"
    # A key of our own (else the standard one): the group's and the program's.
    KEY = bytes.fromhex(os.environ["KEY"]) if os.environ.get("KEY") else None
    link = GroupHostLink(nstacks=2, seed=int(os.environ.get("SEED", "18")), rss_steer=STEER,
                         rss_key=KEY)
    group = link.group
    PROGRAM = link.tap.rss_steered
    assert PROGRAM or not STEER or link.tap.rss_steering < 0, link.tap.rss_steering
    KERNEL, USTACK = "198.18.0.2", "198.18.0.1"
    """
)

# Outbound: M connections from each stack (a thread each) to a kernel echo
# server.  With the TAP's steering program the kernel sends every frame on
# the queue its Toeplitz hash names, and connect() picked a port whose
# replies hash to the connecting stack: nothing is re-steered, from the
# first SYN-ACK on (rss_steered_in and _out stay 0 for the whole run).
# Without it, tun's automatic flow steering sends a flow's packets to the
# queue we last wrote one of its frames on, but it learns the flow only
# after the kernel has answered our SYN (the SYN-ACK goes out inside our
# write, before tun records the flow): so the handshake may re-steer one
# frame per connection, and from then on nothing: every data reply lands
# on the stack that made the connection.
OUTBOUND = PRELUDE + textwrap.dedent(
    """
    srv = socket.create_server((KERNEL, 9000), backlog=256)
    def echo(conn):
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)
    def kernel_server():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=echo, args=(conn,), daemon=True).start()
    threading.Thread(target=kernel_server, daemon=True).start()

    def steered_in():
        return [group.rss_stats_of(i)["rss_steered_in"] for i in range(2)]

    # ARP first (its frames are replicated, not steered).
    for st in group.stacks:
        c = st.create_connection((KERNEL, 9000), timeout=10)
        c.sendall(b"hello"); assert c.recv(5) == b"hello"; c.close()
    time.sleep(0.2)
    M = 25
    socks = {}
    def connect(st, k):
        socks[st.index, k] = st.create_connection((KERNEL, 9000), timeout=20)
    before = steered_in()
    threads = [threading.Thread(target=connect, args=(st, k)) for st in group.stacks
               for k in range(M)]
    for t in threads: t.start()
    for t in threads: t.join(60)
    assert len(socks) == 2 * M, f"{len(socks)} of {2 * M} connected"
    time.sleep(0.2)
    handshake = steered_in()
    results = []
    lock = threading.Lock()
    def transfer(index, k):
        c = socks[index, k]
        data = os.urandom(20000 + k)
        c.sendall(data)
        got = b""
        while len(got) < len(data):
            part = c.recv(65536)
            if not part:
                break
            got += part
        port = c.getsockname()[1]
        q = ustack.rss_queue(ustack.rss_hash_v4(KERNEL, USTACK, 9000, port, key=KEY), 2)
        with lock:
            results.append((index, q, got == data))
    threads = [threading.Thread(target=transfer, args=key) for key in socks]
    for t in threads: t.start()
    for t in threads: t.join(60)
    assert not any(t.is_alive() for t in threads), "transfers still running"
    time.sleep(0.2)
    after = steered_in()
    for c in socks.values():
        c.close()
    assert len(results) == 2 * M, results
    assert all(ok for _, _, ok in results), results
    assert all(i == q for i, q, _ in results), results  # replies hash to their stack
    hs = [h - b for h, b in zip(handshake, before)]
    data = [a - h for a, h in zip(after, handshake)]
    total = group.rss_stats
    print(f"steering program {PROGRAM}: re-steered in: handshake {hs}, data {data}, "
          f"whole run {total['rss_steered_in']} in, {total['rss_steered_out']} out; "
          f"lport_tries {[group.rss_stats_of(i)['lport_tries'] for i in range(2)]}", flush=True)
    if PROGRAM:
        # Every frame of every connection on its own stack, handshakes included.
        assert hs == [0, 0], hs
        assert total["rss_steered_in"] == 0 and total["rss_steered_out"] == 0, total
    assert sum(hs) <= 2 * M, hs  # at most the SYN-ACK of each connection
    assert data == [0, 0], data  # every reply of the transfers on its own stack
    print("OUTBOUND OK", flush=True)
    link.close()
    """
)

# Stall: stack 1's lock held for 2 s while kernel clients keep connecting;
# a worker thread per stack answers its listener.
STALL = PRELUDE + textwrap.dedent(
    """
    PORT = 9100
    listeners = [st.create_server((USTACK, PORT)) for st in group.stacks]
    def worker(ls):
        ls.settimeout(0.2)
        while True:
            try:
                conn, _ = ls.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(10)
            try:
                conn.recv(10)
                conn.sendall(b"ok")
            finally:
                conn.close()
    for ls in listeners:
        threading.Thread(target=worker, args=(ls,), daemon=True).start()
    c = socket.create_connection((USTACK, PORT), timeout=10)  # ARP both ways
    c.sendall(b"x"); assert c.recv(2) == b"ok"; c.close()

    done = []
    lock = threading.Lock()
    stall = {}
    def client(k):
        s = socket.socket()
        s.settimeout(20)
        s.connect((USTACK, PORT))
        port = s.getsockname()[1]
        s.sendall(b"x")
        reply = s.recv(2)
        s.close()
        owner = ustack.rss_queue(ustack.rss_hash_v4(KERNEL, USTACK, port, PORT, key=KEY), 2)
        with lock:
            done.append((time.monotonic(), owner, reply == b"ok"))
    held = threading.Event()
    def hold():
        with group.stacks[1].locked():
            stall["start"] = time.monotonic()
            held.set()
            time.sleep(2.0)
            stall["end"] = time.monotonic()
    h = threading.Thread(target=hold)
    h.start()
    held.wait(5)
    clients = []
    for k in range(40):
        t = threading.Thread(target=client, args=(k,))
        t.start()
        clients.append(t)
        time.sleep(0.02)
    for t in clients: t.join(30)
    h.join()
    assert len(done) == 40 and all(ok for _, _, ok in done), done
    during = [(t, o) for t, o, _ in done if t < stall["end"]]
    print(f"{len(during)} of 40 completed during the stall, owners {[o for _, o in during]}")
    assert during, "no connection completed while stack 1 was stalled"
    assert all(o == 0 for _, o in during), during
    print("STALL OK", flush=True)
    for ls in listeners: ls.close()
    link.close()
    """
)


def _run_inside(
    script: str, steer: bool = True, key: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    with command_namespace("stacks", "the group's TAP device") as ns:
        return subprocess.run(
            ns.exec_argv(sys.executable, "-c", script),
            capture_output=True,
            text=True,
            env={
                **ENV,
                "SEED": str(SEED),
                "STEER": "1" if steer else "0",
                "KEY": key.hex() if key is not None else "",
            },
            timeout=180,
            check=False,
        )


# A key of the test's own (seeded): the program is generated from it.
OWN_KEY = bytes((SEED * 97 + i * 131 + (i * i) % 7) & 0xFF for i in range(40))


@pytest.mark.parametrize(
    ("steer", "key"),
    [(True, None), (True, OWN_KEY), (False, None)],
    ids=["program", "program_own_key", "no_program"],
)
def test_outbound_replies_land_on_their_own_stack(steer: bool, key: bytes | None) -> None:
    proc = _run_inside(OUTBOUND, steer, key)
    assert proc.returncode == 0 and "OUTBOUND OK" in proc.stdout, show(proc)
    assert f"steering program {steer}:" in proc.stdout, show(proc)


def test_a_stalled_stack_does_not_stop_the_other() -> None:
    proc = _run_inside(STALL)
    assert proc.returncode == 0 and "STALL OK" in proc.stdout, show(proc)
