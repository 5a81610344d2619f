"""What the commands facing the real kernel share (``serve``, ``fetch``, ``ping``).

Where the stack runs, in three modes (``--help`` of each command says it):

- default: a network namespace of its own (``netns.reexec_inside``, root),
  with a TAP device made for the run, deleted afterwards;
- ``--netns NAME``: an existing namespace (root), the TAP device made there;
- ``--tap NAME``: an existing TAP device in the current namespace, used as
  it is (no root when it belongs to the user); with ``--netns`` too, that
  device in that namespace.

In each, ustack is on the TAP device and the kernel on the other side
(``HostLink``); with ``--driver dpdk``, on a DPDK port instead
(``ustack.dpdklink.DpdkLink``): a net_tap device made in the namespace, so
the kernel is on the other side just the same, or a port of the user's
(``--dpdk-port``, a device in ``--dpdk-args``), without a namespace; with
``--driver netmap``, on a netmap port (``ustack.netmaplink.NetmapLink``): a
TAP made in the namespace through the netmap emulator's TAP back end (under
its LD_PRELOAD library), or the user's ``--netmap-port``, without a namespace;
with ``--driver afxdp``, on AF_XDP sockets (``ustack.afxdplink.AfxdpLink``): one
end of a veth pair made in the namespace, the kernel on the other end, or
an interface of the user's (``--afxdp-ifname``), without a namespace.

IPv6 is off unless an IPv6 --address or --peer-address is given (each
option takes one address of either family and may be repeated for the
other) or the command needs it (``ping -6``, an IPv6 host or URL): then
ustack also gets 2001:2::1/64 and the kernel 2001:2::2/64 by default, both
without duplicate address detection (``StackLink.enable_ipv6``).

This module holds their common options, opens the link, turns SIGINT and
SIGTERM into a flag the loop checks (so that Ctrl-C ends in the counters,
not a traceback), sleeps on the device and other descriptors until the
next timer, and prints the summary every command ends with.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import signal
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import ustack
from ustack import netns
from ustack._native import lib
from ustack.afxdplink import MODES as AFXDP_MODES
from ustack.afxdplink import AfxdpLink
from ustack.commands._common import add_sysctl_argument, apply_sysctls
from ustack.dpdklink import (
    BASE_ENV,
    DEFAULT_EAL_ARGS,
    DpdkLink,
    eal_arguments,
    first_device,
    names_port,
)
from ustack.hostlink import (
    DEFAULT_ADDRESS,
    DEFAULT_ADDRESS6,
    DEFAULT_IFNAME,
    DEFAULT_PEER_ADDRESS,
    DEFAULT_PEER_ADDRESS6,
    GroupHostLink,
    GroupLink,
    HostLink,
    StackLink,
    existing_device,
)
from ustack.netstat import describe
from ustack.sockets import Socket

__all__ = [
    "LINK_MODES",
    "add_link_arguments",
    "link_addresses",
    "link_addresses6",
    "is_ipv6",
    "open_link",
    "open_group_link",
    "Stopper",
    "wait_io",
    "summary",
    "enter_namespace",
    "option_names",
    "use_dpdk",
    "use_netmap",
    "use_afxdp",
]


LINK_MODES = """\
Where it runs:
  (default)       root: a fresh network namespace with a TAP device made for
                  the run (ustack --address, the kernel --peer-address), both
                  deleted at the end.
  --netns NAME    root: the existing namespace NAME (made with ip netns add),
                  where the TAP device is made for the run, so other programs
                  there (ping, curl, tcpdump) meet ustack; NAME is left as it was.
  --tap NAME      no root, no namespace: the existing TAP device NAME of the
                  current namespace, used as it is (up, with the kernel's
                  address on it); ustack takes another address of that subnet
                  unless --address says which.  Set it up once, as root:
                    ip tuntap add dev tap0 mode tap user $USER
                    ip addr add 198.18.0.2/24 dev tap0 && ip link set tap0 up
                  With --netns NAME too: that device, in that namespace.
  --driver dpdk   root: DPDK instead of the TAP driver, its EAL in this
                  process.  By default on a net_tap virtual device made for
                  the run in the namespace (fresh or --netns), so the kernel's
                  tools meet ustack exactly as above.  With a device of the
                  user's (--dpdk-port NAME, or one named in --dpdk-args:
                  -a 0000:03:00.0, --vdev=net_memif0,...): that port as it is,
                  no namespace, the user's --address.  EAL arguments: the base
                  "--no-huge -m 256 --no-shconf --no-pci" (no hugepages needed;
                  --no-pci dropped when --dpdk-args names a PCI device;
                  --dpdk-base-args "" or $USTACK_DPDK_BASE_ARGS replace it,
                  e.g. to use hugepages), then --dpdk-args.  See docs/dpdk.md.
  --driver afxdp  root: AF_XDP sockets instead of the TAP driver.  By default
                  on a veth pair made for the run in the namespace (fresh or
                  --netns): the kernel's end is --ifname with --peer-address
                  and transmit checksumming off (ethtool -K IFNAME tx off:
                  AF_XDP gives no receive checksum status, so frames must
                  carry full checksums), ustack binds to the other end
                  (IFNAMEx), so the kernel's tools meet ustack exactly as
                  above.  --afxdp-mode native|generic|auto picks the XDP
                  hook, --afxdp-queues N binds N queues.  With an interface
                  of the user's (--afxdp-ifname NAME): that interface as it
                  is, no namespace, the user's --address."""


