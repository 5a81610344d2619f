"""TCP MD5 signatures (RFC 2385) as FreeBSD's TCP_MD5SIG, through the bindings.

Two stacks on the pipe sign and check each other (transfers over a lossy
link arrive intact, every segment verified, counters as FreeBSD's); a wrong
key, a missing key and an unsigned peer are refused and counted.  The packet
scripts in tests/packetdrill/md5 pin the wire (option layouts, 1428-byte
segments beside timestamps, two SACK blocks, signed RSTs and TIME_WAIT
ACKs, dropped unsigned and forged segments); the runner checks every
signature with Python's hashlib, and the scripts fail with a wrong secret.
"""

from __future__ import annotations

import errno
import random
from pathlib import Path

import pytest

import ustack
from ustack import Faults, Socket
from ustack.packetdrill.suite import default_suite_dir, run_script
from ustack.sim import ADDR_A, ADDR_B, PipeRig

PORT = 7100
SCRIPTS = Path(__file__).resolve().parents[1] / "packetdrill" / "md5"

pytestmark = pytest.mark.skipif(
    not hasattr(ustack, "TCP_MD5SIG"), reason="bindings without TCP_MD5SIG"
)


def _sig(st: ustack.Stack) -> dict[str, int]:
    tcp = st.netstat("tcp")["tcp"]
    return {k: int(v) for k, v in tcp.items() if k.startswith("tcps_sig_")}


def _listener(net: PipeRig, md5: bool = True) -> Socket:
    srv = net.b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.setsockopt(ustack.SOL_SOCKET, ustack.SO_REUSEADDR, 1)
    if md5:
        srv.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_MD5SIG, 1)
    srv.bind(("", PORT))
    srv.listen(8)
    return srv


def _client(net: PipeRig, md5: bool = True) -> Socket:
    cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    if md5:
        cli.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_MD5SIG, 1)
    assert cli.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_MD5SIG) == int(md5)
    cli.setblocking(False)
    return cli


def _try_connect(net: PipeRig, cli: Socket, srv: Socket, seconds: float) -> Socket | None:
    """Runs the pipe until the listener has a connection or time is up."""
    try:
        cli.connect((ADDR_B, PORT))
    except BlockingIOError:
        pass
    srv.setblocking(False)
    deadline = net.a.now + int(seconds * 1e9)
    while net.a.now < deadline:
        try:
            conn, _ = srv.accept()
            return conn
        except BlockingIOError:
            net.run(net.a.now + 10_000_000)
    return None


@pytest.mark.parametrize("seed", [1, 5, 23])
def test_signed_transfer_over_lossy_pipe(seed: int) -> None:
    faults = Faults(loss=0.02)
    with PipeRig(seed=seed, addresses=True, a_to_b=faults, b_to_a=faults) as net:
        net.a.tcp_md5_add(ADDR_A, ADDR_B, b"correct horse")
        net.b.tcp_md5_add(ADDR_B, ADDR_A, "correct horse")
        assert net.a.tcp_md5_count == 2 and net.b.tcp_md5_count == 2
        srv = _listener(net)
        cli = _client(net)
        conn = _try_connect(net, cli, srv, 30)
        assert conn is not None, f"seed {seed}: no connection"
        # The accepted socket inherits TCP_MD5SIG from its listener.
        assert conn.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_MD5SIG) == 1
        data = random.Random(seed).randbytes(300_000)
        assert net.stream(cli, conn, data) == data, f"seed {seed}"
        back = random.Random(seed + 1).randbytes(50_000)
        assert net.stream(conn, cli, back) == back, f"seed {seed}"
        a, b = _sig(net.a), _sig(net.b)
        # Every segment either side took was signed and checked.
        assert a["tcps_sig_rcvgoodsig"] > 30 and b["tcps_sig_rcvgoodsig"] > 200, (seed, a, b)
        for s in (a, b):
            assert s["tcps_sig_rcvbadsig"] == 0 and s["tcps_sig_err_nosigopt"] == 0, (seed, s)
            assert s["tcps_sig_err_buildsig"] == 0, (seed, s)


def test_wrong_key_is_refused_and_counted(net: PipeRig) -> None:
    net.a.tcp_md5_add(ADDR_A, ADDR_B, b"one key")
    net.b.tcp_md5_add(ADDR_B, ADDR_A, b"another key")
    srv = _listener(net)
    cli = _client(net)
    assert _try_connect(net, cli, srv, 5) is None
    b = _sig(net.b)
    assert b["tcps_sig_rcvbadsig"] >= 2 and b["tcps_sig_rcvgoodsig"] == 0, b
    assert net.b.netstat("tcp")["tcp"]["tcps_sc_added"] == 0


