"""Runs one parsed packetdrill script against a ustack instance.

The model is packetdrill's (Cardwell et al., USENIX ATC 2013): events run in
script order at their times; ``<`` packets are built and injected, ``>``
packets are awaited and compared field by field, syscalls run on the stack's
sockets through the bindings, backtick commands become knob writes and PCB
queries, and ``%{ }%`` blocks assert on TCP_INFO.  Sequence numbers in the
script are relative: inbound ones to the remote ISN the runner picks, outbound
ones to the ISN the stack chose (learned from its first SYN); ACKs, SACK
blocks and timestamp echoes are mapped across the same way.

Timing follows packetdrill: a relative time counts from the previous event's
actual time, an outbound packet must leave within ``--tolerance_usecs`` of its
script time, and a packet the stack sends that the script does not expect
fails the script at the next ``>`` that meets it.

What the runner cannot do is never a pass: it raises :class:`Unsupported`
with the reason (IPv6 on a stack built without it, TCP Fast Open, UDP
encapsulation, an unknown knob, syscall or option), and the script is reported
as skipped.

``--ip_version=ipv6`` scripts run on AF_INET6 sockets between the backend's
IPv6 addresses; the stack's own neighbour discovery and MLD messages are not
part of any script and are passed over.
"""

from __future__ import annotations

import errno as _errno
import ipaddress
import re
import socket as _socket
import struct
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import ustack
from ustack.errors import Error
from ustack.packetdrill import ast
from ustack.packetdrill.wire import (
    ECN_NAMES,
    ND_MLD_TYPES,
    Icmp,
    Option,
    Segment,
    decode_options,
    encode_options,
    flags_to_str,
    icmp6_frame,
    icmp_frame,
    icmp_type_code,
    md5_sign,
    md5_valid,
    parse_frame,
    parse_udp_encapsulated,
    quotes_udp,
    str_to_flags,
    udp_encapsulated_packet,
)
from ustack.sockets import Socket, tcp_state_name
from ustack.stack import TcpConnection

__all__ = [
    "Backend",
    "Failure",
    "Unsupported",
    "ScriptRunner",
    "RunOptions",
    "script_family",
    "inet6_missing",
]

LOCAL_PORT = 8080  # packetdrill's default local port (the scripts' sockstat -p 8080)
REMOTE_PORT = 53000  # the script peer's port
REMOTE_ISN = 0  # the script peer's ISN: script sequence numbers are used as they are
US = 1000  # nanoseconds per microsecond
DEFAULT_TOLERANCE_US = 4000  # packetdrill's default --tolerance_usecs
ANY_TIME_LIMIT_NS = 600 * 1_000_000_000  # how long `*` waits for a packet

# FreeBSD's values for the fcntl and errno names the scripts use.
F_GETFL, F_SETFL = 3, 4
O_RDWR, O_NONBLOCK = 0x2, 0x4
_ERRNO_ALIAS = {"EWOULDBLOCK": "EAGAIN"}

# The socket-API names a script may use, as ustack exports them (the host's
# values, which ustack's sockets translate), plus fcntl's (FreeBSD's).
_API_PREFIXES = (
    "AF_",
    "SOCK_",
    "IPPROTO_",
    "SOL_",
    "SO_",
    "IP_",
    "IPV6_",
    "TCP_",
    "MSG_",
    "SHUT_",
)
# ustack's socket constants are the host's (ustack.constants); a build of the
# bindings without IPv6 has no AF_INET6, and its IPv6 scripts are skipped.
AF_INET6 = int(getattr(ustack, "AF_INET6", _socket.AF_INET6))
_CONSTANTS: dict[str, int] = {
    name: int(getattr(ustack, name))
    for name in dir(ustack)
    if name.startswith(_API_PREFIXES) and isinstance(getattr(ustack, name), int)
} | {"F_GETFL": F_GETFL, "F_SETFL": F_SETFL, "O_RDWR": O_RDWR, "O_NONBLOCK": O_NONBLOCK}
# IP_TOS values (RFC 2474 class selectors, RFC 3246 EF, RFC 1349 bits).
_CONSTANTS |= {f"IPTOS_DSCP_CS{i}": i << 5 for i in range(8)} | {
    "IPTOS_DSCP_EF": 0xB8,
    "IPTOS_LOWDELAY": 0x10,
    "IPTOS_THROUGHPUT": 0x08,
    "IPTOS_RELIABILITY": 0x04,
    "IPTOS_MINCOST": 0x02,
}

# packetdrill's names for the TCP_INFO constants in %{ }% blocks.
_TCPI_NAMES: dict[str, int] = {
    "TCPI_" + name.replace("SYN_RECEIVED", "SYN_RECEIVED"): value
    for value, name in (
        (getattr(ustack, "TCPS_" + n), n)
        for n in (
            "CLOSED",
            "LISTEN",
            "SYN_SENT",
            "SYN_RECEIVED",
            "ESTABLISHED",
            "CLOSE_WAIT",
            "FIN_WAIT_1",
            "CLOSING",
            "LAST_ACK",
            "FIN_WAIT_2",
            "TIME_WAIT",
        )
    )
} | {
    "TCPI_OPT_TIMESTAMPS": ustack.TCPI_OPT_TIMESTAMPS,
    "TCPI_OPT_SACK": ustack.TCPI_OPT_SACK,
    "TCPI_OPT_WSCALE": ustack.TCPI_OPT_WSCALE,
    "TCPI_OPT_ECN": ustack.TCPI_OPT_ECN,
}
# sockstat(1)'s state names.
_SOCKSTAT_STATE = {"SYN_RCVD": "SYN_RECEIVED"}
# The sockstat pipelines the suite uses: family, port, state, count.
_SOCKSTAT = re.compile(
    r"sockstat -([46]) -P tcp (?:-p (\d+) -s|-s -p (\d+)|-s)"
    r"(?: \| grep packetdril)? \| grep -c (\w+) \| grep (\d+)"
)
# Knobs FreeBSD has and ustack does not, that a script may only set to the
# value describing what ustack always does.
_FIXED_KNOBS: dict[str, int] = {}
# Knobs whose write is an action with nothing to do here.
_ACTION_KNOBS = {"net.inet.tcp.hostcache.purgenow"}


class Failure(Exception):
    """The stack did not do what the script says: the first mismatch."""

    def __init__(self, line: int, message: str, expected: str = "", actual: str = "") -> None:
        super().__init__(message)
        self.line = line
        self.expected = expected
        self.actual = actual


