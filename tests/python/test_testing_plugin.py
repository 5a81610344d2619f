"""The pytest plugin ustack.testing, run on generated test files with pytester.

Each test writes a small test module into pytester's directory, runs pytest
on it in this process (``runpytest``: the plugin comes from the entry point
as it does for users) or in a child (``runpytest_subprocess``: loading
options), and checks the outcomes and what the plugin printed and wrote:
fixtures, the ``ustack`` marker's faults reaching the pipe, the seed replay,
the failure report's pcap files and counters.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ustack import netns
from ustack.testing import derive_seed, pcap_frames
from ustack.testing.units import duration_ns, fraction, rate_bps

pytest_plugins = ["pytester"]

# The plugin loads by its entry point when ustack is installed (pip install
# -e ., as CI does); run from a bare PYTHONPATH, the generated sessions load
# it by name instead (PYTEST_PLUGINS).
ENTRY_POINT = any(
    ep.name == "ustack.testing" and ep.value == "ustack.testing"
    for ep in importlib.metadata.entry_points(group="pytest11")
)


@pytest.fixture(autouse=True)
def _plugin_without_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    if not ENTRY_POINT or os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.setenv("PYTEST_PLUGINS", "ustack.testing")


# The failing test of the report checks: a lossy transfer, then a failure
# with the connection still open.
FAILING = """
import pytest

@pytest.mark.ustack(loss=0.05, delay="2ms", rate="100Mbit")
def test_lossy(ustack_pair):
    client, server = ustack_pair.connect(tcp_nodelay=1)
    data = bytes(range(256)) * 400
    assert ustack_pair.stream(client, server, data) == data
    assert ustack_pair.seed == {seed}, "deliberate failure"
"""


def _section(text: str) -> str:
    """The "ustack" section of a failure in pytest's terminal output."""
    m = re.search(r"-{3,} ustack -{3,}\n(.*?)(?:\n[=_-]{5,}|\Z)", text, re.S)
    assert m is not None, text
    return m.group(1)


def _pcaps(section: str) -> list[Path]:
    return [Path(p) for p in re.findall(r"^\s+(/\S+\.pcap) \(\d+ frames\)$", section, re.M)]


# --- units ------------------------------------------------------------------------------


def test_human_units() -> None:
    assert duration_ns("5ms") == 5_000_000
    assert duration_ns("250us") == duration_ns("250µs") == 250_000
    assert duration_ns(0.5) == 500_000_000
    assert duration_ns("2") == 2_000_000_000
    assert rate_bps("1Gbit") == 10**9
    assert rate_bps("100 Mbps") == 10**8
    assert rate_bps("10MB/s") == 80_000_000
    assert rate_bps(5000) == 5000
    assert fraction("1%") == pytest.approx(0.01)
    assert fraction(0.25) == 0.25
    for bad in (lambda: duration_ns("5 parsecs"), lambda: rate_bps("fast"), lambda: fraction(2)):
        with pytest.raises(ValueError):
            bad()


# --- ustack_pair and the marker -------------------------------------------------------------


