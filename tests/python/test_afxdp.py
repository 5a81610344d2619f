"""The AF_XDP driver on a veth pair, against the real Linux kernel.

Root only (CI runs as root): each test makes its own network namespace with
ustack.netns.NetNs, a veth pair xa/xb inside it (ustack on xa through AF_XDP,
the kernel on xb with 198.18.0.1), addresses from 198.18.0.0/15, and
removes it afterwards; nothing touches the host's interfaces.  The cases run
in a child process inside the namespace (CASES below) and report JSON.

These stand in for the generic C conformance suite (tests/drivers), whose
adapter model is two ends joined in one process on a virtual clock: an
AF_XDP socket's other end is the kernel, on real time.  The same ground is
covered here: frames both ways at every size class (ping with fragments,
multi-buffer), TCP with and without the checksum offload, detach with
frames in flight (mbuf zones back to baseline), zero-copy receive (data
held in a socket buffer while lent, every frame back), ring accounting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from ustack import afxdp, netns

REASON = netns.unavailable_reason() or (None if afxdp.available() else afxdp.why_unavailable())
pytestmark = pytest.mark.skipif(
    REASON is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
    reason=f"{REASON}",
)
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "python_bindings")}

CASES = textwrap.dedent(
    r'''
    import hashlib, json, os, signal, socket, subprocess, sys, time
    import ustack
    from ustack import afxdp

    def sh(*a):
        subprocess.run(a, check=True, capture_output=True)

    def veth(queues=1, mtu=1500):
        sh("ip", "link", "set", "lo", "up")
        q = ["numtxqueues", str(queues), "numrxqueues", str(queues)]
        sh("ip", "link", "add", "xa", *q, "type", "veth", "peer", "name", "xb", *q)
        for d in ("xa", "xb"):
            sh("ip", "link", "set", d, "mtu", str(mtu))
            sh("ip", "link", "set", d, "up")
        sh("ip", "addr", "add", "198.18.0.1/24", "dev", "xb")
        # Frames from a kernel peer with tx checksumming on carry partial
        # checksums that AF_XDP hands up unfinished.
        sh("ethtool", "-K", "xb", "tx", "off")

    def pump(stacks, cond, timeout=20.0):
        end = time.monotonic() + timeout
        while not cond() and time.monotonic() < end:
            for st in stacks:
                st.poll()
            time.sleep(0.0002)
        return cond()

    def ping(stacks, *args, cpu=None):
        argv = ["ping", "-c", "3", "-i", "0.2", "-W", "2", *args]
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu), *argv]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        pump(stacks, lambda: p.poll() is not None)
        out = p.stdout.read()
        return p.wait() == 0, out

    def xdp_attached():
        return "prog/xdp" in link_show("-d")

    def link_show(*opt):
        argv = ["ip", *opt, "link", "show", "xa"]
        return subprocess.run(argv, capture_output=True, text=True).stdout

    def snmp(proto, field):
        lines = [l.split() for l in open("/proc/net/snmp") if l.startswith(proto + ":")]
        return int(lines[1][lines[0].index(field)])

    def case_modes():
        veth()
        out = {}
        for mode in ("native", "generic", "auto"):
            p = afxdp.Port("xa", mode=mode)
            st = ustack.Stack()
            ifc = st.add_interface(p.queue(0), "xdp0", "198.18.0.2/24")
            ok, _ = ping([st], "-s", "3000", "198.18.0.2")  # IP fragments both ways
            link = link_show()
            shown = "xdpgeneric" if "xdpgeneric" in link else ("xdp" if " xdp " in link else "")
            out[mode] = {"got": p.mode, "zero_copy": p.zero_copy, "ping": ok,
                         "shown": shown, "stats": p.stats()}
            ifc.detach(); p.close(); st.close()
            out[mode]["after_close"] = xdp_attached()
        try:
            afxdp.Port("xa", zero_copy=True)
            out["zc_required"] = "opened"
        except OSError as e:
            out["zc_required"] = type(e).__name__ + ":" + str(e)
        bad = []
        for kw in ({"frames": 1000}, {"frame_size": 3000}, {"queues": 0}, {"queues": 2}):
            try:
                afxdp.Port("xa", **kw).close()
                bad.append("opened")
            except OSError as e:
                bad.append(type(e).__name__)
        out["bad_cfg"] = bad
        try:
            afxdp.Port("nonexistent0")
            out["no_dev"] = "opened"
        except OSError as e:
            out["no_dev"] = type(e).__name__
        return out

    def connect(st, rcvbuf=0):
        """A kernel client connected to a ustack listener on port 5001:
        (listener, kernel socket, accepted ustack socket); rcvbuf, when
        given, is the listener's (so the window, fixed at the SYN)."""
        srv = st.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        if rcvbuf:
            srv.setsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF, rcvbuf)
        srv.bind(("", 5001)); srv.listen(4); srv.setblocking(False)
        k = socket.socket(); k.setblocking(False)
        try:
            k.connect(("198.18.0.2", 5001))
        except BlockingIOError:
            pass
        conn = []
        def acc():
            try:
                conn.append(srv.accept()[0])
            except BlockingIOError:
                pass
            return bool(conn)
        assert pump([st], acc), "no connection"
        conn[0].setblocking(False)
        return srv, k, conn[0]

    def tcp_both_ways(st, total=4 << 20):
        """ustack receives total bytes from a kernel client, echoes nothing, then
        sends total bytes back on the same connection; returns rates."""
        block = bytes(range(256)) * 256
        srv, k, c = connect(st)
        res = {}
        for direction in ("k2u", "u2k"):
            tx, rx = (k, c) if direction == "k2u" else (c, k)
            sent = got = 0; h = hashlib.sha256()
            t0 = time.monotonic(); end = t0 + 60
            while got < total and time.monotonic() < end:
                if sent < total:
                    try:
                        off = sent % len(block)
                        sent += tx.send(block[off : off + min(len(block) - off, total - sent)])
                    except (BlockingIOError, OSError):
                        pass
                st.poll()
                try:
                    d = rx.recv(262144)
                    h.update(d); got += len(d)
                except (BlockingIOError, OSError):
                    pass
            dt = time.monotonic() - t0
            want = hashlib.sha256(block * (total // len(block))).hexdigest()
            ok = got == total and h.hexdigest() == want
            res[direction] = {"ok": ok, "bytes_per_s": total / dt}
        k.close(); c.close(); srv.close(); st.poll()
        return res

    def case_csum(tx_csum):
        veth()
        p = afxdp.Port("xa", tx_csum=tx_csum == "1")
        st = ustack.Stack()
        ifc = st.add_interface(p.queue(0), "xdp0", "198.18.0.2/24")
        bad0 = snmp("Tcp", "InCsumErrors")
        res = tcp_both_ways(st)
        # UDP too: the metadata path's checksum offset differs.
        u = st.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
        k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        k.bind(("198.18.0.1", 9)); k.setblocking(False)
        for i in range(20):
            u.sendto(bytes([i]) * 1000, ("198.18.0.1", 9))
        got = []
        def udp():
            try:
                got.append(k.recv(2048))
            except BlockingIOError:
                pass
            return len(got) == 20
        pump([st], udp, 5)
        res["udp"] = len(got)
        res["udp_csum_errors"] = snmp("Udp", "InCsumErrors")
        res["tcp_csum_errors"] = snmp("Tcp", "InCsumErrors") - bad0
        res["tx_csum"] = p.tx_csum
        res["stats"] = p.stats()
        ifc.detach(); p.close(); st.close()
        return res

    def case_multibuf():
        veth(mtu=9000)
        out = {}
        p = afxdp.Port("xa", mode="native")
        st = ustack.Stack()
        ifc = st.add_interface(p.queue(0), "xdp0", "198.18.0.2/24")
        ok, _ = ping([st], "-s", "8000", "198.18.0.2")
        out["sg"] = {"mtu": p.mtu, "multi_buffer": p.multi_buffer, "ping": ok, "stats": p.stats()}
        ifc.detach(); p.close(); st.close()
        # 2048-byte frames: chains of up to 5 descriptors each way.
        p = afxdp.Port("xa", frame_size=2048, mode="generic")
        st = ustack.Stack()
        ifc = st.add_interface(p.queue(0), "xdp0", "198.18.0.2/24")
        ok, _ = ping([st], "-s", "8000", "198.18.0.2")
        out["sg2k"] = {"ping": ok, "stats": p.stats()}
        ifc.detach(); p.close(); st.close()
        p = afxdp.Port("xa", mode="generic", multi_buffer=False)
        out["nosg"] = {"mtu": p.mtu, "multi_buffer": p.multi_buffer}
        p.close()
        return out

    def case_queues():
        veth(queues=2)
        # XPS on the peer: what xb sends from CPU i leaves on its tx queue i,
        # which is xa's rx queue i.
        for i in range(2):
            with open(f"/sys/class/net/xb/queues/tx-{i}/xps_cpus", "w") as f:
                f.write(str(1 << i))
        p = afxdp.Port("xa", queues=2, mode="native")
        a, b = ustack.Stack(), ustack.Stack()
        ia = a.add_interface(p.queue(0), "xdp0", "198.18.0.2/24")
        ib = b.add_interface(p.queue(1), "xdp1", "198.18.0.3/24")
        ok0, _ = ping([a, b], "198.18.0.2", cpu=0)
        ok1, _ = ping([a, b], "198.18.0.3", cpu=1)
        out = {"ping0": ok0, "ping1": ok1, "q0": p.stats(0), "q1": p.stats(1), "sum": p.stats()}
        ia.detach(); ib.detach(); p.close(); a.close(); b.close()
        return out

    def case_accounting():
        veth()
        frames = 128
        p = afxdp.Port("xa", frames=frames)
        st = ustack.Stack()
        zones0 = [z["in_use"] for z in st.zone_stats()]
        ifc = st.add_interface(p.queue(0), "xdp0", "198.18.0.2/24")
        # A window for all 200 KB (more frames than the 64 of the receive
        # half), whatever auto-sizing would have grown it to by then.
        srv, k, c = connect(st, rcvbuf=1 << 20)
        # The application does not read: received data stays lent in the
        # socket buffer, and below lend_min_free the driver copies instead.
        data = os.urandom(200_000)
        sent = [0]
        def push():
            try:
                sent[0] += k.send(data[sent[0]:sent[0] + 16384])
            except (BlockingIOError, OSError):
                pass
            return sent[0] >= len(data)
        pump([st], push, 10)
        pump([st], lambda: False, 0.3)
        held = p.stats()
        got = b""
        def drain():
            nonlocal got
            try:
                got += c.recv(65536)
            except BlockingIOError:
                pass
            return len(got) >= sent[0]
        pump([st], drain)
        pump([st], lambda: False, 0.3)
        after_read = p.stats()
        # Detach with frames in flight both ways: datagrams from the kernel
        # held (lent) in a socket buffer, datagrams to the kernel just sent.
        u = st.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
        u.bind(("", 9))
        ks = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(30):
            ks.sendto(bytes([i]) * 1200, ("198.18.0.2", 9))
        pump([st], lambda: False, 0.3)
        lent_udp = p.stats()["lent_now"]
        for i in range(30):
            u.sendto(bytes([i]) * 1200, ("198.18.0.1", 7))
        ifc.detach()
        u.close(); c.close(); srv.close(); k.close(); ks.close()
        for _ in range(50):
            st.poll()
        after_detach = p.stats()
        zones1 = [z["in_use"] for z in st.zone_stats()]
        names = [z["name"] for z in st.zone_stats()]
        p.close()
        st.close()
        read = got == data[:len(got)] and len(got) == sent[0]
        return {"frames": frames, "held": held, "read": read,
                "after_read": after_read, "after_detach": after_detach,
                "zones0": zones0, "zones1": zones1, "names": names, "lent_udp": lent_udp}

    def case_rebind():
        veth()
        times = []
        for _ in range(5):
            t0 = time.monotonic()
            p = afxdp.Port("xa")
            times.append(time.monotonic() - t0)
            p.close()
        return {"opens": len(times), "max_open_s": max(times)}

    def case_child():
        veth()
        p = afxdp.Port("xa")
        print("READY", flush=True)
        time.sleep(60)

    def case_raw():
        veth()
        # The kernel's side: no address needed for raw frames; count what xb
        # receives from its statistics.
        p = afxdp.Port("xa", mode=os.environ.get("XDP_MODE", "native"))
        mac_b = open("/sys/class/net/xb/address").read().strip()
        dst = bytes.fromhex(mac_b.replace(":", ""))
        frame = dst + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + bytes(46)
        rxb0 = int(open("/sys/class/net/xb/statistics/rx_packets").read())
        n_tx = p.raw_pump(0, frame, 1.0)
        rxb = int(open("/sys/class/net/xb/statistics/rx_packets").read()) - rxb0
        # Receive: a second AF_XDP port on xb, in a child process, sends as
        # fast as it can (the ceiling of AF_XDP to AF_XDP over the veth).
        mac_a = bytes.fromhex(open("/sys/class/net/xa/address").read().strip().replace(":", ""))
        out = mac_a + dst + b"\x88\xb5" + bytes(46)
        pid = os.fork()
        if pid == 0:
            try:
                with afxdp.Port("xb", mode=os.environ.get("XDP_MODE", "native")) as pb:
                    time.sleep(0.1)
                    pb.raw_pump(0, out, 1.3)
            finally:
                os._exit(0)
        time.sleep(0.05)
        n_rx = p.raw_pump(0, None, 1.0)
        os.waitpid(pid, 0)
        st = p.stats()
        p.close()
        return {"tx_pps": n_tx, "kernel_rx": rxb, "rx_pps": n_rx, "stats": st}

    print("RESULT " + json.dumps(globals()["case_" + sys.argv[1]](*sys.argv[2:])), flush=True)
    '''
)


def _run(ns: netns.NetNs, *args: str, timeout: float = 120) -> dict[str, Any]:
    r = subprocess.run(
        ns.exec_argv(sys.executable, "-c", CASES, *args),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
    assert r.returncode == 0 and lines, r.stdout[-3000:] + r.stderr[-3000:]
    out: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return out


def test_native_and_generic_bind_copy_mode_and_ping_with_fragments() -> None:
    with netns.NetNs("xdpmode") as ns:
        out = _run(ns, "modes")
    for mode in ("native", "generic"):
        r = out[mode]
        assert r["got"] == mode and r["ping"], r
        assert r["shown"] == ("xdp" if mode == "native" else "xdpgeneric"), r
        # veth has no zero-copy: the bind fell back to copy mode.
        assert r["zero_copy"] is False
        assert r["stats"]["rx_frames"] >= 6 and r["stats"]["tx_frames"] >= 6, r
        assert r["stats"]["rx_lent"] > 0, r
        # Closing the port detached the program.
        assert r["after_close"] is False
    # auto: native where the device has it (veth does).
    assert out["auto"]["got"] == "native"
    assert out["zc_required"].startswith("OSError") or "EOPNOTSUPP" in out["zc_required"]
    assert out["no_dev"] != "opened"
    # Not a power of two, not 2048/4096, no queue, more queues than the veth has.
    assert "opened" not in out["bad_cfg"], out["bad_cfg"]


@pytest.mark.parametrize("tx_csum", ["1", "0"])
def test_tcp_and_udp_with_checksum_metadata_and_software(tx_csum: str) -> None:
    with netns.NetNs("xdpcsum") as ns:
        out = _run(ns, "csum", tx_csum)
    assert out["k2u"]["ok"] and out["u2k"]["ok"], out
    assert out["udp"] == 20 and out["udp_csum_errors"] == 0 and out["tcp_csum_errors"] == 0, out
    s = out["stats"]
    if tx_csum == "1":
        # Kernel 6.11+ takes tx metadata with XDP_UMEM_TX_SW_CSUM.
        assert out["tx_csum"] is True
        assert s["tx_csum_offload"] > 1000 and s["tx_sw_csum"] == 0, s
    else:
        assert out["tx_csum"] is False
        assert s["tx_sw_csum"] > 1000 and s["tx_csum_offload"] == 0, s
    assert s["tx_invalid"] == 0 and s["rx_invalid"] == 0, s
    print(
        f"AF_XDP tcp tx_csum={tx_csum}: kernel->ustack {out['k2u']['bytes_per_s'] / 1e6:.1f} MB/s, "
        f"ustack->kernel {out['u2k']['bytes_per_s'] / 1e6:.1f} MB/s"
    )


def test_multi_buffer_frames_both_ways() -> None:
    with netns.NetNs("xdpsg") as ns:
        out = _run(ns, "multibuf")
    sg = out["sg"]
    assert sg["multi_buffer"] and sg["mtu"] == 9000 and sg["ping"], sg
    # 8028-byte datagrams: chains of descriptors in and out.
    assert sg["stats"]["rx_frags"] >= 3 and sg["stats"]["tx_frags"] >= 3, sg
    assert out["sg2k"]["ping"] and out["sg2k"]["stats"]["tx_frags"] >= 3, out["sg2k"]
    # Without XDP_USE_SG a frame must fit one UMEM frame: the MTU says so.
    assert out["nosg"]["multi_buffer"] is False and out["nosg"]["mtu"] < 4096, out["nosg"]


def test_two_queues_two_stacks() -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs two CPUs for XPS")
    with netns.NetNs("xdpq") as ns:
        out = _run(ns, "queues")
    assert out["ping0"] and out["ping1"], out
    # Each stack saw its own pings on its own queue.
    assert out["q0"]["rx_frames"] >= 3 and out["q1"]["rx_frames"] >= 3, out
    assert out["sum"]["rx_frames"] == out["q0"]["rx_frames"] + out["q1"]["rx_frames"]


def test_ring_accounting_lending_and_detach() -> None:
    with netns.NetNs("xdpacct") as ns:
        out = _run(ns, "accounting")
    half = out["frames"] // 2
    held, read, det = out["held"], out["after_read"], out["after_detach"]
    assert out["read"], out
    # An application that does not read holds lent frames; the driver
    # switched to copying before the fill ring ran dry.
    assert held["lent_now"] > 0 and held["rx_copied"] > 0, held
    assert held["lent_now"] <= half - half // 4, held
    # Every rx frame is somewhere: fill ring, driver, or lent.
    # (After detach frames may still arrive on the rx ring: no stack reads it.)
    for s in (held, read, det):
        assert s["fill_now"] + s["rx_free_now"] + s["lent_now"] <= half, s
        assert s["tx_free_now"] + s["tx_pending_now"] == half, s
    for s in (held, read):
        assert s["fill_now"] + s["rx_free_now"] + s["lent_now"] == half, s
    assert read["lent_now"] == 0, read
    # Datagrams waiting in a socket buffer were lent; closing the socket
    # after detach gave every frame back, and the stack its mbufs.
    assert out["lent_udp"] >= 30 and det["lent_now"] == 0, out
    mbuf_zones = [i for i, n in enumerate(out["names"]) if n.startswith("mbuf")]
    assert [out["zones1"][i] for i in mbuf_zones] == [out["zones0"][i] for i in mbuf_zones], out


def test_rebind_right_after_close_retries_ebusy() -> None:
    with netns.NetNs("xdprebind") as ns:
        out = _run(ns, "rebind")
    assert out["opens"] == 5 and out["max_open_s"] < 1.0, out


def test_sigkill_leaves_no_program_attached() -> None:
    with netns.NetNs("xdpkill") as ns:
        child = subprocess.Popen(
            ns.exec_argv(sys.executable, "-c", CASES, "child"),
            env=ENV,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "READY"
        shown = ns.run("ip", "link", "show", "xa").stdout
        assert "xdp" in shown
        child.kill()
        child.wait()
        end = time.monotonic() + 5
        while time.monotonic() < end:
            shown = ns.run("ip", "link", "show", "xa").stdout
            if "xdp" not in shown:
                break
            time.sleep(0.05)
        assert "xdp" not in shown, shown


def test_raw_frame_rate() -> None:
    with netns.NetNs("xdpraw") as ns:
        out = _run(ns, "raw")
    assert out["tx_pps"] > 10_000 and out["kernel_rx"] >= out["tx_pps"] * 0.9, out
    assert out["rx_pps"] > 10_000, out
    print(f"AF_XDP raw on veth (native, copy): tx {out['tx_pps']} pps, rx {out['rx_pps']} pps")