def add_link_arguments(parser: argparse.ArgumentParser, *, sysctl_short: bool = True) -> None:
    """--tap, --netns, --address, --peer-address, --ifname, --mtu, --pcap,
    --snaplen, --sysctl (also -o unless ``sysctl_short`` is False)."""
    link = parser.add_argument_group(
        "link (a TAP device: made in a fresh namespace, or --netns, or --tap; "
        "or DPDK or AF_XDP, see --driver)"
    )
    link.add_argument(
        "--tap",
        default=None,
        metavar="NAME",
        help="use the existing TAP device NAME in the current namespace (or in --netns): "
        "no namespace, and no root when the device is the user's "
        "(ip tuntap add dev NAME mode tap user $USER)",
    )
    link.add_argument(
        "--netns",
        default=None,
        metavar="NAME",
        help="run in the existing network namespace NAME (root) instead of a fresh one",
    )
    link.add_argument(
        "--address",
        action="append",
        default=None,
        metavar="CIDR",
        help=f"ustack's address on the TAP device, inside 198.18.0.0/15 (default: "
        f"{DEFAULT_ADDRESS}; with --tap, an address of the device's subnet the kernel "
        "does not hold); or an IPv6 one, inside 2001:2::/48 or fe80::/10, which turns "
        f"IPv6 on (default when IPv6 is on: {DEFAULT_ADDRESS6}); give it twice for one "
        "of each family",
    )
    link.add_argument(
        "--peer-address",
        action="append",
        default=None,
        metavar="CIDR",
        help=f"the kernel's address on its side of the TAP device, inside 198.18.0.0/15 "
        f"(default: {DEFAULT_PEER_ADDRESS}; with --tap, the device's own address); or an "
        f"IPv6 one (default when IPv6 is on: {DEFAULT_PEER_ADDRESS6}; with --tap, the "
        "device's own)",
    )
    link.add_argument(
        "--ifname",
        default=DEFAULT_IFNAME,
        metavar="NAME",
        help="name of the TAP device made for the run (default: %(default)s)",
    )
    link.add_argument(
        "--mtu",
        type=int,
        default=None,
        help="MTU of the TAP device or veth pair made for the run (default: 1500); --tap "
        "uses the device's; with --dpdk-port or --afxdp-ifname, the port's unless given",
    )
    link.add_argument(
        "--pcap",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the frames ustack's interface sends and receives to FILE "
        "(open it with tshark -r or Wireshark)",
    )
    link.add_argument(
        "--snaplen",
        type=int,
        default=0,
        metavar="BYTES",
        help="with --pcap: keep only the first BYTES of each frame, e.g. 128 for headers "
        "only on a long transfer (default: 0, whole frames)",
    )
    add_sysctl_argument(link, "ustack's stack", short=sysctl_short)
    dp = parser.add_argument_group("driver, and DPDK (--driver dpdk; see docs/dpdk.md)")
    dp.add_argument(
        "--driver",
        choices=("tap", "dpdk", "netmap", "afxdp"),
        default=None,
        help="tap (default): ustack's TAP driver; dpdk: a DPDK port, by default a "
        "net_tap device made in the namespace (--dpdk-args or --dpdk-port imply it); "
        "netmap: a netmap port (--netmap-port; without it, a TAP made in the namespace "
        "by the netmap emulator's LD_PRELOAD library; see docs/netmap.md); "
        "afxdp: AF_XDP sockets, by default on a veth pair made in the namespace "
        "(--afxdp-ifname implies it)",
    )
    dp.add_argument(
        "--dpdk-args",
        default="",
        metavar="ARGS",
        help="more DPDK EAL arguments, one string, after the base ones: a PCI NIC "
        '("-a 0000:03:00.0", then --no-pci is left out), a memif '
        '(--dpdk-args="--vdev=net_memif0,role=server,socket=/tmp/m.sock,socket-abstract=no": '
        "write it with = when it starts with -- and has no space), "
        '"--log-level=pmd.net.tap:debug", ...; a device named here is used instead '
        "of a net_tap, without a namespace",
    )
    dp.add_argument(
        "--dpdk-base-args",
        default=None,
        metavar="ARGS",
        help=f'the EAL arguments --dpdk-args are added to (default: "{DEFAULT_EAL_ARGS}", '
        f'or ${BASE_ENV}); give "" on a machine with hugepages',
    )
    dp.add_argument(
        "--dpdk-no-offload",
        action="store_true",
        help="offer the stack no transmit offloads of the port (no TXCSUM, no TSO): "
        "ustack computes every checksum and cuts every segment itself",
    )
    dp.add_argument(
        "--dpdk-port",
        default=None,
        metavar="NAME",
        help="use this DPDK port (its name, e.g. 0000:03:00.0 or net_memif0, or its "
        "number) as it is: no namespace, no net_tap, the user's --address "
        "(default with a device in --dpdk-args: the first it names)",
    )
    nm = parser.add_argument_group("netmap (--driver netmap; see docs/netmap.md)")
    nm.add_argument(
        "--netmap-port",
        default=None,
        metavar="NAME",
        help="with --driver netmap: this netmap port (netmap:em0, netmap:em0-1, vale0:p1) "
        "as it is: no namespace, the user's --address (implies --driver netmap)",
    )
    xdp = parser.add_argument_group("AF_XDP (--driver afxdp; see docs/afxdp.md)")
    xdp.add_argument(
        "--afxdp-mode",
        choices=AFXDP_MODES,
        default="auto",
        help="where the XDP program runs: native (the device driver's hook; on a veth "
        "the kernel's end then takes MTU 3506 at most without multi-buffer frames), "
        "generic (the kernel's skb path: any device, slower) or auto (native, else "
        "generic; default)",
    )
    xdp.add_argument(
        "--afxdp-queues",
        type=int,
        default=1,
        metavar="N",
        help="bind AF_XDP sockets to queues 0..N-1, each an interface of the stack "
        "(xdp0..): the veth made for the run gets N queues; frames arrive on the queue "
        "the kernel's end sends them on (XPS or flow hash) (default: 1)",
    )
    xdp.add_argument(
        "--afxdp-no-offload",
        action="store_true",
        help="no transmit checksum offload through AF_XDP tx metadata: ustack computes "
        "every checksum itself (the default asks the kernel where it accepts that)",
    )
    xdp.add_argument(
        "--afxdp-ifname",
        default=None,
        metavar="NAME",
        help="bind to the existing interface NAME of the current namespace as it is: no "
        "namespace, no veth, the user's --address (root; its XDP hook must be free)",
    )


