"""The rack TCP stack (RACK-TLP, RFC 8985): the packet scripts of
tests/packetdrill/rack run through the runner on the virtual back end, with
the counters each one must move, and the same scripts failing where the
default stack (or a zero reordering window) behaves differently, so that a
pass means RACK's behaviour and not the script's slack.  Plus the
framework's knobs and socket option from Python."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ustack
from ustack.netstat import read_counters
from ustack.packetdrill import virtual
from ustack.packetdrill.runner import RunOptions
from ustack.packetdrill.suite import run_script

pytestmark = pytest.mark.skipif(not ustack.UST_HAS_TCP_RACK, reason="UST_TCP_RACK is 0")

SCRIPTS = Path(__file__).resolve().parents[1] / "packetdrill" / "rack"

# Script -> counters that must have moved (at least the value given) and
# counters that must stay 0.
EXPECT: dict[str, tuple[dict[str, int], tuple[str, ...]]] = {
    "rack-tlp-flight1-ipv4.pkt": (
        {"tcps_tlpresends": 1, "tcps_rack_tlp_recovery": 1},
        ("tcps_rexmttimeo", "tcps_rack_tlp_new"),
    ),
    "rack-tlp-flight1-delack200-ipv4.pkt": (
        {"tcps_tlpresends": 1, "tcps_rack_tlp_recovery": 1},
        ("tcps_rexmttimeo", "tcps_rack_tlp_new"),
    ),
    "rack-tlp-dsack-ipv4.pkt": (
        {"tcps_tlpresends": 1},
        ("tcps_rexmttimeo", "tcps_rack_tlp_recovery"),
    ),
    "rack-tlp-new-data-ipv4.pkt": (
        {"tcps_rack_tlp_new": 1},
        ("tcps_rexmttimeo", "tcps_tlpresends"),
    ),
    "rack-reorder-within-ipv4.pkt": (
        {"tcps_rack_to_tot": 0},
        ("tcps_rack_lost", "tcps_sndrexmitpack", "tcps_rexmttimeo"),
    ),
    "rack-reorder-beyond-ipv4.pkt": (
        {"tcps_rack_to_tot": 1, "tcps_rack_lost": 1, "tcps_sndrexmitpack": 1},
        ("tcps_rexmttimeo",),
    ),
    "rack-mark-lost-ipv4.pkt": (
        {"tcps_rack_lost": 1, "tcps_sndrexmitpack": 1},
        ("tcps_rexmttimeo", "tcps_rack_to_tot"),
    ),
    "rack-no-sack-newreno-ipv4.pkt": (
        {"tcps_fastretransmits": 1, "tcps_sndrexmitpack": 1},
        ("tcps_rack_lost", "tcps_rexmttimeo"),
    ),
    "rack-tail-drop-ipv4.pkt": (
        {"tcps_tlpresends": 1, "tcps_rack_lost": 1, "tcps_sndrexmitpack": 2},
        ("tcps_rexmttimeo",),
    ),
}


def _run(
    monkeypatch: pytest.MonkeyPatch, name: str, forced: dict[str, int | str] | None = None
) -> tuple[str, str, dict[str, Any]]:
    counters: dict[str, Any] = {}
    close = virtual.VirtualBackend.close

    def closing(self: Any) -> None:
        counters.update(read_counters(self.stack._ptr(), "tcp"))
        close(self)

    monkeypatch.setattr(virtual.VirtualBackend, "close", closing)
    res = run_script(SCRIPTS / name, opts=RunOptions(forced=forced or {}))
    monkeypatch.undo()
    return res.status, f"{res.line}: {res.reason}", counters


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_rack_script(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    status, why, c = _run(monkeypatch, name)
    assert status == "pass", why
    moved, zero = EXPECT[name]
    for k, v in moved.items():
        assert c[k] >= v, (k, c[k])
    for k in zero:
        assert c[k] == 0, (k, c[k])
    assert c["tcps_rack_map_exhausted"] == 0


def test_scripts_cover_every_file() -> None:
    assert sorted(p.name for p in SCRIPTS.glob("*.pkt")) == sorted(EXPECT)


@pytest.mark.parametrize(
    "name",
    [
        "rack-tlp-flight1-ipv4.pkt",
        "rack-tlp-new-data-ipv4.pkt",
        "rack-reorder-beyond-ipv4.pkt",
        "rack-mark-lost-ipv4.pkt",
        "rack-tail-drop-ipv4.pkt",
    ],
)
def test_default_stack_fails_the_rack_scripts(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The default stack (dupACK threshold, no TLP) does not send what the
    scripts expect: they test RACK-TLP, not TCP in general."""
    status, _, _ = _run(monkeypatch, name, {"net.inet.tcp.functions_default": "freebsd"})
    assert status == "fail"


def test_zero_reordering_window_retransmits_the_reordered_segment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The runner lets an extra segment pass: the counters tell (the
    script's own run asserts them 0)."""
    _, _, c = _run(
        monkeypatch, "rack-reorder-within-ipv4.pkt", {"net.inet.tcp.rack.reo_wnd_mult": 0}
    )
    assert c["tcps_rack_lost"] >= 1 and c["tcps_sndrexmitpack"] >= 1


def test_tlp_off_waits_for_the_rto(monkeypatch: pytest.MonkeyPatch) -> None:
    status, _, c = _run(
        monkeypatch, "rack-tlp-flight1-ipv4.pkt", {"net.inet.tcp.rack.tlp.enable": 0}
    )
    assert status == "fail"
    assert c["tcps_tlpresends"] == 0


def test_functions_knobs_and_socket_option() -> None:
    st = ustack.Stack()
    try:
        assert st.sysctl("net.inet.tcp.functions_default") == "freebsd"
        avail = str(st.sysctl("net.inet.tcp.functions_available"))
        assert "freebsd" in avail and "rack" in avail
        s = st.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        assert s.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_FUNCTION_BLK) == "freebsd"
        s.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_FUNCTION_BLK, "rack")
        assert s.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_FUNCTION_BLK) == "rack"
        raw = s.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_FUNCTION_BLK, 36)
        assert raw[:5] == b"rack\0" and int.from_bytes(raw[32:36], "little") == 1
        lines = str(st.sysctl("net.inet.tcp.functions_available")).splitlines()
        rack_line = next(x for x in lines if x.startswith("rack"))
        assert rack_line.split()[-1] == "1"
        with pytest.raises(OSError):
            s.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_FUNCTION_BLK, "bbr")
        with pytest.raises(OSError):
            s.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_FUNCTION_BLK, b"x" * 32)
        with pytest.raises(OSError):
            st.sysctl("net.inet.tcp.functions_default", "nosuch")
        st.sysctl("net.inet.tcp.functions_default", "rack")
        s2 = st.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        assert s2.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_FUNCTION_BLK) == "rack"
        s.close()
        s2.close()
    finally:
        st.close()