def test_unsigned_peer_is_refused(net: PipeRig) -> None:
    net.b.tcp_md5_add(ADDR_B, ADDR_A, b"k")
    srv = _listener(net)
    cli = _client(net, md5=False)
    assert _try_connect(net, cli, srv, 5) is None
    assert _sig(net.b)["tcps_sig_err_nosigopt"] >= 2
    # And a signed segment to a socket without TCP_MD5SIG is taken, counted.
    net.b.tcp_md5_flush()
    assert net.b.tcp_md5_count == 0


def test_no_key_sends_nothing(net: PipeRig) -> None:
    srv = _listener(net, md5=False)
    cli = _client(net)  # TCP_MD5SIG, but no key for the pair
    assert _try_connect(net, cli, srv, 5) is None
    assert _sig(net.a)["tcps_sig_err_buildsig"] >= 2
    assert net.b.netstat("tcp")["tcp"]["tcps_rcvtotal"] == 0
    # The key arrives: the next retransmission of the SYN goes out signed;
    # a listener without TCP_MD5SIG takes it (counted as unexpected) and
    # answers unsigned, which the client drops (RFC 2385 3.0).
    net.a.tcp_md5_add(ADDR_A, ADDR_B, b"late")
    assert _try_connect(net, cli, srv, 10) is None
    assert _sig(net.b)["tcps_sig_err_sigopt"] >= 1
    assert _sig(net.a)["tcps_sig_err_nosigopt"] >= 1
    assert cli.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO).tcpi_state == ustack.TCPS_SYN_SENT


def test_key_api_errors(stack: ustack.Stack) -> None:
    stack.tcp_md5_add("198.18.0.1", "198.18.0.2", b"x" * 80)
    with pytest.raises(OSError) as e:
        stack.tcp_md5_add("198.18.0.1", "198.18.0.2", b"x" * 81)
    assert e.value.errno == errno.EINVAL
    with pytest.raises(FileNotFoundError):
        stack.tcp_md5_del("198.18.0.1", "198.18.0.9")
    stack.tcp_md5_add("2001:2::1", "2001:2::2", b"v6", both=False)
    assert stack.tcp_md5_count == 3
    stack.tcp_md5_del("2001:2::1", "2001:2::2", both=False)
    stack.tcp_md5_flush()
    assert stack.tcp_md5_count == 0


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.pkt")))
def test_wire_scripts(script: str) -> None:
    r = run_script(SCRIPTS / script)
    assert r.status == "pass", r


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.pkt")))
def test_wire_scripts_fail_with_a_wrong_secret(script: str, tmp_path: Path) -> None:
    """The runner's checks can fail: the script's secret differs from the keys."""
    text = (SCRIPTS / script).read_text()
    lines = text.splitlines(keepends=True)
    bad = "".join(
        "--tcp_md5_secret=wrong\n" if ln.startswith("--tcp_md5_secret=") else ln for ln in lines
    )
    path = tmp_path / script
    path.write_text(bad)
    r = run_script(path)
    assert r.status == "fail", r


SUITE_SETSOCKOPT = default_suite_dir() / "socket-api" / "setsockopt"


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_suite_active_md5_without_udp_parts(family: str, tmp_path: Path) -> None:
    """FreeBSD's active-open MD5 scripts also run TCP over UDP; without the
    /udp exchanges (another feature) everything else in them passes."""
    src = SUITE_SETSOCKOPT / f"socket-api-setsockopt-md5-active-{family}.pkt"
    if not src.is_file():
        pytest.skip(f"FreeBSD's suite not found at {src}")
    lines = [
        ln
        for ln in src.read_text().splitlines(keepends=True)
        if "/udp(" not in ln and "udp_encapsulation" not in ln and "udp_tunneling" not in ln
    ]
    path = tmp_path / src.name
    path.write_text("".join(lines))
    r = run_script(path)
    assert r.status == "pass", r
    # TCP_RACK_PACE_* (another TCP stack's options) failed, as warnings.
    assert any("TCP_RACK_PACE" in w or "setsockopt" in w for w in r.warnings), r.warnings


def test_unknown_tcp_option_is_fatal_unless_non_fatal(tmp_path: Path) -> None:
    body = """--ip_version=ipv4
 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0.00 setsockopt(3, IPPROTO_TCP, TCP_NO_SUCH_OPTION, [1], 4) = 0
"""
    path = tmp_path / "t.pkt"
    path.write_text(body)
    assert run_script(path).status == "unsupported"
    path.write_text(body.replace("--ip_version=ipv4\n", "--ip_version=ipv4\n--non_fatal=syscall\n"))
    r = run_script(path)
    assert r.status == "pass" and any("ENOPROTOOPT" in w for w in r.warnings), r