def use_dpdk(args: argparse.Namespace) -> bool:
    """--driver dpdk, or DPDK options that imply it."""
    return bool(
        args.driver == "dpdk"
        or (args.driver is None and (args.dpdk_args or args.dpdk_port is not None))
    )


def use_netmap(args: argparse.Namespace) -> bool:
    """--driver netmap, or --netmap-port, which implies it."""
    return bool(args.driver == "netmap" or (args.driver is None and args.netmap_port is not None))


def use_afxdp(args: argparse.Namespace) -> bool:
    """--driver afxdp, or --afxdp-ifname that implies it."""
    return bool(args.driver == "afxdp" or (args.driver is None and args.afxdp_ifname is not None))


def dpdk_user_port(args: argparse.Namespace) -> str | None:
    """The user's DPDK port (--dpdk-port, else the first device --dpdk-args
    names, else port 0 when it only blocks some), or None: a net_tap made
    for the run."""
    if args.dpdk_port is not None:
        return str(args.dpdk_port)
    argv = shlex.split(args.dpdk_args)
    if names_port(argv):
        return first_device(argv) or "0"
    return None


def check_link_options(args: argparse.Namespace, prog: str) -> None:
    """Exits on options that do not go together."""
    implied = [
        n
        for n, used in (("dpdk", use_dpdk), ("netmap", use_netmap), ("afxdp", use_afxdp))
        if used(args)
    ]
    if len(implied) > 1:
        raise SystemExit(
            f"ustack {prog}: options of several drivers ({', '.join(implied)}): pick one"
        )
    if args.driver == "tap" and (args.dpdk_args or args.dpdk_port is not None):
        raise SystemExit(f"ustack {prog}: --dpdk-args and --dpdk-port need --driver dpdk")
    if use_dpdk(args) and args.tap is not None:
        raise SystemExit(
            f"ustack {prog}: --tap is the TAP driver's; with --driver dpdk ustack makes a "
            "net_tap device (--ifname) or uses --dpdk-port"
        )
    if args.netmap_port is not None and args.driver not in (None, "netmap"):
        raise SystemExit(f"ustack {prog}: --netmap-port needs --driver netmap")
    if use_netmap(args) and args.tap is not None:
        raise SystemExit(
            f"ustack {prog}: --tap is the TAP driver's; with --driver netmap ustack uses "
            "--netmap-port, or makes a TAP (--ifname) through the netmap emulator"
        )
    xdp_set = (
        args.afxdp_ifname is not None
        or args.afxdp_queues != 1
        or args.afxdp_mode != "auto"
        or args.afxdp_no_offload
    )
    if xdp_set and not use_afxdp(args):
        raise SystemExit(f"ustack {prog}: the --afxdp-* options need --driver afxdp")
    dpdk_set = bool(args.dpdk_args) or args.dpdk_port is not None
    if use_afxdp(args) and (args.tap is not None or dpdk_set):
        raise SystemExit(
            f"ustack {prog}: --driver afxdp makes a veth pair (--ifname) or uses "
            "--afxdp-ifname; --tap and the DPDK options are other drivers'"
        )
    if args.afxdp_queues < 1:
        raise SystemExit(f"ustack {prog}: --afxdp-queues {args.afxdp_queues}: at least 1")