class Unsupported(Exception):
    """The script needs something the runner or ustack does not have."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line


def script_family(ip_version: str | None) -> int:
    """4 or 6 for a script's ``--ip_version`` (absent: IPv4); Unsupported for
    packetdrill's other modes (ipv4-mapped-ipv6)."""
    version = ip_version or "ipv4"
    if version == "ipv4":
        return 4
    if version == "ipv6":
        return 6
    raise Unsupported(0, f"--ip_version={version}")


def inet6_missing() -> str | None:
    """Why IPv6 scripts cannot run on this build of ustack, or None."""
    if not hasattr(ustack, "UST_HAS_INET6"):
        return "ustack has no IPv6 (the bindings lack UST_HAS_INET6)"
    if not ustack.UST_HAS_INET6:
        return "ustack was built without IPv6 (UST_INET6 0)"
    return None


def _same_ip(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


def _ip_version(ip: str) -> int:
    try:
        return ipaddress.ip_address(ip).version
    except ValueError:
        return 4


class StackLike(Protocol):
    """What the runner calls on the stack under test: a :class:`ustack.Stack`,
    or a :class:`ustack.board.Board` driving the stack on a board."""

    def socket(self, family: int, type: int) -> Any: ...  # noqa: A002
    def sysctl(self, name: str, value: int | str) -> Any: ...
    def tcp_connections(self) -> list[TcpConnection]: ...
    def tcp_drop(self, local: tuple[str, int], remote: tuple[str, int]) -> None: ...


class Backend(Protocol):
    """What the runner needs from a place to run the stack (see virtual.py)."""

    name: str
    local_ip: str
    remote_ip: str
    family: int  # 4 or 6: the addresses' and so the scripts' IP version

    @property
    def stack(self) -> StackLike: ...

    @property
    def tolerance_scale(self) -> float: ...
    def now(self) -> int: ...
    def inject(self, ip_packet: bytes) -> None:
        """Deliver an IPv4 or IPv6 packet (by its version field) to the stack."""
        ...

    def advance(self, until_ns: int, *, stop_on_packet: bool) -> None: ...
    def next_outbound(self) -> tuple[int, bytes] | None:
        """(script time, Ethernet frame) of the oldest frame the stack sent
        that nobody read yet; the frame keeps its ethertype."""
        ...

    def close(self) -> None: ...


@dataclass
class RunOptions:
    """Knobs forced on the stack whatever the script writes (the self-test's
    deliberately wrong configurations) and the tolerance multiplier."""

    forced: Mapping[str, int | str] = field(default_factory=dict)
    tolerance_scale: float = 1.0


@dataclass
class _Fd:
    sock: Socket  # or a ustack.board.BoardSocket: the same methods
    nonblock: bool = False


@dataclass
class _Pending:
    """A blocking syscall waiting for the stack."""

    event: ast.SyscallEvent
    attempt: Callable[[], int]
    deadline_ns: int | None  # the end of its time range, if written


def _time_str(ns: int) -> str:
    return f"{ns / 1e9:.6f}"


def describe_segment(seg: Segment, local_isn: int | None, remote_isn: int, outbound: bool) -> str:
    """A live segment in packetdrill's notation (relative numbers)."""
    base = (local_isn or 0) if outbound else remote_isn
    other = remote_isn if outbound else (local_isn or 0)
    seq = (seg.seq - base) & 0xFFFFFFFF
    text = f"{flags_to_str(seg.flags)} {seq}:{(seq + len(seg.payload)) & 0xFFFFFFFF}"
    text += f"({len(seg.payload)})"
    if seg.flags & 0x10:
        text += f" ack {(seg.ack - other) & 0xFFFFFFFF}"
    text += f" win {seg.win}"
    opts = decode_options(seg.options)
    if opts:
        parts = []
        for o in opts:
            if o[0] == "sack":
                blocks = o[1]
                assert isinstance(blocks, tuple)
                parts.append(
                    "sack "
                    + " ".join(
                        f"{(a - other) & 0xFFFFFFFF}:{(b - other) & 0xFFFFFFFF}" for a, b in blocks
                    )
                )
            elif o[0] == "TS":
                parts.append(f"TS val {o[1]} ecr {o[2]}")
            elif o[0] == "FO":
                cookie = o[1]
                assert isinstance(cookie, bytes)
                parts.append("FO " + cookie.hex() if cookie else "FO")
            elif o[0] == "md5" and isinstance(o[1], bytes):
                parts.append(f"md5 {o[1].hex()}")
            else:
                parts.append(" ".join(str(x) for x in o))
        text += " <" + ",".join(parts) + ">"
    if seg.ecn:
        text = f"[{ {v: k for k, v in ECN_NAMES.items()}[seg.ecn] }] " + text
    if seg.udp is not None:
        text += f"/udp({seg.udp[0]} > {seg.udp[1]})"
    if seg.family == 6:
        text = f"(hlim {seg.hlim}) (class {seg.tclass:#x}) " + text
    return text


def _expr_str(e: ast.Expr) -> str:
    from ustack.packetdrill.parser import format_expr

    return format_expr(e)


class ScriptRunner:
    """Executes one script on one backend.  ``run()`` returns nothing and
    raises :class:`Failure` or :class:`Unsupported`."""

    def __init__(
        self, script: ast.Script, backend: Backend, opts: RunOptions | None = None
    ) -> None:
        self.script = script
        self.be = backend
        self.st = backend.stack
        self.opts = opts or RunOptions()
        tol = script.option("tolerance_usecs")
        scale = self.opts.tolerance_scale * backend.tolerance_scale
        self.tol_ns = int((int(tol) if tol else DEFAULT_TOLERANCE_US) * US * scale)
        self.tol_ns = max(self.tol_ns, int(getattr(backend, "tolerance_floor_ns", 0)))
        self.fds: dict[int, _Fd] = {}
        self.current_fd: int | None = None
        self.local_isn: int | None = None
        self.local_port: int | None = None
        self.ts_offset: int | None = None  # live TS val - script TS val
        self.last_ns = 0
        self.pending: list[_Pending] = []
        self.non_fatal_syscalls = "syscall" in (script.option("non_fatal") or "")
        self.family = int(getattr(backend, "family", 4))
        self.warnings: list[str] = []
        self.new_client_syn = False  # a socket() since the last SYN we sent
        secret = script.option("tcp_md5_secret")
        self.md5_key: bytes | None = secret.encode() if secret is not None else None
        # --udp_encapsulation=tcp: /udp(...) segments and ICMP about them.
        self.udp_encap = script.option("udp_encapsulation") is not None
        for knob, value in self.opts.forced.items():
            self.st.sysctl(knob, value)

    # --- top level -------------------------------------------------------------------------

    def run(self) -> None:
        s = self.script
        family = script_family(s.option("ip_version"))
        if family == 6 and (why := inet6_missing()) is not None:
            raise Unsupported(0, why)
        if family != self.family:
            raise Unsupported(
                0,
                f"--ip_version={s.option('ip_version')} on a back end set up for IPv{self.family}",
            )
        for opt in s.options:
            if opt.name == "udp_encapsulation" and opt.value != "tcp":
                raise Unsupported(opt.line, f"--udp_encapsulation={opt.value}")
            if opt.name == "tcp_md5_secret" and not hasattr(self.st, "tcp_md5_add"):
                raise Unsupported(opt.line, "TCP MD5 signatures (RFC 2385): not in this back end")
        if s.init_command is not None:
            if not self._setkey(s.init_command.command, s.init_command.line):
                raise Unsupported(s.init_command.line, f"init command `{s.init_command.command}`")
        for ev in s.events:
            self._event(ev)
        self._settle_pending(None, final=True)
        if s.cleanup_command is not None:
            self._setkey(s.cleanup_command.command, s.cleanup_command.line)

    # --- setkey(8): TCP-MD5 keys ------------------------------------------------------------

    def _script_addr(self, text: str, line: int) -> str:
        """A script address in a setkey command -> the back end's (the
        script's local and remote addresses, packetdrill's defaults unless
        --local_ip/--remote_ip say otherwise)."""
        v6 = self.family == 6
        local = self.script.option("local_ip") or ("fd3d:fa7b:d17d::1" if v6 else "192.168.0.1")
        remote = self.script.option("remote_ip") or ("2001:db8::1" if v6 else "192.0.2.1")
        if _same_ip(text, local):
            return str(self.be.local_ip)
        if _same_ip(text, remote):
            return str(self.be.remote_ip)
        raise Unsupported(line, f"setkey address {text} is neither the local nor the remote one")

    def _setkey(self, cmd: str, line: int) -> bool:
        """FreeBSD's TCP-MD5 key commands (``kldstat/kldload tcpmd5``: no-ops;
        ``echo '...' | setkey -c`` with ``add A B tcp SPI -A tcp-md5 "KEY"``
        and ``delete A B tcp SPI`` lines; ``setkey -F``) on the stack's key
        table.  False when cmd is something else."""
        text = " ".join(cmd.split())
        if "setkey" not in text:
            return False
        st: Any = self.st
        if re.fullmatch(r"setkey -F", text):
            st.tcp_md5_flush()
            return True
        m = re.fullmatch(
            r"(?:kldstat -q -m tcpmd5 \|\| kldload tcpmd5 ?; ?)?echo '(.*)' \| setkey -c", text
        )
        if m is None:
            return False
        for stmt in (x.strip() for x in m.group(1).split(";")):
            if not stmt:
                continue
            add = re.fullmatch(r'add (\S+) (\S+) tcp \S+ -A tcp-md5 "([^"]*)"', stmt)
            dele = re.fullmatch(r"delete (\S+) (\S+) tcp \S+", stmt)
            if add is not None:
                try:
                    st.tcp_md5_add(
                        self._script_addr(add.group(1), line),
                        self._script_addr(add.group(2), line),
                        add.group(3).encode(),
                        both=False,
                    )
                except OSError as exc:
                    if exc.errno == _errno.EOPNOTSUPP:
                        raise Unsupported(
                            line, "TCP MD5 signatures: ustack built without UST_TCP_SIGNATURE"
                        ) from None
                    raise
            elif dele is not None:
                st.tcp_md5_del(
                    self._script_addr(dele.group(1), line),
                    self._script_addr(dele.group(2), line),
                    both=False,
                )
            else:
                raise Unsupported(line, f"setkey statement `{stmt}`")
        return True

    def close(self) -> None:
        for fd in list(self.fds.values()):
            try:
                fd.sock.close()
            except Error:
                pass
        self.fds.clear()

    # --- timing ----------------------------------------------------------------------------

    def _when(self, t: ast.Time) -> int:
        """The script time of an event in ns (its start, for ranges)."""
        if t.kind == ast.TimeKind.ANY:
            return self.be.now()
        base = self.last_ns if t.relative else 0
        return base + t.start_us * US

    def _range_end(self, t: ast.Time, start: int) -> int | None:
        if t.end_us is None:
            return None
        base = start if t.end_relative else 0
        if t.end_relative and t.kind == ast.TimeKind.RANGE:
            base = self.last_ns
        return base + t.end_us * US

    def _event(self, ev: ast.Event) -> None:
        when = self._when(ev.time)
        if isinstance(ev, ast.TcpPacketEvent) and ev.direction == ast.Direction.OUTBOUND:
            self._expect(ev, when)
            return
        if ev.time.kind != ast.TimeKind.ANY:
            self.be.advance(when, stop_on_packet=False)
            self._settle_pending(ev, final=False)
        self.last_ns = (
            max(when, self.last_ns) if ev.time.kind != ast.TimeKind.ANY else self.be.now()
        )
        if isinstance(ev, ast.TcpPacketEvent):
            self._inject(ev)
        elif isinstance(ev, ast.IcmpEvent):
            if ev.direction != ast.Direction.INBOUND:
                raise Unsupported(ev.line, "expecting an ICMP message from the stack")
            self._inject_icmp(ev)
        elif isinstance(ev, ast.SyscallEvent):
            self._syscall(ev, when)
        elif isinstance(ev, ast.CommandEvent):
            self._command(ev)
        elif isinstance(ev, ast.CodeEvent):
            self._code(ev)
        else:
            raise Unsupported(ev.line, f"{ev.kind} events")
        self._settle_pending(ev, final=False)

    # --- packets ---------------------------------------------------------------------------

    def _lport(self) -> int:
        return self.local_port if self.local_port is not None else LOCAL_PORT

    def _map_ts_ecr(self, ecr: int) -> int:
        if ecr == 0 or self.ts_offset is None:
            return ecr
        return (ecr + self.ts_offset) & 0xFFFFFFFF

    def _inbound_options(self, ev: ast.TcpPacketEvent) -> list[Option]:
        out: list[Option] = []
        for o in ev.options or ():
            if isinstance(o, ast.MssOption):
                out.append(("mss", o.mss))
            elif isinstance(o, ast.NopOption):
                out.append(("nop",))
            elif isinstance(o, ast.EolOption):
                out.append(("eol",))
            elif isinstance(o, ast.WindowScaleOption):
                out.append(("wscale", o.shift))
            elif isinstance(o, ast.SackPermittedOption):
                out.append(("sackOK",))
            elif isinstance(o, ast.TimestampOption):
                out.append(("TS", o.val, self._map_ts_ecr(o.ecr)))
            elif isinstance(o, ast.SackOption):
                isn = self.local_isn or 0
                out.append(("sack", tuple((isn + b.left, isn + b.right) for b in o.blocks)))
            elif isinstance(o, ast.FastOpenOption):
                # RFC 7413 2: any length the script gives (odd, oversized).
                out.append(("FO", o.cookie or b""))
            elif isinstance(o, ast.Md5Option):
                self._md5_spec(o, ev.line)
                out.append(("md5", bytes(16)))  # the digest: _inject signs
            else:
                raise Unsupported(ev.line, f"TCP option {type(o).__name__}")
        return out

    def _check_packet_support(self, ev: ast.TcpPacketEvent) -> None:
        if ev.udp is not None and not getattr(ustack, "UST_HAS_TCP_TUNNEL", False):
            raise Unsupported(ev.line, "TCP over UDP (UST_TCP_TUNNEL 0)")
        if ev.options_ignored and ev.direction == ast.Direction.INBOUND:
            raise Unsupported(ev.line, "<...> on an inbound packet")

    def _inject(self, ev: ast.TcpPacketEvent) -> None:
        self._check_packet_support(ev)
        if ev.seq_start is None:
            raise Unsupported(ev.line, "inbound packet without a sequence number")
        flags = str_to_flags(ev.flags)
        seq = ev.seq_start if ev.absolute_seq else REMOTE_ISN + ev.seq_start
        ack = 0
        if ev.ack is not None:
            ack = ev.ack if ev.absolute_seq else (self.local_isn or 0) + ev.ack
        ecn = 0 if ev.ecn is None else ECN_NAMES.get(ev.ecn.replace("ect01", "ect0"), 0)
        ttl = 64
        tos_rest = 0
        v4_fields, v6_fields = ("ttl", "tos"), ("hlim", "class")
        for f in ev.ip_fields:
            if f.name not in (v6_fields if self.family == 6 else v4_fields):
                raise Unsupported(ev.line, f"IP field {f.name} on IPv{self.family}")
            if f.name in ("ttl", "hlim"):
                ttl = f.value
            else:
                tos_rest = f.value
                ecn = f.value & 3
        seg = Segment(
            src=self.be.remote_ip,
            dst=self.be.local_ip,
            sport=REMOTE_PORT,
            dport=self._lport(),
            seq=seq & 0xFFFFFFFF,
            ack=ack & 0xFFFFFFFF,
            flags=flags,
            win=ev.win if ev.win is not None else 65535,
            urg=ev.urg or 0,
            options=encode_options(self._inbound_options(ev)),
            payload=bytes(ev.payload_len),
            ecn=(tos_rest & ~3) | ecn,
            ttl=ttl,
            family=self.family,
            hlim=ttl,
        )
        for o in ev.options or ():
            if isinstance(o, ast.Md5Option):
                assert self.md5_key is not None  # _md5_spec checked
                seg = md5_sign(seg, self.md5_key, valid=o.spec == "valid")
        if ev.udp is not None:
            # TCP over UDP: the segment is the payload of a UDP datagram.
            self.be.inject(udp_encapsulated_packet(seg, ev.udp.src_port, ev.udp.dst_port))
            return
        self.be.inject(seg.ip_packet())

    def _inject_icmp(self, ev: ast.IcmpEvent) -> None:
        try:
            icmp_type, code = icmp_type_code(self.family, ev.icmp_type, ev.icmp_code)
        except ValueError as exc:
            raise Unsupported(ev.line, f"{exc} on IPv{self.family}") from None
        # The quoted segment is one the stack sent: local to remote, our seq.
        quoted_seg = Segment(
            src=self.be.local_ip,
            dst=self.be.remote_ip,
            sport=self._lport(),
            dport=REMOTE_PORT,
            seq=((self.local_isn or 0) + ev.seq_start) & 0xFFFFFFFF,
            ack=0,
            flags=0x10,
            win=0,
            family=self.family,
        )
        quoted = quoted_seg.ip_packet()
        # The IP header and 8 bytes of TCP (RFC 792); of a segment sent in
        # UDP, the IP and UDP headers and 8 bytes of TCP.
        qlen = (40 if self.family == 6 else 20) + 8
        if ev.udp is not None:
            quoted = udp_encapsulated_packet(quoted_seg, ev.udp.src_port, ev.udp.dst_port)
            qlen += 8
        if self.family == 6:
            # RFC 4443 3.2: Packet Too Big carries the MTU in the whole word.
            rest = (ev.mtu or 0) & 0xFFFFFFFF if ev.icmp_type == "packet_too_big" else 0
            frame = icmp6_frame(
                b"\0" * 6,
                b"\0" * 6,
                self.be.remote_ip,
                self.be.local_ip,
                icmp_type,
                code,
                rest,
                quoted[:qlen],
            )
        else:
            rest = (ev.mtu or 0) & 0xFFFF if ev.icmp_type == "unreachable" else 0
            frame = icmp_frame(
                b"\0" * 6,
                b"\0" * 6,
                self.be.remote_ip,
                self.be.local_ip,
                icmp_type,
                code,
                rest,
                quoted[:qlen],
            )
        self.be.inject(frame[14:])

    def _next_tcp(self, limit_ns: int) -> tuple[int, Segment] | None:
        """The next TCP segment the stack sends before limit_ns (script time)."""
        while True:
            self.be.advance(limit_ns, stop_on_packet=True)
            got = self.be.next_outbound()
            if got is None:
                return None
            t, frame = got
            pkt = parse_frame(frame)
            if pkt is None and self.udp_encap:
                pkt = parse_udp_encapsulated(frame)
            if isinstance(pkt, Segment):
                return t, pkt
            if isinstance(pkt, Icmp):
                if pkt.family == 6 and pkt.type in ND_MLD_TYPES:
                    continue  # neighbour discovery or MLD: the stack's own business
                if self.udp_encap and quotes_udp(pkt.quoted):
                    # About a datagram the script sent to a UDP port no one
                    # has: packetdrill watches its sockets' packets only.
                    continue
                kind = "ICMPv6" if pkt.family == 6 else "ICMP"
                raise Failure(0, f"the stack sent an {kind} message", "", f"{kind} type {pkt.type}")

    def _expect(self, ev: ast.TcpPacketEvent, when: int) -> None:
        self._check_packet_support(ev)
        self._settle_pending(ev, final=False)
        any_time = ev.time.kind == ast.TimeKind.ANY
        end = self._range_end(ev.time, when) if ev.time.kind == ast.TimeKind.RANGE else None
        limit = self.be.now() + ANY_TIME_LIMIT_NS if any_time else (end or when) + self.tol_ns
        got = self._next_tcp(limit)
        expected_text = self._expected_text(ev)
        if got is None:
            raise Failure(
                ev.line,
                f"no packet by {_time_str(limit)} s (expected at {_time_str(when)} s)",
                expected_text,
                "nothing",
            )
        t, seg = got
        actual_text = describe_segment(seg, self._isn_for(ev, seg), REMOTE_ISN, True)
        if not any_time and t < when - self.tol_ns:
            raise Failure(
                ev.line,
                f"packet at {_time_str(t)} s, expected at {_time_str(when)} s "
                f"(tolerance {self.tol_ns / 1e6:g} ms)",
                expected_text,
                actual_text,
            )
        self._compare(ev, seg, expected_text)
        self.last_ns = t
        self._settle_pending(ev, final=False)

    def _isn_for(self, ev: ast.TcpPacketEvent, seg: Segment) -> int:
        if self.local_isn is None and seg.flags & 0x02:
            return (seg.seq - (ev.seq_start or 0)) & 0xFFFFFFFF
        return self.local_isn or 0

    def _expected_text(self, ev: ast.TcpPacketEvent) -> str:
        """The script's packet in packetdrill's notation."""
        seq = "..." if ev.seq_start is None else f"{ev.seq_start}:{ev.seq_end}"
        text = f"{ev.flags} {seq}({ev.payload_len})"
        if ev.ack is not None:
            text += f" ack {ev.ack}"
        if ev.win is not None:
            text += f" win {ev.win}"
        if ev.options_ignored:
            text += " <...>"
        elif ev.options:
            text += " <" + ",".join(_option_text(o) for o in ev.options) + ">"
        if ev.ecn is not None:
            text = f"[{ev.ecn}] " + text
        if ev.udp is not None:
            text += f"/udp({ev.udp.src_port} > {ev.udp.dst_port})"
        if self.family == 6 and ev.ip_fields:
            fields = (
                f"({f.name} {f.value:#x})" if f.name == "class" else f"({f.name} {f.value})"
                for f in ev.ip_fields
            )
            text = " ".join(fields) + " " + text
        return text

    def _compare(self, ev: ast.TcpPacketEvent, seg: Segment, expected: str) -> None:
        def fail(what: str) -> None:
            actual = describe_segment(seg, self._isn_for(ev, seg), REMOTE_ISN, True)
            raise Failure(ev.line, what, expected, actual)

        want_flags = str_to_flags(ev.flags)
        if seg.flags & 0xFF != want_flags:
            fail(f"flags {flags_to_str(seg.flags)}, expected {flags_to_str(want_flags)}")
        if seg.src != self.be.local_ip or seg.dst != self.be.remote_ip:
            fail(f"addresses {seg.src} > {seg.dst}")
        if seg.dport != REMOTE_PORT:
            fail(f"destination port {seg.dport}, expected {REMOTE_PORT}")
        if self.new_client_syn and want_flags == 0x02:
            # A socket made since the last SYN connects (the fast-open
            # scripts open three in turn): its port and ISN are new.
            self.new_client_syn = False
            self.local_port = None
            self.local_isn = None
        want_udp = None if ev.udp is None else (ev.udp.src_port, ev.udp.dst_port)
        if seg.udp != want_udp:
            fail(f"UDP encapsulation {seg.udp}, expected {want_udp}")
        if seg.udp is not None and (seg.extra.get("tcp_csum") != 0 or not seg.extra["udp_csum_ok"]):
            # FreeBSD: TCP checksum zero, the UDP one over the segment.
            fail(f"checksums: TCP {seg.extra.get('tcp_csum'):#x} (want 0), UDP bad")
        if self.local_port is None:
            self.local_port = seg.sport
        elif seg.sport != self.local_port:
            fail(f"source port {seg.sport}, expected {self.local_port}")
        if self.local_isn is None and want_flags & 0x02 and ev.seq_start is not None:
            self.local_isn = (seg.seq - ev.seq_start) & 0xFFFFFFFF
        isn = 0 if ev.absolute_seq else (self.local_isn or 0)
        if ev.seq_start is not None and seg.seq != (isn + ev.seq_start) & 0xFFFFFFFF:
            fail("sequence number")
        if len(seg.payload) != ev.payload_len:
            fail(f"payload length {len(seg.payload)}, expected {ev.payload_len}")
        if ev.ack is not None:
            want_ack = (ev.ack if ev.absolute_seq else REMOTE_ISN + ev.ack) & 0xFFFFFFFF
            if not seg.flags & 0x10 or seg.ack != want_ack:
                fail("acknowledgment number")
        if ev.win is not None and seg.win != ev.win:
            fail(f"window {seg.win}, expected {ev.win}")
        if ev.urg is not None and seg.urg != ev.urg:
            fail("urgent pointer")
        if ev.ecn is not None:
            ok = {"ect01": (1, 2)}.get(ev.ecn, (ECN_NAMES.get(ev.ecn, -1),))
            if seg.ecn not in ok:
                fail(f"IP ECN field {seg.ecn}, expected {ev.ecn}")
        for f in ev.ip_fields:
            if self.family == 6:
                if f.name == "hlim" and seg.hlim != f.value:
                    fail(f"hop limit {seg.hlim}, expected {f.value}")
                elif f.name == "class":
                    # The whole byte; with an ECN mark as well, the mark
                    # (checked above) judges the low two bits.
                    mask = 0xFC if ev.ecn is not None else 0xFF
                    if seg.tclass & mask != f.value & mask:
                        fail(f"traffic class {seg.tclass:#04x}, expected {f.value:#04x}")
                elif f.name not in ("hlim", "class"):
                    raise Unsupported(ev.line, f"IP field {f.name} on IPv6")
            elif f.name == "tos" and seg.ecn != f.value & 3:
                fail("IP TOS")
        live = decode_options(seg.options)
        if ev.options_ignored:
            self._learn_ts(ev, live)
            return
        want = list(ev.options or ())
        if len(live) != len(want):
            fail(f"{len(live)} TCP options, expected {len(want)}")
        for w, got in zip(want, live, strict=True):
            if isinstance(w, ast.Md5Option):
                self._md5_spec(w, ev.line)
                assert self.md5_key is not None
                if got[0] != "md5" or md5_valid(seg, self.md5_key) != (w.spec == "valid"):
                    fail(f"TCP option {got[0]} (RFC 2385 signature, expected md5 {w.spec})")
                continue
            if not self._option_matches(w, got):
                fail(f"TCP option {got[0]}")
        self._learn_ts(ev, live)

    def _md5_spec(self, o: ast.Md5Option, line: int) -> None:
        if o.spec not in ("valid", "invalid"):
            raise Unsupported(line, f"md5 {o.spec}")
        if self.md5_key is None:
            raise Unsupported(line, "md5 option without --tcp_md5_secret")

    def _learn_ts(self, ev: ast.TcpPacketEvent, live: list[Option]) -> None:
        for w in ev.options or ():
            if isinstance(w, ast.TimestampOption):
                for got in live:
                    if got[0] == "TS":
                        self.ts_offset = (int(got[1]) - w.val) & 0xFFFFFFFF  # type: ignore[call-overload]

    def _option_matches(self, w: ast.TcpOption, got: Option) -> bool:
        name = got[0]
        if isinstance(w, ast.MssOption):
            return name == "mss" and got[1] == w.mss
        if isinstance(w, ast.NopOption):
            return name == "nop"
        if isinstance(w, ast.EolOption):
            return name == "eol"
        if isinstance(w, ast.WindowScaleOption):
            return name == "wscale" and got[1] == w.shift
        if isinstance(w, ast.SackPermittedOption):
            return name == "sackOK"
        if isinstance(w, ast.TimestampOption):
            # packetdrill checks the echo, not our own clock's value.
            return name == "TS" and got[2] == w.ecr
        if isinstance(w, ast.SackOption):
            if name != "sack":
                return False
            want = tuple(
                ((REMOTE_ISN + b.left) & 0xFFFFFFFF, (REMOTE_ISN + b.right) & 0xFFFFFFFF)
                for b in w.blocks
            )
            return got[1] == want
        if isinstance(w, ast.FastOpenOption):
            return name == "FO" and got[1] == (w.cookie or b"")
        raise Unsupported(0, f"TCP option {type(w).__name__}")

    # --- syscalls --------------------------------------------------------------------------

    def _int(self, e: ast.Expr, line: int) -> int:
        if isinstance(e, ast.Int):
            return e.value
        if isinstance(e, ast.Name):
            if e.name in _CONSTANTS:
                return _CONSTANTS[e.name]
            raise Unsupported(line, f"constant {e.name}")
        if isinstance(e, ast.BitOr):
            v = 0
            for term in e.terms:
                v |= self._int(term, line)
            return v
        if isinstance(e, ast.List) and len(e.items) == 1:
            return self._int(e.items[0], line)
        raise Unsupported(line, f"argument {_expr_str(e)}")

    def _fd(self, e: ast.Expr, line: int) -> _Fd:
        n = self._int(e, line)
        if n not in self.fds:
            raise Failure(line, f"fd {n} is not open in the script")
        return self.fds[n]

    def _syscall(self, ev: ast.SyscallEvent, when: int) -> None:
        handler = getattr(self, "_sys_" + ev.name, None)
        if handler is None:
            raise Unsupported(ev.line, f"syscall {ev.name}()")
        attempt: Callable[[], int] = handler(ev)
        blocking_range = ev.time.kind == ast.TimeKind.BLOCKING
        deadline = self._range_end(ev.time, when) if blocking_range else None
        try:
            rv = attempt()
        except BlockingIOError as exc:
            fd = self._maybe_fd(ev)
            if fd is not None and not fd.nonblock:
                # A blocking call: it completes when the stack lets it.
                self.pending.append(_Pending(ev, attempt, deadline))
            else:
                self._check_result(ev, None, exc)
            return
        except OSError as exc:
            self._check_result(ev, None, exc)
            return
        self._check_result(ev, rv, None)

    def _maybe_fd(self, ev: ast.SyscallEvent) -> _Fd | None:
        if ev.args and isinstance(ev.args[0], ast.Int) and ev.args[0].value in self.fds:
            return self.fds[ev.args[0].value]
        return None

    def _settle_pending(self, ev: ast.Event | None, *, final: bool) -> None:
        """Retries blocked syscalls; at the end of the script they must be done."""
        for p in list(self.pending):
            try:
                rv = p.attempt()
            except BlockingIOError:
                if final:
                    raise Failure(p.event.line, f"{p.event.name}() never returned") from None
                continue
            except OSError as exc:
                self.pending.remove(p)
                self._check_result(p.event, None, exc)
                continue
            self.pending.remove(p)
            self._check_result(p.event, rv, None)
            self.last_ns = max(self.last_ns, self.be.now())

    def _check_result(self, ev: ast.SyscallEvent, rv: int | None, exc: OSError | None) -> None:
        want = self._int(ev.ret, ev.line) if not isinstance(ev.ret, ast.Ellipsis_) else None
        if exc is not None:
            got_name = getattr(exc, "errname", "") or _errno.errorcode.get(exc.errno or 0, "?")
            want_name = _ERRNO_ALIAS.get(ev.errno or "", ev.errno or "")
            got_name = _ERRNO_ALIAS.get(got_name, got_name)
            if want == -1 and got_name == want_name:
                return
            self._syscall_failed(
                ev, f"{ev.name}() failed with {got_name}", f"= {want} {ev.errno or ''}".strip()
            )
            return
        if want is not None and rv != want:
            self._syscall_failed(ev, f"{ev.name}() returned {rv}", f"= {want} {ev.errno or ''}")

    def _syscall_failed(self, ev: ast.SyscallEvent, actual: str, expected: str) -> None:
        msg = f"syscall result differs: {actual}, expected {expected}"
        if self.non_fatal_syscalls:
            self.warnings.append(f"line {ev.line}: {msg}")
            return
        raise Failure(ev.line, msg, expected, actual)

    def _new_fd(self, ev: ast.SyscallEvent, sock: Socket) -> int:
        n = self._int(ev.ret, ev.line)
        if n in self.fds:
            raise Failure(ev.line, f"fd {n} already open")
        if self.local_isn is not None:
            self.new_client_syn = True
        sock.setblocking(False)
        self.fds[n] = _Fd(sock)
        self.current_fd = n
        return n

    def _sys_socket(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        kind = self._int(ev.args[1], ev.line)
        if kind != ustack.SOCK_STREAM:
            raise Unsupported(ev.line, "only SOCK_STREAM sockets")
        if self.family == 4:
            return lambda: self._new_fd(ev, self.st.socket(ustack.AF_INET, ustack.SOCK_STREAM))

        def attempt() -> int:
            try:
                sock = self.st.socket(AF_INET6, ustack.SOCK_STREAM)
            except Error as exc:
                if exc.errname == "EAFNOSUPPORT":
                    # A build whose IPv6 has no TCP yet: skipped, as without IPv6.
                    raise Unsupported(
                        ev.line, "ustack has no IPv6 TCP sockets yet (AF_INET6: EAFNOSUPPORT)"
                    ) from None
                raise
            return self._new_fd(ev, sock)

        return attempt

    def _sys_bind(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        fd = self._fd(ev.args[0], ev.line)

        def attempt() -> int:
            fd.sock.bind((self.be.local_ip, LOCAL_PORT))
            self.local_port = LOCAL_PORT
            return 0

        return attempt

    def _sys_listen(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        fd = self._fd(ev.args[0], ev.line)
        backlog = self._int(ev.args[1], ev.line)
        return _returning_zero(lambda: fd.sock.listen(backlog))

    def _sys_accept(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        fd = self._fd(ev.args[0], ev.line)

        def attempt() -> int:
            conn, _ = fd.sock.accept()
            return self._new_fd(ev, conn)

        return attempt

    def _sys_connect(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        fdn = self._int(ev.args[0], ev.line)
        fd = self._fd(ev.args[0], ev.line)
        state = {"started": False}

        def attempt() -> int:
            self.current_fd = fdn
            if not state["started"]:
                state["started"] = True
                try:
                    fd.sock.connect((self.be.remote_ip, REMOTE_PORT))
                except BlockingIOError:
                    if fd.nonblock:
                        raise
                    raise BlockingIOError(_errno.EAGAIN, "connecting") from None
                return 0
            # A blocking connect completes when the handshake does.
            err = fd.sock.getsockopt(ustack.SOL_SOCKET, ustack.SO_ERROR)
            if err:
                raise _host_error(err)
            info = fd.sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
            if info.tcpi_state in (ustack.TCPS_SYN_SENT, ustack.TCPS_SYN_RECEIVED):
                raise BlockingIOError(_errno.EAGAIN, "connecting")
            return 0

        return attempt

    def _sys_fcntl(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        fd = self._fd(ev.args[0], ev.line)
        cmd = self._int(ev.args[1], ev.line)
        if cmd == F_GETFL:
            return lambda: O_RDWR | (O_NONBLOCK if fd.nonblock else 0)
        if cmd == F_SETFL:
            flags = self._int(ev.args[2], ev.line)

            def setfl() -> int:
                fd.nonblock = bool(flags & O_NONBLOCK)
                return 0

            return setfl
        raise Unsupported(ev.line, f"fcntl command {cmd}")

    def _sockopt_value(
        self, ev: ast.SyscallEvent, e: ast.Expr, level: int, name: int
    ) -> int | bytes | str:
        if isinstance(e, ast.Struct):
            if (level, name) == (ustack.SOL_SOCKET, ustack.SO_LINGER):
                onoff = e.get("l_onoff")
                linger = e.get("l_linger")
                return struct.pack(
                    "=ii",
                    self._int(onoff, ev.line) if onoff is not None else 0,
                    self._int(linger, ev.line) if linger is not None else 0,
                )
            if (level, name) == (ustack.IPPROTO_TCP, ustack.TCP_FUNCTION_BLK):
                # FreeBSD's struct tcp_function_set: the stack's name in 32
                # bytes, then pcbcnt (ignored on set).
                fsn = e.get("function_set_name")
                if not isinstance(fsn, ast.Str):
                    raise Unsupported(ev.line, f"struct option value {_expr_str(e)}")
                cnt = e.get("pcbcnt")
                return struct.pack(
                    "=32sI",
                    fsn.value.encode(),
                    self._int(cnt, ev.line) if cnt is not None else 0,
                )
            raise Unsupported(ev.line, f"struct option value {_expr_str(e)}")
        if isinstance(e, ast.Str):
            return e.value
        return self._int(e, ev.line)

    def _sys_setsockopt(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        fd = self._fd(ev.args[0], ev.line)
        level = self._int(ev.args[1], ev.line)
        opt = ev.args[2]
        if (
            self.non_fatal_syscalls
            and isinstance(opt, ast.Name)
            and opt.name not in _CONSTANTS
            and opt.name.startswith("TCP_")
        ):
            # An option ustack does not have (FreeBSD's TCP_RACK_* of
            # another TCP stack): ENOPROTOOPT, which --non_fatal=syscall
            # turns into a warning, as on a FreeBSD without that stack.
            def unknown() -> int:
                raise OSError(_errno.ENOPROTOOPT, f"{opt.name}: no such option in ustack")

            return unknown
        name = self._int(ev.args[2], ev.line)
        value = self._sockopt_value(ev, ev.args[3], level, name)
        return _returning_zero(lambda: fd.sock.setsockopt(level, name, value))

    def _sys_getsockopt(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        fd = self._fd(ev.args[0], ev.line)
        level = self._int(ev.args[1], ev.line)
        name = self._int(ev.args[2], ev.line)
        want = ev.args[3]

        def attempt() -> int:
            if (level, name) == (ustack.SOL_SOCKET, ustack.SO_LINGER):
                raw = fd.sock.getsockopt(level, name, 8)
                onoff, linger = struct.unpack("=ii", raw)
                if isinstance(want, ast.Struct):
                    for key, val in (("l_onoff", onoff), ("l_linger", linger)):
                        field_want = want.get(key)
                        if field_want is not None and self._int(field_want, ev.line) != val:
                            self._syscall_failed(ev, f"{key}={val}", _expr_str(field_want))
                return 0
            got = fd.sock.getsockopt(level, name)
            if isinstance(want, ast.Ellipsis_):
                return 0
            if name == ustack.SO_ERROR and isinstance(want, ast.List) and want.items:
                item = want.items[0]
                if isinstance(item, ast.Name):
                    want_name = _ERRNO_ALIAS.get(item.name, item.name)
                    got_name = _errno.errorcode.get(int(got), str(got)) if got else "0"
                    if _ERRNO_ALIAS.get(got_name, got_name) != want_name:
                        self._syscall_failed(ev, f"SO_ERROR {got_name}", want_name)
                    return 0
            exp = self._int(want, ev.line)
            if int(got) != exp:
                self._syscall_failed(ev, f"value {got}", f"[{exp}]")
            return 0

        return attempt

    def _recv_like(self, ev: ast.SyscallEvent, flags_arg: int | None) -> Callable[[], int]:
        fd = self._fd(ev.args[0], ev.line)
        size = self._int(ev.args[2], ev.line)
        flags = self._int(ev.args[flags_arg], ev.line) if flags_arg is not None else 0
        return lambda: len(fd.sock.recv(size, flags))

    def _sys_recv(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        return self._recv_like(ev, 3)

    def _sys_read(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        return self._recv_like(ev, None)

    def _send_like(self, ev: ast.SyscallEvent, flags_arg: int | None) -> Callable[[], int]:
        fd = self._fd(ev.args[0], ev.line)
        size = self._int(ev.args[2], ev.line)
        flags = self._int(ev.args[flags_arg], ev.line) if flags_arg is not None else 0
        state = {"sent": 0}

        def attempt() -> int:
            # A blocking write returns once everything is queued.
            while state["sent"] < size:
                try:
                    state["sent"] += fd.sock.send(bytes(size - state["sent"]), flags)
                except BlockingIOError:
                    if fd.nonblock and state["sent"] > 0:
                        return state["sent"]
                    raise
                if fd.nonblock:
                    break
            return state["sent"]

        return attempt

    def _sys_send(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        return self._send_like(ev, 3)

    def _sys_sendto(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        fd = self._fd(ev.args[0], ev.line)
        if len(ev.args) < 5 or not self._unconnected(fd):
            return self._send_like(ev, 3)
        # sendto() with an address on a socket that never connected: the
        # implied connect of TCP Fast Open (RFC 7413 4.2), to the peer.
        size = self._int(ev.args[2], ev.line)
        flags = self._int(ev.args[3], ev.line)
        self.current_fd = self._int(ev.args[0], ev.line)
        return lambda: fd.sock.sendto(bytes(size), flags, (self.be.remote_ip, REMOTE_PORT))

    def _unconnected(self, fd: _Fd) -> bool:
        info = fd.sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
        return bool(info.tcpi_state == ustack.TCPS_CLOSED)

    def _sys_write(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        return self._send_like(ev, None)

    def _sys_shutdown(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        fd = self._fd(ev.args[0], ev.line)
        how = self._int(ev.args[1], ev.line)
        return _returning_zero(lambda: fd.sock.shutdown(how))

    def _sys_close(self, ev: ast.SyscallEvent) -> Callable[[], int]:
        n = self._int(ev.args[0], ev.line)
        fd = self._fd(ev.args[0], ev.line)

        def attempt() -> int:
            fd.sock.close()
            del self.fds[n]
            return 0

        return attempt

    # --- commands and code -----------------------------------------------------------------

    def _command(self, ev: ast.CommandEvent) -> None:
        cmd = ev.command.strip()
        m = re.fullmatch(r"sysctl -w ([\w.]+)=(-?\d+)", cmd)
        if m:
            self._sysctl(ev.line, m.group(1), int(m.group(2)))
            return
        # A string knob (net.inet.tcp.functions_default=rack, the write-only
        # Fast Open keys in hex: docs/tcp.md).
        m = re.fullmatch(r"sysctl -w ([\w.]+)=([\w-]+)", cmd)
        if m:
            self._sysctl(ev.line, m.group(1), m.group(2))
            return
        m = _SOCKSTAT.fullmatch(cmd)
        if m:
            port = m.group(2) or m.group(3)
            self._sockstat(
                ev.line, int(m.group(1)), int(port) if port else None, m.group(4), int(m.group(5))
            )
            return
        m = re.fullmatch(r"tcpdrop -s (\w+)", cmd)
        if m:
            for c in self.st.tcp_connections():
                if not _same_ip(c.remote[0], self.be.remote_ip):
                    continue  # an earlier script's (board back end)
                if c.state_name == _SOCKSTAT_STATE.get(m.group(1), m.group(1)):
                    self.st.tcp_drop(c.local, c.remote)
            return
        raise Unsupported(ev.line, f"command `{cmd}`")

    def _sysctl(self, line: int, name: str, value: int | str) -> None:
        if name in self.opts.forced:
            return  # the self-test's wrong value wins
        if name in _ACTION_KNOBS:
            return
        try:
            self.st.sysctl(name, value)
        except FileNotFoundError:
            if _FIXED_KNOBS.get(name) == value:
                return
            raise Unsupported(line, f"sysctl {name} is not implemented") from None
        except Error as exc:
            raise Unsupported(line, f"sysctl {name}={value} refused ({exc})") from None

    def _sockstat(self, line: int, family: int, port: int | None, state: str, want: int) -> None:
        """``sockstat -4|-6``: the connections of that family only."""
        name = _SOCKSTAT_STATE.get(state, state)
        # Only this script's peer (and listeners): a board back end shares
        # one stack between scripts, whose syncache may still hold an
        # earlier script's embryonic connection, with an earlier peer.
        rows = [
            c
            for c in self.st.tcp_connections()
            if (port is None or port in (c.local[1], c.remote[1]))
            and _ip_version(c.local[0]) == family
            and any(_same_ip(c.remote[0], ip) for ip in (self.be.remote_ip, "0.0.0.0", "::"))
        ]
        count = sum(1 for c in rows if c.state_name == name)
        if name == "CLOSED" and family == self.family:
            # Sockets still open whose connection is gone have no PCB.
            for fd in self.fds.values():
                info = fd.sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
                if info.tcpi_state == ustack.TCPS_CLOSED:
                    count += 1
        if count != want:
            raise Failure(
                line,
                f"sockstat: {count} connections in {state}, expected {want}",
                str(want),
                str(count),
            )

    def _code(self, ev: ast.CodeEvent) -> None:
        if self.current_fd is None or self.current_fd not in self.fds:
            raise Unsupported(ev.line, "%{ }% without a socket under test")
        info = self.fds[self.current_fd].sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
        env: dict[str, Any] = dict(_TCPI_NAMES)
        env.update(info)
        try:
            exec(
                compile(textwrap.dedent(ev.code).strip(), f"{self.script.path}:{ev.line}", "exec"),
                {"__builtins__": {}},
                env,
            )  # noqa: S102
        except AssertionError:
            raise Failure(
                ev.line,
                f"assertion failed: {ev.code.strip()}",
                ev.code.strip(),
                f"tcpi_state={tcp_state_name(info.tcpi_state)} tcpi_options={info.tcpi_options:#x}",
            ) from None
        except NameError as exc:
            raise Unsupported(ev.line, f"%{{ }}% uses {exc}") from None


def _option_text(o: ast.TcpOption) -> str:
    if isinstance(o, ast.MssOption):
        return f"mss {o.mss}"
    if isinstance(o, ast.WindowScaleOption):
        return f"wscale {o.shift}"
    if isinstance(o, ast.TimestampOption):
        return f"TS val {o.val} ecr {o.ecr}"
    if isinstance(o, ast.SackOption):
        return "sack " + " ".join(f"{b.left}:{b.right}" for b in o.blocks)
    if isinstance(o, ast.FastOpenOption):
        return "FO " + o.cookie.hex() if o.cookie else "FO"
    if isinstance(o, ast.Md5Option):
        return f"md5 {o.spec}"
    names = {
        ast.NopOption: "nop",
        ast.EolOption: "eol",
        ast.SackPermittedOption: "sackOK",
    }
    return names.get(type(o), type(o).__name__)


def _returning_zero(call: Callable[[], None]) -> Callable[[], int]:
    """A syscall that returns 0 when ``call`` does not raise."""

    def attempt() -> int:
        call()
        return 0

    return attempt


def _host_error(ust_or_host_errno: int) -> OSError:
    name = _errno.errorcode.get(ust_or_host_errno, "EIO")
    err = OSError(ust_or_host_errno, name)
    return err
