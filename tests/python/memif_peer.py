"""One ustack process on a net_memif port (tests/python/test_dpdk_memif.py runs two).

DPDK's EAL starts once per process, so every memif end is a process of its
own: this script, run by the tests as a subprocess.  It brings up the EAL
(``dpdklink.eal_arguments``: no hugepages, a --file-prefix of its own, and
the main lcore free to run on every CPU: EAL's default pins it to the first
one, so two peers would share a core and each frame would wait out the
other's time slice, about 4 ms),
creates ``net_memif0`` as server or client on a socket file
(``socket-abstract=no``: a path in the test's temporary directory; the server
removes a stale file first, which would block it), opens the port with
``--queues`` queue pairs and puts one stack on each queue, optionally behind
the wrapping fault driver (``--loss``, ``--reorder``).  Queue ``q`` carries
198.18.(100+q).0/24: the server is .1, the client .2.

- ``--role server``: each stack listens on port 5201 and reads every
  connection to EOF, hashing it; one JSON line per finished connection
  (``{"event": "done", "queue": q, "bytes": n, "sha256": ...}``), one per
  connection that died (``"aborted"``, the peer vanished), and progress lines
  every 64 MiB.  Exits 0 after ``--sessions`` finished connections.
- ``--role client``: on every queue at once, connects to the server and sends
  ``--bytes`` of ustack.pattern, then closes; ``{"event": "sent", ...}`` per
  queue.

Stdout is JSON lines; the first is ``{"event": "ready"}`` once the port is up.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from typing import Any

import ustack
import ustack.dpdk as dpdk
from ustack import dpdklink, errors, pattern

PORT = 5201
CHUNK = 1 << 18
PROGRESS = 64 << 20
TCP_STATS = (
    "tcps_sndrexmitpack",
    "tcps_rexmttimeo",
    "tcps_sack_recovery_episode",
    "tcps_rcvoopack",
    "tcps_rcvdupack",
    "tcps_sndpack",
    "tcps_rcvpack",
)


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def eal_args(prefix: str) -> list[str]:
    return dpdklink.eal_arguments("--log-level=error", prefix=prefix)


def memif_args(role: str, sock: str, queues: int) -> str:
    del queues  # memif sizes its rings from the port's queue count
    return f"role={role},id=0,socket={sock},socket-abstract=no"


def link_up(port: Any) -> bool:
    """Port.link() as a bool, whatever shape the binding returns."""
    link = port.link()
    if isinstance(link, tuple):
        return bool(link[0])
    if isinstance(link, dict):
        return bool(link.get("up", link.get("link_up", 0)))
    return bool(link)


def stacks_on(port: Any, args: argparse.Namespace, host: int) -> list[ustack.Stack]:
    stacks = []
    for q in range(args.queues):
        st = ustack.Stack(seed=args.seed + 2 * q + host)
        if args.rto_ms:
            # The link's round trip is tens of microseconds: FreeBSD's 30 ms
            # floor plus 200 ms slop would make every timeout-recovered loss
            # cost a quarter second (a data centre tunes these down too).
            st.sysctl("net.inet.tcp.rexmit_min", args.rto_ms)
            st.sysctl("net.inet.tcp.rexmit_slop", args.rto_ms)
        for item in args.sysctl:
            name, _, value = item.partition("=")
            st.sysctl(name, int(value))
        end: Any = port.queue(q)
        if args.loss or args.reorder:
            end = ustack.Fault(
                end, loss=args.loss, reorder=args.reorder, seed=args.seed * 7 + q + 100 * host
            )
        st.add_interface(end, f"dp{q}", f"198.18.{100 + q}.{host}/24")
        stacks.append(st)
    return stacks


class Sink:
    """One connection read to EOF and hashed."""

    def __init__(self, queue: int, so: Any) -> None:
        self.queue, self.so, self.n = queue, so, 0
        self.h = hashlib.sha256()
        self.next_progress = PROGRESS
        so.setblocking(False)

    def pump(self) -> str | None:
        """'done', 'aborted' or None (more to come)."""
        while True:
            try:
                data = self.so.recv(CHUNK)
            except BlockingIOError:
                return None
            except OSError as exc:
                say(event="aborted", queue=self.queue, bytes=self.n, error=str(exc))
                return "aborted"
            if not data:
                say(event="done", queue=self.queue, bytes=self.n, sha256=self.h.hexdigest())
                return "done"
            self.h.update(data)
            self.n += len(data)
            if self.n >= self.next_progress:
                say(event="progress", queue=self.queue, bytes=self.n)
                self.next_progress += PROGRESS


def serve(stacks: list[ustack.Stack], sessions: int, deadline: float) -> int:
    listeners = []
    for q, st in enumerate(stacks):
        lso = st.socket()
        lso.bind((f"198.18.{100 + q}.1", PORT))
        lso.listen(8)
        lso.setblocking(False)
        listeners.append(lso)
    say(event="ready")
    sinks: list[Sink] = []
    done = 0
    while done < sessions:
        for q, st in enumerate(stacks):
            st.poll()
            try:
                so, _ = listeners[q].accept()
                sinks.append(Sink(q, so))
                say(event="accepted", queue=q)
            except BlockingIOError:
                pass
        for s in list(sinks):
            r = s.pump()
            if r is not None:
                sinks.remove(s)
                s.so.close()
                done += r == "done"
        if time.monotonic() > deadline:
            say(event="timeout", finished=done)
            return 1
    for _ in range(2000):  # let the last FIN/ACKs leave
        for st in stacks:
            st.poll()
    return 0


def send_all(stacks: list[ustack.Stack], nbytes: int, deadline: float) -> int:
    socks = []
    for q, st in enumerate(stacks):
        so = st.socket()
        so.setblocking(False)
        so.connect_ex((f"198.18.{100 + q}.1", PORT))
        socks.append(so)
    sent = [0] * len(stacks)
    shut = [False] * len(stacks)
    block: list[tuple[int, memoryview]] = [(-1, memoryview(b""))] * len(stacks)
    say(event="ready")
    while not all(shut):
        for q, st in enumerate(stacks):
            st.poll()
            so = socks[q]
            while sent[q] < nbytes:
                idx, start = divmod(sent[q], pattern.BLOCK)
                if block[q][0] != idx:
                    block[q] = (idx, memoryview(pattern.block(idx)))
                end = min(pattern.BLOCK, start + nbytes - sent[q])
                try:
                    sent[q] += so.send(block[q][1][start:end])
                except (BlockingIOError, errors.ENOTCONN):  # ENOTCONN: handshake under way
                    break
            if sent[q] == nbytes and not shut[q]:
                so.shutdown(ustack.SHUT_WR)
                shut[q] = True
                say(event="sent", queue=q, bytes=nbytes)
        if time.monotonic() > deadline:
            say(event="timeout", sent=sent)
            return 1
    # Until the server has everything: the FIN acknowledged by the peer.
    t_end = time.monotonic() + 30
    while time.monotonic() < t_end:
        for st in stacks:
            st.poll()
        if all(not st.tcp_connections() or _all_fin_acked(st) for st in stacks):
            break
    for so in socks:
        so.close()
    for _ in range(2000):
        for st in stacks:
            st.poll()
    return 0


def _all_fin_acked(st: ustack.Stack) -> bool:
    return all(
        c.send_q == 0 and c.state_name in ("FIN_WAIT_2", "TIME_WAIT", "CLOSED")
        for c in st.tcp_connections()
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--role", choices=("server", "client"), required=True)
    ap.add_argument("--sock", required=True, help="memif socket file")
    ap.add_argument("--prefix", default=f"memif{os.getpid()}", help="EAL --file-prefix")
    ap.add_argument("--queues", type=int, default=1)
    ap.add_argument("--bytes", type=int, default=1 << 20)
    ap.add_argument("--sessions", type=int, default=1)
    ap.add_argument("--loss", type=float, default=0.0)
    ap.add_argument("--reorder", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sysctl", action="append", default=[], help="name=value, on every stack")
    ap.add_argument("--rto-ms", type=int, default=0, help="rexmit_min and rexmit_slop (ms)")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    if not dpdk.available():
        say(event="unavailable", why=dpdk.why_unavailable())
        return 77
    if args.role == "server" and os.path.exists(args.sock):
        os.unlink(args.sock)  # a stale socket file blocks the next server
    dpdk.eal_init(eal_args(args.prefix))
    port_id = dpdk.vdev("net_memif0", memif_args(args.role, args.sock, args.queues))
    deadline = time.monotonic() + args.timeout
    with dpdk.Port(port_id, queues=args.queues) as port:
        host = 1 if args.role == "server" else 2
        stacks = stacks_on(port, args, host)
        if args.role == "client":
            # The server's tx stays empty until the client polls (memif), and
            # nothing goes anywhere before the control channel is up.
            while not link_up(port) and time.monotonic() < deadline:
                for st in stacks:
                    st.poll()
                time.sleep(0.001)
            rc = send_all(stacks, args.bytes, deadline)
        else:
            rc = serve(stacks, args.sessions, deadline)
        tcp = [
            {k: v for k, v in st.netstat("tcp")["tcp"].items() if k in TCP_STATS and v}
            for st in stacks
        ]
        say(
            event="stats",
            port=port.stats(),
            ifaces=[st.interfaces[0].stats for st in stacks],
            tcp=tcp,
        )
        for st in stacks:
            st.close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