def enter_namespace(args: argparse.Namespace, purpose: str, prog: str) -> int | None:
    """In the parent: runs this command in a new namespace (or in --netns)
    and returns its status; inside, or with --tap alone, or on the user's
    own DPDK port: None (carry on).  Exits with the reason when namespaces
    cannot be used here (not root, no iproute2, no /dev/net/tun, no such
    --netns)."""
    check_link_options(args, prog)
    if args.tap is not None and args.netns is None:
        return None
    if use_dpdk(args) and dpdk_user_port(args) is not None and args.netns is None:
        return None
    if use_netmap(args) and args.netmap_port is not None and args.netns is None:
        return None
    if use_afxdp(args) and args.afxdp_ifname is not None and args.netns is None:
        return None
    try:
        return netns.reexec_inside(purpose, args.netns)
    except netns.NetNsError as exc:
        hint = ""
        if os.geteuid() != 0 and args.netns is None:
            hint = f"; without root, use an existing TAP device: ustack {prog} --tap NAME"
        raise SystemExit(f"ustack {prog}: {exc}{hint}") from None


def is_ipv6(text: str) -> bool:
    """An IPv6 address or CIDR (it has a colon)."""
    return ":" in text


def _by_family(values: str | list[str] | None, option: str) -> tuple[str | None, str | None]:
    """An --address or --peer-address option's values as (IPv4, IPv6); one of each at most."""
    if isinstance(values, str):
        values = [values]
    v4: str | None = None
    v6: str | None = None
    for value in values or []:
        if is_ipv6(value):
            if v6 is not None:
                raise ValueError(f"{option}: one IPv6 address at most ({v6}, {value})")
            v6 = value
        else:
            if v4 is not None:
                raise ValueError(f"{option}: one IPv4 address at most ({v4}, {value})")
            v4 = value
    return v4, v6


