"""The pytest plugin ``ustack.testing`` (docs/pytest-plugin.md).

Loaded automatically when ustack is installed (entry point ``pytest11``
named ``ustack.testing``), or with ``pytest -p ustack.testing``.

Fixtures: ``ustack_seed``, ``ustack_clock``, ``ustack_pair`` (two stacks on
a faulty pipe on a virtual clock, configured by ``@pytest.mark.ustack(...)``
or an indirect parametrize dict), ``ustack_linux`` (a stack on a TAP in a
fresh namespace, the Linux kernel as peer), ``ustack_dpdk``,
``ustack_afxdp``, ``ustack_board`` (the same over a DPDK net_tap device, an
AF_XDP socket on a veth pair, a QEMU board), ``ustack_peer`` (a stack with
a scripted peer, from :mod:`ustack.scripting.fixtures`).

Options: ``--ustack-seed=N`` (the session seed; each test's seed is derived
from it and the test's node id, see :func:`derive_seed`),
``--ustack-pcap=failed|all|none``, ``--ustack-pcap-dir=DIR``,
``--ustack-faults=SPEC`` (default faults of every ``ustack_pair``).

When a test using them fails, its report gets a section "ustack" (shown
under the failure, with ``-rA``, and as junitxml properties): the seed, the
command that replays the test, the pcap files of every interface of the
fixture's stacks, the counters that moved, the TCP table and the TCP_INFO
of every open TCP socket.
"""

from __future__ import annotations

import hashlib
import secrets
import shlex
import shutil
import sys
from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ustack.scripting import fixtures as _scripting
from ustack.testing.report import Subject, TestState, pcap_frames, safe_name

if TYPE_CHECKING:
    from ustack.clock import VirtualClock
    from ustack.testing.links import BoardPeer, DpdkPeer, LinuxPeer, XdpPeer
    from ustack.testing.pair import PairConfig, UstackPair

__all__ = [
    "derive_seed",
    "pcap_frames",
    "state_of",
    "ustack_afxdp",
    "ustack_board",
    "ustack_clock",
    "ustack_dpdk",
    "ustack_linux",
    "ustack_pair",
    "ustack_peer",
    "ustack_seed",
]

PCAP_MODES = ("failed", "all", "none")
_STATE = pytest.StashKey[TestState]()
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
_SESSION_SEED = pytest.StashKey[int]()


