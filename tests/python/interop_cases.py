"""The TCP option matrix every interop run covers, one table for all peers.

Each case turns one performance extension on or off at one end.  The same
table drives two tests: ``test_interop_matrix.py`` runs it today between two
ustack instances over the pipe (the peer configured with ``peer``), and the
TAP interop tests run it against the Linux kernel in a network namespace
(the kernel configured with ``linux`` by ``sysctl -w`` inside the namespace).
The negotiation rules are the RFCs', so the expected outcome is computed,
not listed: both ends must enable SACK (RFC 2018 2), window scaling and
timestamps (RFC 7323 2.2, 3.2), and ECN needs the client to ask and the
server to accept (RFC 3168 6.1.1).

ustack's knobs use FreeBSD's names and meanings: ``net.inet.tcp.rfc1323``
1 both, 2 window scaling only, 3 timestamps only, 0 neither;
``net.inet.tcp.ecn.enable`` 1 ask and accept, 2 accept only, 0 off.  Linux's
``net.ipv4.tcp_ecn`` has the same three meanings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ustack

Knobs = dict[str, int]


@dataclass(frozen=True)
class OptionCase:
    """One row of the matrix: what ustack and the peer are told."""

    name: str
    ustack: Knobs = field(default_factory=dict)  # ustack's own sysctls
    peer: Knobs = field(default_factory=dict)  # the same change for a ustack peer
    linux: dict[str, str] = field(default_factory=dict)  # for a Linux peer
    cc: str | None = None  # TCP_CONGESTION on ustack's socket


# FreeBSD's defaults for the knobs the matrix reads (FREEBSD_DEFAULTS.md).
USTACK_DEFAULTS: Knobs = {
    "net.inet.tcp.rfc1323": 1,
    "net.inet.tcp.sack.enable": 1,
    "net.inet.tcp.ecn.enable": 2,
}
# Linux's defaults, for the same questions asked of a Linux peer.
LINUX_DEFAULTS: dict[str, str] = {
    "net.ipv4.tcp_window_scaling": "1",
    "net.ipv4.tcp_timestamps": "1",
    "net.ipv4.tcp_sack": "1",
    "net.ipv4.tcp_ecn": "2",
}

CASES: tuple[OptionCase, ...] = (
    OptionCase("defaults"),
    OptionCase("ustack-sack-off", ustack={"net.inet.tcp.sack.enable": 0}),
    OptionCase(
        "peer-sack-off",
        peer={"net.inet.tcp.sack.enable": 0},
        linux={"net.ipv4.tcp_sack": "0"},
    ),
    OptionCase("ustack-wscale-off", ustack={"net.inet.tcp.rfc1323": 3}),
    OptionCase(
        "peer-wscale-off",
        peer={"net.inet.tcp.rfc1323": 3},
        linux={"net.ipv4.tcp_window_scaling": "0"},
    ),
    OptionCase("ustack-ts-off", ustack={"net.inet.tcp.rfc1323": 2}),
    OptionCase(
        "peer-ts-off",
        peer={"net.inet.tcp.rfc1323": 2},
        linux={"net.ipv4.tcp_timestamps": "0"},
    ),
    OptionCase("ustack-rfc1323-off", ustack={"net.inet.tcp.rfc1323": 0}),
    OptionCase("ustack-ecn-on", ustack={"net.inet.tcp.ecn.enable": 1}),
    OptionCase(
        "peer-ecn-on",
        peer={"net.inet.tcp.ecn.enable": 1},
        linux={"net.ipv4.tcp_ecn": "1"},
    ),
    OptionCase(
        "ecn-on-peer-refuses",
        ustack={"net.inet.tcp.ecn.enable": 1},
        peer={"net.inet.tcp.ecn.enable": 0},
        linux={"net.ipv4.tcp_ecn": "0"},
    ),
    OptionCase("newreno", cc="newreno"),
    OptionCase("cubic", cc="cubic"),
)


def _knob(knobs: Knobs, name: str) -> int:
    return int(knobs.get(name, USTACK_DEFAULTS[name]))


def _linux_as_ustack(linux: dict[str, str]) -> Knobs:
    """A Linux peer's sysctls in ustack's terms (same negotiation meaning)."""
    ws = int(linux.get("net.ipv4.tcp_window_scaling", "1"))
    ts = int(linux.get("net.ipv4.tcp_timestamps", "1"))
    return {
        "net.inet.tcp.rfc1323": {(1, 1): 1, (1, 0): 2, (0, 1): 3, (0, 0): 0}[(ws, min(ts, 1))],
        "net.inet.tcp.sack.enable": int(linux.get("net.ipv4.tcp_sack", "1")),
        "net.inet.tcp.ecn.enable": int(linux.get("net.ipv4.tcp_ecn", "2")),
    }


def expected_options(case: OptionCase, *, ustack_is_client: bool, linux_peer: bool) -> int:
    """The TCPI_OPT_* bits both ends must report once connected."""
    mine = case.ustack
    theirs = _linux_as_ustack(case.linux) if linux_peer else case.peer
    rfc = (_knob(mine, "net.inet.tcp.rfc1323"), _knob(theirs, "net.inet.tcp.rfc1323"))
    opts = 0
    if all(v in (1, 2) for v in rfc):
        opts |= ustack.TCPI_OPT_WSCALE
    if all(v in (1, 3) for v in rfc):
        opts |= ustack.TCPI_OPT_TIMESTAMPS
    if _knob(mine, "net.inet.tcp.sack.enable") and _knob(theirs, "net.inet.tcp.sack.enable"):
        opts |= ustack.TCPI_OPT_SACK
    client, server = (mine, theirs) if ustack_is_client else (theirs, mine)
    if (
        _knob(client, "net.inet.tcp.ecn.enable") == 1
        and _knob(server, "net.inet.tcp.ecn.enable") != 0
    ):
        opts |= ustack.TCPI_OPT_ECN
    return opts