def link_addresses(args: argparse.Namespace) -> tuple[str, str]:
    """ustack's address and the kernel's, from the options: the defaults,
    or with --tap what the device has (ValueError when it has none)."""
    mine, _ = _by_family(args.address, "--address")
    theirs, _ = _by_family(args.peer_address, "--peer-address")
    if args.tap is None:
        return mine or DEFAULT_ADDRESS, theirs or DEFAULT_PEER_ADDRESS
    dev = existing_device(args.tap)
    peer = theirs
    if peer is None:
        if not dev.addresses:
            raise ValueError(
                f"{args.tap} has no IPv4 address for the kernel's side: "
                f"sudo ip addr add 198.18.0.2/24 dev {args.tap} (or give --peer-address)"
            )
        peer = str(dev.addresses[0])
    address = mine
    if address is None:
        kernel = ipaddress.IPv4Interface(peer)
        taken = {a.ip for a in dev.addresses}
        default = ipaddress.IPv4Interface(DEFAULT_ADDRESS).ip
        hosts = [default, ipaddress.IPv4Interface(DEFAULT_PEER_ADDRESS).ip]
        if kernel.network.num_addresses <= 256:
            hosts += list(kernel.network.hosts())
        ip = next((h for h in hosts if h in kernel.network and h not in taken), None)
        if ip is None:
            raise ValueError(f"no free address in {kernel.network}: give --address")
        address = f"{ip}/{kernel.network.prefixlen}"
    return address, peer


def _other_host(iface: ipaddress.IPv6Interface, prefer: str) -> str:
    """An address of ``iface``'s network other than its own, ``prefer``'s
    host part first (``::2``, then ``::1``, then the next ones)."""
    net = iface.network
    want = ipaddress.IPv6Interface(prefer).ip
    candidates = [net[int(want) & int(net.hostmask)], net[1], net[2], net[3]]
    ip = next(h for h in candidates if h != iface.ip)
    return f"{ip}/{net.prefixlen}"


def link_addresses6(args: argparse.Namespace, wanted: bool = False) -> tuple[str, str] | None:
    """ustack's IPv6 address and the kernel's, or None when IPv6 stays off
    (no IPv6 option and not ``wanted``).  Defaults 2001:2::1/64 and
    2001:2::2/64; one given, the other is another host of its network; with
    --tap, the kernel's is the device's own (global first)."""
    _, mine = _by_family(args.address, "--address")
    _, theirs = _by_family(args.peer_address, "--peer-address")
    if mine is None and theirs is None and not wanted:
        return None
    if args.tap is not None and theirs is None:
        dev = existing_device(args.tap)
        if not dev.addresses6:
            raise ValueError(
                f"{args.tap} has no IPv6 address for the kernel's side: "
                f"sudo ip -6 addr add {DEFAULT_PEER_ADDRESS6} dev {args.tap} nodad "
                "(or give --peer-address)"
            )
        theirs = str(dev.addresses6[0])
    if mine is None and theirs is None:
        return DEFAULT_ADDRESS6, DEFAULT_PEER_ADDRESS6
    if mine is None:
        assert theirs is not None
        mine = _other_host(ipaddress.IPv6Interface(_plen64(theirs)), DEFAULT_ADDRESS6)
    elif theirs is None:
        theirs = _other_host(ipaddress.IPv6Interface(_plen64(mine)), DEFAULT_PEER_ADDRESS6)
    return _plen64(mine), _plen64(theirs)


def _plen64(text: str) -> str:
    return text if "/" in text else text + "/64"


def open_link(args: argparse.Namespace, prog: str, *, ipv6: bool = False) -> StackLink:
    """The stack on its TAP device, DPDK or netmap port or AF_XDP queues,
    knobs from --sysctl applied; with IPv6 too when an IPv6 address option
    is given or ``ipv6`` (the command needs it)."""
    try:
        address, peer = link_addresses(args)
        link: StackLink
        if use_dpdk(args):
            port = dpdk_user_port(args)
            eal = eal_arguments(args.dpdk_args, args.dpdk_base_args, f"ustack-{prog}-{os.getpid()}")
            link = DpdkLink(
                eal_args=eal,
                port=port,
                address=address,
                peer_address=peer,
                ifname=args.ifname,
                mtu=args.mtu or (1500 if port is None else 0),
                pcap=args.pcap,
                snaplen=args.snaplen,
                # The port still verifies received checksums.
                **({"caps_mask": int(lib.UST_IFCAP_RXCSUM)} if args.dpdk_no_offload else {}),
            )
        elif use_netmap(args):
            from ustack.netmaplink import NetmapLink

            link = NetmapLink(
                port=args.netmap_port,
                address=address,
                peer_address=peer,
                ifname=args.ifname,
                mtu=args.mtu or (1500 if args.netmap_port is None else 0),
                pcap=args.pcap,
                snaplen=args.snaplen,
            )
        elif use_afxdp(args):
            link = AfxdpLink(
                device=args.afxdp_ifname,
                address=address,
                peer_address=peer,
                ifname=args.ifname,
                mtu=args.mtu or 0,
                mode=args.afxdp_mode,
                queues=args.afxdp_queues,
                tx_csum=not args.afxdp_no_offload,
                pcap=args.pcap,
                snaplen=args.snaplen,
            )
        else:
            link = HostLink(
                address=address,
                peer_address=peer,
                ifname=args.tap or args.ifname,
                mtu=args.mtu or 1500,
                pcap=args.pcap,
                snaplen=args.snaplen,
                existing=args.tap is not None,
            )
    except (ValueError, OSError) as exc:
        raise SystemExit(f"ustack {prog}: {exc}") from None
    try:
        apply_sysctls([link.stack], args.sysctl, prog)
        _open_ipv6(link, args, prog, ipv6)
    except BaseException:
        link.close()
        raise
    return link