def test_pair_connects_and_moves_bytes_on_virtual_time(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_pair(ustack_pair, ustack_clock, ustack_seed):
            assert ustack_pair.clock is ustack_clock
            assert ustack_pair.seed == ustack_seed
            assert (ustack_pair.a_addr, ustack_pair.b_addr) == ("198.18.0.1", "198.18.0.2")
            client, server = ustack_pair.connect(5000)
            assert client.getpeername() == ("198.18.0.2", 5000)
            assert server.getpeername() == client.getsockname()
            client.sendall(b"x" * 20_000)
            got = b""
            while len(got) < 20_000:
                got += server.recv(65536)
            assert got == b"x" * 20_000
            before = ustack_clock.now
            ustack_pair.run("2s")
            assert ustack_clock.now - before == 2_000_000_000
            assert ustack_pair.a.netstat("tcp")["tcp"]["tcps_connects"] == 1
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_marker_faults_units_knobs_and_seed_reach_the_stacks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ustack(loss="10%", delay="5ms", rate="1Gbit", jitter="1ms",
                            duplicate=0.01, reorder=0.02, corrupt=0.001, mtu=9000, seed=7,
                            a_to_b={"loss": 0, "delay": "20ms"},
                            knobs={"net.inet.tcp.sack.enable": 0},
                            b_knobs={"net.inet.tcp.delayed_ack": 0})
        def test_marker(ustack_pair, ustack_seed):
            ab, ba = ustack_pair.pipe.faults("a_to_b"), ustack_pair.pipe.faults("b_to_a")
            assert (ab.loss, ab.delay_ns) == (0.0, 20_000_000)
            assert (ba.loss, ba.delay_ns) == (0.1, 5_000_000)
            for f in (ab, ba):
                assert (f.rate_bps, f.jitter_ns, f.dup, f.reorder, f.corrupt) == (
                    10**9, 1_000_000, 0.01, 0.02, 0.001)
            assert ustack_pair.ia.mtu == ustack_pair.ib.mtu == 9000
            assert ustack_pair.a.sysctl("net.inet.tcp.sack.enable") == 0
            assert ustack_pair.b.sysctl("net.inet.tcp.sack.enable") == 0
            assert ustack_pair.a.sysctl("net.inet.tcp.delayed_ack") == 1
            assert ustack_pair.b.sysctl("net.inet.tcp.delayed_ack") == 0
            assert ustack_seed == ustack_pair.seed == ustack_pair.pipe.seed == 7

        @pytest.mark.ustack(loss=0.5)
        class TestClass:
            @pytest.mark.ustack(delay="1ms")
            def test_closest_marker_wins_per_key(self, ustack_pair):
                f = ustack_pair.pipe.faults("a_to_b")
                assert (f.loss, f.delay_ns) == (0.5, 1_000_000)

        @pytest.mark.ustack(colour="blue")
        def test_unknown_key(ustack_pair):
            pass

        @pytest.mark.ustack(delay="5 parsecs")
        def test_bad_unit(ustack_pair):
            pass
        """
    )
    result = pytester.runpytest("-rE")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*::test_unknown_key: ustack marker: unknown key 'colour' (known: loss, *",
            "*::test_bad_unit: delay: '5 parsecs' is not a duration*",
        ]
    )


def test_pair_ipv6_set_faults_run_until_and_pcap_key(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(
        """
        import socket

        import pytest

        @pytest.mark.ustack(ipv6=True, loss=1.0, pcap="all")
        def test_v6(ustack_pair):
            ustack_pair.set_faults(loss=0, delay="10ms")       # the pipe starts black
            assert ustack_pair.pipe.faults("a_to_b").delay_ns == 10_000_000
            client, server = ustack_pair.connect(family=socket.AF_INET6, so_sndbuf=32768)
            assert client.getpeername()[:2] == ("2001:2::2", 5001)
            t0 = ustack_pair.now
            client.send(b"v6")
            server.setblocking(False)
            got = []

            def arrived():
                try:
                    got.append(server.recv(10))
                except BlockingIOError:
                    return False
                return True

            assert ustack_pair.run_until(arrived, timeout="1s")
            assert got == [b"v6"] and ustack_pair.now - t0 >= 10_000_000
            ustack_pair.set_faults("b_to_a", loss=1.0)
            assert ustack_pair.pipe.faults("a_to_b").loss == 0
            assert ustack_pair.pipe.faults("b_to_a").loss == 1.0
            assert ustack_pair.pipe_stats()["a_to_b"]["sent"] > 0
        """
    )
    where = tmp_path / "v6"
    result = pytester.runpytest(f"--ustack-pcap-dir={where}")
    result.assert_outcomes(passed=1)
    kept = sorted(where.rglob("*.pcap"))  # pcap="all" from the marker
    assert [p.name for p in kept] == ["a-pa0.pcap", "b-pb0.pcap"]
    assert pcap_frames(kept[0]) >= 4


def test_indirect_parametrize_with_dicts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ustack(delay="3ms", loss=0.3)
        @pytest.mark.parametrize("ustack_pair", [{"loss": 0.01}, {"loss": "2%", "rate": "10Mbit"}],
                                 indirect=True, ids=["one", "two"])
        def test_param(ustack_pair, request):
            f = ustack_pair.pipe.faults("b_to_a")
            assert f.delay_ns == 3_000_000
            want = {"one": (0.01, 0), "two": (0.02, 10_000_000)}[request.node.callspec.id]
            assert (f.loss, f.rate_bps) == want
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_ustack_faults_option_sets_defaults_under_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_default(ustack_pair):
            f = ustack_pair.pipe.faults("a_to_b")
            assert (f.loss, f.delay_ns) == (0.01, 5_000_000)

        @pytest.mark.ustack(loss=0)
        def test_marker_wins(ustack_pair):
            f = ustack_pair.pipe.faults("a_to_b")
            assert (f.loss, f.delay_ns) == (0.0, 5_000_000)
        """
    )
    pytester.runpytest("--ustack-faults=loss=1%,delay=5ms").assert_outcomes(passed=2)
    bad = pytester.runpytest("--ustack-faults=speed=9")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--ustack-faults*speed=9*"])