def derive_seed(session_seed: int, nodeid: str) -> int:
    """A test's seed: the first 4 bytes (big-endian) of
    SHA-256(``"<session seed>/<node id>"``).  The same session seed gives a
    test the same seed whatever else runs, in any order or alone."""
    digest = hashlib.sha256(f"{session_seed}/{nodeid}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


# --- options and session --------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ustack", "ustack fixtures (ustack.testing)")
    group.addoption(
        "--ustack-seed",
        type=int,
        default=None,
        metavar="N",
        help="session seed of the ustack fixtures (default: random, shown in the header); "
        "a test's seed derives from it and its node id, so a failing test's replay line "
        "gives it the same faults",
    )
    group.addoption(
        "--ustack-pcap",
        choices=PCAP_MODES,
        default="failed",
        help="keep the pcap files of failed tests (default), of all, or write none",
    )
    group.addoption(
        "--ustack-pcap-dir",
        default=None,
        metavar="DIR",
        help="where pcap files go (default: <pytest basetemp>/ustack-pcap)",
    )
    group.addoption(
        "--ustack-faults",
        default=None,
        metavar="SPEC",
        help="default faults of every ustack_pair, under the marker's: "
        "'loss=1%%,delay=5ms,rate=1Gbit' (the marker's keys and units)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ustack(**params): ustack_pair's pipe and stacks: loss, delay, rate, jitter, duplicate, "
        "reorder, corrupt, mtu, seed, a_to_b={...}, b_to_a={...}, knobs={...} "
        "(docs/pytest-plugin.md)",
    )
    for line in _scripting.MARKERS:
        config.addinivalue_line("markers", line)
    seed = config.getoption("ustack_seed", None)
    workerinput = getattr(config, "workerinput", None)  # a pytest-xdist worker
    if seed is None and isinstance(workerinput, dict) and "ustack_seed" in workerinput:
        seed = workerinput["ustack_seed"]
    config.stash[_SESSION_SEED] = secrets.randbits(32) if seed is None else int(seed)
    spec = config.getoption("ustack_faults", None)
    if spec:
        try:
            _faults_option(spec)
        except ValueError as exc:
            raise pytest.UsageError(f"--ustack-faults: {exc}") from None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker gets the controller's session seed."""
    node.workerinput["ustack_seed"] = node.config.stash[_SESSION_SEED]


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.stash[_SESSION_SEED]
    return f"ustack: session seed {seed} (--ustack-seed={seed} replays it)"


def _faults_option(spec: str) -> dict[str, Any]:
    """``--ustack-faults`` ``"loss=1%,delay=5ms"`` as marker keywords."""
    from ustack.testing.pair import FAULT_KEYS, pair_config

    out: dict[str, Any] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or key not in FAULT_KEYS:
            raise ValueError(f"{part!r}: use key=value with keys {', '.join(FAULT_KEYS)}")
        text = value.strip()
        try:
            out[key] = int(text) if text.isdigit() else float(text)
        except ValueError:
            out[key] = text
    pair_config([out])  # check the values now
    return out


def _replay_command(config: pytest.Config, nodeid: str, seed: int) -> str:
    """``cd ROOTDIR && python -m pytest NODEID --ustack-seed=N`` (with the
    ``-p ustack.testing`` and ``--ustack-faults`` of this run)."""
    argv = [sys.executable, "-m", "pytest", nodeid, f"--ustack-seed={seed}"]
    args = list(config.invocation_params.args)
    for i, a in enumerate(args):
        if a == "-p" and i + 1 < len(args) and args[i + 1] == "ustack.testing":
            argv[3:3] = ["-p", "ustack.testing"]
        elif a == "-pustack.testing":
            argv.insert(3, a)
    faults = config.getoption("ustack_faults", None)
    if faults:
        argv.append(f"--ustack-faults={faults}")
    return f"cd {shlex.quote(str(config.rootpath))} && {shlex.join(argv)}"


# --- the test's state and its report ----------------------------------------------------


def _marker_specs(node: pytest.Item) -> list[dict[str, Any]]:
    """The ``ustack`` markers' keywords, farthest first (the closest wins),
    then the indirect parametrize dict of ``ustack_pair``."""
    specs = [dict(m.kwargs) for m in reversed(list(node.iter_markers("ustack")))]
    for m in node.iter_markers("ustack"):
        if m.args:
            pytest.fail(f"{node.nodeid}: @pytest.mark.ustack takes keywords only", pytrace=False)
    callspec = getattr(node, "callspec", None)
    if callspec is not None and "ustack_pair" in callspec.params:
        param = callspec.params["ustack_pair"]
        if not isinstance(param, Mapping):
            pytest.fail(
                f"{node.nodeid}: ustack_pair's parameter must be a dict of marker keywords, "
                f"not {param!r}",
                pytrace=False,
            )
        specs.append(dict(param))
    return specs


def state_of(item: pytest.Item) -> TestState:
    """The plugin's record of ``item`` (made on first use): its seed (the
    ``ustack`` marker's ``seed=``, else derived from the session seed),
    pcap settings and the stacks registered by the fixtures."""
    state = item.stash.get(_STATE, None)
    if state is not None:
        return state
    config = item.config
    session = config.stash[_SESSION_SEED]
    fixed = None
    mode = config.getoption("ustack_pcap", "failed") or "failed"
    for spec in _marker_specs(item):
        if spec.get("seed") is not None:
            fixed = spec["seed"]
        if spec.get("pcap") is not None:
            mode = spec["pcap"]
    if fixed is not None:
        seed, source = int(fixed), "fixed by the ustack marker"
    else:
        seed = derive_seed(session, item.nodeid)
        source = f"from session seed {session} and the node id"
    state = TestState(
        seed=seed,
        session_seed=session,
        seed_source=source,
        replay=_replay_command(config, item.nodeid, session),
        pcap_mode=mode,
    )
    item.stash[_STATE] = state
    return state


def _pcap_dir(request: pytest.FixtureRequest, state: TestState) -> Path | None:
    if state.pcap_mode == "none":
        return None
    if state.pcap_dir is None:
        base = request.config.getoption("ustack_pcap_dir", None)
        if base is None:
            factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
            root = factory.getbasetemp() / "ustack-pcap"
        else:
            root = Path(base).resolve()
        state.pcap_dir = root / safe_name(request.node.nodeid)
        shutil.rmtree(state.pcap_dir, ignore_errors=True)  # an earlier run's
        state.pcap_dir.mkdir(parents=True, exist_ok=True)
    return state.pcap_dir


def capture_stack(request: pytest.FixtureRequest, subject: Subject, prefix: str = "") -> None:
    """Start a pcap capture on every interface of ``subject.stack`` (unless
    ``--ustack-pcap=none``), named ``<prefix><label>-<interface>.pcap``."""
    state = state_of(request.node)
    where = _pcap_dir(request, state)
    if where is None:
        return
    stack = subject.stack
    if not callable(getattr(stack, "locked", None)):
        return  # a board: its interfaces write no pcap
    with stack.locked():
        for iface in stack.interfaces:
            path = where / f"{prefix}{subject.label}-{iface.name}.pcap"
            subject.captures.append(iface.capture(path))


def finish(request: pytest.FixtureRequest) -> None:
    """A fixture's teardown: close the captures, and remove them when the
    test passed and ``--ustack-pcap`` is ``failed``."""
    state = request.node.stash.get(_STATE, None)
    if state is None:
        return
    state.close_captures()
    reports = request.node.stash.get(_REPORTS, {})
    failed = state.failed or any(r.failed for r in reports.values())
    if state.pcap_mode == "failed" and not failed:
        for path in state.pcap_paths():
            path.unlink(missing_ok=True)
        if state.pcap_dir is not None:
            try:
                state.pcap_dir.rmdir()
            except OSError:
                pass


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    state = item.stash.get(_STATE, None)
    if state is None:  # the test used no ustack fixture
        return report
    if report.failed and report.when in ("setup", "call") and not state.reported:
        state.failed = True
        text = state.report()
        report.sections.append(("ustack", text))
        item.user_properties.append(("ustack_seed", state.seed))
        item.user_properties.append(("ustack_replay", state.replay))
        for path in state.pcap_paths():
            item.user_properties.append(("ustack_pcap", str(path)))
        item.user_properties.append(("ustack", text))
    elif report.when == "call" and report.passed and state.pcap_mode == "all":
        report.sections.append(("ustack", state.passed_summary()))
    return report


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def ustack_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed: the ``ustack`` marker's ``seed=``, else derived from
    the session seed (``--ustack-seed``) and the test's node id."""
    return state_of(request.node).seed


@pytest.fixture
def ustack_clock() -> VirtualClock:
    """A fresh virtual clock at t=0 (the one ``ustack_pair`` runs on)."""
    from ustack.clock import VirtualClock

    return VirtualClock()


@pytest.fixture
def ustack_pair(
    request: pytest.FixtureRequest, ustack_clock: VirtualClock, ustack_seed: int
) -> Iterator[UstackPair]:
    """Stacks ``a`` (198.18.0.1) and ``b`` (198.18.0.2) on a faulty pipe on
    a virtual clock, as the ``ustack`` marker (or an indirect parametrize
    dict) says; ``connect()`` gives a connected (client, server) pair."""
    from ustack.testing.pair import UstackPair

    config = _config(request, with_faults_option=True)
    pair = UstackPair(config, ustack_seed, ustack_clock)
    state = state_of(request.node)
    try:
        state.notes.append(f"ustack_pair: {config.describe()}")
        a = state.add(Subject("a", pair.a))
        b = state.add(Subject("b", pair.b))
        for subject, d in ((a, "a_to_b"), (b, "b_to_a")):
            subject.extra.append((f"pipe {d}", _pipe_stats(pair, d)))
            subject.snapshot()
            capture_stack(request, subject)
        yield pair
    finally:
        finish(request)
        pair.close()


def _config(request: pytest.FixtureRequest, *, with_faults_option: bool = False) -> PairConfig:
    """The test's markers (and ``--ustack-faults``) as a PairConfig; a bad
    key or value fails the test's setup naming it."""
    from ustack.testing.pair import pair_config

    specs = _marker_specs(request.node)
    opt = request.config.getoption("ustack_faults", None)
    if opt and with_faults_option:
        specs.insert(0, _faults_option(opt))
    try:
        return pair_config(specs)
    except ValueError as exc:
        problem = f"{request.node.nodeid}: {exc}"
    pytest.fail(problem, pytrace=False)


def _pipe_stats(pair: UstackPair, direction: str) -> Callable[[], dict[str, int]]:
    return lambda: pair.pipe.stats(direction)


def _link_fixture(request: pytest.FixtureRequest, make: Any, label: str) -> Iterator[Any]:
    state = state_of(request.node)
    config = _config(request)
    if label == "board":
        peer = make(seed=state.seed)
    else:
        peer = make(
            seed=state.seed,
            mtu=config.mtu,
            knobs=config.a_knobs,
            kernel_sysctl=config.kernel_sysctl,
        )
    try:
        state.notes.append(peer.describe())
        for subject in peer.subjects():
            state.add(subject)
            capture_stack(request, subject)
        capture = getattr(peer, "capture", None)
        where = _pcap_dir(request, state)
        if callable(capture) and where is not None:  # a board: its link, from the kernel's side
            subject = state.subjects[-1]
            subject.captures.append(capture(where / f"{subject.label}-link.pcap"))
        yield peer
    finally:
        finish(request)
        peer.close()


@pytest.fixture
def ustack_linux(request: pytest.FixtureRequest) -> Iterator[LinuxPeer]:
    """A stack on a TAP device in a fresh network namespace, the Linux kernel
    on the other side (ustack 198.18.0.1, the kernel 198.18.0.2).  Skipped
    when not root or without namespaces."""
    from ustack.testing import links

    links.skip_unless("ustack_linux", links.linux_unavailable())
    yield from _link_fixture(request, links.LinuxPeer, "linux")


@pytest.fixture
def ustack_dpdk(request: pytest.FixtureRequest) -> Iterator[DpdkPeer]:
    """A stack on a DPDK net_tap device in a fresh namespace, the Linux
    kernel as peer.  Skipped without root or a DPDK build."""
    from ustack.testing import links

    links.skip_unless("ustack_dpdk", links.dpdk_unavailable())
    yield from _link_fixture(request, links.DpdkPeer, "dpdk")


@pytest.fixture
def ustack_afxdp(request: pytest.FixtureRequest) -> Iterator[XdpPeer]:
    """A stack on an AF_XDP socket on one end of a veth pair in a fresh
    namespace, the Linux kernel on the other end.  Skipped without root or
    AF_XDP."""
    from ustack.testing import links

    links.skip_unless("ustack_afxdp", links.afxdp_unavailable())
    yield from _link_fixture(request, links.XdpPeer, "afxdp")


@pytest.fixture
def ustack_board(request: pytest.FixtureRequest) -> Iterator[BoardPeer]:
    """A QEMU board (``$USTACK_TEST_BOARD``, default mps2-an385) running the
    stack, on a TAP in its own namespace, the Linux kernel as peer.
    Skipped without root, qemu-system-arm or the ARM toolchain."""
    from ustack.testing import links

    links.skip_unless("ustack_board", links.board_unavailable())
    yield from _link_fixture(request, links.BoardPeer, "board")


@pytest.fixture
def ustack_peer(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A seeded stack on a virtual clock with a scripted
    :class:`ustack.scripting.Peer` attached: ``ustack_peer.stack``,
    ``ustack_peer.peer``, ``ustack_peer.clock`` (:mod:`ustack.scripting.fixtures`,
    docs/scripting.md).  Its stack's interface is captured and reported on
    failure like ``ustack_pair``'s."""
    body: Any = _scripting.peer_rig(request)
    rig = next(body)
    state = state_of(request.node)
    try:
        state.notes.append(f"ustack_peer: {rig!r}")
        subject = state.add(Subject("stack", rig.stack))
        capture_stack(request, subject)
        yield rig
    finally:
        finish(request)
        body.close()