def open_group_link(args: argparse.Namespace, prog: str, *, ipv6: bool = False) -> GroupLink:
    """``--stacks N``: a threaded group of N stacks, one per queue of a
    multi-queue TAP device made for the run, or (``--driver afxdp``) of N
    AF_XDP queues, or (``--driver dpdk``) of N queue pairs of a DPDK port;
    knobs from --sysctl applied to every stack."""
    try:
        address, peer = link_addresses(args)
        link: GroupLink
        if use_dpdk(args):
            from ustack.grouplinks import GroupDpdkLink

            port = dpdk_user_port(args)
            link = GroupDpdkLink(
                nstacks=args.stacks,
                eal_args=eal_arguments(
                    args.dpdk_args, args.dpdk_base_args, f"ustack-{prog}-{os.getpid()}"
                ),
                port=port,
                address=address,
                peer_address=peer,
                ifname=args.ifname,
                mtu=args.mtu or (1500 if port is None else 0),
                # The port still verifies received checksums.
                caps_mask=int(lib.UST_IFCAP_RXCSUM) if args.dpdk_no_offload else None,
            )
        elif use_afxdp(args):
            from ustack.grouplinks import GroupAfxdpLink

            link = GroupAfxdpLink(
                nstacks=args.stacks,
                device=args.afxdp_ifname,
                address=address,
                peer_address=peer,
                ifname=args.ifname,
                mtu=args.mtu or 0,
                mode=args.afxdp_mode,
                tx_csum=not args.afxdp_no_offload,
            )
        else:
            link = GroupHostLink(
                nstacks=args.stacks,
                address=address,
                peer_address=peer,
                ifname=args.ifname,
                mtu=args.mtu or 1500,
                rss_steer=not getattr(args, "no_steering_program", False),
            )
    except (ValueError, OSError) as exc:
        raise SystemExit(f"ustack {prog}: {exc}") from None
    try:
        apply_sysctls(link.stacks, args.sysctl, prog)
        _open_ipv6(link, args, prog, ipv6)
    except BaseException:
        link.close()
        raise
    return link


def _open_ipv6(link: StackLink, args: argparse.Namespace, prog: str, wanted: bool) -> None:
    """IPv6 addresses on both sides of the link when asked for: the kernel's
    end is set up only on a device made for the run (not --tap, not a
    user's port)."""
    try:
        six = link_addresses6(args, wanted)
        if six is None:
            return
        if not ustack.UST_HAS_INET6:
            raise ValueError("this ustack library is built without IPv6 (UST_INET6=0)")
        if link.iface.mtu < 1280:
            raise ValueError(f"IPv6 needs an MTU of 1280 at least, not {link.iface.mtu}")
        made = link.peer_label == "kernel" and not getattr(link, "existing", False)
        link.enable_ipv6(
            six[0],
            six[1],
            kernel_ifname=args.ifname if made else None,
            checked=made or args.tap is not None,
            static_neighbors=made and STATIC_NEIGHBORS,
        )
    except (ValueError, OSError) as exc:
        raise SystemExit(f"ustack {prog}: {exc}") from None


STATIC_NEIGHBORS = False
"""True: links made for a run get permanent IPv6 neighbor entries on both
sides (no neighbor discovery on the wire).  Off: both sides resolve each
other with neighbor discovery (NS/NA), as a user's own link does."""