# --- the failure report ----------------------------------------------------------------------


def test_failure_report_has_seed_replay_pcaps_counters_and_tcp_info(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(test_fail=FAILING.format(seed=-1))
    pcap_dir = tmp_path / "pcaps"
    xml = tmp_path / "junit.xml"
    result = pytester.runpytest(
        "--ustack-seed=4242", f"--ustack-pcap-dir={pcap_dir}", f"--junitxml={xml}"
    )
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "ustack: session seed 4242 (--ustack-seed=4242 replays it)" in out
    section = _section(out)
    seed = derive_seed(4242, "test_fail.py::test_lossy")
    assert f"seed: {seed} (from session seed 4242 and the node id)" in section
    assert re.search(
        rf"^replay: cd {re.escape(str(pytester.path))} && \S+ -m pytest "
        r"test_fail.py::test_lossy --ustack-seed=4242$",
        section,
        re.M,
    ), section
    assert "ustack_pair: a_to_b: loss=0.05, delay=2ms, rate=100Mbit;" in section
    pcaps = _pcaps(section)
    assert sorted(p.name for p in pcaps) == ["a-pa0.pcap", "b-pb0.pcap"]
    for p in pcaps:
        assert p.parent.parent == pcap_dir
        assert pcap_frames(p) > 100  # every frame of the transfer, both ways
    # Counters that moved: A sent the data and retransmitted what the pipe lost.
    sent = int(re.search(r"^    tcp\.tcps_sndbyte = (\d+)$", section, re.M).group(1))  # type: ignore[union-attr]
    assert sent >= 102400
    assert re.search(r"^    tcp\.tcps_sndrexmitpack = [1-9]", section, re.M), section
    assert re.search(r"^counters pipe a_to_b:\n(    .*\n)*    lost = [1-9]", section, re.M)
    # The TCP table and TCP_INFO of both open sockets.
    assert re.search(r"^    198\.18\.0\.1:\d+ -> 198\.18\.0\.2:5001 ESTABLISHED", section, re.M)
    info = re.findall(r"^    socket \d+ (\S+) -> (\S+) ESTABLISHED: .*rto=\d+", section, re.M)
    assert len(info) == 2 and info[0] == info[1][::-1], section
    # junitxml: the same as properties of the test case.
    case = ET.parse(xml).getroot().find(".//testcase")
    assert case is not None
    props = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
    assert props["ustack_seed"] == str(seed)
    assert props["ustack_replay"].endswith("test_fail.py::test_lossy --ustack-seed=4242")
    assert "TCP_INFO a:" in props["ustack"]
    assert {p.get("value") for p in case.iter("property") if p.get("name") == "ustack_pcap"} == {
        str(p) for p in pcaps
    }


def test_pcaps_removed_on_pass_kept_with_all_none_with_none(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(
        """
        def test_ok(ustack_pair):
            client, server = ustack_pair.connect()
            client.sendall(b"hello")
            assert server.recv(5) == b"hello"
        """
    )
    where = tmp_path / "p"
    pytester.runpytest(f"--ustack-pcap-dir={where}").assert_outcomes(passed=1)
    assert not list(where.rglob("*.pcap"))
    result = pytester.runpytest(f"--ustack-pcap-dir={where}", "--ustack-pcap=all", "-rA")
    result.assert_outcomes(passed=1)
    kept = sorted(where.rglob("*.pcap"))
    assert [p.name for p in kept] == ["a-pa0.pcap", "b-pb0.pcap"]
    assert all(pcap_frames(p) >= 6 for p in kept)  # ARP, handshake, data, ACK
    section = _section(result.stdout.str())
    assert section.startswith("seed: ") and str(kept[0]) in section
    for p in kept:
        p.unlink()
    pytester.makepyfile(test_fail=FAILING.format(seed=-1))
    result = pytester.runpytest(f"--ustack-pcap-dir={where}", "--ustack-pcap=none", "test_fail.py")
    result.assert_outcomes(failed=1)
    assert "pcap: none (--ustack-pcap=none)" in _section(result.stdout.str())
    assert not list(where.rglob("*.pcap"))


def test_seed_replay_gives_the_same_faults(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """A failing test's replay line, run again, sees the same lost frames."""
    out = tmp_path / "runs"
    pytester.makepyfile(
        test_replay=f"""
        import json

        import pytest

        @pytest.mark.ustack(loss=0.1, reorder=0.05)
        def test_lossy(ustack_pair):
            client, server = ustack_pair.connect()
            data = bytes(200_000)
            assert ustack_pair.stream(client, server, data) == data
            record = [ustack_pair.seed, ustack_pair.pipe_stats(), ustack_pair.now,
                      client.getsockname()[1]]
            with open({str(out)!r}, "a") as f:
                f.write(json.dumps(record) + "\\n")
            assert False, "fail to get a replay line"

        def test_other(ustack_pair):
            pass
        """
    )
    first = pytester.runpytest()
    first.assert_outcomes(failed=1, passed=1)
    replay = re.search(r"^replay: cd (\S+) && (.*)$", _section(first.stdout.str()), re.M)
    assert replay is not None and Path(replay.group(1)) == pytester.path
    argv = replay.group(2).split()
    assert argv[1:4] == ["-m", "pytest", "test_replay.py::test_lossy"]
    session = int(argv[4].removeprefix("--ustack-seed="))
    pytester.runpytest(*argv[3:]).assert_outcomes(failed=1)
    pytester.runpytest("--ustack-seed=1", "test_replay.py::test_lossy").assert_outcomes(failed=1)
    runs = [line for line in out.read_text().splitlines()]
    assert len(runs) == 3
    assert runs[0] == runs[1]  # same seed, same losses, same virtual time, same port
    assert runs[0] != runs[2]
    seeds = [int(r.split(",")[0].strip("[")) for r in runs]
    assert seeds[0] == derive_seed(session, "test_replay.py::test_lossy")
    assert seeds[2] == derive_seed(1, "test_replay.py::test_lossy")


def test_session_seed_is_random_unless_given(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(ustack_seed):\n    print('SEED', ustack_seed)\n")
    seeds = set()
    for _ in range(2):
        r = pytester.runpytest("-s")
        seeds.add(re.search(r"session seed (\d+)", r.stdout.str()).group(1))  # type: ignore[union-attr]
    assert len(seeds) == 2
    r1, r2 = (pytester.runpytest("-s", "--ustack-seed=99") for _ in range(2))
    line = [x for x in r1.stdout.lines if x.startswith("SEED") or "SEED" in x]
    assert line and line == [x for x in r2.stdout.lines if "SEED" in x]
    assert f"SEED {derive_seed(99, 'test_session_seed_is_random_unless_given.py::test_x')}" in (
        r1.stdout.str()
    )


def test_xdist_workers_take_the_controllers_seed(pytester: pytest.Pytester) -> None:
    """What pytest-xdist's workers see (config.workerinput, filled by the
    plugin's pytest_configure_node on the controller) sets the session seed."""
    from ustack import testing

    class Node:
        workerinput: dict[str, int] = {}

        class config:  # noqa: N801 - the shape of xdist's node.config
            stash = {testing._SESSION_SEED: 31337}

    testing.pytest_configure_node(Node)
    assert Node.workerinput == {"ustack_seed": 31337}
    pytester.makeconftest(
        """
        import pytest

        @pytest.hookimpl(tryfirst=True)
        def pytest_configure(config):
            config.workerinput = {"ustack_seed": 31337}
        """
    )
    pytester.makepyfile("def test_x(ustack_seed):\n    print('SEED', ustack_seed)\n")
    r = pytester.runpytest("-s")
    r.assert_outcomes(passed=1)
    assert (
        f"SEED {derive_seed(31337, 'test_xdist_workers_take_the_controllers_seed.py::test_x')}"
        in (r.stdout.str())
    )


# --- loading -------------------------------------------------------------------------------


def test_loading_by_entry_point_and_by_p_option(pytester: pytest.Pytester) -> None:
    if not ENTRY_POINT:
        pytest.skip("ustack is not installed (pip install -e .): no pytest11 entry point")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("PYTEST_PLUGINS", raising=False)
        mp.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
        _loading(pytester)


def _loading(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(ustack_pair):\n    assert ustack_pair.a\n")
    # Auto-loaded (entry point), and -p on top of it registers nothing twice.
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    pytester.runpytest_subprocess("-p", "ustack.testing").assert_outcomes(passed=1)
    # Without auto-loading only -p brings it in.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "environ", env)
        pytester.runpytest_subprocess("-p", "ustack.testing").assert_outcomes(passed=1)
        off = pytester.runpytest_subprocess()
        off.assert_outcomes(errors=1)
        off.stdout.fnmatch_lines(["*fixture 'ustack_pair' not found*"])
    # -p no:ustack.testing turns it off; with both, the later one wins.
    pytester.runpytest_subprocess("-p", "no:ustack.testing").assert_outcomes(errors=1)
    both = ("-p", "ustack.testing", "-p", "no:ustack.testing")
    pytester.runpytest_subprocess(*both).assert_outcomes(errors=1)
    pytester.runpytest_subprocess(*both[2:], *both[:2]).assert_outcomes(passed=1)
    assert (
        "--ustack-seed"
        not in pytester.runpytest_subprocess("-p", "no:ustack.testing", "-h").stdout.str()
    )


def test_conftest_pytest_plugins_and_entry_point_register_once(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["ustack.testing"]\n')
    pytester.makepyfile("def test_x(ustack_seed):\n    assert ustack_seed >= 0\n")
    r = pytester.runpytest_subprocess("-p", "ustack.testing")
    r.assert_outcomes(passed=1)
    assert r.stdout.str().count("ustack: session seed") == 1


def test_seed_alone_is_reported(pytester: pytest.Pytester) -> None:
    """A test that only takes ustack_seed (for its own randomness) still
    gets its seed and replay line on failure."""
    pytester.makepyfile(
        """
        import random

        def test_random(ustack_seed):
            assert random.Random(ustack_seed).random() < 0, "deliberate"
        """
    )
    r = pytester.runpytest("--ustack-seed=77")
    r.assert_outcomes(failed=1)
    section = _section(r.stdout.str())
    seed = derive_seed(77, "test_seed_alone_is_reported.py::test_random")
    assert section.splitlines()[0] == f"seed: {seed} (from session seed 77 and the node id)"
    assert "pcap" not in section and "counters" not in section


def test_replay_line_keeps_p_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fail=FAILING.format(seed=-1))
    r = pytester.runpytest("-p", "ustack.testing", "--ustack-seed=5")
    r.assert_outcomes(failed=1)
    assert re.search(
        r"replay: .* -m pytest -p ustack\.testing test_fail\.py::test_lossy --ustack-seed=5$",
        _section(r.stdout.str()),
        re.M,
    )


def test_repository_conftest_fixtures_and_plugin_coexist(pytester: pytest.Pytester) -> None:
    """This repository's conftest (clock, stack, rig, pipe, net) next to the plugin."""
    conftest = Path(__file__).with_name("conftest.py").read_text()
    pytester.makeconftest(conftest)
    pytester.makepyfile(
        """
        def test_both(clock, rig, net, ustack_clock, ustack_pair):
            assert clock is not ustack_clock
            assert rig.a is not ustack_pair.a and net.a is not ustack_pair.a
        """
    )
    pytester.runpytest("-p", "ustack.testing").assert_outcomes(passed=1)


# --- fixtures that need a device --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "check", "reason"),
    [
        ("ustack_linux", "linux_unavailable", "network namespaces and TAP devices need root"),
        ("ustack_dpdk", "dpdk_unavailable", "ustack was built without the DPDK driver"),
        ("ustack_afxdp", "afxdp_unavailable", "no AF_XDP here"),
        ("ustack_board", "board_unavailable", "qemu-system-arm is not installed"),
    ],
)
def test_device_fixtures_skip_with_the_reason(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    fixture: str,
    check: str,
    reason: str,
) -> None:
    from ustack.testing import links

    monkeypatch.setattr(links, check, lambda: reason)
    monkeypatch.delenv("USTACK_REQUIRE_ALL", raising=False)
    pytester.makepyfile(f"def test_dev({fixture}):\n    raise AssertionError('ran')\n")
    r = pytester.runpytest("-rs")
    r.assert_outcomes(skipped=1)
    r.stdout.fnmatch_lines([f"SKIPPED*{fixture}: {reason}*"])


def test_device_unavailable_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    from ustack.testing import links

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    for check in (links.linux_unavailable, links.afxdp_unavailable, links.dpdk_unavailable):
        assert "root" in (check() or "")
    monkeypatch.undo()
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if "qemu" in name else which(name))
    assert "qemu-system-arm is not installed" in (links.board_unavailable() or "")


LINUX_REASON = netns.unavailable_reason()
needs_root = pytest.mark.skipif(
    LINUX_REASON is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
    reason=f"{LINUX_REASON}",
)


# --- ustack_peer (ustack.scripting) ----------------------------------------------------------


def test_ustack_peer_fixture_is_served_and_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from ustack.scripting import TCP

        @pytest.mark.ustack(seed=11)
        def test_peer(ustack_peer, ustack_seed):
            assert ustack_seed == ustack_peer.seed == 11
            srv = ustack_peer.stack.socket()
            srv.bind(("", 80))
            srv.listen(1)
            ustack_peer.peer.send(TCP(flags="S", seq=0, dport=80))
            ustack_peer.peer.expect(lambda p: p.tcp.flags == "SA", within=0.2)
            assert False, "deliberate"
        """
    )
    r = pytester.runpytest("--strict-markers")
    r.assert_outcomes(failed=1)
    section = _section(r.stdout.str())
    assert "seed: 11 (fixed by the ustack marker)" in section
    assert "ustack_peer: " in section
    (pcap,) = _pcaps(section)
    assert pcap_frames(pcap) >= 2  # the SYN in, the SYN-ACK out
    assert re.search(r"^    198\.18\.0\.1:80 -> 198\.18\.0\.2:\d+ SYN_RECEIVED", section, re.M)


# --- device fixtures, for real (root: CI) --------------------------------------------------

KERNEL_PEER_TEST = """
import socket

import pytest

@pytest.mark.parametrize("kind", {kinds!r})
def test_kernel_peer(kind, request):
    peer = request.getfixturevalue("ustack_" + kind)
    assert (peer.addr, peer.peer_addr) == ("198.18.0.1", "198.18.0.2")
    client, server = peer.connect(6000, tcp_nodelay=1)
    client.sendall(b"ping from ustack")
    assert server.recv(100) == b"ping from ustack"
    server.sendall(bytes(range(256)) * 200)
    got = b""
    while len(got) < 51200:
        got += client.recv(65536)
    assert got == bytes(range(256)) * 200
    k, u = peer.connect_from_kernel(6001)
    k.sendall(b"k")
    assert u.recv(1) == b"k"
    ss = peer.run("ss", "-tn", "state", "established").stdout
    assert "198.18.0.2:6000" in ss and "198.18.0.1:6001" in ss, ss
    peer.sysctl("net.ipv4.tcp_sack", 0)
    assert peer.run("sysctl", "-n", "net.ipv4.tcp_sack").stdout.strip() == "0"
    udp = peer.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("198.18.0.2", 7000))
    us = peer.stack.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.sendto(b"dgram", ("198.18.0.2", 7000))
    assert udp.recvfrom(100) == (b"dgram", ("198.18.0.1", us.getsockname()[1]))
    assert {fail!r} != kind, "deliberate failure with open connections"
"""


def _our_namespaces() -> list[str]:
    out = os.popen("ip netns list").read()
    return [line.split()[0] for line in out.splitlines() if f"-{os.getpid()}-" in line]


@needs_root
def test_ustack_linux_for_real(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(KERNEL_PEER_TEST.format(kinds=["linux"], fail="none"))
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.makepyfile(KERNEL_PEER_TEST.format(kinds=["linux"], fail="linux"))
    r = pytester.runpytest()
    r.assert_outcomes(failed=1)
    section = _section(r.stdout.str())
    assert re.search(
        r"^ustack_linux: ustack 198\.18\.0\.1 on <Tap ust0>, the kernel", section, re.M
    )
    (pcap,) = _pcaps(section)
    assert pcap.name == "linux-if0.pcap" and pcap_frames(pcap) >= 20
    assert re.search(r"^counters linux driver:\n(    .*\n)*    rx_frames = [1-9]", section, re.M)
    assert re.search(r"^    198\.18\.0\.1:\d+ -> 198\.18\.0\.2:6000 ESTABLISHED", section, re.M)
    assert len(re.findall(r"^    socket \d+ .* ESTABLISHED: ", section, re.M)) == 2
    assert _our_namespaces() == []


@needs_root
def test_ustack_linux_takes_mtu_knobs_and_kernel_sysctls(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import socket

        import pytest
        import ustack

        @pytest.mark.ustack(mtu=9000, knobs={"net.inet.tcp.sack.enable": 0},
                            kernel_sysctl={"net.ipv4.tcp_timestamps": 0})
        def test_options(ustack_linux):
            assert ustack_linux.iface.mtu == 9000
            assert ustack_linux.run("cat", "/sys/class/net/ust0/mtu").stdout.strip() == "9000"
            assert ustack_linux.run("sysctl", "-n", "net.ipv4.tcp_timestamps").stdout.strip() == "0"
            assert ustack_linux.stack.sysctl("net.inet.tcp.sack.enable") == 0
            client, server = ustack_linux.connect(6100)
            info = client.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO)
            assert info.tcpi_options & (ustack.TCPI_OPT_SACK | ustack.TCPI_OPT_TIMESTAMPS) == 0
            assert info.tcpi_options & ustack.TCPI_OPT_WSCALE
            assert info.tcpi_snd_mss == 9000 - 40
            server.sendall(b"j" * 30000)
            got = b""
            while len(got) < 30000:
                got += client.recv(65536)
            assert got == b"j" * 30000

        def test_default_mtu(ustack_linux):
            assert ustack_linux.iface.mtu == 1500
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)
    assert _our_namespaces() == []


def _device_reason(kind: str) -> str | None:
    from ustack.testing import links

    check = {"dpdk": links.dpdk_unavailable, "afxdp": links.afxdp_unavailable}[kind]
    return check()


@pytest.mark.parametrize("kind", ["dpdk", "afxdp"])
def test_dpdk_and_afxdp_for_real(pytester: pytest.Pytester, kind: str) -> None:
    """In a child pytest: the EAL, once started, stays for the process."""
    reason = _device_reason(kind)
    if reason is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1":
        pytest.skip(reason)
    pytester.makepyfile(KERNEL_PEER_TEST.format(kinds=[kind], fail=kind))
    r = pytester.runpytest_subprocess()
    r.assert_outcomes(failed=1)
    section = _section(r.stdout.str())
    (pcap,) = _pcaps(section)
    assert pcap_frames(pcap) >= 20
    assert f"counters {kind} driver:" in section
    assert len(re.findall(r"^    socket \d+ .* ESTABLISHED: ", section, re.M)) == 2
    out = os.popen("ip netns list").read()
    assert "ustack-pytest" not in out, out


def test_ustack_board_for_real(pytester: pytest.Pytester) -> None:
    from ustack.testing import links

    reason = links.board_unavailable()
    if reason is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1":
        pytest.skip(reason)
    pytester.makepyfile(
        """
        def test_board(ustack_board):
            srv = ustack_board.board.create_server(("", 7200))
            cli = ustack_board.socket()
            cli.connect((ustack_board.addr, 7200))
            conn, peer = srv.accept()
            assert peer == cli.getsockname()
            cli.sendall(b"hello board")
            assert conn.recv(100) == b"hello board"
            assert ustack_board.run("ip", "-br", "link").returncode == 0
            assert False, "deliberate"
        """
    )
    r = pytester.runpytest()
    r.assert_outcomes(failed=1)
    section = _section(r.stdout.str())
    assert "ustack_board: mps2-an385 at 198.18.0.2, the kernel 198.18.0.1" in section
    (pcap,) = _pcaps(section)
    assert pcap.name == "board-link.pcap" and pcap_frames(pcap) >= 4  # handshake and data
    assert re.search(r"^    tcp\.tcps_accepts = 1$", section, re.M), section
    assert re.search(
        r"^    socket \d+ 198\.18\.0\.2:7200 -> 198\.18\.0\.1:\d+ ESTABLISHED", section, re.M
    )
    assert _our_namespaces() == []


# --- the documentation ---------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "pytest-plugin.md"


def test_doc_examples_run(pytester: pytest.Pytester) -> None:
    """Every python block of docs/pytest-plugin.md is a test module that passes
    (ustack_linux's skips without root)."""
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.S | re.M)
    assert len(blocks) >= 4
    for i, block in enumerate(blocks):
        pytester.makepyfile(**{f"test_doc{i}": block})
    # A fixed session seed: the examples' assertions on lost frames hold for
    # almost every seed, and for this one for sure.
    r = pytester.runpytest("--strict-markers", "-rs", "--ustack-seed=1")
    outcomes = r.parseoutcomes()
    assert outcomes.get("failed", 0) == outcomes.get("errors", 0) == 0, r.stdout.str()
    assert outcomes["passed"] + outcomes.get("skipped", 0) == 7
    if LINUX_REASON is None:
        assert outcomes["passed"] == 7


def test_report_survives_stacks_closed_by_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_closes(ustack_pair):
            client, server = ustack_pair.connect()
            client.sendall(b"abc")
            assert server.recv(3) == b"abc"
            ustack_pair.a.close()
            ustack_pair.b.close()
            assert False, "deliberate"
        """
    )
    r = pytester.runpytest()
    r.assert_outcomes(failed=1)
    section = _section(r.stdout.str())
    assert section.startswith("seed: ")
    for p in _pcaps(section):  # the captures ended with their interfaces, complete
        assert pcap_frames(p) >= 6
    assert "INTERNALERROR" not in r.stdout.str()
    assert "counters a: (the test closed the stack)" in section