class Stopper:
    """SIGINT and SIGTERM set ``signame`` instead of raising, while active;
    with ``raising`` set they also raise KeyboardInterrupt (to end a
    blocking call)."""

    def __init__(self) -> None:
        self.signame: str | None = None
        self.raising = False
        self._old: dict[int, object] = {}

    @property
    def stopped(self) -> bool:
        return self.signame is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signame = signal.Signals(signum).name
        if self.raising:
            raise KeyboardInterrupt(self.signame)

    def __enter__(self) -> Stopper:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)  # type: ignore[arg-type]


def wait_io(link: StackLink, fds: Sequence[int] = (), limit: float = 0.05) -> list[int]:
    """Sleeps until a frame arrives, one of ``fds`` is readable, the stack's
    next timer is due or ``limit`` seconds pass; the readable ``fds``."""
    return link.wait(fds, limit)


_TCP_SUMMARY = (
    "tcps_rcvtotal",
    "tcps_sndtotal",
    "tcps_rcvbyte",
    "tcps_sndbyte",
    "tcps_sndrexmitpack",
    "tcps_rexmttimeo",
    "tcps_fastretransmits",
    "tcps_rcvoopack",
    "tcps_rcvduppack",
    "tcps_accepts",
    "tcps_connattempt",
    "tcps_connects",
    "tcps_drops",
    "tcps_conndrops",
    "tcps_closed",
)


def summary(link: StackLink, elapsed: float) -> str:
    """The counters a command prints when it ends, netstat style: frames on
    the device, TCP segments and bytes, retransmissions, connections."""
    dev = link.driver_stats
    group = getattr(link, "group", None)
    counters = group if group is not None else link.stack
    st = counters.stats
    tcp = counters.netstat("tcp")["tcp"]
    peer = f", {link.peer_label} {link.peer_ip}" if link.peer_address is not None else ""
    if link.address6 is not None:
        peer += f"; {link.ip6}"
        if link.peer_address6 is not None:
            peer += f", {link.peer_label} {link.peer_ip6}"
    lines = [
        f"ustack on {link.ifname} ({link.ip}{peer}) for {elapsed:.1f} s:",
        f"\t{st['rx_frames']} frames received, {st['tx_frames']} frames sent "
        f"({link.driver}: {', '.join(f'{v} {k}' for k, v in dev.items() if v)})",
    ]
    lines.append("tcp:")
    lines.extend(f"\t{tcp[name]} {describe('tcp', name)}" for name in _TCP_SUMMARY)
    if link.capture is not None:
        lines.append(f"pcap: {link.capture.count} frames written")
    if group is not None:
        note = getattr(link, "steering_note", None)
        if note:
            lines.append(note)
        lines.extend(steering_summary(group))
    return "\n".join(lines)


def steering_summary(group: ustack.StackGroup) -> list[str]:
    """The lines a group adds to the summary: frames re-steered between
    its stacks (arrived on another stack's queue), in total and per stack."""
    rss = group.rss_stats
    lines = [
        f"steering ({len(group)} stacks): {rss['rss_steered_out']} frames re-steered to "
        f"the stack owning their flow, {rss['rss_ring_full']} dropped (ring full), "
        f"{rss['rss_local']} arrived on their own stack's queue, "
        f"{rss['rss_replicated']} ARP/ND frames replicated"
    ]
    for i in range(len(group)):
        p = group.rss_stats_of(i)
        s = group.stacks[i].stats
        lines.append(
            f"\tstack {i}: {s['rx_frames']} frames received, {s['tx_frames']} sent, "
            f"{p['rss_local']} local, {p['rss_steered_out']} steered out, "
            f"{p['rss_steered_in']} steered in, {p['rss_ring_full']} ring full"
        )
    return lines


def option_names(sock: Socket) -> str:
    """The TCP options a connected socket negotiated (TCP_INFO's
    tcpi_options) as ``ts,sack,wscale,ecn``, with the raw bits, for -v lines
    that tests and people read: ``options=0x7(ts,sack,wscale)``."""
    opts = int(sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO).tcpi_options)
    names = [
        n
        for bit, n in (
            (ustack.TCPI_OPT_TIMESTAMPS, "ts"),
            (ustack.TCPI_OPT_SACK, "sack"),
            (ustack.TCPI_OPT_WSCALE, "wscale"),
            (ustack.TCPI_OPT_ECN, "ecn"),
        )
        if opts & bit
    ]
    return f"options={opts:#x}({','.join(names) or 'none'})"
